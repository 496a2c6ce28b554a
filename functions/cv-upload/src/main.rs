//! Wiring for the cv-upload Lambda: configuration, the credentials provider and the table (for
//! each grant's upload count and its uploads' verdicts), once per cold start.

use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::config::ConfigError;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::secret::SecretKey;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Interactive);
    let region = aws.region().map(|r| r.to_string()).ok_or(ConfigError::Missing("AWS_REGION"))?;
    let credentials: SharedCredentialsProvider =
        aws.credentials_provider().ok_or(ConfigError::Missing("AWS credentials"))?;
    let env = steward_core::adapters::start(&aws).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Upload counters are keyed by application id, never by a person's address: no hash key.
    let store = DynamoStore::metered(&aws, env.required("TABLE_NAME")?, SecretKey::new([]), clock.clone());
    let app = handler::App::from_env(&env, region, credentials, store, clock)?;
    let app: &'static handler::App = Box::leak(Box::new(app));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
