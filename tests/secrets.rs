//! Its own test binary, so its own local stack, started with a rotated token key: keys and
//! secrets come from Secrets Manager (seeded from infra/local.env locally), and rotating a token
//! key — a new key first, the old one kept — leaves links already sent working.

use reqwest::StatusCode;
use serde_json::json;
use steward_blackbox::{http, link, s, stack, unique_email, unique_ip, wait_for_mail, Stack};
use steward_core::domain::ids::ProfileId;
use steward_core::token::{Purpose, TokenKeys};

const NEW_KEY: &str = "rotated:a-new-token-key-after-rotation-0123456789";

/// The stack with the keys after a rotation: the new key signs, the env file's (old) one verifies.
fn rotated() -> &'static Stack {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        let old = steward_blackbox::local_env()["TOKEN_KEYS"].clone();
        std::env::set_var("STEWARD_STACK_SET", format!("TOKEN_KEYS={NEW_KEY},{old}"));
    });
    stack()
}

fn old_keys() -> TokenKeys {
    TokenKeys::parse(&steward_blackbox::local_env()["TOKEN_KEYS"]).unwrap()
}

async fn subscribed(label: &str) -> (String, ProfileId) {
    let email = unique_email(label);
    let response = http()
        .post(rotated().url("/forms/newsletter"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"email": email, "interests": ["cloud"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let profile = rotated().profile(&email).await.unwrap();
    (email, ProfileId::from_stored(s(&profile, "profile_id").to_owned()))
}

async fn one_click(token: &str) -> StatusCode {
    http()
        .post(rotated().url(&format!("/unsubscribe?token={token}")))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_rotated_token_key_then_an_unsubscribe_link_signed_before_the_rotation_still_works() {
    let (email, profile_id) = subscribed("rotation-old-link").await;
    let mail = wait_for_mail(&email, "onfirm").await;
    let token = link(&mail.text, "/subscriptions/confirm?token=").split("token=").nth(1).unwrap().to_owned();
    http().post(rotated().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();
    let topics = |profile: steward_blackbox::Item| {
        profile.get("marketing_topics").and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default()
    };
    assert_eq!(topics(rotated().profile(&email).await.unwrap()), ["cloud"]);

    let sent_before_rotation = old_keys().sign(Purpose::Unsubscribe, "cloud", &profile_id, None);
    assert_eq!(one_click(&sent_before_rotation).await, StatusCode::OK);
    assert!(topics(rotated().profile(&email).await.unwrap()).is_empty(), "unsubscribed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_rotated_token_key_then_new_links_are_signed_with_the_new_key() {
    let (email, _) = subscribed("rotation-new-link").await;
    let mail = wait_for_mail(&email, "onfirm").await;
    let token = link(&mail.text, "/subscriptions/confirm?token=").split("token=").nth(1).unwrap().to_owned();
    assert!(token.starts_with("rotated."), "signed with the first key: {token}");
    let new_only = TokenKeys::parse(NEW_KEY).unwrap();
    assert!(new_only.verify(&token, Purpose::ConfirmSubscription, 0).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_key_removed_from_the_list_then_its_links_are_refused() {
    let (_, profile_id) = subscribed("rotation-removed").await;
    let removed = TokenKeys::parse("retired:a-key-that-was-removed-0123456789abcdef").unwrap();
    let token = removed.sign(Purpose::Unsubscribe, "cloud", &profile_id, None);
    assert!(matches!(one_click(&token).await.as_u16(), 400 | 403));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_stack_then_keys_live_in_secrets_manager_not_in_the_template_or_environment() {
    let ids = format!("{},{}", rotated().resource("TokenKeysSecret"), rotated().resource("HashKeySecret"));
    let secrets = steward_core::adapters::secrets::read_secrets(&rotated().aws(), &ids)
        .await
        .expect("the key secrets are readable");
    assert!(secrets["TOKEN_KEYS"].starts_with("rotated:"), "the rotated value the functions read");
    assert!(secrets["HASH_KEY"].len() >= 32);
    let template = std::fs::read_to_string(steward_blackbox::root().join("template.yaml")).unwrap();
    for name in ["HASH_KEY:", "TOKEN_KEYS:", "STRIPE_SECRET_KEY:", "STRIPE_WEBHOOK_SECRETS:"] {
        assert!(!template.contains(name), "{name} is set in a function's environment");
    }
    assert!(!template.contains("NoEcho"), "no secret is a template parameter");

    let missing =
        steward_core::adapters::secrets::read_secrets(&rotated().aws(), "steward-local/no-such-secret").await;
    let error = missing.expect_err("a missing secret stops the cold start").to_string();
    assert!(error.contains("no-such-secret") && error.contains("ResourceNotFound"), "{error}");
}
