//! What every use case may need from the world outside it, whatever the use case: how a store
//! fails, fixed-window counters, and the clock. Each use case declares the rest of its ports (its
//! store, the mail sender, the payment provider, the CV bucket) next to itself; the adapters in
//! `crate::adapters` implement them (DynamoDB, S3, Stripe, SES), and `crate::adapters::memory`
//! implements every one of them in memory for the use cases' own tests.

use std::future::Future;
use std::time::Duration;

use crate::time::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out or the service is down: worth retrying later (503).
    #[error("the store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or a misconfiguration (500).
    #[error("the store failed")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A stored value that no version of Steward writes (an item from a newer version, or
    /// damaged): never read as some default, always reported with what it was.
    pub fn unknown(what: &'static str, value: &str) -> Self {
        Self::Unexpected(Box::new(UnknownStoredValue { what, value: value.to_owned() }))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the store holds a {what} that no version of Steward writes: {value:?}")]
pub struct UnknownStoredValue {
    pub what: &'static str,
    pub value: String,
}

/// A fixed rate-limit window in epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedWindow {
    pub start: i64,
    pub end: i64,
}

impl FixedWindow {
    pub fn containing(at: Timestamp, length: Duration) -> Self {
        let length = length.as_secs().max(1) as i64;
        let start = at.epoch_seconds().div_euclid(length) * length;
        Self { start, end: start + length }
    }

    pub fn remaining_after(&self, at: Timestamp) -> Duration {
        Duration::from_secs((self.end - at.epoch_seconds()).max(1) as u64)
    }
}

/// Fixed-window counters that expire by themselves.
pub trait RateLimiter {
    /// Counts `event` once for `subject` in the window starting at `window_start`, and returns
    /// how many distinct events the window holds: a retry of the same event (a lost answer, a
    /// retried request) never counts twice, and is never refused once counted. At `limit` events
    /// nothing more is recorded (a flood cannot grow the counter) and any new event is answered
    /// `limit + 1`. Events are kept as short digests ([`counted_event`]). The counter expires
    /// after `window_end`.
    fn hit_once(
        &self,
        scope: &'static str,
        subject: &str,
        event: &str,
        limit: u32,
        window: FixedWindow,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
}

/// How a rate counter keeps an event: 16 hex characters of its SHA-256, so that what a client
/// chooses (an idempotency key) cannot make a counter large.
pub fn counted_event(event: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(event.as_bytes())[..8])
}

/// What time it is. Injected once, at each function's entry point: nothing else in Steward reads
/// the system clock, so a use case's tests set the time they need.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn system_time(&self) -> std::time::SystemTime;

    /// Seconds since the Unix epoch: TTLs, windows, token expiry.
    fn now(&self) -> i64 {
        crate::time::Timestamp::from(self.system_time()).epoch_seconds()
    }

    /// The same instant, for what people read (RFC 3339).
    fn timestamp(&self) -> crate::time::Timestamp {
        crate::time::Timestamp::from(self.system_time())
    }
}

/// The system clock, the one every deployed function runs with.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn system_time(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
}
