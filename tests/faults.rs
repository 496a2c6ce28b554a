//! Its own test binary, so its own local stack, with a fault-injecting proxy between the functions
//! and moto (infra/local/steward_local/faults.py): the table throttling or failing, S3 unavailable. Answers are
//! 503 with Retry-After, nothing half-written is left that a retry does not complete, and the work
//! completes once the service is back, Stripe's retried webhooks included. (SES: tests/mail_outage.rs;
//! Stripe itself down: tests/payments.rs.)

use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{http, s, stack, unique_email, unique_ip, with_profile_read_back, Stack};
use tokio::sync::{Mutex, MutexGuard};

/// Faults are global to the stack: one scenario at a time.
async fn faulty() -> (&'static Stack, MutexGuard<'static, ()>) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| std::env::set_var("STEWARD_STACK_SET", "FAULT_PROXY=1"));
    let guard = ONE_AT_A_TIME.lock().await;
    let stack = stack();
    faults(json!([])).await;
    (stack, guard)
}

async fn faults(rules: Value) {
    let proxy = stack().fault_proxy.as_deref().expect("the stack runs the fault proxy");
    let response =
        http().post(format!("{proxy}/_faults")).json(&json!({"rules": rules})).send().await.unwrap();
    assert!(response.status().is_success());
}

async fn submit_json(email: &str, key: &str) -> reqwest::Response {
    http()
        .post(stack().url("/forms/contact-us"))
        .header("x-local-source-ip", unique_ip())
        .header("idempotency-key", key)
        .json(&json!({"name": "Faye Fault", "email": email, "message": "Hello", "country": "GB"}))
        .send()
        .await
        .unwrap()
}

fn assert_retry_later(response: &reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let seconds: u64 =
        response.headers()["retry-after"].to_str().unwrap().parse().expect("Retry-After in seconds");
    assert!((1..=60).contains(&seconds), "{what}: Retry-After {seconds}");
}

async fn submissions_of(email: &str) -> usize {
    match stack().profile(email).await {
        Some(profile) => stack().submissions(s(&profile, "profile_id")).await.len(),
        None => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_table_throttling_then_answers_are_503_with_retry_after_and_a_retry_stores_once() {
    let (_stack, _one) = faulty().await;
    let email = unique_email("throttled");
    let key = uuid::Uuid::new_v4().to_string();
    faults(json!([{"service": "dynamodb", "fault": "throttle"}])).await;

    let response = submit_json(&email, &key).await;
    assert_retry_later(&response, "JSON submission");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json"));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "temporarily_unavailable");

    let page = http()
        .post(stack().url("/forms/contact-us"))
        .header("x-local-source-ip", unique_ip())
        .form(&[("name", "Faye Fault"), ("email", email.as_str()), ("message", "Hello")])
        .send()
        .await
        .unwrap();
    assert_retry_later(&page, "plain form post");
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));

    let sign_in = http()
        .post(stack().url("/privacy/link"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    assert_retry_later(&sign_in, "privacy sign-in link");

    faults(json!([])).await;
    assert!(stack().profile(&email).await.is_none(), "nothing was written while the table throttled");
    let response = submit_json(&email, &key).await;
    assert_eq!(response.status(), StatusCode::CREATED, "the retry is stored");
    let again = submit_json(&email, &key).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(submissions_of(&email).await, 1, "one submission, as one attempt would have stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_table_failing_after_the_rate_counters_then_neither_profile_nor_submission_is_half_written()
{
    let (_stack, _one) = faulty().await;
    let email = unique_email("half-way");
    let key = uuid::Uuid::new_v4().to_string();
    // The rate counters are updates that succeed; the profile and the submission are one
    // transaction, which fails: both or neither.
    faults(json!([{"service": "dynamodb", "operations": ["TransactWriteItems"], "fault": "unavailable"}]))
        .await;
    assert_retry_later(&submit_json(&email, &key).await, "submission whose transaction failed");
    assert!(stack().profile(&email).await.is_none(), "no profile without its submission");

    faults(json!([])).await;
    let response = submit_json(&email, &key).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(submissions_of(&email).await, 1);
    let profile = stack().profile(&email).await.expect("the profile");
    assert!(receipt.get("profile_id").is_none(), "no profile id in a public answer");
    assert_eq!(s(&profile, "full_name"), "Faye Fault");
    assert_eq!(s(&profile, "last_submission_id"), receipt["submission_id"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_s3_unavailable_then_erasure_answers_503_keeps_the_request_answerable_and_completes_when_back()
{
    let (_stack, _one) = faulty().await;
    let email = unique_email("s3-down");
    let response = http()
        .post(stack().url("/forms/careers"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"name": "Faye Fault", "email": email, "phone": "+44 20 7946 0958", "country": "GB", "position": "Rust engineer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt = with_profile_read_back(response.json().await.unwrap(), &email).await;
    let session = stack().session_for(receipt["profile_id"].as_str().unwrap()).await;

    faults(json!([{"service": "s3", "fault": "unavailable"}])).await;
    let erase =
        || http().delete(stack().url("/me")).bearer_auth(&session).header("accept", "application/json");
    assert_retry_later(&erase().send().await.unwrap(), "erasure while S3 is down");
    assert!(stack().profile(&email).await.is_some(), "the profile stays until everything can go");

    faults(json!([])).await;
    let response = erase().send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert!(stack().profile(&email).await.is_none(), "erased once S3 is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_table_throttling_when_stripe_reports_a_payment_then_the_retried_webhook_records_it_when_back(
) {
    let (_stack, _one) = faulty().await;
    let email = unique_email("paid-in-outage");
    let response = http()
        .post(stack().url("/forms/event-registration"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({
            "name": "Faye Fault", "email": email, "phone": "+44 20 7946 0958",
            "job_title": "CTO", "company": "Acme", "country": "GB", "state": "GB-LND", "event": "wso2con-2027",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt = with_profile_read_back(response.json().await.unwrap(), &email).await;
    let started = steward_blackbox::start_payment(&receipt["payment"]["token"]).await;
    let (pk, sk) = steward_core::adapters::dynamodb::keys::payment(
        receipt["profile_id"].as_str().unwrap(),
        receipt["submission_id"].as_str().unwrap(),
    );
    let status = || async { stack().item(pk.clone(), sk.clone()).await.map(|p| s(&p, "status").to_owned()) };

    // The webhook for the payment arrives while the table throttles: it answers 5xx, so Stripe
    // (here its emulator, with backoff) delivers it again; nothing is lost.
    faults(json!([{"service": "dynamodb", "fault": "throttle"}])).await;
    let intent = steward_blackbox::confirm_with_card(&started, "4242424242424242").await;
    assert_eq!(intent["status"], "succeeded");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_ne!(status().await.as_deref(), Some("succeeded"), "not recorded while the table throttles");

    faults(json!([])).await;
    steward_blackbox::eventually("the retried webhook records the payment", || async {
        status().await.as_deref() == Some("succeeded")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_answer_to_using_a_sign_in_link_is_lost_then_the_retry_meets_its_own_success_not_a_spent_link(
) {
    let (_stack, _one) = faulty().await;
    let email = unique_email("lost-answer");
    assert_eq!(submit_json(&email, &uuid::Uuid::new_v4().to_string()).await.status(), StatusCode::CREATED);
    let asked = http()
        .post(stack().url("/privacy/link"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let mail = steward_blackbox::wait_for_mail(&email, "privacy center link").await;
    let token = steward_blackbox::link(&mail.text, "/privacy/session?token=")
        .split("token=")
        .nth(1)
        .unwrap()
        .to_owned();

    // The link is used up and the session kept, but the answer never reaches the function.
    faults(json!([{"service": "dynamodb", "operations": ["TransactWriteItems"], "fault": "lost_answer", "times": 1}]))
        .await;
    let opened = http()
        .post(stack().url("/privacy/session"))
        .header("accept", "application/json")
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    faults(json!([])).await;
    assert_eq!(opened.status(), StatusCode::OK, "the store client's retry is the same transaction");
    let session: Value = opened.json().await.unwrap();
    let me = http()
        .get(stack().url("/me"))
        .bearer_auth(session["session_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK, "and its session is kept");
}
