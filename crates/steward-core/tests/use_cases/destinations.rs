//! Destinations: what comes in reaches the teams that act on it (their mail, the event bus, a
//! signed webhook), gated by what the person agreed to; a destination that is down gets it later;
//! and the person's rights follow their data to every destination, and to Stripe.

use serde_json::json;
use steward_core::adapters::memory::Fault;
use steward_core::domain::destinations::{DeliveryStore, EventType};
use steward_core::domain::forms::submit::{ClientInfo, SubmitError, SubmitOutcome};
use steward_core::domain::payments::{receive_event, StripeEvent, StripeEventData};
use steward_core::domain::ports::{Clock, StoreError};
use steward_core::domain::privacy::erasure::{erase, ErasureReason};
use steward_core::domain::privacy::limits::{set_limit, withdraw, Limit};

use crate::support::{email, World};

const CONTACT: [(&str, &str); 5] = [
    ("name", "Ana Silva"),
    ("phone", "+44 20 7946 0958"),
    ("country", "GB"),
    ("company", "Acme"),
    ("message", "Please call me about API management."),
];

/// A raw message's text, its quoted-printable soft line breaks undone.
fn readable(raw: &str) -> String {
    raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

async fn contact(world: &World, address: &str) -> steward_core::domain::forms::submit::Receipt {
    let mut fields = CONTACT.to_vec();
    fields.push(("email", address));
    world.submit("contact-us", &fields).await
}

#[tokio::test]
async fn a_contact_request_reaches_the_sales_inbox_the_crm_and_the_bus_with_one_event_id() {
    let world = World::new();
    let address = email("ana");
    let receipt = contact(&world, &address).await;
    assert!(world.destinations.received("crm").is_empty(), "nothing goes before the dispatcher runs");

    let report = world.deliver().await;
    assert_eq!((report.delivered, report.deferred, report.dead), (3, 0, 0));
    let crm = world.destinations.received("crm");
    let bus = world.destinations.received("bus");
    assert_eq!((crm.len(), bus.len()), (1, 1));
    assert_eq!(crm[0].id, bus[0].id, "the same event id at every destination");
    assert_eq!(crm[0].kind, EventType::SubmissionReceived);
    assert_eq!(crm[0].data["submission_id"], receipt.submission_id.as_str());
    assert_eq!(crm[0].data["person_id"], receipt.profile_id.as_str());
    assert_eq!(crm[0].data["fields"]["message"], "Please call me about API management.");
    assert_eq!(crm[0].data["purposes"], json!(["respond-to-request"]));
    // The bus may receive what its destination lists, and no more: no phone, no message.
    assert_eq!(bus[0].data["fields"]["email"], address.as_str());
    assert!(bus[0].data["fields"].get("phone").is_none() && bus[0].data["fields"].get("message").is_none());

    // The sales team's mail is owed through the outbox: it goes out when SES takes it.
    assert_eq!(world.dispatch().await.sent, 1);
    let sent = world.mail.sent();
    let mail = sent.iter().find(|m| m.to == "sales@wso2.com").expect("the sales inbox is told");
    let text = readable(&mail.raw);
    assert!(text.contains("New from the site: Contact us"), "{text}");
    assert!(text.contains("Please call me about API management."));
    assert!(text.contains(receipt.submission_id.as_str()), "with the reference to find it by");

    // What went where is the person's to see.
    let recipients = world.store.recipients(&receipt.profile_id).await.unwrap();
    let mut went: Vec<&str> = recipients.iter().map(|r| r.destination.as_str()).collect();
    went.sort();
    assert_eq!(went, ["crm", "event-bus", "sales"]);
    let sales = recipients.iter().find(|r| r.destination == "sales").unwrap();
    assert!(sales.fields.contains(&"message".to_owned()) && !sales.fields.contains(&"interests".to_owned()));

    assert_eq!(world.deliver().await.delivered, 0, "each once");
}

#[tokio::test]
async fn a_retried_submission_is_delivered_once() {
    let world = World::new();
    let address = email("retry");
    let mut fields = CONTACT.to_vec();
    fields.push(("email", &address));
    world.submit_from("contact-us", &fields, "192.0.2.7", Some("key-1")).await.unwrap();
    world.deliver().await;
    world.submit_from("contact-us", &fields, "192.0.2.7", Some("key-1")).await.unwrap();
    assert_eq!(world.deliver().await.delivered, 0, "the retry owes nothing new");
    assert_eq!(world.destinations.received("crm").len(), 1);
}

#[tokio::test]
async fn a_new_submission_and_what_it_owes_its_destinations_are_one_write() {
    // Owed in the submission's own write: no later write can fail and leave a stored submission
    // owing its teams nothing, or answer an error for a submission that was stored.
    let world = World::new();
    world.store.fail_operation("enqueue_deliveries", Fault::Unavailable);
    let address = email("one-write");
    let mut fields = CONTACT.to_vec();
    fields.push(("email", &address));
    let stored = world.submit_from("contact-us", &fields, "192.0.2.8", None).await;
    assert!(matches!(stored, Ok(SubmitOutcome::Stored(_))), "{stored:?}");
    assert!(!world.store.calls().contains(&"enqueue_deliveries"), "no second write");
    world.store.heal();
    assert_eq!(world.deliver().await.delivered, 3, "the sales inbox, the CRM and the bus");
}

#[tokio::test]
async fn a_retry_of_a_submission_stored_without_its_deliveries_owes_them_once() {
    // Stored by a request of before 2026-12-08, which owed its deliveries in a write of their own
    // that failed.
    let world = World::new();
    let address = email("stored-before");
    let mut fields = CONTACT.to_vec();
    fields.push(("email", &address));
    world.submit_from("contact-us", &fields, "192.0.2.10", Some("key-before")).await.unwrap();
    for (key, _) in world.store.items().into_iter().filter(|((pk, _), _)| pk.starts_with("DELIVERY#")) {
        world.store.delete_item(key);
    }
    let retried = world.submit_from("contact-us", &fields, "192.0.2.10", Some("key-before")).await;
    assert!(matches!(retried, Ok(SubmitOutcome::Replayed(_))), "{retried:?}");
    assert_eq!(world.deliver().await.delivered, 3, "owed now");
    world.submit_from("contact-us", &fields, "192.0.2.10", Some("key-before")).await.unwrap();
    assert_eq!(world.deliver().await.delivered, 0, "once");
}

#[tokio::test]
async fn nothing_is_queued_for_a_person_whose_erasure_has_begun() {
    // Mid-way through an erasure that found the person under an address they moved to: their
    // tombstone is written, their profile not yet gone.
    let world = World::new();
    let address = email("leaving");
    let person = contact(&world, &address).await;
    world.deliver().await;
    world.store.mark_erased(&person.profile_id);
    let mut fields = CONTACT.to_vec();
    fields.push(("email", &address));
    let refused = world.submit_from("contact-us", &fields, "192.0.2.9", None).await;
    assert!(matches!(refused, Err(SubmitError::Store(StoreError::Unavailable(_)))), "a 503: {refused:?}");
    assert_eq!(world.deliver().await.delivered, 0, "nothing of theirs was queued");
}

#[tokio::test]
async fn marketing_destinations_get_nothing_without_a_ticked_topic_and_gpc_opts_out_everywhere() {
    let world = World::new();
    let base = [("name", "Bo"), ("country", "DE")];
    // Registering without ticking a topic: the CRM serves marketing alone among this form's
    // purposes, so it gets nothing; the bus (the account) does, without interests.
    let quiet = email("quiet");
    world.submit("registration", &[base[0], base[1], ("email", quiet.as_str())]).await;
    world.deliver().await;
    assert!(world.destinations.received("crm").is_empty(), "no consent, nothing for marketing");
    let bus = world.destinations.received("bus");
    assert_eq!(bus.len(), 1);
    assert!(bus[0].data["fields"].get("interests").is_none());
    assert!(!bus[0].data["purposes"].as_array().unwrap().contains(&json!("marketing")));

    // Ticking one is not consent yet (anyone can type an address): the CRM's copy waits for the
    // person to confirm from their address, then goes, with the topics and marketing as purpose.
    let keen = email("keen");
    let ticked = world
        .submit("registration", &[base[0], base[1], ("email", keen.as_str()), ("interests", "cloud")])
        .await;
    world.deliver().await;
    assert!(world.destinations.received("crm").is_empty(), "held until confirmed");
    let click = steward_core::domain::mail::preferences::ClickEvidence {
        source_ip: "192.0.2.1".into(),
        user_agent: None,
        policy_version: "2018-03-23".into(),
    };
    let subject = steward_core::domain::mail::confirmation::subject_for(&std::collections::BTreeSet::from([
        "cloud".to_owned(),
    ]));
    steward_core::domain::mail::preferences::confirm_subscription(
        &world.store,
        &ticked.profile_id,
        &subject,
        click,
        "tok",
        world.clock.timestamp(),
    )
    .await
    .unwrap();
    world.deliver().await;
    let crm: Vec<_> = world
        .destinations
        .received("crm")
        .into_iter()
        .filter(|e| e.kind == EventType::SubmissionReceived)
        .collect();
    assert_eq!(crm.len(), 1);
    assert_eq!(crm[0].data["fields"]["interests"], json!(["cloud"]));
    assert_eq!(crm[0].data["purposes"], json!(["marketing"]));

    // Global Privacy Control opts out of product analytics: the bus is not told it may use the
    // download for that.
    let private = email("gpc");
    let client = ClientInfo {
        source_ip: "192.0.2.9".into(),
        user_agent: None,
        accept_language: None,
        referer: None,
        received_at: world.clock.timestamp(),
        global_privacy_control: true,
    };
    let download = [
        ("name", "Cy"),
        ("email", private.as_str()),
        ("company", "Acme"),
        ("country", "DE"),
        ("product", "api-manager"),
    ];
    world.submit_as("product-download", &download, client, None).await.unwrap();
    world.deliver().await;
    let downloads: Vec<_> = world
        .destinations
        .received("bus")
        .into_iter()
        .filter(|e| e.data["form"] == "product-download")
        .collect();
    assert_eq!(downloads[0].data["purposes"], json!(["product-download"]));
}

#[tokio::test]
async fn a_destination_down_for_days_gets_every_delivery_once_it_is_back_and_a_dead_letter_replays() {
    let world = World::new();
    world.destinations.take_down("crm");
    let first = contact(&world, &email("one")).await;
    contact(&world, &email("two")).await;
    let report = world.deliver().await;
    assert_eq!(
        (report.delivered, report.deferred),
        (4, 1),
        "the bus and the sales mail do not wait for the CRM, tried once a run while it fails"
    );

    // Down for two days: retried on the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h...).
    for _ in 0..6 {
        world.clock.advance(12 * 3600);
        world.deliver().await;
    }
    assert!(world.destinations.received("crm").is_empty());
    world.destinations.bring_up("crm");
    world.clock.advance(24 * 3600);
    assert_eq!(world.deliver().await.delivered, 2, "back: everything owed arrives");
    assert_eq!(world.destinations.received("crm").len(), 2);
    assert_eq!(world.deliver().await.delivered, 0, "once");

    // Down for good: after the last retry, the delivery is a dead letter, kept for replay.
    world.destinations.take_down("crm");
    contact(&world, &email("three")).await;
    for _ in 0..20 {
        world.clock.advance(12 * 3600);
        world.deliver().await;
    }
    let dead = world.store.dead_letters(100).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!((dead[0].target.as_str(), dead[0].attempts), ("crm", 10));
    assert!(dead[0].last_error.contains("down"), "{}", dead[0].last_error);
    world.destinations.bring_up("crm");
    assert!(world.store.replay(&dead[0].id, world.now()).await.unwrap());
    assert_eq!(world.deliver().await.delivered, 1);
    assert_eq!(world.destinations.received("crm").len(), 3);
    assert!(world.store.dead_letters(100).await.unwrap().is_empty());
    let _ = first;
}

#[tokio::test]
async fn a_webhook_this_deployment_gives_no_address_is_dead_lettered_and_never_recorded_as_shared() {
    let world = World::new();
    world.destinations.unconfigure("crm");
    let receipt = contact(&world, &email("nowhere")).await;
    let report = world.deliver().await;
    assert_eq!((report.delivered, report.unconfigured), (2, 1));
    let recipients = world.store.recipients(&receipt.profile_id).await.unwrap();
    assert!(!recipients.iter().any(|r| r.destination == "crm"), "it never got anything");
    assert_eq!(world.store.dead_letters(10).await.unwrap()[0].target, "crm");
}

#[tokio::test]
async fn restriction_objection_and_withdrawal_reach_every_destination_that_got_the_data() {
    let world = World::new();
    let address = email("rights");
    let receipt = contact(&world, &address).await;
    world.submit("newsletter", &[("email", address.as_str()), ("interests", "cloud")]).await;
    world.deliver().await;
    let person = &receipt.profile_id;

    set_limit(&world.store, person, Limit::Restrict, true, world.clock.timestamp()).await.unwrap();
    world.clock.advance(60);
    set_limit(&world.store, person, Limit::Object, true, world.clock.timestamp()).await.unwrap();
    world.clock.advance(60);
    withdraw(&world.store, &world.catalogue, person, "marketing", world.clock.timestamp()).await.unwrap();
    world.deliver().await;

    let kinds = |to: &str| -> Vec<EventType> {
        world
            .destinations
            .received(to)
            .into_iter()
            .map(|e| e.kind)
            .filter(|k| *k != EventType::SubmissionReceived)
            .collect()
    };
    let rights = [EventType::PersonRestricted, EventType::PersonObjected, EventType::ConsentChanged];
    assert_eq!(kinds("crm"), rights, "the CRM got the contact and the newsletter: told once each");
    assert_eq!(kinds("bus"), rights);
    let restricted = world
        .destinations
        .received("crm")
        .into_iter()
        .find(|e| e.kind == EventType::PersonRestricted)
        .unwrap();
    assert_eq!(restricted.data["restricted"], true);
    assert_eq!(restricted.data["person_id"], person.as_str());
    let bus_restricted = world
        .destinations
        .received("bus")
        .into_iter()
        .find(|e| e.kind == EventType::PersonRestricted)
        .unwrap();
    assert_eq!(restricted.id, bus_restricted.id, "one event id everywhere");
    let withdrawn =
        world.destinations.received("crm").into_iter().find(|e| e.kind == EventType::ConsentChanged).unwrap();
    assert_eq!(
        (withdrawn.data["purpose"].as_str(), withdrawn.data["given"].as_bool()),
        (Some("marketing"), Some(false))
    );
    // The sales team got the contact, so it is told too, by mail.
    world.dispatch().await;
    let to_sales = world.mail.sent().into_iter().filter(|m| m.to == "sales@wso2.com").count();
    assert_eq!(to_sales, 4, "the contact, then each of the three changes");
}

#[tokio::test]
async fn erasure_reaches_every_destination_and_stripe_ends_the_subscription_and_deletes_the_customer() {
    let world = World::new();
    let address = email("gone");
    let receipt = contact(&world, &address).await;
    let signup = world
        .submit(
            "cloud-signup",
            &[
                ("name", "Ana Silva"),
                ("email", address.as_str()),
                ("phone", "+44 20 7946 0958"),
                ("job_title", "CTO"),
                ("company", "Acme"),
                ("country", "GB"),
                ("state", "GB-LND"),
                ("plan", "cloud-starter"),
            ],
        )
        .await;
    let started = world.start_payment(&world.grant(&signup, "plan:cloud-starter")).await.unwrap();
    let subscription = started.subscription_id.clone().expect("a subscription");
    let active = StripeEvent {
        id: "evt_active".into(),
        event_type: "customer.subscription.updated".into(),
        created: world.now(),
        data: StripeEventData { object: json!({"id": subscription, "status": "active"}) },
    };
    receive_event(&world.store, &active, world.now()).await.unwrap();
    world.deliver().await;
    let paid: Vec<_> = world
        .destinations
        .received("crm")
        .into_iter()
        .filter(|e| e.kind == EventType::PaymentSucceeded)
        .collect();
    assert_eq!(paid.len(), 1, "the CRM, which got the sign-up, learns it is paid");
    assert_eq!(paid[0].data["submission_id"], signup.submission_id.as_str());

    let person = &receipt.profile_id;
    erase(&world.store, &world.cvs, Some(&world.config.links), person, ErasureReason::Request, world.now())
        .await
        .unwrap()
        .expect("someone to erase");
    world.destinations.take_down("stripe");
    let report = world.deliver().await;
    assert_eq!((report.delivered, report.deferred), (3, 1), "Stripe down: its part waits");
    let erased: Vec<_> = world
        .destinations
        .received("crm")
        .into_iter()
        .filter(|e| e.kind == EventType::PersonErased)
        .collect();
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0].data["person_id"], person.as_str());
    assert_eq!(erased[0].data["reason"], "self-service");
    let mut submissions: Vec<String> =
        serde_json::from_value(erased[0].data["submission_ids"].clone()).unwrap();
    submissions.sort();
    let mut expected =
        vec![receipt.submission_id.as_str().to_owned(), signup.submission_id.as_str().to_owned()];
    expected.sort();
    assert_eq!(submissions, expected, "what the CRM holds them by");
    assert!(erased[0].data.get("fields").is_none(), "no personal data in it");
    assert_eq!(
        world.destinations.received("bus").iter().filter(|e| e.kind == EventType::PersonErased).count(),
        1
    );

    world.destinations.bring_up("stripe");
    world.clock.advance(10);
    world.deliver().await;
    assert_eq!(world.destinations.subscriptions_cancelled(), [subscription]);
    assert_eq!(world.destinations.customers_deleted(), [format!("cus_{person}")]);
    world.dispatch().await;
    let sales: Vec<_> = world.mail.sent().into_iter().filter(|m| m.to == "sales@wso2.com").collect();
    let last = readable(&sales.last().unwrap().raw);
    assert!(last.contains("erased"), "the sales team is told to delete its copy: {last}");
    assert!(!last.contains("Ana Silva") && !last.contains(&address), "without repeating the data");
    assert!(world.store.recipients(person).await.unwrap().is_empty(), "and the record of it went with them");
}

#[tokio::test]
async fn confirming_and_unsubscribing_reach_the_destinations_that_hold_the_topics() {
    use std::collections::BTreeSet;
    use steward_core::domain::mail::confirmation::subject_for;
    use steward_core::domain::mail::preferences::{
        confirm_subscription, unsubscribe, ChangeSource, ClickEvidence,
    };

    let world = World::new();
    let address = email("topics");
    let receipt = world.submit("newsletter", &[("email", address.as_str()), ("interests", "cloud")]).await;
    world.deliver().await;
    let person = &receipt.profile_id;
    let click = ClickEvidence {
        source_ip: "192.0.2.1".into(),
        user_agent: None,
        policy_version: "2018-03-23".into(),
    };
    let subject = subject_for(&BTreeSet::from(["cloud".to_owned()]));
    confirm_subscription(&world.store, person, &subject, click, "tok", world.clock.timestamp())
        .await
        .unwrap();
    world.clock.advance(60);
    for token in ["tok2", "tok3"] {
        // The second click (a forwarded mail, a scanner's POST) changes nothing and tells no one.
        unsubscribe(
            &world.store,
            person,
            Some("cloud".into()),
            ChangeSource::OneClick,
            token,
            world.clock.timestamp(),
        )
        .await
        .unwrap();
        world.clock.advance(60);
    }
    world.deliver().await;
    let changes: Vec<_> = world
        .destinations
        .received("crm")
        .into_iter()
        .filter(|e| e.kind == EventType::ConsentChanged)
        .map(|e| (e.data["given"].as_bool().unwrap(), e.data["topics"].clone()))
        .collect();
    assert_eq!(changes, [(true, json!(["cloud"])), (false, json!(["cloud"]))], "confirmed, then stopped");
}

#[tokio::test]
async fn topics_ticked_in_someone_s_name_stay_held_whatever_old_link_they_click() {
    use std::collections::BTreeSet;
    use steward_core::domain::mail::confirmation::subject_for;
    use steward_core::domain::mail::preferences::{confirm_subscription, ClickEvidence};

    let world = World::new();
    let victim = email("victim");
    let first = world.submit("newsletter", &[("email", victim.as_str()), ("interests", "cloud")]).await;
    let click = || ClickEvidence {
        source_ip: "192.0.2.1".into(),
        user_agent: None,
        policy_version: "2018-03-23".into(),
    };
    let cloud = subject_for(&BTreeSet::from(["cloud".to_owned()]));
    confirm_subscription(&world.store, &first.profile_id, &cloud, click(), "tok", world.clock.timestamp())
        .await
        .unwrap();
    world.deliver().await;
    let before = world.destinations.received("crm").len();
    // Someone else types the address into a form, ticking another topic, with their own details.
    world
        .submit("registration", &[("name", "Mallory"), ("email", victim.as_str()), ("interests", "events")])
        .await;
    world.deliver().await;
    // The person clicks their old link again: it confirms nothing new, and releases nothing.
    world.clock.advance(60);
    confirm_subscription(&world.store, &first.profile_id, &cloud, click(), "tok", world.clock.timestamp())
        .await
        .unwrap();
    world.deliver().await;
    let after: Vec<_> = world.destinations.received("crm")[before..].to_vec();
    assert!(
        !after.iter().any(|e| e.data["fields"]["name"] == "Mallory"),
        "what someone ticked in their name goes nowhere until they confirm it: {after:?}"
    );
}

#[tokio::test]
async fn a_team_told_of_an_erasure_mid_way_still_gets_the_mail() {
    use steward_core::adapters::memory::Fault;
    let world = World::new();
    let address = email("midway");
    let receipt = contact(&world, &address).await;
    world.deliver().await;
    world.dispatch().await;
    // The erasure stops before the profile goes; meanwhile the dispatcher tells the teams.
    world.store.fail_operation("forget_profile", Fault::Unavailable);
    let links = world.config.links.clone();
    let erase_now = || {
        erase(
            &world.store,
            &world.cvs,
            Some(&links),
            &receipt.profile_id,
            ErasureReason::Request,
            world.now(),
        )
    };
    assert!(erase_now().await.is_err());
    world.store.heal();
    world.deliver().await;
    erase_now().await.unwrap().expect("erased");
    world.dispatch().await;
    let told = world
        .mail
        .sent()
        .into_iter()
        .filter(|m| m.to == "sales@wso2.com" && readable(&m.raw).contains("erased"))
        .count();
    assert_eq!(told, 1, "the sales team's erasure mail survives the erasure's own sweep");
}
