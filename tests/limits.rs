//! The limits a deployment meets, enforced by the local stack where moto or a plain HTTP server
//! would be laxer, and Steward correct at each: Lambda's 6 MB event, a function's Timeout and
//! MemorySize from the template, the HTTP API's 10 MB body, SQS's message size. (The 6 MB
//! response is met by exports: `tests/privacy.rs`; DynamoDB's item and transaction limits are
//! moto's own.)

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::*;

async fn contact(email: &str, message: &str) -> reqwest::Response {
    http()
        .post(stack().url("/forms/contact-us"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"name": "Zoë", "email": email, "message": message}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn given_a_body_over_lambdas_6_mb_then_the_invocation_is_refused_and_nothing_is_stored() {
    let email = unique_email("big");
    // 7 MB: under the HTTP API's 10 MB, over what Lambda takes in one event.
    let response = contact(&email, &"x".repeat(7 * 1024 * 1024)).await;
    assert_eq!(
        response.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "API Gateway's answer to a refused invocation"
    );
    assert!(stack().profile(&email).await.is_none());
    // 11 MB never reaches Lambda: the HTTP API refuses it itself.
    let response = contact(&email, &"x".repeat(11 * 1024 * 1024)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The function is unharmed.
    assert_eq!(contact(&email, "Hello").await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn given_an_sqs_message_over_256_kib_then_sqs_refuses_it() {
    let sqs = stack().sqs();
    let queue = sqs.get_queue_url().queue_name(stack().resource("MailFeedbackQueue")).send().await.unwrap();
    let too_big = sqs
        .send_message()
        .queue_url(queue.queue_url().unwrap())
        .message_body("x".repeat(256 * 1024 + 1))
        .send()
        .await;
    let error = too_big.expect_err("SQS refuses a message over its maximum size");
    assert!(format!("{error:?}").contains("InvalidParameterValue"), "{error:?}");
}

#[tokio::test]
async fn given_an_sqs_batch_over_256_kib_together_then_sqs_refuses_it() {
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    let sqs = stack().sqs();
    let queue = sqs.get_queue_url().queue_name(stack().resource("MailFeedbackQueue")).send().await.unwrap();
    // Two messages each within the limit, together over it.
    let entries: Vec<SendMessageBatchRequestEntry> = (0..2)
        .map(|n| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{n}"))
                .message_body("x".repeat(200 * 1024))
                .build()
                .unwrap()
        })
        .collect();
    let refused = sqs
        .send_message_batch()
        .queue_url(queue.queue_url().unwrap())
        .set_entries(Some(entries))
        .send()
        .await;
    let error = refused.expect_err("SQS refuses a batch over its maximum size");
    assert!(format!("{error:?}").contains("BatchRequestTooLong"), "{error:?}");
}

/// A stack whose submit-form times out after 1 s and whose cv-upload may use 1 MB (the template
/// changed only there), with the fault proxy to slow DynamoDB down.
fn constrained_stack() -> OwnStack {
    start_mutated_stack(
        &["--set", "SubmitFormFunction.Timeout=1", "--set", "CvUploadFunction.MemorySize=1"],
        &["FUNCTION_WORKERS=1", "FAULT_PROXY=1"],
    )
}

async fn faults(rules: Value) {
    let proxy = stack().fault_proxy.as_deref().expect("the stack runs the fault proxy");
    http().post(format!("{proxy}/_faults")).json(&json!({"rules": rules})).send().await.unwrap();
}

#[tokio::test]
async fn given_functions_past_their_timeout_or_memory_then_lambda_stops_them_and_the_next_request_works() {
    let own = constrained_stack();
    use_stack(Some(own.get()));
    let log = std::fs::read_to_string;

    // DynamoDB answers 3 s late: submit-form runs past its 1 s Timeout and is stopped.
    faults(json!([{"service": "dynamodb", "fault": "delay", "seconds": 3}])).await;
    let email = unique_email("slow");
    let started = std::time::Instant::now();
    let response = contact(&email, "Hello").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(started.elapsed() < Duration::from_secs(3), "answered at the timeout, not when DynamoDB did");
    assert!(log(stack().log_dir.join("stack-events.log"))
        .is_ok_and(|t| t.contains("SubmitFormFunction worker 0 ran past its 1 s timeout")));
    faults(json!([])).await;
    // A new environment takes the next request; the stopped one's work was not half-kept.
    eventually("submit-form answers again", || async {
        contact(&email, "Hello again").await.status() == StatusCode::CREATED
    })
    .await;

    // cv-upload may use 1 MB: every environment it starts is stopped, and API Gateway says 500.
    let response = http()
        .post(stack().url("/careers/cv-upload"))
        .json(&json!({"token": "x", "content_type": "application/pdf", "file_name": "cv.pdf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(log(stack().log_dir.join("stack-events.log"))
        .is_ok_and(|t| t.contains("CvUploadFunction worker 0 used more than its 1 MB")));
    use_stack(None);
}

#[tokio::test]
async fn given_a_batch_write_of_more_than_25_requests_then_dynamodb_refuses_it() {
    use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
    let requests: Vec<WriteRequest> = (0..26)
        .map(|n| {
            let put = PutRequest::builder()
                .item("pk", AttributeValue::S(format!("LIMITS#{n}")))
                .item("sk", AttributeValue::S("x".into()))
                .build()
                .unwrap();
            WriteRequest::builder().put_request(put).build()
        })
        .collect();
    let refused = stack().dynamodb().batch_write_item().request_items(&stack().table, requests).send().await;
    let error = refused.expect_err("DynamoDB takes at most 25 requests in a batch");
    assert!(format!("{error:?}").contains("ValidationException"), "{error:?}");
}

/// Sends bytes as they are to the local API, past any client library's cleaning, and answers the
/// status code.
async fn raw_status(request: Vec<u8>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = stack().api.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn input_lambda_http_cannot_convert_is_answered_4xx_never_5xx() {
    let host = stack().api.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let get = |target: &str, extra: &[u8]| {
        let mut request =
            format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n").into_bytes();
        request.extend_from_slice(extra);
        request.extend_from_slice(b"\r\n");
        request
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a raw quote in the query", get("/privacy/session?token=\"x\"", b"")),
        ("angle brackets in the query", get("/unsubscribe?token=<b>", b"")),
        ("DEL in the query", get("/privacy/session?token=a\x7fb", b"")),
        ("a control character in User-Agent", get("/privacy/session", b"User-Agent: a\x01b\r\n")),
        ("an obs-fold in User-Agent", get("/privacy/session", b"User-Agent: Mozilla\r\n 5.0\r\n")),
        ("a NUL in a session token", get("/me?session=%00", b"")),
        (
            "a NUL in a bearer session",
            get("/me", b"Authorization: Bearer a%00b\r\nAccept: application/json\r\n"),
        ),
    ];
    for (what, request) in cases {
        let status = raw_status(request).await;
        assert!((400..500).contains(&status) || status == 200, "{what}: {status}");
    }
}

/// A stack that has run all day answers as a new one does: what AWS removes over time, the local
/// stack removes too. Items whose TTL has passed are deleted (DynamoDB's TTL, here with no grace),
/// the rest stay, and the dev mailbox keeps its newest messages (here three).
#[tokio::test]
async fn given_a_long_running_stack_then_expired_items_go_and_the_mailbox_keeps_its_newest() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let own = start_own_stack(
        None,
        &["LOCAL_HOUSEKEEPING_SECONDS=1", "LOCAL_TTL_GRACE_SECONDS=0", "LOCAL_MAILBOX_KEEP=3"],
    );
    use_stack(Some(own.get()));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let put = |sk: &str, expires_at: u64| {
        stack()
            .dynamodb()
            .put_item()
            .table_name(&stack().table)
            .item("pk", AttributeValue::S("HOUSEKEEPING#test".into()))
            .item("sk", AttributeValue::S(sk.into()))
            .item("expires_at", AttributeValue::N(expires_at.to_string()))
            .send()
    };
    put("expired", now - 60).await.unwrap();
    put("current", now + 3600).await.unwrap();
    let held =
        |sk: &'static str| async move { stack().item("HOUSEKEEPING#test".into(), sk.into()).await.is_some() };
    let addresses: Vec<String> = (0..5).map(|n| unique_email(&format!("kept{n}"))).collect();
    for address in &addresses {
        let response = http()
            .post(stack().url("/forms/newsletter"))
            .header("x-local-source-ip", unique_ip())
            .json(&json!({"email": address, "interests": ["events"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        wait_for_mail(address, "confirm").await;
    }
    eventually("the expired item is deleted", || async { !held("expired").await }).await;
    assert!(held("current").await, "an item whose time has not come stays");
    eventually("the mailbox keeps its newest three", || async { mailbox().await.len() == 3 }).await;
    let kept: Vec<String> = mailbox().await.iter().map(|m| m["to"].as_str().unwrap().to_owned()).collect();
    assert!(kept.iter().any(|to| to.contains(&addresses[4])), "the newest is kept: {kept:?}");
    assert!(!kept.iter().any(|to| to.contains(&addresses[0])), "the oldest is gone: {kept:?}");
    use_stack(None);
}
