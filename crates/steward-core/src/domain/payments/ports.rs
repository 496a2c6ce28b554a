//! What paying needs from outside: the store of seats, customers and payments, and the payment
//! provider (Stripe, in `adapters::stripe::provider`).

use std::future::Future;

use super::status::{PaymentRecord, PaymentRef, PaymentUpdate, RecordedPayment, SeatHold};
use crate::domain::ids::ProfileId;
use crate::domain::ports::StoreError;

pub trait PaymentStore {
    /// The address a payer's receipt goes to, while they are held.
    fn payer_address(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Notes on the payment that its receipt is owed (the first time only).
    fn note_receipt_owed(
        &self,
        payment: &PaymentRef,
        at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// How many of the event's seats are taken now (paid, or held by a checkout).
    fn seats_taken(&self, event: &str) -> impl Future<Output = Result<u32, StoreError>> + Send;
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
    /// Whether the registration a grant names is still held: erased or past its retention, it
    /// is not, and nothing may be created for it again.
    fn registration_held(
        &self,
        payment: &PaymentRef,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn customer_of(
        &self,
        profile: &ProfileId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    fn save_customer(
        &self,
        profile: &ProfileId,
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
    fn create_customer(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<String, ProviderError>> + Send;
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
    pub profile_id: &'a ProfileId,
    pub event_id: &'a str,
}

#[derive(Debug, Clone)]
pub struct SubscriptionRequest<'a> {
    pub customer: &'a str,
    pub price_id: &'a str,
    pub registration_id: &'a str,
    pub profile_id: &'a ProfileId,
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
