//! Mail through the local stack: double opt-in, campaigns, RFC 8058 one-click unsubscribe, link
//! scanners, the preference center, bounces and complaints. Every message is read back from the
//! local SES as raw MIME and parsed.

use std::time::Duration;

use mail_parser::MessageParser;
use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{
    campaign, eventually, http, link, mail_to, s, stack, unique_email, unique_ip, wait_for_mail, Item,
};

async fn profile(email: &str) -> Item {
    stack().profile(email).await.expect("a profile")
}

fn topics(item: &Item, name: &str) -> Vec<String> {
    let mut topics = item.get(name).and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default();
    topics.sort();
    topics
}

async fn sign_up(email: &str, interests: &[&str]) {
    let response = http()
        .post(stack().url("/forms/newsletter"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"email": email, "name": "Zoë", "interests": interests}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// The whole double opt-in, as a person does it: sign up, open the mail, press the button.
async fn confirmed_subscriber(interests: &[&str]) -> String {
    let email = unique_email("subscriber");
    sign_up(&email, interests).await;
    let mail = wait_for_mail(&email, "confirm").await;
    let confirm = link(&mail.text, "/subscriptions/confirm");
    let token = confirm.split("token=").nth(1).unwrap();
    let response =
        http().post(stack().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    email
}

fn header<'a>(raw: &'a str, name: &str) -> Vec<&'a str> {
    let head = raw.split("\r\n\r\n").next().unwrap();
    head.split("\r\n")
        .filter(|l| l.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_newsletter_signup_then_a_confirmation_arrives_and_only_a_post_confirms() {
    let email = unique_email("optin");
    sign_up(&email, &["cloud", "events"]).await;
    let mail = wait_for_mail(&email, "confirm").await;

    let parsed = MessageParser::default().parse(mail.raw.as_bytes()).expect("valid MIME");
    assert_eq!(parsed.to().unwrap().first().unwrap().address().unwrap(), email);
    assert!(parsed.from().unwrap().first().unwrap().address().unwrap().ends_with("steward.local"));
    assert!(parsed.message_id().is_some());
    assert!(parsed.body_text(0).is_some() && parsed.body_html(0).is_some(), "text and HTML parts");
    assert!(header(&mail.raw, "List-Unsubscribe").is_empty(), "transactional mail has no List-Unsubscribe");

    let confirm = link(&mail.text, "/subscriptions/confirm");
    // A link scanner fetches everything it finds: that must change nothing. The page says which
    // address it acts on, masked, and which topics.
    let page = http().get(&confirm).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let masked = format!("{}•••@{}", &email[..1], email.split('@').nth(1).unwrap());
    assert!(page.contains(&masked) && !page.contains(&email), "{page}");
    assert_eq!(http().head(&confirm).send().await.unwrap().status(), StatusCode::OK);
    let before = profile(&email).await;
    assert_eq!(topics(&before, "pending_topics"), ["cloud", "events"]);
    assert!(topics(&before, "marketing_topics").is_empty());

    let token = confirm.split("token=").nth(1).unwrap();
    let response =
        http().post(stack().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("confirmed"));
    let after = profile(&email).await;
    assert_eq!(topics(&after, "marketing_topics"), ["cloud", "events"]);
    assert!(topics(&after, "pending_topics").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_campaign_then_confirmed_subscribers_get_it_with_one_click_headers_and_others_do_not() {
    let confirmed = confirmed_subscriber(&["cloud"]).await;
    let unconfirmed = unique_email("unconfirmed");
    sign_up(&unconfirmed, &["cloud"]).await;
    let id = format!("launch-{}", uuid::Uuid::new_v4().simple());
    campaign(&id, "cloud");
    let mail = wait_for_mail(&confirmed, &id).await;

    let unsubscribe = header(&mail.raw, "List-Unsubscribe");
    assert_eq!(unsubscribe.len(), 1);
    let value = unsubscribe[0].trim_start_matches("List-Unsubscribe: ");
    assert!(value.starts_with(&format!("<{}/unsubscribe?token=", stack().api)), "{value}");
    // The local stack, like a deployment that leaves UnsubscribeMailto empty, names no mailbox:
    // none reads one.
    assert!(value.ends_with('>') && !value.contains("mailto:"), "one line, the one-click URL alone: {value}");
    assert_eq!(
        header(&mail.raw, "List-Unsubscribe-Post"),
        ["List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
    );
    let parsed = MessageParser::default().parse(mail.raw.as_bytes()).unwrap();
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains("Unsubscribe") && html.contains("preferences"), "visible links in the body");
    assert!(mail.text.contains("/unsubscribe?token=") && mail.text.contains("/preferences?token="));

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(mail_to(&unconfirmed, &id).await.is_empty(), "an unconfirmed address gets no marketing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_link_scanner_then_get_and_head_change_nothing_and_the_one_click_post_unsubscribes_at_once() {
    let email = confirmed_subscriber(&["cloud", "events"]).await;
    let id = format!("oneclick-{}", uuid::Uuid::new_v4().simple());
    campaign(&id, "cloud");
    let mail = wait_for_mail(&email, &id).await;
    let url = header(&mail.raw, "List-Unsubscribe")[0]
        .split('<')
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap()
        .to_owned();

    let page = http().get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let masked = format!("{}•••@{}", &email[..1], email.split('@').nth(1).unwrap());
    assert!(page.contains(&masked), "the page says whose mail it stops: {page}");
    assert_eq!(http().head(&url).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        topics(&profile(&email).await, "marketing_topics"),
        ["cloud", "events"],
        "GET and HEAD change nothing"
    );

    // Exactly as a large mailbox provider sends it: a POST to the URL, the RFC 8058 body, no cookies.
    for _ in 0..2 {
        let response = http()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "at once, and again idempotently");
        assert!(
            response.headers().get("location").is_none() && response.headers().get("set-cookie").is_none()
        );
    }
    assert_eq!(
        topics(&profile(&email).await, "marketing_topics"),
        ["events"],
        "only the mail's topic is dropped"
    );

    let profile_id = s(&profile(&email).await, "profile_id").to_owned();
    let log = stack()
        .dynamodb()
        .query()
        .table_name(&stack().table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :log)")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("PROFILE#{profile_id}")),
        )
        .expression_attribute_values(":log", aws_sdk_dynamodb::types::AttributeValue::S("MAILLOG#".into()))
        .send()
        .await
        .unwrap();
    let sources: Vec<String> = log.items().iter().map(|i| s(i, "source").to_owned()).collect();
    assert!(sources.contains(&"one-click".to_owned()), "{sources:?}");
    assert!(log.items().iter().all(|i| !s(i, "token_id").is_empty() && !s(i, "at").is_empty()));

    let multipart = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let response = http().post(&url).multipart(multipart).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the multipart form of the one-click body works too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_forged_truncated_or_cross_person_tokens_then_4xx_and_nothing_changes() {
    let alice = confirmed_subscriber(&["cloud"]).await;
    let bob = confirmed_subscriber(&["cloud"]).await;
    let id = format!("tokens-{}", uuid::Uuid::new_v4().simple());
    campaign(&id, "cloud");
    let alice_url = link(&wait_for_mail(&alice, &id).await.text, "/unsubscribe");
    let bob_url = link(&wait_for_mail(&bob, &id).await.text, "/unsubscribe");
    let alice_token = alice_url.split("token=").nth(1).unwrap();
    let bob_token = bob_url.split("token=").nth(1).unwrap();
    let (alice_head, _) = alice_token.rsplit_once('.').unwrap();
    let (_, bob_tag) = bob_token.rsplit_once('.').unwrap();
    let preferences_token = link(&wait_for_mail(&alice, &id).await.text, "/preferences")
        .split("token=")
        .nth(1)
        .unwrap()
        .to_owned();
    let cases = [
        ("truncated", alice_token[..alice_token.len() - 5].to_owned()),
        ("cross-person", format!("{alice_head}.{bob_tag}")),
        ("forged", format!("local1.eyJwIjoidW5zdWJzY3JpYmUiLCJzdWIiOiJhbGwiLCJwaWQiOiJ4In0.{bob_tag}")),
        ("garbage", "%%%".to_owned()),
        ("another purpose", preferences_token),
    ];
    for (label, token) in cases {
        let response = http()
            .post(stack().url("/unsubscribe"))
            .query(&[("token", token.as_str())])
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert!(matches!(response.status().as_u16(), 400 | 403), "{label}: {}", response.status());
    }
    assert_eq!(topics(&profile(&alice).await, "marketing_topics"), ["cloud"]);
    assert_eq!(topics(&profile(&bob).await, "marketing_topics"), ["cloud"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_preference_center_then_removing_is_instant_and_adding_asks_the_address_first() {
    let email = confirmed_subscriber(&["cloud"]).await;
    let id = format!("prefs-{}", uuid::Uuid::new_v4().simple());
    campaign(&id, "cloud");
    let url = link(&wait_for_mail(&email, &id).await.text, "/preferences");
    let token = url.split("token=").nth(1).unwrap().to_owned();
    let claims = stack()
        .token_keys()
        .verify(&token, steward_core::token::Purpose::Preferences, 0)
        .expect("a preference link");
    assert!(claims.expires_at.is_some(), "a preference link lapses");
    let page = http().get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"value="cloud" checked"#), "the page shows the current choice");

    let post = |form: Vec<(&'static str, &'static str)>| {
        let mut fields: Vec<(String, String)> =
            form.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        fields.push(("token".into(), token.clone()));
        http().post(stack().url("/preferences")).form(&fields).send()
    };
    let confirmations = mail_to(&email, "confirm").await.len();
    let saved = post(vec![("topic", "events"), ("topic", "identity"), ("action", "save")]).await.unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    assert!(saved.text().await.unwrap().contains("confirm with the link"), "the page says what happens next");
    let changed = profile(&email).await;
    assert!(
        topics(&changed, "marketing_topics").is_empty(),
        "unticked cloud stopped at once; nothing added yet"
    );
    assert_eq!(topics(&changed, "pending_topics"), ["events", "identity"], "added topics wait");
    eventually("a confirmation for the added topics", || async {
        mail_to(&email, "confirm").await.len() > confirmations
    })
    .await;
    let mails = mail_to(&email, "confirm").await;
    let mail =
        mails.iter().find(|m| m.text.contains("Identity")).expect("the confirmation naming what was added");
    let confirm = link(&mail.text, "/subscriptions/confirm");
    let confirm_token = confirm.split("token=").nth(1).unwrap();
    http()
        .post(stack().url("/subscriptions/confirm"))
        .form(&[("token", confirm_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(topics(&profile(&email).await, "marketing_topics"), ["events", "identity"], "confirmed");

    post(vec![("action", "unsubscribe_all")]).await.unwrap();
    let unsubscribed = profile(&email).await;
    assert_eq!(unsubscribed["unsubscribed_all"].as_bool().unwrap(), &true);

    // Resubscribing from the preference link asks the address again; the confirmation gives it.
    post(vec![("topic", "cloud"), ("action", "save")]).await.unwrap();
    let asked = profile(&email).await;
    assert_eq!(asked["unsubscribed_all"].as_bool().unwrap(), &true, "not before confirming");
    assert_eq!(topics(&asked, "pending_topics"), ["cloud"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_unsubscribe_link_then_it_opens_no_preference_center() {
    let email = confirmed_subscriber(&["cloud"]).await;
    let id = format!("no-prefs-{}", uuid::Uuid::new_v4().simple());
    campaign(&id, "cloud");
    let url = link(&wait_for_mail(&email, &id).await.text, "/unsubscribe");
    let page = http().get(&url).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("/preferences"), "no preference link from an unsubscribe link: {page}");
    let token = url.split("token=").nth(1).unwrap();
    let done = http().post(stack().url("/unsubscribe")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(!done.text().await.unwrap().contains("/preferences"), "nor after unsubscribing");

    // A preference link minted before they lapsed (as unsubscribe pages once offered) is refused.
    let claims = stack().token_keys().verify(token, steward_core::token::Purpose::Unsubscribe, 0).unwrap();
    let old = stack().token_keys().sign(
        steward_core::token::Purpose::Preferences,
        "preferences",
        &claims.profile_id,
        None,
    );
    let page = http().get(stack().url(&format!("/preferences?token={old}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_topics_ticked_in_someones_name_after_their_confirmation_mail_then_their_click_confirms_only_what_it_named(
) {
    let email = unique_email("exact");
    sign_up(&email, &["cloud"]).await;
    let mail = wait_for_mail(&email, "confirm").await;
    let confirm = link(&mail.text, "/subscriptions/confirm");
    let token = confirm.split("token=").nth(1).unwrap();
    // Someone else ticks another topic in this person's name.
    sign_up(&email, &["events"]).await;
    let page = http().get(&confirm).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("WSO2 Cloud") && !page.contains("Events"),
        "the page names what it confirms: {page}"
    );
    let response =
        http().post(stack().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let confirmed = profile(&email).await;
    assert_eq!(topics(&confirmed, "marketing_topics"), ["cloud"], "only what the mail named");
    assert_eq!(topics(&confirmed, "pending_topics"), ["events"], "the rest still waits for its own mail");
}

async fn feedback(notification: Value) {
    steward_blackbox::mail_feedback(notification).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_bounce_or_a_complaint_then_no_more_marketing_but_transactional_mail_still_goes() {
    let bounced = confirmed_subscriber(&["cloud"]).await;
    let complained = confirmed_subscriber(&["cloud"]).await;
    feedback(json!({"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": bounced}]}})).await;
    feedback(json!({"notificationType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": complained}]}})).await;
    for email in [&bounced, &complained] {
        eventually("the address was suppressed", || async {
            profile(email).await.contains_key("suppressed")
        })
        .await;
    }
    assert_eq!(s(profile(&bounced).await["suppressed"].as_m().unwrap(), "source"), "bounce");
    assert_eq!(s(profile(&complained).await["suppressed"].as_m().unwrap(), "source"), "complaint");

    let id = format!("suppressed-{}", uuid::Uuid::new_v4().simple());
    campaign(&id, "cloud");
    let control = confirmed_subscriber(&["cloud"]).await;
    let control_id = format!("{id}-control");
    campaign(&control_id, "cloud");
    wait_for_mail(&control, &control_id).await;
    assert!(mail_to(&bounced, &id).await.is_empty() && mail_to(&complained, &id).await.is_empty());

    // A new sign-up asks nothing of a suppressed address: no confirmation goes to it.
    let confirmations = mail_to(&bounced, "confirm").await.len();
    sign_up(&bounced, &["events"]).await;
    // Transactional mail still goes: the person can always reach their data.
    let response = steward_blackbox::ask_for_privacy_link(&bounced).await;
    assert!(response.status().is_success(), "{}", response.status());
    wait_for_mail(&bounced, "privacy center link").await;
    assert_eq!(
        mail_to(&bounced, "confirm").await.len(),
        confirmations,
        "no confirmation to a bounced address"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_campaign_run_again_after_stopping_then_nobody_gets_it_twice() {
    let email = confirmed_subscriber(&["events"]).await;
    let id = format!("resume-{}", uuid::Uuid::new_v4().simple());
    campaign(&id, "events");
    wait_for_mail(&email, &id).await;
    campaign(&id, "events");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(mail_to(&email, &id).await.len(), 1);
}

async fn mark(email: &str, attribute: &str) {
    let (pk, sk) = stack().profile_key(email);
    stack()
        .dynamodb()
        .update_item()
        .table_name(&stack().table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk))
        .update_expression("SET #a = :at")
        .expression_attribute_names("#a", attribute)
        .expression_attribute_values(
            ":at",
            aws_sdk_dynamodb::types::AttributeValue::S("2026-11-29T00:00:00Z".into()),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_objecting_restricted_or_unsubscribed_people_then_the_campaign_skips_them_at_sending_time() {
    // The privacy center records objection and restriction on the profile; the dispatcher reads
    // them when it sends, so a campaign queued before the change still respects it.
    let objecting = confirmed_subscriber(&["identity"]).await;
    let restricted = confirmed_subscriber(&["identity"]).await;
    let control = confirmed_subscriber(&["identity"]).await;
    let id = format!("skip-{}", uuid::Uuid::new_v4().simple());
    mark(&objecting, "objected").await;
    mark(&restricted, "restricted").await;
    campaign(&id, "identity");
    wait_for_mail(&control, &id).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(mail_to(&objecting, &id).await.is_empty());
    assert!(mail_to(&restricted, &id).await.is_empty());

    let mailbox = stack().url(&format!("/_local/mailbox?to={control}"));
    let page = http().get(&mailbox).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("News {id}")), "the dev mailbox lists the message");
    assert!(
        page.contains(&format!(r#"<a href="{}/unsubscribe?token="#, stack().api)),
        "with clickable links"
    );
    // Fifty a page: the next page of one address's few messages is empty, and leads back.
    let next = http().get(format!("{mailbox}&page=2")).send().await.unwrap().text().await.unwrap();
    assert!(next.contains("No mail yet") && !next.contains(&format!("News {id}")), "{next}");
    assert!(next.contains(">Newer</a>") && !next.contains(">Older</a>"), "{next}");
}
