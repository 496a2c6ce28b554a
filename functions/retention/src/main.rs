//! Wiring for the retention Lambda: a schedule invokes it (`handler`).

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::secret::SecretKey;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward_core::telemetry::init();
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Background);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&aws).force_path_style(true).build());
    // The sweep finds everything by its keys; it needs no keyed hashes of addresses except for
    // rate counters, which expire by themselves.
    let hash_key = SecretKey::new(env.required("HASH_KEY")?.into_bytes());
    let app = handler::App {
        store: DynamoStore::metered(&aws, env.required("TABLE_NAME")?, hash_key, clock.clone()),
        cvs: CvBucket::new(s3, env.required("CV_BUCKET")?),
        clock,
    };
    let app: &'static handler::App = Box::leak(Box::new(app));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        steward_core::lambda::metered(
            "retention-sweep",
            &event.context.request_id,
            handler::handle(
                app,
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(event.context.deadline),
            ),
            |report| report["cv_failures"].as_u64().is_some_and(|failures| failures > 0),
        )
        .await
    }))
    .await
}
