//! Steward speaks the visitor's language: pages, problems and mail in English or German, chosen
//! from the browser's `Accept-Language` or the switch on every page (remembered in a cookie), and
//! a German form on the reference site stays German through its answer, its thank-you page and its
//! mail.

use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{http, link, stack, unique_email, unique_ip, wait_for_mail};

const GERMAN: &str = "de-DE,de;q=0.9,en;q=0.5";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_german_browser_then_steward_s_pages_speak_german_and_the_switch_remembers_english() {
    let page = |accept: Option<&str>, query: &str, cookie: Option<&str>| {
        let mut request = http().get(stack().url(&format!("/unsubscribe?token=not.a.token{query}")));
        if let Some(accept) = accept {
            request = request.header("accept-language", accept);
        }
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let german = page(Some(GERMAN), "", None).await.unwrap();
    assert_eq!(german.headers()["content-language"], "de");
    let body = german.text().await.unwrap();
    assert!(body.contains(r#"<html lang="de">"#), "{body}");
    assert!(body.contains("Dieser Link ist beschädigt"), "the problem in German: {body}");
    assert!(body.contains("Datenschutzerklärung"), "the footer in German");
    // The switch leads to the same page in English, keeping what the page needs (its token).
    assert!(
        body.contains(
            r#"href="/unsubscribe?token=not.a.token&amp;lang=en" hreflang="en" lang="en">English</a>"#
        ),
        "{body}"
    );

    let switched = page(Some(GERMAN), "&lang=en", None).await.unwrap();
    let cookie = switched.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("steward_lang=en;") && cookie.contains("HttpOnly"), "{cookie}");
    let body = switched.text().await.unwrap();
    assert!(body.contains(r#"<html lang="en">"#) && body.contains("This link is damaged"));

    // The choice outlasts the page: the next one speaks English though the browser prefers German.
    let remembered = page(Some(GERMAN), "", Some("steward_lang=en")).await.unwrap();
    assert_eq!(remembered.headers()["content-language"], "en");
    assert!(remembered.headers().get("set-cookie").is_none(), "nothing new to remember");
    // A language Steward does not speak, or none at all, is English.
    let french = page(Some("fr-FR,fr;q=0.9"), "", None).await.unwrap();
    assert_eq!(french.headers()["content-language"], "en");
    let tampered = page(None, "&lang=%22%3E%3Cscript%3E", None).await.unwrap();
    assert_eq!(tampered.headers()["content-language"], "en");
    assert!(tampered.headers().get("set-cookie").is_none(), "only a language Steward speaks is remembered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_german_browser_then_a_refused_form_names_each_field_by_its_german_label() {
    let response = http()
        .post(stack().url("/forms/newsletter"))
        .header("accept-language", GERMAN)
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"email": "not an address", "interests": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["title"], "Einige Felder müssen korrigiert werden");
    assert_eq!(problem["code"], "validation_failed", "codes stay the same in every language");
    let email = problem["errors"].as_array().unwrap().iter().find(|e| e["field"] == "email").unwrap();
    assert_eq!(email["message"], "muss eine E-Mail-Adresse wie name@example.com sein");
    assert_eq!(email["label"], "E-Mail", "each error names its field by the label the visitor reads");

    // Without script, the form comes back in German, each problem beside its German label.
    let page = http()
        .post(stack().url("/forms/newsletter?lang=de"))
        .header("x-local-source-ip", unique_ip())
        .form(&[("email", "not an address")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"<html lang="de">"#));
    assert!(page.contains("E-Mail muss eine E-Mail-Adresse wie name@example.com sein"), "{page}");
    assert!(page.contains("Themen ist erforderlich"), "{page}");
    assert!(page.contains("Newsletter abonnieren"), "the form's title from the German catalogue");
    assert!(page.contains("Veranstaltungen und Workshops"), "topics in German");
    assert!(page.contains("Erneut senden"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_german_form_post_then_its_thank_you_page_and_its_mail_are_german() {
    let email = unique_email("deutsch");
    // The reference site's German newsletter form, posted without script.
    let response = http()
        .post(stack().url("/forms/newsletter?lang=de"))
        .header("x-local-source-ip", unique_ip())
        .form(&[("email", email.as_str()), ("interests", "events")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.ends_with("/de/thanks/newsletter"), "the German thank-you page: {location}");

    let mail = wait_for_mail(&email, "Abonnement").await;
    let parsed = mail_parser::MessageParser::default().parse(mail.raw.as_bytes()).unwrap();
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains(r#"<html lang="de">"#), "the HTML part is German: {html}");
    assert!(html.contains("Veranstaltungen und Workshops"), "the topic in German");
    assert!(mail.text.contains("Guten Tag"), "{}", mail.text);
    // Its link leads to a German page, opened by a browser that asks for English: the mail's
    // language is the person's.
    let confirm = link(&mail.text, "/subscriptions/confirm");
    assert!(confirm.ends_with("&lang=de"), "{confirm}");
    let page = http()
        .get(&confirm)
        .header("accept-language", "en-GB,en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Mein Abonnement bestätigen"), "{page}");
    assert!(page.contains("Veranstaltungen und Workshops"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_cookie_from_an_earlier_visit_then_the_language_of_the_page_sent_from_still_wins() {
    // The English site's forms name their language; a German visit's cookie does not override it.
    let response = http()
        .post(stack().url("/forms/newsletter?lang=en"))
        .header("cookie", "steward_lang=de")
        .header("accept-language", GERMAN)
        .header("x-local-source-ip", unique_ip())
        .json(&json!({"email": "not an address", "interests": ["events"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-language"], "en");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["title"], "Some fields need correcting");
}
