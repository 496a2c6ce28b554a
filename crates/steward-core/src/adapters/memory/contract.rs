//! The promises the store ports make, as checks any implementation must pass: the use cases'
//! own tests trust the memory store only because both stores pass these. Each function panics
//! on the first promise broken, naming it.
//!
//! They run against `MemoryStore` in `crates/steward-core/tests/` and against the DynamoDB store
//! on the local stack in `tests/contract.rs`. Every id they make is new, so they can share a table
//! with other tests and run again on it. `now` is the time the checks play at: against a shared
//! table, give one far from the real clock, so that nothing scheduled there (the retention sweep,
//! the mail dispatcher) acts on what the checks leave mid-way.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::domain::destinations::{Delivery, DeliveryStore, DomainEvent, EventType, Target};
use crate::domain::fields::Email;
use crate::domain::forms::catalogue::{LawfulBasis, Purpose};
use crate::domain::forms::submit::{
    ClientInfo, ConsentEvidence, Inserted, NewSubmission, OwedWithSubmission, SubmissionStore,
    UpsertedProfile,
};
use crate::domain::forms::validation::ValidForm;
use crate::domain::ids::ProfileId;
use crate::domain::ids::{FormId, SubmissionId};
use crate::domain::mail::outbox::{Enqueued, MarketingConsent, OutboxMessage, OutboxStore};
use crate::domain::mail::preferences::{ChangeSource, ClickEvidence, PreferenceChange, PreferenceStore};
use crate::domain::mail::MailKind;
use crate::domain::payments::{
    InvoiceStatus, PaymentKind, PaymentRecord, PaymentRef, PaymentStatus, PaymentStore, PaymentUpdate,
    SeatHold,
};
use crate::domain::ports::StoreError;
use crate::domain::privacy::access::{PrivacyStore, Session, SignInLink};
use crate::domain::privacy::erasure::{erase, ErasureReason, ErasureReport, ErasureStore};
use crate::domain::privacy::limits::LimitStore;

use super::{timestamp, MemoryCvObjects};

/// A submission that owes its destinations nothing.
fn nothing_owed(_: &UpsertedProfile) -> OwedWithSubmission {
    OwedWithSubmission::default()
}

/// What a submission owes `target`: its event, about it, for the profile it landed on.
fn submission_delivery(
    target: &str,
    submission: &SubmissionId,
    profile: &UpsertedProfile,
    at: i64,
) -> Delivery {
    let event = DomainEvent::new(
        EventType::SubmissionReceived,
        submission.as_str(),
        timestamp(at),
        serde_json::json!({"fields": {"email": "a@example.com"}}),
    );
    Delivery {
        target: Target::Destination { id: target.into() },
        event,
        profile_id: profile.id.clone(),
        subject: Some(submission.as_str().to_owned()),
        awaiting_confirmation: false,
    }
}

/// An id no other run has used.
fn unique(label: &str) -> String {
    format!("contract-{label}-{}", uuid::Uuid::new_v4().simple())
}

/// Seats: a two-seat event fills, a lapsed checkout's seat goes to the next buyer, a resumed
/// checkout or a paid seat keeps its seat, and each release gives back exactly one seat.
pub async fn seats_contract<S: PaymentStore>(store: &S, now: i64) {
    let event = unique("event");
    // Sort keys order the holds, so the first lapsed hold found is `a`'s.
    let (a, b, c) = (unique("a"), unique("b"), unique("c"));
    let lapse = now + 60;

    assert_eq!(
        store.hold_seat(&event, &a, 0, Some(lapse)).await.unwrap(),
        SeatHold::SoldOut,
        "an event with no seat taken yet has no recorded capacity to hold against"
    );
    assert_eq!(store.hold_seat(&event, &a, 2, Some(lapse)).await.unwrap(), SeatHold::Held, "the first seat");
    assert_eq!(
        store.hold_seat(&event, &a, 2, Some(lapse)).await.unwrap(),
        SeatHold::AlreadyHeld,
        "holding twice takes no second seat"
    );
    assert_eq!(store.hold_seat(&event, &b, 2, Some(lapse)).await.unwrap(), SeatHold::Held, "the second seat");
    assert_eq!(
        store.hold_seat(&event, &c, 2, None).await.unwrap(),
        SeatHold::SoldOut,
        "two seats, two holds"
    );
    assert_eq!(
        store.hold_seat(&event, &c, 0, None).await.unwrap(),
        SeatHold::SoldOut,
        "capacity 0 is the capacity recorded with the first seat"
    );

    assert!(!store.free_lapsed_seat(&event, now).await.unwrap(), "no checkout has lapsed yet");
    assert!(store.free_lapsed_seat(&event, lapse + 1).await.unwrap(), "a lapsed checkout's seat is freed");
    assert_eq!(
        store.hold_seat(&event, &c, 0, None).await.unwrap(),
        SeatHold::Held,
        "the freed seat goes to the next buyer"
    );
    assert_eq!(store.hold_seat(&event, &a, 0, Some(lapse)).await.unwrap(), SeatHold::SoldOut, "full again");
    assert!(
        !store.set_hold_lapse(&event, &a, Some(lapse + 600)).await.unwrap(),
        "a checkout whose seat was given back no longer holds one"
    );

    assert!(
        store.set_hold_lapse(&event, &b, Some(lapse + 600)).await.unwrap(),
        "a resumed checkout still holds its seat"
    );
    assert!(
        store.set_hold_lapse(&event, &c, Some(lapse)).await.unwrap(),
        "a paid seat still holds its seat when asked to lapse"
    );
    assert!(
        !store.free_lapsed_seat(&event, lapse + 1).await.unwrap(),
        "neither a resumed checkout nor a paid seat (never given a lapse) lapses"
    );
    assert!(
        !store.release_seat(&event, &c, Some(i64::MAX)).await.unwrap(),
        "releasing lapsed holds only never gives back a paid seat"
    );
    assert!(
        !store.release_seat(&event, &b, Some(lapse + 1)).await.unwrap(),
        "a checkout resumed past the cut-off is not lapsed"
    );

    assert!(store.release_seat(&event, &b, None).await.unwrap(), "a seat is released");
    assert!(!store.release_seat(&event, &b, None).await.unwrap(), "and only once");
    assert!(store.set_hold_lapse(&event, &c, None).await.unwrap(), "a paid seat is kept for good");
    assert!(!store.set_hold_lapse(&event, &b, None).await.unwrap(), "a released registration holds no seat");
    assert_eq!(
        store.hold_seat(&event, &a, 0, Some(lapse)).await.unwrap(),
        SeatHold::Held,
        "one seat was free"
    );
    assert_eq!(store.hold_seat(&event, &b, 0, Some(lapse)).await.unwrap(), SeatHold::SoldOut, "and only one");
    assert!(store.release_seat(&event, &a, Some(lapse + 1)).await.unwrap(), "a lapsed checkout is released");

    // A registration opening: checkouts all at once, three times the seats. The seats are counted
    // across several counters; together they never sell more than the capacity, and sell all of it.
    let opening = unique("opening");
    let buyers: Vec<String> = (0..39).map(|n| unique(&format!("buyer{n}"))).collect();
    let holds =
        futures_util::future::join_all(buyers.iter().map(|buyer| store.hold_seat(&opening, buyer, 13, None)))
            .await;
    let held: Vec<&String> = buyers
        .iter()
        .zip(&holds)
        .filter(|(_, hold)| matches!(hold, Ok(SeatHold::Held)))
        .map(|(buyer, _)| buyer)
        .collect();
    assert_eq!(held.len(), 13, "a burst sells every seat and no more: {holds:?}");
    assert!(holds.iter().all(|hold| matches!(hold, Ok(SeatHold::Held | SeatHold::SoldOut))), "{holds:?}");
    assert_eq!(store.seats_taken(&opening).await.unwrap(), 13, "the counters add up to the seats sold");
    // Any seat given back is found by the next buyer, whichever counter it went back to.
    for (n, seller) in held.iter().enumerate().take(4) {
        assert!(store.release_seat(&opening, seller, None).await.unwrap(), "a seat given back");
        let late = unique(&format!("late{n}"));
        assert_eq!(
            store.hold_seat(&opening, &late, 0, None).await.unwrap(),
            SeatHold::Held,
            "the seat given back is sold again"
        );
        assert_eq!(
            store.hold_seat(&opening, &unique("after"), 0, None).await.unwrap(),
            SeatHold::SoldOut,
            "and only it"
        );
    }
    assert_eq!(store.seats_taken(&opening).await.unwrap(), 13);

    // The catalogue changes an event's capacity after seats were sold: the counters' shares no
    // longer match what each holds, and the seats sold still never pass the capacity in force.
    let resized = unique("resized");
    let early: Vec<String> = (0..6).map(|n| unique(&format!("early{n}"))).collect();
    for buyer in &early {
        assert_eq!(store.hold_seat(&resized, buyer, 16, None).await.unwrap(), SeatHold::Held);
    }
    let late: Vec<String> = (0..6).map(|n| unique(&format!("late{n}"))).collect();
    let mut held = 0;
    for buyer in &late {
        if store.hold_seat(&resized, buyer, 8, None).await.unwrap() == SeatHold::Held {
            held += 1;
        }
    }
    assert_eq!(held, 2, "capacity lowered to 8 with 6 sold: two more, not one a counter");
    assert_eq!(store.seats_taken(&resized).await.unwrap(), 8);
    assert_eq!(
        store.hold_seat(&resized, &unique("recorded"), 0, None).await.unwrap(),
        SeatHold::SoldOut,
        "capacity 0 is the least recorded: never more than the capacity in force"
    );
    for n in 0..4 {
        assert_eq!(
            store.hold_seat(&resized, &unique(&format!("raised{n}")), 12, None).await.unwrap(),
            SeatHold::Held,
            "capacity raised to 12: four more"
        );
    }
    assert_eq!(store.hold_seat(&resized, &unique("over"), 12, None).await.unwrap(), SeatHold::SoldOut);
    assert_eq!(store.seats_taken(&resized).await.unwrap(), 12);
}

/// A submission for `email` with its own id, received at `now`.
fn submission(email: &str, id: SubmissionId, now: i64, topics: &[&str]) -> NewSubmission {
    let received_at = timestamp(now);
    let form = FormId::parse("newsletter").expect("a form id");
    let topics: BTreeSet<String> = topics.iter().map(|t| (*t).to_owned()).collect();
    // What the request said: the same address and topics are the same request.
    let fingerprint = format!("{} {topics:?}", email.to_ascii_lowercase());
    let client = ClientInfo {
        source_ip: "192.0.2.1".into(),
        user_agent: Some("steward contract".into()),
        accept_language: None,
        referer: None,
        received_at,
        global_privacy_control: false,
    };
    NewSubmission {
        id,
        form: form.clone(),
        data: ValidForm {
            email: Email::parse("email", email).expect("a valid address"),
            name: Some("Contract Check".into()),
            phone: None,
            job_title: None,
            company: None,
            country: None,
            state: None,
            message: None,
            topics: topics.clone(),
            custom: BTreeMap::new(),
        },
        consent: ConsentEvidence {
            form,
            notice_digest: "contract".into(),
            language: crate::i18n::Lang::En,
            opted_out: Vec::new(),
            global_privacy_control: false,
            purposes: vec![Purpose {
                id: "marketing".into(),
                basis: LawfulBasis::Consent,
                description: "Send information on the topics you chose.".into(),
            }],
            topics,
            policy_version: "2018-03-23".into(),
            given_at: received_at,
            source_ip: client.source_ip.clone(),
            user_agent: client.user_agent.clone(),
        },
        expires_at: received_at.plus_days(30),
        fingerprint,
        held_limit: crate::domain::forms::submit::SUBMISSIONS_HELD_PER_ADDRESS,
        client,
    }
}

/// Submissions: one profile per address (whatever its case, however concurrent), and a
/// submission id stored once.
pub async fn submission_contract<S: SubmissionStore + DeliveryStore + OutboxStore + ErasureStore>(
    store: &S,
    now: i64,
) {
    let email = format!("{}@example.com", unique("person"));
    let first_id = SubmissionId::new_random();
    let (first, inserted) = store
        .store_submission(&submission(&email, first_id.clone(), now, &["cloud"]), &nothing_owed)
        .await
        .unwrap();
    assert_eq!(inserted, Inserted::New, "a new submission is stored");
    assert!(first.confirmed_topics.is_empty(), "ticked topics wait for confirmation");
    assert!(!first.suppressed, "a new person is not suppressed");

    let (second, inserted) = store
        .store_submission(
            &submission(&email.to_uppercase(), SubmissionId::new_random(), now + 1, &[]),
            &nothing_owed,
        )
        .await
        .unwrap();
    assert_eq!(inserted, Inserted::New, "another submission of the same person is stored");
    assert_eq!(second.id, first.id, "two submissions for one address land on one profile");

    let (replayed, inserted) = store
        .store_submission(&submission(&email, first_id.clone(), now + 2, &["cloud"]), &nothing_owed)
        .await
        .unwrap();
    assert_eq!(inserted, Inserted::AlreadyStored, "a re-sent submission id is not stored again");
    assert_eq!(replayed.id, first.id, "a replay answers with the same profile");
    let mut reused = submission(&email, first_id.clone(), now + 3, &["events"]);
    reused.fingerprint = "another request".into();
    let (_, inserted) = store.store_submission(&reused, &nothing_owed).await.unwrap();
    assert_eq!(inserted, Inserted::DifferentRequest, "an id taken by another request stores nothing");

    let (other, _) = store
        .store_submission(
            &submission(&format!("{}@example.com", unique("other")), SubmissionId::new_random(), now, &[]),
            &nothing_owed,
        )
        .await
        .unwrap();
    assert_ne!(other.id, first.id, "another address is another person");

    let together = format!("{}@example.com", unique("together"));
    let (left, right) = futures_util::future::join(
        store.store_submission(&submission(&together, SubmissionId::new_random(), now, &[]), &nothing_owed),
        store.store_submission(&submission(&together, SubmissionId::new_random(), now, &[]), &nothing_owed),
    )
    .await;
    let ((left, left_inserted), (right, right_inserted)) = (left.unwrap(), right.unwrap());
    assert_eq!((left_inserted, right_inserted), (Inserted::New, Inserted::New), "both are stored");
    assert_eq!(left.id, right.id, "concurrent first submissions for one address end with one profile");

    // What one address holds is bounded; what has expired or was deleted makes room again.
    let bounded = format!("{}@example.com", unique("bounded"));
    let held = |at: i64| {
        let mut held = submission(&bounded, SubmissionId::new_random(), at, &[]);
        held.held_limit = 2;
        held
    };
    let mut short_lived = held(now);
    short_lived.expires_at = timestamp(now + 10);
    assert_eq!(store.store_submission(&short_lived, &nothing_owed).await.unwrap().1, Inserted::New);
    assert_eq!(store.store_submission(&held(now + 1), &nothing_owed).await.unwrap().1, Inserted::New);
    assert_eq!(
        store.store_submission(&held(now + 2), &nothing_owed).await.unwrap().1,
        Inserted::AddressFull,
        "full"
    );
    assert_eq!(
        store.store_submission(&held(now + 20), &nothing_owed).await.unwrap().1,
        Inserted::New,
        "the expired one makes room"
    );
    assert_eq!(
        store.store_submission(&held(now + 21), &nothing_owed).await.unwrap().1,
        Inserted::AddressFull,
        "and one only"
    );

    // What a new submission owes its destinations is queued with it, decided from the profile it
    // lands on; a retry, or a submission refused, queues nothing.
    let owing = format!("{}@example.com", unique("owing"));
    let owing_id = SubmissionId::new_random();
    let owed_to =
        |target: &str, profile: &UpsertedProfile| submission_delivery(target, &owing_id, profile, now);
    let welcome = |profile: &UpsertedProfile, label: &str| OutboxMessage {
        id: format!("{label}-{}", profile.id),
        kind: MailKind::Transactional,
        to: owing.clone(),
        profile_id: profile.id.clone(),
        subject: "Contract".into(),
        template: "privacy_link".into(),
        lang: Default::default(),
        values: serde_json::json!({"link_url": "https://example.com/l", "minutes": 15}),
        topic: None,
        unsubscribe_url: None,
    };
    let crm = |profile: &UpsertedProfile| OwedWithSubmission {
        deliveries: vec![owed_to("crm", profile)],
        first_mail: Some(welcome(profile, "first")),
    };
    let (person, inserted) =
        store.store_submission(&submission(&owing, owing_id.clone(), now, &[]), &crm).await.unwrap();
    assert_eq!(inserted, Inserted::New);
    assert!(person.created, "a new person");
    assert_eq!(
        store.enqueue(&welcome(&person, "first"), now).await.unwrap(),
        Enqueued::Known,
        "a new person's first mail is queued with their profile"
    );
    let queued = owed_to("crm", &person).id();
    let lease = Duration::from_secs(120);
    assert_eq!(
        store.claim_delivery(&queued, now, lease).await.unwrap(),
        Some((owed_to("crm", &person), 1)),
        "owed with the submission, whole"
    );
    let (_, inserted) =
        store.store_submission(&submission(&owing, owing_id.clone(), now + 1, &[]), &crm).await.unwrap();
    assert_eq!(inserted, Inserted::AlreadyStored);
    assert_eq!(
        store.claim_delivery(&queued, now + 1, lease).await.unwrap(),
        None,
        "a retry queues nothing again (the delivery stays with the dispatcher that took it)"
    );
    let mut refused = submission(&owing, owing_id.clone(), now + 2, &[]);
    refused.fingerprint = "another request".into();
    let bus = |profile: &UpsertedProfile| OwedWithSubmission {
        deliveries: vec![owed_to("bus", profile)],
        first_mail: None,
    };
    let (_, inserted) = store.store_submission(&refused, &bus).await.unwrap();
    assert_eq!(inserted, Inserted::DifferentRequest);
    let not_queued = owed_to("bus", &person).id();
    assert_eq!(
        store.claim_delivery(&not_queued, now + 2, lease).await.unwrap(),
        None,
        "a refused submission owes nothing"
    );
    let again = |profile: &UpsertedProfile| OwedWithSubmission {
        deliveries: Vec::new(),
        first_mail: Some(welcome(profile, "again")),
    };
    let (same, inserted) = store
        .store_submission(&submission(&owing, SubmissionId::new_random(), now + 3, &[]), &again)
        .await
        .unwrap();
    assert_eq!((inserted, same.created), (Inserted::New, false), "the person's second submission");
    assert_eq!(
        store.enqueue(&welcome(&same, "again"), now + 3).await.unwrap(),
        Enqueued::New,
        "a first mail is only a new profile's: an existing one's mail is owed with the sent markers' checks"
    );

    // Mid-way through an erasure that found the person under an address they moved to: their
    // tombstone is written (with the old address's profile, gone already), their profile not yet
    // deleted. Nothing of theirs is queued with a submission meanwhile: it is refused, to be
    // tried again.
    let gone_from = (format!("EMAIL#{}", unique("moved")), "PROFILE".to_owned());
    assert!(store
        .forget_profile(&person.id, &gone_from, None, ErasureReason::Request, &ErasureReport::default())
        .await
        .unwrap());
    let leaving_id = SubmissionId::new_random();
    let leaving = |profile: &UpsertedProfile| OwedWithSubmission {
        deliveries: vec![submission_delivery("crm", &leaving_id, profile, now)],
        first_mail: None,
    };
    let refused =
        store.store_submission(&submission(&owing, leaving_id.clone(), now + 4, &[]), &leaving).await;
    assert!(matches!(refused, Err(StoreError::Unavailable(_))), "a 503 to try again: {refused:?}");
    let owed_then = leaving(&person).deliveries[0].id();
    assert_eq!(store.claim_delivery(&owed_then, now + 4, lease).await.unwrap(), None, "nothing was queued");
}

/// The outbox: a message is owed once, taken by one dispatcher at a time, retried when asked,
/// and never owed again once sent.
/// A withdrawal of marketing consent stands against a form sent in the person's name (anyone's
/// word), and ends only when the address confirms again.
pub async fn withdrawal_contract<S>(store: &S, now: i64)
where
    S: SubmissionStore + LimitStore + PreferenceStore + MarketingConsent,
{
    let email = format!("{}@example.com", unique("withdrawn"));
    let confirm = |id: ProfileId| async move {
        let change =
            PreferenceChange::Confirm { topics: BTreeSet::from(["cloud".to_owned()]), click: click() };
        store.change_preferences(&id, &change, ChangeSource::Confirmation, "contract").await.unwrap();
    };
    let (person, _) = store
        .store_submission(&submission(&email, SubmissionId::new_random(), now, &["cloud"]), &nothing_owed)
        .await
        .unwrap();
    confirm(person.id.clone()).await;
    assert!(store.may_receive(&person.id, "cloud").await.unwrap(), "confirmed");
    assert!(store.withdraw(&person.id, "marketing").await.unwrap());
    assert!(!store.may_receive(&person.id, "cloud").await.unwrap(), "withdrawn");

    store
        .store_submission(&submission(&email, SubmissionId::new_random(), now + 1, &["cloud"]), &nothing_owed)
        .await
        .unwrap();
    assert!(!store.may_receive(&person.id, "cloud").await.unwrap(), "a form does not undo a withdrawal");
    confirm(person.id.clone()).await;
    assert!(store.may_receive(&person.id, "cloud").await.unwrap(), "the address confirmed: consent again");
}

fn click() -> ClickEvidence {
    ClickEvidence {
        source_ip: "198.51.100.7".into(),
        user_agent: Some("contract click".into()),
        policy_version: "2018-03-23".into(),
    }
}

/// Integrity: a form fills in only what a profile does not hold yet (never its address), and
/// says where each value came from; a confirmation confirms exactly the topics it names; the
/// preference center's choice keeps only what was confirmed, and asks for the rest.
pub async fn integrity_contract<S>(store: &S, now: i64)
where
    S: SubmissionStore + PreferenceStore + MarketingConsent,
{
    let email = format!("{}@example.com", unique("victim"));
    let first = submission(&email, SubmissionId::new_random(), now, &["cloud"]);
    let (person, _) = store.store_submission(&first, &nothing_owed).await.unwrap();
    assert_eq!(person.email, email, "a new profile holds the address typed");

    let mut attack = submission(&email.to_uppercase(), SubmissionId::new_random(), now + 1, &["events"]);
    attack.data.name = Some("Mallory".into());
    attack.data.company = Some("Evil Corp".into());
    let (same, _) = store.store_submission(&attack, &nothing_owed).await.unwrap();
    assert_eq!(same.id, person.id, "one profile per address, whatever its case");
    assert_eq!(same.email, email, "the profile's address, not the spelling typed this time");
    let preferences = store.preferences(&person.id).await.unwrap().expect("a profile");
    assert_eq!(preferences.email, email, "a form never rewrites the address");
    assert_eq!(preferences.name.as_deref(), Some("Contract Check"), "a form never rewrites a held value");

    let both = BTreeSet::from(["cloud".to_owned(), "events".to_owned()]);
    assert_eq!(preferences.pending, both, "both wait for confirmation");
    let only_cloud =
        PreferenceChange::Confirm { topics: BTreeSet::from(["cloud".to_owned()]), click: click() };
    let confirmed = store
        .change_preferences(&person.id, &only_cloud, ChangeSource::Confirmation, "contract")
        .await
        .unwrap()
        .expect("a profile");
    assert_eq!(confirmed.topics, BTreeSet::from(["cloud".to_owned()]), "exactly the topics the link names");
    assert_eq!(confirmed.pending, BTreeSet::from(["events".to_owned()]), "the rest still waits");
    assert!(!store.may_receive(&person.id, "events").await.unwrap(), "events was never confirmed");

    let choose =
        PreferenceChange::Choose { keep: both.clone(), pending: BTreeSet::from(["news".to_owned()]) };
    let chosen = store
        .change_preferences(&person.id, &choose, ChangeSource::Preferences, "contract")
        .await
        .unwrap()
        .expect("a profile");
    assert_eq!(chosen.topics, BTreeSet::from(["cloud".to_owned()]), "a choice keeps only what was confirmed");
    assert_eq!(chosen.pending, BTreeSet::from(["news".to_owned()]), "and asks for the rest");
    let drop_all = PreferenceChange::Choose { keep: BTreeSet::new(), pending: BTreeSet::new() };
    let none = store
        .change_preferences(&person.id, &drop_all, ChangeSource::Preferences, "contract")
        .await
        .unwrap()
        .expect("a profile");
    assert!(none.topics.is_empty() && none.pending.is_empty(), "removing is instant");
    assert!(!store.may_receive(&person.id, "cloud").await.unwrap());
}

/// Sign-in links: a link is kept only while its person is: one issued after an erasure read the
/// profile (the lookup came first, the erasure then ran to the end) leaves nothing behind, opens
/// nothing and owes no mail. Before the erasure, a link opens a session once.
pub async fn sign_in_contract<S>(store: &S, now: i64)
where
    S: SubmissionStore
        + PrivacyStore
        + ErasureStore
        + OutboxStore
        + crate::domain::destinations::DeliveryStore,
{
    let email = format!("{}@example.com", unique("signin"));
    let address = Email::parse("email", &email).expect("a valid address");
    let (person, _) = store
        .store_submission(&submission(&email, SubmissionId::new_random(), now, &[]), &nothing_owed)
        .await
        .unwrap();
    let link = |nonce: &str| SignInLink {
        profile_id: person.id.clone(),
        nonce: nonce.to_owned(),
        issued_at: now,
        valid_until: now + 900,
        token_expires_at: now + 7200,
    };
    let mail = |id: &str| OutboxMessage {
        id: id.to_owned(),
        kind: MailKind::Transactional,
        to: email.clone(),
        profile_id: person.id.clone(),
        subject: "Contract".into(),
        template: "privacy_link".into(),
        lang: Default::default(),
        values: serde_json::json!({"link_url": "https://example.com/l", "minutes": 15}),
        topic: None,
        unsubscribe_url: None,
    };
    let session = || Session { profile_id: person.id.clone(), id: unique("session"), expires_at: now + 1800 };

    let before = unique("before");
    let before_mail = unique("signin-mail");
    assert!(
        store.issue_sign_in(&address, &link(&before), Some(&mail(&before_mail)), now).await.unwrap(),
        "kept"
    );
    assert!(is_due(store, &before_mail, now).await, "a link to a person held is mailed");
    assert!(store.consume_sign_in(&before, &session(), now).await.unwrap(), "and opens a session");
    assert!(!store.consume_sign_in(&before, &session(), now).await.unwrap(), "once");

    erase(store, &MemoryCvObjects::new(), None, &person.id, ErasureReason::Request, now)
        .await
        .unwrap()
        .expect("the person was held");
    let after = unique("after");
    let after_mail = unique("signin-mail");
    assert!(
        !store.issue_sign_in(&address, &link(&after), Some(&mail(&after_mail)), now).await.unwrap(),
        "nothing kept for a person erased meanwhile"
    );
    assert!(!is_due(store, &after_mail, now).await, "no link is mailed for a person erased meanwhile");
    assert!(!store.consume_sign_in(&after, &session(), now).await.unwrap(), "and such a link opens nothing");
    assert!(
        store.leftovers(&person.id).await.unwrap().is_empty(),
        "nothing is left in the person's partition"
    );

    // An address no one holds gets a link to no one: the same answer, nothing to open.
    let stranger =
        Email::parse("email", &format!("{}@example.com", unique("stranger"))).expect("a valid address");
    let nobody = SignInLink { profile_id: ProfileId::new_random(), ..link(&unique("nobody")) };
    assert!(store.issue_sign_in(&stranger, &nobody, None, now).await.unwrap(), "the same work for no one");
    // Once the address is held, a link to no one is not made for it.
    assert!(!store.issue_sign_in(&address_held(store, now).await, &nobody, None, now).await.unwrap());
}

/// A new address, held by a new profile.
async fn address_held<S: SubmissionStore>(store: &S, now: i64) -> Email {
    let email = format!("{}@example.com", unique("held"));
    store
        .store_submission(&submission(&email, SubmissionId::new_random(), now, &[]), &nothing_owed)
        .await
        .unwrap();
    Email::parse("email", &email).expect("a valid address")
}

pub async fn outbox_contract<S: OutboxStore>(store: &S, now: i64) {
    let id = unique("mail");
    let message = OutboxMessage {
        id: id.clone(),
        kind: MailKind::Transactional,
        to: format!("{id}@example.com"),
        profile_id: ProfileId::from_stored(unique("profile")),
        subject: "Contract".into(),
        template: "privacy_link".into(),
        lang: Default::default(),
        values: serde_json::json!({"link_url": "https://example.com/l", "minutes": 15}),
        topic: None,
        unsubscribe_url: None,
    };
    let lease = Duration::from_secs(120);
    let due = |at: i64| is_due(store, &message.id, at);

    assert_eq!(store.enqueue(&message, now).await.unwrap(), Enqueued::New, "a message is owed");
    assert_eq!(store.enqueue(&message, now).await.unwrap(), Enqueued::Known, "and owed once");
    assert!(!due(now - 1).await, "not due before it was queued");
    assert!(due(now).await, "due once queued");

    assert_eq!(
        store.claim(&message.id, now, lease).await.unwrap(),
        Some((message.clone(), 1)),
        "claimed whole"
    );
    assert_eq!(store.claim(&message.id, now, lease).await.unwrap(), None, "one dispatcher at a time");
    assert!(!due(now + 120).await, "not due while its lease lasts");
    assert!(due(now + 121).await, "due again once the lease ran out (a dispatcher died)");
    assert_eq!(
        store.claim(&message.id, now + 121, lease).await.unwrap(),
        Some((message.clone(), 2)),
        "a second attempt is counted"
    );

    store.retry_at(&message.id, now + 1000).await.unwrap();
    assert!(!due(now + 500).await, "a deferred message waits");
    assert_eq!(store.claim(&message.id, now + 500, lease).await.unwrap(), None, "and cannot be taken early");
    assert!(due(now + 1000).await, "due at its next attempt");
    assert_eq!(store.claim(&message.id, now + 1000, lease).await.unwrap(), Some((message.clone(), 3)));

    store.complete(&message.id, now + 1000).await.unwrap();
    assert!(!due(now + 2000).await, "a completed message is no longer due");
    assert_eq!(store.claim(&message.id, now + 2000, lease).await.unwrap(), None, "nor can it be taken");
    assert_eq!(
        store.enqueue(&message, now + 2000).await.unwrap(),
        Enqueued::Known,
        "a message sent is never owed again"
    );
    assert!(
        store.retry_at(&message.id, now + 3000).await.is_err(),
        "a message that is gone cannot be deferred: the store says so"
    );

    // A campaign's backlog larger than a page of the queue (DynamoDB reads a megabyte at a time)
    // never hides transactional mail: the two never share a queue position.
    let at = now + 5000;
    let campaign = unique("campaign");
    for n in 0..400 {
        let queued = OutboxMessage {
            id: format!("campaign-{campaign}-{n:04}"),
            kind: MailKind::Marketing,
            subject: "Campaign".into(),
            template: "campaign".into(),
            lang: Default::default(),
            values: serde_json::json!({"paragraphs": ["x".repeat(3000)]}),
            topic: Some("cloud".into()),
            ..message.clone()
        };
        store.enqueue(&queued, at).await.unwrap();
    }
    let sign_in = OutboxMessage { id: unique("signin"), ..message.clone() };
    store.enqueue(&sign_in, at).await.unwrap();
    let first = store.due(at, 1).await.unwrap();
    assert!(
        first.first().is_some_and(|id| !id.starts_with("campaign-")),
        "transactional mail is taken first, whatever waits behind it: {first:?}"
    );
    assert!(is_due(store, &sign_in.id, at).await, "the sign-in link among them");
    store.claim(&sign_in.id, at, lease).await.unwrap();
    store.complete(&sign_in.id, at).await.unwrap();
    let then = store.due(at, 1000).await.unwrap();
    assert!(then.iter().any(|id| id.starts_with("campaign-")), "then the campaign");

    // A registration opening's confirmations: queued all at once (each twice, as a retried
    // request does), across the transactional queue's shards. Each is owed once, due once, and
    // two dispatchers racing for them claim each once: none is sent twice, none is left behind.
    let at = now + 9000;
    let burst: Vec<OutboxMessage> =
        (0..30).map(|n| OutboxMessage { id: unique(&format!("confirm{n}")), ..message.clone() }).collect();
    let queued =
        futures_util::future::join_all(burst.iter().chain(&burst).map(|queued| store.enqueue(queued, at)))
            .await;
    assert_eq!(
        queued.iter().filter(|q| matches!(q, Ok(Enqueued::New))).count(),
        30,
        "each owed once: {queued:?}"
    );
    let due: Vec<String> = store.due(at, 100_000).await.unwrap();
    for queued in &burst {
        assert_eq!(
            due.iter().filter(|id| **id == queued.id).count(),
            1,
            "due once, whichever shard: {}",
            queued.id
        );
    }
    let claims = futures_util::future::join_all(
        burst.iter().chain(&burst).map(|queued| store.claim(&queued.id, at, lease)),
    )
    .await;
    assert_eq!(
        claims.iter().filter(|c| matches!(c, Ok(Some(_)))).count(),
        30,
        "each claimed by one dispatcher"
    );
    for queued in &burst {
        store.complete(&queued.id, at).await.unwrap();
        assert_eq!(store.enqueue(queued, at).await.unwrap(), Enqueued::Known, "and never owed again");
    }
    assert!(!store.due(at + 1, 100_000).await.unwrap().iter().any(|id| burst.iter().any(|m| &m.id == id)));
}

async fn is_due<S: OutboxStore>(store: &S, id: &str, at: i64) -> bool {
    store.due(at, 1000).await.unwrap().iter().any(|due| due == id)
}

/// Payments: started once with its references, updated only by newer events, each part (status,
/// invoice, dispute) versioned on its own; the webhook's seen events are remembered.
pub async fn payments_contract<S: PaymentStore>(store: &S, now: i64) {
    let payment = PaymentRef {
        profile_id: ProfileId::from_stored(unique("profile")),
        registration_id: unique("registration"),
    };
    let intent = unique("pi");
    let record = PaymentRecord {
        profile_id: payment.profile_id.clone(),
        registration_id: payment.registration_id.clone(),
        kind: PaymentKind::Event,
        item: "identity-workshop".into(),
        amount: 15000,
        currency: "gbp".into(),
        stripe_customer_id: unique("cus"),
        payment_intent_id: Some(intent.clone()),
        subscription_id: None,
        status: PaymentStatus::Pending,
        started_at: timestamp(now),
        lang: crate::i18n::Lang::De,
    };
    let status = |status| PaymentUpdate::Status { status, failure_code: None };

    assert_eq!(store.payment_item(&payment).await.unwrap(), None, "nothing before it starts");
    assert!(
        !store.apply_update(&payment, &status(PaymentStatus::Succeeded), 1).await.unwrap(),
        "no such payment"
    );
    store.record_started(&record).await.unwrap();
    assert_eq!(
        store.payment_ref(&intent).await.unwrap(),
        Some(payment.clone()),
        "Stripe's id leads back to it"
    );
    let recorded = store.payment_item(&payment).await.unwrap().expect("recorded");
    assert_eq!(
        (recorded.kind, recorded.item.as_str(), recorded.status),
        (PaymentKind::Event, "identity-workshop", PaymentStatus::Pending)
    );
    assert_eq!(recorded.lang, crate::i18n::Lang::De, "the receipt's language is kept with it");

    let second = now + 10;
    assert!(store
        .apply_update(&payment, &status(PaymentStatus::Processing), PaymentStatus::Processing.version(second))
        .await
        .unwrap());
    assert!(
        store
            .apply_update(&payment, &status(PaymentStatus::Failed), PaymentStatus::Failed.version(second))
            .await
            .unwrap(),
        "a failure in the same second wins over processing"
    );
    assert!(
        store
            .apply_update(
                &payment,
                &status(PaymentStatus::Succeeded),
                PaymentStatus::Succeeded.version(second + 1)
            )
            .await
            .unwrap(),
        "a later success wins"
    );
    for late in [PaymentStatus::Failed, PaymentStatus::Processing, PaymentStatus::RequiresAction] {
        assert!(
            !store.apply_update(&payment, &status(late), late.version(second)).await.unwrap(),
            "a late {late:?} never moves the payment backwards"
        );
    }
    store.record_started(&record).await.unwrap();
    assert_eq!(
        store.payment_item(&payment).await.unwrap().map(|p| p.status),
        Some(PaymentStatus::Succeeded),
        "a payment resumed keeps the status its events gave it"
    );

    let invoice =
        PaymentUpdate::Invoice { invoice_id: unique("in"), status: InvoiceStatus::Paid, amount: 15000 };
    assert!(
        store.apply_update(&payment, &invoice, second * 100).await.unwrap(),
        "invoices have their own version"
    );
    assert!(
        !store.apply_update(&payment, &invoice, second * 100).await.unwrap(),
        "the same event applies once"
    );

    let event_id = unique("evt");
    assert!(!store.event_seen(&event_id).await.unwrap(), "an event not yet seen");
    store.mark_event_seen(&event_id, now + 3600).await.unwrap();
    assert!(store.event_seen(&event_id).await.unwrap(), "an event seen is remembered");
}

/// Deliveries: owed once, taken by one dispatcher at a time, deferred, dead-lettered, replayed,
/// and once delivered recorded with the person (and never owed again).
pub async fn deliveries_contract<S: DeliveryStore + OutboxStore>(store: &S, now: i64) {
    let person = ProfileId::from_stored(unique("profile"));
    let subject = unique("submission");
    let event = DomainEvent::new(
        EventType::SubmissionReceived,
        &subject,
        timestamp(now),
        serde_json::json!({"fields": {"email": "a@example.com", "name": "Ana"}}),
    );
    let delivery = Delivery {
        target: Target::Destination { id: "crm".into() },
        event,
        profile_id: person.clone(),
        subject: Some(subject.clone()),
        awaiting_confirmation: false,
    };
    let id = delivery.id();
    let lease = Duration::from_secs(120);
    let due = |at: i64| {
        let id = id.clone();
        async move { store.due_deliveries(at, 10_000).await.unwrap().contains(&id) }
    };

    store.enqueue_deliveries(std::slice::from_ref(&delivery), now).await.unwrap();
    store.enqueue_deliveries(std::slice::from_ref(&delivery), now).await.unwrap();
    assert!(!due(now - 1).await, "not due before it was queued");
    assert_eq!(
        store.due_deliveries(now, 10_000).await.unwrap().iter().filter(|d| **d == id).count(),
        1,
        "owed once, however often it is owed"
    );
    assert_eq!(
        store.claim_delivery(&id, now, lease).await.unwrap(),
        Some((delivery.clone(), 1)),
        "claimed whole"
    );
    assert_eq!(store.claim_delivery(&id, now, lease).await.unwrap(), None, "one dispatcher at a time");

    store.retry_delivery(&id, now + 100, "answered 503").await.unwrap();
    assert!(!due(now + 50).await, "a deferred delivery waits");
    assert_eq!(store.claim_delivery(&id, now + 100, lease).await.unwrap(), Some((delivery.clone(), 2)));

    store.dead_letter(&id, now + 100, "answered 503").await.unwrap();
    assert!(!due(now + 10_000).await, "a dead letter is not retried");
    let dead = store.dead_letters(10_000).await.unwrap();
    let letter = dead.iter().find(|d| d.id == id).expect("kept as a dead letter");
    assert_eq!(
        (letter.attempts, letter.last_error.as_str(), letter.target.as_str()),
        (2, "answered 503", "crm")
    );

    assert!(store.replay(&id, now + 200).await.unwrap(), "a dead letter can be replayed");
    assert!(!store.replay(&id, now + 200).await.unwrap(), "once");
    assert!(!store.dead_letters(10_000).await.unwrap().iter().any(|d| d.id == id));
    assert_eq!(
        store.claim_delivery(&id, now + 200, lease).await.unwrap(),
        Some((delivery.clone(), 1)),
        "replayed with its attempts counted afresh"
    );

    assert!(store.delivered(&delivery, &[], now + 200).await.unwrap());
    assert!(!due(now + 10_000).await, "delivered: no longer due");
    let recipients = store.recipients(&person).await.unwrap();
    assert_eq!(recipients.len(), 1, "{recipients:?}");
    assert_eq!(recipients[0].destination, "crm");
    assert_eq!(recipients[0].event, EventType::SubmissionReceived);
    assert_eq!(recipients[0].event_id, delivery.event.id);
    assert_eq!(recipients[0].subject.as_deref(), Some(subject.as_str()));
    assert_eq!(recipients[0].fields, vec!["email".to_owned(), "name".to_owned()]);
    store.enqueue_deliveries(std::slice::from_ref(&delivery), now + 300).await.unwrap();
    assert!(!due(now + 300).await, "a delivery made is never owed again (a retried request)");

    // What a person asked for goes to a recipient without being recorded as their data.
    let erased = crate::domain::destinations::erased_event(&person, "self-service", timestamp(now + 400));
    let told = Delivery { event: erased, subject: None, ..delivery.clone() };
    store.enqueue_deliveries(std::slice::from_ref(&told), now + 400).await.unwrap();
    assert!(store.claim_delivery(&told.id(), now + 400, lease).await.unwrap().is_some());
    assert!(store.delivered(&told, &[], now + 400).await.unwrap());
    assert_eq!(store.recipients(&person).await.unwrap().len(), 1, "only data is recorded as shared");
    assert!(
        !store.delivered(&told, &[], now + 400).await.unwrap(),
        "a delivery no longer queued (an erasure took it) is not completed again"
    );

    // A mail destination's notification is queued with the delivery's completion, or not at all.
    let mailed = Delivery { target: Target::Destination { id: "sales".into() }, ..delivery.clone() };
    let notification = OutboxMessage {
        id: unique("team"),
        kind: MailKind::Transactional,
        to: "sales@example.com".into(),
        profile_id: person.clone(),
        subject: "New".into(),
        template: "team_notification".into(),
        lang: Default::default(),
        values: serde_json::json!({}),
        topic: None,
        unsubscribe_url: None,
    };
    assert!(
        !store.delivered(&mailed, std::slice::from_ref(&notification), now + 500).await.unwrap(),
        "not queued: nothing"
    );
    assert!(!is_due(store, &notification.id, now + 500).await, "and no mail either");
    store.enqueue_deliveries(std::slice::from_ref(&mailed), now + 500).await.unwrap();
    assert!(store.claim_delivery(&mailed.id(), now + 500, lease).await.unwrap().is_some());
    assert!(store.delivered(&mailed, std::slice::from_ref(&notification), now + 500).await.unwrap());
    assert!(is_due(store, &notification.id, now + 500).await, "the team's mail is owed with it");

    // Held for a confirmation: never due until released, then due at once.
    let held = Delivery {
        target: Target::Destination { id: "crm".into() },
        event: DomainEvent::new(
            EventType::SubmissionReceived,
            &unique("held"),
            timestamp(now),
            serde_json::json!({}),
        ),
        awaiting_confirmation: true,
        ..delivery.clone()
    };
    store.enqueue_deliveries(std::slice::from_ref(&held), now + 600).await.unwrap();
    assert!(
        !due(now + 100_000).await
            && !store.due_deliveries(now + 100_000, 10_000).await.unwrap().contains(&held.id())
    );
    let waiting = store.held(&person).await.unwrap();
    assert_eq!(waiting, std::slice::from_ref(&held), "held, as it was queued");
    let released = Delivery { awaiting_confirmation: false, ..held.clone() };
    store.release(std::slice::from_ref(&released), now + 700).await.unwrap();
    assert!(store.held(&person).await.unwrap().is_empty());
    assert!(store.due_deliveries(now + 700, 10_000).await.unwrap().contains(&held.id()), "released: due");
    // Deleting the submission drops what is owed about it.
    store.drop_owed(&person, &subject).await.unwrap();
    assert!(!store.due_deliveries(now + 700, 10_000).await.unwrap().contains(&held.id()), "dropped");

    // A registration opening's deliveries, queued across the queue's shards in the order things
    // happened: due once each, the oldest first whichever shard it is in, taken by one dispatcher
    // each, and what a person is owed found wherever it waits.
    let at = now + 800;
    let burst: Vec<Delivery> = (0..24)
        .map(|n| Delivery {
            event: DomainEvent::new(
                EventType::SubmissionReceived,
                &unique(&format!("registration{n}")),
                timestamp(now + 800 - 100 + n),
                serde_json::json!({"fields": {"email": "a@example.com"}}),
            ),
            subject: None,
            ..delivery.clone()
        })
        .collect();
    futures_util::future::join_all(
        burst.iter().rev().map(|d| store.enqueue_deliveries(std::slice::from_ref(d), at)),
    )
    .await
    .into_iter()
    .for_each(|queued| queued.unwrap());
    let due: Vec<String> = store
        .due_deliveries(at, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|id| burst.iter().any(|d| &d.id() == id))
        .collect();
    let in_order: Vec<String> = burst.iter().map(Delivery::id).collect();
    assert_eq!(due, in_order, "each once, the oldest first across the shards");
    let owed = store.recipients(&person).await.unwrap();
    assert!(
        burst.iter().all(|d| owed.iter().any(|o| o.event_id == d.event.id && !o.delivered)),
        "the person's page finds what they are owed in every shard"
    );
    let claims = futures_util::future::join_all(
        in_order.iter().chain(&in_order).map(|id| store.claim_delivery(id, at, lease)),
    )
    .await;
    assert_eq!(
        claims.iter().filter(|c| matches!(c, Ok(Some(_)))).count(),
        24,
        "each taken by one dispatcher"
    );
    for delivered in &burst {
        assert!(store.delivered(delivered, &[], at).await.unwrap());
        store.enqueue_deliveries(std::slice::from_ref(delivered), at).await.unwrap();
    }
    assert!(
        !store.due_deliveries(at + 1, 100_000).await.unwrap().iter().any(|id| in_order.contains(id)),
        "delivered, never owed again"
    );
}
