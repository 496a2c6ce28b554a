//! Steward's shared library: the domain (what a form submission means and which rules it must
//! satisfy), the DynamoDB store behind small traits, HTTP helpers for API Gateway HTTP API events
//! (body decoding, content negotiation, CORS, problem+json) and typed configuration.
//!
//! Every Lambda in `functions/` is wiring around this crate. Nothing here logs personal data:
//! logs carry ids (profile, submission, request), never emails, names, phones or IP addresses.

pub mod aws;
pub mod catalogue;
pub mod config;
#[cfg(feature = "s3")]
pub mod cv_bucket;
pub mod domain;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod lambda;
pub mod mail;
pub mod s3post;
pub mod secret;
pub mod secrets;
pub mod store;
pub mod stripe_signature;
pub mod telemetry;
pub mod time;
pub mod token;
