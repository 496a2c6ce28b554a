//! One SQS batch of S3 `ObjectCreated` notifications: each object is checked, its result recorded
//! on the application, and a rejected object deleted. A message whose work failed for a passing
//! reason is reported as a batch item failure and comes back; one that can never succeed
//! (malformed, or S3's test event) is acknowledged. Redelivery does no harm: every step can repeat.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_s3::types::{Tag, Tagging};
use sha2::{Digest, Sha256};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::domain::careers::{CvCheck, CvOutcome};
use steward_core::domain::careers::{CvRecorded, CvStore};
use steward_core::domain::ids::ProfileId;

use crate::check::{judge, Verdict, SNIFF_BYTES};

pub struct App {
    pub s3: aws_sdk_s3::Client,
    pub store: DynamoStore,
    pub bucket: String,
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
    let head =
        app.s3.head_object().bucket(&app.bucket).key(key).set_version_id(version_id.clone()).send().await;
    let head = match head {
        Ok(head) => head,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {
            tracing::info!(key, "object already gone; nothing to do");
            return Ok(());
        }
        Err(err) => return Err(err.into()),
    };
    let version_id = head.version_id().map(str::to_owned).or(version_id);
    let metadata = head.metadata().cloned().unwrap_or_default();
    let application_id = key.split('/').nth(1).unwrap_or_default().to_owned();
    // Pinned by the upload's signed policy to the grant's profile: Steward wrote it, not the browser.
    let profile_id = ProfileId::from_stored(metadata.get("profile-id").cloned().unwrap_or_default());
    let size = head.content_length().unwrap_or(0).max(0) as u64;

    let verdict = if metadata.get("application-id") != Some(&application_id) || profile_id.is_empty() {
        Verdict::Reject("the upload does not carry its application".into())
    } else if size == 0 || size > app.max_bytes {
        judge(size, app.max_bytes, head.content_type(), &[])
    } else {
        let first = app
            .s3
            .get_object()
            .bucket(&app.bucket)
            .key(key)
            .set_version_id(version_id.clone())
            .range(format!("bytes=0-{}", SNIFF_BYTES - 1))
            .send()
            .await?;
        let bytes = first.body.collect().await?.into_bytes();
        judge(size, app.max_bytes, head.content_type(), &bytes)
    };

    let outcome = match verdict {
        Verdict::Accept(cv_type) => {
            CvOutcome::Verified { cv_type, size, sha256: sha256_of(app, key, version_id.as_deref()).await? }
        }
        Verdict::Reject(reason) => CvOutcome::Rejected { reason },
    };
    let rejected = matches!(outcome, CvOutcome::Rejected { .. });
    let check = CvCheck {
        application_id: application_id.clone(),
        profile_id,
        key: key.to_owned(),
        version_id: version_id.clone(),
        uploaded_at: head.last_modified().map_or(0, |t| t.secs()),
        checked_at: app.clock.timestamp(),
        file_name: metadata.get("original-filename").cloned(),
        outcome,
    };
    let recorded = if check.profile_id.is_empty() {
        CvRecorded::ApplicationMissing
    } else {
        app.store.record_cv(&check).await?
    };
    tracing::info!(application_id = application_id.as_str(), key, rejected, ?recorded, "CV checked");
    if rejected || recorded == CvRecorded::ApplicationMissing {
        delete(app, key, version_id.as_deref()).await?;
    } else {
        let status = Tag::builder().key("cv-status").value("verified").build()?;
        app.s3
            .put_object_tagging()
            .bucket(&app.bucket)
            .key(key)
            .set_version_id(version_id)
            .tagging(Tagging::builder().tag_set(status).build()?)
            .send()
            .await?;
    }
    Ok(())
}

/// Deletes the exact version, so a rejected file leaves nothing behind in a versioned bucket.
async fn delete(app: &App, key: &str, version_id: Option<&str>) -> Result<(), Transient> {
    app.s3
        .delete_object()
        .bucket(&app.bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_owned))
        .send()
        .await?;
    Ok(())
}

async fn sha256_of(app: &App, key: &str, version_id: Option<&str>) -> Result<String, Transient> {
    let object = app
        .s3
        .get_object()
        .bucket(&app.bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_owned))
        .send()
        .await?;
    let mut body = object.body;
    let mut hasher = Sha256::new();
    while let Some(chunk) = body.try_next().await? {
        hasher.update(&chunk);
    }
    Ok(hex::encode(hasher.finalize()))
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
