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
