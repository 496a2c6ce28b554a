//! The privacy center's pages: plain HTML forms that work without JavaScript. Every value shown
//! is escaped; the session is the browser's HttpOnly cookie, never in a URL or a page.

use serde_json::Value;
use steward_core::domain::fields::FieldError;
use steward_core::domain::forms::validation::FormInput;
use steward_core::http::page::{escape, layout};

/// The fields the correction form shows.
const CORRECTABLE_FIELDS: [&str; 7] = ["name", "email", "phone", "job_title", "company", "country", "state"];

/// A page with one button, for links in mail: opening it uses nothing, the button does. `about`
/// says what the button acts on (whose center, which address), before anyone presses it.
pub fn confirm_link(title: &str, about: Option<&str>, action: &str, token: &str, button: &str) -> String {
    let about = about.map(|text| format!("<p>{}</p>", escape(text))).unwrap_or_default();
    layout(
        title,
        &format!(
            r#"<h1>{title}</h1>{about}<form method="post" action="{action}"><input type="hidden" name="token" value="{token}"><button type="submit">{button}</button></form>"#,
            title = escape(title),
            action = escape(action),
            token = escape(token),
            button = escape(button),
        ),
    )
}

/// A sign-in link's page: whose privacy center it opens, and the button that opens it.
pub fn sign_in_link(token: &str, whose: Option<&str>) -> String {
    let about = whose.map(|address| {
        format!(
            "This link opens the privacy center of {address}. If that is not your address, close this page: someone else sent you their link."
        )
    });
    confirm_link("Open your privacy center", about.as_deref(), "/privacy/session", token, "Continue")
}

fn notice(code: &str) -> &'static str {
    match code {
        "corrected" => "Your details are corrected.",
        "email_confirmation_sent" => {
            "We sent a link to your new address. Your address changes once you follow it; your other changes are saved."
        }
        "export_confirmation_sent" => "We sent a message to your own address: the export goes out once you confirm it there.",
        "restricted" => "We keep your data but no longer use it.",
        "lifted_restricted" => "The restriction is lifted.",
        "objected" => "Your objection is recorded: we no longer use your data for our legitimate interests or marketing.",
        "lifted_objected" => "Your objection is withdrawn.",
        "withdrawn" => "Your consent is withdrawn.",
        "export_link_revoked" => "The link you sent no longer works.",
        "submission_deleted" => "The submission is deleted.",
        _ => "Done.",
    }
}

/// Any stored value, as nested definition lists.
fn value_html(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let rows: String = map
                .iter()
                .map(|(k, v)| format!("<dt>{}</dt><dd>{}</dd>", escape(&k.replace('_', " ")), value_html(v)))
                .collect();
            format!("<dl>{rows}</dl>")
        }
        Value::Array(list) => {
            let items: String = list.iter().map(|v| format!("<li>{}</li>", value_html(v))).collect();
            format!("<ul>{items}</ul>")
        }
        Value::String(text) => escape(text),
        Value::Null => String::new(),
        other => escape(&other.to_string()),
    }
}

fn section(title: &str, value: &Value) -> String {
    let empty = value.is_null() || value.as_array().is_some_and(Vec::is_empty);
    let body = if empty { "<p>Nothing.</p>".to_owned() } else { value_html(value) };
    format!("<section><h2>{}</h2>{body}</section>", escape(title))
}

/// A labelled input; a problem with it is shown right after it and tied to it for screen readers.
fn input(
    name: &str,
    label: &str,
    value: &str,
    kind: &str,
    autocomplete: &str,
    errors: &[FieldError],
) -> String {
    let error = errors.iter().find(|e| e.field == name);
    let (invalid, message) = match error {
        Some(error) => (
            format!(r#" aria-invalid="true" aria-describedby="f-{name}-error""#),
            format!(
                r#"<p class="field-error" id="f-{name}-error">{} {}</p>"#,
                escape(label),
                escape(&error.message)
            ),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        r#"<label for="f-{name}">{label}</label><input id="f-{name}" name="{name}" type="{kind}" value="{value}" autocomplete="{autocomplete}"{invalid}>{message}"#,
        label = escape(label),
        value = escape(value),
    )
}

/// Everything held, and a form for each right. `errors` are a refused correction's, shown beside
/// its fields with the values the person typed.
pub fn privacy_center(
    organisation: &str,
    data: &Value,
    done: Option<&str>,
    typed: Option<&FormInput>,
    errors: &[FieldError],
) -> String {
    let profile = &data["profile"];
    let text = |name: &str| {
        let field = if name == "full_name" { "name" } else { name };
        match typed.and_then(|t| t.values.get(field)) {
            Some(values) => values.first().map(String::as_str).unwrap_or_default(),
            None => profile[name].as_str().unwrap_or_default(),
        }
    };
    let notice = done
        .map(|code| format!(r#"<p role="status" class="notice">{}</p>"#, escape(notice(code))))
        .unwrap_or_default();
    let alert = if errors.is_empty() {
        String::new()
    } else {
        let count =
            if errors.len() == 1 { "one field".to_owned() } else { format!("{} fields", errors.len()) };
        let unknown: String = errors
            .iter()
            .filter(|e| !CORRECTABLE_FIELDS.contains(&e.field.as_str()))
            .map(|e| format!(" {} {}.", escape(&e.field), escape(&e.message)))
            .collect();
        format!(
            r##"<div role="alert" class="alert"><a href="#correct">Please correct {count}</a>.{unknown}</div>"##
        )
    };

    let correct = format!(
        r#"<section id="correct"><h2>Correct your details</h2><form method="post" action="/me"><input type="hidden" name="_method" value="PATCH">{}{}{}{}{}{}{}<p>Leave a field empty to remove it. A new email address is used once you confirm it from that address.</p><button type="submit">Save</button></form></section>"#,
        input("name", "Name", text("full_name"), "text", "name", errors),
        input("email", "Email", text("email"), "email", "email", errors),
        input("phone", "Phone (with country code)", text("phone"), "tel", "tel", errors),
        input("job_title", "Job title", text("job_title"), "text", "organization-title", errors),
        input("company", "Company", text("company"), "text", "organization", errors),
        input("country", "Country (two-letter code)", text("country"), "text", "country", errors),
        input("state", "State or region (code, such as US-CA)", text("state"), "text", "off", errors),
    );

    let export = r#"<section><h2>Take your data with you</h2><p><a href="/me/export?format=json">Download as JSON</a> · <a href="/me/export?format=csv">Download as CSV</a> · <a href="/me/consents">Receipts of your consents</a></p><form method="post" action="/me/export"><label for="f-to">Or send it to someone else (we ask you to confirm first)</label><input id="f-to" name="to" type="email" autocomplete="off" required><label for="f-format">Format</label><select id="f-format" name="format"><option value="json">JSON</option><option value="csv">CSV</option></select><button type="submit" class="secondary">Send a copy</button></form></section>"#.to_owned();
    let shared: String = data["export_links"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|link| {
            format!(
                r#"<li>To {} ({}), works until {} <form method="post" action="/me/export/revoke" class="inline"><input type="hidden" name="link" value="{}"><button type="submit" class="secondary">Take it back</button></form></li>"#,
                escape(link["address"].as_str().unwrap_or_default()),
                escape(link["format"].as_str().unwrap_or("json")),
                escape(link["works_until"].as_str().unwrap_or_default()),
                escape(link["link_id"].as_str().unwrap_or_default()),
            )
        })
        .collect();
    let submissions: String = data["submissions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|submission| {
            format!(
                r#"<li>{} of {} <form method="post" action="/me/submissions/delete" class="inline"><input type="hidden" name="submission" value="{}"><button type="submit" class="secondary">Delete it</button></form></li>"#,
                escape(submission["form"].as_str().unwrap_or_default()),
                escape(submission["received_at"].as_str().unwrap_or_default()),
                escape(submission["submission_id"].as_str().unwrap_or_default()),
            )
        })
        .collect();
    let undo = if submissions.is_empty() {
        String::new()
    } else {
        format!(
            r#"<section><h2>Something you did not send?</h2><p>Anyone can type your address into a form. What they sent stays with its submission and fills in only what you had not given us; deleting a submission takes that away too.</p><ul>{submissions}</ul></section>"#
        )
    };
    let shared = if shared.is_empty() {
        String::new()
    } else {
        format!(
            r#"<section><h2>Copies you sent</h2><p>Each link works until the date shown, or until you take it back.</p><ul>{shared}</ul></section>"#
        )
    };

    let limit_form = |path: &str, on: bool, set_label: &str, lift_label: &str, explain: &str| {
        let (lift, label) = if on { ("true", lift_label) } else { ("false", set_label) };
        format!(
            r#"<form method="post" action="{path}"><input type="hidden" name="lift" value="{lift}"><p>{}</p><button type="submit" class="secondary">{}</button></form>"#,
            escape(explain),
            escape(label)
        )
    };
    let limits = format!(
        "<section><h2>Limit how we use your data</h2>{}{}</section>",
        limit_form(
            "/me/restrict",
            !profile["restricted"].is_null(),
            "Restrict processing",
            "Lift the restriction",
            "Restriction: we keep your data but do not use it, for instance while you contest its accuracy."
        ),
        limit_form(
            "/me/object",
            !profile["objected"].is_null(),
            "Object to processing",
            "Withdraw my objection",
            "Objection: we stop using your data for our legitimate interests and for marketing."
        ),
    );

    let withdrawn: Vec<&str> = profile["withdrawn_consents"]
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut consents: Vec<String> = data["submissions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["consent"]["purposes"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["basis"] == "consent")
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .filter(|id| !withdrawn.contains(&id.as_str()))
        .collect();
    consents.sort();
    consents.dedup();
    let withdraw: String = consents
        .iter()
        .map(|purpose| {
            format!(
                r#"<form method="post" action="/me/withdraw"><input type="hidden" name="purpose" value="{p}"><button type="submit" class="secondary">Withdraw my consent to {p}</button></form>"#,
                p = escape(purpose)
            )
        })
        .collect();
    let withdraw = format!(
        "<section><h2>Consents</h2>{}</section>",
        if withdraw.is_empty() {
            "<p>You have no consent left to withdraw.</p>".to_owned()
        } else {
            withdraw
        }
    );

    let delete = r#"<section><h2>Delete your data</h2><p>We delete everything we hold about you, except payment records, which the law makes us keep without your name or address.</p><p><a href="/me/delete">Delete my data…</a></p></section>"#.to_owned();

    let held = [
        ("Your profile", &data["profile"]),
        ("Your form submissions", &data["submissions"]),
        ("Your payments", &data["payments"]),
        ("Billing", &data["billing"]),
        ("Mail preference history", &data["mail_preference_history"]),
        ("Profile history", &data["profile_history"]),
        ("Pending requests", &data["pending_requests"]),
    ]
    .iter()
    .map(|(title, value)| section(title, value))
    .collect::<String>();
    let who = format!(
        "<section><h2>Who is responsible</h2><p>The data controller for you is <strong>{}</strong>. Questions, objections and complaints: our Data Protection Officer at <a href=\"mailto:{dpo}\">{dpo}</a>.</p>{}<h3>Who may receive your data</h3>{}</section>",
        escape(data["data_controller"].as_str().unwrap_or_default()),
        data["supervisory_authority"].as_str().map(|a| format!("<p>You may also complain to {}.</p>", escape(a))).unwrap_or_default(),
        value_html(&data["recipients"]),
        dpo = escape(data["data_protection_officer"].as_str().unwrap_or_default()),
    );

    layout(
        if errors.is_empty() { "Your privacy center" } else { "Error: your privacy center" },
        &format!(
            "<h1>Your data at {}</h1>{notice}{alert}<p>This page works for 30 minutes after you signed in.</p>{SIGN_OUT}{held}{who}{undo}{correct}{export}{shared}{limits}{withdraw}{delete}",
            escape(organisation)
        ),
    )
}

/// Signing out, here or on every device (a session opened elsewhere, or forgotten on a shared
/// computer).
const SIGN_OUT: &str = r#"<form method="post" action="/me/sign-out" class="inline"><button type="submit" class="secondary">Sign out</button> <button type="submit" name="everywhere" value="yes" class="secondary">Sign out everywhere</button></form>"#;

pub fn signed_out(everywhere: bool) -> String {
    let detail = if everywhere {
        "Every session of your privacy center has ended, on this device and any other."
    } else {
        "Your privacy center session on this device has ended."
    };
    layout(
        "Signed out",
        &format!(
            "<h1>You are signed out</h1><p>{detail}</p><p>To come back, ask for a new sign-in link.</p>"
        ),
    )
}

/// The confirmation step before erasure.
pub fn confirm_erasure() -> String {
    layout(
        "Delete your data",
        r#"<h1>Delete your data?</h1><p>This deletes your profile, your form submissions, your CVs and your mail preferences, now and for good. Payment records are kept without your name or address, as the law requires. We send one last message to confirm, then we forget your address.</p><form method="post" action="/me"><input type="hidden" name="_method" value="DELETE"><label><input type="checkbox" name="confirm" value="yes" required> I understand that this cannot be undone</label><button type="submit">Delete everything</button></form><p><a href="/me">No, take me back</a></p>"#,
    )
}

pub fn erased() -> String {
    layout(
        "Your data is deleted",
        "<h1>Your data is deleted</h1><p>We sent a last message to confirm it. You are welcome to register again whenever you like.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Value {
        serde_json::json!({
            "profile": {"email": "a@example.com", "full_name": "<script>x</script>", "withdrawn_consents": ["contest"]},
            "submissions": [{"form": "survey", "consent": {"purposes": [
                {"id": "contest", "basis": "consent"}, {"id": "marketing", "basis": "consent"},
                {"id": "recruitment", "basis": "legitimate-interests"}]}}],
            "payments": [],
            "data_controller": "WSO2 Inc.",
            "data_protection_officer": "dpo@wso2.com",
            "recipients": ["Stripe"],
        })
    }

    #[test]
    fn the_privacy_center_page_escapes_what_it_shows_and_offers_every_right_without_script() {
        let page = privacy_center("WSO2", &data(), Some("corrected"), None, &[]);
        assert!(!page.contains("<script>x"), "values are escaped");
        assert!(page.contains("&lt;script&gt;x"));
        assert!(!page.contains("<script"), "no script at all");
        for action in [
            r#"action="/me""#,
            r#"action="/me/export""#,
            r#"action="/me/restrict""#,
            r#"action="/me/object""#,
            r#"action="/me/withdraw""#,
            r#"action="/me/sign-out""#,
        ] {
            assert!(page.contains(action), "{action}");
        }
        assert!(page.contains(r#"href="/me/delete""#));
        assert!(!page.contains("session="), "the session never goes in a URL or a field");
        assert!(
            page.contains(r#"<label for="f-name">"#) && page.contains(r#"id="f-name""#),
            "labels tied to inputs"
        );
        assert!(page.contains(r#"role="status""#), "the notice is announced");
        assert!(page.contains("Withdraw my consent to marketing"));
        assert!(!page.contains("Withdraw my consent to contest"), "withdrawn already");
        assert!(!page.contains("Withdraw my consent to recruitment"), "not a consent");
        assert!(page.contains("mailto:dpo@wso2.com"));
    }

    #[test]
    fn a_refused_correction_shows_each_error_beside_its_field_with_what_was_typed() {
        let mut typed = FormInput::default();
        typed.push("phone", "12<b>".into());
        let errors = vec![FieldError::new("phone", "invalid_phone", "is not a phone number")];
        let page = privacy_center("WSO2", &data(), None, Some(&typed), &errors);
        assert!(page.contains(r#"value="12&lt;b&gt;""#), "the typed value, escaped");
        assert!(page.contains(r#"aria-invalid="true" aria-describedby="f-phone-error""#));
        assert!(page.contains(r#"<p class="field-error" id="f-phone-error">"#));
        assert!(page.contains(r#"role="alert""#), "announced");
    }

    #[test]
    fn erasure_asks_for_a_confirmation_first() {
        let page = confirm_erasure();
        assert!(page.contains(r#"name="_method" value="DELETE""#));
        assert!(page.contains(r#"name="confirm" value="yes" required"#));
    }
}
