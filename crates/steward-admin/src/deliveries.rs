//! Deliveries to destinations: what was given up (dead letters), replaying it once the destination
//! is back, and the signing secret a webhook receiver verifies with.

use steward_core::domain::destinations::webhook::WebhookSecret;
use steward_core::domain::destinations::DeliveryStore;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::secret::SecretKey;
use steward_core::telemetry::error_chain;

use crate::context::{Context, Record};
use crate::Done;

/// The dead letters, oldest first.
pub async fn dead(context: &Context, json: bool) -> Result<Done, String> {
    let store = context.store(false).await?;
    let mut dead = store.dead_letters(10_000).await.map_err(|e| error_chain(&e))?;
    dead.sort_by(|a, b| a.dead_since.cmp(&b.dead_since));
    context.audit(Record::new("deliveries-dead", "ok").count("dead", dead.len() as u64)).await?;
    if json {
        return Ok(Done::ok(serde_json::to_string_pretty(&dead).unwrap_or_default()));
    }
    let mut lines: Vec<String> = dead
        .iter()
        .map(|d| {
            format!(
                "{}  {}  {}  {} attempts  {}  {}",
                d.dead_since,
                d.target,
                d.event_type.as_str(),
                d.attempts,
                d.id,
                d.last_error
            )
        })
        .collect();
    lines.push(format!("{} dead letters", dead.len()));
    Ok(Done::ok(lines.join("\n")))
}

/// Puts dead letters back in the queue (one by id, or every one): the dispatcher delivers them
/// at its next run, with the same event ids.
pub async fn replay(context: &Context, id: Option<&str>, all: bool) -> Result<Done, String> {
    let store = context.store(false).await?;
    let ids: Vec<String> = match (id, all) {
        (Some(id), false) => vec![id.to_owned()],
        (None, true) => {
            store.dead_letters(10_000).await.map_err(|e| error_chain(&e))?.into_iter().map(|d| d.id).collect()
        }
        _ => return Err("give --id <dead letter> or --all".into()),
    };
    let mut replayed = 0u64;
    for (n, id) in ids.iter().enumerate() {
        if store.replay(id, SystemClock.now()).await.map_err(|e| error_chain(&e))? {
            replayed += 1;
        }
        eprint!("\rreplayed {replayed} of {}", n + 1);
    }
    eprintln!();
    context.audit(Record::new("deliveries-replay", "ok").count("replayed", replayed)).await?;
    if id.is_some() && replayed == 0 {
        return Err(format!("no dead letter {}", ids[0]));
    }
    Ok(Done::ok(format!("{replayed} deliveries queued again")))
}

/// The Standard Webhooks secret (`whsec_…`) a destination's receiver verifies with.
pub async fn secret(context: &Context, destination: &str) -> Result<Done, String> {
    let known = steward_core::domain::forms::catalogue::built_in_destinations();
    if !known.contains_key(destination) {
        let ids: Vec<&str> = known.keys().map(String::as_str).collect();
        return Err(format!(
            "{destination:?} is not a destination of the catalogue; one of: {}",
            ids.join(", ")
        ));
    }
    let key = context.webhook_signing_key().await?;
    context.audit(Record::new("deliveries-secret", "ok").subject(Some(destination))).await?;
    Ok(Done::ok(WebhookSecret::derive(&SecretKey::new(key.into_bytes()), destination).reveal()))
}
