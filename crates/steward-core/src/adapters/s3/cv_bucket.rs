//! The private CV bucket (feature `s3`): uploads checked one exact version at a time (verify-cv),
//! every version of an application's objects deleted (erasure, retention), short-lived download
//! links, and exports too large for one response kept for their link.

use crate::domain::ids::ProfileId;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, Tag, Tagging};

use crate::domain::careers::verification::{ContentScan, Scanned, UploadedCvs, UploadedObject, UploadsError};
use crate::domain::privacy::erasure::{CvObjects, CvObjectsError};
use crate::telemetry::error_chain;

#[derive(Clone, Debug)]
pub struct CvBucket {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl CvBucket {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    /// A GET link to one version of a CV that downloads as an attachment and stops working after
    /// `valid_for`.
    pub async fn download_link(
        &self,
        key: &str,
        version_id: Option<&str>,
        file_name: &str,
        valid_for: Duration,
    ) -> Result<String, CvObjectsError> {
        // An ASCII name for every client, and the name as uploaded for those that read RFC 6266's
        // `filename*` (a CV named in any script keeps its name).
        let ascii: String = file_name
            .chars()
            .map(|c| if c.is_ascii() && c != '"' && c != '\\' && !c.is_control() { c } else { '_' })
            .collect();
        let encoded = percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
        let config = PresigningConfig::expires_in(valid_for).map_err(|e| CvObjectsError(e.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .response_content_disposition(format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
            ))
            .presigned(config)
            .await
            .map_err(|e| CvObjectsError(error_chain(&e)))?;
        Ok(request.uri().to_owned())
    }

    /// Keeps an export too large for one Lambda response (6 MB) under `exports/<profile>/`, for a
    /// short-lived link to it; the bucket's lifecycle removes it after a day, erasure at once.
    pub async fn put_export(
        &self,
        profile_id: &ProfileId,
        body: Vec<u8>,
        content_type: &str,
        extension: &str,
    ) -> Result<String, CvObjectsError> {
        let key = format!("{}{}.{extension}", exports_prefix(profile_id)?, uuid::Uuid::new_v4().simple());
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .map_err(|e| CvObjectsError(error_chain(&e)))?;
        Ok(key)
    }

    /// Deletes every version (and delete marker) under `prefix`; returns how many.
    async fn delete_under(&self, prefix: &str) -> Result<usize, CvObjectsError> {
        let mut deleted = 0;
        // Deleting changes the listing, so list from the start until nothing is left.
        loop {
            let (objects, _) = self.list_versions(prefix, None, None).await?;
            if objects.is_empty() {
                return Ok(deleted);
            }
            deleted += self.delete_versions(objects).await?;
        }
    }

    /// Deletes the versions (and delete markers) under `prefix` last modified before `cutoff`
    /// (epoch seconds); returns how many. Every page is read before anything is deleted, so that
    /// no page marker names a version already gone.
    async fn delete_under_before(&self, prefix: &str, cutoff: i64) -> Result<usize, CvObjectsError> {
        let mut old = Vec::new();
        let mut markers = None;
        loop {
            let (page, next) = self.list_versions(prefix, Some(cutoff), markers).await?;
            old.extend(page);
            match next {
                Some(next) => markers = Some(next),
                None => break,
            }
        }
        let mut deleted = 0;
        while !old.is_empty() {
            let rest = old.split_off(old.len().min(1000));
            deleted += self.delete_versions(std::mem::replace(&mut old, rest)).await?;
        }
        Ok(deleted)
    }

    /// One page of the versions under `prefix` (only those before `cutoff`, if given), and the
    /// markers of the next page if there is one.
    async fn list_versions(
        &self,
        prefix: &str,
        cutoff: Option<i64>,
        markers: Option<(Option<String>, Option<String>)>,
    ) -> Result<(Vec<ObjectIdentifier>, Option<(Option<String>, Option<String>)>), CvObjectsError> {
        let (key_marker, version_marker) = markers.unwrap_or_default();
        let listing = self
            .client
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await
            .map_err(|e| CvObjectsError(error_chain(&e)))?;
        let old_enough = |modified: Option<&aws_sdk_s3::primitives::DateTime>| {
            cutoff.is_none_or(|cutoff| modified.is_some_and(|m| m.secs() < cutoff))
        };
        let versions = listing
            .versions()
            .iter()
            .filter(|v| old_enough(v.last_modified()))
            .filter_map(|v| Some((v.key()?, v.version_id())))
            .chain(
                listing
                    .delete_markers()
                    .iter()
                    .filter(|m| old_enough(m.last_modified()))
                    .filter_map(|m| Some((m.key()?, m.version_id()))),
            );
        let objects = versions
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder().key(key).set_version_id(version.map(str::to_owned)).build().ok()
            })
            .collect();
        let next = (listing.is_truncated() == Some(true)).then(|| {
            (
                listing.next_key_marker().map(str::to_owned),
                listing.next_version_id_marker().map(str::to_owned),
            )
        });
        Ok((objects, next))
    }

    /// Deletes these versions (at most 1000, S3's limit for one request); returns how many.
    async fn delete_versions(&self, objects: Vec<ObjectIdentifier>) -> Result<usize, CvObjectsError> {
        let count = objects.len();
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| CvObjectsError(e.to_string()))?;
        let output = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| CvObjectsError(error_chain(&e)))?;
        if let Some(error) = output.errors().first() {
            return Err(CvObjectsError(format!(
                "{} versions could not be deleted ({})",
                output.errors().len(),
                error.code().unwrap_or("no code")
            )));
        }
        Ok(count)
    }
}

/// Where a person's large exports are kept for their link: `exports/<profile id>/`.
fn exports_prefix(profile_id: &ProfileId) -> Result<String, CvObjectsError> {
    if profile_id.is_empty() || !profile_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(CvObjectsError("not a profile id".into()));
    }
    Ok(format!("exports/{profile_id}/"))
}

impl CvObjects for CvBucket {
    async fn delete_application(&self, application_id: &str) -> Result<usize, CvObjectsError> {
        if application_id.is_empty()
            || !application_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(CvObjectsError("not an application id".into()));
        }
        self.delete_under(&format!("cv/{application_id}/")).await
    }

    async fn delete_exports(&self, profile_id: &ProfileId) -> Result<usize, CvObjectsError> {
        self.delete_under(&exports_prefix(profile_id)?).await
    }

    async fn delete_exports_before(&self, cutoff: i64) -> Result<usize, CvObjectsError> {
        self.delete_under_before("exports/", cutoff).await
    }
}

/// The uploads a browser put straight into the bucket, as verify-cv checks them.
impl UploadedCvs for CvBucket {
    async fn head(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<UploadedObject>, UploadsError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await;
        let head = match head {
            Ok(head) => head,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => return Ok(None),
            Err(err) => return Err(UploadsError(error_chain(&err))),
        };
        Ok(Some(UploadedObject {
            version_id: head.version_id().map(str::to_owned),
            size: head.content_length().unwrap_or(0).max(0) as u64,
            content_type: head.content_type().map(str::to_owned),
            metadata: head.metadata().cloned().unwrap_or_default(),
            uploaded_at: head.last_modified().map_or(0, |t| t.secs()),
        }))
    }

    async fn first_bytes(
        &self,
        key: &str,
        version_id: Option<&str>,
        count: u64,
    ) -> Result<Vec<u8>, UploadsError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .range(format!("bytes=0-{}", count.saturating_sub(1)))
            .send()
            .await
            .map_err(|e| UploadsError(error_chain(&e)))?;
        let bytes = object.body.collect().await.map_err(|e| UploadsError(error_chain(&e)))?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn scan(
        &self,
        key: &str,
        version_id: Option<&str>,
        mut scan: ContentScan,
    ) -> Result<Scanned, UploadsError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
            .map_err(|e| UploadsError(error_chain(&e)))?;
        let mut body = object.body;
        while let Some(chunk) = body.try_next().await.map_err(|e| UploadsError(error_chain(&e)))? {
            scan.feed(&chunk);
        }
        Ok(scan.finish())
    }

    async fn mark_verified(&self, key: &str, version_id: Option<&str>) -> Result<(), UploadsError> {
        let built = |e: aws_sdk_s3::error::BuildError| UploadsError(e.to_string());
        let status = Tag::builder().key("cv-status").value("verified").build().map_err(built)?;
        self.client
            .put_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .tagging(Tagging::builder().tag_set(status).build().map_err(built)?)
            .send()
            .await
            .map_err(|e| UploadsError(error_chain(&e)))?;
        Ok(())
    }

    async fn delete(&self, key: &str, version_id: Option<&str>) -> Result<(), UploadsError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
            .map_err(|e| UploadsError(error_chain(&e)))?;
        Ok(())
    }
}
