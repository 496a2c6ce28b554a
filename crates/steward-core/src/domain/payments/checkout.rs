//! Starting (or resuming) a payment from a registration's grant: a seat held for the checkout,
//! the Stripe customer, and the payment intent or subscription the browser confirms.

use serde::Serialize;

use super::catalogue::{EventAvailability, PaymentCatalogue, Purchase};
use super::ports::{IntentRequest, PaymentProvider, PaymentStore, ProviderError, SubscriptionRequest};
use super::status::{PaymentKind, PaymentRecord, PaymentRef, PaymentStatus, SeatHold};
use crate::domain::ids::ProfileId;
use crate::domain::ports::{Clock, FixedWindow, RateLimiter, StoreError};
use crate::secret::SecretKey;
use crate::time::Timestamp;
use crate::token::Claims;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("the grant names nothing on sale")]
    UnknownItem,
    #[error("the event is sold out")]
    SoldOut,
    /// Paid already (or the money is on its way): there is nothing to pay, and a page reloaded
    /// after paying must not offer to pay again.
    #[error("the registration is paid")]
    AlreadyPaid,
    /// The event has started (or taken place): nothing more is sold for it.
    #[error("the event's registration is closed")]
    SalesClosed,
    /// The registration is no longer held (erased, or past its retention): nothing is created
    /// for it again, at Stripe or here.
    #[error("the registration is no longer held")]
    RegistrationGone,
    /// The checkout's time to pay has passed: opening it again does not renew it (it would let
    /// two anonymous registrations keep an event sold out for ever). Registering again does.
    #[error("the checkout's hold has lapsed")]
    HoldExpired,
    /// Too many starts from one place, or for one person, in a short time.
    #[error("too many payment starts; retry after {retry_after:?}")]
    RateLimited { retry_after: std::time::Duration },
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
    /// What is bought, with its dates and price, in the words the pages use.
    pub description: String,
    /// The price as people read it (`£150.00`, `US$29.00 a month`): the page shows this, never
    /// an amount it formats itself.
    pub price: String,
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

/// However often a buyer is asked to authenticate with their bank (each time gives the checkout
/// its full time again, up to this), a hold ends at the latest this long after the registration
/// first started paying: no one keeps a seat by failing 3-D Secure again and again.
pub const SEAT_HOLD_MAX_SECONDS: i64 = 60 * 60;

/// When the hold of a registration that first started paying at `started` lapses, asked at
/// `now`: a fixed time after the start, or, while the bank authenticates the buyer, a full hold
/// from now, never past [`SEAT_HOLD_MAX_SECONDS`]. At or before `now`, it has lapsed.
pub fn hold_lapses_at(started: i64, authenticating: bool, now: i64) -> i64 {
    if authenticating {
        (now + SEAT_HOLD_SECONDS).min(started + SEAT_HOLD_MAX_SECONDS)
    } else {
        started + SEAT_HOLD_SECONDS
    }
}

/// Payment starts one IP address may make in [`PAYMENT_LIMIT_WINDOW_SECONDS`]: an office, or a
/// mobile carrier's shared address at a ticket release, not a script.
pub const PAYMENT_STARTS_PER_IP: u32 = 60;
/// Payment starts one person (one address) may make in the window: resuming a checkout a few
/// times, not holding seats by the hundred.
pub const PAYMENT_STARTS_PER_PERSON: u32 = 10;
pub const PAYMENT_LIMIT_WINDOW_SECONDS: u64 = 600;

/// Who asks to pay: the grant from their registration, and where the request came from.
pub struct PaymentRequest<'a> {
    pub grant: &'a Claims,
    pub source_ip: &'a str,
}

/// Starts (or, for the same registration, resumes) paying for what the grant names.
pub async fn start_payment<S, P>(
    store: &S,
    provider: &P,
    catalogue: &PaymentCatalogue,
    hash_key: &SecretKey,
    request: PaymentRequest<'_>,
    clock: &dyn Clock,
) -> Result<PaymentStarted, PaymentError>
where
    S: PaymentStore + RateLimiter,
    P: PaymentProvider,
{
    let PaymentRequest { grant, source_ip } = request;
    // When this checkout began: its hold's term and the payment's start are both counted from it,
    // so resuming never moves either by the time the provider took to answer.
    let began = clock.timestamp();
    let now = began.epoch_seconds();
    let purchase =
        grant.item.as_deref().and_then(|item| catalogue.item(item)).ok_or(PaymentError::UnknownItem)?;
    let registration = grant.subject.as_str();
    let profile = &grant.profile_id;
    let this = PaymentRef { profile_id: profile.clone(), registration_id: registration.to_owned() };
    if !store.registration_held(&this).await? {
        return Err(PaymentError::RegistrationGone);
    }
    // Counted once the registration is known to be held: nothing is kept for an erased one.
    let window = FixedWindow::containing(
        clock.timestamp(),
        std::time::Duration::from_secs(PAYMENT_LIMIT_WINDOW_SECONDS),
    );
    let limited = [
        ("payment-ip", hash_key.pseudonym("rate-ip", source_ip), PAYMENT_STARTS_PER_IP),
        (
            "payment-person",
            hash_key.pseudonym("rate-profile", grant.profile_id.as_str()),
            PAYMENT_STARTS_PER_PERSON,
        ),
    ];
    // One event per request: the store's own retry of a lost answer counts it once.
    let this_request = uuid::Uuid::new_v4().simple().to_string();
    for (scope, subject, limit) in limited {
        if store.hit_once(scope, &subject, &this_request, limit, window).await? > limit {
            tracing::info!(scope, "payment starts rate limit reached");
            return Err(PaymentError::RateLimited { retry_after: window.remaining_after(clock.timestamp()) });
        }
    }

    let recorded = store.payment_item(&this).await?;
    let status = recorded.as_ref().map(|recorded| recorded.status);
    // Paid, or the money on its way: a page reloaded after paying gets nothing to pay again.
    let paid = match purchase {
        Purchase::Event { .. } => {
            matches!(status, Some(PaymentStatus::Succeeded | PaymentStatus::Processing))
        }
        Purchase::Plan { .. } => status == Some(PaymentStatus::Active),
    };
    if paid {
        return Err(PaymentError::AlreadyPaid);
    }
    let seat = match purchase {
        Purchase::Event { id, event } => {
            match status {
                _ if !event.on_sale(now) => return Err(PaymentError::SalesClosed),
                _ => {
                    // The hold lapses a fixed time after the registration first started paying:
                    // resuming the checkout keeps that time, it never renews it (only the bank's
                    // authentication step does, and only up to a ceiling).
                    let started = recorded.and_then(|r| r.started_at).map_or(now, |at| at.epoch_seconds());
                    let authenticating = status == Some(PaymentStatus::RequiresAction);
                    let lapses_at = hold_lapses_at(started, authenticating, now);
                    if lapses_at <= now {
                        return Err(PaymentError::HoldExpired);
                    }
                    match take_seat(store, id, registration, event.capacity, Some(lapses_at), now).await? {
                        SeatHold::SoldOut => return Err(PaymentError::SoldOut),
                        hold => Some((id, hold)),
                    }
                }
            }
        }
        Purchase::Plan { .. } => None,
    };
    let result = create_with_provider(store, provider, purchase, registration, profile, began).await;
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
pub(super) async fn take_seat<S: PaymentStore>(
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
    profile: &ProfileId,
    began: Timestamp,
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
        // When the checkout began, as precise as the clock (the store keeps the first start).
        started_at: began,
        lang: crate::i18n::Lang::current(),
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
        description: purchase.label(),
        price: purchase.price(),
        amount,
        currency,
        client_secret: created.client_secret,
        payment_intent_id: record.payment_intent_id,
        subscription_id: record.subscription_id,
    })
}

/// Every event of the catalogue as its page shows it before anyone types: on sale or not (a past
/// event never is), and the seats left now.
pub async fn event_availability<S: PaymentStore>(
    store: &S,
    catalogue: &PaymentCatalogue,
    now: i64,
) -> Result<Vec<EventAvailability>, StoreError> {
    let mut events = Vec::with_capacity(catalogue.events.len());
    for (id, event) in &catalogue.events {
        let on_sale = event.on_sale(now);
        // A past event's seats are nobody's concern: it is not read.
        let taken = if on_sale { store.seats_taken(id).await? } else { event.capacity };
        let seats_left = event.capacity.saturating_sub(taken);
        events.push(EventAvailability {
            id: id.clone(),
            title: super::catalogue::event_title(id, event),
            dates: event.dates(),
            price: super::catalogue::money(event.price, &event.currency),
            on_sale,
            seats_left,
            sold_out: on_sale && seats_left == 0,
        });
    }
    Ok(events)
}
