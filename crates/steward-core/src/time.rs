//! Wall-clock helpers. Times are stored as RFC 3339 strings for people and as epoch seconds where
//! DynamoDB needs numbers (TTL, windows).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time, with second-level epoch access for TTLs and an RFC 3339 rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

impl From<std::time::SystemTime> for Timestamp {
    fn from(at: std::time::SystemTime) -> Self {
        Self(OffsetDateTime::from(at))
    }
}

impl Timestamp {
    /// Epoch seconds as a time; out-of-range values (never a real clock's) clamp to the epoch.
    pub fn from_epoch_seconds(seconds: i64) -> Self {
        Self(OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH))
    }

    pub fn from_epoch_millis(millis: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok().map(Self)
    }

    /// A time as stored (RFC 3339); `None` for anything else.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339).ok().map(Self)
    }

    pub fn epoch_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    pub fn plus_days(&self, days: u32) -> Self {
        Self(self.0 + time::Duration::days(i64::from(days)))
    }

    /// Its day (UTC).
    pub fn date(&self) -> time::Date {
        self.0.date()
    }

    /// Its day as people read it: `6 December 2026` (UTC).
    pub fn date_in_words(&self) -> String {
        crate::i18n::date_in_words(self.0.date())
    }

    /// Its day and minute as people read them: `6 December 2026 at 14:05 UTC`.
    pub fn in_words(&self) -> String {
        let time = format!("{:02}:{:02}", self.0.hour(), self.0.minute());
        crate::t!("date-and-time", date = self.date_in_words(), time = time)
    }

    pub fn rfc3339(&self) -> String {
        self.0
            .replace_nanosecond(self.0.millisecond() as u32 * 1_000_000)
            .unwrap_or(self.0)
            .format(&Rfc3339)
            .expect("every UTC time formats as RFC 3339")
    }
}
