//! The use cases' own tests: each drives a use case of `steward_core::domain` against the
//! in-memory adapters (`adapters::memory`), in milliseconds. The store contracts at the end run
//! the promises the DynamoDB store is held to (`tests/contract.rs`) against the memory store, so
//! that what these tests rely on is what the deployed store does.

mod careers;
mod contract;
mod destinations;
mod faults;
mod forms;
mod mail;
mod payments;
mod privacy;
mod requests;
mod support;
