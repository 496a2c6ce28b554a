//! The store contracts, kept by the memory store (the DynamoDB store keeps them in
//! `tests/contract.rs`).

use steward_core::adapters::memory::{contract, MemoryClock, MemoryStore};
use steward_core::domain::ports::Clock;

use crate::support::config;

fn store() -> MemoryStore {
    MemoryStore::new(config().hash_key)
}

#[tokio::test]
async fn the_memory_store_keeps_the_seat_contract() {
    contract::seats_contract(&store(), MemoryClock::START).await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_submission_contract() {
    contract::submission_contract(&store(), MemoryClock::START).await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_integrity_contract() {
    contract::integrity_contract(&store(), MemoryClock::START).await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_withdrawal_contract() {
    contract::withdrawal_contract(&store(), MemoryClock::START).await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_outbox_contract() {
    contract::outbox_contract(&store(), MemoryClock::START).await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_deliveries_contract() {
    contract::deliveries_contract(&store(), MemoryClock::START).await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_payments_contract() {
    contract::payments_contract(&store(), MemoryClock::START).await;
}

#[tokio::test]
async fn the_memory_store_keeps_the_sign_in_contract() {
    contract::sign_in_contract(&store(), MemoryClock::START).await;
}

#[tokio::test]
async fn the_contracts_hold_on_a_table_already_in_use() {
    // Every contract makes its own ids: run twice on one table, as on the shared local stack.
    let store = store();
    for _ in 0..2 {
        let now = store.clock().now();
        contract::seats_contract(&store, now).await;
        contract::submission_contract(&store, now).await;
        contract::outbox_contract(&store, now).await;
        contract::deliveries_contract(&store, now).await;
        contract::payments_contract(&store, now).await;
    }
}
