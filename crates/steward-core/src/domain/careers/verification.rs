//! Verifying an uploaded CV, after the browser put it straight into the bucket: judged from what
//! the bucket says about it and its first bytes (never from its name or declared type alone), the
//! result recorded on its application, a rejected file deleted and an accepted one marked. Every
//! step can repeat: S3 may notify twice, and a step that failed is retried.

use crate::domain::destinations::{self, DeliveryStore, DomainEvent, EventType};
use std::collections::HashMap;
use std::future::Future;

use super::{CvCheck, CvOutcome, CvRecorded, CvStore, CvType, CvVerdict, VERDICT_KEPT_SECONDS};
use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::{OutboxMessage, OutboxStore};
use crate::domain::mail::recipients::{may_mail, MailPurpose};
use crate::domain::mail::MailKind;
use crate::domain::ports::{Clock, RateLimiter, StoreError};
use crate::secret::SecretKey;

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
        return Verdict::Reject(crate::t!("cv-reason-empty"));
    }
    if size > max_bytes {
        // In megabytes, to a tenth, in the applicant's way of writing numbers.
        let megabytes = |bytes: u64| {
            let tenths = (bytes.saturating_mul(10) + 524_288) / 1_048_576;
            format!("{}{}{}", tenths / 10, crate::t!("decimal-separator"), tenths % 10)
        };
        return Verdict::Reject(crate::t!(
            "cv-reason-too-large",
            size = megabytes(size),
            max = megabytes(max_bytes)
        ));
    }
    let Some(actual) = sniff(head) else {
        let seen = infer::get(head)
            .map_or_else(|| crate::t!("cv-reason-unrecognised"), |t| t.mime_type().to_owned());
        return Verdict::Reject(crate::t!("cv-reason-not-allowed", seen = seen));
    };
    match declared.and_then(CvType::from_media_type) {
        Some(declared) if declared == actual => Verdict::Accept(actual),
        _ => Verdict::Reject(crate::t!(
            "cv-reason-declared-otherwise",
            actual = actual.media_type(),
            declared = declared.map_or_else(|| crate::t!("cv-reason-nothing"), str::to_owned)
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

/// A pass over a whole accepted file: its SHA-256, and whether it holds active content a
/// recruiter's office suite would run or open (macros, scripts, embedded programs). Fed the file
/// in chunks as it streams from the bucket, so a 10 MB file is read once and never held whole.
pub struct ContentScan {
    cv_type: CvType,
    hasher: sha2::Sha256,
    /// The end of the previous chunk, so that a marker split across two chunks is still seen.
    carry: Vec<u8>,
    active: Option<&'static str>,
    /// For a Word package: whether its content-types part was seen (a ZIP with a `word/` entry
    /// and nothing else of a package is no document).
    package_part_seen: bool,
}

/// What a whole file holds, as far as a recruiter opening it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    pub sha256: String,
    /// What active content was found, if any.
    pub active_content: Option<&'static str>,
}

/// Markers of active content, by type: names as they stand uncompressed in a ZIP's local and
/// central headers (DOCX, ODT), a compound file's directory (DOC, in UTF-16), or the document's
/// own syntax (RTF, PDF). Long enough that compressed bytes never make them by chance.
fn active_markers(cv_type: CvType) -> &'static [(&'static [u8], &'static str)] {
    match cv_type {
        // Charts keep their data in `word/embeddings/*.xlsx`: embeddings as such are fine, OLE
        // objects (`oleObject*.bin`, what Equation Editor and package exploits ride in) are not.
        CvType::Docx => &[
            (b"vbaProject", "a VBA macro project"),
            (b"vbaData.xml", "VBA macro data"),
            (b"activeX/", "an ActiveX control"),
            (b"oleObject", "an embedded OLE object"),
        ],
        CvType::Odt => &[(b"Basic/", "a Basic macro library"), (b"Scripts/", "a script")],
        CvType::Doc => &[
            (b"_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0", "a VBA macro project"),
            (b"O\0b\0j\0e\0c\0t\0P\0o\0o\0l\0", "an embedded OLE object"),
        ],
        CvType::Rtf => &[(b"\\objdata", "an embedded object"), (b"\\object", "an embedded object")],
        // Actions as action dictionaries name them, not the words in a CV's text ("Node.js/
        // JavaScript"); embedded files stay (LibreOffice's hybrid PDFs carry their source).
        CvType::Pdf => &[
            (b"/S/JavaScript", "JavaScript"),
            (b"/S /JavaScript", "JavaScript"),
            (b"/S/Launch", "a launch action"),
            (b"/S /Launch", "a launch action"),
        ],
    }
}

/// What each kind of active content is called in the applicant's language (the markers' words
/// are English, and tests name them so).
const ACTIVE_CONTENT_WORDS: [(&str, &str); 10] = [
    ("a VBA macro project", "cv-active-vba-project"),
    ("VBA macro data", "cv-active-vba-data"),
    ("an ActiveX control", "cv-active-activex"),
    ("an embedded OLE object", "cv-active-ole-object"),
    ("a Basic macro library", "cv-active-basic-macros"),
    ("a script", "cv-active-script"),
    ("an embedded object", "cv-active-embedded-object"),
    ("JavaScript", "cv-active-javascript"),
    ("a launch action", "cv-active-launch-action"),
    ("no Word package (a bare ZIP)", "cv-active-no-word-package"),
];

fn active_content_words(what: &str) -> String {
    ACTIVE_CONTENT_WORDS
        .iter()
        .find(|(english, _)| *english == what)
        .map_or_else(|| what.to_owned(), |(_, id)| crate::i18n::Lang::current().text(id, None))
}

/// The longest marker, less one: what a chunk must carry over to the next.
const CARRY: usize = 32;

impl ContentScan {
    pub fn new(cv_type: CvType) -> Self {
        use sha2::Digest;
        Self {
            cv_type,
            hasher: sha2::Sha256::new(),
            carry: Vec::new(),
            active: None,
            package_part_seen: false,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        use sha2::Digest;
        self.hasher.update(chunk);
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        if self.active.is_none() {
            self.active = active_markers(self.cv_type)
                .iter()
                .find(|(marker, _)| window.windows(marker.len()).any(|w| w == *marker))
                .map(|(_, what)| *what);
        }
        if self.cv_type == CvType::Docx && !self.package_part_seen {
            self.package_part_seen = window.windows(19).any(|w| w == b"[Content_Types].xml");
        }
        let keep = window.len().min(CARRY);
        self.carry = window[window.len() - keep..].to_vec();
    }

    pub fn finish(self) -> Scanned {
        use sha2::Digest;
        let missing_package = self.cv_type == CvType::Docx && !self.package_part_seen;
        Scanned {
            sha256: hex::encode(self.hasher.finalize()),
            active_content: self.active.or(missing_package.then_some("no Word package (a bare ZIP)")),
        }
    }
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
    /// Streams the whole object through `scan`, once.
    fn scan(
        &self,
        key: &str,
        version_id: Option<&str>,
        scan: ContentScan,
    ) -> impl Future<Output = Result<Scanned, UploadsError>> + Send;
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The object is gone already: nothing to do.
    Gone,
    Checked {
        rejected: bool,
        recorded: CvRecorded,
    },
}

/// Checks one uploaded version of a CV and records the result on its application.
pub async fn verify_upload<F: UploadedCvs, S: CvStore + OutboxStore + RateLimiter + DeliveryStore>(
    files: &F,
    store: &S,
    hash_key: &SecretKey,
    clock: &dyn Clock,
    key: &str,
    version_id: Option<String>,
    max_bytes: u64,
) -> Result<Verified, VerifyError> {
    let Some(head) = files.head(key, version_id.as_deref()).await? else {
        return Ok(Verified::Gone);
    };
    // The applicant's language, as the upload was granted in it: the verdict speaks it.
    let lang =
        head.metadata.get("language").and_then(|code| crate::i18n::Lang::from_code(code)).unwrap_or_default();
    crate::i18n::scope(lang, async move {
        let version_id = head.version_id.clone().or(version_id);
        let application_id = key.split('/').nth(1).unwrap_or_default().to_owned();
        // Pinned by the upload's signed policy to the grant's profile: Steward wrote it, not the browser.
        let profile_id = ProfileId::from_stored(head.metadata.get("profile-id").cloned().unwrap_or_default());
        let size = head.size;
        let declared = head.content_type.as_deref();
        let verdict = if head.metadata.get("application-id") != Some(&application_id) || profile_id.is_empty() {
            Verdict::Reject(crate::t!("cv-reason-no-application"))
        } else if size == 0 || size > max_bytes {
            judge(size, max_bytes, declared, &[])
        } else {
            let bytes = files.first_bytes(key, version_id.as_deref(), SNIFF_BYTES).await?;
            judge(size, max_bytes, declared, &bytes)
        };
        let outcome = match verdict {
            Verdict::Accept(cv_type) => {
                let scanned = files.scan(key, version_id.as_deref(), ContentScan::new(cv_type)).await?;
                match scanned.active_content {
                    None => CvOutcome::Verified { cv_type, size, sha256: scanned.sha256 },
                    // Only files recruiters can open safely: no macros, scripts or embedded programs.
                    Some(what) => CvOutcome::Rejected {
                        reason: crate::t!("cv-reason-active-content", what = active_content_words(what)),
                    },
                }
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
        // Its applicant's page waits for this: told only what the check found, never "uploaded".
        if let Some(verdict) = CvVerdict::of(&check.outcome, &recorded) {
            let until = check.checked_at.epoch_seconds() + VERDICT_KEPT_SECONDS;
            store.keep_verdict(&check.application_id, key, &verdict, until).await?;
            // The file's fate comes first: a mail that cannot be owed now is logged, never a reason
            // to leave a refused file in the bucket or a good one unmarked.
            if let Err(err) = tell_the_applicant(store, hash_key, &check, &verdict).await {
                tracing::error!(application_id = check.application_id.as_str(), error = %err, "the applicant could not be told the verdict");
            }
        }
        // An application keeps one file, its latest upload's: anything else is deleted, so a grant's
        // few uploads leave one file behind, not a pile kept for months.
        let superseded = matches!(recorded, CvRecorded::ApplicationMissing | CvRecorded::Superseded);
        if let CvRecorded::Replaced { earlier } = &recorded {
            files.delete(&earlier.key, earlier.version_id.as_deref()).await?;
        }
        if rejected || superseded {
            files.delete(key, version_id.as_deref()).await?;
        } else {
            files.mark_verified(key, version_id.as_deref()).await?;
        }
        // The recruiters' destinations that got the application learn that its CV can be opened
        // (never the file: a recruiter fetches it with a short-lived link). Only once the file's
        // fate is settled: a failure here has the notice delivered again, and the same event id
        // makes that one event.
    if !rejected && !superseded {
            let event = DomainEvent::new(
                EventType::CvVerified,
                &format!("{}|{key}", check.application_id),
                check.checked_at,
                serde_json::json!({
                    "person_id": check.profile_id,
                    "submission_id": check.application_id,
                    "checked_at": check.checked_at.rfc3339(),
                }),
            );
            let now = check.checked_at.epoch_seconds();
            destinations::announce(store, &check.profile_id, Some(&check.application_id), event, now).await?;
        }

        Ok(Verified::Checked { rejected, recorded })
    })
    .await
}

/// The applicant hears what became of their file by mail too (the page may be closed): accepted,
/// or refused and why. A replaced file's verdict changes nothing for them, so it sends nothing.
/// Each upload's mail is one message however often its notification comes, and an address gets a
/// few a day: anyone can type it into the careers form.
async fn tell_the_applicant<S: CvStore + OutboxStore + RateLimiter>(
    store: &S,
    hash_key: &SecretKey,
    check: &CvCheck,
    verdict: &CvVerdict,
) -> Result<(), VerifyError> {
    let (subject, values) = match verdict {
        CvVerdict::Accepted => (crate::t!("subject-cv-accepted"), serde_json::json!({ "accepted": true })),
        CvVerdict::Rejected { reason, earlier_kept } => (
            crate::t!("subject-cv-rejected"),
            serde_json::json!({ "accepted": false, "reason": reason, "earlier_kept": earlier_kept }),
        ),
        CvVerdict::Checking | CvVerdict::Replaced => return Ok(()),
    };
    let Some(to) = store.applicant_address(&check.profile_id).await? else { return Ok(()) };
    let upload = check.key.rsplit('/').next().unwrap_or_default();
    // Never the file's name: anyone can apply with another's address, and a name is theirs to
    // choose, so it would put their words in mail from the company to someone who never asked.
    let mut values = values;
    values["reference"] = check.application_id.clone().into();
    let message = OutboxMessage {
        id: format!("cv-verdict-{upload}"),
        kind: MailKind::Transactional,
        to,
        profile_id: check.profile_id.clone(),
        subject,
        template: "cv_verdict".to_owned(),
        lang: crate::i18n::Lang::current(),
        values,
        topic: None,
        unsubscribe_url: None,
    };
    let now = check.checked_at.epoch_seconds();
    if may_mail(store, hash_key, MailPurpose::CvVerdict, &message.to, &message.id, now).await? {
        store.enqueue(&message, now).await?;
    }
    Ok(())
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

    fn scanned(cv_type: CvType, chunks: &[&[u8]]) -> Option<&'static str> {
        let mut scan = ContentScan::new(cv_type);
        for chunk in chunks {
            scan.feed(chunk);
        }
        scan.finish().active_content
    }

    #[test]
    fn files_with_macros_scripts_or_embedded_programs_are_found_wherever_the_marker_falls() {
        let docx: &[u8] =
            b"PK\x03\x04[Content_Types].xml....PK\x03\x04word/document.xml....PK\x03\x04word/vbaProject.bin";
        assert_eq!(scanned(CvType::Docx, &[docx]), Some("a VBA macro project"));
        let (left, right) = docx.split_at(docx.len() - 5);
        assert_eq!(scanned(CvType::Docx, &[left, right]), Some("a VBA macro project"), "split across chunks");
        assert_eq!(
            scanned(CvType::Docx, &[b"PK\x03\x04word/document.xml....evil.exe"]),
            Some("no Word package (a bare ZIP)")
        );
        let doc: Vec<u8> =
            "Root Entry\0Macros\0_VBA_PROJECT".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(scanned(CvType::Doc, &[&doc]), Some("a VBA macro project"));
        assert!(scanned(CvType::Rtf, &[b"{\\rtf1{\\object\\objemb{\\*\\objdata 0105}}}"]).is_some());
        assert!(scanned(CvType::Pdf, &[b"%PDF-1.7 1 0 obj<</S/JavaScript/JS(app.alert(1))>>"]).is_some());
        assert_eq!(scanned(CvType::Pdf, &[b"%PDF-1.4 BT (Node.js/JavaScript, Product/Launch) Tj ET"]), None);
        let chart: &[u8] =
            b"PK\x03\x04[Content_Types].xml..PK\x03\x04word/embeddings/Microsoft_Excel_Worksheet.xlsx";
        assert_eq!(scanned(CvType::Docx, &[chart]), None, "a chart's data is no program");
        assert!(scanned(CvType::Odt, &[b"PK\x03\x04mimetype....Basic/Standard/Module1.xml"]).is_some());
        assert_eq!(scanned(CvType::Pdf, &[PDF]), None, "a plain PDF is fine");
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
            let mut scan = ContentScan::new(cv_type);
            for chunk in bytes.chunks(1000) {
                scan.feed(chunk);
            }
            assert_eq!(scan.finish().active_content, None, "{name} holds nothing active");
        }
        assert_eq!(sniff(&fixture("program-renamed.pdf")), None);
    }
}
