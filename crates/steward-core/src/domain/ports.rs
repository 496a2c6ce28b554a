//! What every use case may need from the world outside it, whatever the use case: how a store
//! fails, fixed-window counters, and the clock. Each use case declares the rest of its ports (its
//! store, the mail sender, the payment provider, the CV bucket) next to itself; the adapters in
//! `crate::adapters` implement them (DynamoDB, S3, Stripe, SES), and `crate::adapters::memory`
//! implements every one of them in memory for the use cases' own tests.

use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out or the service is down: worth retrying later (503).
    #[error("the store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or a misconfiguration (500).
    #[error("the store failed")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Fixed-window counters that expire by themselves.
pub trait RateLimiter {
    /// Counts one more hit for `subject` in the window starting at `window_start`, and returns the
    /// window's count including this one. The counter expires after `window_end`.
    fn hit(
        &self,
        scope: &'static str,
        subject: &str,
        window_start: i64,
        window_end: i64,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
}

/// What time it is. Injected once, at each function's entry point, so that a use case never reads
/// the system clock itself and its tests can set the time.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The system clock, the one every deployed function runs with.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
    }
}
