//! One SQS batch of S3 `ObjectCreated` notifications: each object is checked by the careers use case
//! (`domain::careers::verification`), its result recorded on the application, and a rejected
//! object deleted. A message whose work failed for a passing
//! reason is reported as a batch item failure and comes back; one that can never succeed
//! (malformed, or S3's test event) is acknowledged. Redelivery does no harm: every step can repeat.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::domain::careers::verification::{verify_upload, Verified};

pub struct App {
    pub cvs: CvBucket,
    /// The bucket's name: notifications for any other are ignored.
    pub bucket: String,
    pub store: DynamoStore,
    /// Counts the verdict mails an address gets in a day.
    pub hash_key: steward_core::secret::SecretKey,
    pub max_bytes: u64,
    /// The function's one clock (`main.rs` gives it).
    pub clock: std::sync::Arc<dyn steward_core::domain::ports::Clock>,
}

/// A failure worth retrying: the message goes back to the queue (and to the DLQ in the end).
#[derive(Debug)]
struct Transient(String);

impl<E: std::error::Error + 'static> From<E> for Transient {
    fn from(err: E) -> Self {
        Self(steward_core::telemetry::error_chain(&err))
    }
}

/// The part of an S3 event notification this function reads. Parsed leniently: only what is used
/// is required, so a notification with fewer or more fields (moto's, a future S3's) still works.
#[derive(Debug, serde::Deserialize)]
struct S3Notification {
    #[serde(rename = "Records", default)]
    records: Vec<S3Record>,
}

#[derive(Debug, serde::Deserialize)]
struct S3Record {
    s3: S3Entity,
}

#[derive(Debug, serde::Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Debug, serde::Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Debug, serde::Deserialize)]
struct S3Object {
    key: String,
    #[serde(rename = "versionId", default)]
    version_id: Option<String>,
}

pub async fn handle(app: &App, event: SqsEvent) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let Some(body) = message.body.as_deref() else { continue };
        if let Err(Transient(reason)) = process_message(app, body).await {
            tracing::warn!(message_id = id.as_str(), %reason, "CV check failed; the message will be retried");
            response.add_failure(id);
        }
    }
    Ok(response)
}

async fn process_message(app: &App, body: &str) -> Result<(), Transient> {
    let event: S3Notification = match serde_json::from_str(body) {
        Ok(event) => event,
        Err(_) if body.contains("s3:TestEvent") => return Ok(()),
        Err(err) => {
            tracing::error!(error = %err, "not an S3 event; dropped");
            return Ok(());
        }
    };
    for record in event.records {
        let bucket = record.s3.bucket.name;
        let raw_key = record.s3.object.key;
        // S3 notifications carry keys form-encoded ('+' for space).
        let key =
            percent_encoding::percent_decode_str(&raw_key.replace('+', " ")).decode_utf8_lossy().into_owned();
        if bucket != app.bucket || !key.starts_with("cv/") {
            tracing::warn!(key = key.as_str(), "notification for an object outside the CV prefix; ignored");
            continue;
        }
        check_object(app, &key, record.s3.object.version_id).await?;
    }
    Ok(())
}

async fn check_object(app: &App, key: &str, version_id: Option<String>) -> Result<(), Transient> {
    match verify_upload(
        &app.cvs,
        &app.store,
        &app.hash_key,
        app.clock.as_ref(),
        key,
        version_id,
        app.max_bytes,
    )
    .await?
    {
        Verified::Gone => tracing::info!(key, "object already gone; nothing to do"),
        Verified::Checked { .. } => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The SQS events in `events/verify-cv/`, as Lambda delivers them.
    use super::*;

    fn event(name: &str) -> SqsEvent {
        let path = format!("{}/../../events/verify-cv/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn given_an_object_created_notification_then_bucket_key_and_version_are_read() {
        let event = event("sqs-s3-object-created.json");
        let body = event.records[0].body.as_deref().unwrap();
        let notification: S3Notification = serde_json::from_str(body).unwrap();
        let object = &notification.records[0].s3;
        assert_eq!(object.bucket.name, "steward-prod-cvs-123456789012");
        assert!(object.object.key.starts_with("cv/"));
        assert_eq!(object.object.version_id.as_deref(), Some("096fKKXTRTtl3on89fVO.nfljtsv6qko"));
    }

    #[test]
    fn given_s3s_test_event_then_it_is_not_an_object_notification() {
        let event = event("sqs-s3-test-event.json");
        let body = event.records[0].body.as_deref().unwrap();
        assert!(body.contains("s3:TestEvent"));
        let parsed: Result<S3Notification, _> = serde_json::from_str(body);
        assert!(parsed.map(|n| n.records.is_empty()).unwrap_or(true));
    }
}
