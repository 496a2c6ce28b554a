//! Submitting a form: one profile per person, every submission stored once with its evidence,
//! rate limits, the honeypot, and the confirmation mail that ticked topics owe.

use steward_core::adapters::dynamodb::keys;
use steward_core::adapters::memory::{Fault, MemoryUploadSigner};
use steward_core::domain::careers::{
    authorize_upload, upload_token, CvBucket, CvCheck, CvOutcome, CvRecorded, CvStore, CvType, UploadRequest,
};
use steward_core::domain::forms::proof::{self, ProofError};
use steward_core::domain::forms::submit::{ClientInfo, SubmitError, SubmitOutcome};
use steward_core::domain::mail::preferences::{ChangeSource, SuppressionStore};
use steward_core::domain::ports::Clock;

use crate::support::{email, World};

fn outbox_ids(world: &World) -> Vec<String> {
    world.store.transactional_outbox().into_iter().map(|((_, id), _)| id).collect()
}

#[tokio::test]
async fn a_first_submission_stores_a_profile_and_the_submission_with_its_browser_and_consent_evidence() {
    let world = World::new();
    let receipt = world
        .submit("contact-us", &[("name", "Ada Lovelace"), ("email", "Ada@Example.com"), ("message", "Hello")])
        .await;

    let profile = world.store.item(world.store.profile_key_of("ada@example.com")).expect("a profile");
    assert_eq!(profile["profile_id"], receipt.profile_id.as_str());
    assert_eq!(
        profile["email"], "Ada@example.com",
        "the address as typed, its domain in the ASCII form mail goes to"
    );
    assert_eq!(profile["full_name"], "Ada Lovelace");
    let submission = world
        .store
        .item(keys::submission(receipt.profile_id.as_str(), receipt.submission_id.as_str()))
        .expect("the submission");
    assert_eq!(submission["fields"]["message"], "Hello");
    assert_eq!(submission["browser"]["source_ip"], "192.0.2.10");
    assert_eq!(submission["consent"]["policy_version"], "2018-03-23");
    assert_eq!(submission["consent"]["purposes"][0]["basis"], "legitimate-interests");
    assert_eq!(submission["expires_at"], world.now() + 365 * 86_400, "contact-us keeps a year");
    assert!(outbox_ids(&world).is_empty(), "no topics ticked, no confirmation owed");
}

#[tokio::test]
async fn two_submissions_for_one_address_in_any_case_land_on_one_profile_which_keeps_what_the_second_left_out(
) {
    let world = World::new();
    let first = world
        .submit(
            "contact-us",
            &[("name", "Ada"), ("email", "ada@example.com"), ("company", "Analytical"), ("message", "Hi")],
        )
        .await;
    world.clock.advance(60);
    let second = world.submit("newsletter", &[("email", "ADA@example.com"), ("interests", "cloud")]).await;

    assert_eq!(second.profile_id, first.profile_id);
    assert_ne!(second.submission_id, first.submission_id);
    let profile = world.store.item(world.store.profile_key_of("ada@example.com")).unwrap();
    assert_eq!(profile["company"], "Analytical", "an absent field keeps its earlier value");
    assert_eq!(profile["last_submission_id"], second.submission_id.as_str());
    assert!(
        profile.contains_key("retain_until_contact-us") && profile.contains_key("retain_until_newsletter")
    );
    assert_eq!(profile["pending_topics"], serde_json::json!(["cloud"]));
}

#[tokio::test]
async fn a_retried_submission_with_the_same_idempotency_key_is_replayed_and_stores_nothing_new() {
    let world = World::new();
    let fields = [("email", "bo@example.com"), ("interests", "cloud")];
    let first = world.submit_from("newsletter", &fields, "192.0.2.1", Some("key-1")).await.unwrap();
    let retry = world.submit_from("newsletter", &fields, "192.0.2.1", Some("key-1")).await.unwrap();

    let (SubmitOutcome::Stored(stored), SubmitOutcome::Replayed(replayed)) = (first, retry) else {
        panic!("expected a stored submission, then its replay");
    };
    assert_eq!(replayed, stored, "the first answer is repeated");
    let partition = world.store.partition(&keys::profile_partition(stored.profile_id.as_str()));
    assert_eq!(partition.len(), 1, "one submission");
    assert_eq!(outbox_ids(&world).len(), 1, "one confirmation owed");
}

#[tokio::test]
async fn a_filled_honeypot_looks_accepted_and_stores_nothing() {
    let world = World::new();
    let outcome = world
        .submit_from("newsletter", &[("email", "bot@example.com"), ("website", "spam")], "192.0.2.1", None)
        .await
        .unwrap();
    assert!(matches!(outcome, SubmitOutcome::Discarded(_)));
    assert!(world.store.items().is_empty(), "not even a rate counter");
}

#[tokio::test]
async fn invalid_fields_are_all_named_and_nothing_is_stored() {
    let world = World::new();
    let outcome = world.submit_from("contact-us", &[("email", "not-an-address")], "192.0.2.1", None).await;
    let Err(SubmitError::Invalid(errors)) = outcome else { panic!("expected invalid fields") };
    let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["email", "message", "name"]);
    assert!(world.store.items().is_empty());
}

#[tokio::test]
async fn the_eleventh_submission_of_one_address_in_a_window_is_refused_until_the_window_ends() {
    let world = World::new();
    let fields = [("email", "busy@example.com"), ("interests", "cloud")];
    for attempt in 0..10 {
        let ip = format!("192.0.2.{attempt}");
        world.submit_from("newsletter", &fields, &ip, None).await.expect("within the limit");
    }
    let refused = world.submit_from("newsletter", &fields, "192.0.2.99", None).await;
    let Err(SubmitError::RateLimited { retry_after }) = refused else { panic!("expected the email limit") };
    assert!(retry_after.as_secs() > 0 && retry_after.as_secs() <= 600);

    world.clock.advance(600);
    world.submit_from("newsletter", &fields, "192.0.2.99", None).await.expect("a new window");
}

#[tokio::test]
async fn ticked_topics_owe_one_confirmation_a_day_which_the_dispatcher_sends() {
    let world = World::new();
    let receipt = world.submit("newsletter", &[("email", "cy@example.com"), ("interests", "cloud")]).await;
    world.submit("newsletter", &[("email", "cy@example.com"), ("interests", "cloud")]).await;
    world
        .submit("registration", &[("name", "Cy"), ("email", "cy@example.com"), ("interests", "identity")])
        .await;

    // Anyone can type an address: the organisation's mail goes to it once a day at most.
    let day = world.now() / 86_400;
    let owed = outbox_ids(&world);
    let prefix = format!("confirm-{}-{day}-", receipt.profile_id.as_str());
    assert_eq!(owed.len(), 1, "one confirmation a day, whatever is ticked: {owed:?}");
    assert!(owed.iter().all(|id| id.starts_with(&prefix)), "{owed:?}");
    let report = world.dispatch().await;
    assert_eq!(report.sent, 1);

    // The next day's form asks about what is still pending.
    world.clock.advance(86_400);
    world
        .submit("registration", &[("name", "Cy"), ("email", "cy@example.com"), ("interests", "identity")])
        .await;
    assert_eq!(world.dispatch().await.sent, 1);
    let subjects = world.subjects_sent_to("cy@example.com");
    assert_eq!(subjects.len(), 2);
    assert!(subjects.iter().all(|s| s.contains("confirm")), "{subjects:?}");
}

/// A form sent in German owes its mail in German, however much later it goes out: the language
/// travels with the queued message, and the dispatcher (which has no visitor) writes in it.
#[tokio::test]
async fn a_form_sent_in_german_is_confirmed_in_german() {
    use steward_core::i18n::{self, Lang};
    let world = World::new();
    i18n::scope(
        Lang::De,
        world.submit("newsletter", &[("email", "dora@example.com"), ("interests", "events")]),
    )
    .await;
    let report = world.dispatch().await;
    assert_eq!(report.sent, 1);
    let sent = world.mail.sent_to("dora@example.com");
    // The text as a reader sees it: quoted-printable undone (soft line breaks, then bytes).
    let raw = sent[0].raw.replace("=\r\n", "").replace("=\n", "");
    let raw = quoted_printable(&raw);
    assert!(raw.contains(r#"<html lang="de">"#), "the HTML part is German");
    assert!(raw.contains("Guten Tag"), "the text is German");
    assert!(raw.contains("Veranstaltungen und Workshops"), "the topic in German: {raw}");
    let subject = raw.lines().find_map(|line| line.strip_prefix("Subject: ")).unwrap();
    assert!(subject.contains("Abonnement"), "the subject is German: {subject}");
}

/// Quoted-printable bytes (`=C3=A4`) decoded, enough to read a German mail back.
fn quoted_printable(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes.get(at + 1..at + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[at], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn the_confirmation_to_an_unproven_address_carries_nothing_else_the_visitor_typed() {
    let world = World::new();
    let words = "Your account is locked, call +1 555 0100 now";
    world
        .submit("registration", &[("name", words), ("email", "dee@example.com"), ("interests", "cloud")])
        .await;
    world.dispatch().await;
    let sent = world.mail.sent_to("dee@example.com");
    assert_eq!(sent.len(), 1, "the confirmation went");
    assert!(
        !sent[0].raw.contains("locked"),
        "a stranger's words in the organisation's mail: {}",
        sent[0].raw
    );
}

#[tokio::test]
async fn a_suppressed_address_is_owed_no_confirmation_mail() {
    let world = World::new();
    world.submit("contact-us", &[("name", "Dee"), ("email", "dee@example.com"), ("message", "Hi")]).await;
    assert!(world.store.suppress("dee@example.com", ChangeSource::Bounce, "hard bounce").await.unwrap());

    world.submit("newsletter", &[("email", "dee@example.com"), ("interests", "cloud")]).await;
    assert!(outbox_ids(&world).is_empty());
}

#[tokio::test]
async fn when_the_store_fails_the_submission_stores_neither_profile_nor_submission_and_its_retry_stores_both()
{
    let world = World::new();
    let fields = [("email", "eve@example.com"), ("interests", "cloud")];
    world.store.fail_operation("store_submission", Fault::Unavailable);
    let failed = world.submit_from("newsletter", &fields, "192.0.2.1", Some("k")).await;
    assert!(matches!(failed, Err(SubmitError::Store(_))));
    world.store.heal();
    assert!(world.store.item(world.store.profile_key_of("eve@example.com")).is_none());

    let retried = world.submit_from("newsletter", &fields, "192.0.2.1", Some("k")).await.unwrap();
    assert!(matches!(retried, SubmitOutcome::Stored(_)), "nothing was stored the first time");
}

#[tokio::test]
async fn a_new_persons_confirmation_is_owed_with_their_profile() {
    // One write: no later one can fail and leave a new person unasked.
    let world = World::new();
    world.store.fail_operation("enqueue", Fault::Unavailable);
    let fields = [("email", "gus@example.com"), ("interests", "cloud")];
    let stored = world.submit_from("newsletter", &fields, "192.0.2.1", None).await;
    assert!(matches!(stored, Ok(SubmitOutcome::Stored(_))), "{stored:?}");
    assert!(!world.store.calls().contains(&"enqueue"), "no second write");
    world.store.heal();
    assert_eq!(outbox_ids(&world).len(), 1, "the confirmation is owed");
    world.dispatch().await;
    assert_eq!(world.mail.sent_to("gus@example.com").len(), 1);
}

#[tokio::test]
async fn when_the_confirmation_cannot_be_owed_the_retry_owes_it_once() {
    let world = World::new();
    // A known person: their confirmation is owed after the submission, as a write of its own.
    world.submit("contact-us", &[("name", "Fay"), ("email", "fay@example.com"), ("message", "Hi")]).await;
    let fields = [("email", "fay@example.com"), ("interests", "cloud")];
    world.store.fail_operation("enqueue", Fault::Unavailable);
    assert!(world.submit_from("newsletter", &fields, "192.0.2.1", Some("k")).await.is_err());
    world.store.heal();

    let retried = world.submit_from("newsletter", &fields, "192.0.2.1", Some("k")).await.unwrap();
    assert!(matches!(retried, SubmitOutcome::Replayed(_)), "the submission was stored the first time");
    assert_eq!(outbox_ids(&world).len(), 1, "and its confirmation is owed now");
}

#[tokio::test]
async fn an_applicants_upload_grant_is_for_their_application_and_its_check_is_recorded_unless_a_later_one_is()
{
    let world = World::new();
    let application = world
        .submit(
            "careers",
            &[
                ("name", "Gus"),
                ("email", &email("gus")),
                ("phone", "+44 20 7946 0958"),
                ("country", "GB"),
                ("position", "Engineer"),
            ],
        )
        .await;
    let now = world.clock.system_time();
    let token = upload_token(
        &world.config.token_keys,
        &application.submission_id,
        &application.profile_id,
        now,
        world.config.cv_upload_token_ttl,
    );
    let bucket = CvBucket {
        name: "cvs".into(),
        url: "https://cvs.example.com/".into(),
        region: "eu-west-1".into(),
        max_bytes: 1_000_000,
        url_valid_for: std::time::Duration::from_secs(300),
    };
    let request =
        UploadRequest { token, content_type: "application/pdf".into(), file_name: Some("cv.pdf".into()) };
    let (claims, key, post) =
        authorize_upload(&world.config.token_keys, &bucket, &MemoryUploadSigner, &world.store, &request, now)
            .await
            .unwrap();
    assert_eq!(claims.subject, application.submission_id.as_str());
    assert!(key.starts_with(&format!("cv/{}/", application.submission_id.as_str())));
    assert!(post.fields.contains(&("x-amz-meta-original-filename".to_owned(), "cv.pdf".to_owned())));

    let check = |uploaded_at: i64| CvCheck {
        application_id: claims.subject.clone(),
        profile_id: claims.profile_id.clone(),
        key: key.clone(),
        version_id: Some("v1".into()),
        uploaded_at,
        checked_at: world.clock.timestamp(),
        file_name: Some("cv.pdf".into()),
        outcome: CvOutcome::Verified { cv_type: CvType::Pdf, size: 1234, sha256: "ab".into() },
    };
    let uploaded = world.now();
    assert_eq!(world.store.record_cv(&check(uploaded)).await.unwrap(), CvRecorded::Recorded);
    assert_eq!(world.store.record_cv(&check(uploaded - 10)).await.unwrap(), CvRecorded::Superseded);
    assert_eq!(
        world.store.record_cv(&check(uploaded)).await.unwrap(),
        CvRecorded::Recorded,
        "the same upload again"
    );
    let elsewhere = CvCheck { application_id: "nobody".into(), ..check(uploaded) };
    assert_eq!(world.store.record_cv(&elsewhere).await.unwrap(), CvRecorded::ApplicationMissing);
}

#[tokio::test]
async fn a_form_sent_in_someones_name_fills_in_only_what_their_profile_lacks_and_says_where_each_value_came_from(
) {
    let world = World::new();
    let first = world
        .submit(
            "contact-us",
            &[("name", "Ana Silva"), ("email", "ana@example.com"), ("country", "PT"), ("message", "Hi")],
        )
        .await;
    let attack = [
        ("name", "Mallory"),
        ("email", "ANA@example.com"),
        ("country", "US"),
        ("company", "Evil Corp"),
        ("message", "Hello"),
    ];
    let second = world.submit("contact-us", &attack).await;
    assert_eq!(second.profile_id, first.profile_id);

    let profile = world.store.item(world.store.profile_key_of("ana@example.com")).expect("a profile");
    assert_eq!(profile["full_name"], "Ana Silva", "a held value is never rewritten by a form");
    assert_eq!(profile["country"], "PT", "nor the country (and with it the data controller)");
    assert_eq!(profile["email"], "ana@example.com", "nor the address's spelling");
    assert_eq!(profile["company"], "Evil Corp", "what was not known yet is filled in");
    let provenance = &profile["provenance"];
    assert_eq!(provenance["full_name"]["submission_id"], first.submission_id.as_str(), "{provenance}");
    assert_eq!(provenance["company"]["submission_id"], second.submission_id.as_str(), "{provenance}");
    assert_eq!(provenance["company"]["source"], "form");

    // What was sent stays with its submission, as evidence of what someone sent.
    let key = keys::submission(first.profile_id.as_str(), second.submission_id.as_str());
    let stored = world.store.item(key).expect("the submission");
    assert_eq!(stored["fields"]["name"], "Mallory");
}

#[tokio::test]
async fn an_idempotency_key_reused_for_a_different_request_is_refused_and_the_same_request_is_replayed() {
    let world = World::new();
    let first = [("name", "Cy"), ("email", "cy@example.com"), ("message", "Hello")];
    let stored = world.submit_from("contact-us", &first, "192.0.2.1", Some("key-1")).await.unwrap();
    assert!(matches!(stored, SubmitOutcome::Stored(_)));
    // The same request again, however it is spelled: the first answer.
    let again = [("name", " Cy "), ("email", "CY@example.com"), ("message", "Hello")];
    let replayed = world.submit_from("contact-us", &again, "192.0.2.1", Some("key-1")).await.unwrap();
    assert!(matches!(replayed, SubmitOutcome::Replayed(_)), "{replayed:?}");
    // Another request under the same key: refused, nothing stored or answered for it.
    let other = [("name", "Cy"), ("email", "cy@example.com"), ("message", "Something else")];
    let refused = world.submit_from("contact-us", &other, "192.0.2.1", Some("key-1")).await;
    assert!(matches!(refused, Err(SubmitError::KeyReused)), "{refused:?}");
}

#[tokio::test]
async fn consent_evidence_names_the_exact_notice_and_global_privacy_control_opts_out_of_what_may_be_opted_out_of(
) {
    let world = World::new();
    let client = ClientInfo {
        source_ip: "192.0.2.44".into(),
        user_agent: Some("Mozilla/5.0 (GPC)".into()),
        accept_language: None,
        referer: None,
        received_at: world.clock.timestamp(),
        global_privacy_control: true,
    };
    let fields = [
        ("name", "Gil"),
        ("email", "gil@example.com"),
        ("company", "Acme"),
        ("country", "PT"),
        ("product", "api-manager"),
        ("interests", "identity"),
    ];
    let SubmitOutcome::Stored(receipt) =
        world.submit_as("product-download", &fields, client, None).await.unwrap()
    else {
        panic!("stored")
    };
    let key = keys::submission(receipt.profile_id.as_str(), receipt.submission_id.as_str());
    let consent = world.store.item(key).expect("the submission")["consent"].clone();
    let form = world.catalogue.form("product-download").unwrap();
    assert_eq!(consent["notice_sha256"], form.notice_digest.as_str(), "the exact notice shown");
    assert_eq!(form.notice_digest.len(), 64);
    assert_eq!(consent["global_privacy_control"], true);
    assert_eq!(consent["opted_out"], serde_json::json!(["product-analytics"]));
    let purposes: Vec<&str> =
        consent["purposes"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert!(!purposes.contains(&"product-analytics"), "not processed for it: {purposes:?}");
    assert!(purposes.contains(&"product-download"), "what they asked for still is");
    assert!(
        purposes.contains(&"marketing"),
        "and what they ticked: GPC is no refusal of a consent they give"
    );
}

#[tokio::test]
async fn what_anyone_can_pile_up_in_one_persons_name_in_a_day_is_bounded() {
    let world = World::new();
    let per_day = world.config.rate_limits.per_email_per_day;
    let fields = [("name", "Vic"), ("email", "vic@example.com"), ("message", "x")];
    let mut stored = 0;
    // From many addresses and across many ten-minute windows, as a patient attacker would.
    for attempt in 0..per_day * 2 {
        if attempt % 5 == 0 {
            world.clock.advance(600);
        }
        let ip = format!("198.51.100.{}", attempt % 250);
        if world.submit_from("contact-us", &fields, &ip, None).await.is_ok() {
            stored += 1;
        }
    }
    assert_eq!(stored, per_day, "a day holds at most the daily limit");
    let key = world.store.profile_key_of("vic@example.com");
    let profile_id = world.store.item(key).unwrap()["profile_id"].as_str().unwrap().to_owned();
    let held = world.store.partition(&keys::profile_partition(&profile_id));
    assert_eq!(held.iter().filter(|((_, sk), _)| sk.starts_with("SUBMISSION#")).count() as u32, per_day);
}

#[tokio::test]
async fn no_one_can_make_steward_send_an_address_more_than_a_few_confirmations_a_day() {
    let world = World::new();
    let topics = ["api-management", "integration", "identity", "cloud", "events", "careers"];
    // Every subset a stranger could tick, from many addresses.
    for (i, first) in topics.iter().enumerate() {
        for second in &topics[i..] {
            let fields = [("email", "flooded@example.com"), ("interests", *first), ("interests", *second)];
            let _ = world.submit_from("newsletter", &fields, &format!("198.51.100.{i}"), None).await;
        }
    }
    world.dispatch().await;
    let confirmations = world.subjects_sent_to("flooded@example.com").len() as u32;
    assert_eq!(confirmations, steward_core::domain::mail::confirmation::CONFIRMATIONS_PER_DAY);
}

#[tokio::test]
async fn what_one_address_holds_is_bounded_however_long_anyone_keeps_at_it() {
    use steward_core::domain::forms::submit::SUBMISSIONS_HELD_PER_ADDRESS;
    let world = World::new();
    let fields = [("name", "Vic"), ("email", "held@example.com"), ("message", "x")];
    let mut stored = Vec::new();
    let mut refused = false;
    // A patient attacker: day after day, from many addresses, within every rate limit.
    for attempt in 0..SUBMISSIONS_HELD_PER_ADDRESS * 2 {
        if attempt % 5 == 0 {
            world.clock.advance(3 * 3_600);
        }
        let ip = format!("198.51.100.{}", attempt % 250);
        match world.submit_from("contact-us", &fields, &ip, None).await {
            Ok(SubmitOutcome::Stored(receipt)) => stored.push(receipt),
            Err(SubmitError::AddressFull) => refused = true,
            _ => {}
        }
    }
    assert!(refused, "the address's share is full");
    assert_eq!(stored.len() as u32, SUBMISSIONS_HELD_PER_ADDRESS, "and holds exactly its bound");

    // The person deletes one of them in the privacy center: there is room for one more.
    let profile_id = stored[0].profile_id.clone();
    steward_core::domain::privacy::correction::delete_submission(
        &world.store,
        &world.cvs,
        &profile_id,
        stored[0].submission_id.as_str(),
    )
    .await
    .unwrap();
    world.clock.advance(86_400);
    assert!(matches!(
        world.submit_from("contact-us", &fields, "203.0.113.9", None).await,
        Ok(SubmitOutcome::Stored(_))
    ));
    assert!(matches!(
        world.submit_from("contact-us", &fields, "203.0.113.10", None).await,
        Err(SubmitError::AddressFull)
    ));
}

#[tokio::test]
async fn two_addresses_where_one_belongs_are_refused_naming_the_field() {
    let world = World::new();
    let fields = [("name", "Vic"), ("email", "a@example.com"), ("email", "b@example.com"), ("message", "x")];
    let Err(SubmitError::Invalid(errors)) = world.submit_from("contact-us", &fields, "192.0.2.1", None).await
    else {
        panic!("two addresses were taken for one")
    };
    assert!(errors.iter().any(|e| e.field == "email" && e.code == "multiple_values"), "{errors:?}");
}

/// A challenge asked for and solved as a browser does.
async fn solved_challenge(world: &World, source_ip: &str) -> String {
    let challenge = proof::next_challenge(&world.store, &world.config, source_ip, world.clock.timestamp())
        .await
        .expect("a challenge");
    proof::solve(&challenge).expect("solvable")
}

#[tokio::test]
async fn a_solved_challenge_lets_a_form_in_once_and_a_forged_or_replayed_one_changes_nothing() {
    let world = World::new();
    let solution = solved_challenge(&world, "192.0.2.20").await;
    let fields = |who: &str, proof: &str| {
        vec![
            ("name", "Pat".to_owned()),
            ("email", email(who)),
            ("message", "Hi".to_owned()),
            (proof::FIELD, proof.to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let world = &world;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
            world.submit_from("contact-us", &fields, "192.0.2.20", None).await
        }
    };
    assert!(matches!(send(fields("pat", &solution)).await, Ok(SubmitOutcome::Stored(_))));
    let before = world.store.items().len();

    let replayed = send(fields("mallory", &solution)).await;
    assert!(matches!(replayed, Err(SubmitError::Proof(ProofError::Used))), "{replayed:?}");
    let forged = send(fields("mallory", "eyJhbGdvcml0aG0iOiJTSEEtMjU2In0=")).await;
    assert!(matches!(forged, Err(SubmitError::Proof(ProofError::Malformed))), "{forged:?}");
    assert!(world.store.item(world.store.profile_key_of(&email("mallory"))).is_none());
    assert_eq!(world.store.items().len(), before, "a refused proof writes nothing but its own use");

    // The same submission retried (its idempotency key) may carry its proof again.
    let fresh = solved_challenge(&world, "192.0.2.20").await;
    let retried: Vec<(&str, String)> = fields("quinn", &fresh);
    let retried: Vec<(&str, &str)> = retried.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let first = world.submit_from("contact-us", &retried, "192.0.2.20", Some("retry-1")).await.unwrap();
    let again = world.submit_from("contact-us", &retried, "192.0.2.20", Some("retry-1")).await.unwrap();
    assert!(matches!((first, again), (SubmitOutcome::Stored(_), SubmitOutcome::Replayed(_))));
}

#[tokio::test]
async fn forms_without_a_proof_of_work_still_go_through_under_a_third_of_the_limit() {
    let world = World::new();
    let unproven = (world.config.rate_limits.per_ip / 3).max(1);
    for n in 0..unproven {
        let who = email(&format!("plain{n}"));
        let fields = [("name", "Pat"), ("email", who.as_str()), ("message", "Hi")];
        world.submit_from("contact-us", &fields, "192.0.2.30", None).await.expect("a plain HTML form works");
    }
    let who = email("plain-over");
    let fields = [("name", "Pat"), ("email", who.as_str()), ("message", "Hi")];
    let refused = world.submit_from("contact-us", &fields, "192.0.2.30", None).await;
    assert!(matches!(refused, Err(SubmitError::RateLimited { .. })), "{refused:?}");
    let solution = solved_challenge(&world, "192.0.2.30").await;
    let proven =
        [("name", "Pat"), ("email", who.as_str()), ("message", "Hi"), (proof::FIELD, solution.as_str())];
    world.submit_from("contact-us", &proven, "192.0.2.30", None).await.expect("with a proof, the full limit");
}

#[tokio::test]
async fn an_address_that_keeps_asking_for_challenges_gets_harder_ones() {
    let world = World::new();
    let ask = || proof::next_challenge(&world.store, &world.config, "192.0.2.40", world.clock.timestamp());
    let first = ask().await.unwrap();
    assert_eq!(first.maxnumber, proof::EASIEST);
    for _ in 0..proof::CHALLENGES_PER_STEP * 3 {
        ask().await.unwrap();
    }
    assert!(ask().await.unwrap().maxnumber >= proof::EASIEST * 8, "harder under a flood");
    let elsewhere = proof::next_challenge(&world.store, &world.config, "192.0.2.41", world.clock.timestamp());
    assert_eq!(elsewhere.await.unwrap().maxnumber, proof::EASIEST, "not for anyone else");
}

#[tokio::test]
async fn one_idempotency_key_reused_for_many_addresses_counts_each_as_the_submission_it_is() {
    let world = World::new();
    let unproven = (world.config.rate_limits.per_ip / 3).max(1);
    for n in 0..unproven {
        let who = email(&format!("reuse{n}"));
        let fields = [("name", "Pat"), ("email", who.as_str()), ("message", "Hi")];
        let stored = world.submit_from("contact-us", &fields, "192.0.2.50", Some("one-key")).await;
        assert!(matches!(stored, Ok(SubmitOutcome::Stored(_))), "{stored:?}");
    }
    let who = email("reuse-over");
    let fields = [("name", "Pat"), ("email", who.as_str()), ("message", "Hi")];
    let refused = world.submit_from("contact-us", &fields, "192.0.2.50", Some("one-key")).await;
    assert!(
        matches!(refused, Err(SubmitError::RateLimited { .. })),
        "one key, many submissions: {refused:?}"
    );

    // Nor does one solved challenge serve them all.
    let solution = solved_challenge(&world, "192.0.2.51").await;
    let send = |who: String| {
        let solution = solution.clone();
        let world = &world;
        async move {
            let fields = [
                ("name", "Pat"),
                ("email", who.as_str()),
                ("message", "Hi"),
                (proof::FIELD, solution.as_str()),
            ];
            world.submit_from("contact-us", &fields, "192.0.2.51", Some("other-key")).await
        }
    };
    assert!(matches!(send(email("first")).await, Ok(SubmitOutcome::Stored(_))));
    assert!(matches!(send(email("second")).await, Err(SubmitError::Proof(ProofError::Used))));
}

#[tokio::test]
async fn a_download_form_delivers_its_link_by_mail_once_and_a_flood_does_not_fill_an_inbox() {
    let world = World::new();
    let download = |product: &'static str| {
        let world = &world;
        async move {
            world
                .submit(
                    "product-download",
                    &[
                        ("name", "Dee"),
                        ("email", &email("dee")),
                        ("company", "Acme"),
                        ("country", "DE"),
                        ("product", product),
                    ],
                )
                .await
        }
    };
    download("api-manager").await;
    world.dispatch().await;
    let sent = world.mail.sent_to(&email("dee"));
    let mail = sent.iter().find(|m| m.raw.contains("Your download: API Manager")).expect("the link, by mail");
    assert!(mail.raw.contains("https://wso2.com/api-manager/"), "{}", mail.raw);

    for product in ["identity-server", "micro-integrator", "streaming-integrator", "api-manager"] {
        download(product).await;
    }
    world.dispatch().await;
    let downloads =
        world.subjects_sent_to(&email("dee")).iter().filter(|s| s.starts_with("Your download")).count();
    assert_eq!(downloads, 3, "a few a day to one address, however many are asked for");
}
