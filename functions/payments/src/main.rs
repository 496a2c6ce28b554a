//! Wiring for the payments Lambda: configuration, catalogue, DynamoDB and Stripe clients, once per
//! cold start.

use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::stripe::provider::StripeProvider;
use steward_core::domain::payments::{PaymentCatalogue, BUILT_IN};
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::secret::SecretKey;
use steward_core::token::KeyFamily;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Interactive);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    let hash_key = SecretKey::new(env.required("HASH_KEY")?.into_bytes());
    let store = DynamoStore::metered(&aws, env.required("TABLE_NAME")?, hash_key.clone(), clock.clone());
    let provider = StripeProvider::from_env(&env)?;
    let app = handler::App {
        allowed_origins: env.origins("ALLOWED_ORIGINS")?,
        token_keys: env.token_keys(&[KeyFamily::Payment])?,
        publishable_key: env.required("STRIPE_PUBLISHABLE_KEY")?,
        catalogue: PaymentCatalogue::load(BUILT_IN)?,
        store,
        hash_key,
        provider,
        clock,
    };
    let app: &'static handler::App = Box::leak(Box::new(app));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
