//! The memory store's faults, which the tests above use to stop a use case half-way.

use steward_core::adapters::memory::{Fault, MemoryStore};
use steward_core::domain::ports::{FixedWindow, RateLimiter, StoreError};

use crate::support::config;

async fn hit(store: &MemoryStore) -> Result<u32, StoreError> {
    let event = uuid::Uuid::new_v4().simple().to_string();
    store.hit_once("ip", "subject", &event, 100, FixedWindow { start: 0, end: 600 }).await
}

#[tokio::test]
async fn the_next_calls_fail_then_the_store_heals_by_itself() {
    let store = MemoryStore::new(config().hash_key);
    store.fail_next(2, Fault::Unavailable);
    assert!(matches!(hit(&store).await, Err(StoreError::Unavailable(_))));
    assert!(matches!(hit(&store).await, Err(StoreError::Unavailable(_))));
    assert_eq!(hit(&store).await.unwrap(), 1, "the failed calls changed nothing");
}

#[tokio::test]
async fn after_some_calls_every_call_fails_until_healed() {
    let store = MemoryStore::new(config().hash_key);
    store.fail_after(1, Fault::Unexpected);
    assert_eq!(hit(&store).await.unwrap(), 1);
    assert!(matches!(hit(&store).await, Err(StoreError::Unexpected(_))));
    assert!(hit(&store).await.is_err());
    store.heal();
    assert_eq!(hit(&store).await.unwrap(), 2);
    assert_eq!(
        store.calls(),
        ["hit_once", "hit_once", "hit_once", "hit_once"],
        "failed calls are counted too"
    );
}

#[tokio::test]
async fn a_named_operation_fails_and_the_others_work() {
    let store = MemoryStore::new(config().hash_key);
    store.fail_operation("store_submission", Fault::Unavailable);
    assert_eq!(hit(&store).await.unwrap(), 1);
    store.fail_from_now(Fault::Unavailable);
    assert!(hit(&store).await.is_err());
}
