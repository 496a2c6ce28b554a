//! Wiring for the privacy Lambda (`/privacy/link`, `/privacy/session`, `/me`).

use steward_core::config::Config;
use steward_core::store::dynamodb::DynamoStore;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store =
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.table_name, config.hash_key.clone());
    let app: &'static handler::App = Box::leak(Box::new(handler::App { config, store }));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
