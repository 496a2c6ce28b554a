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
async fn the_dynamodb_store_keeps_the_payments_contract() {
    contract::payments_contract(&store(), later()).await;
}
