//! Recruiters' CV links.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use steward_core::telemetry::error_chain;

use crate::context::{checked_ticket, Context, Record};
use crate::Done;

/// The newest verified CV of the application, as a presigned GET that downloads as an attachment.
pub async fn link(
    context: &Context,
    application: &str,
    expires_in: u64,
    ticket: Option<String>,
) -> Result<Done, String> {
    let ticket = ticket.as_deref().map(checked_ticket).transpose()?;
    if application.is_empty() || !application.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err("--application must be an application id".into());
    }
    let bucket = context.bucket()?;
    let found = newest_verified(&context.s3, &bucket, application, Duration::from_secs(expires_in)).await;
    let outcome = match &found {
        Ok(Some(_)) => "ok",
        Ok(None) => "not-found",
        Err(_) => "failed",
    };
    let record = Record::new("cv-link", outcome)
        .subject(Some(application))
        .ticket(ticket)
        .count("expires_in", expires_in);
    context.audit(record).await?;
    match found? {
        Some(url) => Ok(Done::ok(url)),
        None => Err(format!("application {application} has no verified CV")),
    }
}

pub async fn newest_verified(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    application: &str,
    valid_for: Duration,
) -> Result<Option<String>, String> {
    let listing = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(format!("cv/{application}/"))
        .send()
        .await
        .map_err(|e| format!("listing the CVs failed: {}", error_chain(&e)))?;
    let mut objects: Vec<_> =
        listing.contents().iter().filter_map(|o| Some((o.last_modified()?.secs(), o.key()?))).collect();
    objects.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, key) in objects {
        let tags = s3
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| format!("reading the CV's status failed: {}", error_chain(&e)))?;
        if !tags.tag_set().iter().any(|t| t.key() == "cv-status" && t.value() == "verified") {
            continue;
        }
        let head = s3.head_object().bucket(bucket).key(key).send().await.map_err(|e| error_chain(&e))?;
        let file_name = head
            .metadata()
            .and_then(|m| m.get("original-filename"))
            .map(|name| name.replace(['"', '\\'], "_"))
            .unwrap_or_else(|| "cv".to_owned());
        let presigned = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .response_content_disposition(format!("attachment; filename=\"{file_name}\""))
            .presigned(PresigningConfig::expires_in(valid_for).map_err(|e| e.to_string())?)
            .await
            .map_err(|e| format!("signing the link failed: {}", error_chain(&e)))?;
        return Ok(Some(presigned.uri().to_owned()));
    }
    Ok(None)
}
