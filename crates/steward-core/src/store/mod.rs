//! Persistence behind small traits, one per thing a use case needs. The DynamoDB implementation in
//! [`dynamodb`] is the one production and the tests run; the data model is in `docs/data-model.md`.

pub mod capacity;
pub mod dynamodb;

pub use crate::domain::payments::PaymentStore;

use std::future::Future;

use crate::domain::careers::CvCheck;
use crate::domain::ids::ProfileId;
use crate::domain::submit::NewSubmission;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out or the service is down: worth retrying later (503).
    #[error("the store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or a misconfiguration (500).
    #[error("the store failed")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Fixed-window counters that expire by themselves.
pub trait RateLimiter {
    /// Counts one more hit for `subject` in the window starting at `window_start`, and returns the
    /// window's count including this one. The counter expires after `window_end`.
    fn hit(
        &self,
        scope: &'static str,
        subject: &str,
        window_start: i64,
        window_end: i64,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
}

/// The profile a submission landed on, and the topics it has already confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertedProfile {
    pub id: ProfileId,
    pub confirmed_topics: std::collections::BTreeSet<String>,
    /// Bounced or complained: owed no mail of any kind that a form could trigger.
    pub suppressed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    AlreadyStored,
}

pub trait SubmissionStore {
    /// Stores the submission and creates or updates the person's profile from it (keyed by the
    /// email address, case-insensitively), both or neither. Concurrent calls for one address end
    /// with one profile; a submission whose id is already stored is not stored again.
    fn store_submission(
        &self,
        submission: &NewSubmission,
    ) -> impl Future<Output = Result<(UpsertedProfile, Inserted), StoreError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvRecorded {
    Recorded,
    /// No such application (erased, expired or never made): the object should not be kept.
    ApplicationMissing,
    /// A later upload's result is already recorded; this one changes nothing.
    NewerRecorded,
}

pub trait CvStore {
    /// Records a CV check on its application, never replacing a later upload's result.
    fn record_cv(&self, check: &CvCheck) -> impl Future<Output = Result<CvRecorded, StoreError>> + Send;
}
