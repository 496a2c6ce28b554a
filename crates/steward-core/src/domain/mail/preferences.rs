//! Mail preferences: double opt-in, one-click unsubscribe and the preference center. Every change
//! is logged with its time, source and the id of the token that made it.

use std::collections::BTreeSet;
use std::future::Future;

use crate::domain::ids::ProfileId;
use crate::domain::ports::StoreError;

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    OneClick,
    UnsubscribePage,
    Preferences,
    Confirmation,
    Bounce,
    Complaint,
}

impl ChangeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneClick => "one-click",
            Self::UnsubscribePage => "unsubscribe-page",
            Self::Preferences => "preferences",
            Self::Confirmation => "confirmation",
            Self::Bounce => "bounce",
            Self::Complaint => "complaint",
        }
    }
}

/// A person's mail preferences as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailPreferences {
    pub email: String,
    pub name: Option<String>,
    /// Confirmed topics: the only ones marketing mail is sent for.
    pub topics: BTreeSet<String>,
    /// Ticked on a form, waiting for the confirmation link.
    pub pending: BTreeSet<String>,
    pub unsubscribed_all: bool,
    pub suppressed: bool,
}

/// What a preference change does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreferenceChange {
    ConfirmPending,
    Unsubscribe { topic: Option<String> },
    Set { topics: BTreeSet<String>, unsubscribed_all: bool },
}

pub trait PreferenceStore {
    fn preferences(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<Option<MailPreferences>, StoreError>> + Send;
    /// Applies a change and logs it, in one step; applying it again changes nothing more.
    fn change_preferences(
        &self,
        profile_id: &ProfileId,
        change: &PreferenceChange,
        source: ChangeSource,
        token_id: &str,
    ) -> impl Future<Output = Result<Option<MailPreferences>, StoreError>> + Send;
}

pub trait SuppressionStore {
    /// Never send marketing to this address again: marks its profile (logging the change) and
    /// keeps a suppression entry keyed by a keyed hash of the address, which outlives the profile.
    fn suppress(
        &self,
        email: &str,
        source: ChangeSource,
        detail: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
