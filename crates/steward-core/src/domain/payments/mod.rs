//! Paid events and the WSO2 Cloud subscription. Card data never touches Steward: the browser
//! tokenises with Stripe Elements, and Steward works only with Stripe ids, amounts and statuses.
//!
//! What is sold and for how much is decided here, from `payments.toml`; the browser sends only
//! the grant it received with its registration.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::domain::ports::StoreError;
use crate::time::Timestamp;
use crate::token::Claims;

/// The catalogue shipped with this build.
pub const BUILT_IN: &str = include_str!("../../../payments.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaidEvent {
    pub title: String,
    /// In the currency's minor unit (cents).
    pub price: i64,
    pub currency: String,
    pub capacity: u32,
    pub starts: String,
    pub ends: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudPlan {
    pub title: String,
    pub stripe_price_id: String,
    pub interval: String,
    /// What the Stripe price charges, for display; Stripe's price is the one that counts.
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentCatalogue {
    #[serde(default)]
    pub events: BTreeMap<String, PaidEvent>,
    #[serde(default)]
    pub plans: BTreeMap<String, CloudPlan>,
}

impl PaymentCatalogue {
    pub fn load(text: &str) -> Result<Self, String> {
        let catalogue: Self = toml::from_str(text).map_err(|e| format!("payment catalogue: {e}"))?;
        for (id, event) in &catalogue.events {
            if event.price < 50 || event.currency.len() != 3 || event.capacity == 0 {
                return Err(format!(
                    "payment catalogue: event {id} needs a price of at least 50, a currency and seats"
                ));
            }
        }
        for (id, plan) in &catalogue.plans {
            if !plan.stripe_price_id.starts_with("price_")
                || !matches!(plan.interval.as_str(), "month" | "year")
            {
                return Err(format!(
                    "payment catalogue: plan {id} needs a Stripe price id and a month or year interval"
                ));
            }
        }
        Ok(catalogue)
    }

    /// What a grant's item names: `event:<id>` or `plan:<id>`.
    pub fn item(&self, item: &str) -> Option<Purchase<'_>> {
        match item.split_once(':')? {
            ("event", id) => self.events.get_key_value(id).map(|(id, e)| Purchase::Event { id, event: e }),
            ("plan", id) => self.plans.get_key_value(id).map(|(id, p)| Purchase::Plan { id, plan: p }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Purchase<'a> {
    Event { id: &'a str, event: &'a PaidEvent },
    Plan { id: &'a str, plan: &'a CloudPlan },
}

/// What a registration pays for: a seat at an event, or a WSO2 Cloud subscription. Stored by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentKind {
    Event,
    Cloud,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Cloud => "cloud",
        }
    }

    /// A stored kind; `None` for one no version of Steward writes (the store reports it).
    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Event, Self::Cloud].into_iter().find(|kind| kind.as_str() == stored)
    }
}

/// A Cloud invoice's outcome, as Stripe's `invoice.paid` and `invoice.payment_failed` say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    Paid,
    PaymentFailed,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::PaymentFailed => "payment_failed",
        }
    }
}

/// Where a payment stands. Ranked (`version`): within one second, a later state wins over an
/// earlier one. Stored by name (`as_str`), never by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Incomplete,
    Failed,
    RequiresAction,
    Succeeded,
    Active,
    PastDue,
    Unpaid,
    Refunded,
    Canceled,
    /// Money on its way: a bank debit can take days to succeed or fail.
    Processing,
}

impl PaymentStatus {
    pub const ALL: [Self; 11] = [
        Self::Pending,
        Self::Incomplete,
        Self::Failed,
        Self::RequiresAction,
        Self::Succeeded,
        Self::Active,
        Self::PastDue,
        Self::Unpaid,
        Self::Refunded,
        Self::Canceled,
        Self::Processing,
    ];

    /// A stored status; `None` for one no version of Steward writes (the store reports it).
    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == stored)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Incomplete => "incomplete",
            Self::Failed => "failed",
            Self::RequiresAction => "requires_action",
            Self::Succeeded => "succeeded",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Unpaid => "unpaid",
            Self::Refunded => "refunded",
            Self::Canceled => "canceled",
            Self::Processing => "processing",
        }
    }

    /// Stripe's subscription statuses, as Steward records them.
    pub fn from_subscription(status: &str) -> Option<Self> {
        Some(match status {
            "incomplete" | "incomplete_expired" => Self::Incomplete,
            "active" | "trialing" => Self::Active,
            "past_due" => Self::PastDue,
            "unpaid" | "paused" => Self::Unpaid,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    /// A version that orders updates by the Stripe event's time, then by how far along the
    /// state is: an event that arrives late can never move a payment backwards.
    pub fn version(self, event_created: i64) -> i64 {
        event_created * 100 + self.rank()
    }

    /// How far along a state is. The numbers are stored inside every payment's version, so they
    /// are written out here and never derived from the variants' order: a new state takes a rank
    /// without moving any other. Processing shares Incomplete's rank (a subscription's state,
    /// never on the same record), below every outcome: a failure or success in the same second
    /// wins over it.
    fn rank(self) -> i64 {
        match self {
            Self::Pending => 0,
            Self::Incomplete | Self::Processing => 1,
            Self::Failed => 2,
            Self::RequiresAction => 3,
            Self::Succeeded => 4,
            Self::Active => 5,
            Self::PastDue => 6,
            Self::Unpaid => 7,
            Self::Refunded => 8,
            Self::Canceled => 9,
        }
    }
}

/// A registration's payment, as stored: ids, amounts, statuses and times, never card details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub profile_id: String,
    pub registration_id: String,
    pub kind: PaymentKind,
    pub item: String,
    pub amount: i64,
    pub currency: String,
    pub stripe_customer_id: String,
    pub payment_intent_id: Option<String>,
    pub subscription_id: Option<String>,
    pub status: PaymentStatus,
    pub started_at: Timestamp,
}

/// A change a Stripe event makes to a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentUpdate {
    Status { status: PaymentStatus, failure_code: Option<String> },
    Invoice { invoice_id: String, status: InvoiceStatus, amount: i64 },
    Dispute { dispute_id: String, status: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatHold {
    Held,
    AlreadyHeld,
    SoldOut,
}

/// A stored payment's kind, item and current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPayment {
    pub kind: PaymentKind,
    pub item: String,
    pub status: PaymentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRef {
    pub profile_id: String,
    pub registration_id: String,
}

pub trait PaymentStore {
    /// Takes a seat for the registration unless the event is full; holding twice is harmless.
    /// A capacity of 0 means the one recorded when the event's first seat was taken. A checkout's
    /// hold lapses at `lapses_at` (the retention sweep gives it back); a paid seat's never does.
    fn hold_seat(
        &self,
        event: &str,
        registration: &str,
        capacity: u32,
        lapses_at: Option<i64>,
    ) -> impl Future<Output = Result<SeatHold, StoreError>> + Send;
    /// Moves the lapse of the registration's hold: later for a checkout resumed, never (`None`)
    /// once paid. A paid seat is not given a lapse again. Says whether the registration still
    /// holds its seat (a checkout's hold may have lapsed and been given back meanwhile).
    fn set_hold_lapse(
        &self,
        event: &str,
        registration: &str,
        lapses_at: Option<i64>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Gives back the seat of one of the event's checkouts that lapsed unpaid before `now`. Says
    /// whether it found one, even if another caller (the sweep, another buyer) gave it back first:
    /// either way a seat may be free now.
    fn free_lapsed_seat(
        &self,
        event: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Gives the registration's seat back, if it holds one. With `lapsed_before`, only a
    /// checkout's hold that lapses before then: a paid seat, which has no lapse, stays.
    fn release_seat(
        &self,
        event: &str,
        registration: &str,
        lapsed_before: Option<i64>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn customer_of(&self, profile: &str) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    fn save_customer(
        &self,
        profile: &str,
        customer: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records a started payment and the references that lead Stripe's events back to it; the
    /// status is set only if none is recorded yet.
    fn record_started(&self, payment: &PaymentRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn payment_ref(
        &self,
        stripe_id: &str,
    ) -> impl Future<Output = Result<Option<PaymentRef>, StoreError>> + Send;
    /// Applies an update unless a newer one is already recorded; says whether it applied.
    fn apply_update(
        &self,
        payment: &PaymentRef,
        update: &PaymentUpdate,
        version: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// What a payment is for and where it stands, to release or take its seat.
    fn payment_item(
        &self,
        payment: &PaymentRef,
    ) -> impl Future<Output = Result<Option<RecordedPayment>, StoreError>> + Send;
    fn event_seen(&self, event_id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn mark_event_seen(
        &self,
        event_id: &str,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Steward's view of the payment provider (Stripe). Every call is idempotent: the keys are
/// derived from Steward's own ids, so a retry returns what the first call made.
pub trait PaymentProvider {
    fn create_customer(&self, profile_id: &str)
        -> impl Future<Output = Result<String, ProviderError>> + Send;
    fn create_payment_intent(
        &self,
        request: &IntentRequest<'_>,
    ) -> impl Future<Output = Result<Created, ProviderError>> + Send;
    fn create_subscription(
        &self,
        request: &SubscriptionRequest<'_>,
    ) -> impl Future<Output = Result<Created, ProviderError>> + Send;
}

#[derive(Debug, Clone)]
pub struct IntentRequest<'a> {
    pub customer: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub registration_id: &'a str,
    pub profile_id: &'a str,
    pub event_id: &'a str,
}

#[derive(Debug, Clone)]
pub struct SubscriptionRequest<'a> {
    pub customer: &'a str,
    pub price_id: &'a str,
    pub registration_id: &'a str,
    pub profile_id: &'a str,
    pub plan_id: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub id: String,
    pub client_secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Network trouble, timeouts, 5xx, rate limits: try again later (503).
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request: a configuration problem on our side (502).
    #[error("the payment provider refused the request: {0}")]
    Rejected(String),
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("the grant names nothing on sale")]
    UnknownItem,
    #[error("the event is sold out")]
    SoldOut,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the browser needs to finish paying with Stripe Elements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentStarted {
    pub kind: PaymentKind,
    pub item: String,
    pub amount: i64,
    pub currency: String,
    pub client_secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_intent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
}

/// How long a checkout holds its seat before paying. Abandoned checkouts would otherwise sell an
/// event out with nobody paying; a payment that succeeds after its hold lapsed takes a seat again
/// (see `apply_event`). Stripe Checkout's shortest session is as long.
pub const SEAT_HOLD_SECONDS: i64 = 30 * 60;

/// Starts (or, for the same registration, resumes) paying for what the grant names.
pub async fn start_payment<S, P>(
    store: &S,
    provider: &P,
    catalogue: &PaymentCatalogue,
    grant: &Claims,
    now: i64,
) -> Result<PaymentStarted, PaymentError>
where
    S: PaymentStore,
    P: PaymentProvider,
{
    let purchase =
        grant.item.as_deref().and_then(|item| catalogue.item(item)).ok_or(PaymentError::UnknownItem)?;
    let registration = grant.subject.as_str();
    let profile = grant.profile_id.as_str();

    let seat = match purchase {
        Purchase::Event { id, event } => {
            let payment =
                PaymentRef { profile_id: profile.to_owned(), registration_id: registration.to_owned() };
            let paid = store.payment_item(&payment).await?.is_some_and(|recorded| {
                matches!(recorded.status, PaymentStatus::Succeeded | PaymentStatus::Processing)
            });
            // A paid registration's seat is the webhook's to keep or give back; a checkout takes
            // one, or, resumed, gets its full time again.
            if paid {
                None
            } else {
                match take_seat(store, id, registration, event.capacity, Some(now + SEAT_HOLD_SECONDS), now)
                    .await?
                {
                    SeatHold::SoldOut => return Err(PaymentError::SoldOut),
                    hold => Some((id, hold)),
                }
            }
        }
        Purchase::Plan { .. } => None,
    };
    let result = create_with_provider(store, provider, purchase, registration, profile, now).await;
    if result.is_err() {
        // Nothing half-done: a seat taken by this call is given back if the provider failed,
        // unless a payment of the registration succeeded meanwhile and made it a paid seat.
        if let Some((event, SeatHold::Held)) = seat {
            store.release_seat(event, registration, Some(i64::MAX)).await?;
        }
    }
    result
}

/// Takes the registration's seat, or finds it taken and sets its term: a checkout's lapses at
/// `lapses_at`, a paid seat's never (`None`). When the event is full, the seat of one checkout
/// that lapsed unpaid goes back on sale first, so abandoned checkouts never turn a buyer away.
async fn take_seat<S: PaymentStore>(
    store: &S,
    event: &str,
    registration: &str,
    capacity: u32,
    lapses_at: Option<i64>,
    now: i64,
) -> Result<SeatHold, StoreError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut hold = store.hold_seat(event, registration, capacity, lapses_at).await?;
        if hold == SeatHold::SoldOut && store.free_lapsed_seat(event, now).await? {
            hold = store.hold_seat(event, registration, capacity, lapses_at).await?;
        }
        // A hold found taken may lapse and be given back before its term is set: take it again.
        if hold != SeatHold::AlreadyHeld || store.set_hold_lapse(event, registration, lapses_at).await? {
            return Ok(hold);
        }
        if attempts == 3 {
            return Err(StoreError::Unavailable("the seat kept changing hands; try again".into()));
        }
    }
}

async fn create_with_provider<S: PaymentStore, P: PaymentProvider>(
    store: &S,
    provider: &P,
    purchase: Purchase<'_>,
    registration: &str,
    profile: &str,
    now: i64,
) -> Result<PaymentStarted, PaymentError> {
    let customer = match store.customer_of(profile).await? {
        Some(customer) => customer,
        None => {
            let customer = provider.create_customer(profile).await?;
            store.save_customer(profile, &customer).await?;
            customer
        }
    };
    let (kind, item, amount, currency, created, status) = match purchase {
        Purchase::Event { id, event } => {
            let request = IntentRequest {
                customer: &customer,
                amount: event.price,
                currency: &event.currency,
                registration_id: registration,
                profile_id: profile,
                event_id: id,
            };
            let created = provider.create_payment_intent(&request).await?;
            (PaymentKind::Event, id, event.price, event.currency.clone(), created, PaymentStatus::Pending)
        }
        Purchase::Plan { id, plan } => {
            let request = SubscriptionRequest {
                customer: &customer,
                price_id: &plan.stripe_price_id,
                registration_id: registration,
                profile_id: profile,
                plan_id: id,
            };
            let created = provider.create_subscription(&request).await?;
            (PaymentKind::Cloud, id, plan.amount, plan.currency.clone(), created, PaymentStatus::Incomplete)
        }
    };
    let is_event = kind == PaymentKind::Event;
    let record = PaymentRecord {
        profile_id: profile.to_owned(),
        registration_id: registration.to_owned(),
        kind,
        item: item.to_owned(),
        amount,
        currency: currency.clone(),
        stripe_customer_id: customer,
        payment_intent_id: is_event.then(|| created.id.clone()),
        subscription_id: (!is_event).then(|| created.id.clone()),
        status,
        started_at: Timestamp::from_epoch_seconds(now),
    };
    store.record_started(&record).await?;
    tracing::info!(
        registration_id = registration,
        kind = kind.as_str(),
        item,
        stripe_id = created.id.as_str(),
        "payment started"
    );
    Ok(PaymentStarted {
        kind,
        item: item.to_owned(),
        amount,
        currency,
        client_secret: created.client_secret,
        payment_intent_id: record.payment_intent_id,
        subscription_id: record.subscription_id,
    })
}

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
pub async fn receive_event<S: PaymentStore>(
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
pub async fn apply_event<S: PaymentStore>(
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
        if recorded.kind == PaymentKind::Event {
            let (event_id, registration) = (recorded.item.as_str(), payment.registration_id.as_str());
            match recorded.status {
                PaymentStatus::Failed | PaymentStatus::Refunded => {
                    store.release_seat(event_id, registration, None).await?;
                }
                // Paid, or money on its way (a bank debit takes days to succeed or fail): the
                // seat no longer lapses.
                status @ (PaymentStatus::Succeeded | PaymentStatus::Processing) => {
                    keep_paid_seat(store, event_id, registration, status, now).await?
                }
                // Someone is authenticating with their bank: the checkout gets its full time again.
                PaymentStatus::RequiresAction => {
                    take_seat(store, event_id, registration, 0, Some(now + SEAT_HOLD_SECONDS), now).await?;
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

/// A paid registration keeps its seat for good: its hold no longer lapses. A payment whose seat
/// was given back (a failed attempt, or a checkout that lapsed) takes one again, against the
/// event's capacity. If the last seat sold meanwhile, the payment stands and an operator must
/// refund it: that is logged as an error, never silently overbooked.
async fn keep_paid_seat<S: PaymentStore>(
    store: &S,
    event: &str,
    registration: &str,
    status: PaymentStatus,
    now: i64,
) -> Result<(), StoreError> {
    if take_seat(store, event, registration, 0, None, now).await? == SeatHold::SoldOut {
        tracing::error!(
            registration_id = registration,
            status = status.as_str(),
            "a payment for an event with no seat left, free or lapsed; refund it once it succeeds"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_keep_the_ranks_and_names_already_stored() {
        // Every payment's version holds a rank, and every item a name: changing either would
        // reorder or orphan what is stored.
        let stored: Vec<(&str, i64)> =
            PaymentStatus::ALL.iter().map(|s| (s.as_str(), s.version(0))).collect();
        assert_eq!(
            stored,
            [
                ("pending", 0),
                ("incomplete", 1),
                ("failed", 2),
                ("requires_action", 3),
                ("succeeded", 4),
                ("active", 5),
                ("past_due", 6),
                ("unpaid", 7),
                ("refunded", 8),
                ("canceled", 9),
                ("processing", 1),
            ]
        );
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(PaymentStatus::parse("settled"), None);
        assert_eq!(PaymentKind::parse("event"), Some(PaymentKind::Event));
        assert_eq!(PaymentKind::parse("gift"), None);
    }

    #[test]
    fn the_shipped_catalogue_loads_and_names_items_by_kind() {
        let catalogue = PaymentCatalogue::load(BUILT_IN).unwrap();
        assert!(matches!(catalogue.item("event:wso2con-2026"), Some(Purchase::Event { .. })));
        assert!(matches!(catalogue.item("plan:cloud-starter"), Some(Purchase::Plan { .. })));
        assert!(catalogue.item("event:cloud-starter").is_none());
        assert!(catalogue.item("wso2con-2026").is_none());
    }

    #[test]
    fn a_late_event_never_moves_a_payment_backwards() {
        assert!(PaymentStatus::Succeeded.version(100) > PaymentStatus::Failed.version(100));
        assert!(PaymentStatus::Failed.version(101) > PaymentStatus::Succeeded.version(100));
        assert!(PaymentStatus::Refunded.version(100) > PaymentStatus::Succeeded.version(100));
        assert!(PaymentStatus::PastDue.version(100) > PaymentStatus::Active.version(100));
        // Processing comes after the attempt and before its outcome, which wins within a second;
        // the ranks recorded before it existed are unchanged.
        assert!(PaymentStatus::Processing.version(101) > PaymentStatus::RequiresAction.version(100));
        assert!(PaymentStatus::Succeeded.version(100) > PaymentStatus::Processing.version(100));
        assert!(PaymentStatus::Failed.version(100) > PaymentStatus::Processing.version(100));
        assert_eq!(PaymentStatus::Succeeded.version(100), 100 * 100 + 4, "as recorded before");
    }

    fn sample(name: &str) -> StripeEvent {
        let path = format!("{}/../../events/stripe-webhook/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_sample_webhooks_mean_what_stripe_means() {
        let status = |name: &str| match interpret(&sample(name)) {
            Some((id, PaymentUpdate::Status { status, .. })) => (id[..3].to_owned(), status),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(status("payment_intent.succeeded"), ("pi_".into(), PaymentStatus::Succeeded));
        assert_eq!(status("payment_intent.payment_failed"), ("pi_".into(), PaymentStatus::Failed));
        assert_eq!(status("charge.refunded"), ("pi_".into(), PaymentStatus::Refunded));
        assert_eq!(status("customer.subscription.updated"), ("sub".into(), PaymentStatus::Active));
        assert_eq!(status("customer.subscription.deleted"), ("sub".into(), PaymentStatus::Canceled));
        assert!(
            matches!(interpret(&sample("invoice.paid")), Some((id, PaymentUpdate::Invoice { status: InvoiceStatus::Paid, .. })) if id.starts_with("sub_"))
        );
        assert!(matches!(
            interpret(&sample("invoice.payment_failed")),
            Some((_, PaymentUpdate::Invoice { status: InvoiceStatus::PaymentFailed, .. }))
        ));
        assert!(matches!(
            interpret(&sample("charge.dispute.created")),
            Some((_, PaymentUpdate::Dispute { .. }))
        ));
        let mut failed = sample("payment_intent.payment_failed");
        assert!(
            matches!(interpret(&failed), Some((_, PaymentUpdate::Status { failure_code: Some(code), .. })) if code == "generic_decline")
        );
        failed.event_type = "balance.available".into();
        assert!(interpret(&failed).is_none());
    }

    #[test]
    fn prices_below_stripes_minimum_are_refused() {
        let text = "[events.x]\ntitle='x'\nprice=10\ncurrency='usd'\ncapacity=1\nstarts='a'\nends='b'\n";
        assert!(PaymentCatalogue::load(text).is_err());
    }
}
