//! One person's data, for requests that arrive by mail: find, history, export, erase; and the
//! audit log.
//!
//! Their audit records name the ticket, never the profile id: the payment records kept after an
//! erasure stay in the person's partition, and an id in a seven-year log would tie the ticket
//! (which names the person elsewhere) to them.

use std::io::Write;
use std::path::Path;

use serde_json::Value;
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::domain::fields::Email;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::privacy::access::PrivacyStore;
use steward_core::domain::privacy::audit::{months_between, Actor, AuditStore};
use steward_core::domain::privacy::erasure::{erase as erase_person, ErasureReason};
use steward_core::domain::privacy::export::export_csv;
use steward_core::telemetry::error_chain;

use crate::context::{checked_ticket, now, parse_time, rfc3339, Context, Record};
use crate::{Done, Format, Who};

/// The profile id of the person named, or `None` when Steward holds nothing about them.
async fn profile_id(store: &DynamoStore, who: &Who) -> Result<Option<ProfileId>, String> {
    match (&who.email, &who.profile) {
        (Some(email), _) => {
            let email = Email::parse("email", email).map_err(|e| format!("--email: {}", e.message))?;
            let known = store.profile_by_email(&email).await.map_err(|e| error_chain(&e))?;
            Ok(known.map(|known| known.profile_id))
        }
        (None, Some(profile)) => {
            ProfileId::parse("profile", profile).map(Some).map_err(|e| format!("--profile: {}", e.message))
        }
        (None, None) => Err("give --email or --profile".into()),
    }
}

/// Everything held, as the person's own export has it: with where their data went.
async fn everything(store: &DynamoStore, profile_id: &ProfileId) -> Result<Option<Value>, String> {
    steward_core::domain::privacy::export::everything_held(store, profile_id)
        .await
        .map_err(|e| error_chain(&e))
}

fn count(held: &Value, section: &str) -> u64 {
    held[section].as_array().map_or(0, |items| items.len() as u64)
}

fn listed(value: &Value) -> String {
    match value.as_array() {
        Some(items) if !items.is_empty() => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
        }
        _ => "-".to_owned(),
    }
}

fn summary(profile_id: &str, held: &Value) -> String {
    let profile = &held["profile"];
    let text = |name: &str| profile[name].as_str().unwrap_or("-").to_owned();
    let flag = |name: &str| match &profile[name] {
        Value::Null => "no".to_owned(),
        Value::Bool(on) => if *on { "yes" } else { "no" }.to_owned(),
        Value::String(at) => format!("since {at}"),
        other => other.to_string(),
    };
    [
        format!("profile      {profile_id}"),
        format!("email        {}", text("email")),
        format!("name         {}", text("full_name")),
        format!("created      {}  updated {}", text("created_at"), text("updated_at")),
        format!("topics       {} (pending: {})", listed(&profile["marketing_topics"]), listed(&profile["pending_topics"])),
        format!(
            "limits       restricted: {}, objected: {}, unsubscribed from all: {}, suppressed: {}",
            flag("restricted"),
            flag("objected"),
            flag("unsubscribed_all"),
            flag("suppressed")
        ),
        format!(
            "held         {} submissions, {} payments, {} mail preference changes, {} profile changes, {} pending requests",
            count(held, "submissions"),
            count(held, "payments"),
            count(held, "mail_preference_history"),
            count(held, "profile_history"),
            count(held, "pending_requests")
        ),
        format!("kept until   {}", text("retained_until")),
        format!("controller   {}", held["data_controller"].as_str().unwrap_or("-")),
    ]
    .join("\n")
}

pub async fn find(
    context: &Context,
    email: &str,
    json: bool,
    ticket: Option<String>,
) -> Result<Done, String> {
    let ticket = ticket.as_deref().map(checked_ticket).transpose()?;
    let store = context.store(true).await?;
    let who = Who { email: Some(email.to_owned()), profile: None };
    let found = match profile_id(&store, &who).await? {
        Some(id) => everything(&store, &id).await?.map(|held| (id, held)),
        None => None,
    };
    let record = Record::new("find", if found.is_some() { "ok" } else { "not-found" }).ticket(ticket);
    let Some((id, held)) = found else {
        context.audit(record).await?;
        return Err("no profile has that address".into());
    };
    context.audit(record).await?;
    Ok(Done::ok(if json {
        serde_json::to_string_pretty(&held).unwrap_or_default()
    } else {
        summary(&id, &held)
    }))
}

pub async fn history(
    context: &Context,
    who: &Who,
    json: bool,
    ticket: Option<String>,
) -> Result<Done, String> {
    let ticket = ticket.as_deref().map(checked_ticket).transpose()?;
    let store = context.store(who.email.is_some()).await?;
    let Some(id) = profile_id(&store, who).await? else {
        context.audit(Record::new("history", "not-found").ticket(ticket)).await?;
        return Err("no profile has that address".into());
    };
    let Some(held) = everything(&store, &id).await? else {
        context.audit(Record::new("history", "not-found").ticket(ticket)).await?;
        return Err(format!("no profile {id}"));
    };
    let events = steward_core::domain::privacy::export::timeline(&held);
    context.audit(Record::new("history", "ok").ticket(ticket).count("entries", events.len() as u64)).await?;
    if json {
        let entries: Vec<Value> = events
            .iter()
            .map(|(at, kind, what)| serde_json::json!({"at": at, "kind": kind, "what": what}))
            .collect();
        return Ok(Done::ok(serde_json::to_string_pretty(&entries).unwrap_or_default()));
    }
    let mut lines = vec![format!("profile {id}")];
    lines.extend(events.iter().map(|(at, kind, what)| format!("{at:<30} {kind:<11} {what}")));
    Ok(Done::ok(lines.join("\n")))
}

pub async fn export(
    context: &Context,
    who: &Who,
    ticket: &str,
    format: Format,
    out: Option<&Path>,
) -> Result<Done, String> {
    let ticket = checked_ticket(ticket)?;
    let store = context.store(who.email.is_some()).await?;
    let held = match profile_id(&store, who).await? {
        Some(id) => everything(&store, &id).await?.map(|held| (id, held)),
        None => None,
    };
    let Some((id, held)) = held else {
        context.audit(Record::new("export", "not-found").ticket(Some(ticket))).await?;
        return Err("Steward holds nothing about this person: answer that no data is held".into());
    };
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&held).unwrap_or_default() + "\n",
        Format::Csv => export_csv(&held),
    };
    if let Some(path) = out {
        // The export is personal data: readable by the operator only, and never over a file
        // left from before.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        file.write_all(text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let sections =
        ["submissions", "payments", "mail_preference_history", "profile_history", "pending_requests"];
    let mut record = Record::new("export", "ok").ticket(Some(ticket));
    for section in sections {
        record = record.count(section, count(&held, section));
    }
    if let Err(err) = context.audit(record).await {
        // Nothing leaves without its record.
        if let Some(path) = out {
            let _ = std::fs::remove_file(path);
        }
        return Err(err);
    }
    Ok(match out {
        Some(path) => Done::ok(format!(
            "exported profile {id} to {} ({} bytes); send it to the person over a channel they chose, then delete it",
            path.display(),
            text.len()
        )),
        None => Done::ok(text.trim_end().to_owned()),
    })
}

pub async fn erase(
    context: &Context,
    who: &Who,
    ticket: &str,
    yes: bool,
    no_mail: bool,
) -> Result<Done, String> {
    let ticket = checked_ticket(ticket)?;
    // Erasure also removes the person's rate counters, which are keyed by their address's hash.
    let store = context.store(true).await?;
    let Some(id) = profile_id(&store, who).await? else {
        context.audit(Record::new("erase", "not-found").ticket(Some(ticket))).await?;
        return Err("Steward holds nothing about this person: nothing to erase".into());
    };
    if !yes {
        let Some(held) = everything(&store, &id).await? else {
            context.audit(Record::new("erase", "not-found").ticket(Some(ticket))).await?;
            return Err(format!("no profile {id}: nothing to erase"));
        };
        context.audit(Record::new("erase", "previewed").ticket(Some(ticket))).await?;
        // Where the erasure reaches beyond the table: each destination that got their data, and
        // Stripe (a running subscription ends at once).
        let told: std::collections::BTreeSet<&str> = held["shared_with"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|shared| shared["description"].as_str())
            .collect();
        let mut beyond = String::new();
        if !told.is_empty() {
            let told: Vec<&str> = told.into_iter().collect();
            beyond.push_str(&format!("\nEach of these is told to delete what it got: {}.", told.join("; ")));
        }
        let running = held["payments"].as_array().into_iter().flatten().any(|payment| {
            payment.get("subscription_id").is_some()
                && payment["status"]
                    .as_str()
                    .and_then(steward_core::domain::payments::PaymentStatus::parse)
                    .is_some_and(|status| status.is_running())
        });
        if running || held["billing"].as_array().is_some_and(|b| !b.is_empty()) {
            beyond.push_str("\nAt Stripe, their customer is deleted");
            beyond.push_str(if running {
                ", and their running subscription cancelled at once."
            } else {
                "."
            });
        }
        return Ok(Done::ok(format!(
            "{}\n\nThis would delete the profile and everything above, their CVs, and strip the payment records \
             (kept for accounting law).{beyond}\nRun again with --yes to erase.",
            summary(&id, &held)
        )));
    }
    let links = if no_mail { None } else { Some(context.mail_links()?) };
    let cvs = CvBucket::new(context.s3.clone(), context.bucket()?);
    let erased = erase_person(&store, &cvs, links.as_ref(), &id, ErasureReason::Operator, now()).await;
    let report = match erased {
        Ok(report) => report,
        Err(err) => {
            context.audit(Record::new("erase", "failed").ticket(Some(ticket))).await?;
            return Err(format!("erasure stopped (run it again to finish): {}", error_chain(&err)));
        }
    };
    let Some(report) = report else {
        context.audit(Record::new("erase", "not-found").ticket(Some(ticket))).await?;
        return Err("nothing was held any more: erased already".into());
    };
    context
        .audit(
            Record::new("erase", "ok")
                .ticket(Some(ticket))
                .count("items_deleted", report.items_deleted as u64)
                .count("cv_versions_deleted", report.cv_versions_deleted as u64)
                .count("payments_retained", report.payments_retained as u64),
        )
        .await?;
    Ok(Done::ok(format!(
        "erased: {} items and {} CV versions deleted, {} payment records kept without anything identifying{}",
        report.items_deleted,
        report.cv_versions_deleted,
        report.payments_retained,
        if no_mail { "" } else { "; the person is told by mail" }
    )))
}

pub async fn audit(context: &Context, since: Option<&str>, json: bool) -> Result<Done, String> {
    let today = rfc3339(now());
    let since = match since {
        None => today[..7].to_owned(),
        Some(text) if text.len() == 7 && text.as_bytes()[4] == b'-' => text.to_owned(),
        Some(text) => rfc3339(parse_time(text, now())?),
    };
    let months = months_between(&since, &today);
    if months.is_empty() {
        return Err(format!("--since {since:?} is not a month (2026-11) or time before now"));
    }
    let store = context.store(false).await?;
    let mut entries = vec![];
    for month in &months {
        entries.extend(store.audit_month(month).await.map_err(|e| error_chain(&e))?);
    }
    entries.retain(|entry| entry.at.as_str() >= since.as_str());
    context.audit(Record::new("audit", "ok").count("entries", entries.len() as u64)).await?;
    let actor = |actor: &Actor| match actor {
        Actor::Operator(arn) if arn.is_empty() => "operator".to_owned(),
        other => other.label(),
    };
    if json {
        let rows: Vec<Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "at": e.at, "action": e.action, "actor": actor(&e.actor), "subject": e.subject,
                    "reference": e.reference, "outcome": e.outcome, "counts": e.counts,
                    "schema_version": e.schema_version,
                })
            })
            .collect();
        return Ok(Done::ok(serde_json::to_string_pretty(&rows).unwrap_or_default()));
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|e| {
            let counts: Vec<String> = e.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "{}  {:<14} {:<11} {}  {}  {}  {}",
                e.at,
                e.action,
                e.outcome,
                actor(&e.actor),
                e.subject.as_deref().unwrap_or("-"),
                e.reference.as_deref().unwrap_or("-"),
                counts.join(" ")
            )
        })
        .collect();
    Ok(Done::ok(if lines.is_empty() { "no audit records".to_owned() } else { lines.join("\n") }))
}
