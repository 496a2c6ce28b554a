//! Its own test binary, so its own local stack: taking SES away here delays no other test's mail.
//! Nothing is lost when SES refuses mail: the outbox keeps the message, retries with backoff, and
//! sends it once SES takes it again.

use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{eventually, http, stack, unique_email, unique_ip};

async fn mail_to(email: &str) -> usize {
    let messages: Vec<Value> =
        http().get(stack().url("/_local/mailbox.json")).send().await.unwrap().json().await.unwrap();
    messages.iter().filter(|m| m["to"].as_str().unwrap_or_default().contains(email)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_ses_refusing_mail_then_the_submission_is_kept_and_its_mail_goes_out_once_when_ses_is_back() {
    let sender = stack().settings["MailFromAddress"].clone();
    stack()
        .sesv2()
        .delete_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("SES identity removed");

    let email = unique_email("outage");
    let response = http()
        .post(stack().url("/forms/newsletter"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"email": email, "interests": ["cloud"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "the submission does not depend on SES");
    assert!(stack().profile(&email).await.is_some());

    let outbox = || async {
        let items = stack().scan_all().await;
        items
            .into_iter()
            .find(|i| i.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("OUTBOX#")))
    };
    eventually("a failed attempt was recorded", || async {
        outbox()
            .await
            .and_then(|i| i.get("attempts").and_then(|v| v.as_n().ok()).cloned())
            .is_some_and(|n| n != "0")
    })
    .await;
    assert_eq!(mail_to(&email).await, 0);

    stack().sesv2().create_email_identity().email_identity(&sender).send().await.expect("SES identity back");
    eventually("the owed mail went out", || async { mail_to(&email).await == 1 }).await;
    eventually("the outbox is empty", || async { outbox().await.is_none() }).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(mail_to(&email).await, 1, "exactly once");
}
