//! SES v2: sending the outbox's mail ([`sender`], feature `ses`) and reading the bounces and
//! complaints it reports ([`notifications`]).

pub mod notifications;
#[cfg(feature = "ses")]
pub mod sender;
