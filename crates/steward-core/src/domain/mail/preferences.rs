//! Mail preferences: double opt-in, one-click unsubscribe and the preference center. Every change
//! is logged with its time, source and the id of the token that made it.
//!
//! Consent only grows through the address: a confirmation link confirms exactly the topics its
//! mail named, and topics added in the preference center wait for one. Removing is instant.

use crate::domain::destinations::{self, DeliveryStore};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use crate::config::Config;
use crate::domain::ids::ProfileId;
use crate::domain::mail::confirmation::{confirmation_mail, may_send_confirmation, topics_of};
use crate::domain::mail::outbox::OutboxStore;
use crate::domain::mail::recipients::MailPurpose;
use crate::domain::ports::RateLimiter;
use crate::domain::ports::StoreError;
use crate::time::Timestamp;

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
    /// Consent to marketing withdrawn in the privacy center.
    pub withdrawn: bool,
    /// Bounced or complained.
    pub suppressed: bool,
    /// Processing restricted or objected to: owed no mail a preference change could trigger.
    pub limited: bool,
}

impl MailPreferences {
    /// The topics marketing actually goes out for today.
    pub fn receiving(&self) -> BTreeSet<String> {
        if self.unsubscribed_all || self.withdrawn || self.suppressed {
            return BTreeSet::new();
        }
        self.topics.clone()
    }
}

/// What the person's click on a confirmation link showed of them: the evidence kept with the
/// consent it gives, as with the form that asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickEvidence {
    pub source_ip: String,
    pub user_agent: Option<String>,
    /// The policy in force when the person clicked.
    pub policy_version: String,
}

/// What a preference change does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreferenceChange {
    /// Confirms these topics where they are still pending: the ones the confirmation mail named,
    /// never one ticked in the person's name after it was sent. Consent given again from the
    /// address ends "unsubscribed from everything" and a withdrawal of marketing consent.
    Confirm {
        topics: BTreeSet<String>,
        click: ClickEvidence,
    },
    Unsubscribe {
        topic: Option<String>,
    },
    /// The preference center's choice: marketing for `keep` (already confirmed topics; anything
    /// else is ignored), and `pending` waiting for a confirmation. Never lifts anything.
    Choose {
        keep: BTreeSet<String>,
        pending: BTreeSet<String>,
    },
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

/// How long a preference-center link works. It can only narrow what is sent at once (adding
/// topics asks the address again), but it is a bearer link in a mail that may be forwarded, so it
/// lapses; a one-click unsubscribe link never does.
pub const PREFERENCE_LINK_DAYS: u32 = 60;

/// A preference-center link's token for this person, from `now`. Minted only where the address
/// itself was reached: in a marketing mail, or after a confirmation from it; never from an
/// unsubscribe link, which a mail provider's one-click handler also holds.
pub fn preference_token(keys: &crate::token::TokenKeys, profile: &ProfileId, now: Timestamp) -> String {
    let expires = now.plus_days(PREFERENCE_LINK_DAYS).epoch_seconds();
    keys.sign(crate::token::Purpose::Preferences, "preferences", profile, Some(expires))
}

// --- Use cases ----------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum PreferencesError {
    /// The link's person is no longer held (erased): nothing to confirm or choose.
    #[error("no one is held for this link")]
    NotHeld,
    /// A confirmation link that names no topics (one minted before links named them).
    #[error("the confirmation link names no topics")]
    NamesNoTopics,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a confirmation click did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// The topics the link named are received now (confirmed by this click, or before it).
    Receiving(MailPreferences),
    /// Nothing the link named is pending or received any more: the person unsubscribed,
    /// withdrew or changed their choice since the mail was sent. Nothing changed.
    NothingLeft,
}

/// The confirmation link's POST: confirms the topics its mail named, with the click's evidence.
pub async fn confirm_subscription<S: PreferenceStore + DeliveryStore>(
    store: &S,
    profile: &ProfileId,
    link_subject: &str,
    click: ClickEvidence,
    token_id: &str,
    now: Timestamp,
) -> Result<Confirmed, PreferencesError> {
    let topics = topics_of(link_subject).ok_or(PreferencesError::NamesNoTopics)?;
    let before = store.preferences(profile).await?.map(|p| p.receiving()).unwrap_or_default();
    let change = PreferenceChange::Confirm { topics: topics.clone(), click };
    let preferences = store
        .change_preferences(profile, &change, ChangeSource::Confirmation, token_id)
        .await?
        .ok_or(PreferencesError::NotHeld)?;
    if preferences.receiving().is_disjoint(&topics) {
        return Ok(Confirmed::NothingLeft);
    }
    // The address is proven now: the destinations that got the person's data (a CRM that holds
    // their ticked topics) learn that marketing on these topics may go.
    // Newly confirmed (not a second click on an old link): the destinations that got the person's
    // data learn that marketing on these topics may go, and what waited for this consent (a
    // marketing destination's copy of a form) goes now, with the topics confirmed. Never while
    // the person restricts the use of their data or objects.
    let confirmed: BTreeSet<String> =
        preferences.receiving().intersection(&topics).filter(|t| !before.contains(*t)).cloned().collect();
    if !confirmed.is_empty() && !preferences.limited {
        let event = destinations::consent_event(profile, "marketing", true, Some(&confirmed), now);
        destinations::announce(store, profile, None, event, now.epoch_seconds()).await?;
        destinations::release_confirmed(store, profile, &preferences.receiving(), now.epoch_seconds())
            .await?;
    }
    Ok(Confirmed::Receiving(preferences))
}

/// One-click unsubscribe, from one topic or from everything: instant, and owed no confirmation.
pub async fn unsubscribe<S: PreferenceStore + DeliveryStore>(
    store: &S,
    profile: &ProfileId,
    topic: Option<String>,
    source: ChangeSource,
    token_id: &str,
    now: Timestamp,
) -> Result<Option<MailPreferences>, PreferencesError> {
    let before = store.preferences(profile).await?.map(|p| p.receiving()).unwrap_or_default();
    let change = PreferenceChange::Unsubscribe { topic: topic.clone() };
    let after = store.change_preferences(profile, &change, source, token_id).await?;
    if let Some(after) = &after {
        // Every destination that got the person's data stops marketing to them too: only what
        // really stopped (a second click, or a link forwarded and clicked again, tells no one).
        let stopped: BTreeSet<String> = before.difference(&after.receiving()).cloned().collect();
        if !stopped.is_empty() {
            let event = destinations::consent_event(profile, "marketing", false, Some(&stopped), now);
            destinations::announce(store, profile, None, event, now.epoch_seconds()).await?;
        }
    }
    Ok(after)
}

/// What saving the preference center did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub preferences: MailPreferences,
    /// Topics added, waiting for the confirmation just mailed to the person's address.
    pub awaiting_confirmation: BTreeSet<String>,
    /// Topics added that no confirmation could be mailed for (the address is suppressed,
    /// processing is restricted or objected to, or the day's confirmations are used up).
    pub not_mailable: bool,
}

/// The preference center's save: unticked topics stop at once; ticked topics the person does not
/// already receive wait for a confirmation mailed to the profile's own address, exactly as a
/// form's do. `chosen` holds catalogue topics only.
pub async fn choose_topics<S: PreferenceStore + OutboxStore + RateLimiter + DeliveryStore>(
    store: &S,
    config: &Config,
    labels: &BTreeMap<String, String>,
    profile: &ProfileId,
    chosen: BTreeSet<String>,
    token_id: &str,
    now: Timestamp,
) -> Result<Chosen, PreferencesError> {
    let current = store.preferences(profile).await?.ok_or(PreferencesError::NotHeld)?;
    let keep: BTreeSet<String> = current.receiving().intersection(&chosen).cloned().collect();
    let pending: BTreeSet<String> = chosen.difference(&keep).cloned().collect();
    let change = PreferenceChange::Choose { keep, pending: pending.clone() };
    let preferences = store
        .change_preferences(profile, &change, ChangeSource::Preferences, token_id)
        .await?
        .ok_or(PreferencesError::NotHeld)?;
    // Topics unticked stop at the destinations that got the person's data too.
    let stopped: BTreeSet<String> = current.receiving().difference(&chosen).cloned().collect();
    if !stopped.is_empty() {
        let event = destinations::consent_event(profile, "marketing", false, Some(&stopped), now);
        destinations::announce(store, profile, None, event, now.epoch_seconds()).await?;
    }
    let message = confirmation_mail(config, labels, &preferences.email, profile, &pending, now);
    let purpose = MailPurpose::ChosenTopicsConfirmation;
    let mailable = !preferences.suppressed
        && !preferences.limited
        && (pending.is_empty() || may_send_confirmation(store, config, &message, purpose, now).await?);
    if !pending.is_empty() && mailable {
        store.enqueue(&message, now.epoch_seconds()).await?;
    }
    Ok(Chosen {
        preferences,
        not_mailable: !pending.is_empty() && !mailable,
        awaiting_confirmation: if mailable { pending } else { BTreeSet::new() },
    })
}
