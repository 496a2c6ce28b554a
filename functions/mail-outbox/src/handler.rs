//! One scheduled run: send what is due, at the configured pace, and say how it went.

use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::ses::sender::Ses;
use steward_core::domain::mail::outbox::{dispatch, Pace, Sender};
use steward_core::domain::mail::Templates;
use steward_core::domain::ports::Clock;

pub struct App {
    pub store: DynamoStore,
    pub ses: Ses,
    pub templates: Templates,
    pub from: Sender,
    pub pace: Pace,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

pub async fn handle(app: &App) -> Result<serde_json::Value, lambda_runtime::Error> {
    let report =
        dispatch(&app.store, &app.ses, &app.templates, &app.from, app.clock.as_ref(), app.pace).await?;
    tracing::info!(
        sent = report.sent,
        skipped = report.skipped,
        deferred = report.deferred,
        "outbox dispatched"
    );
    Ok(serde_json::to_value(report)?)
}
