//! Its own test binary, so its own local stack, with Cloudflare Turnstile turned on (Cloudflare's
//! test secret; the stack answers siteverify as Cloudflare does for it): a form or a sign-in link
//! carrying a token Turnstile vouches for counts as sent by a person, one it refuses changes
//! nothing, and the proof of work still works beside it.

use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{http, stack, unique_email, unique_ip, Stack};

/// Cloudflare's test token, which its test secret passes.
const PASSING: &str = "XXXX.DUMMY.TOKEN.XXXX";

fn with_turnstile() -> &'static Stack {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        std::env::set_var("STEWARD_STACK_SET", "TURNSTILE_SECRET_KEY=1x0000000000000000000000000000000AA")
    });
    stack()
}

async fn contact(ip: &str, email: &str, turnstile: &str) -> reqwest::Response {
    http()
        .post(with_turnstile().url("/forms/contact-us"))
        .header("x-local-source-ip", ip)
        .json(&json!({"name": "Tess Turnstile", "email": email, "message": "Hello", "cf-turnstile-response": turnstile}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_turnstile_on_then_a_token_it_vouches_for_counts_as_a_person_and_one_it_refuses_changes_nothing(
) {
    let ip = unique_ip();
    let limit: usize = with_turnstile().settings["RateLimitPerIp"].parse().unwrap();
    // More than a plain form may send from one address: each vouched for by Turnstile.
    for i in 0..limit / 3 + 2 {
        let response = contact(&ip, &unique_email("vouched"), PASSING).await;
        assert_eq!(response.status(), StatusCode::CREATED, "form {i}");
    }
    let email = unique_email("refused");
    let refused = contact(&unique_ip(), &email, "not-a-turnstile-token").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "cf-turnstile-response");
    assert!(with_turnstile().profile(&email).await.is_none(), "a refused form stores nothing");

    let link = http()
        .post(with_turnstile().url("/privacy/link"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"email": unique_email("link"), "cf-turnstile-response": "not-a-turnstile-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), StatusCode::UNPROCESSABLE_ENTITY, "the sign-in link's form too");
}
