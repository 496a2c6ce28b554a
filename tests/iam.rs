//! IAM bites locally as in AWS: for every function, and for the operator, a flow that needs one
//! statement of the template's policies works with the template as it is, and fails with AWS's
//! `AccessDenied` on a copy of the template without that statement. Each copy runs as a stack of
//! its own (one worker a function), started beside the binary's shared stack and stopped when its test ends.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::*;
use steward_core::adapters::dynamodb::keys;

/// A stack whose template lacks every statement of `logical`'s policies that allows `action`.
fn stack_without(logical: &str, action: &str) -> OwnStack {
    let own = start_mutated_stack(
        &["--without", &format!("{logical}={action}")],
        &["FUNCTION_WORKERS=1", "LOCAL_SCHEDULE_SECONDS_RetentionFunction=2"],
    );
    assert_eq!(own.iam, "enforced");
    own
}

/// Waits until the stack has refused `identity` (a function's logical id, or "Operator") a call
/// to `action` (or, ending in `:`, to any action of that service), as AWS would.
async fn refused(identity: &str, action: &str) {
    let denials = stack().log_dir.join("iam-denials.jsonl");
    eventually_within(Duration::from_secs(60), &format!("{identity} was refused {action}"), || {
        let denials = denials.clone();
        async move {
            std::fs::read_to_string(&denials).is_ok_and(|text| {
                text.lines().filter_map(|line| serde_json::from_str::<Value>(line).ok()).any(|denial| {
                    let refused = denial["action"].as_str().unwrap_or_default();
                    denial["identity"] == identity
                        && (refused == action || (action.ends_with(':') && refused.starts_with(action)))
                })
            })
        }
    })
    .await;
}

/// What `stack()` and every helper act on, on this test's thread: a stack of its own, or (`None`)
/// the binary's shared stack, which runs the template as it is. Dropping the test's own stack
/// goes back to the shared one, and stops the own one before the test goes on.
fn on(chosen: Option<&'static Stack>) {
    use_stack(chosen);
}

async fn contact(email: &str) -> StatusCode {
    http()
        .post(stack().url("/forms/contact-us"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"name": "Zoë", "email": email, "message": "Hello"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn submit_form_needs_its_table_statement() {
    let own = stack_without("SubmitFormFunction", "dynamodb:PutItem");
    on(Some(own.get()));
    assert!(contact(&unique_email("iam")).await.is_server_error());
    refused("SubmitFormFunction", "dynamodb:").await;
    drop(own);
    assert_eq!(contact(&unique_email("iam")).await, StatusCode::CREATED);
}

async fn apply() -> Value {
    let email = unique_email("iam");
    let response = http()
        .post(stack().url("/forms/careers"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"name": "Zoë", "email": email, "phone": "+44 20 7946 0958", "country": "GB", "position": "Rust engineer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    with_profile_read_back(response.json().await.unwrap(), &email).await
}

/// Applies, asks for an upload and posts a real PDF to the bucket as a browser does.
async fn upload_cv() -> (Value, StatusCode) {
    let receipt = apply().await;
    let response = http()
        .post(stack().url("/careers/cv-upload"))
        .json(&json!({"token": receipt["cv_upload"]["token"], "content_type": "application/pdf", "file_name": "cv.pdf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let post: Value = response.json().await.unwrap();
    let pdf = std::fs::read(root().join("tests/fixtures/cv/cv.pdf")).unwrap();
    (receipt, post_to_bucket(&post, pdf, "application/pdf").await)
}

#[tokio::test]
async fn cv_upload_signs_what_its_role_may_put() {
    // The browser's POST is authorised as the identity that signed its policy: cv-upload's role.
    let own = stack_without("CvUploadFunction", "s3:PutObject");
    on(Some(own.get()));
    assert_eq!(upload_cv().await.1, StatusCode::FORBIDDEN);
    refused("CvUploadFunction", "s3:PutObject").await;
    drop(own);
    assert_eq!(upload_cv().await.1, StatusCode::CREATED);
}

async fn cv_checked(receipt: &Value) -> bool {
    let (pk, sk) =
        keys::submission(receipt["profile_id"].as_str().unwrap(), receipt["submission_id"].as_str().unwrap());
    stack().item(pk, sk).await.is_some_and(|item| item.contains_key("cv"))
}

#[tokio::test]
async fn verify_cv_needs_its_table_statement() {
    let own = stack_without("VerifyCvFunction", "dynamodb:UpdateItem");
    on(Some(own.get()));
    let (receipt, status) = upload_cv().await;
    assert_eq!(status, StatusCode::CREATED);
    refused("VerifyCvFunction", "dynamodb:UpdateItem").await;
    assert!(!cv_checked(&receipt).await);
    drop(own);
    let (receipt, _) = upload_cv().await;
    eventually("the CV was checked", || cv_checked(&receipt)).await;
}

async fn register_for_paid_event() -> Value {
    let response = http()
        .post(stack().url("/forms/event-registration"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"name": "Zoë", "email": unique_email("iam"), "phone": "+44 20 7946 0958", "job_title": "CTO",
                      "company": "Acme", "country": "GB", "state": "GB-LND", "event": "wso2con-2027"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn start_payment_status(registration: &Value) -> StatusCode {
    http()
        .post(stack().url("/payments"))
        .json(&json!({"token": registration["payment"]["token"]}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn payments_needs_its_table_statement() {
    let own = stack_without("PaymentsFunction", "dynamodb:UpdateItem");
    on(Some(own.get()));
    assert_eq!(
        start_payment_status(&register_for_paid_event().await).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    refused("PaymentsFunction", "dynamodb:").await;
    drop(own);
    assert_eq!(start_payment_status(&register_for_paid_event().await).await, StatusCode::OK);
}

/// Stripe's `payment_intent.succeeded` for a payment just started, signed as Stripe signs it.
async fn deliver_success() -> StatusCode {
    use hmac::{Hmac, Mac};
    let started: Value = http()
        .post(stack().url("/payments"))
        .json(&json!({"token": register_for_paid_event().await["payment"]["token"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let event = json!({"id": format!("evt_test_{}", uuid::Uuid::new_v4().simple()), "object": "event",
        "type": "payment_intent.succeeded", "created": now, "api_version": "2026-09-30.endive", "livemode": false,
        "data": {"object": {"id": started["payment_intent_id"], "object": "payment_intent", "status": "succeeded"}}})
    .to_string();
    let secret = stack().settings["STRIPE_WEBHOOK_SECRETS"].split(',').next().unwrap().to_owned();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{now}.{event}").as_bytes());
    let signature = format!("t={now},v1={}", hex::encode(mac.finalize().into_bytes()));
    http()
        .post(stack().url("/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(event)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn stripe_webhook_needs_its_table_statement() {
    let own = stack_without("StripeWebhookFunction", "dynamodb:UpdateItem");
    on(Some(own.get()));
    assert!(deliver_success().await.is_server_error(), "Stripe is told to retry");
    refused("StripeWebhookFunction", "dynamodb:").await;
    drop(own);
    assert_eq!(deliver_success().await, StatusCode::OK);
}

/// A permanent bounce for `email`, as SES publishes it through SNS to the feedback queue.
async fn bounce(email: &str) {
    mail_feedback(json!({"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": email}]}}))
        .await;
}

#[tokio::test]
async fn mail_events_needs_its_table_statement() {
    let own = stack_without("MailEventsFunction", "dynamodb:PutItem");
    on(Some(own.get()));
    let email = unique_email("iam");
    assert_eq!(contact(&email).await, StatusCode::CREATED);
    bounce(&email).await;
    refused("MailEventsFunction", "dynamodb:").await;
    drop(own);
    let email = unique_email("iam");
    assert_eq!(contact(&email).await, StatusCode::CREATED);
    bounce(&email).await;
    eventually("the bounce was recorded", || async {
        stack().profile(&email).await.is_some_and(|p| p.contains_key("suppressed"))
    })
    .await;
}

async fn sign_up(email: &str) {
    let response = http()
        .post(stack().url("/forms/newsletter"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"email": email, "name": "Zoë", "interests": ["cloud"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn mail_outbox_needs_its_send_statement() {
    let own = stack_without("MailOutboxFunction", "ses:SendEmail");
    on(Some(own.get()));
    let email = unique_email("iam");
    sign_up(&email).await;
    refused("MailOutboxFunction", "ses:SendEmail").await;
    assert!(mail_to(&email, "confirm").await.is_empty());
    drop(own);
    let email = unique_email("iam");
    sign_up(&email).await;
    wait_for_mail(&email, "confirm").await;
}

/// Signs up and presses the confirmation mail's button.
async fn confirm_subscription() -> StatusCode {
    let email = unique_email("iam");
    sign_up(&email).await;
    let mail = wait_for_mail(&email, "confirm").await;
    let confirm = link(&mail.text, "/subscriptions/confirm");
    let token = confirm.split("token=").nth(1).unwrap();
    http()
        .post(stack().url("/subscriptions/confirm"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn unsubscribe_needs_its_table_statement() {
    let own = stack_without("UnsubscribeFunction", "dynamodb:UpdateItem");
    on(Some(own.get()));
    assert!(confirm_subscription().await.is_server_error());
    refused("UnsubscribeFunction", "dynamodb:").await;
    drop(own);
    assert_eq!(confirm_subscription().await, StatusCode::OK);
}

async fn privacy_link_status() -> StatusCode {
    let email = unique_email("iam");
    assert_eq!(contact(&email).await, StatusCode::CREATED);
    ask_for_privacy_link(&email).await.status()
}

#[tokio::test]
async fn privacy_needs_its_table_statement() {
    let own = stack_without("PrivacyFunction", "dynamodb:UpdateItem");
    on(Some(own.get()));
    assert!(privacy_link_status().await.is_server_error());
    refused("PrivacyFunction", "dynamodb:").await;
    drop(own);
    assert_eq!(privacy_link_status().await, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn retention_needs_its_scan_statement() {
    // The statement that allows the scan goes whole: the sweep is refused at its first read
    // (where the last run stopped), before it can scan.
    let mutated = stack_without("RetentionFunction", "dynamodb:Scan");
    on(Some(mutated.get()));
    refused("RetentionFunction", "dynamodb:").await;
    drop(mutated);
    // The shared stack's sweep runs with the whole template: its log never shows a refusal.
    let log = stack().log_dir.join("RetentionFunction.log");
    eventually_within(Duration::from_secs(120), "a sweep ran on the shared stack", || {
        let log = log.clone();
        async move {
            std::fs::read_to_string(&log)
                .is_ok_and(|text| text.contains(r#""operation":"retention-sweep","outcome":"ok""#))
        }
    })
    .await;
    assert!(!std::fs::read_to_string(&log).unwrap().contains("AccessDenied"));
}

fn find(email: &str) -> std::process::Output {
    admin(&["find", "--email", email])
}

#[tokio::test]
async fn the_operator_needs_the_stack_secrets_statement() {
    let own = stack_without("OperatorPolicy", "secretsmanager:GetSecretValue");
    on(Some(own.get()));
    let email = unique_email("iam");
    assert_eq!(contact(&email).await, StatusCode::CREATED);
    let output = find(&email);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("AccessDenied"), "{stderr}");
    refused("Operator", "secretsmanager:GetSecretValue").await;
    drop(own);
    let email = unique_email("iam");
    assert_eq!(contact(&email).await, StatusCode::CREATED);
    let output = find(&email);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn only_an_explicit_setting_turns_enforcement_off_and_the_stack_says_so_loudly() {
    assert_eq!(stack().iam, "enforced", "the shared stack, as every test's, enforces IAM");
    let off = start_own_stack(None, &["FUNCTION_WORKERS=1", "LOCAL_IAM=off"]);
    assert_eq!(off.iam, "off");
    let said = std::fs::read_to_string(off.log_dir.join("stack-events.log")).unwrap();
    assert!(said.contains("IAM IS NOT ENFORCED"), "{said}");
}

/// An S3 client signing as the operator (the template's OperatorPolicy).
fn operator_s3() -> aws_sdk_s3::Client {
    let credentials = aws_sdk_s3::config::Credentials::new(
        &stack().settings["OPERATOR_AWS_ACCESS_KEY_ID"],
        "local",
        None,
        None,
        "operator",
    );
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&stack().aws())
            .credentials_provider(credentials)
            .force_path_style(true)
            .build(),
    )
}

#[tokio::test]
async fn s3_refuses_as_aws_does_expired_links_hidden_misses_unread_subresources_and_anonymous_calls() {
    let bucket = stack().resource("CvBucket").to_owned();
    let key = format!("cv/{}/cv.pdf", uuid::Uuid::new_v4().simple());
    let access_denied = |error: &dyn std::fmt::Debug| format!("{error:?}").contains("AccessDenied");

    // The operator may read cv/ but may not list the bucket without a prefix: a missing object is
    // a 403 to them, as S3 hides what does not exist from those who may not list.
    let missing = operator_s3().get_object().bucket(&bucket).key(&key).send().await;
    assert!(missing.as_ref().is_err_and(|e| access_denied(e)), "{missing:?}");

    // A subresource the local stack does not read is refused, never guessed as a broader action.
    let legal_hold = operator_s3().get_object_legal_hold().bucket(&bucket).key(&key).send().await;
    assert!(legal_hold.as_ref().is_err_and(|e| access_denied(e)), "{legal_hold:?}");

    // A presigned link past its expiry.
    let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(1)).unwrap();
    let link = operator_s3().get_object().bucket(&bucket).key(&key).presigned(config).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = http().get(link.uri()).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::FORBIDDEN);
    assert!(expired.text().await.unwrap().contains("Request has expired"));

    // Nothing of Steward's answers an unsigned request.
    let anonymous = http().get(format!("{}/{bucket}/{key}", stack().aws_endpoint)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
}
