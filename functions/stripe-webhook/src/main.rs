//! Wiring for the stripe-webhook Lambda: secrets and the DynamoDB client, once per cold start.

use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::config::ConfigError;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::secret::SecretKey;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Interactive);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    let secrets: Vec<String> = env
        .required("STRIPE_WEBHOOK_SECRETS")?
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if secrets.is_empty() {
        return Err(ConfigError::Missing("STRIPE_WEBHOOK_SECRETS").into());
    }
    let app = handler::App {
        // With the hash key: a receipt's sent marker is kept under a keyed hash of its id, and a
        // retried delivery must find it to owe no second receipt.
        store: DynamoStore::metered(
            &aws,
            env.required("TABLE_NAME")?,
            SecretKey::new(env.required("HASH_KEY")?.into_bytes()),
            clock.clone(),
        ),
        secrets,
        tolerance_seconds: env.number("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)? as i64,
        clock,
    };
    let app: &'static handler::App = Box::leak(Box::new(app));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
