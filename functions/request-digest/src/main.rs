//! Wiring for the request digest: a schedule invokes it each morning. It mails the privacy team
//! what is overdue or due within a week and logs the count the alarm watches
//! (`PrivacyRequestsDueOrOverdue`, from the line "requests due").

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::config::Config;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::domain::privacy::requests::send_digest;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward_core::telemetry::init();
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Background);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    let config = Config::from_env(&env)?;
    let to = env.required("PRIVACY_TEAM_ADDRESS")?;
    let store = DynamoStore::metered(&aws, &config.table_name, config.hash_key.clone(), clock.clone());
    let app: &'static (DynamoStore, Config, String, Arc<dyn Clock>) =
        Box::leak(Box::new((store, config, to, clock)));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let (store, config, to, clock) = app;
        steward_core::lambda::metered(
            "request-digest",
            &event.context.request_id,
            async move {
                let digest = send_digest(store, &config.links, to, clock.timestamp())
                    .await
                    .map_err(|e| -> lambda_runtime::Error { Box::new(e) })?;
                let due_or_overdue = (digest.overdue.len() + digest.due_soon.len()) as u64;
                tracing::info!(due_or_overdue, overdue = digest.overdue.len() as u64, "requests due");
                Ok::<_, lambda_runtime::Error>(serde_json::json!({
                    "overdue": digest.overdue.len(),
                    "due_soon": digest.due_soon.len(),
                }))
            },
            |_| false,
        )
        .await
    }))
    .await
}
