//! Steward's shared library, in three wings:
//!
//! - [`domain`]: what Steward does, grouped as the product is (forms, careers, payments, mail,
//!   privacy), with the validated values its use cases work with and the ports (traits) each use
//!   case needs. It knows nothing of HTTP, AWS or Stripe.
//! - [`adapters`]: the ports' implementations, one file per domain area in each: DynamoDB, S3,
//!   Stripe, SES, Secrets Manager, and (feature `testing`) memory.
//! - the edge every function shares: HTTP helpers for API Gateway HTTP API events ([`http`]),
//!   typed configuration ([`config`]), the Lambda runtime wiring ([`lambda`]), logs
//!   ([`telemetry`]), signed tokens ([`token`]) and time ([`time`]).
//!
//! Every Lambda in `functions/` is wiring around this crate. Nothing here logs personal data:
//! logs carry ids (profile, submission, request), never emails, names, phones or IP addresses.

pub mod adapters;
pub mod config;
pub mod domain;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod i18n;
pub mod lambda;
pub mod secret;
pub mod telemetry;
pub mod time;
pub mod token;
