//! What Steward's data means and what Steward does with it, grouped as the product is: validated
//! values ([`fields`], [`ids`]), forms, careers, payments, mail and privacy, each with the use
//! cases that act on it and the ports (traits) they need. Nothing in here knows about HTTP, AWS or
//! Stripe: the adapters implement the ports ([`ports`] holds the ones every use case shares).

pub mod careers;
pub mod destinations;
pub mod fields;
pub mod forms;
pub mod ids;
pub mod mail;
pub mod payments;
pub mod ports;
pub mod privacy;
pub mod staff;
pub(crate) mod subdivisions;
