//! Wiring for the retention Lambda: a schedule invokes it; it deletes every item whose retention
//! period has ended (before DynamoDB's TTL gets to it), the CVs of expired applications, and the
//! profiles nothing is kept for any more. Its log counts what went, by kind, without personal data.

use std::sync::Arc;

use steward_core::domain::ports::{Clock, SystemClock};

use lambda_runtime::{service_fn, LambdaEvent};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::domain::privacy::retention::sweep;
use steward_core::secret::SecretKey;

struct App {
    store: DynamoStore,
    cvs: CvBucket,
    clock: Arc<dyn Clock>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward_core::telemetry::init();
    let aws = steward_core::adapters::aws::load(steward_core::adapters::aws::Caller::Background).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::secrets::load_env(&aws).await?;
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&aws).force_path_style(true).build());
    let app = App {
        // The sweep finds everything by its keys; it needs no keyed hashes of addresses except
        // for rate counters, which expire by themselves.
        store: DynamoStore::metered(
            &aws,
            env.required("TABLE_NAME")?,
            SecretKey::new(env.required("HASH_KEY")?.into_bytes()),
            clock.clone(),
        ),
        cvs: CvBucket::new(s3, env.required("CV_BUCKET")?),
        clock,
    };
    let app: &'static App = Box::leak(Box::new(app));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        steward_core::lambda::metered(
            "retention-sweep",
            &event.context.request_id,
            async move {
                let report =
                    sweep(&app.store, &app.cvs, app.clock.now(), |_| std::ops::ControlFlow::Continue(()))
                        .await?;
                Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
            },
            |report| report["cv_failures"].as_u64().is_some_and(|failures| failures > 0),
        )
        .await
    }))
    .await
}
