//! Wiring for the cv-upload Lambda: configuration and the credentials provider, once per cold start.

use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use steward_core::config::ConfigError;
use steward_core::domain::ports::SystemClock;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::load(steward_core::adapters::aws::Caller::Interactive).await;
    let region = aws.region().map(|r| r.to_string()).ok_or(ConfigError::Missing("AWS_REGION"))?;
    let credentials: SharedCredentialsProvider =
        aws.credentials_provider().ok_or(ConfigError::Missing("AWS credentials"))?;
    let app = handler::App::from_env(
        &steward_core::adapters::secrets::load_env(&aws).await?,
        region,
        credentials,
        Arc::new(SystemClock),
    )?;
    let app: &'static handler::App = Box::leak(Box::new(app));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
