//! Stripe: checking a webhook's signature ([`signature`]).

pub mod signature;
