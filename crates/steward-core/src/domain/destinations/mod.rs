//! Destinations: what comes in reaches the people who act on it, and a person's rights follow
//! their data there.
//!
//! Each form names its destinations in the catalogue (`forms.toml`, `[destinations]`): a team's
//! mail, the stack's EventBridge bus, a signed webhook. A submission is announced to each as a
//! [`DomainEvent`], carrying only the fields the destination may receive, and only if the person's
//! submission is processed for a purpose the destination serves (marketing only for topics the
//! person confirmed from their address: a copy for it alone waits for that confirmation). Every delivery waits in the table until it is
//! delivered ([`dispatch`]): at least once, with the same event id every time and at every
//! destination, never in the visitor's way. What went where is recorded in the person's partition
//! ([`Shared`]), so that `/me` shows it, and so that their erasure, restriction, objection and
//! withdrawal are delivered to every destination that received their data.

pub mod dispatch;
pub mod webhook;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::forms::catalogue::{Catalogue, FormDefinition, LawfulBasis, Purpose};
pub use crate::domain::forms::catalogue::{Destination, DestinationKind};
use crate::domain::forms::validation::ValidForm;
use crate::domain::ids::{ProfileId, SubmissionId};
use crate::domain::mail::outbox::OutboxMessage;
use crate::domain::ports::StoreError;
use crate::i18n::Lang;
use crate::time::Timestamp;

/// The version of every event's shape (`docs/events/*.schema.json`); a change that could break a
/// consumer is a new version.
pub const EVENT_VERSION: u32 = 1;

/// What happened, as consumers route on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "submission.received")]
    SubmissionReceived,
    #[serde(rename = "consent.changed")]
    ConsentChanged,
    #[serde(rename = "person.restricted")]
    PersonRestricted,
    #[serde(rename = "person.objected")]
    PersonObjected,
    #[serde(rename = "person.erased")]
    PersonErased,
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded,
    #[serde(rename = "cv.verified")]
    CvVerified,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        Self::SubmissionReceived,
        Self::ConsentChanged,
        Self::PersonRestricted,
        Self::PersonObjected,
        Self::PersonErased,
        Self::PaymentSucceeded,
        Self::CvVerified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubmissionReceived => "submission.received",
            Self::ConsentChanged => "consent.changed",
            Self::PersonRestricted => "person.restricted",
            Self::PersonObjected => "person.objected",
            Self::PersonErased => "person.erased",
            Self::PaymentSucceeded => "payment.succeeded",
            Self::CvVerified => "cv.verified",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Events that carry what a person gave (their fields, their payment): the destination is
    /// recorded as a recipient of their data. The others say what the person asked for, about
    /// data the destination already has.
    pub fn carries_personal_data(self) -> bool {
        matches!(self, Self::SubmissionReceived | Self::PaymentSucceeded | Self::CvVerified)
    }
}

/// One event, as every destination receives it: the EventBridge detail and the webhook body are
/// this JSON (Standard Webhooks' `type`, `timestamp` and `data`, with the id and version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Stable: derived from what happened, so a retry, a replay and every destination see one id
    /// (the webhook's `webhook-id`), and consumers can drop a second copy.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub version: u32,
    /// When it happened (RFC 3339).
    pub timestamp: String,
    pub data: serde_json::Value,
}

impl DomainEvent {
    /// An event whose id is derived from its type and what it is about (`subject`): the same
    /// subject gives the same id.
    pub fn new(kind: EventType, subject: &str, at: Timestamp, data: serde_json::Value) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{}|{subject}", kind.as_str()).as_bytes());
        Self {
            id: format!("evt_{}", &hex::encode(digest)[..32]),
            kind,
            version: EVENT_VERSION,
            timestamp: at.rfc3339(),
            data,
        }
    }
}

/// Who a delivery is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Target {
    /// A destination of the catalogue, by id.
    Destination { id: String },
    /// Stripe, where an erased person's customer (and what it pays for) must go too.
    StripeErasure { customers: Vec<String>, subscriptions: Vec<String> },
}

/// One event owed to one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub target: Target,
    pub event: DomainEvent,
    /// The person it is about: erasure finds their pending deliveries by it.
    pub profile_id: ProfileId,
    /// The submission it concerns, if any (what the person's record of recipients names).
    pub subject: Option<String>,
    /// Held until the person confirms their marketing topics from their address: not due before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_confirmation: bool,
}

impl Delivery {
    /// The queue's key: the event and its target, so that owing it twice queues it once.
    pub fn id(&self) -> String {
        match &self.target {
            Target::Destination { id } => format!("{}.{id}", self.event.id),
            Target::StripeErasure { .. } => format!("{}.stripe", self.event.id),
        }
    }

    /// As a recipient of the person's data while it is still owed: only a delivery to a
    /// destination that carries their data.
    pub fn as_owed(&self) -> Option<Shared> {
        let destination = self.destination().filter(|_| self.event.kind.carries_personal_data())?;
        let mut fields: Vec<String> = self.event.data["fields"]
            .as_object()
            .map(|fields| fields.keys().cloned().collect())
            .unwrap_or_default();
        fields.sort();
        Some(Shared {
            destination: destination.to_owned(),
            event: self.event.kind,
            event_id: self.event.id.clone(),
            subject: self.subject.clone(),
            fields,
            at: self.event.timestamp.clone(),
            delivered: false,
        })
    }

    /// The catalogue destination it goes to, if it is one.
    pub fn destination(&self) -> Option<&str> {
        match &self.target {
            Target::Destination { id } => Some(id),
            Target::StripeErasure { .. } => None,
        }
    }
}

/// A record that a destination received a person's data: what, when, about which submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shared {
    pub destination: String,
    pub event: EventType,
    pub event_id: String,
    pub subject: Option<String>,
    /// The fields it was sent (names).
    pub fields: Vec<String>,
    /// When it was delivered, or (still owed) when it was queued.
    pub at: String,
    /// Delivered; otherwise it is still owed (the destination is down, or the dispatcher has not
    /// run yet), and what follows about it is owed to the destination all the same.
    pub delivered: bool,
}

/// A delivery given up after its last retry, waiting to be replayed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub id: String,
    pub target: String,
    pub event_type: EventType,
    pub attempts: u32,
    pub last_error: String,
    pub dead_since: String,
}

pub trait DeliveryStore {
    /// Queues each delivery, unless it is queued already or its destination has it recorded.
    fn enqueue_deliveries(
        &self,
        deliveries: &[Delivery],
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Ids of deliveries due now.
    fn due_deliveries(
        &self,
        now: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Takes a delivery for `lease`; `None` when another dispatcher has it or it is gone.
    fn claim_delivery(
        &self,
        id: &str,
        now: i64,
        lease: Duration,
    ) -> impl Future<Output = Result<Option<(Delivery, u32)>, StoreError>> + Send;
    /// Delivered: it leaves the queue, an event that carried the person's data is recorded in
    /// their partition, and `mail` (a mail destination's notifications) is queued, all together
    /// and only if the delivery is still queued: `Ok(false)` when an erasure took it meanwhile,
    /// and then nothing is written.
    fn delivered(
        &self,
        delivery: &Delivery,
        mail: &[OutboxMessage],
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn retry_delivery(
        &self,
        id: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Given up: it moves to the dead letters, kept for replay.
    fn dead_letter(
        &self,
        id: &str,
        now: i64,
        error: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn dead_letters(&self, limit: usize) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;
    /// The person's deliveries held for their confirmation.
    fn held(&self, profile_id: &ProfileId) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;
    /// Puts held deliveries (as given: what they carry now) in the queue, due now, kept afresh;
    /// one no longer held (dropped, erased) is left alone.
    fn release(
        &self,
        deliveries: &[Delivery],
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Drops what is still owed about one submission (the person deleted it).
    fn drop_owed(
        &self,
        profile_id: &ProfileId,
        subject: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Puts a dead letter back in the queue, due now, its attempts counted afresh.
    fn replay(&self, id: &str, now: i64) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Every destination that received the person's data, or is owed it, with what and when.
    fn recipients(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<Vec<Shared>, StoreError>> + Send;
}

/// How long a delivery may wait in the queue or the dead letters before the table forgets it.
pub const DELIVERY_KEPT_DAYS: i64 = 30;

// --- Planning: who gets what -----------------------------------------------------------------

/// What the planning needs of a submission just stored.
#[derive(Debug, Clone, Copy)]
pub struct Submitted<'a> {
    pub id: &'a SubmissionId,
    pub received_at: Timestamp,
    /// The language its notice was shown in.
    pub language: Lang,
    /// The purposes it is processed for (the form's, less those opted out of).
    pub purposes: &'a [Purpose],
    pub data: &'a ValidForm,
    /// The topics the person confirmed from their address (none while withdrawn or unsubscribed
    /// from everything): marketing consent is these, never a tick alone.
    pub confirmed_topics: &'a BTreeSet<String>,
    /// The person restricted the use of their data: it goes nowhere.
    pub restricted: bool,
    /// The person objects: nothing on legitimate interests, no marketing.
    pub objected: bool,
}

impl Submitted<'_> {
    /// The ticked topics the person has confirmed: the marketing they consented to.
    fn consented_topics(&self) -> BTreeSet<String> {
        if self.objected {
            return BTreeSet::new();
        }
        self.data.topics.intersection(self.confirmed_topics).cloned().collect()
    }

    /// Ticked, not confirmed yet: owed once the address confirms them (double opt-in).
    fn unconfirmed_topics(&self) -> BTreeSet<String> {
        if self.objected {
            return BTreeSet::new();
        }
        self.data.topics.difference(self.confirmed_topics).cloned().collect()
    }
}

/// The purposes a submission may be given to others for now: the form's, less those opted out of;
/// none while the person's use is restricted; none on legitimate interests while they object; and
/// marketing only for topics they ticked and confirmed from their address (a tick alone is what
/// anyone typing their address could give).
pub fn granted_purposes(form: &FormDefinition, submission: &Submitted<'_>) -> BTreeSet<String> {
    if submission.restricted {
        return BTreeSet::new();
    }
    submission
        .purposes
        .iter()
        .filter(|purpose| !(purpose.id == MARKETING && submission.consented_topics().is_empty()))
        .filter(|purpose| !(submission.objected && purpose.basis == LawfulBasis::LegitimateInterests))
        .filter(|purpose| form.purposes.iter().any(|p| p.id == purpose.id))
        .map(|purpose| purpose.id.clone())
        .collect()
}

/// The purpose whose consent is the topics a person confirms (forms.toml's convention).
const MARKETING: &str = "marketing";

/// What each of the form's destinations is owed for a new submission: for each that serves a
/// purpose the submission is processed for, the fields it may receive (topics only to one that
/// serves marketing, with marketing granted).
pub fn for_submission(
    catalogue: &Catalogue,
    form: &FormDefinition,
    submission: &Submitted<'_>,
    profile_id: &ProfileId,
) -> Vec<Delivery> {
    let granted = granted_purposes(form, submission);
    // Marketing the person ticked but has not confirmed yet: a destination that would get the
    // submission for it alone gets it only once they confirm (held until then).
    let awaiting = !submission.restricted
        && !submission.unconfirmed_topics().is_empty()
        && submission.purposes.iter().any(|p| p.id == MARKETING);
    form.destinations
        .iter()
        .filter_map(|id| catalogue.destination(id))
        .filter_map(|destination| {
            let mut serves: BTreeSet<String> = destination.purposes.intersection(&granted).cloned().collect();
            let held = serves.is_empty() && awaiting && destination.purposes.contains(MARKETING);
            let topics = if held {
                serves.insert(MARKETING.to_owned());
                submission.data.topics.clone()
            } else {
                submission.consented_topics()
            };
            if serves.is_empty() {
                return None;
            }
            let mut fields = BTreeMap::new();
            for name in &destination.fields {
                if name == "interests" {
                    if serves.contains(MARKETING) && !topics.is_empty() {
                        fields.insert(name.clone(), serde_json::json!(topics));
                    }
                } else if form.field(name).is_some() {
                    if let Some(value) = submission.data.value_of(name) {
                        fields.insert(name.clone(), serde_json::Value::String(value));
                    }
                }
            }
            let data = serde_json::json!({
                "person_id": profile_id,
                "submission_id": submission.id.as_str(),
                "form": form.id.as_str(),
                "received_at": submission.received_at.rfc3339(),
                "language": submission.language.to_string(),
                "purposes": serves,
                "fields": fields,
            });
            let event = DomainEvent::new(
                EventType::SubmissionReceived,
                submission.id.as_str(),
                submission.received_at,
                data,
            );
            Some(Delivery {
                target: Target::Destination { id: destination.id.clone() },
                event,
                profile_id: profile_id.clone(),
                subject: Some(submission.id.as_str().to_owned()),
                awaiting_confirmation: held,
            })
        })
        .collect()
}

/// An event about a person (a right they used, a payment, a CV's verdict), owed to every
/// destination that received their data, or (with `subject`) the data of that submission.
pub fn to_recipients(
    recipients: &[Shared],
    subject: Option<&str>,
    event: &DomainEvent,
    profile_id: &ProfileId,
) -> Vec<Delivery> {
    let mut seen = BTreeSet::new();
    let mut deliveries = Vec::new();
    for shared in recipients {
        if subject.is_some() && shared.subject.as_deref() != subject {
            continue;
        }
        if !seen.insert(shared.destination.clone()) {
            continue;
        }
        let mut event = event.clone();
        // Consumers find what they hold by the submissions they were sent.
        if let Some(data) = event.data.as_object_mut() {
            let theirs: BTreeSet<&str> = recipients
                .iter()
                .filter(|s| s.destination == shared.destination)
                .filter_map(|s| s.subject.as_deref())
                .collect();
            data.entry("submission_ids").or_insert_with(|| serde_json::json!(theirs));
        }
        deliveries.push(Delivery {
            target: Target::Destination { id: shared.destination.clone() },
            event,
            profile_id: profile_id.clone(),
            subject: subject.map(str::to_owned),
            awaiting_confirmation: false,
        });
    }
    deliveries
}

/// Announces a person's event to every destination that received their data.
pub async fn announce<S: DeliveryStore>(
    store: &S,
    profile_id: &ProfileId,
    subject: Option<&str>,
    event: DomainEvent,
    now: i64,
) -> Result<usize, StoreError> {
    let recipients = store.recipients(profile_id).await?;
    let deliveries = to_recipients(&recipients, subject, &event, profile_id);
    if !deliveries.is_empty() {
        store.enqueue_deliveries(&deliveries, now).await?;
    }
    Ok(deliveries.len())
}

/// Where a person's data went, as they see it: each destination by its description (in their
/// language), what it received (its fields), when, and whether it is still on its way.
/// `descriptions` names each destination (in English: the person's language is looked up).
pub fn shown_to_person(
    descriptions: &BTreeMap<String, String>,
    recipients: &[Shared],
) -> Vec<serde_json::Value> {
    let mut shown: Vec<serde_json::Value> = recipients
        .iter()
        .map(|shared| {
            let english = descriptions.get(&shared.destination).map_or("", String::as_str);
            let description = crate::i18n::Lang::current()
                .catalogue(&format!("destination-{}-description", shared.destination), english);
            serde_json::json!({
                "destination": shared.destination,
                "description": description,
                "event": shared.event,
                "submission_id": shared.subject,
                "fields": shared.fields,
                "at": shared.at,
                "delivered": shared.delivered,
            })
        })
        .collect();
    shown.sort_by(|a, b| a["at"].as_str().cmp(&b["at"].as_str()));
    shown
}

/// The id of a person's erasure event: the same however often the erasure runs.
pub fn erased_event_id(profile_id: &ProfileId) -> String {
    DomainEvent::new(
        EventType::PersonErased,
        profile_id.as_str(),
        Timestamp::from_epoch_seconds(0),
        serde_json::json!({}),
    )
    .id
}

/// Whether a queued delivery is one of this person's erasure's own (the destinations and Stripe
/// told): an erasure never sweeps those with the rest.
pub fn is_erasure_delivery(profile_id: &ProfileId, delivery_id: &str) -> bool {
    // A team's mail that tells of the erasure is named after its delivery (`team-<id>-<n>`).
    let id = delivery_id.strip_prefix("team-").unwrap_or(delivery_id);
    id.starts_with(&format!("{}.", erased_event_id(profile_id)))
}

/// Releases what waited for the person's marketing consent, now that `receiving` is what they
/// confirmed: each held copy goes with the topics it named that they receive now, and one that
/// named none of them stays held (a tick in their name is still no consent).
pub async fn release_confirmed<S: DeliveryStore>(
    store: &S,
    profile_id: &ProfileId,
    receiving: &BTreeSet<String>,
    now: i64,
) -> Result<usize, StoreError> {
    let mut released = Vec::new();
    for mut delivery in store.held(profile_id).await? {
        let ticked: BTreeSet<String> = delivery.event.data["fields"]["interests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|topic| topic.as_str().map(str::to_owned))
            .collect();
        let confirmed: BTreeSet<String> = ticked.intersection(receiving).cloned().collect();
        if confirmed.is_empty() {
            continue;
        }
        delivery.event.data["fields"]["interests"] = serde_json::json!(confirmed);
        delivery.awaiting_confirmation = false;
        released.push(delivery);
    }
    if !released.is_empty() {
        store.release(&released, now).await?;
    }
    Ok(released.len())
}

/// The event of a person's erasure; `reason` says who asked (`self-service`, `operator`,
/// `retention`).
pub fn erased_event(profile_id: &ProfileId, reason: &str, at: Timestamp) -> DomainEvent {
    DomainEvent::new(
        EventType::PersonErased,
        profile_id.as_str(),
        at,
        serde_json::json!({"person_id": profile_id, "reason": reason}),
    )
}

/// The event of a limit set or lifted (restriction or objection), or a consent withdrawn.
pub fn limit_event(kind: EventType, profile_id: &ProfileId, on: bool, at: Timestamp) -> DomainEvent {
    let flag = if kind == EventType::PersonObjected { "objected" } else { "restricted" };
    DomainEvent::new(
        kind,
        &format!("{profile_id}|{on}|{}", at.rfc3339()),
        at,
        serde_json::json!({"person_id": profile_id, flag: on}),
    )
}

/// A consent withdrawn or given for a purpose; for marketing, with the topics it concerns (none:
/// every topic).
pub fn consent_event(
    profile_id: &ProfileId,
    purpose: &str,
    given: bool,
    topics: Option<&BTreeSet<String>>,
    at: Timestamp,
) -> DomainEvent {
    let mut data = serde_json::json!({"person_id": profile_id, "purpose": purpose, "given": given});
    if let Some(topics) = topics {
        data["topics"] = serde_json::json!(topics);
    }
    DomainEvent::new(
        EventType::ConsentChanged,
        &format!("{profile_id}|{purpose}|{given}|{topics:?}|{}", at.rfc3339()),
        at,
        data,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_id_is_the_same_for_the_same_subject_and_differs_between_types() {
        let at = Timestamp::from_epoch_seconds(1_767_225_600);
        let a = DomainEvent::new(EventType::SubmissionReceived, "s1", at, serde_json::json!({}));
        let b = DomainEvent::new(EventType::SubmissionReceived, "s1", at.plus_days(1), serde_json::json!({}));
        let c = DomainEvent::new(EventType::PersonErased, "s1", at, serde_json::json!({}));
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert!(a.id.starts_with("evt_") && a.id.len() == 36);
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["type"], "submission.received");
        assert_eq!(json["version"], 1);
    }
}
