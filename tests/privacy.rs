//! The privacy center's sign-in and access, through the local stack (issue 6, first part).

use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{eventually, http, stack, unique_email, unique_ip};

async fn links_to(email: &str) -> Vec<String> {
    let messages: Vec<Value> =
        http().get(stack().url("/_local/mailbox.json")).send().await.unwrap().json().await.unwrap();
    messages
        .iter()
        .filter(|m| {
            m["to"].as_str().unwrap_or_default().contains(email)
                && m["subject"].as_str().unwrap_or_default().contains("privacy")
        })
        .filter_map(|m| {
            let text = m["text"].as_str()?;
            let start = text.find(&format!("{}/privacy/session?token=", stack().api))?;
            Some(text[start..].split_whitespace().next()?.to_owned())
        })
        .collect()
}

async fn ask_for_link(email: &str) -> (StatusCode, Value) {
    let response = http()
        .post(stack().url("/privacy/link"))
        .header("accept", "application/json")
        .header("x-local-source-ip", unique_ip())
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn known_person() -> String {
    let email = unique_email("person");
    let response = http()
        .post(stack().url("/forms/contact-us"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"name": "Zoë Ñúñez", "email": email, "country": "DE", "message": "Hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    email
}

async fn exchange(link: &str) -> reqwest::Response {
    let token = link.split("token=").nth(1).unwrap();
    http()
        .post(stack().url("/privacy/session"))
        .header("accept", "application/json")
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_known_and_unknown_addresses_then_the_answers_are_identical_and_only_the_known_one_gets_mail() {
    let known = known_person().await;
    let unknown = unique_email("stranger");
    let (known_status, known_body) = ask_for_link(&known).await;
    let (unknown_status, unknown_body) = ask_for_link(&unknown).await;
    assert_eq!(known_status, StatusCode::ACCEPTED);
    assert_eq!((known_status, &known_body), (unknown_status, &unknown_body), "no account enumeration");
    eventually("the known address got its link", || async { !links_to(&known).await.is_empty() }).await;
    assert!(links_to(&unknown).await.is_empty());

    let (status, problem) = ask_for_link("not-an-email").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "email");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_sign_in_link_then_opening_it_uses_nothing_and_it_works_exactly_once() {
    let email = known_person().await;
    ask_for_link(&email).await;
    eventually("the link arrived", || async { !links_to(&email).await.is_empty() }).await;
    let link = links_to(&email).await.remove(0);

    assert_eq!(http().get(&link).send().await.unwrap().status(), StatusCode::OK, "a scanner's GET");
    let first = exchange(&link).await;
    assert_eq!(first.status(), StatusCode::OK);
    let session: Value = first.json().await.unwrap();
    assert!(session["session_token"].is_string());
    let again = exchange(&link).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN, "single use");
    let problem: Value = again.json().await.unwrap();
    assert_eq!(problem["code"], "link_used");

    let (head, _) = link.rsplit_once('.').unwrap();
    let forged = exchange(&format!("{head}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_session_then_me_shows_everything_held_with_retention_controller_and_recipients() {
    let email = known_person().await;
    ask_for_link(&email).await;
    eventually("the link arrived", || async { !links_to(&email).await.is_empty() }).await;
    let session: Value = exchange(&links_to(&email).await.remove(0)).await.json().await.unwrap();
    let token = session["session_token"].as_str().unwrap();

    let me: Value =
        http().get(stack().url("/me")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["profile"]["email"], email);
    assert_eq!(me["profile"]["full_name"], "Zoë Ñúñez");
    assert_eq!(me["data_controller"], "WSO2 UK Limited", "a resident of Germany");
    assert!(me["recipients"].as_array().unwrap().len() >= 3);
    let submission = &me["submissions"][0];
    assert_eq!(submission["form"], "contact-us");
    assert!(submission["browser"]["source_ip"].is_string(), "browser metadata");
    assert_eq!(submission["consent"]["policy_version"], "2018-03-23", "consent evidence");
    assert!(submission["retained_until"].as_str().unwrap().starts_with("20"), "each item's retention date");
    assert!(me["profile"].get("pk").is_none() && me["profile"].get("gsi1pk").is_none(), "no internal keys");

    let anonymous = http().get(stack().url("/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let forged = http().get(stack().url("/me")).bearer_auth(format!("{token}x")).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}
