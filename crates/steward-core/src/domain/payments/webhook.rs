//! Stripe's events: which payment each one changes and how, applied in order whatever order they
//! arrive in, each at most once; seats follow the payment's recorded status.

use crate::domain::destinations::{self, DeliveryStore, DomainEvent, EventType};
use serde::Deserialize;

use super::catalogue::{money, PaymentCatalogue, Purchase, BUILT_IN};
use super::checkout::{hold_lapses_at, take_seat};
use super::ports::PaymentStore;
use super::status::{
    InvoiceStatus, PaymentKind, PaymentRef, PaymentStatus, PaymentUpdate, RecordedPayment, SeatHold,
};
use crate::domain::mail::outbox::{OutboxMessage, OutboxStore};
use crate::domain::mail::MailKind;
use crate::domain::ports::StoreError;

/// The parts of a Stripe event Steward reads. Parsed leniently, so an event from a newer API
/// version, or of a type Steward ignores, never fails to parse.
#[derive(Debug, Clone, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created: i64,
    pub data: StripeEventData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StripeEventData {
    pub object: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Applied,
    /// Already processed, or older than what is recorded.
    NoChange,
    /// About something Steward did not start, or of a type it does not handle.
    Ignored,
}

/// What a Stripe event means for a payment: the Stripe object it is about and the change, or
/// nothing for events Steward does not act on.
pub fn interpret(event: &StripeEvent) -> Option<(String, PaymentUpdate)> {
    let object = &event.data.object;
    let text = |path: &[&str]| -> Option<String> {
        let mut value = object;
        for key in path {
            value = value.get(key)?;
        }
        value.as_str().map(str::to_owned)
    };
    let (stripe_id, update) = match event.event_type.as_str() {
        "payment_intent.succeeded" => {
            (text(&["id"]), PaymentUpdate::Status { status: PaymentStatus::Succeeded, failure_code: None })
        }
        "payment_intent.payment_failed" => (
            text(&["id"]),
            PaymentUpdate::Status {
                status: PaymentStatus::Failed,
                failure_code: text(&["last_payment_error", "decline_code"])
                    .or_else(|| text(&["last_payment_error", "code"])),
            },
        ),
        "payment_intent.requires_action" => (
            text(&["id"]),
            PaymentUpdate::Status { status: PaymentStatus::RequiresAction, failure_code: None },
        ),
        "payment_intent.processing" => {
            (text(&["id"]), PaymentUpdate::Status { status: PaymentStatus::Processing, failure_code: None })
        }
        // A partial refund keeps the seat; only a full one releases it.
        "charge.refunded" if object.get("refunded").and_then(|v| v.as_bool()) == Some(true) => (
            text(&["payment_intent"]),
            PaymentUpdate::Status { status: PaymentStatus::Refunded, failure_code: None },
        ),
        "charge.dispute.created" => (
            text(&["payment_intent"]),
            PaymentUpdate::Dispute {
                dispute_id: text(&["id"]).unwrap_or_default(),
                status: text(&["status"]).unwrap_or_else(|| "needs_response".into()),
            },
        ),
        "invoice.paid" | "invoice.payment_failed" => {
            let subscription =
                text(&["parent", "subscription_details", "subscription"]).or_else(|| text(&["subscription"]));
            let paid = event.event_type == "invoice.paid";
            let amount = object
                .get(if paid { "amount_paid" } else { "amount_due" })
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            (
                subscription,
                PaymentUpdate::Invoice {
                    invoice_id: text(&["id"]).unwrap_or_default(),
                    status: if paid { InvoiceStatus::Paid } else { InvoiceStatus::PaymentFailed },
                    amount,
                },
            )
        }
        "customer.subscription.updated"
        | "customer.subscription.deleted"
        | "customer.subscription.created" => {
            let status = text(&["status"]).as_deref().and_then(PaymentStatus::from_subscription)?;
            (text(&["id"]), PaymentUpdate::Status { status, failure_code: None })
        }
        _ => return None,
    };
    Some((stripe_id?, update))
}

/// How long an event id is remembered: longer than Stripe keeps retrying (three days).
pub const EVENT_SEEN_FOR_SECONDS: i64 = 30 * 24 * 3600;

/// What receiving an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Seen before (delivered, retried or replayed): nothing done.
    Duplicate,
    Processed(WebhookOutcome),
}

impl Received {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::Processed(WebhookOutcome::Applied) => "applied",
            Self::Processed(WebhookOutcome::NoChange) => "no_change",
            Self::Processed(WebhookOutcome::Ignored) => "ignored",
        }
    }
}

/// Receives a verified event once: a webhook delivery and an operator's replay of the same
/// event (steward-admin replay-stripe) go through here, and the event id is remembered only
/// after it was applied, so a failure half-way is retried whole.
pub async fn receive_event<S: PaymentStore + OutboxStore + DeliveryStore>(
    store: &S,
    event: &StripeEvent,
    now: i64,
) -> Result<Received, StoreError> {
    if store.event_seen(&event.id).await? {
        return Ok(Received::Duplicate);
    }
    let outcome = apply_event(store, event, now).await?;
    store.mark_event_seen(&event.id, now + EVENT_SEEN_FOR_SECONDS).await?;
    Ok(Received::Processed(outcome))
}

/// Applies one verified Stripe event. Every step can be repeated: a retried or duplicated
/// delivery, or one that arrives out of order, leaves the same state as one delivery in order.
pub async fn apply_event<S: PaymentStore + OutboxStore + DeliveryStore>(
    store: &S,
    event: &StripeEvent,
    now: i64,
) -> Result<WebhookOutcome, StoreError> {
    let Some((stripe_id, update)) = interpret(event) else { return Ok(WebhookOutcome::Ignored) };
    let Some(payment) = store.payment_ref(&stripe_id).await? else {
        tracing::info!(
            event_id = event.id.as_str(),
            stripe_id,
            "event about a payment Steward did not start; ignored"
        );
        return Ok(WebhookOutcome::Ignored);
    };
    let version = match &update {
        PaymentUpdate::Status { status, .. } => status.version(event.created),
        _ => event.created * 100,
    };
    let applied = store.apply_update(&payment, &update, version).await?;
    // Seats follow the payment's recorded status, not this event: a failed or refunded payment
    // has no seat, a successful one has one for good. Every step is idempotent, so a delivery
    // retried after a failure here (or a stale event) still brings the seat in line.
    if let Some(recorded) = store.payment_item(&payment).await? {
        // Paid: the person gets a receipt, once whatever events follow (a subscription's later
        // updates, a redelivery, a retry after a failure half-way through this one).
        let paid = matches!(
            (recorded.kind, recorded.status),
            (PaymentKind::Event, PaymentStatus::Succeeded) | (PaymentKind::Cloud, PaymentStatus::Active)
        );
        if paid && !recorded.receipt_owed {
            // The destinations that received the registration learn that it is paid (the same
            // event id however often this runs).
            let paid_event = DomainEvent::new(
                EventType::PaymentSucceeded,
                &payment.registration_id,
                crate::time::Timestamp::from_epoch_seconds(now),
                serde_json::json!({
                    "person_id": payment.profile_id,
                    "submission_id": payment.registration_id,
                    "kind": if recorded.kind == PaymentKind::Event { "event" } else { "plan" },
                    "item": recorded.item,
                    "amount": recorded.amount,
                    "currency": recorded.currency,
                }),
            );
            let registration = Some(payment.registration_id.as_str());
            destinations::announce(store, &payment.profile_id, registration, paid_event, now).await?;
            owe_receipt(store, &payment, &recorded, event.created, now).await?;
        }
        if recorded.kind == PaymentKind::Event {
            let (event_id, registration) = (recorded.item.as_str(), payment.registration_id.as_str());
            match recorded.status {
                PaymentStatus::Failed | PaymentStatus::Refunded => {
                    store.release_seat(event_id, registration, None).await?;
                }
                // Paid, or money on its way (a bank debit takes days to succeed or fail): the
                // seat no longer lapses.
                status @ (PaymentStatus::Succeeded | PaymentStatus::Processing) => {
                    keep_paid_seat(store, event_id, registration, status, now).await?;
                    follow_a_later_release(store, &payment, event_id, registration).await?;
                }
                // Someone is authenticating with their bank: the checkout gets its full time
                // again, up to the ceiling counted from its first start.
                PaymentStatus::RequiresAction => {
                    let started = recorded.started_at.map_or(now, |at| at.epoch_seconds());
                    let lapses_at = hold_lapses_at(started, true, now);
                    if lapses_at > now {
                        take_seat(
                            store,
                            event_id,
                            registration,
                            capacity_in_force(event_id),
                            Some(lapses_at),
                            now,
                        )
                        .await?;
                        follow_a_later_release(store, &payment, event_id, registration).await?;
                    }
                }
                _ => {}
            }
        }
    }
    tracing::info!(
        event_id = event.id.as_str(),
        event_type = event.event_type.as_str(),
        applied,
        "Stripe event processed"
    );
    Ok(if applied { WebhookOutcome::Applied } else { WebhookOutcome::NoChange })
}

/// The receipt of a payment: what was bought (with its dates, or its interval), for how much in
/// which currency, when, its reference, and where to get help or cancel. Nothing is owed when
/// the person is no longer held (erased meanwhile).
async fn owe_receipt<S: PaymentStore + OutboxStore>(
    store: &S,
    payment: &PaymentRef,
    paid: &RecordedPayment,
    paid_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    let Some(to) = store.payer_address(&payment.profile_id).await? else { return Ok(()) };
    // Written in the language the person paid in (Stripe's webhook has no visitor).
    let receipt = crate::i18n::within(paid.lang, || receipt_for(payment, paid, paid_at, to));
    // Owed now (an event's own time may be Stripe's clock, or a replay's long past).
    store.enqueue(&receipt, now).await?;
    store.note_receipt_owed(payment, now).await?;
    tracing::info!(registration_id = payment.registration_id.as_str(), "receipt owed");
    Ok(())
}

/// The event's capacity in the catalogue this build sells from: a seat taken back for a payment
/// counts against the capacity in force, not one recorded before the catalogue changed it (0, the
/// one recorded with the event's seats, for an event this build no longer sells).
fn capacity_in_force(event: &str) -> u32 {
    match built_in_catalogue().item(&format!("event:{event}")) {
        Some(Purchase::Event { event, .. }) => event.capacity,
        _ => 0,
    }
}

/// The catalogue this build sells from, read once.
fn built_in_catalogue() -> &'static PaymentCatalogue {
    static CATALOGUE: std::sync::OnceLock<PaymentCatalogue> = std::sync::OnceLock::new();
    CATALOGUE.get_or_init(|| PaymentCatalogue::load(BUILT_IN).expect("the built-in payment catalogue"))
}

/// A paid registration keeps its seat for good: its hold no longer lapses. A payment whose seat
/// was given back (a failed attempt, or a checkout that lapsed) takes one again, against the
/// event's capacity. If the last seat sold meanwhile, the payment stands and an operator must
/// refund it: that is logged as an error, never silently overbooked.
/// A refund or a failure delivered at the same time as this event (Stripe sends them
/// concurrently) may have released the seat after this event read the payment and before it
/// took the seat back: the payment is read again, and a seat it no longer has is released. The
/// other delivery records its status before it releases, so one of the two always sees the other.
async fn follow_a_later_release<S: PaymentStore>(
    store: &S,
    payment: &PaymentRef,
    event: &str,
    registration: &str,
) -> Result<(), StoreError> {
    if let Some(now_recorded) = store.payment_item(payment).await? {
        if matches!(now_recorded.status, PaymentStatus::Failed | PaymentStatus::Refunded) {
            store.release_seat(event, registration, None).await?;
        }
    }
    Ok(())
}

async fn keep_paid_seat<S: PaymentStore>(
    store: &S,
    event: &str,
    registration: &str,
    status: PaymentStatus,
    now: i64,
) -> Result<(), StoreError> {
    if take_seat(store, event, registration, capacity_in_force(event), None, now).await? == SeatHold::SoldOut
    {
        tracing::error!(
            registration_id = registration,
            status = status.as_str(),
            "a payment for an event with no seat left, free or lapsed; refund it once it succeeds"
        );
    }
    Ok(())
}

/// The receipt's message, in the request's language.
fn receipt_for(payment: &PaymentRef, paid: &RecordedPayment, paid_at: i64, to: String) -> OutboxMessage {
    let catalogue = built_in_catalogue();
    let item = format!("{}:{}", if paid.kind == PaymentKind::Event { "event" } else { "plan" }, paid.item);
    // What was charged, as recorded when the payment started (the catalogue may have changed).
    let charged = money(paid.amount, &paid.currency);
    let (title, description, price, interval) = match catalogue.item(&item) {
        Some(Purchase::Event { event, id }) => {
            let what = Purchase::Event { event, id }.what();
            (super::catalogue::event_title(id, event), what, charged, None)
        }
        Some(Purchase::Plan { plan, id }) => (
            super::catalogue::plan_title(id, plan),
            super::catalogue::plan_title(id, plan),
            super::catalogue::per_interval(charged, &plan.interval),
            Some(plan.interval.clone()),
        ),
        // Sold under a catalogue since changed: what the record itself says.
        None => (paid.item.clone(), paid.item.clone(), charged, None),
    };
    OutboxMessage {
        id: format!("receipt-{}", payment.registration_id),
        kind: MailKind::Transactional,
        to,
        profile_id: payment.profile_id.clone(),
        subject: crate::t!("subject-receipt", title = title),
        template: "payment_receipt".to_owned(),
        lang: crate::i18n::Lang::current(),
        values: serde_json::json!({
            "kind": paid.kind.as_str(),
            "description": description,
            "price": price,
            "interval": interval,
            "paid_on": crate::time::Timestamp::from_epoch_seconds(paid_at).date_in_words(),
            "reference": payment.registration_id,
        }),
        topic: None,
        unsubscribe_url: None,
    }
}
