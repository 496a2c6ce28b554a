//! Stripe: checking a webhook's signature ([`signature`]), and the payment provider the payments
//! function starts payments with ([`provider`], feature `stripe`: `async-stripe`).

#[cfg(feature = "stripe")]
pub mod provider;
pub mod signature;
