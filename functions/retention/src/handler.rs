//! One scheduled sweep: everything whose retention period has ended goes, with the CVs of expired
//! applications and the profiles nothing is kept for any more. Its log counts what went, by kind,
//! without personal data.

use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::domain::ports::Clock;
use steward_core::domain::privacy::retention::sweep_on;

pub struct App {
    pub store: DynamoStore,
    pub cvs: CvBucket,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

/// Time a run keeps for its last page and for saving where it stopped.
const STOP_BEFORE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// One run of the scheduled sweep, until `deadline` (the invocation's, less a margin): the pass
/// carries on from where the previous run stopped.
pub async fn handle(
    app: &App,
    deadline: std::time::SystemTime,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    let stop_at = deadline.checked_sub(STOP_BEFORE_DEADLINE).unwrap_or(deadline);
    let report = sweep_on(&app.store, &app.cvs, app.clock.now(), |_| {
        if app.clock.system_time() >= stop_at {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    })
    .await?;
    Ok(serde_json::to_value(report)?)
}
