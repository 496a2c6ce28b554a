//! The privacy center through the local stack (issue 6): sign-in by email link, access, export,
//! correction, restriction, objection, withdrawal, erasure and retention.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use steward_core::domain::destinations::{DeadLetter, Delivery, DeliveryStore, Shared};

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{
    confirm_with_card, eventually, eventually_within, http, link, mail_to, post_to_bucket, s, stack,
    submit_json as submit, unique_email, wait_for_mail, Item,
};
use steward_core::adapters::dynamodb::{keys, DynamoStore};
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::mail::outbox::{Enqueued, MarketingConsent, OutboxMessage, OutboxStore};
use steward_core::domain::ports::StoreError;
use steward_core::domain::privacy::erasure::{
    erase, ErasurePlan, ErasureReason, ErasureReport, ErasureStore, ItemKey,
};

async fn sign_in_links(email: &str) -> Vec<String> {
    mail_to(email, "privacy center link")
        .await
        .iter()
        .map(|m| link(&m.text, "/privacy/session?token="))
        .collect()
}

async fn ask_for_link(email: &str) -> (StatusCode, Value) {
    let response = steward_blackbox::ask_for_privacy_link(email).await;
    (response.status(), response.json().await.unwrap())
}

async fn known_person() -> String {
    let email = unique_email("person");
    submit("contact-us", json!({"name": "Zoë Ñúñez", "email": email, "country": "DE", "message": "Hello"}))
        .await;
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

/// Signs in as a person does: ask for a link, open the mail, press the button.
async fn session_for(email: &str) -> String {
    let before = sign_in_links(email).await.len();
    ask_for_link(email).await;
    eventually("the link arrived", || async { sign_in_links(email).await.len() > before }).await;
    // The mailbox lists newest first.
    let link = sign_in_links(email).await.remove(0);
    let session: Value = exchange(&link).await.json().await.unwrap();
    session["session_token"].as_str().unwrap().to_owned()
}

async fn me(session: &str) -> Value {
    let response = http().get(stack().url("/me")).bearer_auth(session).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_known_and_unknown_addresses_then_the_answers_are_identical_and_only_the_known_one_gets_mail() {
    let known = known_person().await;
    let unknown = unique_email("stranger");
    let (known_status, known_body) = ask_for_link(&known).await;
    let (unknown_status, unknown_body) = ask_for_link(&unknown).await;
    assert_eq!(known_status, StatusCode::ACCEPTED);
    assert_eq!((known_status, &known_body), (unknown_status, &unknown_body), "no account enumeration");
    eventually("the known address got its link", || async { !sign_in_links(&known).await.is_empty() }).await;
    assert!(sign_in_links(&unknown).await.is_empty());

    let (status, problem) = ask_for_link("not-an-email").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "email");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_sign_in_link_then_opening_it_uses_nothing_and_it_works_exactly_once() {
    let email = known_person().await;
    ask_for_link(&email).await;
    eventually("the link arrived", || async { !sign_in_links(&email).await.is_empty() }).await;
    let link = sign_in_links(&email).await.remove(0);

    let page = http().get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "a scanner's GET");
    let (local, domain) = email.split_once('@').unwrap();
    let masked = format!("{}•••@{domain}", &local[..1]);
    assert!(page.text().await.unwrap().contains(&masked), "the page says whose center it opens");
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
async fn given_an_expired_or_wrong_purpose_token_then_403_or_401() {
    let keys = stack().token_keys();
    use steward_core::token::Purpose;
    let someone = ProfileId::new_random();
    let expired = keys.sign(Purpose::SignIn, "nonce", &someone, Some(now() - 1));
    let response = exchange(&format!("x?token={expired}")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let wrong_purpose = keys.sign(Purpose::Unsubscribe, "all", &someone, None);
    assert_eq!(exchange(&format!("x?token={wrong_purpose}")).await.status(), StatusCode::FORBIDDEN);
    let expired_session = keys.sign(Purpose::Session, "session", &someone, Some(now() - 1));
    let response = http().get(stack().url("/me")).bearer_auth(expired_session).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let link_as_session = keys.sign(Purpose::SignIn, "nonce", &someone, Some(now() + 60));
    let response = http().get(stack().url("/me")).bearer_auth(link_as_session).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "a sign-in link is not a session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_session_then_me_shows_everything_held_with_retention_controller_and_recipients() {
    let email = known_person().await;
    let token = session_for(&email).await;
    let me = me(&token).await;
    assert_eq!(me["profile"]["email"], email);
    assert_eq!(me["profile"]["full_name"], "Zoë Ñúñez");
    assert_eq!(me["data_controller"], "WSO2 UK Limited", "a resident of Germany");
    assert!(me["recipients"].as_array().unwrap().len() >= 3);
    assert_eq!(me["data_protection_officer"], "dpo@wso2.com");
    assert!(me["supervisory_authority"].as_str().unwrap().contains("ico.org.uk"));
    let submission = &me["submissions"][0];
    assert_eq!(submission["form"], "contact-us");
    assert!(submission["browser"]["source_ip"].is_string(), "browser metadata");
    assert_eq!(submission["consent"]["policy_version"], "2018-03-23", "consent evidence");
    assert!(submission["retained_until"].as_str().unwrap().starts_with("20"), "each item's retention date");
    assert_eq!(me["profile"]["retained_until"], submission["retained_until"], "the profile's too");
    assert!(me["profile"].get("pk").is_none() && me["profile"].get("gsi1pk").is_none(), "no internal keys");

    let anonymous = http().get(stack().url("/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let forged = http().get(stack().url("/me")).bearer_auth(format!("{token}x")).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

/// A person who used every form that keeps data about them, with a name and phone of their own.
struct Person {
    email: String,
    name: String,
    phone_e164: String,
    profile_id: ProfileId,
    application_id: String,
    registration_id: String,
}

async fn everything_person() -> Person {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    // Mixed case before the @, kept as typed; the domain is held (and mailed) in ASCII lower case.
    let email = format!("Erin.{}@example.com", &tag[..12]);
    let name = format!("Erin Erasable {}", &tag[..6]);
    let digits: String = tag.bytes().filter(u8::is_ascii_digit).take(3).map(char::from).collect();
    let digits = format!("{digits:0<3}").replace("958", "957");
    let phone_e164 = format!("+442079460{digits}");
    let person = |extra: Value| {
        let mut body = json!({"name": name, "email": email, "phone": phone_e164, "country": "GB"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    submit("contact-us", person(json!({"message": "Please call me"}))).await;
    let careers = submit("careers", person(json!({"position": "Rust engineer"}))).await;
    let registration = submit(
        "event-registration",
        person(json!({"job_title": "CTO", "company": "Acme", "state": "GB-LND", "event": "wso2con-2027"})),
    )
    .await;
    submit("newsletter", json!({"email": email, "name": name, "interests": ["cloud"]})).await;

    // A CV whose file name carries the person's name.
    let upload = http()
        .post(stack().url("/careers/cv-upload"))
        .json(&json!({
            "token": careers["cv_upload"]["token"],
            "content_type": "application/pdf",
            "file_name": format!("{name} CV.pdf"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::OK);
    let post: Value = upload.json().await.unwrap();
    let pdf = std::fs::read(steward_blackbox::root().join("tests/fixtures/cv/cv.pdf")).unwrap();
    assert_eq!(post_to_bucket(&post, pdf, "application/pdf").await, StatusCode::CREATED);

    // A paid seat.
    let started = steward_blackbox::start_payment(&registration["payment"]["token"]).await;
    confirm_with_card(&started, "4242424242424242").await;

    let person = Person {
        email: email.clone(),
        name: name.clone(),
        phone_e164,
        profile_id: ProfileId::from_stored(careers["profile_id"].as_str().unwrap().to_owned()),
        application_id: careers["submission_id"].as_str().unwrap().to_owned(),
        registration_id: registration["submission_id"].as_str().unwrap().to_owned(),
    };
    let (pk, sk) = keys::submission(&person.profile_id, &person.application_id);
    eventually("the CV was checked", || async {
        stack().item(pk.clone(), sk.clone()).await.is_some_and(|i| i.contains_key("cv"))
    })
    .await;
    let (pk, sk) = keys::payment(&person.profile_id, &person.registration_id);
    eventually("the payment succeeded", || async {
        stack()
            .item(pk.clone(), sk.clone())
            .await
            .is_some_and(|i| i.get("status").and_then(|v| v.as_s().ok()).is_some_and(|s| s == "succeeded"))
    })
    .await;
    person
}

async fn export(session: &str, format: &str) -> reqwest::Response {
    http().get(stack().url(&format!("/me/export?format={format}"))).bearer_auth(session).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_person_then_the_export_round_trips_every_submitted_field_as_json_and_csv_with_cv_links() {
    let person = everything_person().await;
    let session = session_for(&person.email).await;

    let response = export(&session, "json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let json: Value = response.json().await.unwrap();
    let submissions = json["submissions"].as_array().unwrap();
    assert_eq!(submissions.len(), 4);
    let by_form = |form: &str| submissions.iter().find(|s| s["form"] == form).unwrap().clone();
    let submitted: [(&str, &str, &str); 9] = [
        ("contact-us", "message", "Please call me"),
        ("contact-us", "name", &person.name),
        ("contact-us", "phone", &person.phone_e164),
        ("contact-us", "email", &person.email),
        ("careers", "position", "Rust engineer"),
        ("event-registration", "job_title", "CTO"),
        ("event-registration", "company", "Acme"),
        ("event-registration", "state", "GB-LND"),
        ("event-registration", "event", "wso2con-2027"),
    ];
    for (form, field, value) in submitted {
        assert_eq!(by_form(form)["fields"][field], value, "{form}.{field}");
    }
    assert_eq!(by_form("newsletter")["fields"]["interests"], json!(["cloud"]));
    assert!(json["payments"][0]["amount"].as_i64().unwrap() > 0, "the amount paid");
    let cv = &by_form("careers")["cv"];
    let download = http().get(cv["download_url"].as_str().expect("a CV link")).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.bytes().await.unwrap().starts_with(b"%PDF"));

    let response = export(&session, "csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: BTreeMap<(String, String, String), String> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            ((r[0].to_owned(), r[1].to_owned(), r[2].to_owned()), r[3].to_owned())
        })
        .collect();
    for (form, field, value) in submitted {
        let id = by_form(form)["submission_id"].as_str().unwrap().to_owned();
        // As typed, except that a value a spreadsheet would run (a phone's `+44…`) is kept as text.
        assert_eq!(
            rows.get(&("submissions".into(), id, format!("fields.{field}"))).map(String::as_str),
            Some(steward_core::domain::privacy::export::safe_cell(value).as_ref())
        );
    }
    assert_eq!(rows.get(&("profile".into(), String::new(), "full_name".into())), Some(&person.name));

    let problem = export(&session, "xml").await;
    assert_eq!(problem.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = problem.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "format");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_nominated_recipient_then_the_export_goes_to_them_only_after_confirmation_from_the_owner() {
    let email = known_person().await;
    let session = session_for(&email).await;
    let recipient = unique_email("new-provider");
    let response = http()
        .post(stack().url("/me/export"))
        .bearer_auth(&session)
        .json(&json!({"to": recipient, "format": "csv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let confirm = wait_for_mail(&email, "Confirm sending").await;
    assert!(confirm.text.contains(&recipient), "the owner sees where it goes");
    assert!(mail_to(&recipient, "shared with you").await.is_empty(), "nothing before confirmation");

    let confirm_link = link(&confirm.text, "/privacy/export/confirm?token=");
    assert_eq!(http().get(&confirm_link).send().await.unwrap().status(), StatusCode::OK, "a scanner's GET");
    let token = confirm_link.split("token=").nth(1).unwrap();
    let post = || {
        http()
            .post(stack().url("/privacy/export/confirm"))
            .header("accept", "application/json")
            .form(&[("token", token)])
            .send()
    };
    assert_eq!(post().await.unwrap().status(), StatusCode::OK);
    assert_eq!(post().await.unwrap().status(), StatusCode::FORBIDDEN, "single use");

    let ready = wait_for_mail(&recipient, "shared with you").await;
    let download_link = link(&ready.text, "/privacy/export?token=");
    let page = http().get(&download_link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "a scanner's GET");
    assert!(!page.text().await.unwrap().contains(&email), "opening the link downloads nothing");
    let download_token = download_link.split("token=").nth(1).unwrap().to_owned();
    let download = || http().post(stack().url("/privacy/export")).form(&[("token", &download_token)]).send();
    let first = download().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let shared = first.text().await.unwrap();
    assert!(shared.contains(&email));
    assert!(!shared.contains("export_links"), "not whom else the person sent it to");
    assert_eq!(download().await.unwrap().status(), StatusCode::OK, "the recipient may download again");

    // The person sees the live link and to whom it went, and takes it back.
    let links = me(&session).await["export_links"].clone();
    assert_eq!(links[0]["address"], recipient.as_str(), "{links}");
    let revoke = http()
        .post(stack().url("/me/export/revoke"))
        .bearer_auth(&session)
        .json(&json!({"link": links[0]["link_id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    assert_ne!(download().await.unwrap().status(), StatusCode::OK, "a revoked link downloads nothing");
    assert_eq!(me(&session).await["export_links"], json!([]));

    let bad = http()
        .post(stack().url("/me/export"))
        .bearer_auth(&session)
        .json(&json!({"to": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    erase_me(&session).await;
    assert_eq!(download().await.unwrap().status(), StatusCode::FORBIDDEN, "erasure revokes the link");
}

async fn patch(session: &str, body: Value) -> reqwest::Response {
    http().patch(stack().url("/me")).bearer_auth(session).json(&body).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_corrections_then_they_are_validated_like_forms_and_a_new_address_waits_for_its_confirmation() {
    let email = known_person().await;
    let session = session_for(&email).await;

    let bad = patch(&session, json!({"phone": "12", "country": "XX", "is_admin": "yes"})).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.unwrap();
    let mut fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["country", "is_admin", "phone"]);
    assert_eq!(me(&session).await["profile"]["country"], "DE", "nothing changed");

    let good = patch(&session, json!({"name": "Zoë Núñez", "phone": "030 901820", "job_title": ""})).await;
    assert_eq!(good.status(), StatusCode::OK);
    let profile = me(&session).await["profile"].clone();
    assert_eq!(profile["full_name"], "Zoë Núñez");
    assert_eq!(profile["phone"], "+4930901820", "parsed for the person's country");
    assert_eq!(me(&session).await["profile_history"][0]["change"], "corrected full_name, phone, job_title");

    let new_email = unique_email("moved");
    let response = patch(&session, json!({"email": new_email})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["email_confirmation_sent"], true);
    assert_eq!(me(&session).await["profile"]["email"], email, "not before it is confirmed");
    let mail = wait_for_mail(&new_email, "Confirm your new address").await;
    let confirm = link(&mail.text, "/privacy/email/confirm?token=");
    let token = confirm.split("token=").nth(1).unwrap();
    let post = || follow_mailed_link("/privacy/email/confirm", token);
    assert_eq!(post().await.status(), StatusCode::OK);
    assert_eq!(post().await.status(), StatusCode::FORBIDDEN, "single use");
    let ended = http().get(stack().url("/me")).bearer_auth(&session).send().await.unwrap();
    assert_eq!(
        ended.status(),
        StatusCode::UNAUTHORIZED,
        "an address change ends the sessions of the old one"
    );
    let session = session_for(&new_email).await;
    assert_eq!(me(&session).await["profile"]["email"], new_email);
    assert!(stack().profile(&email).await.is_none(), "the old address is no longer a key");

    // The old address is told, and can take the profile back: everyone is signed out.
    let told = wait_for_mail(&email, "was changed").await;
    assert!(
        told.text.contains(&steward_core::domain::fields::masked_address(&new_email).unwrap()),
        "{}",
        told.text
    );
    let undo = link(&told.text, "/privacy/email/undo?token=");
    let page = http().get(&undo).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "opening the link changes nothing");
    assert_eq!(me(&session).await["profile"]["email"], new_email);
    let token = undo.split("token=").nth(1).unwrap();
    let back = follow_mailed_link("/privacy/email/undo", token).await;
    assert_eq!(back.status(), StatusCode::OK);
    let ended = http().get(stack().url("/me")).bearer_auth(&session).send().await.unwrap();
    assert_eq!(ended.status(), StatusCode::UNAUTHORIZED, "whoever changed it is signed out");
    let session = session_for(&email).await;
    assert_eq!(me(&session).await["profile"]["email"], email, "the profile is back on its old address");

    // Another person's address cannot be taken over.
    let other = known_person().await;
    patch(&session, json!({"email": other})).await;
    let mail = wait_for_mail(&other, "Confirm your new address").await;
    let token = link(&mail.text, "/privacy/email/confirm?token=").split("token=").nth(1).unwrap().to_owned();
    let taken = follow_mailed_link("/privacy/email/confirm", &token).await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
}

/// Presses the button of a mailed link's page (a JSON client: the answer's status says it all).
async fn follow_mailed_link(path: &str, token: &str) -> reqwest::Response {
    http()
        .post(stack().url(path))
        .header("accept", "application/json")
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

async fn post_me(session: &str, path: &str, body: Value) -> StatusCode {
    http().post(stack().url(path)).bearer_auth(session).json(&body).send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_restriction_objection_or_withdrawal_then_marketing_stops_and_lifting_restores_it() {
    let email = unique_email("limits");
    submit("newsletter", json!({"email": email, "name": "Zoë", "interests": ["cloud"]})).await;
    let mail = wait_for_mail(&email, "confirm").await;
    let token = link(&mail.text, "/subscriptions/confirm").split("token=").nth(1).unwrap().to_owned();
    http().post(stack().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();
    let session = session_for(&email).await;
    let profile_id =
        ProfileId::from_stored(me(&session).await["profile"]["profile_id"].as_str().unwrap().to_owned());
    let store = local_store();
    assert!(store.may_receive(&profile_id, "cloud").await.unwrap());

    for path in ["/me/restrict", "/me/object"] {
        assert_eq!(post_me(&session, path, json!({})).await, StatusCode::OK);
        assert!(!store.may_receive(&profile_id, "cloud").await.unwrap(), "{path}");
        assert_eq!(post_me(&session, path, json!({"lift": "true"})).await, StatusCode::OK);
        assert!(store.may_receive(&profile_id, "cloud").await.unwrap(), "{path} lifted");
    }

    assert_eq!(
        post_me(&session, "/me/withdraw", json!({"purpose": "account"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a contract is not a consent"
    );
    assert_eq!(post_me(&session, "/me/withdraw", json!({"purpose": "marketing"})).await, StatusCode::OK);
    assert!(!store.may_receive(&profile_id, "cloud").await.unwrap());
    let profile = me(&session).await["profile"].clone();
    assert_eq!(profile["withdrawn_consents"], json!(["marketing"]));
    assert!(profile.get("marketing_topics").is_none());
}

fn local_store() -> DynamoStore {
    DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&stack().aws()),
        stack().table.clone(),
        stack().hash_key(),
        std::sync::Arc::new(steward_core::domain::ports::SystemClock),
    )
}

fn local_cvs() -> CvBucket {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&stack().aws()).force_path_style(true).build(),
    );
    CvBucket::new(s3, stack().resource("CvBucket"))
}

fn text_of(item: &Item) -> String {
    format!("{item:?}").to_lowercase()
}

/// Everything the table and the bucket hold that mentions the person: it must be nothing.
async fn traces_of(person: &Person) -> Vec<String> {
    let needles = [person.email.to_lowercase(), person.name.to_lowercase()];
    // The test phone numbers come from a range of a thousand (Ofcom's drama numbers): another
    // test's person may share one, so a phone counts as a trace only on an item of no one else.
    let someone_else = |item: &Item| {
        let theirs = item.get("profile_id").and_then(|v| v.as_s().ok()).cloned().or_else(|| {
            item.get("pk")
                .and_then(|v| v.as_s().ok())
                .and_then(|pk| pk.strip_prefix("PROFILE#"))
                .map(str::to_owned)
        });
        theirs.is_some_and(|id| id != person.profile_id.as_str())
    };
    let mut found: Vec<String> = stack()
        .scan_all()
        .await
        .iter()
        .filter(|item| {
            let text = text_of(item);
            needles.iter().any(|n| text.contains(n.as_str()))
                || (text.contains(&person.phone_e164) && !someone_else(item))
        })
        .map(text_of)
        .collect();
    let bucket = stack().resource("CvBucket");
    let versions = stack().s3().list_object_versions().bucket(bucket).send().await.unwrap();
    for version in versions.versions() {
        // Other tests delete their rejected uploads meanwhile: a version gone is not a trace.
        let Ok(head) = stack()
            .s3()
            .head_object()
            .bucket(bucket)
            .key(version.key().unwrap())
            .set_version_id(version.version_id().map(str::to_owned))
            .send()
            .await
        else {
            continue;
        };
        let text = format!("{:?} {:?}", version.key(), head.metadata()).to_lowercase();
        if needles.iter().any(|n| text.contains(n.as_str())) || text.contains(&person.application_id) {
            found.push(text);
        }
    }
    found
}

async fn erase_me(session: &str) -> Value {
    let response = http().delete(stack().url("/me")).bearer_auth(session).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn assert_forgotten(person: &Person) {
    wait_for_mail(&person.email, "Your data has been deleted").await;
    eventually("the confirmation left the outbox", || async {
        stack().scan_all().await.iter().all(|i| !text_of(i).contains(&person.email.to_lowercase()))
    })
    .await;
    assert_eq!(traces_of(person).await, Vec::<String>::new(), "no email, name or phone anywhere");
    let partition = keys::profile_partition(&person.profile_id);
    let left: Vec<Item> = stack()
        .scan_all()
        .await
        .into_iter()
        .filter(|i| i.get("pk").and_then(|v| v.as_s().ok()) == Some(&partition))
        .collect();
    assert_eq!(left.len(), 1, "only the payment record is kept: {left:?}");
    let payment = &left[0];
    assert_eq!(s(payment, "sk"), format!("PAYMENT#{}", person.registration_id));
    assert!(!payment.contains_key("stripe_customer_id"), "no identity on the retained record");
    assert!(payment.contains_key("expires_at"), "with its own retention");
    let suppression = stack().hash_key().pseudonym("email", &person.email.to_lowercase());
    let (pk, sk) = keys::suppression(&suppression);
    let entry = stack().item(pk, sk).await.expect("the address is suppressed by its keyed hash");
    assert_eq!(s(&entry, "source"), "erasure");
    let audits: Vec<Item> = stack()
        .scan_all()
        .await
        .into_iter()
        .filter(|i| i.get("action").and_then(|v| v.as_s().ok()).is_some_and(|a| a == "erasure"))
        .collect();
    assert!(!audits.is_empty(), "an audit record");
    assert!(
        audits.iter().all(|a| !text_of(a).contains(person.profile_id.as_str())),
        "no personal data in audit records"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_erasure_then_nothing_identifies_the_person_the_payment_is_kept_bare_and_they_can_register_again(
) {
    let person = everything_person().await;
    let session = session_for(&person.email).await;
    // Mail still owed to the person when they erase: it must not outlive them.
    let owed = http()
        .post(stack().url("/me/export"))
        .bearer_auth(&session)
        .json(&json!({"to": unique_email("friend")}))
        .send()
        .await
        .unwrap();
    assert_eq!(owed.status(), StatusCode::ACCEPTED);
    let erased = erase_me(&session).await;
    let goodbye = format!("erasure-{}", person.profile_id);
    let mentions: Vec<Item> = stack()
        .scan_all()
        .await
        .into_iter()
        .filter(|i| text_of(i).contains(&person.email.to_lowercase()))
        .filter(|i| !(s(i, "pk").starts_with("OUTBOX#") && s(i, "sk") == goodbye))
        .collect();
    assert!(mentions.is_empty(), "right after erasure only the confirmation knows the address: {mentions:?}");
    assert_eq!(erased["already_erased"], false);
    assert_eq!(erased["report"]["payments_retained"], 1);
    assert!(erased["report"]["cv_versions_deleted"].as_u64().unwrap() >= 1);
    assert_forgotten(&person).await;

    assert_eq!(erase_me(&session).await["already_erased"], true, "idempotent");
    let again = submit("contact-us", json!({"name": "Erin", "email": person.email, "message": "Back"})).await;
    assert_ne!(again["profile_id"], person.profile_id.as_str(), "a new profile");
    assert!(stack().profile(&person.email).await.is_some());
}

/// The real store, with deletes that fail: an erasure stopped half-way.
struct FailingDeletes(DynamoStore);

impl ErasureStore for FailingDeletes {
    async fn mark_erasing(&self, profile_id: &ProfileId, profile_key: &ItemKey) -> Result<(), StoreError> {
        self.0.mark_erasing(profile_id, profile_key).await
    }
    async fn profile_held(&self, profile_id: &ProfileId) -> Result<bool, StoreError> {
        self.0.profile_held(profile_id).await
    }
    async fn erasure_plan(&self, profile_id: &ProfileId) -> Result<Option<ErasurePlan>, StoreError> {
        self.0.erasure_plan(profile_id).await
    }
    async fn suppress_erased(&self, email: &str) -> Result<(), StoreError> {
        self.0.suppress_erased(email).await
    }
    async fn retain_payment(&self, key: &ItemKey, until: i64) -> Result<(), StoreError> {
        self.0.retain_payment(key, until).await
    }
    async fn delete_items(&self, _: &[ItemKey]) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("injected: the table went away".into()))
    }
    async fn forget_profile(
        &self,
        id: &ProfileId,
        key: &ItemKey,
        last: Option<&str>,
        reason: ErasureReason,
        report: &ErasureReport,
    ) -> Result<bool, StoreError> {
        self.0.forget_profile(id, key, last, reason, report).await
    }
    async fn leftovers(&self, profile_id: &ProfileId) -> Result<Vec<ItemKey>, StoreError> {
        self.0.leftovers(profile_id).await
    }
}

impl OutboxStore for FailingDeletes {
    async fn enqueue(&self, message: &OutboxMessage, now: i64) -> Result<Enqueued, StoreError> {
        self.0.enqueue(message, now).await
    }
    async fn due(&self, now: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        self.0.due(now, limit).await
    }
    async fn claim(
        &self,
        id: &str,
        now: i64,
        lease: Duration,
    ) -> Result<Option<(OutboxMessage, u32)>, StoreError> {
        self.0.claim(id, now, lease).await
    }
    async fn complete(&self, id: &str, now: i64) -> Result<(), StoreError> {
        self.0.complete(id, now).await
    }
    async fn retry_at(&self, id: &str, next_attempt_at: i64) -> Result<(), StoreError> {
        self.0.retry_at(id, next_attempt_at).await
    }
}

impl DeliveryStore for FailingDeletes {
    async fn enqueue_deliveries(&self, deliveries: &[Delivery], now: i64) -> Result<(), StoreError> {
        self.0.enqueue_deliveries(deliveries, now).await
    }
    async fn due_deliveries(&self, now: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        self.0.due_deliveries(now, limit).await
    }
    async fn claim_delivery(
        &self,
        id: &str,
        now: i64,
        lease: Duration,
    ) -> Result<Option<(Delivery, u32)>, StoreError> {
        self.0.claim_delivery(id, now, lease).await
    }
    async fn delivered(
        &self,
        delivery: &Delivery,
        mail: &[OutboxMessage],
        now: i64,
    ) -> Result<bool, StoreError> {
        self.0.delivered(delivery, mail, now).await
    }
    async fn retry_delivery(&self, id: &str, at: i64, error: &str) -> Result<(), StoreError> {
        self.0.retry_delivery(id, at, error).await
    }
    async fn dead_letter(&self, id: &str, now: i64, error: &str) -> Result<(), StoreError> {
        self.0.dead_letter(id, now, error).await
    }
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        self.0.dead_letters(limit).await
    }
    async fn replay(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        self.0.replay(id, now).await
    }
    async fn held(&self, profile_id: &ProfileId) -> Result<Vec<Delivery>, StoreError> {
        self.0.held(profile_id).await
    }
    async fn release(&self, deliveries: &[Delivery], now: i64) -> Result<(), StoreError> {
        self.0.release(deliveries, now).await
    }
    async fn drop_owed(&self, profile_id: &ProfileId, subject: &str) -> Result<(), StoreError> {
        self.0.drop_owed(profile_id, subject).await
    }
    async fn recipients(&self, profile_id: &ProfileId) -> Result<Vec<Shared>, StoreError> {
        self.0.recipients(profile_id).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_erasure_interrupted_half_way_then_asking_again_completes_it() {
    let person = everything_person().await;
    let session = session_for(&person.email).await;
    let links =
        steward_core::config::MailLinks { public_api_url: stack().api.clone(), organisation: "WSO2".into() };
    let interrupted = erase(
        &FailingDeletes(local_store()),
        &local_cvs(),
        Some(&links),
        &person.profile_id,
        ErasureReason::Request,
        now(),
    )
    .await;
    assert!(interrupted.is_err());
    assert!(!me(&session).await["submissions"].as_array().unwrap().is_empty(), "half done: still there");

    let erased = erase_me(&session).await;
    assert_eq!(erased["already_erased"], false);
    assert_forgotten(&person).await;
    assert_eq!(
        mail_to(&person.email, "Your data has been deleted").await.len(),
        1,
        "one confirmation, not two"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_items_past_their_retention_then_the_sweep_deletes_them_their_cvs_and_the_profile_left_empty() {
    let email = unique_email("expiring");
    let receipt =
        submit("contact-us", json!({"name": "Old Timer", "email": email, "message": "Long ago"})).await;
    let profile_id = receipt["profile_id"].as_str().unwrap();
    let (pk, sk) = keys::submission(profile_id, receipt["submission_id"].as_str().unwrap());
    // Its retention ended a minute ago; DynamoDB's TTL has not got to it yet.
    stack()
        .dynamodb()
        .update_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S(sk.clone()))
        .update_expression("SET expires_at = :past")
        .expression_attribute_values(":past", AttributeValue::N((now() - 60).to_string()))
        .send()
        .await
        .unwrap();
    // The sweep runs every 20 s locally and scans the whole table, slower while other tests run:
    // a write just behind a running sweep waits for the next one.
    let sweeps = Duration::from_secs(120);
    eventually_within(sweeps, "the scheduled sweep removed the submission", || async {
        stack().item(pk.clone(), sk.clone()).await.is_none()
    })
    .await;
    eventually_within(sweeps, "and the profile nothing is kept for", || async {
        stack().profile(&email).await.is_none()
    })
    .await;

    // DynamoDB's TTL removed a submission itself: the profile goes once its own dates pass.
    let aged = unique_email("aged");
    let receipt = submit("contact-us", json!({"name": "Aged Out", "email": aged, "message": "Old"})).await;
    let (pk, sk) =
        keys::submission(receipt["profile_id"].as_str().unwrap(), receipt["submission_id"].as_str().unwrap());
    let dynamodb = stack().dynamodb();
    dynamodb
        .delete_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(sk))
        .send()
        .await
        .unwrap();
    let (pk, sk) = stack().profile_key(&aged);
    dynamodb
        .update_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(sk))
        .update_expression("SET #retain = :past")
        .expression_attribute_names("#retain", "retain_until_contact-us")
        .expression_attribute_values(":past", AttributeValue::N((now() - 60).to_string()))
        .send()
        .await
        .unwrap();
    eventually_within(sweeps, "the lapsed profile is removed", || async {
        stack().profile(&aged).await.is_none()
    })
    .await;
    let kept = known_person().await;
    assert!(stack().profile(&kept).await.is_some(), "current data stays");
}

/// A browser without JavaScript: follows no redirect by itself, keeps the session cookie it is
/// given and sends it back, with the Origin header a browser puts on a form's POST.
struct Browser {
    client: reqwest::Client,
    cookie: Option<String>,
}

impl Browser {
    fn new() -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { client, cookie: None }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        if let Some(set) = response.headers().get("set-cookie") {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap().to_owned();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        let mut request = self.client.get(stack().url(path)).header("accept", "text/html");
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.keep(&response);
        response
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self
            .client
            .post(stack().url(path))
            .header("accept", "text/html")
            .header("origin", &stack().api)
            .form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        self.keep(&response);
        response
    }

    /// Signs in from the mailed link's page, as a person does.
    async fn sign_in(&mut self, email: &str) -> reqwest::Response {
        let before = sign_in_links(email).await.len();
        ask_for_link(email).await;
        eventually("the link arrived", || async { sign_in_links(email).await.len() > before }).await;
        let link = sign_in_links(email).await.remove(0);
        let token = link.split("token=").nth(1).unwrap().to_owned();
        self.post("/privacy/session", &[("token", &token)]).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_browser_without_javascript_then_every_right_works_through_plain_pages_and_forms() {
    let mut browser = Browser::new();
    let email = known_person().await;
    let signed_in = browser.sign_in(&email).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/me", "no session in the URL it lands on");
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_owned();
    // Over HTTPS it is also Secure and __Host- (the privacy function's unit test); the local stack is HTTP.
    for attribute in ["steward-session=", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }

    let page = browser.get("/me").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains(&email) && html.contains("Zoë Ñúñez") && html.contains("WSO2 UK Limited"));
    assert!(!html.contains("session="), "no session in any link or field");

    let corrected = browser
        .post(
            "/me",
            &[("_method", "PATCH"), ("name", "Zoë N."), ("email", &email), ("phone", ""), ("country", "DE")],
        )
        .await;
    assert_eq!(corrected.status(), StatusCode::SEE_OTHER);
    assert_eq!(corrected.headers()["location"], "/me?done=corrected");
    let invalid = browser.post("/me", &[("_method", "PATCH"), ("phone", "12")]).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.text().await.unwrap().contains("phone"), "the page names the field");
    let restricted = browser.post("/me/restrict", &[]).await;
    assert_eq!(restricted.status(), StatusCode::SEE_OTHER);

    let confirm = browser.get("/me/delete").await;
    assert!(confirm.text().await.unwrap().contains(r#"name="confirm""#), "a confirmation step");
    let unconfirmed = browser.post("/me", &[("_method", "DELETE")]).await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stack().profile(&email).await.is_some(), "nothing deleted without confirmation");
    let kept = browser.cookie.clone();
    let deleted = browser.post("/me", &[("_method", "DELETE"), ("confirm", "yes")]).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(deleted.text().await.unwrap().contains("deleted"));
    assert!(stack().profile(&email).await.is_none());
    assert_eq!(browser.cookie, None, "the browser is told to forget its session");
    browser.cookie = kept;
    assert_eq!(browser.get("/me").await.status(), StatusCode::UNAUTHORIZED, "erasure ended the session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_session_then_no_url_or_other_site_can_use_it_and_signing_out_ends_it_here_or_everywhere() {
    let email = known_person().await;
    let mut browser = Browser::new();
    browser.sign_in(&email).await;
    let phone = session_for(&email).await;
    let cookie = browser.cookie.clone().unwrap();
    let token = cookie.split_once('=').unwrap().1.to_owned();

    // A session in a URL (a link someone sends, a bookmark) opens nothing: login CSRF has no way in.
    let in_url = http()
        .get(stack().url(&format!("/me?session={token}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(in_url.status(), StatusCode::UNAUTHORIZED);
    // The cookie acts only from the privacy center's own pages.
    let restrict = |origin: Option<&str>| {
        let mut request =
            http().post(stack().url("/me/restrict")).header("cookie", &cookie).form(&[("lift", "false")]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(restrict(None).await.unwrap().status(), StatusCode::FORBIDDEN, "no origin, no change");
    assert_eq!(restrict(Some("https://evil.example")).await.unwrap().status(), StatusCode::FORBIDDEN);
    let profile = stack().profile(&email).await.unwrap();
    assert!(!profile.contains_key("restricted"), "nothing changed: {profile:?}");

    let out = browser.post("/me/sign-out", &[]).await;
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(browser.cookie, None, "the cookie is cleared");
    browser.cookie = Some(cookie);
    assert_eq!(browser.get("/me").await.status(), StatusCode::UNAUTHORIZED, "signed out here");
    assert_eq!(
        http().get(stack().url("/me")).bearer_auth(&phone).send().await.unwrap().status(),
        StatusCode::OK
    );

    let mut laptop = Browser::new();
    laptop.sign_in(&email).await;
    let everywhere = http()
        .post(stack().url("/me/sign-out"))
        .bearer_auth(&phone)
        .json(&json!({"everywhere": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), StatusCode::OK);
    assert_eq!(laptop.get("/me").await.status(), StatusCode::UNAUTHORIZED, "signed out everywhere");
    assert_eq!(
        http().get(stack().url("/me")).bearer_auth(&phone).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Registers with a paid form and pays by card; waits until Stripe's webhook says so.
async fn paid(form: &str, field: &str, item: &str, email: &str, paid_status: &str) -> Value {
    let receipt = submit(
        form,
        json!({"name": "Pat Payer", "email": email, "phone": "+44 20 7946 0958", "job_title": "CTO",
               "company": "Acme", "country": "GB", "state": "GB-LND", field: item}),
    )
    .await;
    let started = steward_blackbox::start_payment(&receipt["payment"]["token"]).await;
    confirm_with_card(&started, "4242424242424242").await;
    let profile_id = receipt["profile_id"].as_str().unwrap().to_owned();
    let (pk, sk) = keys::payment(&profile_id, receipt["submission_id"].as_str().unwrap());
    eventually(&format!("the {form} payment is {paid_status}"), || async {
        stack()
            .item(pk.clone(), sk.clone())
            .await
            .is_some_and(|i| i.get("status").and_then(|v| v.as_s().ok()).is_some_and(|s| s == paid_status))
    })
    .await;
    receipt
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_person_who_paid_for_an_event_and_holds_a_cloud_subscription_then_erasure_succeeds() {
    // Under the template's own IAM: erasure touches the payments' STRIPE# references too.
    assert_eq!(stack().iam, "enforced");
    let email = unique_email("payer");
    let event = paid("event-registration", "event", "wso2con-2027", &email, "succeeded").await;
    let cloud = paid("cloud-signup", "plan", "cloud-starter", &email, "active").await;
    assert_eq!(event["profile_id"], cloud["profile_id"], "one person");
    let session = session_for(&email).await;
    let erased = erase_me(&session).await;
    assert_eq!(erased["already_erased"], false);
    assert_eq!(erased["report"]["payments_retained"], 2, "{erased}");
    wait_for_mail(&email, "Your data has been deleted").await;
    assert!(stack().profile(&email).await.is_none());
    assert_eq!(erase_me(&session).await["already_erased"], true, "idempotent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_history_larger_than_one_lambda_response_then_the_export_comes_by_a_short_lived_link() {
    let email = known_person().await;
    let profile_id = s(&stack().profile(&email).await.unwrap(), "profile_id").to_owned();
    // Twenty messages of 350 KB each (DynamoDB's item limit is 400 KB): 7 MB, more than the 6 MB
    // a Lambda may answer with.
    let message = "Long message. ".repeat(25_000);
    for n in 0..20 {
        let (pk, sk) = keys::submission(&profile_id, &format!("bulk{n:02}{}", uuid::Uuid::new_v4().simple()));
        let mut item: BTreeMap<String, AttributeValue> = BTreeMap::new();
        item.insert("pk".into(), AttributeValue::S(pk));
        item.insert("sk".into(), AttributeValue::S(sk));
        item.insert("type".into(), AttributeValue::S("submission".into()));
        item.insert("v".into(), AttributeValue::N("2".into()));
        item.insert("form".into(), AttributeValue::S("contact-us".into()));
        item.insert("submitted_at".into(), AttributeValue::S("2026-01-01T00:00:00Z".into()));
        item.insert(
            "fields".into(),
            AttributeValue::M([("message".to_owned(), AttributeValue::S(message.clone()))].into()),
        );
        stack()
            .dynamodb()
            .put_item()
            .table_name(&stack().table)
            .set_item(Some(item.into_iter().collect()))
            .send()
            .await
            .unwrap();
    }
    let session = session_for(&email).await;
    // The privacy center still shows everything, long values shortened, and says where they are whole.
    let shown = me(&session).await;
    assert_eq!(shown["submissions"].as_array().unwrap().len(), 21);
    assert_eq!(shown["abbreviated"]["export"], "/me/export");
    let page = http()
        .get(stack().url("/me"))
        .header("cookie", format!("steward-session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    for format in ["json", "csv"] {
        let response = export(&session, format).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{format}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["download_url"], location.as_str());
        assert!(location.contains("/exports/") && location.contains("X-Amz-Expires=900"), "{location}");
        let download = http().get(&location).send().await.unwrap();
        assert_eq!(download.status(), StatusCode::OK);
        assert!(download.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
        let text = download.text().await.unwrap();
        assert!(text.len() > 6 * 1024 * 1024, "everything is in it ({} bytes)", text.len());
        assert_eq!(text.matches(message.trim_end()).count(), 20, "{format}: every message, whole");
    }
    let kept = || async {
        let listing = stack()
            .s3()
            .list_object_versions()
            .bucket(stack().resource("CvBucket"))
            .prefix(format!("exports/{profile_id}/"))
            .send()
            .await
            .unwrap();
        listing.versions().len() + listing.delete_markers().len()
    };
    assert_eq!(kept().await, 2, "one object per export");
    // The sweep deletes exports an hour old (what it passes as the cutoff), not younger ones.
    use steward_core::domain::privacy::erasure::CvObjects;
    assert_eq!(local_cvs().delete_exports_before(now() - 3600).await.unwrap(), 0);
    assert!(local_cvs().delete_exports_before(now() + 5).await.unwrap() >= 2);
    assert_eq!(kept().await, 0);
    // Erasure takes the kept exports with it.
    assert_eq!(export(&session, "json").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(kept().await, 1);
    erase_me(&session).await;
    assert_eq!(kept().await, 0, "no export left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_payment_grant_used_after_erasure_then_410_and_nothing_is_recreated() {
    let email = unique_email("gone");
    let registration = submit(
        "event-registration",
        json!({"name": "Pat Payer", "email": email, "phone": "+44 20 7946 0958", "job_title": "CTO",
               "company": "Acme", "country": "GB", "state": "GB-LND", "event": "wso2con-2027"}),
    )
    .await;
    let profile_id = registration["profile_id"].as_str().unwrap().to_owned();
    let session = session_for(&email).await;
    erase_me(&session).await;
    let response = http()
        .post(stack().url("/payments"))
        .json(&json!({"token": registration["payment"]["token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::GONE);
    let (pk, sk) = keys::billing(&profile_id);
    assert!(stack().item(pk, sk).await.is_none(), "no Stripe customer recorded for the erased person");
    let (pk, sk) = keys::payment(&profile_id, registration["submission_id"].as_str().unwrap());
    assert!(stack().item(pk, sk).await.is_none(), "no payment record under the erased profile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_session_then_each_consent_has_a_receipt_to_download() {
    let email = unique_email("receipts");
    submit("newsletter", json!({"email": email, "interests": ["cloud"]})).await;
    let session = session_for(&email).await;
    let response = http().get(stack().url("/me/consents")).bearer_auth(&session).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let body: Value = response.json().await.unwrap();
    let receipt = &body["receipts"][0];
    assert_eq!(receipt["version"], "KI-CR-v1.1.0", "{body}");
    assert_eq!(receipt["piiPrincipalId"], email.as_str());
    assert_eq!(receipt["steward"]["notice_sha256"].as_str().map(str::len), Some(64), "{receipt}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_application_sent_in_someones_name_then_they_see_it_and_delete_it() {
    let email = unique_email("victim");
    submit("contact-us", json!({"name": "Vera Victim", "email": email, "country": "PT", "message": "Hi"}))
        .await;
    let attack = submit(
        "careers",
        json!({"name": "Mallory", "email": email, "phone": "+44 20 7946 0958", "country": "US", "position": "Spy"}),
    )
    .await;
    let session = session_for(&email).await;
    let held = me(&session).await;
    assert_eq!(held["profile"]["full_name"], "Vera Victim", "nothing they proved was rewritten");
    assert_eq!(held["profile"]["country"], "PT");
    assert_eq!(held["submissions"].as_array().unwrap().len(), 2, "they see what was sent in their name");

    let deleted = http()
        .post(stack().url("/me/submissions/delete"))
        .bearer_auth(&session)
        .json(&json!({"submission": attack["submission_id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let held = me(&session).await;
    assert_eq!(held["submissions"].as_array().unwrap().len(), 1, "and undo it");
    assert_eq!(held["submissions"][0]["form"], "contact-us");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_privacy_center_page_that_fails_then_it_leads_somewhere_that_works_never_to_itself() {
    // Signed out: the center and each of its pages lead to the site's page for a new sign-in link.
    for path in ["/me", "/me/delete"] {
        let page = http().get(stack().url(path)).header("accept", "text/html").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!(r#"href="{}/privacy-center">Ask for a new sign-in link"#, stack().site)),
            "{html}"
        );
        assert!(!html.contains(&format!(r#"href="{path}""#)), "{path} does not link to itself: {html}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_address_change_under_way_then_the_person_calls_it_off_and_its_link_opens_nothing() {
    let email = known_person().await;
    let session = session_for(&email).await;
    let next = unique_email("next");
    assert_eq!(patch(&session, json!({"email": next})).await.status(), StatusCode::OK);
    let pending = me(&session).await["pending_requests"].clone();
    let change = pending.as_array().unwrap().iter().find(|r| r["request"] == "email_change").expect("listed");
    assert_eq!(change["address"], next.as_str());
    let id = change["request_id"].as_str().unwrap();
    let cancel = |id: String| {
        http()
            .post(stack().url("/me/requests/cancel"))
            .bearer_auth(&session)
            .json(&json!({"request": "email_change", "id": id}))
            .send()
    };
    assert_eq!(cancel(id.to_owned()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(cancel(id.to_owned()).await.unwrap().status(), StatusCode::NOT_FOUND, "once");
    let mail = wait_for_mail(&next, "Confirm your new address").await;
    let token = link(&mail.text, "/privacy/email/confirm?token=").split("token=").nth(1).unwrap().to_owned();
    let confirm = follow_mailed_link("/privacy/email/confirm", &token).await;
    assert_eq!(confirm.status(), StatusCode::FORBIDDEN, "its link opens nothing");
    assert_eq!(me(&session).await["profile"]["email"], email.as_str());
}
