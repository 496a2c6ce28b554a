//! Correcting a profile, with the forms' own validation: a new address takes effect only once it
//! is confirmed from that address.

use super::rights::{
    limit_mailing_requests, redeem_link, send_link, CurrentProfile, MailedLink, PendingRequest, RequestKind,
    RightsError, RightsStore, CONFIRM_HOURS,
};
use std::future::Future;

use crate::config::Config;
use crate::domain::fields::{self, Country, Email, FieldError, PhoneNumber, State};
use crate::domain::forms::validation::{FormInput, COMPANY_MAX, JOB_TITLE_MAX, NAME_MAX};
use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::OutboxStore;
use crate::domain::ports::{RateLimiter, StoreError};
use crate::domain::privacy::access::PrivacyStore;
use crate::t;
use crate::token::Purpose;

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

/// Checks a correction as the forms check the same fields: every failing field at once.
pub fn parse_correction(input: &FormInput, current: &CurrentProfile) -> Result<Correction, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut correction = Correction::default();
    for name in input.values.keys().chain(input.wrong_type.iter()) {
        if !CORRECTABLE.iter().any(|(field, _)| field == name) && !FORM_CONTROLS.contains(&name.as_str()) {
            errors.push(FieldError::new(name, "not_correctable", t!("error-not-correctable")));
        }
    }
    // Present and blank removes the field; absent leaves it as it is.
    let given = |name: &str| -> Option<Result<Option<&str>, FieldError>> {
        if input.wrong_type.contains(name) {
            return Some(Err(FieldError::new(name, "invalid_type", t!("error-invalid-type"))));
        }
        let values = input.values.get(name)?;
        if values.len() > 1 {
            return Some(Err(FieldError::new(name, "multiple_values", t!("error-multiple-values"))));
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
                    None => Err(FieldError::new(field, "invalid_state", t!("error-invalid-state"))),
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
            Ok(email) if email.normalized() != crate::domain::fields::address_key(&current.email) => {
                correction.new_email = Some(email);
            }
            Ok(_) => {}
            Err(err) => errors.push(err),
        },
        Some(Ok(None)) => errors.push(FieldError::new("email", "required", t!("error-email-not-removable"))),
        Some(Err(err)) => errors.push(err),
        None => {}
    }
    if errors.is_empty() {
        Ok(correction)
    } else {
        Err(errors)
    }
}

/// What correcting needs of the store.
pub trait CorrectionStore {
    /// Applies a correction's `set` and `remove`, and logs which fields changed (not their values).
    fn correct(
        &self,
        profile_id: &ProfileId,
        correction: &Correction,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Deletes one of the person's submissions and logs that one was deleted (not what it held),
    /// in one step; `false` when there is no such submission.
    fn delete_submission(
        &self,
        profile_id: &ProfileId,
        submission_id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Whether the person holds this submission.
    fn submission_exists(
        &self,
        profile_id: &ProfileId,
        submission_id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Moves the profile to its new address, unless another profile has it.
    fn change_email(
        &self,
        profile_id: &ProfileId,
        new_email: &Email,
    ) -> impl Future<Output = Result<EmailChanged, StoreError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChanged {
    Changed,
    /// Another profile has this address already.
    Taken,
    /// The link was used already, or the profile is gone.
    Used,
}

/// What a correction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrected {
    pub fields_changed: usize,
    /// A confirmation link went to the new address; the old one stays until it is followed.
    pub email_confirmation_sent: bool,
}

pub async fn correct<S>(
    store: &S,
    config: &Config,
    profile_id: &ProfileId,
    input: &FormInput,
    now: i64,
) -> Result<Corrected, RightsError>
where
    S: RightsStore + CorrectionStore + OutboxStore + RateLimiter,
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
        let request = PendingRequest {
            profile_id: profile_id.to_owned(),
            address: new_email.as_str().to_owned(),
            format: None,
        };
        let link = MailedLink {
            kind: RequestKind::EmailChange,
            purpose: Purpose::EmailChange,
            path: "/privacy/email/confirm",
            expires_at: now + CONFIRM_HOURS * 3600,
            message: "email-change",
            to: new_email.as_str(),
            subject: t!("subject-email-change", organisation = config.links.organisation.as_str()),
            template: "email_change",
            values: serde_json::json!({ "hours": CONFIRM_HOURS }),
        };
        email_confirmation_sent = send_link(store, config, &nonce, &request, link, now).await?;
    }
    tracing::info!(
        profile_id = %profile_id,
        fields = correction.set.len() + correction.remove.len(),
        email_change = email_confirmation_sent,
        "profile corrected"
    );
    Ok(Corrected { fields_changed: correction.set.len() + correction.remove.len(), email_confirmation_sent })
}

/// How long the old address can take itself back after a change.
pub const UNDO_DAYS: i64 = 7;

/// The new address's owner followed the link: the profile moves to it.
/// The new address is the person's from now on; every session opened with the old one ends (a
/// session is someone who proved the old address, not necessarily the new one). The old address
/// is told at once, with a link that takes it back: whoever opened a session may not be its owner.
pub async fn confirm_email_change<S>(
    store: &S,
    config: &Config,
    token: &str,
    now: i64,
) -> Result<(), RightsError>
where
    S: RightsStore + CorrectionStore + PrivacyStore + OutboxStore + RateLimiter,
{
    let (claims, request) =
        redeem_link(store, config, RequestKind::EmailChange, Purpose::EmailChange, token, now).await?;
    let email = stored_address(&request)?;
    let old = store.current_profile(&claims.profile_id).await?.ok_or(RightsError::LinkUsed)?.email;
    // Sessions of the old address end first: if the change then fails, the person signs in again;
    // the other way round, a failure could leave them open on an address that is no longer theirs.
    store.end_sessions(&claims.profile_id, None).await?;
    match store.change_email(&claims.profile_id, &email).await? {
        EmailChanged::Changed => {
            tracing::info!(profile_id = claims.profile_id.as_str(), "email address changed; sessions ended");
        }
        EmailChanged::Taken => return Err(RightsError::EmailTaken),
        EmailChanged::Used => return Err(RightsError::LinkUsed),
    }
    if fields::address_key(&old) == fields::address_key(email.as_str()) {
        return Ok(());
    }
    // No change stands without its way back: if the old address cannot be told, the profile
    // returns to it and the link works again, for the person to retry.
    if let Err(err) = tell_the_old_address(store, config, &claims.profile_id, &old, &email, now).await {
        tracing::error!(profile_id = claims.profile_id.as_str(), error = %err, "the old address could not be told of its change; the change is rolled back");
        if let Ok(old) = Email::parse("email", &old) {
            store.change_email(&claims.profile_id, &old).await?;
        }
        let expires_at = claims.expires_at.unwrap_or(now + CONFIRM_HOURS * 3600);
        store.save_request(RequestKind::EmailChange, &claims.subject, &request, expires_at).await?;
        return Err(err);
    }
    Ok(())
}

async fn tell_the_old_address<S: RightsStore + OutboxStore + RateLimiter>(
    store: &S,
    config: &Config,
    profile_id: &ProfileId,
    old: &str,
    new: &Email,
    now: i64,
) -> Result<bool, RightsError> {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let request = PendingRequest { profile_id: profile_id.to_owned(), address: old.to_owned(), format: None };
    let link = MailedLink {
        kind: RequestKind::EmailChangeUndo,
        purpose: Purpose::EmailChangeUndo,
        path: "/privacy/email/undo",
        expires_at: now + UNDO_DAYS * 86_400,
        message: "email-changed",
        to: old,
        subject: t!("subject-email-changed", organisation = config.links.organisation.as_str()),
        template: "email_changed",
        values: serde_json::json!({
            "new_address": fields::masked_address(new.as_str()).unwrap_or_default(),
            "days": UNDO_DAYS,
        }),
    };
    send_link(store, config, &nonce, &request, link, now).await
}

/// What someone who changed the address may have set going in the person's name, which ends
/// when the owner takes the address back: further changes (and the ways back they would mail
/// to addresses of theirs), exports and their download links.
const ENDED_BY_UNDO: [RequestKind; 4] =
    [RequestKind::EmailChange, RequestKind::EmailChangeUndo, RequestKind::Export, RequestKind::ExportLink];

/// The old address's owner takes it back: the profile returns to it, whatever address it moved
/// to since, every session ends (whoever changed it is signed out), and every other pending
/// request of the profile goes, the ways back of later changes included (otherwise whoever made
/// them could move the profile away again). Answers the address.
pub async fn undo_email_change<S>(
    store: &S,
    config: &Config,
    token: &str,
    now: i64,
) -> Result<String, RightsError>
where
    S: RightsStore + CorrectionStore + PrivacyStore,
{
    let (claims, request) =
        redeem_link(store, config, RequestKind::EmailChangeUndo, Purpose::EmailChangeUndo, token, now)
            .await?;
    let email = stored_address(&request)?;
    // What whoever changed it set going ends first, whether or not the address can move back now.
    let undone = async {
        store.end_sessions(&claims.profile_id, None).await?;
        store.drop_requests(&claims.profile_id, &ENDED_BY_UNDO).await?;
        Ok::<_, RightsError>(store.change_email(&claims.profile_id, &email).await?)
    }
    .await;
    match undone {
        Ok(EmailChanged::Changed) => {
            tracing::info!(
                profile_id = claims.profile_id.as_str(),
                "email address change undone; sessions and requests ended"
            );
            Ok(email.as_str().to_owned())
        }
        Ok(EmailChanged::Used) => Err(RightsError::LinkUsed),
        // Someone's form made a profile of the old address meanwhile, or the store failed: the
        // link stays usable. Its owner can sign in at the old address, delete that profile, and
        // follow the link again.
        Ok(EmailChanged::Taken) | Err(_) => {
            let expires_at = claims.expires_at.unwrap_or(now + UNDO_DAYS * 86_400);
            store.save_request(RequestKind::EmailChangeUndo, &claims.subject, &request, expires_at).await?;
            Err(undone.err().unwrap_or(RightsError::EmailTaken))
        }
    }
}

fn stored_address(request: &PendingRequest) -> Result<Email, RightsError> {
    Email::parse("email", &request.address)
        .map_err(|_| RightsError::Store(StoreError::Unexpected("a stored address no longer parses".into())))
}

/// The person deletes one submission: one sent in their name, or one they no longer want kept.
/// Its CV files go first, so that a failure leaves the submission to try again.
pub async fn delete_submission<S, C>(
    store: &S,
    cvs: &C,
    profile_id: &ProfileId,
    submission_id: &str,
) -> Result<(), RightsError>
where
    S: CorrectionStore + crate::domain::destinations::DeliveryStore,
    C: crate::domain::privacy::erasure::CvObjects,
{
    let well_formed = !submission_id.is_empty()
        && submission_id.len() <= 64
        && submission_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !well_formed {
        return Err(RightsError::Invalid(vec![FieldError::new(
            "submission",
            "invalid",
            t!("error-not-your-submission"),
        )]));
    }
    if !store.submission_exists(profile_id, submission_id).await? {
        return Err(RightsError::NotFound);
    }
    cvs.delete_application(submission_id)
        .await
        .map_err(|err| RightsError::Store(StoreError::Unavailable(Box::new(err))))?;
    // What is still owed about it to a destination (down, or not yet dispatched) goes first: a
    // failure after this is answered by asking again, and nothing of it is sent meanwhile.
    store.drop_owed(profile_id, submission_id).await?;
    if !store.delete_submission(profile_id, submission_id).await? {
        return Err(RightsError::NotFound);
    }
    tracing::info!(profile_id = %profile_id, submission_id, "submission deleted by its person");
    Ok(())
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
}
