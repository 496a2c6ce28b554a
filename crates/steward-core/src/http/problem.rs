//! RFC 9457 problem details. `type` and `code` are stable: clients may branch on them.

use serde::Serialize;

use crate::t;

use super::body::BodyError;
use crate::domain::fields::FieldError;
use crate::domain::forms::proof::ProofError;
use crate::domain::ports::StoreError;

pub const CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip)]
    pub retry_after_seconds: Option<u64>,
}

impl Problem {
    /// The one answer to a store that failed: 503 (worth retrying) when DynamoDB or S3 was
    /// throttled or unreachable, 500 otherwise. The body says nothing of the cause; the caller logs
    /// it (`telemetry::error_chain`: AWS error codes and ids, never personal data).
    pub fn from_store(err: &StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => Self::unavailable(2),
            StoreError::Unexpected(_) => Self::internal(),
        }
    }

    pub fn new(status: u16, code: &'static str, title: impl Into<String>) -> Self {
        Self {
            type_uri: format!("urn:steward:problem:{code}"),
            title: title.into(),
            status,
            code,
            detail: None,
            errors: Vec::new(),
            request_id: None,
            retry_after_seconds: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    /// A proof of work that does not hold (`forms::proof`), naming its field as a form's error.
    pub fn proof_refused(refused: ProofError) -> Self {
        use crate::domain::forms::proof::{FIELD, TURNSTILE_FIELD};
        let (field, code, message) = match refused {
            ProofError::Expired => (FIELD, "proof_expired", t!("error-proof-expired")),
            ProofError::Used => (FIELD, "proof_used", t!("error-proof-used")),
            ProofError::Malformed | ProofError::Wrong => (FIELD, "proof_invalid", t!("error-proof-invalid")),
            ProofError::TurnstileRefused => {
                (TURNSTILE_FIELD, "turnstile_failed", t!("error-turnstile-failed"))
            }
        };
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::new(422, "validation_failed", t!("problem-validation-failed"))
            .with_detail(t!("problem-validation-failed-detail"))
            .with_errors(errors)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", t!("problem-not-found-what", what = what))
    }

    /// The answer to a failure we did not expect: nothing internal, only the request id.
    pub fn internal() -> Self {
        Self::new(500, "internal_error", t!("problem-internal-error"))
            .with_detail(t!("problem-internal-error-detail"))
    }

    pub fn unavailable(retry_after_seconds: u64) -> Self {
        Self::new(503, "temporarily_unavailable", t!("problem-temporarily-unavailable"))
            .with_detail(t!("problem-temporarily-unavailable-detail"))
            .with_retry_after(retry_after_seconds)
    }
}

/// The problem for a body that could not be read, with a status that says why.
pub fn body_problem(err: &BodyError) -> Problem {
    let (status, code) = match err {
        BodyError::TooLarge { .. } => (413, "body_too_large"),
        BodyError::UnsupportedMediaType(_) => (415, "unsupported_media_type"),
        BodyError::InvalidUtf8 => (400, "invalid_utf8"),
        BodyError::InvalidBase64 => (400, "invalid_base64"),
        BodyError::MalformedJson(_) | BodyError::JsonNotAnObject => (400, "malformed_json"),
        BodyError::MalformedMultipart(_) => (400, "malformed_multipart"),
        BodyError::Empty => (400, "empty_body"),
    };
    // In the visitor's words; the reasons a parser gives (line and column) are its own.
    let detail = match err {
        BodyError::TooLarge { limit } => t!("body-too-large", limit = *limit),
        BodyError::UnsupportedMediaType(media_type) => {
            t!("body-unsupported-media-type", media = media_type.as_str())
        }
        BodyError::InvalidUtf8 => t!("body-invalid-utf8"),
        BodyError::InvalidBase64 => t!("body-invalid-base64"),
        BodyError::MalformedJson(reason) => t!("body-malformed-json", reason = reason.as_str()),
        BodyError::JsonNotAnObject => t!("body-json-not-an-object"),
        BodyError::MalformedMultipart(reason) => t!("body-malformed-multipart", reason = reason.as_str()),
        BodyError::Empty => t!("body-empty"),
    };
    Problem::new(status, code, t!("problem-unreadable-body")).with_detail(detail)
}
