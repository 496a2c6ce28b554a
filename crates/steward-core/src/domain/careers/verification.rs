//! Verifying an uploaded CV, after the browser put it straight into the bucket: judged from what
//! the bucket says about it and its first bytes (never from its name or declared type alone), the
//! result recorded on its application, a rejected file deleted and an accepted one marked. Every
//! step can repeat: S3 may notify twice, and a step that failed is retried.

use std::collections::HashMap;
use std::future::Future;

use super::{CvCheck, CvOutcome, CvRecorded, CvStore, CvType};
use crate::domain::ids::ProfileId;
use crate::domain::ports::{Clock, StoreError};

/// How many leading bytes are read to recognise a file (enough for the OLE directory of a .doc).
pub const SNIFF_BYTES: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept(CvType),
    Reject(String),
}

/// Accepts only a non-empty file within the size limit whose content is one of the allowed
/// document types and is the type it was declared as.
pub fn judge(size: u64, max_bytes: u64, declared: Option<&str>, head: &[u8]) -> Verdict {
    if size == 0 {
        return Verdict::Reject("the file is empty".into());
    }
    if size > max_bytes {
        return Verdict::Reject(format!("the file is {size} bytes, more than the {max_bytes} allowed"));
    }
    let Some(actual) = sniff(head) else {
        let seen = infer::get(head).map_or("unrecognised content", |t| t.mime_type());
        return Verdict::Reject(format!("the content is not an allowed document type ({seen})"));
    };
    match declared.and_then(CvType::from_media_type) {
        Some(declared) if declared == actual => Verdict::Accept(actual),
        _ => Verdict::Reject(format!(
            "the content is {} but it was declared as {}",
            actual.media_type(),
            declared.unwrap_or("nothing")
        )),
    }
}

/// The document type the bytes really are, by their magic numbers.
pub fn sniff(head: &[u8]) -> Option<CvType> {
    if infer::doc::is_docx(head) || is_wordprocessing_package(head) {
        return Some(CvType::Docx);
    }
    if infer::doc::is_doc(head) {
        return Some(CvType::Doc);
    }
    if infer::odf::is_odt(head) {
        return Some(CvType::Odt);
    }
    if infer::archive::is_pdf(head) {
        return Some(CvType::Pdf);
    }
    if infer::archive::is_rtf(head) {
        return Some(CvType::Rtf);
    }
    None
}

/// `infer` recognises DOCX only when its ZIP entries come in Word's order; other writers put
/// them elsewhere. A ZIP whose entries include the main WordprocessingML part is a DOCX too.
fn is_wordprocessing_package(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") && head.windows(17).any(|w| w == b"word/document.xml")
}

/// What the bucket says about one uploaded object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadedObject {
    pub version_id: Option<String>,
    pub size: u64,
    pub content_type: Option<String>,
    /// `x-amz-meta-*`, as the upload's signed policy pinned them (application, profile, file name).
    pub metadata: HashMap<String, String>,
    /// When the bucket stored it (epoch seconds): a later upload's result is never replaced.
    pub uploaded_at: i64,
}

#[derive(Debug, thiserror::Error)]
#[error("the CV bucket failed: {0}")]
pub struct UploadsError(pub String);

/// The port: the uploaded objects of the CV bucket, one exact version at a time (S3 in
/// `adapters::s3::cv_bucket`).
pub trait UploadedCvs {
    /// `None` when the object is gone (deleted by an erasure, or by an earlier check).
    fn head(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> impl Future<Output = Result<Option<UploadedObject>, UploadsError>> + Send;
    fn first_bytes(
        &self,
        key: &str,
        version_id: Option<&str>,
        count: u64,
    ) -> impl Future<Output = Result<Vec<u8>, UploadsError>> + Send;
    fn sha256(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> impl Future<Output = Result<String, UploadsError>> + Send;
    /// Marks a verified version, which the bucket's lifecycle keeps.
    fn mark_verified(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> impl Future<Output = Result<(), UploadsError>> + Send;
    /// Deletes the exact version, so a rejected file leaves nothing behind in a versioned bucket.
    fn delete(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> impl Future<Output = Result<(), UploadsError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Uploads(#[from] UploadsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// The object is gone already: nothing to do.
    Gone,
    Checked {
        rejected: bool,
        recorded: CvRecorded,
    },
}

/// Checks one uploaded version of a CV and records the result on its application.
pub async fn verify_upload<F: UploadedCvs, S: CvStore>(
    files: &F,
    store: &S,
    clock: &dyn Clock,
    key: &str,
    version_id: Option<String>,
    max_bytes: u64,
) -> Result<Verified, VerifyError> {
    let Some(head) = files.head(key, version_id.as_deref()).await? else {
        return Ok(Verified::Gone);
    };
    let version_id = head.version_id.clone().or(version_id);
    let application_id = key.split('/').nth(1).unwrap_or_default().to_owned();
    // Pinned by the upload's signed policy to the grant's profile: Steward wrote it, not the browser.
    let profile_id = ProfileId::from_stored(head.metadata.get("profile-id").cloned().unwrap_or_default());
    let size = head.size;
    let declared = head.content_type.as_deref();
    let verdict = if head.metadata.get("application-id") != Some(&application_id) || profile_id.is_empty() {
        Verdict::Reject("the upload does not carry its application".into())
    } else if size == 0 || size > max_bytes {
        judge(size, max_bytes, declared, &[])
    } else {
        let bytes = files.first_bytes(key, version_id.as_deref(), SNIFF_BYTES).await?;
        judge(size, max_bytes, declared, &bytes)
    };
    let outcome = match verdict {
        Verdict::Accept(cv_type) => {
            CvOutcome::Verified { cv_type, size, sha256: files.sha256(key, version_id.as_deref()).await? }
        }
        Verdict::Reject(reason) => CvOutcome::Rejected { reason },
    };
    let rejected = matches!(outcome, CvOutcome::Rejected { .. });
    let check = CvCheck {
        application_id,
        profile_id,
        key: key.to_owned(),
        version_id: version_id.clone(),
        uploaded_at: head.uploaded_at,
        checked_at: clock.timestamp(),
        file_name: head.metadata.get("original-filename").cloned(),
        outcome,
    };
    let recorded = if check.profile_id.is_empty() {
        CvRecorded::ApplicationMissing
    } else {
        store.record_cv(&check).await?
    };
    tracing::info!(application_id = check.application_id.as_str(), key, rejected, ?recorded, "CV checked");
    if rejected || recorded == CvRecorded::ApplicationMissing {
        files.delete(key, version_id.as_deref()).await?;
    } else {
        files.mark_verified(key, version_id.as_deref()).await?;
    }
    Ok(Verified::Checked { rejected, recorded })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00";

    #[test]
    fn a_pdf_declared_as_pdf_is_accepted() {
        assert_eq!(judge(PDF.len() as u64, 100, Some("application/pdf"), PDF), Verdict::Accept(CvType::Pdf));
    }

    #[test]
    fn an_executable_renamed_pdf_is_rejected() {
        assert!(
            matches!(judge(20, 100, Some("application/pdf"), ELF), Verdict::Reject(r) if r.contains("not an allowed"))
        );
    }

    #[test]
    fn empty_oversize_and_mislabelled_files_are_rejected() {
        assert!(
            matches!(judge(0, 100, Some("application/pdf"), b""), Verdict::Reject(r) if r.contains("empty"))
        );
        assert!(
            matches!(judge(101, 100, Some("application/pdf"), PDF), Verdict::Reject(r) if r.contains("more than"))
        );
        assert!(
            matches!(judge(60, 100, Some("application/msword"), PDF), Verdict::Reject(r) if r.contains("declared"))
        );
        assert!(matches!(judge(60, 100, None, PDF), Verdict::Reject(_)));
    }

    #[test]
    fn a_zip_with_the_word_main_part_is_a_docx_whatever_its_entry_order() {
        assert_eq!(sniff(b"PK\x03\x04....mimetype....word/document.xml...."), Some(CvType::Docx));
        assert_eq!(sniff(b"PK\x03\x04....other.xml...."), None);
    }

    #[test]
    fn rtf_is_recognised() {
        assert_eq!(sniff(b"{\\rtf1\\ansi Hello}"), Some(CvType::Rtf));
    }
}

#[cfg(test)]
mod fixture_tests {
    //! The sample files in `tests/fixtures/cv/`, the ones the black-box tests upload.
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../../tests/fixtures/cv/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn each_sample_document_is_recognised_as_what_it_is() {
        for (name, cv_type) in [
            ("cv.pdf", CvType::Pdf),
            ("cv.docx", CvType::Docx),
            ("cv.odt", CvType::Odt),
            ("cv.rtf", CvType::Rtf),
        ] {
            let bytes = fixture(name);
            assert_eq!(sniff(&bytes), Some(cv_type), "{name}");
            assert_eq!(
                judge(bytes.len() as u64, 1 << 20, Some(cv_type.media_type()), &bytes),
                Verdict::Accept(cv_type)
            );
        }
        assert_eq!(sniff(&fixture("program-renamed.pdf")), None);
    }
}
