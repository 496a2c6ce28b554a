//! Payments end to end through the local stack and the local Stripe emulator: the browser's part
//! (confirming with a test card) is played by the test against the emulator, as Stripe.js would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use steward_blackbox::{
    confirm_with_card, eventually, eventually_within, http, s, stack, stripe, unique_email, unique_ip,
    wait_for_mail, Item,
};
use steward_core::adapters::dynamodb::keys;

const GOOD_CARD: &str = "4242424242424242";
const DECLINED_CARD: &str = "4000000000000002";
const AUTHENTICATION_CARD: &str = "4000002500003155";

struct Registration {
    email: String,
    submission_id: String,
    profile_id: String,
    token: String,
}

async fn register(form: &str, item_field: &str, item: &str) -> Registration {
    let email = unique_email("buyer");
    let response = http()
        .post(stack().url(&format!("/forms/{form}")))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({
            "name": "Zoë Ñúñez",
            "email": email,
            "phone": "+44 20 7946 0958",
            "job_title": "CTO",
            "company": "Acme",
            "country": "GB",
            "state": "GB-LND",
            item_field: item,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt: Value = response.json().await.unwrap();
    Registration {
        email: email.clone(),
        submission_id: receipt["submission_id"].as_str().unwrap().to_owned(),
        // The answer names no profile: read back which one it landed on, as an operator would.
        profile_id: s(&stack().profile(&email).await.expect("a profile"), "profile_id").to_owned(),
        token: receipt["payment"]["token"]
            .as_str()
            .expect("a paid registration carries a payment grant")
            .to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_event_that_has_taken_place_then_no_one_registers_for_it_and_nothing_is_stored() {
    for (event, why) in [("wso2con-2026", "has started or taken place"), ("no-such-event", "is not an event")]
    {
        let email = unique_email("late");
        let response = http()
            .post(stack().url("/forms/event-registration"))
            .header("x-local-source-ip", unique_ip())
            .json(&json!({
                "name": "Zoë Ñúñez", "email": email, "phone": "+44 20 7946 0958", "job_title": "CTO",
                "company": "Acme", "country": "GB", "state": "GB-LND", "event": event,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{event}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "event", "{problem}");
        assert_eq!(problem["errors"][0]["code"], "not_on_sale", "{problem}");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains(why), "{problem}");
        assert!(stack().profile(&email).await.is_none(), "nothing is stored for {event}");
    }
}

async fn pay(registration: &Registration) -> reqwest::Response {
    http()
        .post(stack().url("/payments"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"token": registration.token}))
        .send()
        .await
        .unwrap()
}

async fn start(registration: &Registration) -> Value {
    let response = pay(registration).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn payment(registration: &Registration) -> Item {
    let (pk, sk) = keys::payment(&registration.profile_id, &registration.submission_id);
    stack().item(pk, sk).await.expect("the payment is recorded")
}

async fn wait_for_status(registration: &Registration, status: &str) -> Item {
    eventually(&format!("payment status {status}"), || async {
        payment(registration).await.get("status").and_then(|v| v.as_s().ok()).is_some_and(|s| s == status)
    })
    .await;
    payment(registration).await
}

async fn holds_seat(event: &str, registration: &Registration) -> bool {
    seat_hold(event, registration).await.is_some()
}

async fn seat_hold(event: &str, registration: &Registration) -> Option<Item> {
    let (pk, sk) = keys::seat_hold(event, &registration.submission_id);
    stack().item(pk, sk).await
}

fn lapses_at(hold: &Item) -> Option<i64> {
    hold.get(keys::HOLD_LAPSES_AT).map(|at| at.as_n().unwrap().parse().unwrap())
}

/// Moves a hold's lapse, as time passing would.
async fn set_lapse(event: &str, registration: &Registration, at: i64) {
    let (pk, sk) = keys::seat_hold(event, &registration.submission_id);
    stack()
        .dynamodb()
        .update_item()
        .table_name(&stack().table)
        .key(keys::PK, AttributeValue::S(pk))
        .key(keys::SK, AttributeValue::S(sk))
        .update_expression("SET #lapses = :at")
        // Never a hold out of nothing: the sweep would give back a seat nobody held.
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_names("#lapses", keys::HOLD_LAPSES_AT)
        .expression_attribute_values(":at", AttributeValue::N(at.to_string()))
        .send()
        .await
        .unwrap();
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn operator(method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> Value {
    http()
        .request(method, stripe(path))
        .bearer_auth(&stack().settings["STRIPE_SECRET_KEY"])
        .form(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_paid_event_when_paid_with_a_good_card_then_the_registration_is_paid_and_no_card_data_is_kept(
) {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    assert_eq!(started["amount"], 49900, "the server decides the amount");
    assert_eq!(started["currency"], "usd");
    assert_eq!(started["price"], "US$499.00", "and says it in words");
    assert_eq!(started["description"], "WSO2Con 2027, 14–16 September 2027 (US$499.00)");
    assert!(started["publishable_key"].as_str().unwrap().starts_with("pk_"));
    assert!(holds_seat("wso2con-2027", &registration).await);

    let intent = confirm_with_card(&started, GOOD_CARD).await;
    assert_eq!(intent["status"], "succeeded");
    let paid = wait_for_status(&registration, "succeeded").await;
    assert_eq!(s(&paid, "payment_intent_id"), started["payment_intent_id"].as_str().unwrap());
    assert!(s(&paid, "stripe_customer_id").starts_with("cus_"));
    assert_eq!(paid["amount"].as_n().unwrap(), "49900");
    assert_eq!(s(&paid, "currency"), "usd");
    eventually("the paid seat no longer lapses", || async {
        seat_hold("wso2con-2027", &registration).await.is_some_and(|hold| lapses_at(&hold).is_none())
    })
    .await;
    // The buyer gets a receipt: what, when, for how much, and where to get help.
    let receipt = wait_for_mail(&registration.email, "Your receipt for WSO2Con 2027").await;
    for said in [
        "What you bought: WSO2Con 2027, 14–16 September 2027",
        "Paid: US$499.00",
        &registration.submission_id,
    ] {
        assert!(receipt.text.contains(said), "the receipt says {said}: {}", receipt.text);
    }
    assert!(receipt.text.contains(&format!("{}/contact", stack().site)), "{}", receipt.text);

    // Opening the checkout again offers nothing to pay and changes nothing: a paid seat is not
    // given a lapse again.
    let again = pay(&registration).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(again.json::<Value>().await.unwrap()["code"], "already_paid");
    assert_eq!(seat_hold("wso2con-2027", &registration).await.map(|hold| lapses_at(&hold)), Some(None));

    let everything = format!("{:?}", stack().scan_all().await);
    for card_data in
        [GOOD_CARD, DECLINED_CARD, AUTHENTICATION_CARD, "last4", "cvc", "exp_month", "payment_method_details"]
    {
        assert!(!everything.contains(card_data), "the table holds {card_data}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_checkout_left_unpaid_then_its_seat_is_given_back_and_paying_later_takes_one_again() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    let hold = seat_hold("wso2con-2027", &registration).await.expect("the checkout holds a seat");
    let lapse = lapses_at(&hold).expect("an unpaid checkout's hold lapses");
    assert!((now() + 29 * 60..=now() + 31 * 60).contains(&lapse), "30 minutes, not {}", lapse - now());

    // Coming back to the checkout resumes it, and never renews its time: the hold lapses when it
    // would have.
    assert_eq!(start(&registration).await["payment_intent_id"], started["payment_intent_id"]);
    let hold = seat_hold("wso2con-2027", &registration).await.unwrap();
    assert!(lapses_at(&hold).unwrap() <= lapse, "not renewed: {} after {lapse}", lapses_at(&hold).unwrap());

    // Left unpaid past its time, the seat goes back on sale at the next sweep.
    set_lapse("wso2con-2027", &registration, now() - 60).await;
    eventually_within(Duration::from_secs(120), "the lapsed checkout's seat was given back", || async {
        !holds_seat("wso2con-2027", &registration).await
    })
    .await;

    // Paying afterwards still works: the payment takes a seat again, and a paid seat never lapses.
    confirm_with_card(&started, GOOD_CARD).await;
    wait_for_status(&registration, "succeeded").await;
    eventually("the paid registration has its seat again, for good", || async {
        seat_hold("wso2con-2027", &registration).await.is_some_and(|hold| lapses_at(&hold).is_none())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_declined_card_then_the_payment_fails_the_seat_is_released_and_a_good_card_still_works() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    let declined = confirm_with_card(&started, DECLINED_CARD).await;
    assert_eq!(declined["status"], "requires_payment_method");
    let failed = wait_for_status(&registration, "failed").await;
    assert_eq!(s(&failed, "failure_code"), "generic_decline");
    eventually("the seat was released", || async { !holds_seat("wso2con-2027", &registration).await }).await;

    confirm_with_card(&started, GOOD_CARD).await;
    let paid = wait_for_status(&registration, "succeeded").await;
    assert!(!paid.contains_key("failure_code"));
    eventually("the seat was taken again", || async { holds_seat("wso2con-2027", &registration).await })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_card_that_needs_authentication_then_it_is_paid_once_authenticated() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    set_lapse("wso2con-2027", &registration, now() + 60).await;
    let intent = confirm_with_card(&started, AUTHENTICATION_CARD).await;
    assert_eq!(intent["status"], "requires_action");
    wait_for_status(&registration, "requires_action").await;
    eventually("authenticating gives the checkout its full time again", || async {
        seat_hold("wso2con-2027", &registration).await.and_then(|hold| lapses_at(&hold))
            >= Some(now() + 29 * 60)
    })
    .await;
    let id = intent["id"].as_str().unwrap();
    operator(
        reqwest::Method::POST,
        &format!("/_emulator/payment_intents/{id}/authenticate"),
        &[("outcome", "approve")],
    )
    .await;
    wait_for_status(&registration, "succeeded").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_paid_registration_when_refunded_then_it_is_refunded_and_the_seat_is_released() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    confirm_with_card(&started, GOOD_CARD).await;
    wait_for_status(&registration, "succeeded").await;
    let refund = operator(
        reqwest::Method::POST,
        "/v1/refunds",
        &[("payment_intent", started["payment_intent_id"].as_str().unwrap())],
    )
    .await;
    assert_eq!(refund["status"], "succeeded");
    wait_for_status(&registration, "refunded").await;
    eventually("the seat was released", || async { !holds_seat("wso2con-2027", &registration).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_cloud_plan_then_the_subscription_becomes_active_then_past_due_then_canceled() {
    let registration = register("cloud-signup", "plan", "cloud-starter").await;
    let started = start(&registration).await;
    assert_eq!(started["kind"], "cloud");
    let subscription = started["subscription_id"].as_str().unwrap().to_owned();
    assert_eq!(
        s(&payment(&registration).await, "status"),
        "incomplete",
        "incomplete until the first invoice is paid"
    );

    confirm_with_card(&started, GOOD_CARD).await;
    wait_for_status(&registration, "active").await;
    // Stripe delivers invoice.paid and customer.subscription.updated concurrently, in either order.
    eventually("the first invoice was recorded as paid, for the plan's price", || async {
        payment(&registration).await["last_invoice"].as_m().is_ok_and(|invoice| {
            s(invoice, "status") == "paid"
                && invoice.get("amount").and_then(|amount| amount.as_n().ok()).map(String::as_str)
                    == Some("2900")
        })
    })
    .await;

    operator(
        reqwest::Method::POST,
        &format!("/_emulator/subscriptions/{subscription}/renew"),
        &[("outcome", "declined")],
    )
    .await;
    wait_for_status(&registration, "past_due").await;
    eventually("the failed renewal invoice was recorded", || async {
        payment(&registration).await["last_invoice"]
            .as_m()
            .is_ok_and(|invoice| s(invoice, "status") == "payment_failed")
    })
    .await;

    operator(reqwest::Method::DELETE, &format!("/v1/subscriptions/{subscription}"), &[]).await;
    wait_for_status(&registration, "canceled").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_full_event_then_no_more_seats_are_sold_until_a_checkout_lapses_unpaid() {
    // identity-workshop has two seats and no other test buys them.
    let first = register("event-registration", "event", "identity-workshop").await;
    let second = register("event-registration", "event", "identity-workshop").await;
    let third = register("event-registration", "event", "identity-workshop").await;
    let once: Value = pay(&first).await.json().await.unwrap();
    let again: Value = pay(&first).await.json().await.unwrap();
    assert_eq!(
        once["payment_intent_id"], again["payment_intent_id"],
        "the same PaymentIntent (idempotency key)"
    );
    assert_eq!(once["client_secret"], again["client_secret"], "asking again takes no second seat");
    assert_eq!(pay(&second).await.status(), StatusCode::OK);
    let refused = pay(&third).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "sold_out");
    let (pk, sk) = keys::payment(&third.profile_id, &third.submission_id);
    assert!(stack().item(pk, sk).await.is_none(), "nothing is recorded for a refused sale");

    // The first checkout is left unpaid past its time: its seat goes to the next buyer at once.
    set_lapse("identity-workshop", &first, now() - 1).await;
    assert_eq!(pay(&third).await.status(), StatusCode::OK);
    assert!(holds_seat("identity-workshop", &third).await);
    assert!(!holds_seat("identity-workshop", &first).await);
    // However many counters the seats are split across, they count two.
    let (pk, _) = keys::seats("identity-workshop");
    let counters: Vec<_> = stack()
        .scan_all()
        .await
        .into_iter()
        .filter(|item| {
            item["pk"].as_s().unwrap() == &pk && item["sk"].as_s().unwrap().starts_with(keys::SEATS_PREFIX)
        })
        .collect();
    let taken: u32 = counters.iter().map(|c| c["taken"].as_n().unwrap().parse::<u32>().unwrap()).sum();
    assert_eq!(taken, 2, "one seat given back, one taken: {counters:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_stripe_is_unavailable_then_503_with_retry_after_and_nothing_half_done() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    operator(
        reqwest::Method::POST,
        "/_emulator/outage",
        &[("requests", "1"), ("match", &registration.profile_id)],
    )
    .await;
    let response = pay(&registration).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "payment_provider_unavailable");
    assert!(
        !holds_seat("wso2con-2027", &registration).await,
        "the seat taken for this attempt was given back"
    );
    let (pk, sk) = keys::payment(&registration.profile_id, &registration.submission_id);
    assert!(stack().item(pk, sk).await.is_none());

    assert_eq!(
        pay(&registration).await.status(),
        StatusCode::OK,
        "once Stripe is back, the same grant works"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_forged_or_foreign_payment_grants_then_403() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let (head, _) = registration.token.rsplit_once('.').unwrap();
    for token in [format!("{head}.AAAA"), "garbage".to_owned(), String::new()] {
        let response =
            http().post(stack().url("/payments")).json(&json!({"token": token})).send().await.unwrap();
        assert!(matches!(response.status().as_u16(), 403 | 422), "{token}");
    }
    // A CV grant is not a payment grant.
    let careers = http()
        .post(stack().url("/forms/careers"))
        .json(&json!({"name": "A", "email": unique_email("cv"), "phone": "+442079460958", "country": "GB", "position": "x"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let response = http()
        .post(stack().url("/payments"))
        .json(&json!({"token": careers["cv_upload"]["token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

// --- webhook deliveries ---------------------------------------------------------------------

fn signature(secret: &str, timestamp: i64, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn secrets() -> Vec<String> {
    stack().settings["STRIPE_WEBHOOK_SECRETS"].split(',').map(str::to_owned).collect()
}

async fn deliver(payload: &str, header: Option<String>) -> (StatusCode, Value) {
    let mut request = http()
        .post(stack().url("/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(payload.to_owned());
    if let Some(header) = header {
        request = request.header("stripe-signature", header);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn intent_event(event_type: &str, intent: &str, created: i64) -> String {
    let object = match event_type {
        "payment_intent.payment_failed" => {
            json!({"id": intent, "object": "payment_intent", "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"}})
        }
        "payment_intent.processing" => {
            json!({"id": intent, "object": "payment_intent", "status": "processing"})
        }
        _ => json!({"id": intent, "object": "payment_intent", "status": "succeeded"}),
    };
    json!({"id": format!("evt_test_{}", uuid::Uuid::new_v4().simple()), "object": "event", "type": event_type,
           "created": created, "api_version": "2026-09-30.endive", "livemode": false, "data": {"object": object}})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_events_out_of_order_then_a_payment_never_moves_backwards() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    let intent = started["payment_intent_id"].as_str().unwrap();
    let secret = &secrets()[0];
    let t = now();
    let succeeded = intent_event("payment_intent.succeeded", intent, t);
    let failed_earlier = intent_event("payment_intent.payment_failed", intent, t - 5);
    let (status, body) = deliver(&succeeded, Some(signature(secret, now(), &succeeded))).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("applied")));
    let (status, body) = deliver(&failed_earlier, Some(signature(secret, now(), &failed_earlier))).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("no_change")));
    assert_eq!(s(&payment(&registration).await, "status"), "succeeded");
    assert!(holds_seat("wso2con-2027", &registration).await, "a stale failure releases no seat");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_payment_processing_then_its_seat_no_longer_lapses_until_it_fails() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    let intent = started["payment_intent_id"].as_str().unwrap();
    let secret = &secrets()[0];
    let send = |event: String| async move {
        let (status, body) = deliver(&event, Some(signature(secret, now(), &event))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    };
    // A card declined first gives the seat back; then the buyer pays by bank debit, money on its
    // way for days, far longer than a checkout's hold: the seat is taken again, for good.
    let t = now();
    send(intent_event("payment_intent.payment_failed", intent, t)).await;
    assert!(!holds_seat("wso2con-2027", &registration).await);
    send(intent_event("payment_intent.processing", intent, t + 1)).await;
    assert_eq!(s(&payment(&registration).await, "status"), "processing");
    let hold = seat_hold("wso2con-2027", &registration).await.expect("the seat is taken again");
    assert_eq!(lapses_at(&hold), None, "a payment on its way does not lapse");
    // A stale failure changes nothing; the debit failing later gives the seat back.
    send(intent_event("payment_intent.payment_failed", intent, t - 1)).await;
    assert!(holds_seat("wso2con-2027", &registration).await);
    send(intent_event("payment_intent.payment_failed", intent, t + 2)).await;
    assert!(!holds_seat("wso2con-2027", &registration).await, "a failed debit gives the seat back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_delivery_duplicated_and_concurrent_then_it_is_processed_once() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    let event =
        intent_event("payment_intent.payment_failed", started["payment_intent_id"].as_str().unwrap(), now());
    let header = signature(&secrets()[0], now(), &event);
    let deliveries: Vec<_> = (0..6)
        .map(|_| {
            let (event, header) = (event.clone(), header.clone());
            tokio::spawn(async move { deliver(&event, Some(header)).await })
        })
        .collect();
    let mut applied = 0;
    for delivery in deliveries {
        let (status, body) = delivery.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        applied += usize::from(body["outcome"] == "applied");
    }
    assert!(applied <= 1, "applied {applied} times");
    let (status, body) = deliver(&event, Some(header)).await;
    assert_eq!((status, body["duplicate"].as_bool()), (StatusCode::OK, Some(true)));
    let recorded = payment(&registration).await;
    assert_eq!(s(&recorded, "status"), "failed");
    assert_eq!(s(&recorded, "failure_code"), "insufficient_funds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_tampered_stale_unsigned_or_malformed_signatures_then_400_and_nothing_changes() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    let intent = started["payment_intent_id"].as_str().unwrap();
    let event = intent_event("payment_intent.succeeded", intent, now());
    let secret = &secrets()[0];
    let tampered = event.replace("succeeded", "succeeded ");
    let cases = [
        ("tampered", tampered.clone(), Some(signature(secret, now(), &event)), "invalid_signature"),
        ("stale", event.clone(), Some(signature(secret, now() - 301, &event)), "stale_signature"),
        ("unsigned", event.clone(), None, "missing_signature"),
        ("malformed", event.clone(), Some("t=abc,v1=zz".into()), "malformed_signature"),
        (
            "unknown secret",
            event.clone(),
            Some(signature("whsec_someone_else", now(), &event)),
            "invalid_signature",
        ),
    ];
    for (label, payload, header, code) in cases {
        let (status, problem) = deliver(&payload, header).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{label}");
        assert_eq!(problem["code"], code, "{label}");
    }
    assert_eq!(s(&payment(&registration).await, "status"), "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_rotated_secret_and_an_unknown_event_type_then_both_are_acknowledged() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    let event =
        intent_event("payment_intent.succeeded", started["payment_intent_id"].as_str().unwrap(), now());
    let previous = &secrets()[1];
    let header = format!("{},v1={}", signature(previous, now(), &event), "ab".repeat(32));
    let (status, body) = deliver(&event, Some(header)).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("applied")));

    let unknown =
        json!({"id": "evt_unknown_1", "type": "balance.available", "created": now(), "data": {"object": {}}})
            .to_string();
    let (status, body) = deliver(&unknown, Some(signature(&secrets()[0], now(), &unknown))).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("ignored")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_dispute_then_it_is_recorded_beside_the_payment() {
    let registration = register("event-registration", "event", "wso2con-2027").await;
    let started = start(&registration).await;
    confirm_with_card(&started, GOOD_CARD).await;
    wait_for_status(&registration, "succeeded").await;
    let intent = started["payment_intent_id"].as_str().unwrap();
    operator(reqwest::Method::POST, &format!("/_emulator/payment_intents/{intent}/dispute"), &[]).await;
    eventually("the dispute was recorded", || async { payment(&registration).await.contains_key("dispute") })
        .await;
    assert_eq!(s(&payment(&registration).await, "status"), "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_events_page_then_it_reads_each_events_sale_and_seats_before_anyone_types() {
    let response = http()
        .get(stack().url("/payments/events"))
        .header("origin", stack().site.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        stack().site.as_str(),
        "the site's pages may read it"
    );
    let events: Value = response.json().await.unwrap();
    let event =
        |id: &str| events["events"].as_array().unwrap().iter().find(|e| e["id"] == id).cloned().unwrap();
    let past = event("wso2con-2026");
    assert_eq!((past["on_sale"].as_bool(), past["sold_out"].as_bool()), (Some(false), Some(false)));
    let next = event("wso2con-2027");
    assert_eq!(next["on_sale"], true);
    assert_eq!(next["price"], "US$499.00");
    assert_eq!(next["dates"], "14–16 September 2027");
    assert!(next["seats_left"].as_u64().unwrap() > 0);
}
