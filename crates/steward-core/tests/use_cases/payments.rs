//! Paying for an event: seats held by checkouts, given back when they lapse or fail, kept for good
//! once paid; and Stripe's events, applied in whatever order and however often they arrive.

use serde_json::json;
use steward_core::adapters::dynamodb::keys;
use steward_core::adapters::memory::{Fault, ProviderFault};
use steward_core::domain::forms::submit::Receipt;
use steward_core::domain::payments::{
    event_availability, receive_event, EventAvailability, PaymentError, PaymentKind, PaymentStarted,
    PaymentStatus, PaymentStore, Received, StripeEvent, StripeEventData, WebhookOutcome, SEAT_HOLD_SECONDS,
};
use steward_core::domain::ports::Clock as _;

use crate::support::{email, World};

/// The catalogue's two-seat event.
const WORKSHOP: &str = "identity-workshop";
const WORKSHOP_ITEM: &str = "event:identity-workshop";

async fn register(world: &World, who: &str) -> Receipt {
    world
        .submit(
            "event-registration",
            &[
                ("name", "Zoë Ñúñez"),
                ("email", &email(who)),
                ("phone", "+44 20 7946 0958"),
                ("job_title", "CTO"),
                ("company", "Acme"),
                ("country", "GB"),
                ("state", "GB-LND"),
                ("event", WORKSHOP),
            ],
        )
        .await
}

async fn checkout(world: &World, registration: &Receipt) -> Result<PaymentStarted, PaymentError> {
    let grant = world.grant(registration, WORKSHOP_ITEM);
    world.start_payment(&grant).await
}

/// A Stripe event about a payment intent, as the webhook verified it.
fn intent_event(event_type: &str, intent: &str, created: i64) -> StripeEvent {
    StripeEvent {
        id: format!("evt_{}", uuid::Uuid::new_v4().simple()),
        event_type: event_type.to_owned(),
        created,
        data: StripeEventData {
            object: json!({
                "id": intent,
                "object": "payment_intent",
                "last_payment_error": (event_type == "payment_intent.payment_failed")
                    .then(|| json!({"decline_code": "generic_decline"})),
            }),
        },
    }
}

fn intent_of(started: &PaymentStarted) -> &str {
    started.payment_intent_id.as_deref().expect("an event's payment is a payment intent")
}

/// Who holds a seat of the workshop, by registration id, and how many seats are counted taken.
fn seats(world: &World) -> (Vec<String>, i64) {
    let (event_pk, _) = keys::seats(WORKSHOP);
    let partition = world.store.partition(&event_pk);
    let holders =
        partition.iter().filter_map(|((_, sk), _)| sk.strip_prefix("HOLD#").map(str::to_owned)).collect();
    // However many counters the seats are split across.
    let taken = partition
        .iter()
        .filter(|((_, sk), _)| sk.starts_with(keys::SEATS_PREFIX))
        .filter_map(|(_, seats)| seats["taken"].as_i64())
        .sum();
    (holders, taken)
}

/// When the registration's seat hold lapses: `None` when it holds no seat or a paid one.
fn hold_lapse(world: &World, registration: &Receipt) -> Option<i64> {
    let (event_pk, _) = keys::seats(WORKSHOP);
    let hold = format!("HOLD#{}", registration.submission_id.as_str());
    world
        .store
        .partition(&event_pk)
        .into_iter()
        .find(|((_, sk), _)| *sk == hold)
        .and_then(|(_, item)| item[keys::HOLD_LAPSES_AT].as_i64())
}

fn holds_seat(world: &World, registration: &Receipt) -> bool {
    seats(world).0.contains(&registration.submission_id.as_str().to_owned())
}

async fn status_of(world: &World, registration: &Receipt) -> PaymentStatus {
    let payment = steward_core::domain::payments::PaymentRef {
        profile_id: registration.profile_id.clone(),
        registration_id: registration.submission_id.as_str().to_owned(),
    };
    world.store.payment_item(&payment).await.unwrap().expect("a recorded payment").status
}

#[tokio::test]
async fn given_a_two_seat_event_when_two_checkouts_hold_its_seats_then_the_third_buyer_finds_it_sold_out() {
    let world = World::new();
    let (ana, ben, cy) =
        (register(&world, "ana").await, register(&world, "ben").await, register(&world, "cy").await);

    let started = checkout(&world, &ana).await.unwrap();
    assert_eq!((started.kind, started.amount, started.currency.as_str()), (PaymentKind::Event, 15000, "gbp"));
    checkout(&world, &ben).await.unwrap();

    assert!(matches!(checkout(&world, &cy).await, Err(PaymentError::SoldOut)));
    assert_eq!(seats(&world).1, 2, "two seats taken, no more");
    assert!(
        !world.provider.calls().iter().any(|call| call.ends_with(cy.submission_id.as_str())),
        "no payment for cy"
    );
}

#[tokio::test]
async fn a_checkout_resumed_holds_its_one_seat_and_never_renews_its_time() {
    let world = World::new();
    let (ana, ben, cy) =
        (register(&world, "ana").await, register(&world, "ben").await, register(&world, "cy").await);
    let first = checkout(&world, &ana).await.unwrap();
    checkout(&world, &ben).await.unwrap();

    world.clock.advance(20 * 60);
    let resumed = checkout(&world, &ana).await.unwrap();
    assert_eq!(resumed.payment_intent_id, first.payment_intent_id, "the same payment, resumed");
    assert_eq!(seats(&world).1, 2, "resuming takes no second seat");

    // Re-posting every few minutes does not keep the event sold out: both holds lapse on time.
    world.clock.advance(9 * 60);
    checkout(&world, &ana).await.unwrap();
    world.clock.advance(2 * 60);
    checkout(&world, &cy).await.expect("a lapsed checkout gave its seat to cy");
    assert!(matches!(checkout(&world, &ana).await, Err(PaymentError::HoldExpired)), "its time is over");
    assert!(matches!(checkout(&world, &ben).await, Err(PaymentError::HoldExpired)));
    assert!(holds_seat(&world, &cy));
}

#[tokio::test]
async fn a_slow_provider_never_moves_a_checkouts_time_to_pay() {
    let world = World::new();
    let ana = register(&world, "ana").await;
    world.provider.set_fault(Some(ProviderFault::Slow { clock: world.clock.clone(), seconds: 5 }));
    let began = world.clock.now();
    checkout(&world, &ana).await.unwrap();
    let lapse = hold_lapse(&world, &ana).expect("a hold");
    assert_eq!(lapse, began + SEAT_HOLD_SECONDS, "counted from when the checkout began");
    checkout(&world, &ana).await.unwrap();
    assert_eq!(hold_lapse(&world, &ana), Some(lapse), "resuming keeps it, however long Stripe took");
}

#[tokio::test]
async fn payment_starts_are_limited_per_person_and_per_place() {
    use steward_core::domain::payments::{PAYMENT_STARTS_PER_IP, PAYMENT_STARTS_PER_PERSON};
    let world = World::new();
    let ana = register(&world, "ana").await;
    let grant = world.grant(&ana, WORKSHOP_ITEM);
    for n in 0..PAYMENT_STARTS_PER_PERSON {
        world.start_payment_from(&grant, &format!("198.51.100.{n}")).await.expect("within the limit");
    }
    let refused = world.start_payment_from(&grant, "198.51.100.200").await;
    assert!(matches!(refused, Err(PaymentError::RateLimited { .. })), "one person, from anywhere");

    // One place, many registrations.
    world.clock.advance(600);
    let mut refused_at = None;
    for n in 0..=PAYMENT_STARTS_PER_IP {
        // Each registered from a place of their own; they pay from one.
        let address = email(&format!("p{n}"));
        let fields = [
            ("name", "P"),
            ("email", address.as_str()),
            ("phone", "+44 20 7946 0958"),
            ("job_title", "CTO"),
            ("company", "Acme"),
            ("country", "GB"),
            ("state", "GB-LND"),
            ("event", WORKSHOP),
        ];
        let registration = match world
            .submit_from("event-registration", &fields, &format!("198.18.{}.{}", n / 200, n % 200), None)
            .await
        {
            Ok(steward_core::domain::forms::submit::SubmitOutcome::Stored(receipt)) => receipt,
            other => panic!("registration {n}: {other:?}"),
        };
        let grant = world.grant(&registration, WORKSHOP_ITEM);
        if let Err(PaymentError::RateLimited { .. }) = world.start_payment_from(&grant, "203.0.113.5").await {
            refused_at = Some(n);
            break;
        }
    }
    assert_eq!(refused_at, Some(PAYMENT_STARTS_PER_IP), "one place, many people");
}

#[tokio::test]
async fn authenticating_again_and_again_never_keeps_a_seat_past_the_ceiling() {
    use steward_core::domain::payments::SEAT_HOLD_MAX_SECONDS;
    let world = World::new();
    let (ana, ben) = (register(&world, "ana").await, register(&world, "ben").await);
    let started = checkout(&world, &ana).await.unwrap();
    let first_start = world.now();
    checkout(&world, &ben).await.unwrap();
    // Every twenty minutes the bank asks ana to authenticate, and she never does.
    for _ in 0..6 {
        world.clock.advance(20 * 60);
        let asked = intent_event("payment_intent.requires_action", intent_of(&started), world.now());
        receive_event(&world.store, &asked, world.now()).await.unwrap();
        let lapse = hold_lapse(&world, &ana);
        assert!(
            lapse.is_none_or(|at| at <= first_start + SEAT_HOLD_MAX_SECONDS),
            "never past the ceiling: {lapse:?}"
        );
    }
    assert!(matches!(checkout(&world, &ana).await, Err(PaymentError::HoldExpired)), "nor by resuming it");
}

#[tokio::test]
async fn given_a_sold_out_event_when_a_checkout_lapses_then_its_seat_goes_to_the_next_buyer() {
    let world = World::new();
    let (ana, ben, cy) =
        (register(&world, "ana").await, register(&world, "ben").await, register(&world, "cy").await);
    checkout(&world, &ana).await.unwrap();
    checkout(&world, &ben).await.unwrap();
    assert!(matches!(checkout(&world, &cy).await, Err(PaymentError::SoldOut)));

    world.clock.advance(SEAT_HOLD_SECONDS + 1);
    checkout(&world, &cy).await.expect("a lapsed checkout's seat is on sale again");
    assert_eq!(seats(&world).1, 2);
    assert!(holds_seat(&world, &cy));
    // One lapsed seat went back, whichever was found first; neither lapsed checkout resumes.
    let (lost, kept) = if holds_seat(&world, &ana) { (&ben, &ana) } else { (&ana, &ben) };
    assert!(holds_seat(&world, kept), "only the one seat cy needed went back");
    assert!(matches!(checkout(&world, kept).await, Err(PaymentError::HoldExpired)), "its time is over");
    assert!(matches!(checkout(&world, lost).await, Err(PaymentError::HoldExpired)));
}

#[tokio::test]
async fn given_a_paid_seat_then_it_never_lapses() {
    let world = World::new();
    let (ana, ben, cy, dee) = (
        register(&world, "ana").await,
        register(&world, "ben").await,
        register(&world, "cy").await,
        register(&world, "dee").await,
    );
    let paid = checkout(&world, &ana).await.unwrap();
    checkout(&world, &ben).await.unwrap();
    let succeeded = intent_event("payment_intent.succeeded", intent_of(&paid), world.now());
    assert_eq!(
        receive_event(&world.store, &succeeded, world.now()).await.unwrap(),
        Received::Processed(WebhookOutcome::Applied)
    );

    world.clock.advance(3600);
    checkout(&world, &cy).await.expect("ben's lapsed seat");
    assert!(matches!(checkout(&world, &dee).await, Err(PaymentError::SoldOut)), "ana's paid seat stays hers");
    assert!(holds_seat(&world, &ana));
    assert_eq!(status_of(&world, &ana).await, PaymentStatus::Succeeded);
}

#[tokio::test]
async fn given_a_failed_payment_then_its_seat_is_released_for_the_next_buyer() {
    let world = World::new();
    let (ana, ben, cy) =
        (register(&world, "ana").await, register(&world, "ben").await, register(&world, "cy").await);
    let started = checkout(&world, &ana).await.unwrap();
    checkout(&world, &ben).await.unwrap();

    let failed = intent_event("payment_intent.payment_failed", intent_of(&started), world.now());
    receive_event(&world.store, &failed, world.now()).await.unwrap();
    assert!(!holds_seat(&world, &ana));
    assert_eq!(status_of(&world, &ana).await, PaymentStatus::Failed);
    let payment =
        world.store.item(keys::payment(ana.profile_id.as_str(), ana.submission_id.as_str())).unwrap();
    assert_eq!(payment["failure_code"], "generic_decline");

    checkout(&world, &cy).await.expect("the failed payment's seat is free");
    checkout(&world, &ana).await.expect_err("and ana's retry finds the event full");
}

#[tokio::test]
async fn when_stripe_is_unavailable_then_the_seat_taken_for_the_checkout_is_given_back() {
    let world = World::new();
    let (ana, ben, cy) =
        (register(&world, "ana").await, register(&world, "ben").await, register(&world, "cy").await);
    world.provider.set_fault(Some(ProviderFault::Unavailable));
    assert!(matches!(checkout(&world, &ana).await, Err(PaymentError::Provider(_))));
    assert_eq!(seats(&world), (vec![], 0), "nothing half-done");

    world.provider.set_fault(None);
    checkout(&world, &ben).await.unwrap();
    checkout(&world, &cy).await.unwrap();
    checkout(&world, &ana).await.expect_err("two seats, both sold");
}

#[tokio::test]
async fn a_payment_that_succeeds_after_its_hold_lapsed_takes_a_free_seat_again() {
    let world = World::new();
    let (ana, ben) = (register(&world, "ana").await, register(&world, "ben").await);
    let started = checkout(&world, &ana).await.unwrap();
    world.clock.advance(SEAT_HOLD_SECONDS + 1);
    checkout(&world, &ben).await.unwrap();
    // The sweep gives the lapsed seat back before Stripe's success arrives.
    assert!(world.store.release_seat(WORKSHOP, ana.submission_id.as_str(), Some(world.now())).await.unwrap());
    assert!(!holds_seat(&world, &ana));

    let succeeded = intent_event("payment_intent.succeeded", intent_of(&started), world.now());
    receive_event(&world.store, &succeeded, world.now()).await.unwrap();
    assert!(holds_seat(&world, &ana), "a paid registration takes a seat again");
    assert_eq!(seats(&world).1, 2);
}

// --- Ordering -------------------------------------------------------------------------------

#[tokio::test]
async fn given_a_succeeded_payment_when_a_late_failure_arrives_then_it_stays_succeeded_and_keeps_its_seat() {
    let world = World::new();
    let ana = register(&world, "ana").await;
    let started = checkout(&world, &ana).await.unwrap();
    let (attempt, success) = (world.now() + 5, world.now() + 9);

    let succeeded = intent_event("payment_intent.succeeded", intent_of(&started), success);
    let failed = intent_event("payment_intent.payment_failed", intent_of(&started), attempt);
    assert_eq!(
        receive_event(&world.store, &succeeded, world.now()).await.unwrap(),
        Received::Processed(WebhookOutcome::Applied)
    );
    assert_eq!(
        receive_event(&world.store, &failed, world.now()).await.unwrap(),
        Received::Processed(WebhookOutcome::NoChange),
        "an older event never moves a payment backwards"
    );
    assert_eq!(status_of(&world, &ana).await, PaymentStatus::Succeeded);
    assert!(holds_seat(&world, &ana), "and the seat follows the recorded status, not the late event");
}

#[tokio::test]
async fn a_failure_in_the_same_second_as_processing_wins_and_releases_the_seat() {
    let world = World::new();
    let ana = register(&world, "ana").await;
    let started = checkout(&world, &ana).await.unwrap();
    let second = world.now() + 2;

    let failed = intent_event("payment_intent.payment_failed", intent_of(&started), second);
    let processing = intent_event("payment_intent.processing", intent_of(&started), second);
    // Delivered out of order: the failure first.
    receive_event(&world.store, &failed, world.now()).await.unwrap();
    assert_eq!(
        receive_event(&world.store, &processing, world.now()).await.unwrap(),
        Received::Processed(WebhookOutcome::NoChange)
    );
    assert_eq!(status_of(&world, &ana).await, PaymentStatus::Failed);
    assert!(!holds_seat(&world, &ana));
}

#[tokio::test]
async fn a_processing_payment_keeps_its_seat_past_the_checkouts_lapse() {
    let world = World::new();
    let (ana, ben, cy) =
        (register(&world, "ana").await, register(&world, "ben").await, register(&world, "cy").await);
    let started = checkout(&world, &ana).await.unwrap();
    checkout(&world, &ben).await.unwrap();
    let processing = intent_event("payment_intent.processing", intent_of(&started), world.now());
    receive_event(&world.store, &processing, world.now()).await.unwrap();
    assert_eq!(status_of(&world, &ana).await, PaymentStatus::Processing);

    // A bank debit takes days; the checkout's half hour is long gone.
    world.clock.advance(2 * 86_400);
    checkout(&world, &cy).await.expect("ben's lapsed seat");
    assert!(holds_seat(&world, &ana), "money on its way keeps its seat");
    assert!(
        matches!(checkout(&world, &ana).await, Err(PaymentError::AlreadyPaid)),
        "money on its way: nothing more to pay, and no second seat"
    );

    let succeeded = intent_event("payment_intent.succeeded", intent_of(&started), world.now());
    receive_event(&world.store, &succeeded, world.now()).await.unwrap();
    assert_eq!(status_of(&world, &ana).await, PaymentStatus::Succeeded);
}

#[tokio::test]
async fn a_full_refund_releases_the_seat_and_a_later_resume_starts_again() {
    let world = World::new();
    let ana = register(&world, "ana").await;
    let started = checkout(&world, &ana).await.unwrap();
    receive_event(
        &world.store,
        &intent_event("payment_intent.succeeded", intent_of(&started), world.now()),
        world.now(),
    )
    .await
    .unwrap();
    let refund = StripeEvent {
        id: "evt_refund".into(),
        event_type: "charge.refunded".into(),
        created: world.now() + 60,
        data: StripeEventData {
            object: json!({"id": "ch_1", "payment_intent": intent_of(&started), "refunded": true}),
        },
    };
    receive_event(&world.store, &refund, world.now()).await.unwrap();
    assert_eq!(status_of(&world, &ana).await, PaymentStatus::Refunded);
    assert!(!holds_seat(&world, &ana));
}

// --- The webhook's seen events --------------------------------------------------------------

#[tokio::test]
async fn an_event_delivered_twice_is_applied_once() {
    let world = World::new();
    let ana = register(&world, "ana").await;
    let started = checkout(&world, &ana).await.unwrap();
    let succeeded = intent_event("payment_intent.succeeded", intent_of(&started), world.now());

    assert_eq!(
        receive_event(&world.store, &succeeded, world.now()).await.unwrap(),
        Received::Processed(WebhookOutcome::Applied)
    );
    assert_eq!(receive_event(&world.store, &succeeded, world.now()).await.unwrap(), Received::Duplicate);
}

#[tokio::test]
async fn a_delivery_that_failed_half_way_is_not_remembered_and_its_retry_brings_the_seat_in_line() {
    let world = World::new();
    let (ana, ben) = (register(&world, "ana").await, register(&world, "ben").await);
    let started = checkout(&world, &ana).await.unwrap();
    checkout(&world, &ben).await.unwrap();
    let failed = intent_event("payment_intent.payment_failed", intent_of(&started), world.now());

    // The status is recorded, then the store fails before the seat is given back.
    world.store.fail_operation("release_seat", Fault::Unavailable);
    assert!(receive_event(&world.store, &failed, world.now()).await.is_err());
    world.store.heal();
    assert_eq!(status_of(&world, &ana).await, PaymentStatus::Failed);
    assert!(holds_seat(&world, &ana), "the failure left the seat taken");

    // Stripe retries: the status is already recorded, and the seat still goes back.
    assert_eq!(
        receive_event(&world.store, &failed, world.now()).await.unwrap(),
        Received::Processed(WebhookOutcome::NoChange)
    );
    assert!(!holds_seat(&world, &ana));
    assert_eq!(receive_event(&world.store, &failed, world.now()).await.unwrap(), Received::Duplicate);
}

#[tokio::test]
async fn events_about_payments_steward_did_not_start_or_does_not_handle_are_ignored_and_remembered() {
    let world = World::new();
    let stranger = intent_event("payment_intent.succeeded", "pi_someone_elses", world.now());
    assert_eq!(
        receive_event(&world.store, &stranger, world.now()).await.unwrap(),
        Received::Processed(WebhookOutcome::Ignored)
    );
    let balance =
        StripeEvent { event_type: "balance.available".into(), ..intent_event("x", "pi_x", world.now()) };
    assert_eq!(
        receive_event(&world.store, &balance, world.now()).await.unwrap(),
        Received::Processed(WebhookOutcome::Ignored)
    );
    assert_eq!(receive_event(&world.store, &stranger, world.now()).await.unwrap(), Received::Duplicate);
    let marker = world.store.item(keys::stripe_event(&stranger.id)).expect("the event id is remembered");
    assert_eq!(marker["expires_at"], world.now() + 30 * 24 * 3600, "for longer than Stripe retries");
}

#[tokio::test]
async fn a_resumed_checkout_leaves_no_stripe_reference_outliving_its_payment() {
    let world = World::new();
    let registration = register(&world, "ana").await;
    let started = checkout(&world, &registration).await.unwrap();
    world.clock.advance(SEAT_HOLD_SECONDS - 60);
    let resumed = checkout(&world, &registration).await.unwrap();
    assert_eq!(intent_of(&resumed), intent_of(&started), "the same payment, resumed");

    let expiry = |item: Option<steward_core::adapters::memory::Item>| {
        item.expect("stored")[keys::TTL].as_i64().expect("an expiry")
    };
    let payment = expiry(
        world
            .store
            .item(keys::payment(registration.profile_id.as_str(), registration.submission_id.as_str())),
    );
    let reference = expiry(world.store.item(keys::stripe_ref(intent_of(&resumed))));
    assert_eq!(reference, payment, "the reference goes when the payment goes");
}

#[tokio::test]
async fn a_payment_grant_used_after_erasure_recreates_nothing() {
    let world = World::new();
    let registration = register(&world, "erased").await;
    let grant = world.grant(&registration, WORKSHOP_ITEM);
    steward_core::domain::privacy::erasure::erase(
        &world.store,
        &world.cvs,
        None,
        &registration.profile_id,
        steward_core::domain::privacy::erasure::ErasureReason::Request,
        world.now(),
    )
    .await
    .unwrap();
    let before = world.store.items().len();
    let outcome = world.start_payment(&grant).await;
    assert!(matches!(outcome, Err(PaymentError::RegistrationGone)), "{outcome:?}");
    assert_eq!(
        world.store.items().len(),
        before,
        "no customer, billing item, seat, payment record or counter"
    );
    assert!(world.store.customer_of(&registration.profile_id).await.unwrap().is_none());
    assert!(seats(&world).0.is_empty(), "no seat held for it");
}

#[tokio::test]
async fn when_only_a_finished_payment_remains_the_sweep_keeps_its_stripped_record_not_the_person() {
    let world = World::new();
    let registration = register(&world, "aged").await;
    let paid = checkout(&world, &registration).await.unwrap();
    let succeeded = intent_event("payment_intent.succeeded", intent_of(&paid), world.now());
    receive_event(&world.store, &succeeded, world.now()).await.unwrap();

    // The registration's retention ends; the payment record's (seven years) does not.
    let submission = keys::submission(registration.profile_id.as_str(), registration.submission_id.as_str());
    world.store.delete_item(submission);
    world.clock.advance(3 * 366 * 86_400);
    steward_core::domain::privacy::retention::sweep(&world.store, &world.cvs, world.now(), |_| {
        std::ops::ControlFlow::Continue(())
    })
    .await
    .unwrap();

    assert!(
        world.store.item(world.store.profile_key_of(&email("aged"))).is_none(),
        "the person is not kept for a payment that is over"
    );
    let record = world
        .store
        .item(keys::payment(registration.profile_id.as_str(), registration.submission_id.as_str()))
        .expect("the payment record the law requires");
    assert_eq!(record["status"], "succeeded");
    for personal in ["name", "email", "customer_id"] {
        assert!(record.get(personal).is_none(), "{personal} is stripped: {record:?}");
    }
}

/// 2027-11-10T00:00:00Z, the day the workshop starts.
const WORKSHOP_STARTS: i64 = 1_825_804_800;

#[tokio::test]
async fn an_event_is_on_sale_until_it_starts_and_names_its_own_price_dates_and_currency() {
    let world = World::new();
    let offer = world.payments.offer("event", WORKSHOP, WORKSHOP_STARTS - 1).expect("on sale the day before");
    assert_eq!(offer.item, WORKSHOP_ITEM);
    assert_eq!(offer.label, "Identity and access management workshop, 10 November 2027 (£150.00)");
    let refused = world.payments.offer("event", WORKSHOP, WORKSHOP_STARTS).expect_err("not once it starts");
    assert_eq!((refused.field.as_str(), refused.code), ("event", "not_on_sale"));
    let unknown = world.payments.offer("event", "no-such-event", WORKSHOP_STARTS).expect_err("unknown");
    assert_eq!((unknown.field.as_str(), unknown.code), ("event", "not_on_sale"));
    let plan =
        world.payments.offer("plan", "cloud-starter", WORKSHOP_STARTS).expect("plans are always on sale");
    assert_eq!(plan.label, "WSO2 Cloud Starter (US$29.00 a month)");
}

#[tokio::test]
async fn a_checkout_for_an_event_that_has_started_charges_nothing() {
    let world = World::new();
    let registration = register(&world, "late").await;
    world.clock.set(WORKSHOP_STARTS);
    assert!(matches!(checkout(&world, &registration).await, Err(PaymentError::SalesClosed)));
    assert!(seats(&world).0.is_empty(), "no seat is taken");
    assert!(world.provider.calls().is_empty(), "nothing is created at Stripe");
}

#[tokio::test]
async fn a_paid_registration_is_never_offered_the_payment_again() {
    let world = World::new();
    let ana = register(&world, "ana").await;
    let paid = checkout(&world, &ana).await.unwrap();
    let succeeded = intent_event("payment_intent.succeeded", intent_of(&paid), world.now());
    receive_event(&world.store, &succeeded, world.now()).await.unwrap();
    let calls = world.provider.calls().len();
    assert!(matches!(checkout(&world, &ana).await, Err(PaymentError::AlreadyPaid)), "paid: nothing to pay");
    assert_eq!(world.provider.calls().len(), calls, "and Stripe is not asked again");
}

#[tokio::test]
async fn a_paid_seat_gets_one_receipt_saying_what_was_bought_for_how_much_and_where_to_get_help() {
    let world = World::new();
    let ana = register(&world, "ana").await;
    world.dispatch().await;
    let paid = checkout(&world, &ana).await.unwrap();
    let succeeded = intent_event("payment_intent.succeeded", intent_of(&paid), world.now());
    // The first delivery fails half-way, after the payment is recorded: Stripe's retry still owes
    // the receipt.
    world.store.fail_operation("payer_address", Fault::Unavailable);
    assert!(receive_event(&world.store, &succeeded, world.now()).await.is_err());
    world.store.heal();
    receive_event(&world.store, &succeeded, world.now()).await.unwrap();
    world.dispatch().await;
    // Later events about the same payment owe nothing more, even once the first is sent.
    let later = intent_event("payment_intent.succeeded", intent_of(&paid), world.now() + 60);
    receive_event(&world.store, &later, world.now()).await.unwrap();
    world.dispatch().await;

    let receipts: Vec<_> =
        world.mail.sent_to(&email("ana")).into_iter().filter(|m| m.raw.contains("Your receipt")).collect();
    assert_eq!(receipts.len(), 1, "one receipt");
    let raw = &receipts[0].raw;
    assert!(raw.contains("Subject: Your receipt for Identity and access management workshop"), "{raw}");
    for said in
        ["10 November 2027", "=C2=A3150.00", "https://www.example.com/contact", ana.submission_id.as_str()]
    {
        assert!(raw.contains(said), "the receipt says {said}: {raw}");
    }
}

/// Stripe's word has no visitor: the receipt speaks the language the person paid in.
#[tokio::test]
async fn a_seat_paid_for_in_german_gets_its_receipt_in_german() {
    use steward_core::i18n::{self, Lang};
    let world = World::new();
    let dora = register(&world, "dora").await;
    world.dispatch().await;
    let paid = i18n::scope(Lang::De, checkout(&world, &dora)).await.unwrap();
    let succeeded = intent_event("payment_intent.succeeded", intent_of(&paid), world.now());
    receive_event(&world.store, &succeeded, world.now()).await.unwrap();
    world.dispatch().await;
    let receipts: Vec<_> =
        world.mail.sent_to(&email("dora")).into_iter().filter(|m| m.raw.contains("Quittung")).collect();
    assert_eq!(receipts.len(), 1, "one receipt, in German");
    // Quoted-printable's soft line breaks undone; its bytes stay encoded.
    let raw = &receipts[0].raw.replace("=\r\n", "").replace("=\n", "");
    for said in ["10. November 2027", "150,00=C2=A0=C2=A3", "Workshop zu Identit=C3=A4ts"] {
        assert!(raw.contains(said), "the receipt says {said}: {raw}");
    }
}

#[tokio::test]
async fn an_events_page_learns_before_anyone_types_whether_it_is_on_sale_and_how_many_seats_are_left() {
    let world = World::new();
    world.clock.advance(100 * 86_400); // April 2026: WSO2Con 2026 (10 March) has taken place
    let shown = |events: Vec<EventAvailability>, id: &str| {
        events.into_iter().find(|event| event.id == id).expect("every event of the catalogue is listed")
    };
    let events = event_availability(&world.store, &world.payments, world.now()).await.unwrap();
    let workshop = shown(events.clone(), WORKSHOP);
    assert_eq!((workshop.on_sale, workshop.seats_left, workshop.sold_out), (true, 2, false));
    assert_eq!(workshop.price, "£150.00");
    assert_eq!(workshop.dates, "10 November 2027");
    let past = shown(events, "wso2con-2026");
    assert!(!past.on_sale && !past.sold_out, "a past event is not on sale, whatever its seats");

    for who in ["ana", "ben"] {
        let registration = register(&world, who).await;
        checkout(&world, &registration).await.unwrap();
    }
    let events = event_availability(&world.store, &world.payments, world.now()).await.unwrap();
    let workshop = shown(events, WORKSHOP);
    assert_eq!((workshop.seats_left, workshop.sold_out), (0, true), "held seats are taken until they lapse");
}
