//! How each use case's failures answer, in one place for the whole privacy center.

use steward_core::domain::ports::StoreError;
use steward_core::domain::privacy::access::PrivacyError;
use steward_core::domain::privacy::erasure::ErasureError;
use steward_core::domain::privacy::rights::RightsError;
use steward_core::http::problem::Problem;
use steward_core::t;

pub fn store_problem(err: StoreError) -> Problem {
    tracing::error!(error = %steward_core::telemetry::error_chain(&err), "privacy store failed");
    Problem::from_store(&err)
}

pub fn invalid_link(reason: impl std::fmt::Display) -> Problem {
    tracing::info!(%reason, "link refused");
    Problem::new(403, "invalid_token", t!("problem-invalid-link"))
        .with_detail(t!("problem-invalid-link-detail"))
}

pub fn link_used() -> Problem {
    Problem::new(403, "link_used", t!("problem-link-used")).with_detail(t!("problem-link-used-detail"))
}

pub fn privacy_problem(err: PrivacyError) -> Problem {
    match err {
        PrivacyError::RateLimited(wait) => {
            Problem::new(429, "rate_limited", t!("problem-rate-limited")).with_retry_after(wait.as_secs())
        }
        PrivacyError::InvalidLink(reason) => invalid_link(reason),
        PrivacyError::LinkUsed => link_used(),
        PrivacyError::Proof(refused) => Problem::proof_refused(refused),
        PrivacyError::NotSignedIn(_) => Problem::new(401, "not_signed_in", t!("problem-session-ended"))
            .with_detail(t!("problem-session-ended-detail")),
        PrivacyError::Store(err) => store_problem(err),
    }
}

pub fn rights_problem(err: RightsError) -> Problem {
    match err {
        RightsError::Invalid(errors) => Problem::validation(errors),
        RightsError::NotFound => Problem::not_found("person"),
        RightsError::NoSuchRequest => Problem::not_found("request"),
        RightsError::InvalidLink(reason) => invalid_link(reason),
        RightsError::LinkUsed => link_used(),
        RightsError::EmailTaken => Problem::new(409, "email_taken", t!("problem-email-taken"))
            .with_detail(t!("problem-email-taken-detail")),
        RightsError::RateLimited(wait) => {
            Problem::new(429, "rate_limited", t!("problem-rate-limited")).with_retry_after(wait.as_secs())
        }
        RightsError::Store(err) => store_problem(err),
    }
}

pub fn erasure_problem(err: ErasureError) -> Problem {
    match err {
        ErasureError::Store(err) => store_problem(err),
        ErasureError::Cv(err) => {
            // Nothing is lost: asking again finishes the erasure.
            tracing::error!(error = %err, "erasure stopped at the CV bucket");
            Problem::unavailable(5).with_detail(t!("problem-erasure-in-progress"))
        }
    }
}
