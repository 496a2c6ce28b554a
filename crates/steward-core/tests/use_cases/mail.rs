//! Consent and preferences: double opt-in, unsubscribing, suppression; and the outbox and
//! campaigns that only ever mail people who still want it.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use steward_core::adapters::dynamodb::keys;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::mail::campaign::{
    queue_campaign, Campaign, CampaignProgress, Finished, SubscriberStore,
};
use steward_core::domain::mail::outbox::{MarketingConsent, Sender};
use steward_core::domain::mail::preferences::{
    choose_topics, confirm_subscription, ChangeSource, ClickEvidence, Confirmed, PreferenceChange,
    PreferenceStore, PreferencesError, SuppressionStore,
};
use steward_core::domain::ports::Clock as _;
use steward_core::domain::privacy::access::PrivacyStore as _;
use steward_core::domain::privacy::erasure::{erase, ErasureReason};

use crate::support::{confirm, email, World};

/// Someone who ticked `topic` on the newsletter form and followed the confirmation link.
async fn subscriber(world: &World, who: &str, topic: &str) -> ProfileId {
    let receipt = world.submit("newsletter", &[("email", &email(who)), ("interests", topic)]).await;
    let profile_id = receipt.profile_id.clone();
    world
        .store
        .change_preferences(&profile_id, &confirm(&[topic]), ChangeSource::Confirmation, "tok1")
        .await
        .unwrap()
        .expect("a profile");
    profile_id
}

fn campaign(topic: &str) -> Campaign {
    Campaign {
        id: format!("2026-01-{topic}"),
        topic: topic.to_owned(),
        topic_label: "WSO2 Cloud".into(),
        subject: "News about the cloud".into(),
        body: "First paragraph.\n\nSecond paragraph.".into(),
    }
}

async fn queue(world: &World, campaign: &Campaign) -> (CampaignProgress, Finished) {
    queue_campaign(&world.store, &world.config.token_keys, &world.config.links, campaign, world.now(), |_| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap()
}

fn campaign_mail_to(world: &World, who: &str) -> usize {
    world.subjects_sent_to(&email(who)).iter().filter(|s| s.contains("News about the cloud")).count()
}

#[tokio::test]
async fn ticked_topics_wait_for_confirmation_before_any_marketing() {
    let world = World::new();
    let receipt = world.submit("newsletter", &[("email", &email("ana")), ("interests", "cloud")]).await;
    let profile_id = &receipt.profile_id;
    let waiting = world.store.preferences(profile_id).await.unwrap().unwrap();
    assert_eq!(waiting.pending, BTreeSet::from(["cloud".to_owned()]));
    assert!(waiting.topics.is_empty());
    assert!(!world.store.may_receive(profile_id, "cloud").await.unwrap(), "not before confirming");
    assert_eq!(queue(&world, &campaign("cloud")).await.0.queued, 0, "nor in a campaign's audience");

    let confirmed = world
        .store
        .change_preferences(profile_id, &confirm(&["cloud"]), ChangeSource::Confirmation, "tok1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(confirmed.topics, BTreeSet::from(["cloud".to_owned()]));
    assert!(confirmed.pending.is_empty());
    assert!(world.store.may_receive(profile_id, "cloud").await.unwrap());
    assert!(!world.store.may_receive(profile_id, "identity").await.unwrap(), "only what was confirmed");

    let log = world.store.partition(&keys::profile_partition(profile_id));
    let changes: Vec<&str> = log.iter().filter_map(|(_, item)| item.get("change")?.as_str()).collect();
    assert_eq!(changes, ["confirmed cloud"], "the change is logged");
}

#[tokio::test]
async fn a_confirmed_subscriber_gets_the_campaign_once_with_a_one_click_unsubscribe() {
    let world = World::new();
    subscriber(&world, "ana", "cloud").await;
    world.dispatch().await; // the confirmation request

    let (progress, finished) = queue(&world, &campaign("cloud")).await;
    assert_eq!((progress.queued, finished), (1, Finished::Completed));
    assert_eq!(world.dispatch().await.sent, 1);
    assert_eq!(
        queue(&world, &campaign("cloud")).await.0.already_queued,
        1,
        "a campaign run again owes nothing"
    );
    assert_eq!(world.dispatch().await.sent, 0);

    let sent = world.mail.sent_to(&email("ana"));
    let news = sent.iter().find(|m| m.raw.contains("News about the cloud")).expect("the campaign");
    assert!(news.raw.contains("List-Unsubscribe: <https://api.example.com/unsubscribe?token="));
    assert!(news.raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
}

/// A campaign written in German (`steward-admin campaign --language de`) goes out in a German
/// frame, and its links open German pages.
#[tokio::test]
async fn a_campaign_in_german_is_framed_in_german_and_its_links_open_german_pages() {
    use steward_core::i18n::{self, Lang};
    let world = World::new();
    subscriber(&world, "dora", "cloud").await;
    world.dispatch().await;
    i18n::scope(Lang::De, queue(&world, &campaign("cloud"))).await;
    assert_eq!(world.dispatch().await.sent, 1);
    let sent = world.mail.sent_to(&email("dora"));
    let news = sent.iter().find(|m| m.raw.contains("News about the cloud")).expect("the campaign");
    assert!(news.raw.contains("Abmelden"), "the frame is German: {}", news.raw);
    let header = news.raw.lines().find(|l| l.starts_with("List-Unsubscribe:")).unwrap();
    assert!(header.ends_with("&lang=de>"), "{header}");
}

#[tokio::test]
async fn every_mail_carries_the_deployments_own_links_whoever_queued_it() {
    let world = World::new();
    subscriber(&world, "ana", "cloud").await;
    queue(&world, &campaign("cloud")).await;
    // The campaign was queued by an operator's tool; the confirmation by a function: the
    // dispatcher's settings (the template's) decide the footer and the unsubscribe mailbox.
    let deployed = Sender {
        name: "WSO2".into(),
        address: "no-reply@example.com".into(),
        policy_url: "https://policy.example/privacy".into(),
        site_url: "https://www.example.com".into(),
        unsubscribe_mailto: None,
    };
    assert_eq!(world.dispatch_from(&deployed).await.sent, 2);
    let sent = world.mail.sent_to(&email("ana"));
    for mail in &sent {
        assert!(
            mail.raw.contains("https://policy.example/privacy"),
            "the deployment's policy link: {}",
            mail.raw
        );
    }
    let news = sent.iter().find(|m| m.raw.contains("News about the cloud")).expect("the campaign");
    let header =
        news.raw.lines().find(|l| l.starts_with("List-Unsubscribe:")).expect("one-click unsubscribe");
    assert!(header.ends_with('>') && !header.contains("mailto:"), "no mailbox set, none named: {header}");

    let with_mailbox = Sender {
        unsubscribe_mailto: Some("mailto:leave@lists.example?subject=unsubscribe".into()),
        ..deployed
    };
    queue(&world, &Campaign { id: "second".into(), ..campaign("cloud") }).await;
    assert_eq!(world.dispatch_from(&with_mailbox).await.sent, 1);
    let second = world.mail.sent_to(&email("ana")).pop().expect("the second campaign");
    assert!(
        second.raw.contains(">, <mailto:leave@lists.example?subject=unsubscribe>\r\n"),
        "the mailbox the deployment set: {}",
        second.raw
    );
}

#[tokio::test]
async fn unsubscribing_from_everything_stops_campaign_mail_already_queued() {
    let world = World::new();
    let ana = subscriber(&world, "ana", "cloud").await;
    subscriber(&world, "ben", "cloud").await;
    world.dispatch().await;
    assert_eq!(queue(&world, &campaign("cloud")).await.0.queued, 2);

    let after = world
        .store
        .change_preferences(
            &ana,
            &PreferenceChange::Unsubscribe { topic: None },
            ChangeSource::OneClick,
            "tok2",
        )
        .await
        .unwrap()
        .unwrap();
    assert!(after.unsubscribed_all);
    let report = world.dispatch().await;
    assert_eq!((report.sent, report.skipped), (1, 1), "checked again when it is sent");
    assert_eq!(campaign_mail_to(&world, "ana"), 0);
    assert_eq!(campaign_mail_to(&world, "ben"), 1);

    let (audience, _) = world.store.subscribers("cloud", None).await.unwrap();
    assert_eq!(audience.len(), 1, "and left out of the next audience");
    assert_eq!(audience[0].email, email("ben"));
}

#[tokio::test]
async fn unsubscribing_from_one_topic_keeps_the_others_and_confirming_again_resubscribes() {
    let world = World::new();
    let ana = subscriber(&world, "ana", "cloud").await;
    world.submit("newsletter", &[("email", &email("ana")), ("interests", "identity")]).await;
    let change = |change: PreferenceChange| {
        let store = &world.store;
        let ana = ana.clone();
        async move {
            store.change_preferences(&ana, &change, ChangeSource::Preferences, "tok").await.unwrap().unwrap()
        }
    };
    let both = change(confirm(&["identity"])).await;
    assert_eq!(both.topics, BTreeSet::from(["cloud".to_owned(), "identity".to_owned()]));

    let one = change(PreferenceChange::Unsubscribe { topic: Some("cloud".into()) }).await;
    assert_eq!(one.topics, BTreeSet::from(["identity".to_owned()]));
    assert!(!world.store.may_receive(&ana, "cloud").await.unwrap());
    assert!(world.store.may_receive(&ana, "identity").await.unwrap());

    let none = change(PreferenceChange::Choose { keep: BTreeSet::new(), pending: BTreeSet::new() }).await;
    assert!(none.topics.is_empty());
    let profile = world.store.item(world.store.profile_key_of(&email("ana"))).unwrap();
    assert!(!profile.contains_key("marketing_topics"), "an emptied set is removed, as DynamoDB does");
}

#[tokio::test]
async fn a_bounce_suppresses_the_address_for_marketing_but_transactional_mail_still_goes() {
    let world = World::new();
    let ana = subscriber(&world, "ana", "cloud").await;
    world.dispatch().await;
    assert!(world.store.suppress(&email("ANA"), ChangeSource::Bounce, "mailbox full").await.unwrap());

    assert!(!world.store.may_receive(&ana, "cloud").await.unwrap());
    assert!(world.store.preferences(&ana).await.unwrap().unwrap().suppressed);
    assert_eq!(queue(&world, &campaign("cloud")).await.0.queued, 0, "no campaign for a suppressed address");

    // A privacy-center link is mail the person asked for: it goes.
    let address = steward_core::domain::fields::Email::parse("email", &email("ana")).unwrap();
    steward_core::domain::privacy::access::request_link(
        &world.store,
        &steward_core::domain::forms::proof::NoHumanCheck,
        &world.config,
        &address,
        &steward_core::domain::forms::proof::Evidence::none("192.0.2.1"),
        world.now(),
    )
    .await
    .unwrap();
    assert_eq!(world.dispatch().await.sent, 1);
    assert!(world.subjects_sent_to(&email("ana")).iter().any(|s| s.contains("privacy center link")));

    assert!(
        !world.store.suppress(&email("nobody"), ChangeSource::Complaint, "spam").await.unwrap(),
        "no profile"
    );
    assert!(world.store.item(world.store.profile_key_of(&email("nobody"))).is_none());
}

#[tokio::test]
async fn an_erased_person_who_comes_back_gets_marketing_only_for_what_they_confirm_afterwards() {
    let world = World::new();
    let first = subscriber(&world, "ana", "cloud").await;
    erase(&world.store, &world.cvs, Some(&world.config.links), &first, ErasureReason::Request, world.now())
        .await
        .unwrap()
        .expect("erased");

    world.clock.advance(86_400);
    let receipt = world.submit("newsletter", &[("email", &email("ana")), ("interests", "cloud")]).await;
    let again = &receipt.profile_id;
    assert_ne!(again, &first, "a new profile");
    assert!(!world.store.may_receive(again, "cloud").await.unwrap(), "not on the old consent");

    world.clock.advance(60);
    world
        .store
        .change_preferences(again, &confirm(&["cloud"]), ChangeSource::Confirmation, "tok")
        .await
        .unwrap();
    assert!(world.store.may_receive(again, "cloud").await.unwrap(), "confirmed after the erasure");
}

#[tokio::test]
async fn when_the_mail_service_is_down_the_outbox_defers_and_sends_later_once() {
    let world = World::new();
    world.submit("newsletter", &[("email", &email("ana")), ("interests", "cloud")]).await;
    world.mail.fail_next(1);
    let report = world.dispatch().await;
    assert_eq!((report.sent, report.deferred), (0, 1));
    assert_eq!(world.dispatch().await.sent, 0, "not before its retry is due");

    world.clock.advance(60);
    assert_eq!(world.dispatch().await.sent, 1);
    world.clock.advance(3600);
    assert_eq!(world.dispatch().await.sent, 0, "sent once");
    assert_eq!(world.mail.sent_to(&email("ana")).len(), 1);
}

#[tokio::test]
async fn a_campaign_stopped_halfway_is_resumed_and_nobody_gets_it_twice() {
    let mut world = World::new();
    world.store = world.store.with_page_size(2);
    for who in ["ana", "ben", "cy", "dee"] {
        subscriber(&world, who, "cloud").await;
    }
    world.dispatch().await;

    let mut calls = 0;
    let (progress, finished) = queue_campaign(
        &world.store,
        &world.config.token_keys,
        &world.config.links,
        &campaign("cloud"),
        world.now(),
        |_| {
            calls += 1;
            if calls == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(finished, Finished::Stopped);
    assert!(progress.queued < 4);

    let (resumed, finished) = queue(&world, &campaign("cloud")).await;
    assert_eq!(finished, Finished::Completed);
    assert_eq!((resumed.queued + resumed.already_queued, resumed.already_queued), (4, progress.queued));
    world.dispatch().await;
    for who in ["ana", "ben", "cy", "dee"] {
        assert_eq!(campaign_mail_to(&world, who), 1, "{who}");
    }
}

#[tokio::test]
async fn a_form_sent_in_a_withdrawn_persons_name_does_not_undo_their_withdrawal_until_they_confirm() {
    let world = World::new();
    let ana = subscriber(&world, "ana", "cloud").await;
    steward_core::domain::privacy::limits::withdraw(
        &world.store,
        &world.catalogue,
        &ana,
        "marketing",
        world.store.clock().timestamp(),
    )
    .await
    .unwrap();
    assert!(!world.store.may_receive(&ana, "cloud").await.unwrap());

    // Anyone who knows the address ticks topics again.
    world.submit("newsletter", &[("email", &email("ana")), ("interests", "cloud")]).await;
    let profile = world.store.item(world.store.profile_key_of(&email("ana"))).unwrap();
    assert_eq!(profile["withdrawn_consents"], serde_json::json!(["marketing"]), "the withdrawal stands");
    assert!(!world.store.may_receive(&ana, "cloud").await.unwrap(), "no marketing on a stranger's word");
    let (subscribers, _) = world.store.subscribers("cloud", None).await.unwrap();
    assert!(!subscribers.iter().any(|s| s.profile_id == ana), "nor in a campaign");

    // The person proves the address and confirms: consent given again, by them.
    world
        .store
        .change_preferences(&ana, &confirm(&["cloud"]), ChangeSource::Confirmation, "tok")
        .await
        .unwrap();
    assert!(world.store.may_receive(&ana, "cloud").await.unwrap());
}

#[tokio::test]
async fn topics_added_in_the_preference_center_wait_for_a_confirmation_and_removing_is_instant() {
    let world = World::new();
    let ana = subscriber(&world, "ana", "cloud").await;
    world.dispatch().await;
    let mails_before = world.subjects_sent_to(&email("ana")).len();
    let chosen = BTreeSet::from(["identity".to_owned()]);
    let now = world.clock.timestamp();
    let saved = choose_topics(&world.store, &world.config, &world.catalogue.topics, &ana, chosen, "tok", now)
        .await
        .unwrap();
    assert_eq!(saved.awaiting_confirmation, BTreeSet::from(["identity".to_owned()]));
    assert!(!world.store.may_receive(&ana, "cloud").await.unwrap(), "unticked: stopped at once");
    assert!(!world.store.may_receive(&ana, "identity").await.unwrap(), "added: not before confirming");
    world.dispatch().await;
    let subjects = world.subjects_sent_to(&email("ana"));
    assert_eq!(subjects.len(), mails_before + 1, "one confirmation for the added topic");
    assert!(subjects.last().unwrap().contains("confirm"), "{subjects:?}");
}

#[tokio::test]
async fn a_withdrawn_person_choosing_topics_again_gets_them_only_by_confirming_from_the_address() {
    let world = World::new();
    let ana = subscriber(&world, "ana", "cloud").await;
    steward_core::domain::privacy::limits::withdraw(
        &world.store,
        &world.catalogue,
        &ana,
        "marketing",
        world.store.clock().timestamp(),
    )
    .await
    .unwrap();
    let now = world.clock.timestamp();
    let chosen = BTreeSet::from(["cloud".to_owned()]);
    let saved = choose_topics(&world.store, &world.config, &world.catalogue.topics, &ana, chosen, "tok", now)
        .await
        .unwrap();
    assert_eq!(saved.awaiting_confirmation, BTreeSet::from(["cloud".to_owned()]), "asked, not given");
    assert!(!world.store.may_receive(&ana, "cloud").await.unwrap(), "a preference link is not consent");

    let subject =
        steward_core::domain::mail::confirmation::subject_for(&BTreeSet::from(["cloud".to_owned()]));
    let click = ClickEvidence {
        source_ip: "198.51.100.9".into(),
        user_agent: Some("Mail app".into()),
        policy_version: "2018-03-23".into(),
    };
    confirm_subscription(&world.store, &ana, &subject, click, "tok2", world.clock.timestamp()).await.unwrap();
    assert!(world.store.may_receive(&ana, "cloud").await.unwrap(), "confirmed from the address");
}

#[tokio::test]
async fn a_confirmation_confirms_only_the_topics_its_mail_named() {
    let world = World::new();
    let receipt = world.submit("newsletter", &[("email", &email("ana")), ("interests", "cloud")]).await;
    let ana = receipt.profile_id.clone();
    // The link the person was mailed names what they ticked.
    let (_, pending) = world.store.transactional_outbox().into_iter().next().expect("a confirmation owed");
    let message: serde_json::Value = serde_json::from_str(pending["message"].as_str().unwrap()).unwrap();
    let url = message["values"]["confirm_url"].as_str().unwrap().to_owned();
    let token = url.split("token=").nth(1).unwrap();
    let claims = world
        .config
        .token_keys
        .verify(token, steward_core::token::Purpose::ConfirmSubscription, world.now())
        .expect("a confirmation link");
    // Someone else ticks another topic in the person's name before they click.
    world.submit("newsletter", &[("email", &email("ana")), ("interests", "events")]).await;
    let click = ClickEvidence {
        source_ip: "198.51.100.9".into(),
        user_agent: None,
        policy_version: "2018-03-23".into(),
    };
    let Confirmed::Receiving(confirmed) =
        confirm_subscription(&world.store, &ana, &claims.subject, click, "tok", world.clock.timestamp())
            .await
            .unwrap()
    else {
        panic!("confirmed")
    };
    assert_eq!(confirmed.topics, BTreeSet::from(["cloud".to_owned()]));
    assert!(!world.store.may_receive(&ana, "events").await.unwrap(), "never named in the mail clicked");
    let history = world.store.everything(&ana).await.unwrap().unwrap()["mail_preference_history"].clone();
    let confirmation = history.as_array().unwrap().iter().find(|h| h["source"] == "confirmation").unwrap();
    assert_eq!(confirmation["source_ip"], "198.51.100.9", "the click's evidence is kept: {confirmation}");
}

#[tokio::test]
async fn an_old_confirmation_link_after_erasure_confirms_nothing_and_says_so() {
    let world = World::new();
    let receipt = world.submit("newsletter", &[("email", &email("ana")), ("interests", "cloud")]).await;
    erase(&world.store, &world.cvs, None, &receipt.profile_id, ErasureReason::Request, world.now())
        .await
        .unwrap();
    let subject =
        steward_core::domain::mail::confirmation::subject_for(&BTreeSet::from(["cloud".to_owned()]));
    let click = ClickEvidence {
        source_ip: "198.51.100.9".into(),
        user_agent: None,
        policy_version: "2018-03-23".into(),
    };
    let outcome = confirm_subscription(
        &world.store,
        &receipt.profile_id,
        &subject,
        click,
        "tok",
        world.clock.timestamp(),
    )
    .await;
    assert!(matches!(outcome, Err(PreferencesError::NotHeld)), "{outcome:?}");
}

#[tokio::test]
async fn after_erasure_no_sent_mail_marker_names_the_person() {
    let world = World::new();
    let receipt = world.submit("newsletter", &[("email", &email("ana")), ("interests", "cloud")]).await;
    assert_eq!(world.dispatch().await.sent, 1, "the confirmation went out, and left its marker");
    erase(&world.store, &world.cvs, None, &receipt.profile_id, ErasureReason::Request, world.now())
        .await
        .unwrap();
    // The destination that got the sign-up is owed the erasure, by the person's id: once it is
    // delivered, that goes too.
    world.deliver().await;
    let left: Vec<String> = world
        .store
        .items()
        .into_iter()
        .map(|((pk, sk), item)| format!("{pk} {sk} {}", serde_json::to_string(&item).unwrap()))
        .filter(|text| text.contains(receipt.profile_id.as_str()))
        .collect();
    assert!(left.is_empty(), "nothing kept names the erased profile: {left:?}");
}

#[tokio::test]
async fn an_old_confirmation_link_after_unsubscribing_gives_nothing_back_and_says_so() {
    let world = World::new();
    let ana = subscriber(&world, "ana", "cloud").await;
    world
        .store
        .change_preferences(
            &ana,
            &PreferenceChange::Unsubscribe { topic: None },
            ChangeSource::OneClick,
            "tok",
        )
        .await
        .unwrap();
    let subject =
        steward_core::domain::mail::confirmation::subject_for(&BTreeSet::from(["cloud".to_owned()]));
    let click = ClickEvidence {
        source_ip: "198.51.100.9".into(),
        user_agent: None,
        policy_version: "2018-03-23".into(),
    };
    let outcome = confirm_subscription(&world.store, &ana, &subject, click, "tok2", world.clock.timestamp())
        .await
        .unwrap();
    assert_eq!(outcome, Confirmed::NothingLeft);
    assert!(!world.store.may_receive(&ana, "cloud").await.unwrap(), "still unsubscribed");
}
