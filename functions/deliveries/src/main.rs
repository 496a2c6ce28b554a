//! Wiring for the deliveries Lambda: a schedule invokes it; it delivers what destinations are owed
//! (`steward_core::domain::destinations::dispatch`).

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::eventbridge::EventBridgeBus;
use steward_core::adapters::stripe::provider::StripeProvider;
use steward_core::adapters::webhook::{endpoints, HttpWebhooks};
use steward_core::config::{Config, ConfigError};
use steward_core::domain::destinations::dispatch::RetrySchedule;
use steward_core::domain::forms::catalogue::{Catalogue, BUILT_IN};
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::secret::SecretKey;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward_core::telemetry::init();
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Background);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    let config = Config::from_env(&env)?;
    let catalogue = Catalogue::load(BUILT_IN, &config)?;
    let signing_key = env.required("WEBHOOK_SIGNING_KEY")?;
    if signing_key.len() < 32 {
        return Err(ConfigError::Invalid {
            name: "WEBHOOK_SIGNING_KEY",
            reason: "at least 32 characters".into(),
        }
        .into());
    }
    let schedule = match env.optional("DELIVERY_RETRY_SECONDS") {
        None => RetrySchedule::standard(),
        Some(text) => RetrySchedule::parse(&text).ok_or(ConfigError::Invalid {
            name: "DELIVERY_RETRY_SECONDS",
            reason: "whole seconds separated by commas".into(),
        })?,
    };
    let app = handler::App {
        store: DynamoStore::metered(&aws, &config.table_name, config.hash_key.clone(), clock.clone()),
        bus: EventBridgeBus {
            client: aws_sdk_eventbridge::Client::new(&aws),
            bus_name: env.required("EVENT_BUS_NAME")?,
        },
        webhooks: HttpWebhooks::new(
            endpoints(&env.optional("WEBHOOK_ENDPOINTS").unwrap_or_default())?,
            SecretKey::new(signing_key.into_bytes()),
            clock.clone(),
        )?,
        // Team mail, events and webhooks go whether or not the deployment takes payments.
        stripe: env.optional("STRIPE_SECRET_KEY").map(|_| StripeProvider::from_env(&env)).transpose()?,
        links: config.links.clone(),
        catalogue,
        schedule,
        batch: env.number("DELIVERY_BATCH", 100)? as usize,
        clock,
    };
    let app: &'static handler::App = Box::leak(Box::new(app));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        steward_core::lambda::metered("deliver", &event.context.request_id, handler::handle(app), |report| {
            // A destination down for a while is retried, not an error; one given up is (and its
            // own alarm says so).
            ["dead", "unconfigured"].iter().any(|n| report[*n].as_u64().is_some_and(|n| n > 0))
        })
        .await
    }))
    .await
}
