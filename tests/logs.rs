//! No personal data in logs: every flow runs with a person's own email, name, phone and IP, and
//! then no function's log mentions any of them.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{confirm_with_card, http, link, post_to_bucket, stack, wait_for_mail};

struct Person {
    email: String,
    name: String,
    phone: String,
    phone_e164: String,
    ip: String,
}

fn person() -> Person {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let letters: String = tag.chars().filter(char::is_ascii_alphabetic).take(6).collect();
    let digits: String = tag.chars().filter(char::is_ascii_digit).take(3).collect();
    let digits = format!("{digits:0<3}");
    Person {
        email: format!("Quillon.{}@example.com", &tag[..10]),
        name: format!("Quillon Vexbury{letters}"),
        phone: format!("020 7946 0{digits}"),
        phone_e164: format!("+442079460{digits}"),
        ip: format!("2001:db8::{}:{}", &tag[..4], &tag[4..8]),
    }
}

async fn post(person: &Person, path: &str, body: Value) -> reqwest::Response {
    http()
        .post(stack().url(path))
        .header("accept", "application/json")
        .header("x-local-source-ip", &person.ip)
        .header("user-agent", format!("Browser of {}", person.name))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn submit(person: &Person, form: &str, extra: Value) -> Value {
    let mut body = json!({
        "name": person.name, "email": person.email, "phone": person.phone, "job_title": "CTO",
        "company": "Acme", "country": "GB", "state": "GB-LND", "message": format!("I am {}", person.name),
    });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let response = post(person, &format!("/forms/{form}"), body).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{form}");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_every_flow_then_no_log_holds_the_emails_names_phones_or_ips_it_used() {
    let person = person();

    // Forms, including ones that fail validation.
    submit(&person, "contact-us", json!({})).await;
    submit(&person, "registration", json!({"interests": ["cloud"]})).await;
    submit(&person, "product-download", json!({"product": "api-manager"})).await;
    submit(&person, "newsletter", json!({"interests": ["cloud", "events"]})).await;
    let invalid = post(
        &person,
        "/forms/contact-us",
        json!({"name": person.name, "email": person.email, "phone": "12"}),
    )
    .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A CV.
    let careers = submit(&person, "careers", json!({"position": "Rust engineer"})).await;
    let grant = post(
        &person,
        "/careers/cv-upload",
        json!({"token": careers["cv_upload"]["token"], "content_type": "application/pdf", "file_name": format!("{} CV.pdf", person.name)}),
    )
    .await;
    let upload: Value = grant.json().await.unwrap();
    let pdf = std::fs::read(steward_blackbox::root().join("tests/fixtures/cv/cv.pdf")).unwrap();
    assert_eq!(post_to_bucket(&upload, pdf, "application/pdf").await, StatusCode::CREATED);

    // A payment: declined, then paid.
    let registration = submit(&person, "event-registration", json!({"event": "wso2con-2027"})).await;
    let started: Value = post(&person, "/payments", json!({"token": registration["payment"]["token"]}))
        .await
        .json()
        .await
        .unwrap();
    confirm_with_card(&started, "4000000000000002").await;
    confirm_with_card(&started, "4242424242424242").await;

    // Mail: the double opt-in.
    let confirm = wait_for_mail(&person.email, "onfirm").await;
    let token =
        link(&confirm.text, "/subscriptions/confirm?token=").split("token=").nth(1).unwrap().to_owned();
    http().post(stack().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();

    // The privacy center: every right, ending with erasure.
    assert_eq!(
        post(&person, "/privacy/link", json!({"email": person.email})).await.status(),
        StatusCode::ACCEPTED
    );
    let mail = wait_for_mail(&person.email, "privacy center link").await;
    let token = link(&mail.text, "/privacy/session?token=").split("token=").nth(1).unwrap().to_owned();
    let session: Value =
        post(&person, "/privacy/session", json!({"token": token})).await.json().await.unwrap();
    let session = session["session_token"].as_str().unwrap().to_owned();
    let signed = |method: reqwest::Method, path: &str| {
        http()
            .request(method, stack().url(path))
            .bearer_auth(&session)
            .header("x-local-source-ip", &person.ip)
    };
    signed(reqwest::Method::GET, "/me").send().await.unwrap();
    signed(reqwest::Method::GET, "/me/export?format=csv").send().await.unwrap();
    signed(reqwest::Method::PATCH, "/me").json(&json!({"phone": "not a phone"})).send().await.unwrap();
    signed(reqwest::Method::PATCH, "/me")
        .json(&json!({"name": format!("{} Jr", person.name)}))
        .send()
        .await
        .unwrap();
    signed(reqwest::Method::POST, "/me/restrict").json(&json!({})).send().await.unwrap();
    signed(reqwest::Method::POST, "/me/export")
        .json(&json!({"to": format!("friend-of-{}", person.email)}))
        .send()
        .await
        .unwrap();
    let erased = signed(reqwest::Method::DELETE, "/me").send().await.unwrap();
    assert_eq!(erased.status(), StatusCode::OK);
    wait_for_mail(&person.email, "Your data has been deleted").await;
    // The asynchronous parts (CV checks, webhooks, the outbox, the sweep) have their turn.
    tokio::time::sleep(Duration::from_secs(5)).await;

    let needles = [
        person.email.clone(),
        person.email.to_lowercase(),
        person.name.clone(),
        person.phone.clone(),
        person.phone_e164.clone(),
        person.ip.clone(),
    ];
    let mut logged = std::collections::BTreeSet::new();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&stack().log_dir).expect("the stack's logs").flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if !text.is_empty() {
            logged.insert(entry.file_name().to_string_lossy().trim_end_matches(".log").to_owned());
        }
        for line in text.lines() {
            if needles.iter().any(|n| line.contains(n.as_str())) {
                found.push(format!("{}: {line}", entry.file_name().to_string_lossy()));
            }
        }
    }
    for function in [
        "SubmitFormFunction",
        "CvUploadFunction",
        "VerifyCvFunction",
        "PaymentsFunction",
        "StripeWebhookFunction",
        "MailOutboxFunction",
        "UnsubscribeFunction",
        "PrivacyFunction",
    ] {
        assert!(logged.contains(function), "{function} logged something: {logged:?}");
    }
    assert!(found.is_empty(), "personal data in logs:\n{}", found.join("\n"));
}

/// The request lines a function logged (steward_core::lambda), as JSON.
fn request_lines(function: &str) -> Vec<Value> {
    lines_of(function, "request")
}

/// The lines with this message that a function logged, as JSON.
fn lines_of(function: &str, message: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(stack().log_dir.join(format!("{function}.log"))).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == message)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_request_then_one_line_logs_its_route_status_latency_and_dynamodb_units() {
    let person = person();
    let receipt = submit(&person, "contact-us", json!({})).await;
    let submission_id = receipt["submission_id"].as_str().unwrap().to_owned();
    let line = request_lines("SubmitFormFunction")
        .into_iter()
        .rev()
        .find(|line| line["operation"] == "POST /forms/{form}" && line["status"] == 201)
        .expect("a request line for the submission");
    assert!(line["latency_ms"].as_f64().unwrap() > 0.0, "{line}");
    assert!(line["function"].as_str().unwrap().ends_with("SubmitFormFunction"), "Lambda's name: {line}");
    assert_eq!(line["outcome"], "ok", "{line}");
    assert!(line["cold_start"].is_boolean(), "{line}");
    let request_id = line["request_id"].as_str().unwrap();
    assert!(request_id.len() >= 8 && request_id != "-", "Lambda's request id: {line}");
    // A new person: the profile and the submission in one transaction (twice their write units),
    // the profile's index entry, and the strongly consistent read of the profile before it.
    let write_units = line["dynamodb_write_units"].as_f64().unwrap();
    assert!(write_units >= 4.0, "a transaction of two items costs at least 4 WCU: {line}");
    assert!(line["dynamodb_read_units"].as_f64().unwrap() >= 1.0, "{line}");
    assert!(!line.to_string().contains(&submission_id), "no ids from the path or body: {line}");

    let response = post(&person, "/forms/no-such-form", json!({})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let refused = request_lines("SubmitFormFunction")
        .into_iter()
        .rev()
        .find(|line| line["status"] == 404)
        .expect("a request line for the refusal");
    assert_eq!(refused["dynamodb_write_units"], 0.0, "nothing written for an unknown form: {refused}");
    assert_eq!(refused["outcome"], "rejected", "a 4xx is the caller's: {refused}");

    // One line per instance says it paid for a cold start: its first request. The local stack
    // runs FUNCTION_WORKERS instances of each function.
    let lines = request_lines("SubmitFormFunction");
    let request_ids: std::collections::HashSet<_> = lines.iter().map(|l| l["request_id"].clone()).collect();
    assert_eq!(request_ids.len(), lines.len(), "one line per request");
    let cold = lines.iter().filter(|l| l["cold_start"] == true).count();
    let instances: usize = stack().settings["FUNCTION_WORKERS"].parse().unwrap();
    assert!((1..=instances).contains(&cold), "{cold} cold starts of {instances} instances: {lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_scheduled_or_queued_event_then_one_line_logs_its_operation_and_outcome() {
    // The outbox runs on a schedule (every few seconds locally).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let line = loop {
        if let Some(line) = lines_of("MailOutboxFunction", "invocation").pop() {
            break line;
        }
        assert!(std::time::Instant::now() < deadline, "the outbox logged no invocation");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(line["operation"], "send-mail", "{line}");
    assert_eq!(line["outcome"], "ok", "{line}");
    assert!(line["function"].as_str().unwrap().ends_with("MailOutboxFunction"), "{line}");
    assert!(line["request_id"].as_str().is_some_and(|id| id != "-"), "{line}");
    assert!(line["latency_ms"].is_number() && line["dynamodb_read_units"].is_number(), "{line}");
    assert!(line.get("status").is_none(), "no HTTP status for a scheduled event: {line}");
}
