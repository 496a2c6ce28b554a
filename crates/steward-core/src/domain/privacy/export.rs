//! Taking one's data along: the export's formats, and sending it to an address the person names
//! once they confirm from their own.

use super::rights::{
    limit_mailing_requests, redeem_link, send_link, well_formed_id, MailedLink, PendingRequest, RequestKind,
    RightsError, RightsStore, CONFIRM_HOURS,
};
use crate::config::Config;
use crate::domain::fields::{Email, FieldError};
use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::OutboxStore;
use crate::domain::ports::{RateLimiter, StoreError};
use crate::t;
use crate::token::{Purpose, TokenError};
use serde_json::Value;

/// How long the person an export was sent to may download it.
pub const EXPORT_DOWNLOAD_DAYS: i64 = 3;

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
            _ => Err(FieldError::new("format", "unknown_format", t!("error-unknown-format"))),
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
/// Every cell is safe to open in a spreadsheet (`safe_cell`).
pub fn export_csv(export: &serde_json::Value) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    record(&mut writer, ["section", "item", "field", "value"]);
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

/// A cell a spreadsheet will not run: one that starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return (what Excel, LibreOffice and Google Sheets read as a formula) gets a leading `'`, as
/// OWASP's CSV injection guidance says. Names, messages, a browser's User-Agent and phone numbers
/// (`+44…`) are all typed by someone; the `'` shows, and the value is read as text.
///
/// A spreadsheet set to split on `;` or tabs (many locales) would also start a cell after one of
/// those, so a trigger there gets its `'` too; so does one after leading spaces or quotes.
pub fn safe_cell(value: &str) -> std::borrow::Cow<'_, str> {
    const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
    let mut out = String::with_capacity(value.len() + 1);
    // At the start of a cell, or of what a spreadsheet might read as one.
    let mut cell_start = true;
    let mut changed = false;
    for c in value.chars() {
        if cell_start && TRIGGERS.contains(&c) {
            out.push('\'');
            changed = true;
            cell_start = false;
        } else if cell_start && !matches!(c, ' ' | '"') {
            cell_start = false;
        }
        out.push(c);
        if matches!(c, ';' | '\t') {
            cell_start = true;
        }
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

fn record(writer: &mut csv::Writer<Vec<u8>>, cells: [&str; 4]) {
    let _ = writer.write_record(cells.map(safe_cell).iter().map(|cell| cell.as_ref()));
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
        serde_json::Value::String(text) => record(writer, [section, item, path, text]),
        other => record(writer, [section, item, path, &other.to_string()]),
    }
}

/// A person asks for their export to go to someone else: they confirm from their own address.
pub async fn request_export_to<S>(
    store: &S,
    config: &Config,
    profile_id: &ProfileId,
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
    let request = PendingRequest {
        profile_id: profile_id.to_owned(),
        address: recipient.as_str().to_owned(),
        format: Some(format.as_str().to_owned()),
    };
    let link = MailedLink {
        kind: RequestKind::Export,
        purpose: Purpose::ExportConfirm,
        path: "/privacy/export/confirm",
        expires_at: now + CONFIRM_HOURS * 3600,
        message: "export-confirm",
        to: &current.email,
        subject: t!("subject-export-confirm", organisation = config.links.organisation.as_str()),
        template: "export_confirm",
        values: serde_json::json!({ "recipient": recipient.as_str(), "hours": CONFIRM_HOURS }),
    };
    send_link(store, config, &nonce, &request, link, now).await?;
    tracing::info!(profile_id = %profile_id, "export to a nominated address requested");
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
) -> Result<(ProfileId, String), RightsError>
where
    S: RightsStore + OutboxStore + RateLimiter,
{
    let (claims, request) =
        redeem_link(store, config, RequestKind::Export, Purpose::ExportConfirm, token, now).await?;
    // The download link works until it expires, or until the person's data is erased (its item is
    // in their partition).
    let link = MailedLink {
        kind: RequestKind::ExportLink,
        purpose: Purpose::ExportDownload,
        path: "/privacy/export",
        expires_at: now + EXPORT_DOWNLOAD_DAYS * 86_400,
        message: "export-ready",
        to: &request.address,
        subject: t!("subject-export-ready", organisation = config.links.organisation.as_str()),
        template: "export_ready",
        values: serde_json::json!({ "days": EXPORT_DOWNLOAD_DAYS }),
    };
    if !send_link(store, config, &claims.subject, &request, link, now).await? {
        // The recipient has had today's download links: the person is told, not left thinking
        // it went (they ask again tomorrow).
        return Err(RightsError::RateLimited(std::time::Duration::from_secs(
            (86_400 - now.rem_euclid(86_400)) as u64,
        )));
    }
    tracing::info!(profile_id = claims.profile_id.as_str(), "export sent to a nominated address");
    Ok((claims.profile_id, request.address))
}

/// The recipient's download link: whose export, in which format, while it is still valid.
pub async fn export_download<S: RightsStore>(
    store: &S,
    config: &Config,
    token: &str,
    now: i64,
) -> Result<(ProfileId, ExportFormat), RightsError> {
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

/// The person takes back an export link they sent someone: from now on it downloads nothing.
pub async fn revoke_export_link<S: RightsStore>(
    store: &S,
    profile_id: &ProfileId,
    link_id: &str,
    now: i64,
) -> Result<(), RightsError> {
    if !well_formed_id(link_id) {
        return Err(RightsError::Invalid(vec![FieldError::new(
            "link",
            "invalid",
            t!("error-not-your-link"),
        )]));
    }
    store
        .take_request(RequestKind::ExportLink, profile_id, link_id, now)
        .await?
        .ok_or(RightsError::NoSuchRequest)?;
    tracing::info!(profile_id = %profile_id, "export link revoked");
    Ok(())
}

/// Checks a download link without using it, for the page that offers the download.
pub fn export_download_link(config: &Config, token: &str, now: i64) -> Result<(), RightsError> {
    config
        .token_keys
        .verify(token, Purpose::ExportDownload, now)
        .map(|_| ())
        .map_err(RightsError::InvalidLink)
}

/// Everything held about a person, as their own export has it, with where their data went:
/// what the privacy team and the operator see of them.
pub async fn everything_held<S>(store: &S, profile_id: &ProfileId) -> Result<Option<Value>, StoreError>
where
    S: crate::domain::privacy::access::PrivacyStore + crate::domain::destinations::DeliveryStore,
{
    let Some(mut held) = store.everything(profile_id).await? else { return Ok(None) };
    let recipients = store.recipients(profile_id).await?;
    let descriptions = crate::domain::forms::catalogue::built_in_destinations();
    held["shared_with"] = crate::domain::destinations::shown_to_person(&descriptions, &recipients).into();
    Ok(Some(held))
}

/// One line of a person's history.
pub fn timeline(held: &Value) -> Vec<(String, String, String)> {
    let mut events = vec![];
    let text = |item: &Value, name: &str| item[name].as_str().unwrap_or("").to_owned();
    let profile = &held["profile"];
    events.push((text(profile, "created_at"), "profile".into(), "created".into()));
    if let Some(at) = profile["email_changed_at"].as_str() {
        events.push((at.to_owned(), "profile".into(), "address changed".into()));
    }
    for item in held["submissions"].as_array().into_iter().flatten() {
        let mut what = format!("{} ({})", text(item, "form"), text(item, "submission_id"));
        if let Some(status) = item["cv"]["status"].as_str() {
            what.push_str(&format!(", CV {status}"));
        }
        events.push((text(item, "received_at"), "submission".into(), what));
    }
    for item in held["payments"].as_array().into_iter().flatten() {
        let what = format!(
            "{} {}: {} {} {}",
            text(item, "kind"),
            text(item, "item"),
            text(item, "status"),
            item["amount"].as_i64().map_or_else(String::new, |a| a.to_string()),
            text(item, "currency")
        );
        events.push((text(item, "started_at"), "payment".into(), what.trim().to_owned()));
    }
    for item in held["mail_preference_history"].as_array().into_iter().flatten() {
        events.push((
            text(item, "at"),
            "mail".into(),
            format!("{} ({})", text(item, "change"), text(item, "source")),
        ));
    }
    for item in held["profile_history"].as_array().into_iter().flatten() {
        events.push((text(item, "at"), "rights".into(), text(item, "change")));
    }
    events.sort();
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cell_of_an_export_runs_as_a_formula_in_a_spreadsheet() {
        let export = serde_json::json!({
            "profile": {"full_name": "=HYPERLINK(\"https://evil.example\",\"Click\")", "company": "Acme"},
            "submissions": [{"submission_id": "s1", "fields": {
                "phone": "+442079460958", "message": "@SUM(A1:A9)", "note": "-2+3", "tab": "\t=1", "cr": "\r=1",
            }, "user_agent": "=cmd|' /C calc'!A0"}],
        });
        let csv = export_csv(&export);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let values: Vec<String> = reader.records().map(|r| r.unwrap()[3].to_owned()).collect();
        for value in &values {
            assert!(!value.starts_with(['=', '+', '-', '@', '\t', '\r']), "{value:?} would run");
        }
        assert!(values.contains(&"'+442079460958".to_owned()), "{values:?}");
        assert!(values.contains(&"Acme".to_owned()), "plain text stays as it is: {values:?}");
        assert_eq!(safe_cell("=1+1"), "'=1+1");
        assert_eq!(safe_cell("Zoë"), "Zoë");
        assert_eq!(safe_cell("a-b, c+d"), "a-b, c+d", "a sign inside text is text");
        // Where a spreadsheet splits on `;` or tabs, what follows one starts a cell too.
        assert_eq!(safe_cell("x;=HYPERLINK(1)"), "x;'=HYPERLINK(1)");
        assert_eq!(safe_cell("x; +1"), "x; '+1");
        assert_eq!(safe_cell(" \"=1"), " \"'=1");
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
