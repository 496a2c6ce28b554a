//! `POST /forms/{form}` through the real local stack, read back from DynamoDB with the AWS SDK.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{http, map, s, stack, unique_email, unique_ip, Item};

const FORMS: [&str; 7] = [
    "registration",
    "event-registration",
    "product-download",
    "contact-us",
    "careers",
    "newsletter",
    "survey",
];

/// A complete, valid submission for each form of the catalogue.
fn valid_fields(form: &str, email: &str) -> Vec<(&'static str, String)> {
    let mut fields = vec![("email", email.to_owned())];
    let mut add =
        |pairs: &[(&'static str, &str)]| fields.extend(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())));
    match form {
        "registration" => {
            add(&[("name", "Zoë Ñúñez"), ("company", "Acme"), ("country", "GB"), ("interests", "cloud")])
        }
        "event-registration" => add(&[
            ("name", "Zoë Ñúñez"),
            ("phone", "+1 415 555 2671"),
            ("job_title", "CTO"),
            ("company", "Acme"),
            ("country", "US"),
            ("state", "CA"),
            ("event", "wso2con-2027"),
        ]),
        "product-download" => {
            add(&[("name", "Zoë Ñúñez"), ("company", "Acme"), ("country", "LK"), ("product", "api-manager")])
        }
        "contact-us" => add(&[("name", "Zoë Ñúñez"), ("message", "Please call me.\nThanks!")]),
        "careers" => add(&[
            ("name", "王小明"),
            ("phone", "020 7946 0958"),
            ("country", "GB"),
            ("position", "Rust engineer"),
        ]),
        "newsletter" => add(&[("interests", "identity"), ("interests", "events")]),
        "survey" => add(&[("name", "Zoë"), ("rating", "5"), ("feedback", "Great")]),
        other => panic!("no sample for {other}"),
    }
    fields
}

fn urlencoded(fields: &[(&str, String)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect::<Vec<_>>().join("&")
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn as_json(fields: &[(&str, String)]) -> Value {
    let mut object = serde_json::Map::new();
    for (k, v) in fields {
        match object.get_mut(*k) {
            Some(Value::Array(list)) => list.push(json!(v)),
            Some(existing) => *existing = json!([existing.clone(), v]),
            None => {
                object.insert((*k).to_owned(), json!(v));
            }
        }
    }
    Value::Object(object)
}

fn multipart(fields: &[(&str, String)]) -> reqwest::multipart::Form {
    fields.iter().fold(reqwest::multipart::Form::new(), |form, (k, v)| form.text(k.to_string(), v.clone()))
}

async fn post_json(form: &str, body: &Value, ip: &str) -> reqwest::Response {
    http()
        .post(stack().url(&format!("/forms/{form}")))
        .header("x-local-source-ip", ip)
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn profile_and_submissions(email: &str) -> (Item, Vec<Item>) {
    let profile = stack().profile(email).await.expect("a profile was stored");
    let submissions = stack().submissions(s(&profile, "profile_id")).await;
    (profile, submissions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_every_form_when_submitted_in_each_content_type_then_each_is_stored_with_its_evidence() {
    for form in FORMS {
        for encoding in ["urlencoded", "multipart", "json"] {
            // Plain posts without a proof of work: each from its own address (a third of the
            // per-IP limit applies to them).
            let ip = unique_ip();
            let email = unique_email(&format!("{form}-{encoding}"));
            let fields = valid_fields(form, &email);
            let request = http()
                .post(stack().url(&format!("/forms/{form}")))
                .header(ACCEPT, "application/json")
                .header("x-local-source-ip", &ip)
                .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Steward-Test")
                .header("accept-language", "si-LK, en;q=0.8")
                .header("referer", "http://127.0.0.1:3000/contact");
            let request = match encoding {
                "urlencoded" => request
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(urlencoded(&fields)),
                "multipart" => request.multipart(multipart(&fields)),
                _ => request.json(&as_json(&fields)),
            };
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), StatusCode::CREATED, "{form} as {encoding}");
            let receipt: Value = response.json().await.expect("JSON receipt");

            let (profile, submissions) = profile_and_submissions(&email).await;
            assert!(receipt.get("profile_id").is_none(), "no profile id in a public answer: {receipt}");
            assert_eq!(s(&profile, "email"), email);
            assert_eq!(submissions.len(), 1, "{form} as {encoding}");
            let submission = &submissions[0];
            assert_eq!(s(submission, "submission_id"), receipt["submission_id"]);
            assert_eq!(s(submission, "form"), form);
            let stored = map(submission, "fields");
            for (name, value) in
                fields.iter().filter(|(name, _)| !matches!(*name, "phone" | "state" | "interests"))
            {
                assert_eq!(s(stored, name), value, "{form} as {encoding}: field {name}");
            }
            let browser = map(submission, "browser");
            assert_eq!(s(browser, "source_ip"), ip);
            assert_eq!(s(browser, "user_agent"), "Mozilla/5.0 (X11; Linux x86_64) Steward-Test");
            assert_eq!(s(browser, "accept_language"), "si-LK, en;q=0.8");
            assert_eq!(s(browser, "referer"), "http://127.0.0.1:3000/contact");
            assert!(!s(browser, "received_at").is_empty());
            let consent = map(submission, "consent");
            assert_eq!(s(consent, "policy_version"), "2018-03-23");
            assert_eq!(s(consent, "form"), form);
            assert!(!consent["purposes"].as_l().unwrap().is_empty(), "purposes with their lawful basis");
            let expires: i64 = submission["expires_at"].as_n().unwrap().parse().unwrap();
            assert!(expires > 1_700_000_000, "a TTL from the form's retention period");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_national_phone_and_a_short_state_when_stored_then_they_are_e164_and_iso_3166_2() {
    let email = unique_email("normalised");
    let response =
        post_json("event-registration", &as_json(&valid_fields("event-registration", &email)), &unique_ip())
            .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (profile, submissions) = profile_and_submissions(&email).await;
    assert_eq!(s(&profile, "phone"), "+14155552671");
    assert_eq!(s(&profile, "state"), "US-CA");
    assert_eq!(s(&profile, "full_name"), "Zoë Ñúñez", "Unicode kept exactly as typed");
    assert_eq!(s(map(&submissions[0], "fields"), "phone"), "+14155552671");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_plain_html_form_when_posted_then_the_browser_is_sent_to_the_thank_you_page() {
    let email = unique_email("html");
    let response = http()
        .post(stack().url("/forms/contact-us"))
        .header(ACCEPT, "text/html,application/xhtml+xml")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-local-source-ip", unique_ip())
        .body(urlencoded(&valid_fields("contact-us", &email)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], format!("{}/thanks/contact", stack().site));
    assert!(response.headers().get("set-cookie").is_none());
    assert!(stack().profile(&email).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_invalid_fields_from_a_plain_form_then_a_readable_page_names_each_field() {
    let response = http()
        .post(stack().url("/forms/event-registration"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("referer", "http://127.0.0.1:3000/events/signup")
        .body("email=not-an-email&phone=12&country=ZZ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let page = response.text().await.unwrap();
    // The form again, each problem beside its field and named by its label, what was typed kept.
    for (field, label) in [
        ("name", "Name"),
        ("email", "Email"),
        ("phone", "Phone"),
        ("job_title", "Job title"),
        ("company", "Company"),
        ("country", "Country"),
        ("event", "Event"),
    ] {
        assert!(page.contains(&format!(r#"id="f-{field}-error">{label} "#)), "page names {label}: {page}");
    }
    assert!(page.contains(r#"name="email" type="email" value="not-an-email""#), "{page}");
    assert!(
        page.contains(&format!(r#"action="{}/forms/event-registration?lang=en""#, stack().api)),
        "{page}"
    );
    assert!(page.contains(r#"href="http://127.0.0.1:3000/events/signup""#), "a way back to the form");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_invalid_fields_from_a_json_client_then_a_problem_lists_every_field_with_a_stable_code() {
    let body = json!({
        "name": "A\u{0007}",
        "email": "x@@example.com",
        "phone": "+1 555",
        "job_title": "t".repeat(129),
        "company": ["a", "b"],
        "country": "US",
        "state": "ZZ",
        "event": {"nested": true},
        "interests": ["not-a-topic"],
    });
    let response = post_json("event-registration", &body, &unique_ip()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "validation_failed");
    assert_eq!(problem["status"], 422);
    let errors: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("name", "control_characters"),
        ("email", "invalid_email"),
        ("phone", "invalid_phone"),
        ("job_title", "too_long"),
        ("company", "multiple_values"),
        ("state", "invalid_state"),
        ("event", "invalid_type"),
        ("interests", "unknown_topic"),
    ];
    for (field, code) in expected {
        assert!(errors.contains(&(field.to_owned(), code.to_owned())), "{field}/{code} in {errors:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_unknown_form_then_404_as_a_problem() {
    let response = post_json("no-such-form", &json!({"email": unique_email("x")}), &unique_ip()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_unknown_fields_then_they_are_ignored_and_never_stored() {
    let email = unique_email("unknown-fields");
    let mut fields = valid_fields("contact-us", &email);
    fields.push(("password", "hunter2".to_owned()));
    fields.push(("credit_card", "4242424242424242".to_owned()));
    let response = post_json("contact-us", &as_json(&fields), &unique_ip()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (profile, submissions) = profile_and_submissions(&email).await;
    let text = format!("{profile:?}{submissions:?}");
    assert!(!text.contains("hunter2") && !text.contains("4242424242424242"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_one_person_with_differently_cased_emails_then_one_profile_holds_every_submission() {
    let email = unique_email("Case.Test");
    let ip = unique_ip();
    for variant in [email.clone(), email.to_uppercase(), email.to_lowercase()] {
        let response = post_json("contact-us", &as_json(&valid_fields("contact-us", &variant)), &ip).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let (profile, submissions) = profile_and_submissions(&email).await;
    assert_eq!(submissions.len(), 3);
    assert_eq!(
        s(&profile, "email"),
        email,
        "the profile keeps the address first typed: a form never rewrites it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_concurrent_submissions_for_one_email_then_one_profile_and_all_submissions() {
    let email = unique_email("concurrent");
    let requests = (0..8).map(|i| {
        let mut fields = valid_fields("contact-us", &email);
        fields.retain(|(k, _)| *k != "message");
        fields.push(("message", format!("message {i}")));
        async move { post_json("contact-us", &as_json(&fields), &unique_ip()).await }
    });
    let responses = all_at_once(requests).await;
    for response in responses {
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    // One profile holds all eight: they are all in its partition.
    let (_, submissions) = profile_and_submissions(&email).await;
    assert_eq!(submissions.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_filled_honeypot_then_the_answer_looks_normal_and_nothing_is_stored() {
    let email = unique_email("bot");
    let mut fields = valid_fields("contact-us", &email);
    fields.push(("website", "http://spam.example".to_owned()));
    let response = post_json("contact-us", &as_json(&fields), &unique_ip()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt: Value = response.json().await.unwrap();
    assert!(receipt["submission_id"].is_string());
    assert!(stack().profile(&email).await.is_none());
    let html = http()
        .post(stack().url("/forms/contact-us"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(urlencoded(&fields))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), StatusCode::SEE_OTHER);
    assert!(stack().profile(&email).await.is_none());
}

/// Limits count per fixed window, aligned to the epoch: a test that straddles a window's end would
/// see its count start again. Waits for a fresh window when less than a minute of this one is left.
async fn within_one_rate_window() {
    let window: u64 = stack().settings["RateLimitWindowSeconds"].parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let left = window - now % window;
    if left < 60 {
        tokio::time::sleep(std::time::Duration::from_secs(left + 1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_too_many_submissions_from_one_ip_then_429_with_retry_after() {
    within_one_rate_window().await;
    let ip = unique_ip();
    let limit: usize = stack().settings["RateLimitPerIp"].parse().unwrap();
    // A browser running the site's script: each form with its own solved challenge.
    for i in 0..limit {
        let (_, proof) = proof_of_work(&ip).await;
        let mut body = as_json(&valid_fields("contact-us", &unique_email("ip")));
        body["altcha"] = proof.into();
        let response = post_json("contact-us", &body, &ip).await;
        assert_eq!(response.status(), StatusCode::CREATED, "submission {i} is within the limit");
    }
    let email = unique_email("ip-over");
    let (_, proof) = proof_of_work(&ip).await;
    let mut body = as_json(&valid_fields("contact-us", &email));
    body["altcha"] = proof.into();
    let response = post_json("contact-us", &body, &ip).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry_after));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited");
    assert!(stack().profile(&email).await.is_none(), "a refused submission stores nothing");
    let other_ip = post_json("contact-us", &as_json(&valid_fields("contact-us", &email)), &unique_ip()).await;
    assert_eq!(other_ip.status(), StatusCode::CREATED, "other addresses are unaffected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_forms_without_a_proof_of_work_from_one_ip_then_a_third_of_the_limit_goes_through() {
    within_one_rate_window().await;
    let ip = unique_ip();
    let limit: usize = stack().settings["RateLimitPerIp"].parse().unwrap();
    for i in 0..limit / 3 {
        let response =
            post_json("contact-us", &as_json(&valid_fields("contact-us", &unique_email("plain"))), &ip).await;
        assert_eq!(response.status(), StatusCode::CREATED, "plain form {i} goes through");
    }
    let response =
        post_json("contact-us", &as_json(&valid_fields("contact-us", &unique_email("plain"))), &ip).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let (_, proof) = proof_of_work(&ip).await;
    let mut body = as_json(&valid_fields("contact-us", &unique_email("proven")));
    body["altcha"] = proof.into();
    assert_eq!(
        post_json("contact-us", &body, &ip).await.status(),
        StatusCode::CREATED,
        "with a proof, the full limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_too_many_submissions_for_one_email_then_429_even_from_many_ips() {
    within_one_rate_window().await;
    let email = unique_email("email-limit");
    let limit: usize = stack().settings["RateLimitPerEmail"].parse().unwrap();
    for _ in 0..limit {
        let response =
            post_json("contact-us", &as_json(&valid_fields("contact-us", &email)), &unique_ip()).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let response = post_json("contact-us", &as_json(&valid_fields("contact-us", &email)), &unique_ip()).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let (_, submissions) = profile_and_submissions(&email).await;
    assert_eq!(submissions.len(), limit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_retry_with_the_same_idempotency_key_then_one_submission_and_the_first_answer() {
    let email = unique_email("idempotent");
    let body = as_json(&valid_fields("contact-us", &email));
    let key = uuid::Uuid::new_v4().to_string();
    let send = || {
        http()
            .post(stack().url("/forms/contact-us"))
            .header("idempotency-key", &key)
            .header("x-local-source-ip", unique_ip())
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let (a, b) = tokio::join!(send(), send());
    for replay in [a.unwrap(), b.unwrap()] {
        assert_eq!(replay.status(), StatusCode::CREATED);
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        assert_eq!(replay.json::<Value>().await.unwrap(), first);
    }
    let (_, submissions) = profile_and_submissions(&email).await;
    assert_eq!(submissions.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_double_clicked_plain_form_with_a_submission_id_then_one_submission() {
    let email = unique_email("double-click");
    let mut fields = valid_fields("contact-us", &email);
    fields.push(("_submission_id", uuid::Uuid::new_v4().to_string()));
    let send = || {
        http()
            .post(stack().url("/forms/contact-us"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-local-source-ip", unique_ip())
            .body(urlencoded(&fields))
            .send()
    };
    let (a, b) = tokio::join!(send(), send());
    assert_eq!(a.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(b.unwrap().status(), StatusCode::SEE_OTHER);
    let (_, submissions) = profile_and_submissions(&email).await;
    assert_eq!(submissions.len(), 1);
    assert!(!map(&submissions[0], "fields").contains_key("_submission_id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_malformed_idempotency_key_then_422_naming_it() {
    let response = http()
        .post(stack().url("/forms/contact-us"))
        .header("idempotency-key", "x".repeat(300))
        .json(&as_json(&valid_fields("contact-us", &unique_email("key"))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_marketing_interests_then_consent_is_per_topic_and_only_what_was_ticked() {
    let email = unique_email("topics");
    let response = post_json("newsletter", &as_json(&valid_fields("newsletter", &email)), &unique_ip()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (profile, submissions) = profile_and_submissions(&email).await;
    let mut topics = profile["pending_topics"].as_ss().unwrap().clone();
    topics.sort();
    assert_eq!(topics, ["events", "identity"], "ticked topics wait for confirmation (double opt-in)");
    assert!(!profile.contains_key("marketing_topics"), "nothing is confirmed by a form alone");
    let consent = map(&submissions[0], "consent");
    assert_eq!(consent["marketing_topics"].as_l().unwrap().len(), 2);

    let contact = unique_email("no-topics");
    post_json("contact-us", &as_json(&valid_fields("contact-us", &contact)), &unique_ip()).await;
    let profile = stack().profile(&contact).await.unwrap();
    assert!(
        !profile.contains_key("marketing_topics") && !profile.contains_key("pending_topics"),
        "no opt-in is ever assumed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_stored_profile_when_a_later_submission_is_invalid_then_nothing_stored_changes() {
    let email = unique_email("keep");
    post_json("registration", &as_json(&valid_fields("registration", &email)), &unique_ip()).await;
    let before = stack().profile(&email).await.unwrap();
    let bad = json!({"email": email, "name": "", "country": "XX"});
    let response = post_json("registration", &bad, &unique_ip()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stack().profile(&email).await.unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_allowed_and_foreign_origins_then_cors_answers_only_ours() {
    let preflight = |origin: &'static str| {
        http()
            .request(reqwest::Method::OPTIONS, stack().url("/forms/contact-us"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type, idempotency-key")
            .send()
    };
    let ok = preflight("http://127.0.0.1:3000").await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(ok.headers()["access-control-allow-origin"], "http://127.0.0.1:3000");
    assert!(ok.headers()["access-control-allow-headers"].to_str().unwrap().contains("Idempotency-Key"));
    let foreign = preflight("https://evil.example").await.unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(foreign.headers().get("access-control-allow-origin").is_none());

    let email = unique_email("cors");
    let post = |origin: &'static str| {
        http()
            .post(stack().url("/forms/contact-us"))
            .header("origin", origin)
            .header("x-local-source-ip", unique_ip())
            .json(&as_json(&valid_fields("contact-us", &email)))
            .send()
    };
    let ours = post("http://localhost:3000").await.unwrap();
    assert_eq!(ours.status(), StatusCode::CREATED);
    assert_eq!(ours.headers()["access-control-allow-origin"], "http://localhost:3000");
    let theirs = post("https://evil.example").await.unwrap();
    assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
    let (_, submissions) = profile_and_submissions(&email).await;
    assert_eq!(submissions.len(), 1, "a foreign origin stores nothing");
}

async fn raw_post(content_type: Option<&str>, body: Vec<u8>) -> (StatusCode, Value) {
    let mut request = http()
        .post(stack().url("/forms/contact-us"))
        .header(ACCEPT, "application/json")
        .header("x-local-source-ip", unique_ip())
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_bodies_that_cannot_be_read_then_clear_4xx_problems_and_never_a_5xx() {
    let cases: Vec<(Option<&str>, Vec<u8>, u16, &str)> = vec![
        (Some("application/json"), b"{\"email\": ".to_vec(), 400, "malformed_json"),
        (Some("application/json"), b"[\"email\"]".to_vec(), 400, "malformed_json"),
        (Some("application/json"), b"{\"name\":\"\xff\xfe\"}".to_vec(), 400, "invalid_utf8"),
        (
            Some("application/x-www-form-urlencoded"),
            b"name=%C3%28&email=a%40example.com".to_vec(),
            400,
            "invalid_utf8",
        ),
        (Some("application/x-www-form-urlencoded"), b"name=\xff".to_vec(), 400, "invalid_utf8"),
        (
            Some("multipart/form-data; boundary=B"),
            b"--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\xc3\x28\r\n--B--\r\n".to_vec(),
            400,
            "invalid_utf8",
        ),
        (
            Some("multipart/form-data; boundary=B"),
            b"this is not multipart".to_vec(),
            400,
            "malformed_multipart",
        ),
        (Some("multipart/form-data"), b"--B--".to_vec(), 400, "malformed_multipart"),
        (Some("text/plain"), b"email=a@example.com".to_vec(), 415, "unsupported_media_type"),
        (Some("application/xml"), b"<email/>".to_vec(), 415, "unsupported_media_type"),
        (
            Some("application/x-www-form-urlencoded; charset=iso-8859-1"),
            b"name=a".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (None, b"email=a@example.com".to_vec(), 415, "unsupported_media_type"),
        (Some("application/json"), Vec::new(), 400, "empty_body"),
        (
            Some("application/json"),
            format!("{{\"message\":\"{}\"}}", "a".repeat(70_000)).into_bytes(),
            413,
            "body_too_large",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let (actual, problem) = raw_post(content_type, body).await;
        assert_eq!((actual.as_u16(), problem["code"].as_str().unwrap()), (status, code), "{content_type:?}");
        assert!(problem["detail"].is_string());
    }
}

/// Starts every request at once and collects the answers in order.
async fn all_at_once<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("request task"));
    }
    outputs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_anonymous_form_in_someones_name_then_nothing_they_hold_is_rewritten_and_the_answer_names_no_profile(
) {
    let email = unique_email("victim");
    let victim = json!({"name": "Ana Silva", "email": email, "country": "PT", "message": "Hello"});
    assert_eq!(post_json("contact-us", &victim, &unique_ip()).await.status(), StatusCode::CREATED);
    let before = stack().profile(&email).await.expect("the victim's profile");

    let attack = json!({"name": "Mallory", "email": email.to_uppercase(), "phone": "+44 20 7946 0000",
        "country": "US", "state": "US-CA", "position": "Engineer", "company": "Evil Corp"});
    let response = post_json("careers", &attack, &unique_ip()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let answer: Value = response.json().await.unwrap();
    assert!(answer.get("profile_id").is_none(), "the answer names no profile: {answer}");

    let after = stack().profile(&email).await.unwrap();
    for field in ["full_name", "country", "email"] {
        assert_eq!(s(&after, field), s(&before, field), "{field} is the victim's, not the attacker's");
    }
    let provenance = map(&after, "provenance");
    assert_eq!(s(map(provenance, "phone"), "source"), "form", "a value filled in says where it came from");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_global_privacy_control_then_it_is_recorded_honoured_and_announced() {
    let email = unique_email("gpc");
    let response = http()
        .post(stack().url("/forms/product-download"))
        .header("x-local-source-ip", unique_ip())
        .header("sec-gpc", "1")
        .json(&as_json(&valid_fields("product-download", &email)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, submissions) = profile_and_submissions(&email).await;
    let consent = map(&submissions[0], "consent");
    assert_eq!(consent["global_privacy_control"].as_bool().unwrap(), &true);
    let opted_out: Vec<&str> =
        consent["opted_out"].as_l().unwrap().iter().map(|v| v.as_s().unwrap().as_str()).collect();
    assert_eq!(opted_out, ["product-analytics"]);
    assert_eq!(s(consent, "notice_sha256").len(), 64, "the exact notice shown, by its digest");

    let announced = http().get(stack().url("/.well-known/gpc.json")).send().await.unwrap();
    assert_eq!(announced.status(), StatusCode::OK);
    let body: Value = announced.json().await.unwrap();
    assert_eq!(body["gpc"], true, "{body}");
    assert!(body["lastUpdate"].as_str().is_some_and(|d| d.len() == 10), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_addresses_that_unicode_would_fold_together_then_they_are_refused_or_keyed_by_one_rule() {
    // The Kelvin sign lower-cases to `k`: it would have made two mailboxes one person.
    let kelvin = json!({"email": "\u{212A}im@example.com", "interests": ["cloud"]});
    let response = post_json("newsletter", &kelvin, &unique_ip()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "email", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "unsupported_email", "{problem}");

    // An internationalised domain, typed either way, is one person, held in its ASCII form.
    let local = format!("idn-{}", uuid::Uuid::new_v4().simple());
    for typed in [format!("{local}@B\u{FC}cher.example"), format!("{local}@xn--bcher-kva.example")] {
        let body = json!({"email": typed, "interests": ["cloud"]});
        assert_eq!(post_json("newsletter", &body, &unique_ip()).await.status(), StatusCode::CREATED);
    }
    let ascii = format!("{local}@xn--bcher-kva.example");
    let (profile, submissions) = profile_and_submissions(&ascii).await;
    assert_eq!(s(&profile, "email"), ascii);
    assert_eq!(submissions.len(), 2, "one person");
}

/// Asks for a challenge from `ip` and solves it, as the site's script does.
async fn proof_of_work(ip: &str) -> (steward_core::domain::forms::proof::Challenge, String) {
    let response =
        http().get(stack().url("/challenge")).header("x-local-source-ip", ip).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let challenge: steward_core::domain::forms::proof::Challenge = response.json().await.unwrap();
    let solution = steward_core::domain::forms::proof::solve(&challenge).expect("solvable");
    (challenge, solution)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_solved_challenge_then_the_form_goes_once_and_a_replay_or_forgery_is_refused_naming_the_field(
) {
    let ip = unique_ip();
    let (_, solution) = proof_of_work(&ip).await;
    let send = |who: &str, proof: &str| {
        http()
            .post(stack().url("/forms/contact-us"))
            .header("x-local-source-ip", &ip)
            .json(&json!({"name": "Pat Proof", "email": unique_email(who), "message": "Hi", "altcha": proof}))
            .send()
    };
    assert_eq!(send("proof", &solution).await.unwrap().status(), StatusCode::CREATED);
    let replayed = send("replay", &solution).await.unwrap();
    assert_eq!(replayed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = replayed.json().await.unwrap();
    assert_eq!(
        (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
        (Some("altcha"), Some("proof_used"))
    );
    let forged = send("forged", "bm90IGEgcHJvb2Y=").await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A flood of challenges from one address makes its next ones harder.
    for _ in 0..30 {
        http().get(stack().url("/challenge")).header("x-local-source-ip", &ip).send().await.unwrap();
    }
    let hard: Value = http()
        .get(stack().url("/challenge"))
        .header("x-local-source-ip", &ip)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(hard["maxnumber"].as_u64().unwrap() >= steward_core::domain::forms::proof::EASIEST * 8, "{hard}");
}
