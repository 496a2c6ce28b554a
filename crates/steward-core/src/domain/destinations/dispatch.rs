//! The dispatcher: delivers what is due to each destination, at least once, retrying one that is
//! down on a schedule that spans days (Standard Webhooks' own, by default), then keeping what it
//! could not deliver as a dead letter for `steward-admin deliveries replay`.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use super::{Delivery, DeliveryStore, DestinationKind, DomainEvent, EventType, Target};
use crate::config::MailLinks;
use crate::domain::forms::catalogue::Catalogue;
use crate::domain::mail::outbox::OutboxMessage;
use crate::domain::ports::{Clock, StoreError};

/// Why a delivery did not go.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Down, slow, refused or answering anything but 2xx: tried again later.
    #[error("the destination did not take it: {0}")]
    Unavailable(String),
    /// This deployment gives the destination no address: nothing can be delivered, nothing is
    /// recorded as sent.
    #[error("the destination has no address in this deployment")]
    NotConfigured,
}

/// The stack's event bus.
pub trait EventBus {
    fn publish(&self, event: &DomainEvent) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// The deployment's webhook receivers, by destination id (each signed with its own secret).
pub trait Webhooks {
    fn post(
        &self,
        destination: &str,
        event: &DomainEvent,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// What erasure asks of Stripe: the person's subscriptions end now, and their customer goes.
pub trait StripeErasure {
    fn erase_customer(
        &self,
        customers: &[String],
        subscriptions: &[String],
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// A deployment without a Stripe key: an erasure owed there waits as a dead letter (and raises
/// the alarm), replayed once the key is set; everything else is delivered all the same.
impl<P: StripeErasure + Sync> StripeErasure for Option<P> {
    async fn erase_customer(
        &self,
        customers: &[String],
        subscriptions: &[String],
    ) -> Result<(), DeliveryError> {
        match self {
            Some(stripe) => stripe.erase_customer(customers, subscriptions).await,
            None => Err(DeliveryError::NotConfigured),
        }
    }
}

/// Waits between attempts, in seconds: after the last, the delivery is a dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<i64>);

impl RetrySchedule {
    /// Standard Webhooks' schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), then two more
    /// days: a little over three days in all, so a receiver down over a weekend loses nothing.
    pub fn standard() -> Self {
        Self(vec![5, 300, 1800, 7200, 18_000, 36_000, 36_000, 86_400, 86_400])
    }

    /// Parses `5,300,1800`: whole seconds, at least one.
    pub fn parse(text: &str) -> Option<Self> {
        let waits: Option<Vec<i64>> =
            text.split(',').map(|w| w.trim().parse::<i64>().ok().filter(|w| *w >= 0)).collect();
        waits.filter(|w| !w.is_empty()).map(Self)
    }

    /// The wait after the `attempts`-th failed attempt; `None` when that was the last.
    fn after(&self, attempts: u32) -> Option<i64> {
        self.0.get(attempts.saturating_sub(1) as usize).copied()
    }
}

/// How long a run takes new deliveries (the function has 60 s; a webhook attempt up to 10 s).
const RUN_BUDGET: Duration = Duration::from_secs(40);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    pub delivered: u32,
    pub deferred: u32,
    pub dead: u32,
    /// Owed to a destination this deployment gives no address: dead-lettered (replayable once it
    /// has one), and logged.
    pub unconfigured: u32,
}

/// How the dispatcher reaches everything it delivers to.
pub struct Reach<'a, B, W, P> {
    pub bus: &'a B,
    pub webhooks: &'a W,
    pub stripe: &'a P,
    pub catalogue: &'a Catalogue,
    /// Team mail names the deployment and is queued as other mail is.
    pub links: &'a MailLinks,
}

pub async fn dispatch<S, B, W, P>(
    store: &S,
    reach: &Reach<'_, B, W, P>,
    clock: &dyn Clock,
    schedule: &RetrySchedule,
    batch: usize,
) -> Result<DispatchReport, StoreError>
where
    S: DeliveryStore,
    B: EventBus,
    W: Webhooks,
    P: StripeErasure,
{
    let mut report = DispatchReport::default();
    let started = tokio::time::Instant::now();
    // A destination that failed once in this run is not tried again in it: one that hangs or
    // refuses costs one attempt per run, never the run, and the others' deliveries go meanwhile.
    let mut failing: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut attempted = 0;
    // Every due delivery is read (oldest first), and `batch` counts only those attempted: a long
    // backlog for a destination that is down never keeps the others' from their turn.
    for id in store.due_deliveries(clock.now(), usize::MAX).await? {
        if attempted >= batch {
            break;
        }
        if failing.contains(target_of(&id)) {
            continue;
        }
        attempted += 1;
        // A run ends before its function's timeout (60 s) can: a receiver that hangs costs one
        // webhook timeout per delivery, and what is left waits for the next run, uncounted.
        if started.elapsed() > RUN_BUDGET {
            break;
        }
        let Some((delivery, attempts)) =
            store.claim_delivery(&id, clock.now(), Duration::from_secs(120)).await?
        else {
            continue;
        };
        match deliver(reach, &delivery).await {
            Ok(mail) => {
                if store.delivered(&delivery, &mail, clock.now()).await? {
                    report.delivered += 1;
                    tracing::info!(delivery = id.as_str(), event = delivery.event.kind.as_str(), "delivered");
                } else {
                    tracing::info!(
                        delivery = id.as_str(),
                        "the person was erased meanwhile: nothing recorded or queued"
                    );
                }
            }
            Err(DeliveryError::NotConfigured) => {
                store
                    .dead_letter(&id, clock.now(), "the destination has no address in this deployment")
                    .await?;
                report.unconfigured += 1;
                tracing::warn!(delivery = id.as_str(), "a destination without an address: dead-lettered");
            }
            Err(err) => {
                failing.insert(target_of(&id).to_owned());
                match schedule.after(attempts) {
                    Some(wait) => {
                        store.retry_delivery(&id, clock.now() + wait, &err.to_string()).await?;
                        report.deferred += 1;
                        tracing::warn!(delivery = id.as_str(), attempts, error = %err, "delivery deferred");
                    }
                    None => {
                        store.dead_letter(&id, clock.now(), &err.to_string()).await?;
                        report.dead += 1;
                        tracing::error!(delivery = id.as_str(), attempts, error = %err, "delivery given up: dead-lettered");
                    }
                }
            }
        }
    }
    Ok(report)
}

/// The target a delivery id names (`<event id>.<destination>`, or `.stripe`).
fn target_of(delivery_id: &str) -> &str {
    delivery_id.split_once('.').map_or(delivery_id, |(_, target)| target)
}

/// Delivers one delivery; a mail destination's notifications are returned, to be queued with the
/// delivery's completion (so that an erasure in between leaves none behind).
async fn deliver<B, W, P>(
    reach: &Reach<'_, B, W, P>,
    delivery: &Delivery,
) -> Result<Vec<OutboxMessage>, DeliveryError>
where
    B: EventBus,
    W: Webhooks,
    P: StripeErasure,
{
    let id = match &delivery.target {
        Target::StripeErasure { customers, subscriptions } => {
            return reach.stripe.erase_customer(customers, subscriptions).await.map(|()| Vec::new())
        }
        Target::Destination { id } => id,
    };
    // A destination taken out of the catalogue since: its deliveries cannot go anywhere.
    let Some(destination) = reach.catalogue.destination(id) else { return Err(DeliveryError::NotConfigured) };
    match destination.kind {
        DestinationKind::Eventbridge => reach.bus.publish(&delivery.event).await.map(|()| Vec::new()),
        DestinationKind::Webhook => reach.webhooks.post(id, &delivery.event).await.map(|()| Vec::new()),
        DestinationKind::Mail => {
            Ok(destination.to.iter().enumerate().map(|(n, to)| team_mail(reach, delivery, to, n)).collect())
        }
    }
}

/// The team's notification: what came in (only the fields the destination may receive, with
/// their labels), or what the person asked for, and the references to find it by.
fn team_mail<B, W, P>(reach: &Reach<'_, B, W, P>, delivery: &Delivery, to: &str, n: usize) -> OutboxMessage {
    let event = &delivery.event;
    let data = &event.data;
    let form = data["form"].as_str().and_then(|form| reach.catalogue.form(form));
    let form_title = form.map(|f| f.title_words()).unwrap_or_default();
    let fields: Vec<serde_json::Value> = data["fields"]
        .as_object()
        .map(|fields| {
            let order = |name: &str| form.and_then(|f| f.fields.iter().position(|s| s.name == name));
            let mut listed: Vec<(&String, &serde_json::Value)> = fields.iter().collect();
            listed.sort_by_key(|(name, _)| order(name));
            listed
                .into_iter()
                .map(|(name, value)| {
                    let value = match value {
                        serde_json::Value::Array(items) => {
                            items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join(", ")
                        }
                        other => other.as_str().unwrap_or_default().to_owned(),
                    };
                    serde_json::json!({"label": crate::domain::fields::label(name), "value": value})
                })
                .collect()
        })
        .unwrap_or_default();
    let subject = match event.kind {
        EventType::SubmissionReceived => crate::t!("subject-team-submission", form = form_title.as_str()),
        EventType::PaymentSucceeded => crate::t!("subject-team-paid"),
        EventType::CvVerified => crate::t!("subject-team-cv"),
        kind => crate::t!("subject-team-event", event = kind.as_str()),
    };
    // A limit or consent says whether it was set or lifted, and for which purpose.
    let on = data["restricted"].as_bool().or(data["objected"].as_bool()).or(data["given"].as_bool());
    OutboxMessage::transactional(
        reach.links,
        format!("team-{}-{n}", delivery.id()),
        to,
        &delivery.profile_id,
        subject,
        "team_notification",
        serde_json::json!({
            "event_type": event.kind.as_str(),
            "event_id": event.id,
            "form": form_title,
            "fields": fields,
            "person_id": delivery.profile_id,
            "submission_id": data["submission_id"],
            "submission_ids": data["submission_ids"],
            "purposes": data["purposes"],
            "at": event.timestamp,
            "on": on,
            "purpose": data["purpose"],
            "topics": data["topics"],
        }),
    )
}
