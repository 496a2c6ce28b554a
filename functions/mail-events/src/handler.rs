//! A batch of SES notifications: each bounce or complaint suppresses its address; a message whose
//! suppression failed comes back to the queue (partial batch response), the others are done.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use steward_core::adapters::ses::notifications::suppressions;
use steward_core::domain::mail::preferences::SuppressionStore;

pub async fn handle<S: SuppressionStore>(
    store: &S,
    event: SqsEvent,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.unwrap_or_default();
        for (email, source, detail) in suppressions(message.body.as_deref().unwrap_or_default()) {
            if let Err(err) = store.suppress(&email, source, &detail).await {
                tracing::warn!(message_id = id.as_str(), error = %err, "suppression failed; will retry");
                response.add_failure(id.clone());
                break;
            }
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_core::adapters::ses::notifications::suppressions;
    use steward_core::domain::mail::preferences::ChangeSource;

    #[test]
    fn given_the_sample_sqs_event_then_its_bounce_suppresses_the_address() {
        let path = format!("{}/../../events/mail-events/sqs-ses-bounce.json", env!("CARGO_MANIFEST_DIR"));
        let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let body = event.records[0].body.as_deref().unwrap();
        assert_eq!(
            suppressions(body),
            [("gone@example.com".to_owned(), ChangeSource::Bounce, suppressions(body)[0].2.clone())]
        );
    }
}
