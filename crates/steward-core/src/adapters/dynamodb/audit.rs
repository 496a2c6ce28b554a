//! The audit log's records: each month's `AUDIT#<yyyy-mm>#<shard>` partitions, one item per action.

use super::*;
use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::ports::StoreError;
use crate::domain::privacy::audit::{Actor, AuditEntry, AuditStore};

impl AuditStore for DynamoStore {
    async fn record(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let month = entry.at.get(..7).unwrap_or("0000-00");
        let (pk, sk) = keys::audit_record(
            month,
            format!("OPERATOR#{}#{}", entry.at, &uuid::Uuid::new_v4().simple().to_string()[..12]),
        );
        let mut item = key(pk, sk);
        stamp(&mut item, "audit");
        item.insert("at".into(), s(&entry.at));
        item.insert("action".into(), s(&entry.action));
        item.insert("actor".into(), s(entry.actor.label()));
        item.insert("outcome".into(), s(&entry.outcome));
        if let Some(subject) = &entry.subject {
            item.insert("subject".into(), s(subject));
        }
        if let Some(reference) = &entry.reference {
            item.insert("reference".into(), s(reference));
        }
        if !entry.counts.is_empty() {
            let counts = entry.counts.iter().map(|(name, count)| (name.clone(), n(count))).collect();
            item.insert("counts".into(), AttributeValue::M(counts));
        }
        item.insert(
            keys::TTL.into(),
            n(self.clock.timestamp().epoch_seconds() + AUDIT_RETENTION_DAYS * 86_400),
        );
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(classify)?;
        Ok(())
    }

    async fn audit_month(&self, month: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        for partition in keys::audit_month(month) {
            entries.extend(self.partition(&partition, None).await?.iter().map(entry_of));
        }
        // By time, not text: RFC 3339 drops a fraction's trailing zeros (…:35.5Z is after …:35.123Z).
        entries.sort_by_key(|entry| crate::time::Timestamp::parse_rfc3339(&entry.at));
        Ok(entries)
    }
}

/// Reads a record of either layout: version 1 wrote erasure records only, without `actor`.
fn entry_of(item: &HashMap<String, AttributeValue>) -> AuditEntry {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |value: &AttributeValue| value.as_n().ok().and_then(|n| n.parse::<u64>().ok());
    let version = schema_version(item);
    let action = text("action").unwrap_or_else(|| "unknown".to_owned());
    let mut counts: BTreeMap<String, u64> = item
        .get("counts")
        .and_then(|v| v.as_m().ok())
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), number(v)?))).collect())
        .unwrap_or_default();
    if action == "erasure" {
        for name in ["items_deleted", "cv_versions_deleted", "payments_retained"] {
            if let Some(count) = item.get(name).and_then(number) {
                counts.insert(name.to_owned(), count);
            }
        }
    }
    let actor = match text("actor") {
        Some(label) => Actor::parse(&label),
        None => Actor::of_erasure_reason(&text("reason").unwrap_or_default()),
    };
    AuditEntry {
        at: text("at").unwrap_or_default(),
        action,
        actor,
        subject: text("subject"),
        reference: text("reference").or_else(|| text("reason").map(|r| format!("reason:{r}"))),
        outcome: text("outcome").unwrap_or_else(|| "ok".to_owned()),
        counts,
        schema_version: version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn a_version_1_erasure_record_reads_with_its_actor_from_the_reason() {
        let v1 = item(&[
            ("pk", s("AUDIT#2026-11")),
            ("sk", s("ERASURE#2026-11-29T16:32:03.887Z#98")),
            ("type", s("audit")),
            ("action", s("erasure")),
            ("reason", s("self-service")),
            ("at", s("2026-11-29T16:32:03.887Z")),
            ("items_deleted", n(5)),
            ("cv_versions_deleted", n(0)),
            ("payments_retained", n(1)),
        ]);
        let entry = entry_of(&v1);
        assert_eq!(entry.schema_version, 1);
        assert_eq!(entry.actor, Actor::Person);
        assert_eq!(entry.action, "erasure");
        assert_eq!(entry.outcome, "ok");
        assert_eq!(entry.counts["items_deleted"], 5);
        assert_eq!(entry.counts["payments_retained"], 1);
    }

    #[test]
    fn a_version_2_operator_record_reads_back() {
        let v2 = item(&[
            ("v", n(2)),
            ("action", s("campaign")),
            ("actor", s("operator:arn:aws:iam::1:user/ops")),
            ("at", s("2026-11-29T17:00:00Z")),
            ("subject", s("2026-12-launch")),
            ("outcome", s("interrupted")),
            ("counts", AttributeValue::M(HashMap::from([("queued".to_owned(), n(40))]))),
        ]);
        let entry = entry_of(&v2);
        assert_eq!(entry.schema_version, 2);
        assert_eq!(entry.actor, Actor::Operator("arn:aws:iam::1:user/ops".into()));
        assert_eq!(entry.subject.as_deref(), Some("2026-12-launch"));
        assert_eq!(entry.outcome, "interrupted");
        assert_eq!(entry.counts["queued"], 40);
    }
}
