//! The rights a signed-in person exercises themselves: correcting their profile (with the forms'
//! own validation; a new address takes effect only once it is confirmed from that address),
//! restricting or objecting to its use, withdrawing a consent, and taking their data with them
//! (to themselves, or to an address they name once they confirm it from their own).

use std::future::Future;

use crate::config::Config;
use crate::domain::fields::{self, Country, Email, FieldError, PhoneNumber, State};
use crate::domain::forms::catalogue::{Catalogue, LawfulBasis};
use crate::domain::forms::validation::{FormInput, COMPANY_MAX, JOB_TITLE_MAX, NAME_MAX};
use crate::domain::mail::outbox::{OutboxMessage, OutboxStore};
use crate::domain::ports::{RateLimiter, StoreError};
use crate::token::{Purpose, TokenError};

/// How long a link to confirm a new address, or an export to someone else, works.
pub const CONFIRM_HOURS: i64 = 24;
/// How long the person an export was sent to may download it.
pub const EXPORT_DOWNLOAD_DAYS: i64 = 3;

/// The profile fields a person may correct, by the name forms use, with the profile attribute.
const CORRECTABLE: [(&str, &str); 6] = [
    ("name", "full_name"),
    ("phone", "phone"),
    ("job_title", "job_title"),
    ("company", "company"),
    ("country", "country"),
    ("state", "state"),
];
/// Fields pages send along with a correction that are not profile fields.
const FORM_CONTROLS: [&str; 3] = ["session", "_method", "email"];

/// A validated correction: attributes to set, attributes to remove (sent blank), and perhaps a
/// new address, which waits for confirmation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Correction {
    pub set: Vec<(&'static str, String)>,
    pub remove: Vec<&'static str>,
    pub new_email: Option<Email>,
}

impl Correction {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty() && self.new_email.is_none()
    }
}

/// The parts of a stored profile a correction is checked against.
#[derive(Debug, Clone, Default)]
pub struct CurrentProfile {
    pub email: String,
    pub country: Option<String>,
}

/// Checks a correction as the forms check the same fields: every failing field at once.
pub fn parse_correction(input: &FormInput, current: &CurrentProfile) -> Result<Correction, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut correction = Correction::default();
    for name in input.values.keys().chain(input.wrong_type.iter()) {
        if !CORRECTABLE.iter().any(|(field, _)| field == name) && !FORM_CONTROLS.contains(&name.as_str()) {
            errors.push(FieldError::new(name, "not_correctable", "is not a field of your profile"));
        }
    }
    // Present and blank removes the field; absent leaves it as it is.
    let given = |name: &str| -> Option<Result<Option<&str>, FieldError>> {
        if input.wrong_type.contains(name) {
            return Some(Err(FieldError::new(name, "invalid_type", "must be text")));
        }
        let values = input.values.get(name)?;
        if values.len() > 1 {
            return Some(Err(FieldError::new(name, "multiple_values", "must be given once")));
        }
        Some(Ok(values.first().map(|v| v.trim()).filter(|v| !v.is_empty())))
    };
    let mut country: Option<Country> =
        current.country.as_deref().and_then(|code| Country::parse("country", code).ok());
    if let Some(result) = given("country") {
        match result.and_then(|raw| raw.map(|raw| Country::parse("country", raw)).transpose()) {
            Ok(Some(parsed)) => {
                country = Some(parsed);
                correction.set.push(("country", parsed.code().to_owned()));
            }
            Ok(None) => {
                country = None;
                correction.remove.push("country");
            }
            Err(err) => errors.push(err),
        }
    }
    for (field, attribute) in CORRECTABLE {
        if field == "country" {
            continue;
        }
        let Some(result) = given(field) else { continue };
        let parsed = result.and_then(|raw| {
            raw.map(|raw| match field {
                "name" => fields::text(field, raw, NAME_MAX, false),
                "job_title" => fields::text(field, raw, JOB_TITLE_MAX, false),
                "company" => fields::text(field, raw, COMPANY_MAX, false),
                "phone" => PhoneNumber::parse(field, raw, country).map(|p| p.as_e164().to_owned()),
                _ => match country {
                    Some(country) => State::parse(field, raw, country).map(|s| s.code().to_owned()),
                    None => Err(FieldError::new(field, "invalid_state", "needs a country")),
                },
            })
            .transpose()
        });
        match parsed {
            Ok(Some(value)) => correction.set.push((attribute, value)),
            Ok(None) => correction.remove.push(attribute),
            Err(err) => errors.push(err),
        }
    }
    match given("email") {
        Some(Ok(Some(raw))) => match Email::parse("email", raw) {
            Ok(email) if email.normalized() != current.email.trim().to_lowercase() => {
                correction.new_email = Some(email);
            }
            Ok(_) => {}
            Err(err) => errors.push(err),
        },
        Some(Ok(None)) => {
            errors.push(FieldError::new("email", "required", "cannot be removed; delete your data instead"))
        }
        Some(Err(err)) => errors.push(err),
        None => {}
    }
    if errors.is_empty() {
        Ok(correction)
    } else {
        Err(errors)
    }
}

/// A limit a person puts on how their data is used, or lifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Article 18: kept, but not used (no mail of any kind it could trigger, no campaigns).
    Restrict,
    /// Article 21: no processing on legitimate interests, and no marketing.
    Object,
}

impl Limit {
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Restrict => "restricted",
            Self::Object => "objected",
        }
    }
}

/// What a person can see of a pending email change or export, once they follow its link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub profile_id: String,
    /// The new address, or the address the export goes to.
    pub address: String,
    pub format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChanged {
    Changed,
    /// Another profile has this address already.
    Taken,
    /// The link was used already, or the profile is gone.
    Used,
}

pub trait RightsStore {
    fn current_profile(
        &self,
        profile_id: &str,
    ) -> impl Future<Output = Result<Option<CurrentProfile>, StoreError>> + Send;
    /// Applies a correction's `set` and `remove`, and logs which fields changed (not their values).
    fn correct(
        &self,
        profile_id: &str,
        correction: &Correction,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Sets or lifts a limit, and logs it.
    fn set_limit(
        &self,
        profile_id: &str,
        limit: Limit,
        on: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Records that a consent-based purpose was withdrawn; withdrawing `marketing` also ends every
    /// subscription.
    fn withdraw(
        &self,
        profile_id: &str,
        purpose: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Keeps a pending request (email change or export) in the person's own partition, so that
    /// erasure takes it along.
    fn save_request(
        &self,
        kind: RequestKind,
        nonce: &str,
        request: &PendingRequest,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Uses a pending request up: it is returned the first time only, while it has not expired.
    fn take_request(
        &self,
        kind: RequestKind,
        profile_id: &str,
        nonce: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<PendingRequest>, StoreError>> + Send;
    /// A pending request, left in place (a download link that works until it expires).
    fn find_request(
        &self,
        kind: RequestKind,
        profile_id: &str,
        nonce: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<PendingRequest>, StoreError>> + Send;
    /// Moves the profile to its new address, unless another profile has it.
    fn change_email(
        &self,
        profile_id: &str,
        new_email: &Email,
    ) -> impl Future<Output = Result<EmailChanged, StoreError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    EmailChange,
    Export,
    /// A confirmed export's download link, for the person it was sent to.
    ExportLink,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailChange => "EMAILCHANGE",
            Self::Export => "EXPORT",
            Self::ExportLink => "EXPORTLINK",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error("the request is not valid")]
    Invalid(Vec<FieldError>),
    #[error("no such person")]
    NotFound,
    #[error("the link is not valid: {0}")]
    InvalidLink(TokenError),
    #[error("the link was used already or has expired")]
    LinkUsed,
    #[error("the address belongs to another profile")]
    EmailTaken,
    #[error("too many requests; retry after {0:?}")]
    RateLimited(std::time::Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a correction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrected {
    pub fields_changed: usize,
    /// A confirmation link went to the new address; the old one stays until it is followed.
    pub email_confirmation_sent: bool,
}

/// Requests that send mail (to a new address, or to the person's own) are limited per person,
/// so that a session cannot be used to flood an inbox.
const MAILING_REQUESTS_PER_WINDOW: u32 = 5;

async fn limit_mailing_requests<S: RateLimiter>(
    store: &S,
    config: &Config,
    current_email: &str,
    now: i64,
) -> Result<(), RightsError> {
    let window = crate::domain::forms::submit::FixedWindow::containing(
        crate::time::Timestamp::from_epoch_seconds(now),
        config.rate_limits.window,
    );
    let subject = config.hash_key.pseudonym("rate-email", &current_email.trim().to_lowercase());
    if store.hit("privacy-request", &subject, window.start, window.end).await? > MAILING_REQUESTS_PER_WINDOW {
        return Err(RightsError::RateLimited(std::time::Duration::from_secs(
            (window.end - now).max(1) as u64
        )));
    }
    Ok(())
}

pub async fn correct<S>(
    store: &S,
    config: &Config,
    profile_id: &str,
    input: &FormInput,
    now: i64,
) -> Result<Corrected, RightsError>
where
    S: RightsStore + OutboxStore + RateLimiter,
{
    let current = store.current_profile(profile_id).await?.ok_or(RightsError::NotFound)?;
    let correction = parse_correction(input, &current).map_err(RightsError::Invalid)?;
    if correction.new_email.is_some() {
        limit_mailing_requests(store, config, &current.email, now).await?;
    }
    if !correction.set.is_empty() || !correction.remove.is_empty() {
        store.correct(profile_id, &correction).await?;
    }
    let mut email_confirmation_sent = false;
    if let Some(new_email) = &correction.new_email {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let expires_at = now + CONFIRM_HOURS * 3600;
        let request = PendingRequest {
            profile_id: profile_id.to_owned(),
            address: new_email.as_str().to_owned(),
            format: None,
        };
        store.save_request(RequestKind::EmailChange, &nonce, &request, expires_at).await?;
        let token = config.token_keys.sign(Purpose::EmailChange, &nonce, profile_id, Some(expires_at));
        let links = &config.links;
        store
            .enqueue(
                &OutboxMessage::transactional(
                    links,
                    format!("email-change-{nonce}"),
                    new_email.as_str(),
                    profile_id,
                    format!("Confirm your new address for {}", links.organisation),
                    "email_change",
                    serde_json::json!({
                        "hours": CONFIRM_HOURS,
                        "link_url": format!("{}/privacy/email/confirm?token={token}", links.public_api_url),
                    }),
                ),
                now,
            )
            .await?;
        email_confirmation_sent = true;
    }
    tracing::info!(
        profile_id,
        fields = correction.set.len() + correction.remove.len(),
        email_change = email_confirmation_sent,
        "profile corrected"
    );
    Ok(Corrected { fields_changed: correction.set.len() + correction.remove.len(), email_confirmation_sent })
}

/// The new address's owner followed the link: the profile moves to it.
pub async fn confirm_email_change<S: RightsStore>(
    store: &S,
    config: &Config,
    token: &str,
    now: i64,
) -> Result<(), RightsError> {
    let claims =
        config.token_keys.verify(token, Purpose::EmailChange, now).map_err(RightsError::InvalidLink)?;
    let request = store
        .take_request(RequestKind::EmailChange, &claims.profile_id, &claims.subject, now)
        .await?
        .ok_or(RightsError::LinkUsed)?;
    let email = Email::parse("email", &request.address).map_err(|_| {
        RightsError::Store(StoreError::Unexpected("a stored address no longer parses".into()))
    })?;
    match store.change_email(&claims.profile_id, &email).await? {
        EmailChanged::Changed => {
            tracing::info!(profile_id = claims.profile_id.as_str(), "email address changed");
            Ok(())
        }
        EmailChanged::Taken => Err(RightsError::EmailTaken),
        EmailChanged::Used => Err(RightsError::LinkUsed),
    }
}

/// Withdraws a consent: only purposes whose lawful basis is consent can be withdrawn (the others
/// are objected to, or end with the contract).
pub async fn withdraw<S: RightsStore>(
    store: &S,
    catalogue: &Catalogue,
    profile_id: &str,
    purpose: &str,
) -> Result<(), RightsError> {
    let consent_based = catalogue
        .forms()
        .flat_map(|f| f.purposes.iter())
        .any(|p| p.id == purpose && p.basis == LawfulBasis::Consent);
    if !consent_based {
        return Err(RightsError::Invalid(vec![FieldError::new(
            "purpose",
            "not_consent_based",
            "is not a purpose you consented to; you can object to it instead",
        )]));
    }
    if !store.withdraw(profile_id, purpose).await? {
        return Err(RightsError::NotFound);
    }
    tracing::info!(profile_id, purpose, "consent withdrawn");
    Ok(())
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
}

impl ExportFormat {
    pub fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        match raw.unwrap_or("json") {
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            _ => Err(FieldError::new("format", "unknown_format", "must be json or csv")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// The export as CSV: one row per value, `section,item,field,value`, nested fields as dotted
/// paths and list entries by index, so that every value has its own cell and nothing is lost.
pub fn export_csv(export: &serde_json::Value) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(["section", "item", "field", "value"]);
    if let Some(sections) = export.as_object() {
        for (section, value) in sections {
            match value {
                serde_json::Value::Array(items) if items.iter().all(|i| i.is_object()) => {
                    for (index, item) in items.iter().enumerate() {
                        let id = item_id(item).unwrap_or_else(|| index.to_string());
                        flatten(&mut writer, section, &id, "", item);
                    }
                }
                other => flatten(&mut writer, section, "", "", other),
            }
        }
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

fn item_id(item: &serde_json::Value) -> Option<String> {
    ["submission_id", "registration_id", "at"]
        .iter()
        .find_map(|name| item.get(*name).and_then(|v| v.as_str()).map(str::to_owned))
}

fn flatten(
    writer: &mut csv::Writer<Vec<u8>>,
    section: &str,
    item: &str,
    path: &str,
    value: &serde_json::Value,
) {
    let join = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                flatten(writer, section, item, &join(key), value);
            }
        }
        serde_json::Value::Array(list) => {
            for (index, value) in list.iter().enumerate() {
                flatten(writer, section, item, &join(&index.to_string()), value);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(text) => {
            let _ = writer.write_record([section, item, path, text]);
        }
        other => {
            let _ = writer.write_record([section, item, path, &other.to_string()]);
        }
    }
}

/// A person asks for their export to go to someone else: they confirm from their own address.
pub async fn request_export_to<S>(
    store: &S,
    config: &Config,
    profile_id: &str,
    recipient: &Email,
    format: ExportFormat,
    now: i64,
) -> Result<(), RightsError>
where
    S: RightsStore + OutboxStore + RateLimiter,
{
    let current = store.current_profile(profile_id).await?.ok_or(RightsError::NotFound)?;
    limit_mailing_requests(store, config, &current.email, now).await?;
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let expires_at = now + CONFIRM_HOURS * 3600;
    let request = PendingRequest {
        profile_id: profile_id.to_owned(),
        address: recipient.as_str().to_owned(),
        format: Some(format.as_str().to_owned()),
    };
    store.save_request(RequestKind::Export, &nonce, &request, expires_at).await?;
    let token = config.token_keys.sign(Purpose::ExportConfirm, &nonce, profile_id, Some(expires_at));
    let links = &config.links;
    store
        .enqueue(
            &OutboxMessage::transactional(
                links,
                format!("export-confirm-{nonce}"),
                &current.email,
                profile_id,
                format!("Confirm sending your {} data", links.organisation),
                "export_confirm",
                serde_json::json!({
                    "recipient": recipient.as_str(),
                    "hours": CONFIRM_HOURS,
                    "link_url": format!("{}/privacy/export/confirm?token={token}", links.public_api_url),
                }),
            ),
            now,
        )
        .await?;
    tracing::info!(profile_id, "export to a nominated address requested");
    Ok(())
}

/// What a confirmation link is about, for its page (read only: the link stays usable).
pub fn export_confirmation(config: &Config, token: &str, now: i64) -> Result<(), RightsError> {
    config.token_keys.verify(token, Purpose::ExportConfirm, now).map(|_| ()).map_err(RightsError::InvalidLink)
}

/// The person confirmed from their own address: the recipient gets a download link.
pub async fn confirm_export_to<S>(
    store: &S,
    config: &Config,
    token: &str,
    now: i64,
) -> Result<String, RightsError>
where
    S: RightsStore + OutboxStore,
{
    let claims =
        config.token_keys.verify(token, Purpose::ExportConfirm, now).map_err(RightsError::InvalidLink)?;
    let request = store
        .take_request(RequestKind::Export, &claims.profile_id, &claims.subject, now)
        .await?
        .ok_or(RightsError::LinkUsed)?;
    // The link works until it expires, or until the person's data is erased (the link's item is
    // in their partition).
    let expires_at = now + EXPORT_DOWNLOAD_DAYS * 86_400;
    store.save_request(RequestKind::ExportLink, &claims.subject, &request, expires_at).await?;
    let download = config.token_keys.sign(
        Purpose::ExportDownload,
        &claims.subject,
        &claims.profile_id,
        Some(expires_at),
    );
    let links = &config.links;
    store
        .enqueue(
            &OutboxMessage::transactional(
                links,
                format!("export-ready-{}", claims.subject),
                &request.address,
                &claims.profile_id,
                format!("Personal data shared with you through {}", links.organisation),
                "export_ready",
                serde_json::json!({
                    "days": EXPORT_DOWNLOAD_DAYS,
                    "link_url": format!("{}/privacy/export?token={download}", links.public_api_url),
                }),
            ),
            now,
        )
        .await?;
    tracing::info!(profile_id = claims.profile_id.as_str(), "export sent to a nominated address");
    Ok(request.address)
}

/// The recipient's download link: whose export, in which format, while it is still valid.
pub async fn export_download<S: RightsStore>(
    store: &S,
    config: &Config,
    token: &str,
    now: i64,
) -> Result<(String, ExportFormat), RightsError> {
    let claims =
        config.token_keys.verify(token, Purpose::ExportDownload, now).map_err(RightsError::InvalidLink)?;
    let request = store
        .find_request(RequestKind::ExportLink, &claims.profile_id, &claims.subject, now)
        .await?
        .ok_or(RightsError::LinkUsed)?;
    let format = ExportFormat::parse(request.format.as_deref())
        .map_err(|_| RightsError::InvalidLink(TokenError::Malformed))?;
    Ok((claims.profile_id, format))
}

/// Checks a download link without using it, for the page that offers the download.
pub fn export_download_link(config: &Config, token: &str, now: i64) -> Result<(), RightsError> {
    config
        .token_keys
        .verify(token, Purpose::ExportDownload, now)
        .map(|_| ())
        .map_err(RightsError::InvalidLink)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> FormInput {
        let mut input = FormInput::default();
        for (name, value) in pairs {
            input.push(name, (*value).to_owned());
        }
        input
    }

    fn current() -> CurrentProfile {
        CurrentProfile { email: "Ana@Example.com".into(), country: Some("GB".into()) }
    }

    #[test]
    fn a_correction_is_validated_as_the_forms_validate_and_blank_removes() {
        let correction = parse_correction(
            &input(&[("name", " Ana Silva "), ("phone", "020 7946 0958"), ("company", "")]),
            &current(),
        )
        .unwrap();
        assert_eq!(
            correction.set,
            vec![("full_name", "Ana Silva".to_owned()), ("phone", "+442079460958".to_owned())]
        );
        assert_eq!(correction.remove, vec!["company"]);
        assert!(correction.new_email.is_none());
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let errors = parse_correction(
            &input(&[("phone", "12"), ("country", "XX"), ("name", "a\u{202E}b"), ("is_admin", "true")]),
            &current(),
        )
        .unwrap_err();
        let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["country", "is_admin", "name", "phone"]);
    }

    #[test]
    fn the_same_address_in_another_case_is_no_change_and_a_new_one_waits_for_confirmation() {
        let same = parse_correction(&input(&[("email", "ana@example.COM")]), &current()).unwrap();
        assert!(same.is_empty());
        let new = parse_correction(&input(&[("email", "ana@new.example")]), &current()).unwrap();
        assert_eq!(new.new_email.unwrap().as_str(), "ana@new.example");
        let blank = parse_correction(&input(&[("email", " ")]), &current()).unwrap_err();
        assert_eq!(blank[0].field, "email");
    }

    #[test]
    fn a_state_is_checked_against_the_new_country() {
        let ok = parse_correction(&input(&[("country", "US"), ("state", "US-CA")]), &current()).unwrap();
        assert!(ok.set.contains(&("state", "US-CA".to_owned())));
        let wrong = parse_correction(&input(&[("state", "US-CA")]), &current()).unwrap_err();
        assert_eq!(wrong[0].field, "state");
    }

    #[test]
    fn the_csv_export_has_every_value_in_its_own_cell() {
        let export = serde_json::json!({
            "profile": {"email": "a@example.com", "full_name": "Zoë, \"Z\""},
            "submissions": [{"submission_id": "s1", "fields": {"message": "line1\nline2"}, "interests": ["a", "b"]}],
            "data_controller": "WSO2 Inc.",
        });
        let csv = export_csv(&export);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<Vec<String>> =
            reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
        let row = |s: &str, i: &str, f: &str| {
            rows.iter().find(|r| r[0] == s && r[1] == i && r[2] == f).map(|r| r[3].clone())
        };
        assert_eq!(row("profile", "", "full_name").as_deref(), Some("Zoë, \"Z\""));
        assert_eq!(row("submissions", "s1", "fields.message").as_deref(), Some("line1\nline2"));
        assert_eq!(row("submissions", "s1", "interests.1").as_deref(), Some("b"));
        assert_eq!(row("data_controller", "", "").as_deref(), Some("WSO2 Inc."));
    }
}
