//! One scheduled run: deliver what is due to each destination, and say how it went.

use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::eventbridge::EventBridgeBus;
use steward_core::adapters::stripe::provider::StripeProvider;
use steward_core::adapters::webhook::HttpWebhooks;
use steward_core::config::MailLinks;
use steward_core::domain::destinations::dispatch::{dispatch, Reach, RetrySchedule};
use steward_core::domain::forms::catalogue::Catalogue;
use steward_core::domain::ports::Clock;

pub struct App {
    pub store: DynamoStore,
    pub bus: EventBridgeBus,
    pub webhooks: HttpWebhooks,
    /// None until the deployment has a Stripe key: erasures owed there wait as dead letters.
    pub stripe: Option<StripeProvider>,
    pub catalogue: Catalogue,
    pub links: MailLinks,
    pub schedule: RetrySchedule,
    /// Deliveries a run takes at most (a run has a minute).
    pub batch: usize,
    pub clock: Arc<dyn Clock>,
}

pub async fn handle(app: &App) -> Result<serde_json::Value, lambda_runtime::Error> {
    let reach = Reach {
        bus: &app.bus,
        webhooks: &app.webhooks,
        stripe: &app.stripe,
        catalogue: &app.catalogue,
        links: &app.links,
    };
    let report = dispatch(&app.store, &reach, app.clock.as_ref(), &app.schedule, app.batch).await?;
    tracing::info!(
        delivered = report.delivered,
        deferred = report.deferred,
        dead = report.dead,
        unconfigured = report.unconfigured,
        "deliveries dispatched"
    );
    Ok(serde_json::to_value(report)?)
}
