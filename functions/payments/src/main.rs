//! Wiring for the payments Lambda: configuration, catalogue, DynamoDB and Stripe clients, once per
//! cold start.

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::domain::payments::{PaymentCatalogue, BUILT_IN};
use steward_core::secret::SecretKey;

mod handler;
mod stripe_provider;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::load(steward_core::adapters::aws::Caller::Interactive).await;
    let env = steward_core::adapters::secrets::load_env(&aws).await?;
    let store = DynamoStore::new(
        steward_core::adapters::dynamodb::capacity::metered_client(&aws),
        env.required("TABLE_NAME")?,
        SecretKey::new([]),
    );
    let provider = stripe_provider::StripeProvider::from_env(&env)?;
    let app = handler::App {
        allowed_origins: env.origins("ALLOWED_ORIGINS")?,
        token_keys: env.token_keys("TOKEN_KEYS")?,
        publishable_key: env.required("STRIPE_PUBLISHABLE_KEY")?,
        catalogue: PaymentCatalogue::load(BUILT_IN)?,
        store,
        provider,
    };
    let app: &'static handler::App = Box::leak(Box::new(app));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
