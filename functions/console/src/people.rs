//! The privacy team's view of people: found by address, everything held (as the person's own
//! export has it), their history, where their data went, and who in the console looked at
//! them; and the audit log itself. Every view is recorded under the staff member's name.

use serde_json::Value;
use steward_core::domain::fields::Email;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::privacy::access::PrivacyStore as _;
use steward_core::domain::privacy::audit::{months_between, AuditEntry, AuditStore as _};
use steward_core::domain::privacy::export::{everything_held, timeline};
use steward_core::domain::privacy::requests::RequestStore as _;
use steward_core::domain::staff::{Group, StaffMember};
use steward_core::http::page::escape;
use steward_core::http::respond;

use crate::handler::{audit, require, App, ConsoleError, Outcome};
use crate::pages::{page, table, text, Page};

fn search(email: &str, error: Option<&str>) -> String {
    let alert = error
        .map(|e| format!(r#"<div role="alert" class="alert"><p>{}</p></div>"#, escape(e)))
        .unwrap_or_default();
    format!(
        r#"{alert}<form method="get" action="/console/people"><label for="email">Their address</label><input type="email" id="email" name="email" value="{}" required><button type="submit">Find</button></form>"#,
        escape(email)
    )
}

pub async fn find(app: &App, staff: &StaffMember, email: Option<&str>) -> Outcome {
    require(staff, Group::Privacy)?;
    let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(page(Page { title: "Find a person", staff: Some(staff), body: &search("", None) }));
    };
    let Ok(address) = Email::parse("email", email) else {
        let body = search(email, Some("That is not an address."));
        return Ok(page(Page { title: "Find a person", staff: Some(staff), body: &body }));
    };
    let found = app.store.profile_by_email(&address).await?;
    audit(app, staff, "find-person", found.as_ref().map(|f| f.profile_id.as_str()), &[]).await?;
    match found {
        Some(known) => Ok(respond::see_other(&format!("/console/people/{}", known.profile_id))),
        None => {
            let body = search(email, Some("Steward holds nothing under that address."));
            Ok(page(Page { title: "Find a person", staff: Some(staff), body: &body }))
        }
    }
}

/// A value of the export as one line of text (a list joined with commas).
fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(as_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Who in the console looked at or acted on this person over the last twelve months: what named
/// them (their page, their CV, a request of theirs) and every listing that included them (a form's
/// inbox or CSV after they submitted it, their event's attendees, the applicants), each with what
/// it was. A listing searched for someone else counts too: it is what could have shown them.
async fn viewers(
    app: &App,
    profile: &ProfileId,
    held: &Value,
) -> Result<Vec<(AuditEntry, String)>, ConsoleError> {
    let submissions: Vec<(String, String, String, Option<String>)> = held["submissions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                as_text(&s["submission_id"]),
                as_text(&s["form"]),
                as_text(&s["received_at"]),
                s["fields"]["event"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let after = |at: &str, since: &str| {
        steward_core::time::Timestamp::parse_rfc3339(at)
            >= steward_core::time::Timestamp::parse_rfc3339(since)
    };
    let theirs = |entry: &AuditEntry| -> Option<String> {
        let subject = entry.subject.as_deref()?;
        if subject == profile.as_str() {
            return Some(entry.action.clone());
        }
        let action = entry.action.as_str();
        submissions.iter().find_map(|(id, form, received, event)| {
            let listed = match action {
                "view-submissions" | "download-submissions" => subject == form,
                "view-attendees" | "download-attendees" => {
                    event.as_deref() == Some(subject) && form == "event-registration"
                }
                "download-cv" => subject == id,
                _ => false,
            };
            (listed && after(&entry.at, received)).then(|| format!("{action} ({subject})"))
        })
    };
    // Their requests in the register (by the profile they were verified to be, or the address
    // they wrote from): who opened or acted on one looked at them.
    let address = held["profile"]["email"].as_str().unwrap_or_default().to_lowercase();
    let requests: Vec<String> = app
        .store
        .requests()
        .await?
        .into_iter()
        .filter(|r| {
            r.profile.as_ref() == Some(profile)
                || (!address.is_empty() && r.email.as_deref().map(str::to_lowercase) == Some(address.clone()))
        })
        .map(|r| r.id)
        .collect();
    let about_request = |entry: &AuditEntry| -> Option<String> {
        let subject = entry.subject.as_deref()?;
        let action = entry.action.as_str();
        let on_request =
            action == "view-request" || action == "enter-request" || action.starts_with("request-");
        (on_request && requests.iter().any(|id| id == subject)).then(|| format!("{action} ({subject})"))
    };
    let applied = submissions
        .iter()
        .filter(|(_, form, _, _)| form == "careers")
        .map(|(_, _, received, _)| received.clone())
        .min();
    let now = app.clock.timestamp();
    let year_ago = steward_core::time::Timestamp::from_epoch_seconds(now.epoch_seconds() - 365 * 86_400);
    let mut seen = Vec::new();
    for month in months_between(&year_ago.rfc3339(), &now.rfc3339()) {
        for entry in app.store.audit_month(&month).await? {
            let what = theirs(&entry).or_else(|| about_request(&entry)).or_else(|| {
                let applicants = matches!(entry.action.as_str(), "view-applicants" | "download-applicants");
                applied
                    .as_deref()
                    .filter(|since| applicants && after(&entry.at, since))
                    .map(|_| entry.action.clone())
            });
            if let Some(what) = what {
                if matches!(entry.actor, steward_core::domain::privacy::audit::Actor::Staff(_)) {
                    seen.push((entry, what));
                }
            }
        }
    }
    seen.reverse();
    Ok(seen)
}

pub async fn person(app: &App, staff: &StaffMember, profile: &str) -> Outcome {
    require(staff, Group::Privacy)?;
    let profile = ProfileId::parse("profile", profile).map_err(|_| ConsoleError::NotFound)?;
    // The record of this view goes first: it is among those the page shows.
    audit(app, staff, "view-person", Some(profile.as_str()), &[]).await?;
    let held = everything_held(&app.store, &profile).await?.ok_or(ConsoleError::NotFound)?;
    let who = &held["profile"];
    let mut facts = String::new();
    if let Some(fields) = who.as_object() {
        for (name, value) in fields {
            facts.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape(name), escape(&as_text(value))));
        }
    }
    let submissions: Vec<Vec<_>> = held["submissions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            vec![
                text(as_text(&s["received_at"])),
                text(as_text(&s["form"])),
                text(as_text(&s["submission_id"])),
                text(
                    s["fields"]
                        .as_object()
                        .map(|f| {
                            f.iter()
                                .map(|(k, v)| format!("{k}: {}", as_text(v)))
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    let history: Vec<Vec<_>> =
        timeline(&held).into_iter().map(|(at, kind, what)| vec![text(at), text(kind), text(what)]).collect();
    let shared: Vec<Vec<_>> = held["shared_with"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| vec![text(as_text(&s["description"])), text(as_text(&s["fields"])), text(as_text(&s["at"]))])
        .collect();
    let looked: Vec<Vec<_>> = viewers(app, &profile, &held)
        .await?
        .into_iter()
        .map(|(e, what)| vec![text(e.at), text(e.actor.label()), text(what)])
        .collect();
    let body = format!(
        r#"<p><a href="/console/requests#new">Enter a request from this person</a></p><h2>Profile</h2><dl>{facts}</dl>{}{}{}{}<details><summary>Everything held, as their export has it</summary><pre>{}</pre></details>"#,
        table("Submissions", &["Received", "Form", "Id", "Fields"], &submissions),
        table("History", &["When", "What", "Detail"], &history),
        table("Where their data went", &["Recipient", "What it got", "When"], &shared),
        table("Who looked at this person in the console", &["When", "Who", "What"], &looked),
        escape(&serde_json::to_string_pretty(&held).unwrap_or_default())
    );
    Ok(page(Page { title: &format!("Person {profile}"), staff: Some(staff), body: &body }))
}

pub async fn audit_log(app: &App, staff: &StaffMember, month: Option<&str>) -> Outcome {
    require(staff, Group::Privacy)?;
    let this_month = app.clock.timestamp().rfc3339()[..7].to_owned();
    let month =
        month.filter(|m| months_between(m, m).len() == 1 && m.len() == 7).unwrap_or(&this_month).to_owned();
    audit(app, staff, "view-audit-log", Some(&month), &[]).await?;
    let mut entries = app.store.audit_month(&month).await?;
    entries.reverse();
    let rows: Vec<Vec<_>> = entries
        .into_iter()
        .map(|e| {
            let counts: Vec<String> = e.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            vec![
                text(e.at),
                text(e.actor.label()),
                text(e.action),
                text(e.subject.unwrap_or_default()),
                text(e.outcome),
                text(counts.join(", ")),
            ]
        })
        .collect();
    let body = format!(
        r#"<form method="get" action="/console/audit"><label for="month">Month (yyyy-mm)</label><input type="text" id="month" name="month" value="{}" pattern="[0-9]{{4}}-[0-9]{{2}}"><button type="submit">Show</button></form>{}"#,
        escape(&month),
        table(
            &format!("The audit log of {month}, newest first"),
            &["When", "Who", "What", "Subject", "Outcome", "Counts"],
            &rows
        )
    );
    Ok(page(Page { title: "Audit log", staff: Some(staff), body: &body }))
}
