//! The privacy center's use cases: erasure (and finishing one that was interrupted), the retention
//! sweep, what a person's export holds, and the links that carry requests.

use std::ops::ControlFlow;

use serde_json::{json, Value};
use steward_core::adapters::dynamodb::keys;
use steward_core::adapters::memory::{Fault, Item};
use steward_core::domain::destinations::EventType;
use steward_core::domain::fields::Email;
use steward_core::domain::forms::proof::{Evidence, NoHumanCheck};
use steward_core::domain::forms::submit::Receipt;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::mail::outbox::OutboxMessage;
use steward_core::domain::mail::preferences::{ChangeSource, PreferenceStore};
use steward_core::domain::payments::{receive_event, StripeEvent, StripeEventData};
use steward_core::domain::ports::Clock;
use steward_core::domain::privacy::access::{request_link, start_session, PrivacyError, PrivacyStore};
use steward_core::domain::privacy::audit::{Actor, AuditStore};
use steward_core::domain::privacy::correction::{confirm_email_change, correct, undo_email_change};
use steward_core::domain::privacy::erasure::{erase, ErasureError, ErasureReason, ErasureReport, ItemKey};
use steward_core::domain::privacy::export::{
    confirm_export_to, export_csv, export_download, request_export_to, revoke_export_link, ExportFormat,
};
use steward_core::domain::privacy::limits::{set_limit, withdraw, Limit};
use steward_core::domain::privacy::retention::sweep;
use steward_core::domain::privacy::rights::{cancel_request, RequestKind, RightsError};

use crate::support::{email, World};

const ADDRESS: &str = "zoe@example.com";
const NAME: &str = "Zoë Ñúñez";

/// Someone who used most of Steward: a question, a confirmed newsletter topic, a job application
/// with two versions of a CV, a paid event seat, a withdrawn consent and a pending export.
struct Person {
    profile_id: ProfileId,
    application: String,
    registration: Receipt,
}

async fn person(world: &World) -> Person {
    let now = world.now();
    let (name, address) = (("name", NAME), ("email", ADDRESS));
    let (phone, country) = (("phone", "+44 20 7946 0958"), ("country", "GB"));
    let question = world.submit("contact-us", &[name, address, country, ("message", "Hello")]).await;
    let profile_id = question.profile_id.clone();
    world.submit("newsletter", &[("email", ADDRESS), ("interests", "cloud")]).await;
    world
        .store
        .change_preferences(
            &profile_id,
            &crate::support::confirm(&["cloud"]),
            ChangeSource::Confirmation,
            "tok",
        )
        .await
        .unwrap();
    let application =
        world.submit("careers", &[name, address, phone, country, ("position", "Engineer")]).await;
    let cv = world.cvs.put_cv(application.submission_id.as_str(), now);
    world.cvs.put(&cv, now + 1);

    let registration = world
        .submit(
            "event-registration",
            &[
                name,
                address,
                phone,
                country,
                ("job_title", "CTO"),
                ("company", "Acme"),
                ("state", "GB-LND"),
                ("event", "identity-workshop"),
            ],
        )
        .await;
    let grant = world.grant(&registration, "event:identity-workshop");
    let started = world.start_payment(&grant).await.unwrap();
    let succeeded = StripeEvent {
        id: "evt_paid".into(),
        event_type: "payment_intent.succeeded".into(),
        created: now,
        data: StripeEventData { object: json!({"id": started.payment_intent_id}) },
    };
    receive_event(&world.store, &succeeded, now).await.unwrap();

    withdraw(&world.store, &world.catalogue, &profile_id, "contest", world.store.clock().timestamp())
        .await
        .unwrap();
    let recipient = Email::parse("email", "lawyer@example.org").unwrap();
    request_export_to(&world.store, &world.config, &profile_id, &recipient, ExportFormat::Json, now)
        .await
        .unwrap();
    world.cvs.put_export(&profile_id, now);
    Person { profile_id, application: application.submission_id.as_str().to_owned(), registration }
}

/// The person asks to be erased, in the privacy center.
async fn erase_on_request(
    world: &World,
    profile_id: &ProfileId,
) -> Result<Option<ErasureReport>, ErasureError> {
    erase(
        &world.store,
        &world.cvs,
        Some(&world.config.links),
        profile_id,
        ErasureReason::Request,
        world.now(),
    )
    .await
}

/// The keys of every item whose keys or attributes mention `needle` (case-insensitively).
fn mentioning(world: &World, needle: &str) -> Vec<ItemKey> {
    let needle = needle.to_lowercase();
    world
        .store
        .items()
        .into_iter()
        .filter(|((pk, sk), item)| {
            let text = format!("{pk} {sk} {}", Value::Object(item.clone())).to_lowercase();
            text.contains(&needle)
        })
        .map(|(key, _)| key)
        .collect()
}

fn audit_records(world: &World) -> Vec<(ItemKey, Item)> {
    world.store.items().into_iter().filter(|((pk, _), _)| pk.starts_with("AUDIT#")).collect()
}

/// The person's partition holds only their payment record, stripped, as erasure keeps it.
fn assert_only_the_payment_left(world: &World, person: &Person) {
    let left: Vec<String> = world
        .store
        .partition(&keys::profile_partition(&person.profile_id))
        .into_iter()
        .map(|((_, sk), _)| sk)
        .collect();
    assert_eq!(
        left,
        [format!("PAYMENT#{}", person.registration.submission_id.as_str())],
        "only the payment record"
    );
}

/// What must hold once a person is erased, however the erasure got there.
fn assert_erased(world: &World, person: &Person) {
    assert!(world.store.item(world.store.profile_key_of(ADDRESS)).is_none(), "the profile is gone");
    assert_only_the_payment_left(world, person);
    let payment = world
        .store
        .item(keys::payment(&person.profile_id, person.registration.submission_id.as_str()))
        .unwrap();
    assert!(!payment.contains_key("stripe_customer_id"), "stripped of what identifies the person");
    assert_eq!(payment["retained_for"], "legal obligation (accounting); the person was erased");
    assert_eq!(payment["expires_at"], world.now() + 7 * 365 * 86_400, "kept seven years from the payment");

    let goodbye = keys::outbox(&format!("erasure-{}", person.profile_id));
    assert_eq!(mentioning(world, ADDRESS), [goodbye], "the address is left only on the confirmation owed");
    assert!(mentioning(world, NAME).is_empty(), "the name is gone everywhere");
    let entries: Vec<Item> = world
        .store
        .items()
        .into_iter()
        .filter(|((pk, _), _)| pk.starts_with("SUPPRESS#"))
        .map(|(_, entry)| entry)
        .collect();
    assert_eq!(entries.len(), 1, "the address's keyed hash is kept, never to be mailed again");
    assert_eq!(entries[0]["source"], "erasure");

    assert!(world.cvs.versions().is_empty(), "every CV version and export is gone");
    let audits = audit_records(world);
    assert_eq!(audits.len(), 1, "one audit record");
    assert!(!mentioning(world, &person.profile_id).contains(&audits[0].0), "which does not name the person");
}

#[tokio::test]
async fn erasing_a_person_removes_everything_but_the_payment_record_and_tells_them() {
    let world = World::new();
    let person = person(&world).await;
    let report = erase_on_request(&world, &person.profile_id).await.unwrap().expect("someone to erase");

    // Their four submissions, billing, history entry, mail log entry and pending export; the
    // export's, the topic's and the payment's receipt mail still owed; their email rate counters
    // (forms, per window and per day, confirmation and export-confirmation mails, and privacy
    // requests); the seventeen deliveries still owed to the teams' destinations (never dispatched
    // in this world: nine for their four submissions, three for the payment, five for the consent
    // withdrawn; they carry their data or their id, and go with it); and the profile.
    assert_eq!(report, ErasureReport { items_deleted: 34, cv_versions_deleted: 2, payments_retained: 1 });
    assert_erased(&world, &person);
    let audit = world.store.audit_month("2026-01").await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].action.as_str(), &audit[0].actor), ("erasure", &Actor::Person));
    assert_eq!(audit[0].counts["payments_retained"], 1);

    assert_eq!(world.dispatch().await.sent, 1, "the confirmation goes out");
    assert!(world.subjects_sent_to(ADDRESS)[0].contains("Your data has been deleted"));
    assert!(mentioning(&world, ADDRESS).is_empty(), "and then the address is forgotten");
    assert_eq!(erase_on_request(&world, &person.profile_id).await.unwrap(), None, "nothing is left to erase");
}

#[tokio::test]
async fn an_erasure_interrupted_before_the_profile_went_is_finished_by_asking_again() {
    let world = World::new();
    let person = person(&world).await;
    world.store.fail_operation("forget_profile", Fault::Unavailable);
    assert!(erase_on_request(&world, &person.profile_id).await.is_err());
    world.store.heal();
    assert!(
        world.store.item(world.store.profile_key_of(ADDRESS)).is_some(),
        "the profile, by which it is found again"
    );

    let report =
        erase_on_request(&world, &person.profile_id).await.unwrap().expect("the erasure is finished");
    // A resumed erasure reports what it removed itself: the rest went the first time.
    assert_eq!(report, ErasureReport { items_deleted: 1, cv_versions_deleted: 0, payments_retained: 1 });
    assert_erased(&world, &person);
    assert_eq!(world.dispatch().await.sent, 1, "one confirmation, however often it was asked for");
}

#[tokio::test]
async fn an_erasure_interrupted_at_any_step_leaves_nothing_once_asked_again() {
    // How many store calls an uninterrupted erasure makes: every one is a point it can stop at.
    let steps = {
        let world = World::new();
        let person = person(&world).await;
        let before = world.store.calls().len();
        erase_on_request(&world, &person.profile_id).await.unwrap();
        world.store.calls().len() - before
    };
    assert!(steps > 5, "{steps}");
    for step in 0..steps {
        let world = World::new();
        let person = person(&world).await;
        world.store.fail_after(step, Fault::Unavailable);
        assert!(erase_on_request(&world, &person.profile_id).await.is_err(), "step {step} fails");
        world.store.heal();
        let resumed =
            erase_on_request(&world, &person.profile_id).await.unwrap_or_else(|e| panic!("step {step}: {e}"));
        if let Some(report) = resumed {
            assert_eq!(report.payments_retained, 1, "step {step}");
        }
        assert_erased(&world, &person);
        assert_eq!(world.dispatch().await.sent, 1, "step {step}: one confirmation");
        // Wherever it stopped, the destinations that got (or were owed) their data are told once,
        // and Stripe forgets them: what the erasure read is gone by the time it is asked again.
        world.deliver().await;
        for destination in ["bus", "crm"] {
            let told = world
                .destinations
                .received(destination)
                .into_iter()
                .filter(|e| e.kind == EventType::PersonErased)
                .count();
            assert_eq!(told, 1, "step {step}: {destination} is told once");
        }
        assert_eq!(
            world.destinations.customers_deleted(),
            [format!("cus_{}", person.profile_id)],
            "step {step}"
        );
    }
}

#[tokio::test]
async fn nothing_of_an_erased_person_is_queued_or_recorded_after_their_erasure() {
    use steward_core::domain::destinations::{DeliveryStore, Submitted};
    let world = World::new();
    let receipt = world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    let owed = world.store.due_deliveries(world.now(), 100).await.unwrap();
    let id = owed[0].clone();
    let (claimed, _) = world
        .store
        .claim_delivery(&id, world.now(), std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    // The erasure runs while a dispatcher holds a delivery, and a late form's deliveries come after.
    erase_on_request(&world, &receipt.profile_id).await.unwrap().expect("erased");
    assert!(
        !world.store.delivered(&claimed, &[], world.now()).await.unwrap(),
        "nothing recorded in the emptied partition"
    );
    let form = world.catalogue.form("contact-us").unwrap();
    let data = steward_core::domain::forms::validation::validate(form, &{
        let mut input = steward_core::domain::forms::validation::FormInput::default();
        for (name, value) in [("name", NAME), ("email", ADDRESS), ("message", "Late")] {
            input.push(name, value.to_owned());
        }
        input
    })
    .unwrap();
    let late_id = steward_core::domain::ids::SubmissionId::new_random();
    let confirmed = std::collections::BTreeSet::new();
    let late = Submitted {
        id: &late_id,
        received_at: world.clock.timestamp(),
        language: Default::default(),
        purposes: &form.purposes,
        data: &data,
        confirmed_topics: &confirmed,
        restricted: false,
        objected: false,
    };
    let deliveries = steward_core::domain::destinations::for_submission(
        &world.catalogue,
        form,
        &late,
        &receipt.profile_id,
    );
    world.store.enqueue_deliveries(&deliveries, world.now()).await.unwrap();
    assert!(mentioning(&world, NAME).is_empty(), "nothing of them is queued again");
}

#[tokio::test]
async fn a_restricted_person_s_forms_go_nowhere_and_an_objecting_one_s_only_for_what_they_asked() {
    let world = World::new();
    let first = world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    world.deliver().await;
    let before = world.destinations.received("crm").len();
    set_limit(&world.store, &first.profile_id, Limit::Restrict, true, world.clock.timestamp()).await.unwrap();
    world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Again")]).await;
    world.deliver().await;
    let crm = world.destinations.received("crm");
    assert!(
        crm[before..].iter().all(|e| e.kind != EventType::SubmissionReceived),
        "restricted: kept, given to no one"
    );

    set_limit(&world.store, &first.profile_id, Limit::Restrict, false, world.clock.timestamp())
        .await
        .unwrap();
    set_limit(&world.store, &first.profile_id, Limit::Object, true, world.clock.timestamp()).await.unwrap();
    let registered = world
        .submit(
            "event-registration",
            &[
                ("name", NAME),
                ("email", ADDRESS),
                ("phone", "+44 20 7946 0958"),
                ("job_title", "CTO"),
                ("company", "Acme"),
                ("country", "GB"),
                ("state", "GB-LND"),
                ("event", "identity-workshop"),
                ("interests", "events"),
            ],
        )
        .await;
    world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Objecting")]).await;
    world.deliver().await;
    let received: Vec<_> = world
        .destinations
        .received("crm")
        .into_iter()
        .filter(|e| e.kind == EventType::SubmissionReceived)
        .collect();
    assert!(
        !received.iter().any(|e| e.data["fields"]["message"] == "Objecting"),
        "no legitimate interests while objecting"
    );
    let registration = received
        .iter()
        .find(|e| e.data["submission_id"] == registered.submission_id.as_str())
        .expect("the contract goes");
    assert_eq!(registration.data["purposes"], json!(["event-registration"]));
    assert!(registration.data["fields"].get("interests").is_none(), "and no marketing");
}

#[tokio::test]
async fn a_submission_arriving_during_erasure_is_erased_too() {
    let world = World::new();
    let person = person(&world).await;
    // The plan is read, then a new submission lands before the profile goes: the profile changed,
    // so this round refuses to forget it, and the next round erases the newcomer too.
    world.store.fail_operation("forget_profile", Fault::Unavailable);
    assert!(erase_on_request(&world, &person.profile_id).await.is_err());
    world.store.heal();
    world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Still there?")]).await;
    erase_on_request(&world, &person.profile_id).await.unwrap().expect("erased");
    assert_erased(&world, &person);
}

// --- Retention ------------------------------------------------------------------------------

async fn sweep_now(world: &World) -> steward_core::domain::privacy::retention::SweepReport {
    sweep(&world.store, &world.cvs, world.now(), |_| ControlFlow::Continue(())).await.unwrap()
}

/// After the destinations are told (the deliveries dispatched), only audit records are left, and
/// each erasure's tombstone: a keyed hash of the id, gone when no delivery can wait any longer.
async fn assert_only_audit_left(world: &World) {
    world.deliver().await;
    let left: Vec<String> = world
        .store
        .items()
        .into_iter()
        .map(|((pk, _), _)| pk)
        .filter(|pk| !pk.starts_with("AUDIT#") && !pk.starts_with("ERASED#"))
        .collect();
    assert!(left.is_empty(), "only the audit records are left: {left:?}");
}

#[tokio::test]
async fn expired_submissions_are_swept_and_the_profile_goes_with_the_last_of_them_quietly() {
    let world = World::new();
    let question = world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    let newsletter = world.submit("newsletter", &[("email", ADDRESS), ("interests", "cloud")]).await;
    let profile_id = &question.profile_id;
    world.dispatch().await; // the confirmation request goes; its sent marker stays a month

    world.clock.advance(366 * 86_400);
    let report = sweep_now(&world).await;
    assert_eq!(report.items.get("submission"), Some(&1), "contact-us keeps a year");
    assert_eq!(
        report.items.get("rate_counter"),
        Some(&4),
        "one window's counters, per address and per IP, and the address's day and its confirmation mails"
    );
    assert_eq!(report.items.get("outbox_sent"), Some(&1));
    assert_eq!(report.profiles, 0, "the newsletter signup is still kept");
    assert!(world.store.item(keys::submission(profile_id, question.submission_id.as_str())).is_none());
    assert!(world.store.item(keys::submission(profile_id, newsletter.submission_id.as_str())).is_some());

    world.clock.advance(365 * 86_400);
    let report = sweep_now(&world).await;
    assert_eq!((report.items.get("submission"), report.profiles), (Some(&1), 1));
    assert_only_audit_left(&world).await;
    let month = &world.clock.timestamp().rfc3339()[..7];
    assert_eq!(world.store.audit_month(month).await.unwrap()[0].actor, Actor::Retention);
    assert_eq!(world.dispatch().await.sent, 0, "nobody asked: no mail");
}

#[tokio::test]
async fn an_expired_applications_cvs_are_deleted_with_it() {
    let world = World::new();
    let person = person(&world).await;
    world.clock.advance(181 * 86_400);
    let report = sweep_now(&world).await;
    assert_eq!(report.cv_versions, 2);
    assert!(world.cvs.versions().iter().all(|v| !v.key.contains(&person.application)));
    assert_eq!(report.export_versions, 1, "and a large export past its link's life");
    assert!(world.cvs.versions().is_empty());
}

#[tokio::test]
async fn the_sweep_gives_back_seats_of_lapsed_checkouts_but_never_a_paid_one() {
    let world = World::new();
    let person = person(&world).await; // a paid seat of the workshop
    let other = world
        .submit(
            "event-registration",
            &[
                ("name", "Ben"),
                ("email", &email("ben")),
                ("phone", "+44 20 7946 0958"),
                ("job_title", "CTO"),
                ("company", "Acme"),
                ("country", "GB"),
                ("state", "GB-LND"),
                ("event", "identity-workshop"),
            ],
        )
        .await;
    let grant = world.grant(&other, "event:identity-workshop");
    world.start_payment(&grant).await.unwrap();

    world.clock.advance(31 * 60);
    assert_eq!(sweep_now(&world).await.seat_holds, 1);
    let (event_pk, _) = keys::seats("identity-workshop");
    let holds: Vec<String> = world
        .store
        .partition(&event_pk)
        .into_iter()
        .map(|((_, sk), _)| sk)
        .filter(|sk| sk.starts_with("HOLD#"))
        .collect();
    assert_eq!(holds, [format!("HOLD#{}", person.registration.submission_id.as_str())]);
    assert_eq!(sweep_now(&world).await.seat_holds, 0);
}

#[tokio::test]
async fn once_every_submission_expired_a_paid_person_goes_and_only_the_stripped_payment_stays_its_time() {
    let world = World::new();
    let person = person(&world).await;
    world.clock.advance(3 * 365 * 86_400);
    assert_eq!(sweep_now(&world).await.profiles, 1, "a payment that is over does not keep the person");
    assert!(world.store.item(world.store.profile_key_of(ADDRESS)).is_none());
    let left = world.store.partition(&keys::profile_partition(&person.profile_id));
    assert_eq!(left.len(), 1, "only the payment record the law requires: {left:?}");
    assert!(left[0].1.get("email").is_none() && left[0].1.get("name").is_none(), "stripped");

    world.clock.advance(5 * 365 * 86_400);
    let report = sweep_now(&world).await;
    assert_eq!(report.items.get("payment"), Some(&1), "then it goes too, at the end of its own retention");
    assert!(world.store.partition(&keys::profile_partition(&person.profile_id)).is_empty());
}

#[tokio::test]
async fn once_a_payment_record_expires_nothing_leads_back_to_it() {
    let world = World::new();
    let person = person(&world).await;
    world.clock.advance(8 * 365 * 86_400);
    sweep_now(&world).await;
    // Stripe is owed the erasure of their customer: once it is delivered, nothing is left.
    world.deliver().await;
    assert!(
        mentioning(&world, &person.profile_id).is_empty(),
        "{:?}",
        mentioning(&world, &person.profile_id)
    );
}

#[tokio::test]
async fn cvs_the_sweep_failed_to_delete_are_deleted_by_the_next_sweep() {
    let world = World::new();
    person(&world).await;
    world.clock.advance(181 * 86_400);
    world.cvs.set_failing(true);
    assert!(sweep_now(&world).await.cv_failures > 0);
    world.cvs.set_failing(false);
    sweep_now(&world).await;
    assert!(world.cvs.versions().is_empty(), "{:?}", world.cvs.versions());
}

#[tokio::test]
async fn a_sweep_stopped_between_pages_is_carried_on_by_the_next() {
    let mut world = World::new();
    world.store = world.store.with_page_size(3);
    for who in ["ana", "ben", "cy"] {
        world.submit("contact-us", &[("name", who), ("email", &email(who)), ("message", "Hi")]).await;
    }
    world.clock.advance(366 * 86_400);
    let stopped = sweep(&world.store, &world.cvs, world.now(), |_| ControlFlow::Break(())).await.unwrap();
    assert!(stopped.stopped);
    let rest = sweep_now(&world).await;
    assert!(!rest.stopped);
    assert_eq!(stopped.profiles + rest.profiles, 3);
    assert_only_audit_left(&world).await;
}

#[tokio::test]
async fn a_scheduled_sweep_out_of_time_keeps_its_place_and_the_next_run_finishes_the_pass() {
    use steward_core::domain::privacy::retention::sweep_on;
    let mut world = World::new();
    world.store = world.store.with_page_size(2);
    for who in ["ana", "ben", "cy", "dee"] {
        world.submit("contact-us", &[("name", who), ("email", &email(who)), ("message", "Hi")]).await;
    }
    world.clock.advance(366 * 86_400);
    let began = world.now();
    // Each run has time for one page only.
    let mut runs = Vec::new();
    for _ in 0..40 {
        let run = sweep_on(&world.store, &world.cvs, world.now(), |_| ControlFlow::Break(())).await.unwrap();
        world.clock.advance(3_600);
        let finished = run.pass_seconds.is_some();
        runs.push(run);
        if finished {
            break;
        }
    }
    let last = runs.last().unwrap();
    assert!(runs.len() > 1 && runs[1..].iter().all(|run| run.resumed), "each run carries on the last");
    assert_eq!(last.pass_seconds, Some(world.now() - 3_600 - began), "and says how long the pass took");
    assert_eq!(runs.iter().map(|run| run.profiles).sum::<usize>(), 4, "the pass reached the end");
    assert_only_audit_left(&world).await;
}

// --- Export ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_persons_export_holds_everything_kept_about_them_and_nothing_of_anyone_else() {
    let world = World::new();
    let person = person(&world).await;
    world
        .submit("contact-us", &[("name", "Someone Else"), ("email", &email("else")), ("message", "Hi")])
        .await;

    let export = world.store.everything(&person.profile_id).await.unwrap().expect("someone to export");
    let profile = &export["profile"];
    assert_eq!((profile["email"].as_str(), profile["full_name"].as_str()), (Some(ADDRESS), Some(NAME)));
    assert_eq!(profile["marketing_topics"], json!(["cloud"]));
    assert_eq!(profile["withdrawn_consents"], json!(["contest"]));
    for internal in ["gsi1pk", "type", "v", "last_submission_id"] {
        assert!(profile.get(internal).is_none(), "{internal} is bookkeeping, not data");
    }
    assert!(profile["retained_until"].as_str().is_some(), "as long as the longest-kept record");
    let count = |section: &str| export[section].as_array().map_or(0, Vec::len);
    assert_eq!(
        [count("submissions"), count("payments"), count("billing")],
        [4, 1, 1],
        "four forms, one payment, one Stripe customer"
    );
    assert_eq!(
        [count("mail_preference_history"), count("profile_history"), count("pending_requests")],
        [1, 1, 1]
    );
    let payment = &export["payments"][0];
    assert_eq!((payment["status"].as_str(), payment["amount"].as_i64()), (Some("succeeded"), Some(15000)));
    assert!(payment.get("status_version").is_none());
    let submission =
        export["submissions"].as_array().unwrap().iter().find(|s| s["form"] == "contact-us").unwrap();
    assert_eq!(submission["fields"]["message"], "Hello");
    assert_eq!(submission["consent"]["policy_version"], "2018-03-23");
    assert!(submission["retained_until"].as_str().is_some_and(|t| t.starts_with("2027-01-01")));
    assert_eq!(export["pending_requests"][0]["address"], "lawyer@example.org");
    assert_eq!(export["data_controller"], "WSO2 UK Limited", "a UK resident's");
    assert!(export["supervisory_authority"].as_str().is_some_and(|a| a.contains("ico.org.uk")));
    assert_eq!(count("recipients"), 4);
    assert!(!export.to_string().contains(&email("else")), "nobody else's data");

    let csv = export_csv(&export);
    assert!(csv.contains(&format!("profile,,email,{ADDRESS}")), "{csv}");
    assert!(csv.contains("data_controller,,,WSO2 UK Limited"));
}

/// The token in the link of the one message owed whose id starts with `id_prefix`.
fn token_mailed(world: &World, id_prefix: &str) -> (String, String) {
    let owed: Vec<OutboxMessage> = world
        .store
        .transactional_outbox()
        .into_iter()
        .filter(|((_, id), _)| id.starts_with(id_prefix))
        .filter_map(|(_, item)| serde_json::from_str::<OutboxMessage>(item["message"].as_str()?).ok())
        .collect();
    let [message] = owed.as_slice() else { panic!("{} messages {id_prefix}… owed", owed.len()) };
    let link = message.values["link_url"].as_str().expect("a link");
    (message.to.clone(), link.split_once("token=").expect("a token").1.to_owned())
}

#[tokio::test]
async fn an_export_to_someone_else_waits_for_the_persons_confirmation_and_its_link_confirms_once() {
    let world = World::new();
    let person = person(&world).await; // asked for an export to lawyer@example.org
    let (to, confirm) = token_mailed(&world, "export-confirm-");
    assert_eq!(to, ADDRESS, "the person confirms from their own address");

    let (_, recipient) = confirm_export_to(&world.store, &world.config, &confirm, world.now()).await.unwrap();
    assert_eq!(recipient, "lawyer@example.org");
    assert!(matches!(
        confirm_export_to(&world.store, &world.config, &confirm, world.now()).await,
        Err(RightsError::LinkUsed)
    ));

    let (to, download) = token_mailed(&world, "export-ready-");
    assert_eq!(to, "lawyer@example.org");
    let (whose, format) = export_download(&world.store, &world.config, &download, world.now()).await.unwrap();
    assert_eq!((whose.as_str(), format), (person.profile_id.as_str(), ExportFormat::Json));
    assert!(export_download(&world.store, &world.config, &download, world.now()).await.is_ok(), "read only");

    erase(&world.store, &world.cvs, None, &person.profile_id, ErasureReason::Request, world.now())
        .await
        .unwrap();
    assert!(
        matches!(
            export_download(&world.store, &world.config, &download, world.now()).await,
            Err(RightsError::LinkUsed)
        ),
        "the link dies with the data"
    );
    assert_eq!(world.store.everything(&person.profile_id).await.unwrap(), None);
}

#[tokio::test]
async fn a_live_export_link_and_its_recipient_are_listed_and_the_person_can_take_it_back() {
    let world = World::new();
    let person = person(&world).await; // asked for an export to lawyer@example.org
    let (_, confirm) = token_mailed(&world, "export-confirm-");
    confirm_export_to(&world.store, &world.config, &confirm, world.now()).await.unwrap();
    let (_, download) = token_mailed(&world, "export-ready-");

    let everything = world.store.everything(&person.profile_id).await.unwrap().unwrap();
    let links = everything["export_links"].as_array().expect("listed");
    assert_eq!(links.len(), 1, "{everything:#}");
    assert_eq!(links[0]["address"], "lawyer@example.org", "to whom");
    assert!(links[0]["works_until"].is_string(), "until when");
    let link_id = links[0]["link_id"].as_str().unwrap().to_owned();

    revoke_export_link(&world.store, &person.profile_id, &link_id, world.now()).await.unwrap();
    assert!(
        matches!(
            export_download(&world.store, &world.config, &download, world.now()).await,
            Err(RightsError::LinkUsed)
        ),
        "a revoked link downloads nothing"
    );
    assert!(matches!(
        revoke_export_link(&world.store, &person.profile_id, &link_id, world.now()).await,
        Err(RightsError::NoSuchRequest)
    ));
    let everything = world.store.everything(&person.profile_id).await.unwrap().unwrap();
    assert_eq!(everything["export_links"], serde_json::json!([]));
}

// --- Signing in -----------------------------------------------------------------------------

#[tokio::test]
async fn a_sign_in_link_goes_to_the_address_the_profile_holds_not_the_spelling_typed() {
    let world = World::new();
    world
        .submit("contact-us", &[("name", NAME), ("email", "Ana.Silva@example.com"), ("message", "Hi")])
        .await;
    let typed = Email::parse("email", "ANA.SILVA@EXAMPLE.COM").unwrap();
    request_link(
        &world.store,
        &NoHumanCheck,
        &world.config,
        &typed,
        &Evidence::none("192.0.2.1"),
        world.now(),
    )
    .await
    .unwrap();
    world.dispatch().await;
    assert_eq!(world.mail.sent_to("Ana.Silva@example.com").len(), 1, "to the address held");
    assert!(world.mail.sent_to("ANA.SILVA@EXAMPLE.COM").is_empty(), "never to the spelling typed");
}

#[tokio::test]
async fn a_sign_in_link_goes_out_at_once_during_a_hundred_thousand_person_campaign() {
    use steward_core::domain::mail::outbox::{OutboxMessage, OutboxStore as _};
    use steward_core::domain::mail::MailKind;
    let world = World::new();
    world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    for n in 0..100_000 {
        let message = OutboxMessage {
            id: format!("campaign-2026-12-cloud-{n:06}"),
            kind: MailKind::Marketing,
            to: format!("reader{n}@example.com"),
            profile_id: steward_core::domain::ids::ProfileId::new_random(),
            subject: "News".into(),
            template: "campaign".into(),
            lang: Default::default(),
            values: serde_json::json!({"paragraphs": ["News."]}),
            topic: Some("cloud".into()),
            unsubscribe_url: None,
        };
        world.store.enqueue(&message, world.now()).await.unwrap();
    }
    let known = Email::parse("email", ADDRESS).unwrap();
    request_link(
        &world.store,
        &NoHumanCheck,
        &world.config,
        &known,
        &Evidence::none("192.0.2.1"),
        world.now(),
    )
    .await
    .unwrap();
    // The next run of the dispatcher (every minute) sends it, ahead of the whole campaign.
    world.dispatch().await;
    assert_eq!(world.mail.sent_to(ADDRESS).len(), 1, "the sign-in link is out");
}

#[tokio::test]
async fn a_sign_in_link_goes_only_to_a_known_address_and_works_once() {
    let world = World::new();
    let unknown = Email::parse("email", &email("stranger")).unwrap();
    request_link(
        &world.store,
        &NoHumanCheck,
        &world.config,
        &unknown,
        &Evidence::none("192.0.2.1"),
        world.now(),
    )
    .await
    .unwrap();
    assert!(world.store.transactional_outbox().is_empty(), "the same answer, and nothing sent");

    world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    let known = Email::parse("email", ADDRESS).unwrap();
    request_link(
        &world.store,
        &NoHumanCheck,
        &world.config,
        &known,
        &Evidence::none("192.0.2.1"),
        world.now(),
    )
    .await
    .unwrap();
    let (_, link) = token_mailed(&world, "signin-");
    let (session, expires_at) = start_session(&world.store, &world.config, &link, world.now()).await.unwrap();
    assert!(!session.is_empty() && expires_at == world.now() + 30 * 60);
    assert!(matches!(
        start_session(&world.store, &world.config, &link, world.now()).await,
        Err(PrivacyError::LinkUsed)
    ));

    world.dispatch().await;
    request_link(
        &world.store,
        &NoHumanCheck,
        &world.config,
        &known,
        &Evidence::none("192.0.2.1"),
        world.now(),
    )
    .await
    .unwrap();
    let (_, late) = token_mailed(&world, "signin-");
    world.clock.advance(16 * 60);
    assert!(matches!(
        start_session(&world.store, &world.config, &late, world.now()).await,
        Err(PrivacyError::LinkUsed)
    ));
}

#[tokio::test]
async fn a_flood_of_sign_in_requests_sends_a_few_links_a_day_and_never_locks_the_owner_out() {
    use steward_core::domain::mail::recipients::MailPurpose;
    let world = World::new();
    world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    let known = Email::parse("email", ADDRESS).unwrap();
    // A stranger asks again and again, from many places: no 429 for the address, ever.
    let mut newest = None;
    for n in 0..30 {
        let ip = format!("198.51.100.{n}");
        request_link(&world.store, &NoHumanCheck, &world.config, &known, &Evidence::none(&ip), world.now())
            .await
            .expect("never refused");
        if world.store.transactional_outbox().iter().any(|((_, id), _)| id.starts_with("signin-")) {
            newest = Some(token_mailed(&world, "signin-").1);
        }
        world.dispatch().await;
        world.clock.advance(60);
    }
    let sent = world.mail.sent_to(ADDRESS).len() as u32;
    assert_eq!(sent, MailPurpose::SignIn.per_day(), "a few links a day, not thirty");

    // Twenty minutes after the last link went out (its own time is fifteen), the owner asks:
    // nothing more is sent, and the newest link in their mailbox works.
    world.clock.advance(20 * 60);
    request_link(
        &world.store,
        &NoHumanCheck,
        &world.config,
        &known,
        &Evidence::none("203.0.113.7"),
        world.now(),
    )
    .await
    .unwrap();
    world.dispatch().await;
    assert_eq!(world.mail.sent_to(ADDRESS).len() as u32, sent, "nothing more in the inbox");
    let newest = newest.expect("a link was mailed");
    assert!(
        start_session(&world.store, &world.config, &newest, world.now()).await.is_ok(),
        "the owner signs in"
    );
    let counters: Vec<_> =
        world.store.items().into_iter().filter(|((pk, _), _)| pk.starts_with("RATE#mail-sign-in#")).collect();
    assert!(!counters.is_empty());
    assert!(
        counters
            .iter()
            .all(|(_, counter)| counter["events"].as_array().is_some_and(|events| events.len() <= 6)),
        "a flood does not grow the counter past its limit"
    );
}

#[tokio::test]
async fn asking_past_the_limit_never_brings_an_older_link_back() {
    use steward_core::domain::mail::recipients::MailPurpose;
    let world = World::new();
    world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    let known = Email::parse("email", ADDRESS).unwrap();
    let mut links = Vec::new();
    for n in 0..MailPurpose::SignIn.per_day() {
        world.clock.advance(20 * 60);
        request_link(
            &world.store,
            &NoHumanCheck,
            &world.config,
            &known,
            &Evidence::none(&format!("198.51.100.{n}")),
            world.now(),
        )
        .await
        .unwrap();
        links.push(token_mailed(&world, "signin-").1);
        world.dispatch().await;
    }
    // The first link, long lapsed, and the newest, used: asking again past the limit revives
    // neither the first nor any other.
    start_session(&world.store, &world.config, links.last().unwrap(), world.now()).await.unwrap();
    request_link(
        &world.store,
        &NoHumanCheck,
        &world.config,
        &known,
        &Evidence::none("203.0.113.9"),
        world.now(),
    )
    .await
    .unwrap();
    for link in &links {
        assert!(start_session(&world.store, &world.config, link, world.now()).await.is_err());
    }
}

#[tokio::test]
async fn a_sign_in_link_issued_before_an_erasure_opens_nothing() {
    let world = World::new();
    let receipt = world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    let known = Email::parse("email", ADDRESS).unwrap();
    request_link(
        &world.store,
        &NoHumanCheck,
        &world.config,
        &known,
        &Evidence::none("192.0.2.1"),
        world.now(),
    )
    .await
    .unwrap();
    let (_, link) = token_mailed(&world, "signin-");
    erase_on_request(&world, &receipt.profile_id).await.unwrap();
    assert!(matches!(
        start_session(&world.store, &world.config, &link, world.now()).await,
        Err(PrivacyError::LinkUsed)
    ));
}

#[tokio::test]
async fn a_person_gets_a_receipt_of_each_consent_with_the_notice_and_the_evidence() {
    let world = World::new();
    let receipt = world.submit("newsletter", &[("email", ADDRESS), ("interests", "cloud")]).await;
    world
        .store
        .change_preferences(
            &receipt.profile_id,
            &crate::support::confirm(&["cloud"]),
            ChangeSource::Confirmation,
            "tok-9",
        )
        .await
        .unwrap();
    let everything = world.store.everything(&receipt.profile_id).await.unwrap().unwrap();
    let receipts = steward_core::domain::privacy::receipts::consent_receipts(
        &everything,
        &world.catalogue,
        &world.config,
    );
    assert_eq!(receipts.len(), 2, "the form's consent and the confirmation: {receipts:#?}");
    let form = &receipts[0];
    assert_eq!(form["version"], "KI-CR-v1.1.0");
    assert_eq!(form["piiPrincipalId"], ADDRESS);
    assert_eq!(
        form["steward"]["notice_sha256"],
        world.catalogue.form("newsletter").unwrap().notice_digest.as_str()
    );
    assert_eq!(form["services"][0]["purposes"][0]["consentType"], "EXPLICIT");
    let confirmation = &receipts[1];
    assert_eq!(confirmation["services"][0]["purposes"][0]["purposeCategory"][1], "cloud");
    assert_eq!(confirmation["steward"]["source_ip"], "198.51.100.7", "who clicked, from where");
    assert_eq!(confirmation["steward"]["policy_version"], "2018-03-23", "under which policy");
    assert!(form["consentTimestamp"].is_i64(), "seconds since the epoch, as the specification has it");

    // A form with a marketing purpose but no topic ticked gave no marketing consent.
    let fields = [
        ("name", NAME),
        ("email", ADDRESS),
        ("company", "Acme"),
        ("country", "PT"),
        ("product", "api-manager"),
    ];
    world.submit("product-download", &fields).await;
    let everything = world.store.everything(&receipt.profile_id).await.unwrap().unwrap();
    let receipts = steward_core::domain::privacy::receipts::consent_receipts(
        &everything,
        &world.catalogue,
        &world.config,
    );
    let download = receipts.iter().find(|r| r["steward"]["form"] == "product-download").unwrap();
    let purposes: Vec<&str> = download["services"][0]["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purposeId"].as_str().unwrap())
        .collect();
    assert!(!purposes.contains(&"marketing"), "{purposes:?}");
}

#[tokio::test]
async fn a_person_deletes_an_application_sent_in_their_name_with_its_cv() {
    let world = World::new();
    let mine = world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    let theirs = world
        .submit(
            "careers",
            &[
                ("name", "Mallory"),
                ("email", ADDRESS),
                ("phone", "+44 20 7946 0958"),
                ("country", "GB"),
                ("position", "Spy"),
            ],
        )
        .await;
    let cv = world.cvs.put_cv(theirs.submission_id.as_str(), world.now());
    world.cvs.put(&cv, world.now() + 1);

    steward_core::domain::privacy::correction::delete_submission(
        &world.store,
        &world.cvs,
        &mine.profile_id,
        theirs.submission_id.as_str(),
    )
    .await
    .unwrap();
    let everything = world.store.everything(&mine.profile_id).await.unwrap().unwrap();
    let held: Vec<&str> =
        everything["submissions"].as_array().unwrap().iter().map(|s| s["form"].as_str().unwrap()).collect();
    assert_eq!(held, ["contact-us"], "theirs is gone, mine stays");
    assert!(everything["profile"].get("phone").is_none(), "what it filled in goes with it");
    assert_eq!(everything["profile"]["full_name"], NAME, "what the person gave stays");
    assert!(
        world.cvs.versions().iter().all(|v| !v.key.contains(theirs.submission_id.as_str())),
        "with its CV"
    );
    assert_eq!(
        everything["profile_history"][0]["change"], "deleted a submission",
        "said, without what it held"
    );
    assert!(matches!(
        steward_core::domain::privacy::correction::delete_submission(
            &world.store,
            &world.cvs,
            &mine.profile_id,
            theirs.submission_id.as_str()
        )
        .await,
        Err(RightsError::NotFound)
    ));
}

#[tokio::test]
async fn asking_for_a_sign_in_link_takes_a_proof_of_work_once_or_a_third_of_the_limit_without_one() {
    use steward_core::domain::forms::proof::{self, ProofError};
    let world = World::new();
    let known = Email::parse("email", ADDRESS).unwrap();
    let plain = Evidence::none("192.0.2.77");
    for _ in 0..(world.config.rate_limits.per_ip / 3).max(1) {
        request_link(&world.store, &NoHumanCheck, &world.config, &known, &plain, world.now())
            .await
            .expect("a plain form works");
    }
    let refused = request_link(&world.store, &NoHumanCheck, &world.config, &known, &plain, world.now()).await;
    assert!(matches!(refused, Err(PrivacyError::RateLimited(_))), "{refused:?}");

    let challenge = proof::next_challenge(&world.store, &world.config, "192.0.2.77", world.clock.timestamp())
        .await
        .unwrap();
    let solution = proof::solve(&challenge).unwrap();
    let proven = Evidence { remote_ip: "192.0.2.77", proof_of_work: Some(&solution), turnstile: None };
    request_link(&world.store, &NoHumanCheck, &world.config, &known, &proven, world.now())
        .await
        .expect("with a proof, the full limit");
    let replayed =
        request_link(&world.store, &NoHumanCheck, &world.config, &known, &proven, world.now()).await;
    assert!(matches!(replayed, Err(PrivacyError::Proof(ProofError::Used))), "{replayed:?}");
}

#[tokio::test]
async fn a_sign_in_links_page_says_whose_center_it_opens_and_a_forged_link_says_nothing() {
    use steward_core::domain::privacy::access::whose_link;
    let world = World::new();
    world.submit("contact-us", &[("name", NAME), ("email", ADDRESS), ("message", "Hi")]).await;
    let known = Email::parse("email", ADDRESS).unwrap();
    let asker = Evidence::none("192.0.2.90");
    request_link(&world.store, &NoHumanCheck, &world.config, &known, &asker, world.now()).await.unwrap();
    let (_, token) = token_mailed(&world, "signin-");
    let (local, domain) = ADDRESS.split_once('@').unwrap();
    let masked = format!("{}•••@{domain}", &local[..1]);
    assert_eq!(whose_link(&world.store, &world.config, &token, world.now()).await, Some(masked));
    assert_eq!(whose_link(&world.store, &world.config, "k1.forged.link", world.now()).await, None);
}

#[tokio::test]
async fn the_old_address_is_told_of_an_email_change_and_can_take_its_address_back() {
    let world = World::new();
    let person = person(&world).await;
    world.dispatch().await; // what the person's story owed is sent: only this change's mail is left
    let new = "new-home@example.org";
    let mut input = steward_core::domain::forms::validation::FormInput::default();
    input.push("email", new.to_owned());
    correct(&world.store, &world.config, &person.profile_id, &input, world.now()).await.unwrap();
    let (to, confirm) = token_mailed(&world, "email-change-");
    assert_eq!(to, new);
    confirm_email_change(&world.store, &world.config, &confirm, world.now()).await.unwrap();
    assert_eq!(world.store.address_of(&person.profile_id).await.unwrap().as_deref(), Some(new));

    // The old address hears of it at once, with the new one (masked) and a way back.
    let (to, undo) = token_mailed(&world, "email-changed-");
    assert_eq!(to, ADDRESS);
    let report = world.dispatch().await;
    assert!(report.sent >= 1);
    let told = world.mail.sent_to(ADDRESS).last().expect("a notice").raw.clone();
    assert!(told.contains("n•••@example.org") || told.contains("n=E2=80=A2"), "{told}");

    // Whoever holds the new address signs in; undoing from the old address ends that session.
    let signed_in = Email::parse("email", new).unwrap();
    request_link(
        &world.store,
        &NoHumanCheck,
        &world.config,
        &signed_in,
        &Evidence::none("192.0.2.1"),
        world.now(),
    )
    .await
    .unwrap();
    let (_, link) = token_mailed(&world, "signin-");
    let (session, _) = start_session(&world.store, &world.config, &link, world.now()).await.unwrap();

    let back = undo_email_change(&world.store, &world.config, &undo, world.now()).await.unwrap();
    assert_eq!(back, ADDRESS);
    assert_eq!(world.store.address_of(&person.profile_id).await.unwrap().as_deref(), Some(ADDRESS));
    assert!(
        steward_core::domain::privacy::access::session(&world.store, &world.config, &session, world.now())
            .await
            .is_err(),
        "the session opened with the new address is over"
    );
    assert!(matches!(
        undo_email_change(&world.store, &world.config, &undo, world.now()).await,
        Err(RightsError::LinkUsed)
    ));
}

/// Moves the person's profile to `to`, confirmed from there, as whoever holds a session would;
/// answers the token of the way back mailed to the address it left.
async fn move_address(world: &World, person: &Person, to: &str) -> String {
    world.dispatch().await;
    let mut input = steward_core::domain::forms::validation::FormInput::default();
    input.push("email", to.to_owned());
    correct(&world.store, &world.config, &person.profile_id, &input, world.now()).await.unwrap();
    let (_, confirm) = token_mailed(world, "email-change-");
    confirm_email_change(&world.store, &world.config, &confirm, world.now()).await.unwrap();
    let (_, undo) = token_mailed(world, "email-changed-");
    undo
}

#[tokio::test]
async fn whoever_changed_the_address_cannot_move_the_profile_away_again_once_its_owner_takes_it_back() {
    let world = World::new();
    let person = person(&world).await;
    let owners_way_back = move_address(&world, &person, "thief-1@example.org").await;
    let thiefs_way_back = move_address(&world, &person, "thief-2@example.org").await;
    // A change set going but not confirmed yet, to confirm once the owner is back.
    world.dispatch().await;
    let mut input = steward_core::domain::forms::validation::FormInput::default();
    input.push("email", "thief-3@example.org".to_owned());
    correct(&world.store, &world.config, &person.profile_id, &input, world.now()).await.unwrap();
    let (_, pending) = token_mailed(&world, "email-change-");

    undo_email_change(&world.store, &world.config, &owners_way_back, world.now()).await.unwrap();
    assert!(matches!(
        undo_email_change(&world.store, &world.config, &thiefs_way_back, world.now()).await,
        Err(RightsError::LinkUsed)
    ));
    assert!(matches!(
        confirm_email_change(&world.store, &world.config, &pending, world.now()).await,
        Err(RightsError::LinkUsed)
    ));
    assert_eq!(world.store.address_of(&person.profile_id).await.unwrap().as_deref(), Some(ADDRESS));
}

#[tokio::test]
async fn an_old_address_taken_by_a_form_meanwhile_keeps_its_way_back_until_it_is_free() {
    let world = World::new();
    let person = person(&world).await;
    let way_back = move_address(&world, &person, "elsewhere@example.org").await;
    // Someone sends a form with the old address: a profile of its own now holds it.
    let squatter =
        world.submit("contact-us", &[("name", "Someone"), ("email", ADDRESS), ("message", "Hi")]).await;
    assert!(matches!(
        undo_email_change(&world.store, &world.config, &way_back, world.now()).await,
        Err(RightsError::EmailTaken)
    ));
    // Its owner signs in there and deletes it; the same link then works.
    erase(&world.store, &world.cvs, None, &squatter.profile_id, ErasureReason::Request, world.now())
        .await
        .unwrap();
    let back = undo_email_change(&world.store, &world.config, &way_back, world.now()).await.unwrap();
    assert_eq!(back, ADDRESS);
    assert_eq!(world.store.address_of(&person.profile_id).await.unwrap().as_deref(), Some(ADDRESS));
}

#[tokio::test]
async fn a_profile_moved_to_another_address_while_it_is_erased_is_erased_where_it_went() {
    let world = World::new();
    let person = person(&world).await;
    // The address changed between the erasure's plan and its end: the same profile, under the
    // key of the address it moved to (as a confirmed change or an undo leaves it).
    let (old_key, mut moved) = world
        .store
        .items()
        .into_iter()
        .find(|((_, sk), item)| sk == "PROFILE" && item["profile_id"] == person.profile_id.as_str())
        .unwrap();
    moved.insert("email".into(), "moved@example.org".into());
    world.store.put_item(world.store.profile_key_of("moved@example.org"), moved);
    erase_on_request(&world, &person.profile_id).await.unwrap().expect("erased");
    assert!(world.store.item(old_key).is_none());
    assert!(
        world.store.item(world.store.profile_key_of("moved@example.org")).is_none(),
        "nothing left where it went"
    );
    assert!(mentioning(&world, NAME).is_empty(), "the name is gone everywhere");
    assert_only_the_payment_left(&world, &person);
}

#[tokio::test]
async fn a_person_calls_off_a_change_or_export_under_way_but_never_an_old_addresss_way_back() {
    let world = World::new();
    let person = person(&world).await; // asked for an export to lawyer@example.org
    let way_back = move_address(&world, &person, "moved@example.org").await;
    world.dispatch().await;
    let mut input = steward_core::domain::forms::validation::FormInput::default();
    input.push("email", "next@example.org".to_owned());
    correct(&world.store, &world.config, &person.profile_id, &input, world.now()).await.unwrap();
    let (_, change) = token_mailed(&world, "email-change-");

    let everything = world.store.everything(&person.profile_id).await.unwrap().unwrap();
    let pending = everything["pending_requests"].as_array().unwrap().clone();
    let id_of = |kind: &str| {
        pending
            .iter()
            .find(|r| r["request"] == kind)
            .and_then(|r| r["request_id"].as_str())
            .unwrap()
            .to_owned()
    };
    for shown in ["email_change", "export"] {
        let kind = RequestKind::cancellable(shown).expect("cancellable");
        cancel_request(&world.store, &person.profile_id, kind, &id_of(shown), world.now()).await.unwrap();
        assert!(matches!(
            cancel_request(&world.store, &person.profile_id, kind, &id_of(shown), world.now()).await,
            Err(RightsError::NoSuchRequest)
        ));
    }
    assert!(matches!(
        confirm_email_change(&world.store, &world.config, &change, world.now()).await,
        Err(RightsError::LinkUsed)
    ));
    assert_eq!(
        RequestKind::cancellable("email_change_undo"),
        None,
        "an old address's way back is not offered"
    );
    assert!(matches!(
        cancel_request(
            &world.store,
            &person.profile_id,
            RequestKind::EmailChangeUndo,
            &id_of("email_change_undo"),
            world.now()
        )
        .await,
        Err(RightsError::Invalid(_))
    ));
    undo_email_change(&world.store, &world.config, &way_back, world.now()).await.unwrap();
}

#[tokio::test]
async fn an_address_change_confirmed_while_an_erasure_runs_never_moves_the_profile_out_from_under_it() {
    let world = World::new();
    let person = person(&world).await;
    world.dispatch().await;
    let mut input = steward_core::domain::forms::validation::FormInput::default();
    input.push("email", "moving@example.org".to_owned());
    correct(&world.store, &world.config, &person.profile_id, &input, world.now()).await.unwrap();
    let (_, confirm) = token_mailed(&world, "email-change-");
    // The erasure has begun (and stopped before the profile went) when the change is confirmed.
    world.store.fail_operation("forget_profile", Fault::Unavailable);
    assert!(erase_on_request(&world, &person.profile_id).await.is_err());
    world.store.heal();
    assert!(matches!(
        confirm_email_change(&world.store, &world.config, &confirm, world.now()).await,
        Err(RightsError::LinkUsed)
    ));
    assert!(world.store.item(world.store.profile_key_of("moving@example.org")).is_none(), "not moved");
    erase_on_request(&world, &person.profile_id).await.unwrap().expect("erased");
    assert_erased(&world, &person);
}
