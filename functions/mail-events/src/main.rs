//! SES → SNS → SQS → here: a permanent bounce or a complaint suppresses the address, so that it
//! never receives marketing mail again (transactional mail is unaffected). Notifications in both
//! SES formats are read: event publishing (`eventType`) and identity notifications
//! (`notificationType`). A message that fails for a passing reason comes back (partial batch).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};
use serde::Deserialize;
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::domain::mail::preferences::{ChangeSource, SuppressionStore};
use steward_core::secret::SecretKey;

/// SNS's envelope around the SES notification.
#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Message")]
    message: String,
}

#[derive(Deserialize)]
struct SesNotification {
    #[serde(rename = "eventType", alias = "notificationType")]
    kind: String,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
}

#[derive(Deserialize)]
struct Bounce {
    #[serde(rename = "bounceType")]
    bounce_type: String,
    #[serde(rename = "bouncedRecipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Complaint {
    #[serde(rename = "complainedRecipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(rename = "emailAddress")]
    email: String,
}

/// Who to suppress, and why; nothing for transient bounces, deliveries and the like.
fn suppressions(body: &str) -> Vec<(String, ChangeSource, String)> {
    let inner =
        serde_json::from_str::<SnsEnvelope>(body).map(|e| e.message).unwrap_or_else(|_| body.to_owned());
    let Ok(notification) = serde_json::from_str::<SesNotification>(&inner) else { return Vec::new() };
    match (notification.kind.as_str(), notification.bounce, notification.complaint) {
        ("Bounce", Some(bounce), _) if bounce.bounce_type == "Permanent" => bounce
            .recipients
            .into_iter()
            .map(|r| (r.email, ChangeSource::Bounce, "permanent bounce".to_owned()))
            .collect(),
        ("Complaint", _, Some(complaint)) => complaint
            .recipients
            .into_iter()
            .map(|r| (r.email, ChangeSource::Complaint, "complaint".to_owned()))
            .collect(),
        _ => Vec::new(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward_core::telemetry::init();
    let aws = steward_core::adapters::aws::load(steward_core::adapters::aws::Caller::Background).await;
    let env = steward_core::adapters::secrets::load_env(&aws).await?;
    let hash_key = SecretKey::new(env.required("HASH_KEY")?.into_bytes());
    let store: &'static DynamoStore = Box::leak(Box::new(DynamoStore::new(
        steward_core::adapters::dynamodb::capacity::metered_client(&aws),
        env.required("TABLE_NAME")?,
        hash_key,
    )));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let request_id = event.context.request_id.clone();
        steward_core::lambda::metered("mail-feedback", &request_id, async move {
        let mut response = SqsBatchResponse::default();
        for message in event.payload.records {
            let id = message.message_id.unwrap_or_default();
            for (email, source, detail) in suppressions(message.body.as_deref().unwrap_or_default()) {
                if let Err(err) = store.suppress(&email, source, &detail).await {
                    tracing::warn!(message_id = id.as_str(), error = %err, "suppression failed; will retry");
                    response.add_failure(id.clone());
                    break;
                }
            }
        }
        Ok::<_, lambda_runtime::Error>(response)
        }, |response| !response.batch_item_failures.is_empty())
        .await
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sns(message: serde_json::Value) -> String {
        serde_json::json!({"Type": "Notification", "MessageId": "m", "Message": message.to_string()})
            .to_string()
    }

    #[test]
    fn permanent_bounces_and_complaints_suppress_and_nothing_else_does() {
        let bounce = sns(serde_json::json!({"eventType": "Bounce", "bounce": {"bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "gone@example.com"}]}, "mail": {}}));
        assert_eq!(suppressions(&bounce)[0].0, "gone@example.com");
        let complaint = sns(serde_json::json!({"notificationType": "Complaint", "complaint": {
            "complainedRecipients": [{"emailAddress": "angry@example.com"}]}}));
        assert_eq!(suppressions(&complaint)[0].1, ChangeSource::Complaint);
        let transient = sns(serde_json::json!({"eventType": "Bounce", "bounce": {"bounceType": "Transient",
            "bouncedRecipients": [{"emailAddress": "full@example.com"}]}}));
        assert!(suppressions(&transient).is_empty());
        assert!(suppressions("not json").is_empty());
        assert!(suppressions(&sns(serde_json::json!({"eventType": "Delivery"}))).is_empty());
    }

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
