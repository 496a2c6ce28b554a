//! Erasure: everything Steward holds about a person goes, except what the law makes us keep
//! (payment records, stripped of identity, with their own retention), and a keyed hash of the
//! address so that it is never mailed again. A confirmation goes out before the address is
//! forgotten, and an audit record without personal data says it happened.
//!
//! Each step can run again: an interrupted erasure is finished by asking again. The profile item
//! goes last, because it is how every other step finds the person.

use std::collections::BTreeSet;
use std::future::Future;

use crate::config::MailLinks;
use crate::domain::destinations::{self, Delivery, DeliveryStore, Target};
use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::{OutboxMessage, OutboxStore};
use crate::domain::ports::StoreError;
use crate::time::Timestamp;

/// How long payment records are kept after the payment, for tax and accounting law (the longest
/// of the places we sell in: seven years).
pub const PAYMENT_RETENTION_DAYS: i64 = 7 * 365;

/// Rate-limit scopes whose subject is a keyed hash of the person's address.
pub const EMAIL_RATE_SCOPES: [&str; 12] = [
    "email",
    "email-day",
    "privacy-email",
    "privacy-request",
    // Every `MailPurpose::scope`, the first of them the one confirmation mails always had.
    "confirm-mail",
    "mail-sign-in",
    "mail-email-change",
    "mail-export",
    "mail-export-link",
    "mail-chosen-topics",
    "mail-delivery",
    "mail-cv-verdict",
];

/// A table item's keys.
pub type ItemKey = (String, String);

/// Everything of one person's that erasure touches, read before it starts.
#[derive(Debug, Clone, Default)]
pub struct ErasurePlan {
    pub profile_key: ItemKey,
    pub email: String,
    /// The profile's latest submission when the plan was read: the profile goes only if no other
    /// submission arrived meanwhile.
    pub last_submission_id: Option<String>,
    /// Submissions that may have CV objects under `cv/<id>/`.
    pub applications: Vec<String>,
    /// Payment records to keep, stripped, with the epoch second they may go.
    pub payments: Vec<(ItemKey, i64)>,
    /// Every other item: the person's partition, their pending mail (but this erasure's own
    /// confirmation) and deliveries, their rate counters.
    pub items: Vec<ItemKey>,
    /// Their Stripe customers: deleted at Stripe too, with what Elements gave it.
    pub stripe_customers: BTreeSet<String>,
    /// Their subscriptions still running at Stripe: ended now, so nobody erased is charged.
    pub running_subscriptions: BTreeSet<String>,
}

/// Why the data went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureReason {
    /// The person asked, in the privacy center.
    Request,
    /// An operator acted on a request received by mail.
    Operator,
    /// Its retention period ended.
    Retention,
}

impl ErasureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "self-service",
            Self::Operator => "operator",
            Self::Retention => "retention",
        }
    }
}

/// What an erasure removed: counts only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErasureReport {
    pub items_deleted: usize,
    pub cv_versions_deleted: usize,
    pub payments_retained: usize,
}

pub trait ErasureStore {
    /// Marks the profile as being erased: from then on its address cannot change (a move would
    /// take the profile out from under the erasure), until it is gone.
    fn mark_erasing(
        &self,
        profile_id: &ProfileId,
        profile_key: &ItemKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Whether a profile item with this id is held anywhere (under whichever address it has now).
    fn profile_held(&self, profile_id: &ProfileId) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn erasure_plan(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<Option<ErasurePlan>, StoreError>> + Send;
    /// The keyed hash of the address goes on the suppression list (source `erasure`).
    fn suppress_erased(&self, email: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes every attribute that could identify the person and sets the record's expiry.
    fn retain_payment(
        &self,
        key: &ItemKey,
        retain_until: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn delete_items(&self, keys: &[ItemKey]) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Deletes the profile item and writes the audit record, together, unless a submission arrived
    /// since `last_submission_id` was read (`Ok(false)`).
    fn forget_profile(
        &self,
        profile_id: &ProfileId,
        key: &ItemKey,
        last_submission_id: Option<&str>,
        reason: ErasureReason,
        report: &ErasureReport,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Items still in the person's partition (other than kept payment records).
    fn leftovers(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<Vec<ItemKey>, StoreError>> + Send;
}

#[derive(Debug, thiserror::Error)]
#[error("the CV store failed: {0}")]
pub struct CvObjectsError(pub String);

/// The CV bucket, as erasure and retention need it.
pub trait CvObjects {
    /// Deletes every version (and delete marker) under `cv/<application>/`; returns how many.
    fn delete_application(
        &self,
        application_id: &str,
    ) -> impl Future<Output = Result<usize, CvObjectsError>> + Send;
    /// Deletes every version of the person's large exports kept for their links; returns how many.
    fn delete_exports(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<usize, CvObjectsError>> + Send;
    /// Deletes every version of anyone's exports written before `cutoff` (epoch seconds).
    fn delete_exports_before(
        &self,
        cutoff: i64,
    ) -> impl Future<Output = Result<usize, CvObjectsError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cv(#[from] CvObjectsError),
}

/// The id of an erasure's confirmation mail: one per person, however often erasure is retried.
pub fn confirmation_id(profile_id: &ProfileId) -> String {
    format!("erasure-{profile_id}")
}

/// Erases a person. `Ok(None)` when nothing is held (erased already, or never known). With
/// `confirm_to`, the person is told by mail and their address goes on the suppression list; an
/// erasure because retention ended does neither.
pub async fn erase<S, C>(
    store: &S,
    cvs: &C,
    confirm_to: Option<&MailLinks>,
    profile_id: &ProfileId,
    reason: ErasureReason,
    now: i64,
) -> Result<Option<ErasureReport>, ErasureError>
where
    S: ErasureStore + OutboxStore + DeliveryStore,
    C: CvObjects,
{
    let mut report = ErasureReport::default();
    // Read before anything goes: the records of who received their data are in the partition
    // this erasure empties. Every round adds what arrived meanwhile.
    let mut recipients = Vec::new();
    let mut stripe = (BTreeSet::new(), BTreeSet::new());
    // A submission arriving during the erasure changes the profile; the next round erases it too.
    for round in 0..3 {
        let Some(plan) = store.erasure_plan(profile_id).await? else {
            return Ok((round > 0).then_some(report));
        };
        store.mark_erasing(profile_id, &plan.profile_key).await?;
        for shared in store.recipients(profile_id).await? {
            if !recipients.contains(&shared) {
                recipients.push(shared);
            }
        }
        stripe.0.extend(plan.stripe_customers.iter().cloned());
        stripe.1.extend(plan.running_subscriptions.iter().cloned());
        // Every destination that received their data (or is owed it) is told, with the same
        // event id everywhere, and Stripe forgets them too: queued before anything is deleted,
        // so that an erasure interrupted at any step has told them already (what it read is
        // gone by the time it is asked again). Through the queue, so a destination or Stripe
        // being down delays it and loses nothing. The events carry the person's id and the
        // submission ids only: what the destinations hold them by.
        let event =
            destinations::erased_event(profile_id, reason.as_str(), Timestamp::from_epoch_seconds(now));
        let mut owed = destinations::to_recipients(&recipients, None, &event, profile_id);
        if !stripe.0.is_empty() || !stripe.1.is_empty() {
            owed.push(Delivery {
                target: Target::StripeErasure {
                    customers: stripe.0.iter().cloned().collect(),
                    subscriptions: stripe.1.iter().cloned().collect(),
                },
                event: event.clone(),
                profile_id: profile_id.clone(),
                subject: None,
                awaiting_confirmation: false,
            });
        }
        if !owed.is_empty() {
            store.enqueue_deliveries(&owed, now).await?;
        }
        for application in &plan.applications {
            report.cv_versions_deleted += cvs.delete_application(application).await?;
        }
        if round == 0 {
            // Exports too large for one response wait in the bucket for their link: theirs too.
            cvs.delete_exports(profile_id).await?;
        }
        for (key, until) in &plan.payments {
            store.retain_payment(key, *until).await?;
        }
        // Kept records stay in the partition, so every round's plan lists them again.
        report.payments_retained = plan.payments.len();
        for chunk in plan.items.chunks(25) {
            store.delete_items(chunk).await?;
        }
        report.items_deleted += plan.items.len();
        if let Some(links) = confirm_to {
            // Only now, with everything else gone, is the person told; the address is still known
            // (the plan read it, and a retry reads it again). The dispatcher sends transactional
            // mail to suppressed addresses, and forgets the address once it is sent. Its id is
            // the person's, so a second round queues nothing new.
            store.suppress_erased(&plan.email).await?;
            let goodbye = OutboxMessage::transactional(
                links,
                confirmation_id(profile_id),
                &plan.email,
                profile_id,
                crate::t!("subject-erasure-confirmation", organisation = links.organisation.as_str()),
                "erasure_confirmation",
                serde_json::json!({}),
            );
            store.enqueue(&goodbye, now).await?;
        }
        let last = plan.last_submission_id.as_deref();
        if !store.forget_profile(profile_id, &plan.profile_key, last, reason, &report).await? {
            tracing::info!(profile_id = %profile_id, round, "a submission arrived during erasure; erasing it too");
            continue;
        }
        report.items_deleted += 1;
        // An address change (or its undo) confirmed while this ran moved the profile to another
        // key after the plan was read: the profile that went was already gone from there, and the
        // one it became is erased in the next round.
        if store.profile_held(profile_id).await? {
            tracing::info!(profile_id = %profile_id, round, "the profile moved during erasure; erasing it where it went");
            continue;
        }
        // Submissions commit with their profile update (one transaction that requires the profile),
        // so none can land after the profile went; anything else found in the partition now (a
        // writer that does not check the profile), and mail or deliveries about them queued while
        // this ran, go too. A dispatcher delivers only a delivery still queued, so none is queued
        // from here on.
        let leftovers = store.leftovers(profile_id).await?;
        for chunk in leftovers.chunks(25) {
            store.delete_items(chunk).await?;
        }
        report.items_deleted += leftovers.len();

        // An export that was being written while the erasure ran goes too. The person is erased
        // already, so a failure here is only logged: the sweep deletes every export past its
        // link's life.
        if let Err(err) = cvs.delete_exports(profile_id).await {
            tracing::warn!(error = %err, "a late export could not be deleted; the sweep will");
        }
        tracing::info!(
            profile_id = %profile_id,
            reason = reason.as_str(),
            items = report.items_deleted,
            cv_versions = report.cv_versions_deleted,
            payments_retained = report.payments_retained,
            "person erased"
        );
        return Ok(Some(report));
    }
    Err(ErasureError::Store(StoreError::Unavailable("the profile kept changing during erasure".into())))
}
