//! Wiring for the mail-events Lambda: SES → SNS → SQS → here. A permanent bounce or a complaint
//! suppresses the address (`handler`); a message that fails for a passing reason comes back.

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::secret::SecretKey;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward_core::telemetry::init();
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Background);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    let hash_key = SecretKey::new(env.required("HASH_KEY")?.into_bytes());
    let store = DynamoStore::metered(&aws, env.required("TABLE_NAME")?, hash_key, clock);
    let store: &'static DynamoStore = Box::leak(Box::new(store));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        let request_id = event.context.request_id.clone();
        steward_core::lambda::metered(
            "mail-feedback",
            &request_id,
            handler::handle(store, event.payload),
            |response| !response.batch_item_failures.is_empty(),
        )
        .await
    }))
    .await
}
