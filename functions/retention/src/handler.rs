//! One scheduled sweep: everything whose retention period has ended goes, with the CVs of expired
//! applications and the profiles nothing is kept for any more. Its log counts what went, by kind,
//! without personal data.

use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::domain::ports::Clock;
use steward_core::domain::privacy::retention::sweep;

pub struct App {
    pub store: DynamoStore,
    pub cvs: CvBucket,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

pub async fn handle(app: &App) -> Result<serde_json::Value, lambda_runtime::Error> {
    let report =
        sweep(&app.store, &app.cvs, app.clock.now(), |_| std::ops::ControlFlow::Continue(())).await?;
    Ok(serde_json::to_value(report)?)
}
