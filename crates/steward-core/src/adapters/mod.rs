//! The domain's ports, implemented against the world: one folder or file per service, each
//! organised by the same domain areas as `crate::domain`.

pub mod aws;
#[cfg(feature = "staff")]
pub mod cognito;
pub mod dynamodb;
#[cfg(feature = "destinations")]
pub mod eventbridge;
#[cfg(feature = "testing")]
pub mod memory;
pub mod s3;
pub mod secrets;
pub mod ses;
pub mod stripe;
#[cfg(feature = "turnstile")]
pub mod turnstile;
#[cfg(feature = "destinations")]
pub mod webhook;
