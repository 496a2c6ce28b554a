//! The privacy center as a person reads it: what we hold about them in words, grouped by what it
//! means (who you are, your consents and mail, what you sent us, your payments, your files,
//! requests under way), each with the right that acts on it. Dates, amounts, states, forms,
//! topics and events are named as people name them; ids, keys, hashes and evidence stay in the
//! export, one click away. Every value shown is escaped, and the page has no script. Every word
//! of the page is a message (`center-…`) in the request's language.

use serde_json::Value;
use steward_core::domain::fields::{self, Country, FieldError, State};
use steward_core::domain::forms::catalogue::{topic_words, Catalogue};
use steward_core::domain::forms::validation::FormInput;
use steward_core::domain::payments::{money, per_interval, PaymentCatalogue};
use steward_core::domain::privacy::access;
use steward_core::http::page::{escape, layout};
use steward_core::i18n::Lang;
use steward_core::t;
use steward_core::time::Timestamp;

/// What the page needs besides the person's data: the catalogues that name what they sent and
/// bought, and who we are.
pub struct Words<'a> {
    pub organisation: &'a str,
    pub forms: &'a Catalogue,
    pub payments: &'a PaymentCatalogue,
}

/// The fields of "Who you are", in the order people fill them in, and the correction form's.
const PROFILE_FIELDS: [&str; 7] = ["full_name", "email", "phone", "job_title", "company", "country", "state"];

/// How long a session lasts, as the page tells it.
const SESSION_MINUTES: u32 = 30;

/// Stand-ins for markup inside a sentence (an address in bold, a link): characters of Unicode's
/// private use area, which no message, value or escape produces.
const SLOT: &str = "\u{E000}";
const SLOT_2: &str = "\u{E001}";

/// A translated sentence with markup around some of its words, wherever the language puts them:
/// the message is given a slot for each, escaped whole, and each slot then replaced by its markup
/// (escaped already).
fn marked_up(sentence: &str, markup: &[(&str, String)]) -> String {
    markup.iter().fold(escape(sentence), |text, (slot, html)| text.replace(*slot, html))
}

/// The person's page. `done` names what just happened (a notice); `typed` and `errors` are a
/// refused correction's, shown beside its fields with what the person typed.
pub fn page(
    words: &Words<'_>,
    data: &Value,
    done: Option<&str>,
    typed: Option<&FormInput>,
    errors: &[FieldError],
) -> String {
    let profile = &data["profile"];
    let address = profile["email"].as_str().unwrap_or_default();
    let notice = done
        .map(|code| format!(r#"<p role="status" class="notice">{}</p>"#, escape(&notice(code))))
        .unwrap_or_default();
    let alert = alert(errors);
    let contents = contents();
    let signed_in = marked_up(
        &t!("center-signed-in", address = SLOT, minutes = SESSION_MINUTES),
        &[(SLOT, format!("<strong>{}</strong>", escape(address)))],
    );
    let body = [
        format!(
            "<h1>{}</h1>{notice}{alert}<p>{signed_in}</p>{}{contents}",
            escape(&t!("center-heading", organisation = words.organisation)),
            sign_out(),
        ),
        who_you_are(words, data),
        consents_and_mail(words, data),
        what_you_sent(words, data),
        payments(words, data),
        files(data),
        shared(data),
        requests(words, data),
        everything(data),
        rights(data, typed, errors),
        responsible(data),
    ]
    .concat();
    let title = if errors.is_empty() { t!("center-title") } else { t!("center-title-error") };
    layout(&title, &body)
}

/// What the page holds, each group a link to it.
fn contents() -> String {
    let entries: String = [
        ("who", t!("center-who-heading")),
        ("consents", t!("center-consents-heading")),
        ("sent", t!("center-sent-heading")),
        ("payments", t!("center-payments-heading")),
        ("files", t!("center-files-heading")),
        ("shared", t!("center-shared-heading")),
        ("requests", t!("center-requests-heading")),
        ("everything", t!("center-contents-everything")),
        ("rights", t!("center-rights-heading")),
    ]
    .iter()
    .map(|(anchor, words)| format!(r##"<li><a href="#{anchor}">{}</a></li>"##, escape(words)))
    .collect();
    format!(r#"<nav aria-label="{}"><ul>{entries}</ul></nav>"#, escape(&t!("center-contents-label")))
}

fn notice(code: &str) -> String {
    match code {
        "corrected" => t!("center-notice-corrected"),
        "email_confirmation_sent" => t!("center-notice-email-confirmation-sent"),
        "export_confirmation_sent" => t!("center-notice-export-confirmation-sent"),
        "restricted" => t!("center-notice-restricted"),
        "lifted_restricted" => t!("center-notice-lifted-restricted"),
        "objected" => t!("center-notice-objected"),
        "lifted_objected" => t!("center-notice-lifted-objected"),
        "withdrawn" => t!("center-notice-withdrawn"),
        "export_link_revoked" => t!("center-notice-export-link-revoked"),
        "submission_deleted" => t!("center-notice-submission-deleted"),
        "request_cancelled" => t!("center-notice-request-cancelled"),
        _ => t!("center-notice-done"),
    }
}

fn alert(errors: &[FieldError]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    // Fields the form does not show are named here, by their label.
    let unknown: String = errors
        .iter()
        .filter(|e| !CORRECTABLE.contains(&e.field.as_str()))
        .map(|e| {
            let problem =
                t!("center-alert-field-error", label = fields::label(&e.field), message = e.message.as_str());
            format!(" {}", escape(&problem))
        })
        .collect();
    format!(
        r##"<div role="alert" class="alert"><a href="#correct">{}</a>.{unknown}</div>"##,
        escape(&t!("center-alert-correct", count = errors.len()))
    )
}

/// A stored time (RFC 3339 text, or epoch seconds) in words; empty when there is none.
fn when(value: &Value) -> String {
    let at = match value {
        Value::String(text) => Timestamp::parse_rfc3339(text),
        Value::Number(seconds) => seconds.as_i64().map(Timestamp::from_epoch_seconds),
        _ => None,
    };
    at.map(|at| at.in_words()).unwrap_or_default()
}

/// A stored day (RFC 3339 text, or epoch seconds) in words: `7 December 2027`.
fn day(value: &Value) -> String {
    let at = match value {
        Value::String(text) => Timestamp::parse_rfc3339(text),
        Value::Number(seconds) => seconds.as_i64().map(Timestamp::from_epoch_seconds),
        _ => None,
    };
    at.map(|at| at.date_in_words()).unwrap_or_default()
}

fn text<'v>(value: &'v Value, name: &str) -> &'v str {
    value[name].as_str().unwrap_or_default()
}

fn form_title(words: &Words<'_>, form: &str) -> String {
    words.forms.form(form).map_or_else(|| fields::label(form), |definition| definition.title_words())
}

fn topic(words: &Words<'_>, id: &str) -> String {
    topic_words(&words.forms.topics, id).unwrap_or_else(|| fields::label(id))
}

/// What was bought, by name: `WSO2Con 2027, 14–16 September 2027`, or a plan's title (anything
/// not an event is looked for among the plans).
fn item_title(words: &Words<'_>, kind: &str, item: &str) -> String {
    let kind = if kind == "event" { "event" } else { "plan" };
    words.payments.item(&format!("{kind}:{item}")).map_or_else(|| item.to_owned(), |purchase| purchase.what())
}

/// A field's value as people read it: countries and regions by name, topics by their label,
/// events and plans by their title.
fn field_value(words: &Words<'_>, name: &str, value: &Value, country: Option<&str>) -> String {
    let one = |raw: &str| -> String {
        match name {
            "country" => Country::parse(name, raw).map_or_else(|_| raw.to_owned(), |c| c.name_here()),
            "state" => country
                .and_then(|code| Country::parse("country", code).ok())
                .and_then(|c| State::parse(name, raw, c).ok())
                .map_or_else(|| raw.to_owned(), |s| s.name().to_owned()),
            "interests" => topic(words, raw),
            "event" | "plan" => item_title(words, name, raw),
            _ => raw.to_owned(),
        }
    };
    match value {
        Value::String(raw) => one(raw),
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(one).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Where a profile value came from, in words.
fn came_from(words: &Words<'_>, provenance: &Value) -> String {
    match text(provenance, "source") {
        "form" => t!(
            "center-from-form",
            form = form_title(words, text(provenance, "form")),
            date = day(&provenance["at"])
        ),
        "privacy-center" => t!("center-from-here", date = day(&provenance["at"])),
        _ => String::new(),
    }
}

fn who_you_are(words: &Words<'_>, data: &Value) -> String {
    let profile = &data["profile"];
    let country = profile["country"].as_str();
    let rows: String = PROFILE_FIELDS
        .iter()
        .filter(|name| profile[**name].as_str().is_some_and(|v| !v.is_empty()))
        .map(|name| {
            let origin = came_from(words, &profile["provenance"][*name]);
            let origin = if origin.is_empty() {
                String::new()
            } else {
                format!(r#" <span class="hint">({})</span>"#, escape(&origin))
            };
            format!(
                "<dt>{}</dt><dd>{}{origin}</dd>",
                escape(&fields::label(name)),
                escape(&field_value(words, name, &profile[*name], country))
            )
        })
        .collect();
    let kept = match day(&profile["retained_until"]) {
        until if until.is_empty() => String::new(),
        until => format!("<p>{}</p>", escape(&t!("center-who-kept", date = until))),
    };
    let limits = [
        (!profile["restricted"].is_null()).then(|| t!("center-who-restricted")),
        (!profile["objected"].is_null()).then(|| t!("center-who-objected")),
    ]
    .into_iter()
    .flatten()
    .map(|line| format!("<p>{}</p>", escape(&line)))
    .collect::<String>();
    format!(
        r##"<section id="who"><h2>{}</h2><dl>{rows}</dl>{kept}{limits}<p><a href="#correct">{}</a></p></section>"##,
        escape(&t!("center-who-heading")),
        escape(&t!("center-correct-heading")),
    )
}

fn consents_and_mail(words: &Words<'_>, data: &Value) -> String {
    let profile = &data["profile"];
    let list = |name: &str| -> Vec<String> {
        profile[name]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|t| topic(words, t))
            .collect()
    };
    let receiving = list("marketing_topics");
    let pending = list("pending_topics");
    let mut mail = Vec::new();
    if profile["unsubscribed_all"].as_bool() == Some(true) {
        let at = day(&profile["preferences_changed_at"]);
        mail.push(if at.is_empty() {
            t!("center-mail-unsubscribed-all")
        } else {
            t!("center-mail-unsubscribed-all-on", date = at)
        });
    } else if receiving.is_empty() {
        mail.push(t!("center-mail-none"));
    } else {
        mail.push(t!("center-mail-receiving", topics = receiving.join(", ")));
    }
    if !pending.is_empty() {
        mail.push(t!("center-mail-pending", topics = pending.join(", ")));
    }
    if profile["suppressed"].is_string() || profile["suppressed"].as_bool() == Some(true) {
        mail.push(t!("center-mail-suppressed"));
    }
    let mail: String = mail.iter().map(|line| format!("<p>{}</p>", escape(line))).collect();

    // Each consent given, with when and on which form; a form for each that still stands.
    let withdrawn: Vec<&str> = profile["withdrawn_consents"]
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut given: Vec<(String, String, String)> = Vec::new(); // (purpose, description, where and when)
    for submission in data["submissions"].as_array().into_iter().flatten() {
        let form = text(submission, "form");
        let definition = words.forms.form(form);
        for purpose in submission["consent"]["purposes"].as_array().into_iter().flatten() {
            if purpose["basis"] != "consent" {
                continue;
            }
            let id = text(purpose, "id").to_owned();
            if given.iter().any(|(known, _, _)| *known == id) {
                continue;
            }
            let description = definition
                .and_then(|d| d.purposes.iter().find(|p| p.id == id).map(|p| d.purpose_words(p)))
                .unwrap_or_else(|| fields::label(&id));
            let source = t!(
                "center-consent-given",
                form = form_title(words, form),
                date = day(&submission["consent"]["given_at"])
            );
            given.push((id, description, source));
        }
    }
    let consents: String = given
        .iter()
        .map(|(id, description, source)| {
            let state = if withdrawn.contains(&id.as_str()) {
                format!("<p>{}</p>", escape(&t!("center-consent-withdrawn")))
            } else {
                format!(
                    r#"<form method="post" action="/me/withdraw"><input type="hidden" name="purpose" value="{id}"><button type="submit" class="secondary">{withdraw}</button></form>"#,
                    id = escape(id),
                    withdraw = escape(&t!("center-consent-withdraw")),
                )
            };
            format!(
                "<li><strong>{}</strong> <span class=\"hint\">({})</span>{state}</li>",
                escape(description),
                escape(source)
            )
        })
        .collect();
    let consents = if consents.is_empty() {
        format!("<p>{}</p>", escape(&t!("center-consents-none")))
    } else {
        format!("<h3>{}</h3><ul>{consents}</ul>", escape(&t!("center-consents-given-heading")))
    };
    let history = history_list(words, &data["mail_preference_history"], &t!("center-mail-history-heading"));
    format!(
        r#"<section id="consents"><h2>{}</h2>{mail}{consents}{history}</section>"#,
        escape(&t!("center-consents-heading"))
    )
}

/// A history as dated lines (newest first), each change in words.
fn history_list(words: &Words<'_>, entries: &Value, title: &str) -> String {
    let mut lines: Vec<(String, String)> = entries
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| (text(entry, "at").to_owned(), change_in_words(words, text(entry, "change"))))
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    lines.sort_by(|a, b| b.0.cmp(&a.0));
    let items: String = lines
        .iter()
        .map(|(at, change)| {
            let line =
                t!("center-history-entry", at = when(&Value::String(at.clone())), change = change.as_str());
            format!("<li>{}</li>", escape(&line))
        })
        .collect();
    format!("<h3>{}</h3><ul>{items}</ul>", escape(title))
}

/// A history entry's change in words: `corrected full_name, phone` reads as "You corrected:
/// Name, Phone". The topics, purposes and details an entry names are shown as it names them; a
/// change this page does not know is shown as it is written.
fn change_in_words(words: &Words<'_>, change: &str) -> String {
    // Topics are stored by id (`cloud,events`, `[cloud, events]`): named here as the page names them.
    let named_topics = |list: &str| -> String {
        list.split([',', ' '])
            .filter(|id| !id.is_empty())
            .map(|id| topic(words, id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(names) = change.strip_prefix("corrected ") {
        let labels: Vec<String> = names.split(", ").map(fields::label).collect();
        return t!("center-change-corrected", fields = labels.join(", "));
    }
    let known = match change {
        "deleted a submission" => Some(t!("center-change-submission-deleted")),
        "changed email address" => Some(t!("center-change-email-changed")),
        "set restrict" => Some(t!("center-change-restriction-set")),
        "lifted restrict" => Some(t!("center-change-restriction-lifted")),
        "set object" => Some(t!("center-change-objection-set")),
        "lifted object" => Some(t!("center-change-objection-lifted")),
        "consent to marketing withdrawn" => Some(t!("center-change-marketing-consent-withdrawn")),
        "unsubscribed from all" => Some(t!("center-change-unsubscribed-all")),
        _ => None,
    };
    if let Some(words) = known {
        return words;
    }
    if let Some(purpose) = change.strip_prefix("withdrew consent: ") {
        // A purpose by the words its form gives it (a contest's, a form's own).
        let purpose = if purpose == "marketing" {
            t!("center-marketing")
        } else {
            words
                .forms
                .forms()
                .find_map(|form| {
                    form.purposes.iter().find(|p| p.id == purpose).map(|p| form.purpose_words(p))
                })
                .unwrap_or_else(|| fields::label(purpose))
        };
        return t!("center-change-consent-withdrawn", purpose = purpose);
    }
    if let Some(topic) = change.strip_prefix("unsubscribed ") {
        return t!("center-change-unsubscribed", topic = named_topics(topic));
    }
    if let Some(topics) = change.strip_prefix("confirmed ") {
        return t!("center-change-confirmed", topics = named_topics(topics));
    }
    if let Some((kept, asked)) = change
        .strip_prefix("topics [")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|rest| rest.split_once("], asked to confirm ["))
    {
        return t!("center-change-topics-chosen", kept = named_topics(kept), asked = named_topics(asked));
    }
    if let Some(detail) = change.strip_prefix("suppressed (").and_then(|rest| rest.strip_suffix(')')) {
        return t!("center-change-suppressed", detail = detail);
    }
    let mut chars = change.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Fields of a submission that are the person's own words and choices; the evidence kept with it
/// (browser, address, fingerprints) is in the export.
fn submission_fields(words: &Words<'_>, submission: &Value) -> String {
    let country = submission["fields"]["country"].as_str();
    // In the order the form asks for them; anything it no longer asks for last.
    let order: Vec<&str> = words
        .forms
        .form(text(submission, "form"))
        .map(|form| form.fields.iter().map(|field| field.name.as_str()).collect())
        .unwrap_or_default();
    let position = |name: &str| order.iter().position(|known| *known == name).unwrap_or(order.len());
    let mut given: Vec<(&String, &Value)> = submission["fields"].as_object().into_iter().flatten().collect();
    given.sort_by_key(|(name, _)| position(name));
    let rows: String = given
        .into_iter()
        .map(|(name, value)| {
            format!(
                "<dt>{}</dt><dd>{}</dd>",
                escape(&fields::label(name)),
                escape(&field_value(words, name, value, country))
            )
        })
        .collect();
    format!("<dl>{rows}</dl>")
}

fn what_you_sent(words: &Words<'_>, data: &Value) -> String {
    let mut submissions: Vec<&Value> = data["submissions"].as_array().into_iter().flatten().collect();
    submissions.sort_by(|a, b| text(b, "received_at").cmp(text(a, "received_at")));
    let items: String = submissions
        .iter()
        .map(|submission| {
            let kept = match day(&submission["retained_until"]) {
                until if until.is_empty() => String::new(),
                until => format!("<p>{}</p>", escape(&t!("center-sent-kept", date = until))),
            };
            format!(
                r#"<li><h3>{} <span class="hint">· {}</span></h3>{}{kept}<form method="post" action="/me/submissions/delete" class="inline"><input type="hidden" name="submission" value="{}"><button type="submit" class="secondary">{}</button></form></li>"#,
                escape(&form_title(words, text(submission, "form"))),
                escape(&when(&submission["received_at"])),
                submission_fields(words, submission),
                escape(text(submission, "submission_id")),
                escape(&t!("center-sent-delete")),
            )
        })
        .collect();
    let body = if items.is_empty() {
        format!("<p>{}</p>", escape(&t!("center-sent-none")))
    } else {
        format!("<p>{}</p><ul>{items}</ul>", escape(&t!("center-sent-intro")))
    };
    format!(r#"<section id="sent"><h2>{}</h2>{body}</section>"#, escape(&t!("center-sent-heading")))
}

/// A payment's state, as the selector of `center-payment-summary`.
fn payment_state(status: &str) -> &'static str {
    match status {
        "succeeded" | "paid" => "paid",
        "active" => "active",
        "trialing" => "trialing",
        "processing" => "processing",
        "requires_action" => "action",
        "requires_payment_method" | "requires_confirmation" | "started" | "pending" => "unpaid",
        "past_due" | "unpaid" | "payment_failed" | "failed" => "failed",
        "canceled" | "cancelled" => "cancelled",
        "refunded" => "refunded",
        "disputed" => "disputed",
        "incomplete" | "incomplete_expired" => "incomplete",
        _ => "other",
    }
}

fn payments(words: &Words<'_>, data: &Value) -> String {
    let items: String = data["payments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|payment| {
            let kind = text(payment, "kind");
            let title = item_title(words, kind, text(payment, "item"));
            let amount = payment["amount"].as_i64().map(|minor| money(minor, text(payment, "currency")));
            let interval = match kind {
                "plan" => words.payments.plans.get(text(payment, "item")).map(|plan| plan.interval.as_str()),
                _ => None,
            };
            let price = amount
                .map(|price| match interval {
                    Some(interval) => per_interval(price, interval),
                    None => price,
                })
                .unwrap_or_default();
            let summary =
                t!("center-payment-summary", price = price, state = payment_state(text(payment, "status")));
            let record = t!(
                "center-payment-record",
                started = day(&payment["started_at"]),
                kept = day(&payment["retained_until"])
            );
            format!(
                "<li><strong>{}</strong>: {} <span class=\"hint\">{}</span></li>",
                escape(&title),
                escape(&summary),
                escape(&record),
            )
        })
        .collect();
    let body = if items.is_empty() {
        format!("<p>{}</p>", escape(&t!("center-payments-none")))
    } else {
        let write_to_us = format!(
            "<a href=\"mailto:{}\">{}</a>",
            escape(text(data, "data_protection_officer")),
            escape(&t!("center-payments-write-to-us"))
        );
        format!(
            "<ul>{items}</ul><p>{}</p>",
            marked_up(&t!("center-payments-card", link = SLOT), &[(SLOT, write_to_us)])
        )
    };
    format!(r#"<section id="payments"><h2>{}</h2>{body}</section>"#, escape(&t!("center-payments-heading")))
}

/// Where their data went: each destination by who it is, what it got (the fields by their
/// labels), and when (or that it is on its way).
fn shared(data: &Value) -> String {
    let items: String = data["shared_with"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            let what = match entry["event"].as_str() {
                Some("payment.succeeded") => t!("center-shared-what-payment"),
                Some("cv.verified") => t!("center-shared-what-cv"),
                _ => t!("center-shared-what-submission"),
            };
            let fields: Vec<String> = entry["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(steward_core::domain::fields::label)
                .collect();
            let destination = text(entry, "description");
            // What it received: the fields by their labels, when the event carried any.
            let what = if fields.is_empty() { what } else { format!("{what} ({})", fields.join(", ")) };
            let line = if entry["delivered"].as_bool().unwrap_or(false) {
                t!("center-shared-entry", destination = destination, what = what, when = when(&entry["at"]))
            } else {
                t!("center-shared-owed", destination = destination, what = what)
            };
            format!("<li>{}</li>", escape(&line))
        })
        .collect();
    let list = if items.is_empty() {
        format!("<p>{}</p>", escape(&t!("center-shared-none")))
    } else {
        format!("<ul>{items}</ul>")
    };
    format!(
        r#"<section id="shared"><h2>{}</h2><p>{}</p>{list}</section>"#,
        escape(&t!("center-shared-heading")),
        escape(&t!("center-shared-explain")),
    )
}

fn files(data: &Value) -> String {
    let items: String = data["submissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|submission| submission["cv"].as_object().map(|cv| (submission, cv)))
        .map(|(submission, cv)| {
            let name = cv.get("file_name").and_then(Value::as_str).map_or_else(
                || t!("center-file-your-cv"),
                steward_core::domain::careers::file_name_for_display,
            );
            // The reason is kept as it was written, in the language the applicant used.
            let (state, reason) = match cv.get("status").and_then(Value::as_str) {
                Some("verified") => ("verified", String::new()),
                Some("rejected") => (
                    "rejected",
                    cv.get("reason")
                        .and_then(Value::as_str)
                        .map_or_else(|| t!("center-file-reason-unknown"), str::to_owned),
                ),
                _ => ("waiting", String::new()),
            };
            let state = t!("center-file-state", state = state, reason = reason);
            let record = t!(
                "center-file-record",
                uploaded = cv.get("uploaded_at").map(when).unwrap_or_default(),
                kept = day(&submission["retained_until"])
            );
            format!(
                "<li><strong>{}</strong>: {} <span class=\"hint\">{}</span></li>",
                escape(&name),
                escape(&state),
                escape(&record),
            )
        })
        .collect();
    let body = if items.is_empty() {
        format!("<p>{}</p>", escape(&t!("center-files-none")))
    } else {
        format!("<ul>{items}</ul><p>{}</p>", escape(&t!("center-files-deleted-with-application")))
    };
    format!(r#"<section id="files"><h2>{}</h2>{body}</section>"#, escape(&t!("center-files-heading")))
}

fn requests(words: &Words<'_>, data: &Value) -> String {
    let mut items: Vec<String> = data["pending_requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|request| {
            let address = text(request, "address");
            let until = when(&request["retained_until"]);
            let kind = text(request, "request");
            let line = match kind {
                "email_change" => t!("center-request-email-change", address = address, until = until),
                "email_change_undo" => t!("center-request-email-change-undo", address = address, until = until),
                "export" => t!("center-request-export", address = address, until = until),
                // A kind this page does not know yet is in the export, never shown as another.
                _ => return None,
            };
            // Anything set going in the person's name can be called off here, but an old
            // address's way back: it guards against whoever holds a session.
            let cancel = if request["cancellable"] != true {
                String::new()
            } else {
                format!(
                    r#" <form method="post" action="/me/requests/cancel" class="inline"><input type="hidden" name="request" value="{}"><input type="hidden" name="id" value="{}"><button type="submit" class="secondary">{}</button></form>"#,
                    escape(kind),
                    escape(text(request, "request_id")),
                    escape(&t!("center-request-cancel")),
                )
            };
            Some(format!("<li>{}{cancel}</li>", escape(&line)))
        })
        .collect();
    items.extend(data["export_links"].as_array().into_iter().flatten().map(|link| {
        let line = t!(
            "center-export-link",
            format = text(link, "format").to_ascii_uppercase(),
            address = text(link, "address"),
            until = when(&link["works_until"])
        );
        format!(
            r#"<li>{} <form method="post" action="/me/export/revoke" class="inline"><input type="hidden" name="link" value="{}"><button type="submit" class="secondary">{}</button></form></li>"#,
            escape(&line),
            escape(text(link, "link_id")),
            escape(&t!("center-export-link-revoke")),
        )
    }));
    let body = if items.is_empty() {
        format!("<p>{}</p>", escape(&t!("center-requests-none")))
    } else {
        format!("<ul>{}</ul>", items.concat())
    };
    let history = history_list(words, &data["profile_history"], &t!("center-details-history-heading"));
    format!(
        r#"<section id="requests"><h2>{}</h2>{body}{history}</section>"#,
        escape(&t!("center-requests-heading"))
    )
}

fn everything(data: &Value) -> String {
    let shortened = if data["abbreviated"].is_object() {
        format!("<p>{}</p>", escape(&t!("center-everything-shortened")))
    } else {
        String::new()
    };
    format!(
        r#"<section id="everything"><h2>{}</h2><p>{}</p>{shortened}<p><a href="/me/export?format=json">{}</a> · <a href="/me/export?format=csv">{}</a> · <a href="/me/consents">{}</a></p></section>"#,
        escape(&t!("center-everything-heading")),
        escape(&t!("center-everything-evidence")),
        escape(&t!("center-everything-json")),
        escape(&t!("center-everything-csv")),
        escape(&t!("center-everything-receipts")),
    )
}

/// The fields the correction form shows (`name` is the profile's `full_name`).
const CORRECTABLE: [&str; 7] = ["name", "email", "phone", "job_title", "company", "country", "state"];

/// A labelled input; a problem with it is shown right after it and tied to it for screen readers.
fn input(
    name: &str,
    value: &str,
    kind: &str,
    autocomplete: &str,
    hint: &str,
    errors: &[FieldError],
) -> String {
    let label = fields::label(name);
    let error = errors.iter().find(|e| e.field == name);
    let (invalid, message) = match error {
        Some(error) => (
            format!(r#" aria-invalid="true" aria-describedby="f-{name}-error""#),
            format!(
                r#"<p class="field-error" id="f-{name}-error">{}</p>"#,
                escape(&t!("center-field-error", label = label.as_str(), message = error.message.as_str()))
            ),
        ),
        None => (String::new(), String::new()),
    };
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!(r#" <span class="hint">{}</span>"#, escape(hint))
    };
    format!(
        r#"<label for="f-{name}">{label}{hint}</label><input id="f-{name}" name="{name}" type="{kind}" value="{value}" autocomplete="{autocomplete}"{invalid}>{message}"#,
        label = escape(&label),
        value = escape(value),
    )
}

fn rights(data: &Value, typed: Option<&FormInput>, errors: &[FieldError]) -> String {
    let profile = &data["profile"];
    let value = |name: &str| -> String {
        match typed.and_then(|t| t.values.get(name)) {
            Some(values) => values.first().cloned().unwrap_or_default(),
            None => {
                let stored = if name == "name" { "full_name" } else { name };
                profile[stored].as_str().unwrap_or_default().to_owned()
            }
        }
    };
    let correct = format!(
        r#"<section id="correct"><h3>{}</h3><form method="post" action="/me"><input type="hidden" name="_method" value="PATCH">{}{}{}{}{}{}{}<p>{}</p><button type="submit">{}</button></form></section>"#,
        escape(&t!("center-correct-heading")),
        input("name", &value("name"), "text", "name", "", errors),
        input("email", &value("email"), "email", "email", "", errors),
        input("phone", &value("phone"), "tel", "tel", &t!("center-hint-phone"), errors),
        input("job_title", &value("job_title"), "text", "organization-title", "", errors),
        input("company", &value("company"), "text", "organization", "", errors),
        input("country", &value("country"), "text", "country", &t!("center-hint-country"), errors),
        input("state", &value("state"), "text", "off", &t!("center-hint-state"), errors),
        escape(&t!("center-correct-explain")),
        escape(&t!("center-correct-save")),
    );
    let send_copy = format!(
        r#"<section><h3>{}</h3><form method="post" action="/me/export"><label for="f-to">{} <span class="hint">{}</span></label><input id="f-to" name="to" type="email" autocomplete="off" required><label for="f-format">{}</label><select id="f-format" name="format"><option value="json">JSON</option><option value="csv">CSV</option></select><button type="submit" class="secondary">{}</button></form></section>"#,
        escape(&t!("center-send-copy-heading")),
        escape(&t!("center-send-copy-to")),
        escape(&t!("center-send-copy-to-hint")),
        escape(&t!("center-send-copy-format")),
        escape(&t!("center-send-copy-button")),
    );
    let limit_form = |path: &str, on: bool, set_label: &str, lift_label: &str, explain: &str| {
        let (lift, label) = if on { ("true", lift_label) } else { ("false", set_label) };
        format!(
            r#"<form method="post" action="{path}"><input type="hidden" name="lift" value="{lift}"><p>{}</p><button type="submit" class="secondary">{}</button></form>"#,
            escape(explain),
            escape(label)
        )
    };
    let limits = format!(
        "<section><h3>{}</h3>{}{}</section>",
        escape(&t!("center-limit-heading")),
        limit_form(
            "/me/restrict",
            !profile["restricted"].is_null(),
            &t!("center-restrict-set"),
            &t!("center-restrict-lift"),
            &t!("center-restrict-explain"),
        ),
        limit_form(
            "/me/object",
            !profile["objected"].is_null(),
            &t!("center-object-set"),
            &t!("center-object-lift"),
            &t!("center-object-explain"),
        ),
    );
    let delete = format!(
        r#"<section><h3>{}</h3><p>{}</p><p><a href="/me/delete">{}</a></p></section>"#,
        escape(&t!("center-delete-heading")),
        escape(&t!("center-delete-explain")),
        escape(&t!("center-delete-link")),
    );
    format!(
        r#"<section id="rights"><h2>{}</h2>{correct}{send_copy}{limits}{delete}</section>"#,
        escape(&t!("center-rights-heading"))
    )
}

fn responsible(data: &Value) -> String {
    let recipients: String = data["recipients"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|r| format!("<li>{}</li>", escape(&recipient_words(r))))
        .collect();
    let controller = format!("<strong>{}</strong>", escape(text(data, "data_controller")));
    let dpo = escape(text(data, "data_protection_officer"));
    let dpo = format!("<a href=\"mailto:{dpo}\">{dpo}</a>");
    let who = marked_up(
        &t!("center-responsible-controller", controller = SLOT, officer = SLOT_2),
        &[(SLOT, controller), (SLOT_2, dpo)],
    );
    let authority = data["supervisory_authority"]
        .as_str()
        .map(authority_words)
        .map(|a| format!("<p>{}</p>", escape(&t!("center-responsible-authority", authority = a))))
        .unwrap_or_default();
    format!(
        "<section><h2>{}</h2><p>{who}</p>{authority}<h3>{}</h3><ul>{recipients}</ul></section>",
        escape(&t!("center-responsible-heading")),
        escape(&t!("center-recipients-heading")),
    )
}

/// A category of recipients the policy names, in the request's language.
fn recipient_words(english: &str) -> String {
    match access::RECIPIENTS.iter().position(|known| *known == english) {
        Some(at) => Lang::current().text(&format!("center-recipient-{}", at + 1), None),
        None => english.to_owned(),
    }
}

/// The supervisory authority the policy names, in the request's language.
fn authority_words(english: &str) -> String {
    if access::supervisory_authority("WSO2 UK Limited") == Some(english) {
        t!("center-authority-uk")
    } else {
        english.to_owned()
    }
}

/// Signing out, here or on every device (a session opened elsewhere, or forgotten on a shared
/// computer).
fn sign_out() -> String {
    format!(
        r#"<form method="post" action="/me/sign-out" class="inline"><button type="submit" class="secondary">{}</button> <button type="submit" name="everywhere" value="yes" class="secondary">{}</button></form>"#,
        escape(&t!("center-sign-out")),
        escape(&t!("center-sign-out-everywhere")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_core::config::Config;

    fn catalogues() -> (Catalogue, PaymentCatalogue) {
        let config = Config::from_lookup(|name| {
            let value = match name {
                "TABLE_NAME" => "steward-test",
                "ALLOWED_ORIGINS" => "https://www.example.com",
                "SITE_URL" => "https://www.example.com",
                "POLICY_VERSION" => "2018-03-23",
                "HASH_KEY" => "0123456789abcdef0123456789abcdef",
                "PUBLIC_API_URL" => "https://api.example.com",
                _ => return None,
            };
            Some(value.to_owned())
        })
        .unwrap();
        (
            Catalogue::load(steward_core::domain::forms::catalogue::BUILT_IN, &config).unwrap(),
            PaymentCatalogue::load(steward_core::domain::payments::BUILT_IN).unwrap(),
        )
    }

    /// What `GET /me` holds for someone who asked a question, subscribed, registered and paid
    /// for an event, applied with a CV and asked to change their address.
    fn data() -> Value {
        serde_json::json!({
            "profile": {
                "email": "zoe@example.com", "full_name": "<script>x</script>", "country": "GB", "state": "GB-LND",
                "phone": "+442079460958", "profile_id": "a98e932e820848118a428ec5a1efcffd",
                "marketing_topics": ["integration"], "pending_topics": ["identity"],
                "withdrawn_consents": ["contest"], "created_at": "2026-12-07T02:33:03.724Z",
                "retained_until": "2033-12-05T02:33:14Z", "retain_until_contact-us": 1828146783,
                "provenance": {"full_name": {"at": "2026-12-07T02:33:03.724Z", "form": "contact-us", "source": "form", "submission_id": "24fb"}},
            },
            "submissions": [
                {"form": "newsletter", "received_at": "2026-12-07T02:33:03.855Z", "submission_id": "e0ff",
                 "retained_until": "2028-12-06T02:33:03Z", "expires_at": 1859682783,
                 "request_fingerprint": "59c52b4d05ad4df9d6dc9bd7f1a7a8729d0ef708f03f2b459f903c1b5ec3bc30",
                 "browser": {"source_ip": "192.0.2.7", "user_agent": "curl/7.88.1"},
                 "consent": {"given_at": "2026-12-07T02:33:03.855Z", "notice_sha256": "32c8e6dd5862c68b", "purposes": [{"basis": "consent", "id": "marketing"}]},
                 "fields": {"email": "zoe@example.com", "interests": ["integration"]}},
                {"form": "survey", "received_at": "2026-12-06T10:00:00Z", "submission_id": "s1",
                 "consent": {"given_at": "2026-12-06T10:00:00Z", "purposes": [{"basis": "consent", "id": "contest"}]},
                 "fields": {"rating": "5"}},
                {"form": "event-registration", "received_at": "2026-12-07T02:33:14.059Z", "submission_id": "3dc8",
                 "consent": {"purposes": [{"basis": "contract", "id": "event-registration"}]},
                 "fields": {"event": "wso2con-2027", "country": "GB", "state": "GB-LND", "job_title": "CTO"}},
                {"form": "careers", "received_at": "2026-12-07T03:00:00Z", "submission_id": "c1",
                 "cv": {"key": "cvs/c1/abc.pdf", "file_name": "cv.pdf", "status": "rejected", "reason": "it is not a PDF, Word or RTF document", "uploaded_at": 1796610795, "sha256": "deadbeef"},
                 "fields": {"position": "Rust engineer"}},
            ],
            "payments": [{"amount": 49900, "currency": "usd", "item": "wso2con-2027", "kind": "event",
                          "payment_intent_id": "pi_d4f4c07523c4d234cde10452", "status": "succeeded",
                          "stripe_customer_id": "cus_bd592a12ba2c122570211c13", "expires_at": 2017362794,
                          "started_at": "2026-12-07T02:33:14.758Z", "retained_until": "2033-12-05T02:33:14Z"},
                         {"amount": 2900, "currency": "usd", "item": "cloud-starter", "kind": "plan", "status": "active"}],
            "billing": [{"stripe_customer_id": "cus_bd592a12ba2c122570211c13"}],
            "pending_requests": [
                {"request": "email_change", "request_id": "n1", "cancellable": true, "address": "new@example.org", "retained_until": "2026-12-08T02:33:14Z"},
                {"request": "email_change_undo", "request_id": "n2", "cancellable": false, "address": "old@example.org", "retained_until": "2026-12-14T02:33:14Z"},
            ],
            "export_links": [],
            "profile_history": [{"at": "2026-12-07T04:00:00Z", "change": "corrected full_name, phone"}],
            "mail_preference_history": [],
            "data_controller": "WSO2 UK Limited",
            "data_protection_officer": "dpo@wso2.com",
            "recipients": ["Stripe"],
        })
    }

    fn render(data: &Value, done: Option<&str>, typed: Option<&FormInput>, errors: &[FieldError]) -> String {
        let (forms, payments) = catalogues();
        page(&Words { organisation: "WSO2", forms: &forms, payments: &payments }, data, done, typed, errors)
    }

    #[test]
    fn the_center_reads_as_a_persons_page_in_words_grouped_by_meaning() {
        let page = render(&data(), None, None, &[]);
        for heading in [
            "Who you are",
            "Your consents and mail",
            "What you sent us",
            "Your payments",
            "Your files",
            "Requests under way",
            "Everything, exactly as we store it",
        ] {
            assert!(page.contains(&format!(">{heading}</h2>")), "{heading}");
        }
        for said in [
            "You are signed in as <strong>zoe@example.com</strong>",
            "United Kingdom",
            "From the Contact us form, 7 December 2026",
            "We keep these details until 5 December 2033",
            "You receive our mail about: Integration.",
            "Waiting for you to confirm from your inbox: Identity and access management.",
            "Subscribe to our newsletter",
            "7 December 2026 at 02:33 UTC",
            "WSO2Con 2027, 14–16 September 2027",
            "US$499.00, paid",
            "a month",
            "cv.pdf</strong>: refused: it is not a PDF, Word or RTF document",
            "Changing your address to new@example.org",
            "You corrected: Name, Phone",
            "Kept until 6 December 2028",
            "Withdraw this consent",
            "You withdrew this consent.",
            r#"href="/me/export?format=json""#,
        ] {
            assert!(page.contains(said), "the page says {said}");
        }
        // What only a database needs is left to the export.
        for raw in [
            "1828146783",
            "1796610795",
            "49900",
            "cus_",
            "pi_",
            "cvs/c1",
            "59c52b4d",
            "notice_sha256",
            "a98e932e",
            "192.0.2.7",
            "retain_until",
            "T02:33",
            "usd",
        ] {
            assert!(!page.contains(raw), "the page shows no {raw}");
        }
    }

    #[test]
    fn the_center_escapes_what_it_shows_and_offers_every_right_without_script() {
        let page = render(&data(), Some("corrected"), None, &[]);
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
            r#"action="/me/submissions/delete""#,
            r#"action="/me/requests/cancel""#,
        ] {
            assert!(page.contains(action), "{action}");
        }
        assert!(page.contains(r#"href="/me/delete""#));
        assert!(page.contains(r#"<label for="f-name">"#) && page.contains(r#"id="f-name""#));
        assert!(page.contains(r#"role="status""#), "the notice is announced");
        assert!(page.contains(r#"name="purpose" value="marketing""#));
        assert!(!page.contains(r#"name="purpose" value="contest""#), "withdrawn already");
        assert!(!page.contains(r#"name="purpose" value="event-registration""#), "not a consent");
        assert!(page.contains("mailto:dpo@wso2.com"));
        assert!(
            page.contains(r#"name="request" value="email_change"><input type="hidden" name="id" value="n1""#)
        );
        assert!(
            !page.contains(r#"value="email_change_undo""#),
            "an old address's way back cannot be cancelled here"
        );
    }

    #[test]
    fn a_refused_correction_shows_each_error_beside_its_field_with_what_was_typed() {
        let mut typed = FormInput::default();
        typed.push("phone", "12<b>".into());
        let errors = vec![
            FieldError::new("phone", "invalid_phone", "is not a phone number"),
            FieldError::new("is_admin", "unknown_field", "is not a field you can correct"),
        ];
        let page = render(&data(), None, Some(&typed), &errors);
        assert!(page.contains(r#"value="12&lt;b&gt;""#), "the typed value, escaped");
        assert!(page.contains(r#"aria-invalid="true" aria-describedby="f-phone-error""#));
        assert!(page.contains(r#"<p class="field-error" id="f-phone-error">Phone is not a phone number"#));
        assert!(page.contains(r#"role="alert""#), "announced");
        assert!(page.contains("Is admin is not a field you can correct."), "named by its label");
    }

    #[test]
    fn an_empty_center_says_so_in_each_group() {
        let page = render(&serde_json::json!({"profile": {"email": "a@example.com"}}), None, None, &[]);
        for said in [
            "Nothing: you have sent us no form.",
            "Nothing: you have paid us nothing.",
            "Nothing: you have sent us no file.",
            "Nothing is under way.",
            "You receive no marketing mail from us.",
        ] {
            assert!(page.contains(said), "{said}");
        }
    }
}
