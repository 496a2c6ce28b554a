//! Its own test binary, so its own local stack, started with a rotated token key: keys and
//! secrets come from Secrets Manager (seeded from infra/local.env locally), and rotating a token
//! key — a new key first, the old one kept — leaves links already sent working.

use reqwest::StatusCode;
use serde_json::json;
use steward_blackbox::{http, link, s, stack, unique_email, unique_ip, wait_for_mail, Stack};
use steward_core::domain::ids::ProfileId;
use steward_core::token::{KeyRing, Purpose, TokenKeys};

const NEW_KEY: &str = "rotated:a-new-token-key-after-rotation-0123456789";
/// A mail-link key past its retirement date, still listed so that its links are recognised.
const RETIRED_SECRET: &str = "a-mail-link-key-that-has-retired-0123456789";
/// The single-key release's TOKEN_KEYS secret, kept to check the unsubscribe links it signed.
const LEGACY_SECRET: &str = "the-single-key-releases-token-key-0123456789";

/// The stack with the keys after a rotation: the new key signs, the env file's (old) one
/// verifies, and one older key has retired.
fn rotated() -> &'static Stack {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        let env = steward_blackbox::local_env();
        let (mail, consent) = (&env["TOKEN_KEYS_MAIL_LINKS"], &env["TOKEN_KEYS_CONSENT"]);
        std::env::set_var(
            "STEWARD_STACK_SET",
            format!(
                "TOKEN_KEYS_MAIL_LINKS={NEW_KEY},{mail},retired@2020-01-01:{RETIRED_SECRET},v1/old:{LEGACY_SECRET},TOKEN_KEYS_CONSENT={NEW_KEY},{consent}"
            ),
        );
    });
    stack()
}

fn old_keys() -> TokenKeys {
    TokenKeys::from_lookup(|name| steward_blackbox::local_env().get(name).cloned()).unwrap()
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
    let new_only = TokenKeys::everywhere(KeyRing::parse(NEW_KEY).unwrap());
    assert!(new_only.verify(&token, Purpose::ConfirmSubscription, 0).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_key_removed_from_the_list_then_its_links_are_refused() {
    let (_, profile_id) = subscribed("rotation-removed").await;
    let removed =
        TokenKeys::everywhere(KeyRing::parse("removed:a-key-that-was-removed-0123456789abcdef").unwrap());
    let token = removed.sign(Purpose::Unsubscribe, "cloud", &profile_id, None);
    assert!(matches!(one_click(&token).await.as_u16(), 400 | 403));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_key_that_has_retired_then_its_links_open_nothing_but_a_fresh_link_offer_though_opting_out_still_works(
) {
    let (email, profile_id) = subscribed("rotation-retired").await;
    let mail = wait_for_mail(&email, "onfirm").await;
    let token = link(&mail.text, "/subscriptions/confirm?token=").split("token=").nth(1).unwrap().to_owned();
    http().post(rotated().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();
    let retired = TokenKeys::everywhere(KeyRing::parse(&format!("retired:{RETIRED_SECRET}")).unwrap());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let preferences = retired.sign(Purpose::Preferences, "preferences", &profile_id, Some(now + 3600));

    let page = http().get(rotated().url(&format!("/preferences?token={preferences}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("out of date") && page.contains(r#"action="/privacy/link?lang=en""#),
        "a fresh link is offered: {page}"
    );
    let changed = http()
        .post(rotated().url("/preferences"))
        .form(&[("token", preferences.as_str()), ("action", "unsubscribe_all")])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::FORBIDDEN, "a retired key's link changes nothing");
    assert!(rotated().profile(&email).await.unwrap().contains_key("marketing_topics"));

    // The offer is the privacy center's own form: the address typed gets a sign-in link.
    let offered = http()
        .post(rotated().url("/privacy/link"))
        .header("origin", &rotated().api)
        .header("x-local-source-ip", unique_ip())
        .form(&[("email", email.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(offered.status(), StatusCode::ACCEPTED);
    wait_for_mail(&email, "privacy center link").await;

    // A mail provider's one-click unsubscribe, long after the mail: opting out still works.
    let unsubscribe = retired.sign(Purpose::Unsubscribe, "cloud", &profile_id, None);
    assert_eq!(one_click(&unsubscribe).await, StatusCode::OK);
    assert!(!rotated().profile(&email).await.unwrap().contains_key("marketing_topics"), "unsubscribed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_key_of_the_single_key_release_then_mail_already_sent_can_still_unsubscribe() {
    let (email, profile_id) = subscribed("rotation-legacy").await;
    let mail = wait_for_mail(&email, "onfirm").await;
    let token = link(&mail.text, "/subscriptions/confirm?token=").split("token=").nth(1).unwrap().to_owned();
    http().post(rotated().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();
    // As the single-key release signed it: HMAC with the secret itself, under the first label.
    let claims = serde_json::json!({"p": "unsubscribe", "sub": "cloud", "pid": profile_id.as_str()});
    let payload =
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims.to_string());
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(LEGACY_SECRET.as_bytes()).unwrap();
    hmac::Mac::update(&mut mac, format!("steward-token-v1\0old\0{payload}").as_bytes());
    let tag = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        hmac::Mac::finalize(mac).into_bytes(),
    );
    assert_eq!(one_click(&format!("old.{payload}.{tag}")).await, StatusCode::OK);
    assert!(!rotated().profile(&email).await.unwrap().contains_key("marketing_topics"), "unsubscribed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_stack_then_keys_live_in_secrets_manager_not_in_the_template_or_environment() {
    let ids = format!("{},{}", rotated().resource("MailLinkKeysSecret"), rotated().resource("HashKeySecret"));
    let secrets = steward_core::adapters::secrets::read_secrets(&rotated().aws(), &ids)
        .await
        .expect("the key secrets are readable");
    assert!(secrets["TOKEN_KEYS_MAIL_LINKS"].starts_with("rotated:"), "the rotated value the functions read");
    assert!(secrets["HASH_KEY"].len() >= 32);
    let template = std::fs::read_to_string(steward_blackbox::root().join("template.yaml")).unwrap();
    let token_keys = steward_core::token::KeyFamily::ALL.map(|family| format!("{}:", family.variable()));
    for name in ["HASH_KEY:", "STRIPE_SECRET_KEY:", "STRIPE_WEBHOOK_SECRETS:"]
        .into_iter()
        .chain(token_keys.iter().map(String::as_str))
    {
        assert!(!template.contains(name), "{name} is set in a function's environment");
    }
    assert!(!template.contains("NoEcho"), "no secret is a template parameter");

    let missing =
        steward_core::adapters::secrets::read_secrets(&rotated().aws(), "steward-local/no-such-secret").await;
    let error = missing.expect_err("a missing secret stops the cold start").to_string();
    assert!(error.contains("no-such-secret") && error.contains("ResourceNotFound"), "{error}");
}
