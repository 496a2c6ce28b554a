//! Wiring for the verify-cv Lambda: SDK clients once per cold start, then Lambda's SQS event source
//! mapping delivers batches of S3 notifications.

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::domain::ports::{Clock, SystemClock};

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward_core::telemetry::init();
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Background);
    let env = steward_core::adapters::start(&aws).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&aws).force_path_style(true).build());
    // The hash key counts an applicant's verdict mails against their address's day.
    let hash_key = env.hash_key()?;
    let store = DynamoStore::metered(&aws, env.required("TABLE_NAME")?, hash_key.clone(), clock.clone());
    let bucket = env.required("CV_BUCKET")?;
    let app = handler::App {
        cvs: CvBucket::new(s3, bucket.clone()),
        bucket,
        store,
        hash_key,
        max_bytes: env.number("CV_MAX_BYTES", 10 * 1024 * 1024)?,
        clock,
    };
    let app: &'static handler::App = Box::leak(Box::new(app));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        steward_core::lambda::metered(
            "verify-cv",
            &event.context.request_id,
            handler::handle(app, event.payload),
            |response| !response.batch_item_failures.is_empty(),
        )
        .await
    }))
    .await
}
