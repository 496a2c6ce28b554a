//! Careers: a CV check recorded on its application, and the uploads a browser put in the bucket.

use super::*;
use crate::domain::careers::verification::{UploadedCvs, UploadedObject, UploadsError};
use crate::domain::careers::{CvCheck, CvOutcome, CvRecorded, CvStore};

/// Uploaded objects as the CV bucket holds them: bytes, what S3 says about them, and whether
/// they are marked verified. One version per key (a new upload takes a new key).
#[derive(Default)]
pub struct MemoryUploads {
    objects: Mutex<BTreeMap<String, Upload>>,
}

/// One uploaded object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub object: UploadedObject,
    pub bytes: Vec<u8>,
    pub verified: bool,
}

impl MemoryUploads {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Upload>> {
        self.objects.lock().expect("a test panicked while holding the memory uploads")
    }

    /// What a browser's upload leaves: the bytes, the type it declared and the metadata the signed
    /// policy pinned.
    pub fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        metadata: &[(&str, &str)],
        uploaded_at: i64,
    ) {
        let object = UploadedObject {
            version_id: Some(uuid::Uuid::new_v4().simple().to_string()),
            size: bytes.len() as u64,
            content_type: Some(content_type.to_owned()),
            metadata: metadata.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            uploaded_at,
        };
        self.lock().insert(key.to_owned(), Upload { object, bytes: bytes.to_vec(), verified: false });
    }

    pub fn get(&self, key: &str) -> Option<Upload> {
        self.lock().get(key).cloned()
    }
}

impl UploadedCvs for MemoryUploads {
    async fn head(&self, key: &str, _: Option<&str>) -> Result<Option<UploadedObject>, UploadsError> {
        Ok(self.lock().get(key).map(|upload| upload.object.clone()))
    }

    async fn first_bytes(&self, key: &str, _: Option<&str>, count: u64) -> Result<Vec<u8>, UploadsError> {
        let uploads = self.lock();
        let upload = uploads.get(key).ok_or_else(|| UploadsError(format!("no object {key}")))?;
        Ok(upload.bytes.iter().take(count as usize).copied().collect())
    }

    async fn sha256(&self, key: &str, _: Option<&str>) -> Result<String, UploadsError> {
        use sha2::{Digest, Sha256};
        let uploads = self.lock();
        let upload = uploads.get(key).ok_or_else(|| UploadsError(format!("no object {key}")))?;
        Ok(hex::encode(Sha256::digest(&upload.bytes)))
    }

    async fn mark_verified(&self, key: &str, _: Option<&str>) -> Result<(), UploadsError> {
        let mut uploads = self.lock();
        let upload = uploads.get_mut(key).ok_or_else(|| UploadsError(format!("no object {key}")))?;
        upload.verified = true;
        Ok(())
    }

    async fn delete(&self, key: &str, _: Option<&str>) -> Result<(), UploadsError> {
        self.lock().remove(key);
        Ok(())
    }
}

impl CvStore for MemoryStore {
    async fn record_cv(&self, check: &CvCheck) -> Result<CvRecorded, StoreError> {
        let application = keys::submission(&check.profile_id, &check.application_id);
        self.run("record_cv", |table| {
            let Some(submission) = table.get_mut(&application) else {
                return Ok(CvRecorded::ApplicationMissing);
            };
            let recorded_upload =
                submission.get("cv").and_then(Value::as_object).and_then(|cv| number(cv, "uploaded_at"));
            if recorded_upload.is_some_and(|at| at > check.uploaded_at) {
                return Ok(CvRecorded::NewerRecorded);
            }
            submission.insert("cv".into(), cv_of(check).into());
            Ok(CvRecorded::Recorded)
        })
    }
}

fn cv_of(check: &CvCheck) -> Item {
    let mut cv = Item::new();
    cv.insert("key".into(), check.key.clone().into());
    cv.insert("uploaded_at".into(), check.uploaded_at.into());
    cv.insert("checked_at".into(), check.checked_at.rfc3339().into());
    if let Some(version) = &check.version_id {
        cv.insert("version_id".into(), version.clone().into());
    }
    if let Some(name) = &check.file_name {
        cv.insert("file_name".into(), name.clone().into());
    }
    match &check.outcome {
        CvOutcome::Verified { cv_type, size, sha256 } => {
            cv.insert("status".into(), "verified".into());
            cv.insert("media_type".into(), cv_type.media_type().into());
            cv.insert("size".into(), (*size).into());
            cv.insert("sha256".into(), sha256.clone().into());
        }
        CvOutcome::Rejected { reason } => {
            cv.insert("status".into(), "rejected".into());
            cv.insert("reason".into(), reason.clone().into());
        }
    }
    cv
}
