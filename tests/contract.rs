//! The store contracts (`steward_core::adapters::memory::contract`) against the DynamoDB store on
//! the local stack: the promises the use cases' own tests take from the memory store hold for the
//! deployed store too.
//!
//! Every contract makes ids of its own, so it shares the stack's table with whatever else runs
//! there. It plays ten years ahead: nothing the stack schedules (the retention sweep, the mail
//! dispatcher) acts on what a contract leaves mid-way.

use std::sync::Arc;

use steward_blackbox::stack;
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::memory::contract;
use steward_core::domain::ports::{Clock, SystemClock};

fn store() -> DynamoStore {
    DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&stack().aws()),
        stack().table.clone(),
        stack().hash_key(),
        Arc::new(SystemClock),
    )
}

/// Ten years from now, in epoch seconds.
fn later() -> i64 {
    SystemClock.now() + 10 * 365 * 86_400
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_store_keeps_the_seat_contract() {
    contract::seats_contract(&store(), later()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_store_keeps_the_submission_contract() {
    contract::submission_contract(&store(), later()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_store_keeps_the_integrity_contract() {
    contract::integrity_contract(&store(), later()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_store_keeps_the_withdrawal_contract() {
    contract::withdrawal_contract(&store(), later()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_store_keeps_the_outbox_contract() {
    contract::outbox_contract(&store(), later()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_store_keeps_the_deliveries_contract() {
    contract::deliveries_contract(&store(), later()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_store_keeps_the_payments_contract() {
    contract::payments_contract(&store(), later()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_store_keeps_the_sign_in_contract() {
    contract::sign_in_contract(&store(), later()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_in_the_outbox_of_old_still_goes_out_once_from_where_it_belongs_now() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use steward_core::adapters::dynamodb::keys;
    use steward_core::domain::mail::outbox::{OutboxMessage, OutboxStore, Queue};
    use steward_core::domain::mail::MailKind;
    let store = store();
    let at = later() + 7_000;
    // A campaign's message (queued before campaigns had their own queue) and a transactional one
    // (queued before the transactional queue was sharded), both in the one OUTBOX partition.
    for id in [
        format!("campaign-legacy-{}", uuid::Uuid::new_v4().simple()),
        format!("confirm-legacy-{}", uuid::Uuid::new_v4().simple()),
    ] {
        let message = OutboxMessage {
            id: id.clone(),
            kind: MailKind::Marketing,
            to: "legacy@example.com".into(),
            profile_id: steward_core::domain::ids::ProfileId::new_random(),
            subject: "Legacy".into(),
            template: "campaign".into(),
            lang: Default::default(),
            values: serde_json::json!({"paragraphs": ["x"]}),
            topic: Some("cloud".into()),
            unsubscribe_url: None,
        };
        let item = std::collections::HashMap::from([
            (keys::PK.to_owned(), AttributeValue::S(keys::OUTBOX_UNSHARDED.into())),
            (keys::SK.to_owned(), AttributeValue::S(id.clone())),
            ("type".to_owned(), AttributeValue::S("outbox".into())),
            ("status".to_owned(), AttributeValue::S("pending".into())),
            ("next_attempt_at".to_owned(), AttributeValue::N(at.to_string())),
            ("attempts".to_owned(), AttributeValue::N("0".into())),
            ("message".to_owned(), AttributeValue::S(serde_json::to_string(&message).unwrap())),
        ]);
        stack().dynamodb().put_item().table_name(&stack().table).set_item(Some(item)).send().await.unwrap();

        let due = store.due(at, 1000).await.unwrap();
        assert!(due.contains(&id), "it is due: {due:?}");
        assert!(
            stack().item(keys::OUTBOX_UNSHARDED.into(), id.clone()).await.is_none(),
            "moved out of the outbox of old"
        );
        let (pk, sk) = keys::outbox(&id);
        assert!(stack().item(pk.clone(), sk).await.is_some(), "now in {pk}");
        match Queue::of(&id) {
            Queue::Campaign => assert_eq!(pk, keys::OUTBOX_CAMPAIGN),
            Queue::Transactional => {
                assert!(pk.starts_with("OUTBOX#"), "a shard of the transactional queue: {pk}")
            }
        }
        let lease = std::time::Duration::from_secs(60);
        assert_eq!(
            store.claim(&id, at, lease).await.unwrap().map(|(m, _)| m),
            Some(message),
            "claimed where it is now"
        );
        store.complete(&id, at).await.unwrap();
        assert!(!store.due(at + 1, 1000).await.unwrap().contains(&id), "and sent once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_queued_in_the_queue_of_old_is_delivered_once_from_its_shard() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use steward_core::adapters::dynamodb::keys;
    use steward_core::domain::destinations::{Delivery, DeliveryStore, DomainEvent, EventType, Target};
    let store = store();
    let at = later() + 8_000;
    let person = steward_core::domain::ids::ProfileId::new_random();
    let delivery = Delivery {
        target: Target::Destination { id: "crm".into() },
        event: DomainEvent::new(
            EventType::SubmissionReceived,
            &uuid::Uuid::new_v4().simple().to_string(),
            steward_core::time::Timestamp::from_epoch_seconds(at),
            serde_json::json!({"fields": {"email": "legacy@example.com"}}),
        ),
        profile_id: person.clone(),
        subject: None,
        awaiting_confirmation: false,
    };
    let id = delivery.id();
    // As the release before the queue was sharded queued it: in the one DELIVERY partition.
    let item = std::collections::HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(keys::DELIVERY_UNSHARDED.into())),
        (keys::SK.to_owned(), AttributeValue::S(id.clone())),
        ("type".to_owned(), AttributeValue::S("delivery".into())),
        ("status".to_owned(), AttributeValue::S("pending".into())),
        ("next_attempt_at".to_owned(), AttributeValue::N(at.to_string())),
        ("attempts".to_owned(), AttributeValue::N("0".into())),
        ("profile_id".to_owned(), AttributeValue::S(person.as_str().into())),
        ("occurred_at".to_owned(), AttributeValue::S(delivery.event.timestamp.clone())),
        ("delivery".to_owned(), AttributeValue::S(serde_json::to_string(&delivery).unwrap())),
    ]);
    stack().dynamodb().put_item().table_name(&stack().table).set_item(Some(item)).send().await.unwrap();
    assert!(
        store.recipients(&person).await.unwrap().iter().any(|owed| owed.event_id == delivery.event.id),
        "what the person is owed is found before it is moved"
    );

    let due = store.due_deliveries(at, 100_000).await.unwrap();
    assert_eq!(due.iter().filter(|d| **d == id).count(), 1, "due once: {due:?}");
    assert!(stack().item(keys::DELIVERY_UNSHARDED.into(), id.clone()).await.is_none(), "moved");
    let (pk, sk) = keys::delivery(&id);
    assert!(pk.starts_with("DELIVERY#") && stack().item(pk, sk).await.is_some(), "into its shard");
    let lease = std::time::Duration::from_secs(60);
    assert!(store.claim_delivery(&id, at, lease).await.unwrap().is_some(), "claimed where it is now");
    assert!(store.delivered(&delivery, &[], at).await.unwrap());
    assert!(!store.due_deliveries(at + 1, 100_000).await.unwrap().contains(&id), "and delivered once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_sold_seats_on_its_one_counter_of_old_keeps_counting_there_within_its_capacity() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use steward_core::adapters::dynamodb::keys;
    use steward_core::domain::payments::{PaymentStore, SeatHold};
    let store = store();
    let event = format!("legacy-event-{}", uuid::Uuid::new_v4().simple());
    let put = |pk: String, sk: String, extra: Vec<(&str, AttributeValue)>| {
        let mut item = std::collections::HashMap::from([
            (keys::PK.to_owned(), AttributeValue::S(pk)),
            (keys::SK.to_owned(), AttributeValue::S(sk)),
        ]);
        item.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
        async move {
            stack()
                .dynamodb()
                .put_item()
                .table_name(&stack().table)
                .set_item(Some(item))
                .send()
                .await
                .unwrap();
        }
    };
    // As the release before sharding left it: one counter (two of four seats taken) and a hold
    // without a counter of its own; and a seat a sharded release counted meanwhile.
    let (pk, sk) = keys::seats(&event);
    put(
        pk,
        sk,
        vec![("taken", AttributeValue::N("2".into())), ("seat_capacity", AttributeValue::N("4".into()))],
    )
    .await;
    let old_holder = format!("old-{}", uuid::Uuid::new_v4().simple());
    let (pk, sk) = keys::seat_hold(&event, &old_holder);
    put(pk, sk, vec![("registration_id", AttributeValue::S(old_holder.clone()))]).await;
    let (pk, sk) = keys::seat_shard(&event, 3);
    put(
        pk,
        sk,
        vec![("taken", AttributeValue::N("1".into())), ("seat_capacity", AttributeValue::N("4".into()))],
    )
    .await;
    assert_eq!(store.seats_taken(&event).await.unwrap(), 3);

    let buyer = |n: u32| format!("buyer-{n}-{}", uuid::Uuid::new_v4().simple());
    assert_eq!(store.hold_seat(&event, &buyer(1), 4, None).await.unwrap(), SeatHold::Held, "the last seat");
    assert_eq!(
        store.hold_seat(&event, &buyer(2), 4, None).await.unwrap(),
        SeatHold::SoldOut,
        "the seat counted on a shard counts against the capacity too"
    );
    assert!(store.release_seat(&event, &old_holder, None).await.unwrap(), "an old hold gives its seat back");
    assert_eq!(store.seats_taken(&event).await.unwrap(), 3, "to the counter of old");
    assert_eq!(
        store.hold_seat(&event, &buyer(3), 0, None).await.unwrap(),
        SeatHold::Held,
        "and it is sold again"
    );
    assert_eq!(store.hold_seat(&event, &buyer(4), 0, None).await.unwrap(), SeatHold::SoldOut);
    assert_eq!(store.seats_taken(&event).await.unwrap(), 4);
}
