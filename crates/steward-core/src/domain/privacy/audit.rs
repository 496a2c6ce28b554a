//! The audit log: what was done to people's data, by whom and when, with no personal data in it.
//!
//! Erasures write their record with the erasure itself (`ErasureStore::forget_profile`); every
//! operator action (`steward-admin`) writes one as it ends. Records are kept seven years.

use std::collections::BTreeMap;
use std::future::Future;

use crate::domain::ports::StoreError;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The person, in the privacy center.
    Person,
    /// The retention sweep, because a retention period ended.
    Retention,
    /// An operator, named by the AWS identity they acted with (an IAM or STS ARN).
    Operator(String),
    /// A staff member in the console, named by their work address (as Cognito holds it).
    Staff(String),
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Self::Person => "person".to_owned(),
            Self::Retention => "retention".to_owned(),
            // An erasure's own record names no operator: the operator's record beside it does.
            Self::Operator(arn) if arn.is_empty() => "operator".to_owned(),
            Self::Operator(arn) => format!("operator:{arn}"),
            Self::Staff(email) => format!("staff:{email}"),
        }
    }

    pub fn parse(label: &str) -> Self {
        match label {
            "person" => Self::Person,
            "retention" => Self::Retention,
            "operator" => Self::Operator(String::new()),
            other if other.starts_with("staff:") => Self::Staff(other["staff:".len()..].to_owned()),
            other => Self::Operator(other.strip_prefix("operator:").unwrap_or(other).to_owned()),
        }
    }

    /// Version 1's erasure records have no actor; their reason says who it was.
    pub fn of_erasure_reason(reason: &str) -> Self {
        match reason {
            "self-service" => Self::Person,
            "retention" => Self::Retention,
            _ => Self::Operator(String::new()),
        }
    }
}

/// One audit record. `subject` is an id (a profile, an application, a campaign), never an address
/// or a name; erasure records have none, since the id would outlive what it named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// RFC 3339, UTC.
    pub at: String,
    pub action: String,
    pub actor: Actor,
    pub subject: Option<String>,
    /// The operator's reference for the request (a ticket id), when given.
    pub reference: Option<String>,
    /// `ok`, `not-found`, `interrupted`, `stopped` or `failed`.
    pub outcome: String,
    /// Counts: items deleted, messages queued, events applied, ...
    pub counts: BTreeMap<String, u64>,
    /// The item layout version the record was read from.
    pub schema_version: i64,
}

pub trait AuditStore {
    fn record(&self, entry: &AuditEntry) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The records of one month (`yyyy-mm`), oldest first.
    fn audit_month(&self, month: &str) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;
}

/// The months from `since` (RFC 3339 or `yyyy-mm`) to `until`, as `yyyy-mm`, oldest first.
pub fn months_between(since: &str, until: &str) -> Vec<String> {
    let parse = |text: &str| -> Option<(i32, u32)> {
        Some((text.get(0..4)?.parse().ok()?, text.get(5..7)?.parse().ok()?))
    };
    let (Some(mut at), Some(end)) = (parse(since), parse(until)) else { return vec![] };
    let mut months = vec![];
    while at <= end && months.len() < 12 * 20 {
        months.push(format!("{:04}-{:02}", at.0, at.1));
        at = if at.1 == 12 { (at.0 + 1, 1) } else { (at.0, at.1 + 1) };
    }
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_between_spans_years_and_refuses_nonsense() {
        assert_eq!(
            months_between("2026-11-29T10:00:00Z", "2027-02-01T00:00:00Z"),
            ["2026-11", "2026-12", "2027-01", "2027-02"]
        );
        assert_eq!(months_between("2026-11", "2026-11"), ["2026-11"]);
        assert!(months_between("2027-01", "2026-11").is_empty());
        assert!(months_between("yesterday", "2026-11").is_empty());
    }

    #[test]
    fn actors_round_trip_and_version_1_reasons_map_to_actors() {
        for actor in [
            Actor::Person,
            Actor::Retention,
            Actor::Operator("arn:aws:iam::1:user/ops".into()),
            Actor::Operator(String::new()),
            Actor::Staff("dpo@example.com".into()),
        ] {
            assert_eq!(Actor::parse(&actor.label()), actor);
        }
        assert_eq!(Actor::of_erasure_reason("self-service"), Actor::Person);
        assert_eq!(Actor::of_erasure_reason("retention"), Actor::Retention);
        assert!(matches!(Actor::of_erasure_reason("operator"), Actor::Operator(_)));
    }
}
