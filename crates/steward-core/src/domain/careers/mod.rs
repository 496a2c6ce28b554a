//! Careers applications' CVs: which files are accepted, the upload grant an applicant gets with
//! their application, and the upload itself, which goes from the browser straight to a private S3
//! bucket. Lambda never carries the file.

pub mod verification;

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::domain::fields::FieldError;
use crate::domain::ids::{ProfileId, SubmissionId};
use crate::domain::ports::{FixedWindow, RateLimiter, StoreError};
use crate::t;
use crate::token::{Claims, Purpose, TokenError, TokenKeys};

/// The CV file types accepted, by their exact media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CvType {
    Pdf,
    Doc,
    Docx,
    Odt,
    Rtf,
}

impl CvType {
    pub const ALL: [CvType; 5] = [Self::Pdf, Self::Doc, Self::Docx, Self::Odt, Self::Rtf];

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Doc => "application/msword",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Rtf => "application/rtf",
        }
    }

    pub fn from_media_type(media_type: &str) -> Option<Self> {
        let media_type = media_type.trim().to_ascii_lowercase();
        let media_type = if media_type == "text/rtf" { "application/rtf" } else { media_type.as_str() };
        Self::ALL.into_iter().find(|t| t.media_type() == media_type)
    }
}

/// The grant that comes with a careers application: it lets that applicant, and no one else,
/// upload a CV for that application until it expires.
pub fn upload_token(
    keys: &TokenKeys,
    application: &SubmissionId,
    profile: &ProfileId,
    now: SystemTime,
    valid_for: Duration,
) -> String {
    let expires_at = epoch_seconds(now + valid_for);
    keys.sign(Purpose::CvUpload, application.as_str(), profile, Some(expires_at))
}

fn epoch_seconds(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// What checking an uploaded CV found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CvOutcome {
    Verified { cv_type: CvType, size: u64, sha256: String },
    Rejected { reason: String },
}

/// The result of checking one uploaded object, recorded on its application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvCheck {
    pub application_id: String,
    pub profile_id: ProfileId,
    pub key: String,
    pub version_id: Option<String>,
    /// When S3 stored the object; a later upload's result is never replaced by an earlier one's.
    pub uploaded_at: i64,
    pub checked_at: crate::time::Timestamp,
    pub file_name: Option<String>,
    pub outcome: CvOutcome,
}

/// What one upload may be.
#[derive(Debug, Clone)]
pub struct UploadRules<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub content_type: &'a str,
    pub max_bytes: u64,
    /// `x-amz-meta-<name>` values; they must be ASCII, as S3 metadata is sent in headers.
    pub metadata: Vec<(&'a str, String)>,
    /// `AES256` (S3-managed keys) or `aws:kms`.
    pub server_side_encryption: &'a str,
    pub valid_for: Duration,
}

/// What the browser needs: where to POST and the form fields to send before the file.
#[derive(Debug, Clone)]
pub struct PresignedPost {
    pub url: String,
    /// In the order a form should send them; the file goes last.
    pub fields: Vec<(String, String)>,
    pub expires_at: SystemTime,
    /// The decoded policy, for tests and logs (it holds no secret).
    pub policy: serde_json::Value,
}

/// The port: signs a grant that lets a browser upload exactly what `rules` allow, straight to the
/// bucket (S3's presigned POST in `adapters::s3::post`).
pub trait UploadSigner {
    fn presign(&self, rules: &UploadRules<'_>, now: SystemTime) -> PresignedPost;
}

/// Where the CVs go and what they may be.
#[derive(Debug, Clone)]
pub struct CvBucket {
    pub name: String,
    /// The URL browsers POST to.
    pub url: String,
    pub region: String,
    pub max_bytes: u64,
    pub url_valid_for: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    pub token: String,
    pub content_type: String,
    pub file_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the upload token is not valid: {0}")]
    Forbidden(TokenError),
    #[error("the upload request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("the application's grant has had its uploads")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Upload links one application may have: a person retrying, or choosing a better file, needs a
/// few; a script replaying its grant (or the submission, for another grant) gets no more (each
/// upload is read in full once, and only the application's latest file is kept).
pub const UPLOADS_PER_GRANT: u32 = 5;

/// The object key of a new CV: chosen by the server, under the application's prefix.
pub fn object_key(application: &str) -> String {
    format!("cv/{application}/{}", uuid::Uuid::new_v4().simple())
}

/// Checks the grant and the declared file, counts the upload against the grant's few, and signs
/// a POST that allows exactly that upload.
pub async fn authorize_upload(
    keys: &TokenKeys,
    bucket: &CvBucket,
    signer: &impl UploadSigner,
    uploads: &impl RateLimiter,
    request: &UploadRequest,
    now: SystemTime,
) -> Result<(Claims, String, PresignedPost), UploadError> {
    let claims =
        keys.verify(&request.token, Purpose::CvUpload, epoch_seconds(now)).map_err(UploadError::Forbidden)?;
    let Some(cv_type) = CvType::from_media_type(&request.content_type) else {
        return Err(UploadError::Invalid(vec![FieldError::new(
            "content_type",
            "unsupported_file_type",
            t!("error-unsupported-file-type"),
        )]));
    };
    // Counted per application, whichever of its grants asks (a replayed submission hands out a
    // new one), once per request: a retry of this request by the store's client counts once. The
    // count lasts an hour past the grant's end.
    let expires_at = claims.expires_at.unwrap_or_else(|| epoch_seconds(now));
    let grant = FixedWindow { start: 0, end: expires_at + 3600 };
    let this_request = uuid::Uuid::new_v4().simple().to_string();
    let count =
        uploads.hit_once("cv-grant", &claims.subject, &this_request, UPLOADS_PER_GRANT, grant).await?;
    if count > UPLOADS_PER_GRANT {
        return Err(UploadError::TooMany);
    }
    let key = object_key(&claims.subject);
    let mut metadata =
        vec![("application-id", claims.subject.clone()), ("profile-id", claims.profile_id.to_string())];
    // The applicant's language, so the verdict (on the page and by mail) speaks it.
    metadata.push(("language", crate::i18n::Lang::current().code().to_owned()));
    if let Some(name) = request.file_name.as_deref().map(sanitize_file_name).filter(|n| !n.is_empty()) {
        metadata.push(("original-filename", name));
    }
    let rules = UploadRules {
        bucket: &bucket.name,
        key: &key,
        content_type: cv_type.media_type(),
        max_bytes: bucket.max_bytes,
        metadata,
        server_side_encryption: "AES256",
        valid_for: bucket.url_valid_for,
    };
    let post = signer.presign(&rules, now);
    Ok((claims, key, post))
}

/// The browser's file name, kept only as metadata: its last path segment, without control
/// characters, at most 150 characters, percent-encoded outside printable ASCII (S3 metadata
/// travels in HTTP headers).
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(150).collect();
    let mut out = String::new();
    for c in cleaned.trim().chars() {
        if c.is_ascii_graphic() && c != '%' || c == ' ' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

/// A stored file name as people read it again (`Zoë CV.pdf`, not `Zo%C3%AB CV.pdf`), for pages
/// that escape what they show.
pub fn file_name_for_display(stored: &str) -> String {
    percent_encoding::percent_decode_str(stored).decode_utf8_lossy().into_owned()
}

// --- The port this use case needs ---------------------------------------------------------

/// One stored version of a CV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvFile {
    pub key: String,
    pub version_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CvRecorded {
    Recorded,
    /// Recorded in place of an earlier upload's file, which is no longer the application's.
    Replaced {
        earlier: CvFile,
    },
    /// No such application (erased, expired or never made): the object should not be kept.
    ApplicationMissing,
    /// The application keeps another file: a later upload's (at the same second, the greater
    /// key's), or, against a rejected upload, a verified one. This one changes nothing.
    Superseded,
}

impl CvRecorded {
    /// A check recorded where `earlier` (the application's file until now, if any) was.
    pub fn replacing(earlier: Option<CvFile>, check: &CvCheck) -> Self {
        match earlier {
            Some(earlier)
                if (earlier.key.as_str(), earlier.version_id.as_deref())
                    != (check.key.as_str(), check.version_id.as_deref()) =>
            {
                Self::Replaced { earlier }
            }
            _ => Self::Recorded,
        }
    }
}

pub trait CvStore {
    /// The address an applicant's profile holds now, to tell them what became of their file.
    fn applicant_address(
        &self,
        profile_id: &ProfileId,
    ) -> impl std::future::Future<Output = Result<Option<String>, crate::domain::ports::StoreError>> + Send;
    /// Records a CV check on its application, never replacing a later upload's result, nor a
    /// verified file's with a rejected one.
    fn record_cv(
        &self,
        check: &CvCheck,
    ) -> impl std::future::Future<Output = Result<CvRecorded, crate::domain::ports::StoreError>> + Send;
    /// Keeps what became of one upload for its applicant's page, until `until` (epoch seconds).
    fn keep_verdict(
        &self,
        application_id: &str,
        key: &str,
        verdict: &CvVerdict,
        until: i64,
    ) -> impl std::future::Future<Output = Result<(), crate::domain::ports::StoreError>> + Send;
    /// What became of one upload, as far as its check has got.
    fn cv_verdict(
        &self,
        application_id: &str,
        key: &str,
    ) -> impl std::future::Future<Output = Result<CvVerdict, crate::domain::ports::StoreError>> + Send;
}

/// How long an upload's verdict is kept for its page: the grant that reads it lasts an hour.
pub const VERDICT_KEPT_SECONDS: i64 = 86_400;

/// What an applicant's page says of the file they sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CvVerdict {
    /// Not checked yet (S3 tells the checker within seconds).
    Checking,
    /// Checked and attached to the application.
    Accepted,
    /// Checked, but a file sent later is the application's.
    Replaced,
    /// Not kept, and why; `earlier_kept` when the application keeps another file of its own.
    Rejected { reason: String, earlier_kept: bool },
}

impl CvVerdict {
    /// One upload's verdict, from its check and what recording it did.
    pub fn of(outcome: &CvOutcome, recorded: &CvRecorded) -> Option<Self> {
        let kept_another = matches!(recorded, CvRecorded::Superseded);
        match (outcome, recorded) {
            (_, CvRecorded::ApplicationMissing) => None,
            (CvOutcome::Rejected { reason }, _) => {
                Some(Self::Rejected { reason: reason.clone(), earlier_kept: kept_another })
            }
            (CvOutcome::Verified { .. }, _) if kept_another => Some(Self::Replaced),
            (CvOutcome::Verified { .. }, _) => Some(Self::Accepted),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerdictError {
    #[error("the upload token is not valid: {0}")]
    Forbidden(TokenError),
    /// The key is not one of this application's uploads.
    #[error("the key names no upload of this application")]
    NotThisApplication,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The verdict on one upload, for the applicant holding the application's grant: the page waits
/// for it, so that nobody is told a file is uploaded that was then refused.
pub async fn upload_verdict<S: CvStore>(
    keys: &TokenKeys,
    store: &S,
    token: &str,
    key: &str,
    now: SystemTime,
) -> Result<CvVerdict, VerdictError> {
    let claims =
        keys.verify(token, Purpose::CvUpload, epoch_seconds(now)).map_err(VerdictError::Forbidden)?;
    if !key
        .strip_prefix(&format!("cv/{}/", claims.subject))
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    {
        return Err(VerdictError::NotThisApplication);
    }
    Ok(store.cv_verdict(&claims.subject, key).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_document_types_are_accepted() {
        assert_eq!(CvType::from_media_type("application/pdf"), Some(CvType::Pdf));
        assert_eq!(CvType::from_media_type("TEXT/RTF"), Some(CvType::Rtf));
        for bad in ["application/x-msdownload", "image/png", "application/pdf; x=1", "", "text/html"] {
            assert_eq!(CvType::from_media_type(bad), None, "{bad}");
        }
    }

    #[test]
    fn file_names_are_reduced_to_safe_metadata() {
        assert_eq!(sanitize_file_name("C:\\Users\\zoë\\My CV.pdf"), "My CV.pdf");
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("Zoë\r\nX-Evil: 1.pdf"), "Zo%C3%ABX-Evil: 1.pdf");
        assert_eq!(sanitize_file_name("100%.pdf"), "100%25.pdf");
        assert_eq!(sanitize_file_name(&"a".repeat(400)).len(), 150);
    }

    fn bucket() -> CvBucket {
        CvBucket {
            name: "cvs".into(),
            url: "https://cvs.s3.eu-west-1.amazonaws.com/".into(),
            region: "eu-west-1".into(),
            max_bytes: 1000,
            url_valid_for: Duration::from_secs(300),
        }
    }

    /// Signs nothing: hands back the rules as form fields, so a test sees what the use case asked
    /// the bucket to allow.
    struct RulesAsFields;

    impl UploadSigner for RulesAsFields {
        fn presign(&self, rules: &UploadRules<'_>, now: SystemTime) -> PresignedPost {
            let fields =
                rules.metadata.iter().map(|(name, value)| (format!("x-amz-meta-{name}"), value.clone()));
            PresignedPost {
                url: String::new(),
                fields: fields.collect(),
                expires_at: now + rules.valid_for,
                policy: serde_json::Value::Null,
            }
        }
    }

    #[tokio::test]
    async fn an_applicant_gets_a_post_for_their_application_only() {
        let keys = TokenKeys::everywhere(
            crate::token::KeyRing::parse("k1:0123456789abcdef0123456789abcdef").unwrap(),
        );
        let now = SystemTime::now();
        let token = upload_token(
            &keys,
            &SubmissionId::new_random(),
            &ProfileId::new_random(),
            now,
            Duration::from_secs(60),
        );
        let request =
            UploadRequest { token, content_type: "application/pdf".into(), file_name: Some("cv.pdf".into()) };
        let store =
            crate::adapters::memory::MemoryStore::new(crate::secret::SecretKey::new(*b"0123456789abcdef"));
        let (claims, key, post) =
            authorize_upload(&keys, &bucket(), &RulesAsFields, &store, &request, now).await.unwrap();
        assert!(key.starts_with(&format!("cv/{}/", claims.subject)));
        assert!(post.fields.iter().any(|(n, v)| n == "x-amz-meta-original-filename" && v == "cv.pdf"));

        let later = now + Duration::from_secs(61);
        assert!(matches!(
            authorize_upload(&keys, &bucket(), &RulesAsFields, &store, &request, later).await,
            Err(UploadError::Forbidden(TokenError::Expired))
        ));
        let exe = UploadRequest { content_type: "application/x-msdownload".into(), ..request };
        assert!(matches!(
            authorize_upload(&keys, &bucket(), &RulesAsFields, &store, &exe, now).await,
            Err(UploadError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn a_grant_gives_a_few_uploads_and_no_more() {
        let keys = TokenKeys::everywhere(
            crate::token::KeyRing::parse("k1:0123456789abcdef0123456789abcdef").unwrap(),
        );
        let now = SystemTime::now();
        let store =
            crate::adapters::memory::MemoryStore::new(crate::secret::SecretKey::new(*b"0123456789abcdef"));
        let grant = |application: &SubmissionId| UploadRequest {
            token: upload_token(&keys, application, &ProfileId::new_random(), now, Duration::from_secs(60)),
            content_type: "application/pdf".into(),
            file_name: None,
        };
        let application = SubmissionId::new_random();
        let request = grant(&application);
        for _ in 0..UPLOADS_PER_GRANT {
            assert!(authorize_upload(&keys, &bucket(), &RulesAsFields, &store, &request, now).await.is_ok());
        }
        assert!(matches!(
            authorize_upload(&keys, &bucket(), &RulesAsFields, &store, &request, now).await,
            Err(UploadError::TooMany)
        ));
        let another = grant(&SubmissionId::new_random());
        assert!(authorize_upload(&keys, &bucket(), &RulesAsFields, &store, &another, now).await.is_ok());
    }
}
