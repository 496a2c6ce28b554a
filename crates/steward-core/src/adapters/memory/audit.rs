//! The audit log's records: each month's `AUDIT#<yyyy-mm>#<shard>` partitions, one item per action.

use super::*;
use crate::domain::privacy::audit::{Actor, AuditEntry, AuditStore};

impl AuditStore for MemoryStore {
    async fn record(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let expires_at = self.clock.now() + AUDIT_RETENTION_DAYS * 86_400;
        self.run("record", |table| {
            let month = entry.at.get(..7).unwrap_or("0000-00");
            let key = keys::audit_record(month, format!("OPERATOR#{}#{}", entry.at, random_suffix(12)));
            let mut item = stamped("audit");
            item.insert("at".into(), entry.at.clone().into());
            item.insert("action".into(), entry.action.clone().into());
            item.insert("actor".into(), entry.actor.label().into());
            item.insert("outcome".into(), entry.outcome.clone().into());
            if let Some(subject) = &entry.subject {
                item.insert("subject".into(), subject.clone().into());
            }
            if let Some(reference) = &entry.reference {
                item.insert("reference".into(), reference.clone().into());
            }
            if !entry.counts.is_empty() {
                let counts: Item =
                    entry.counts.iter().map(|(name, count)| (name.clone(), (*count).into())).collect();
                item.insert("counts".into(), counts.into());
            }
            item.insert(keys::TTL.into(), expires_at.into());
            table.insert(key, item);
            Ok(())
        })
    }

    async fn audit_month(&self, month: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let partitions = keys::audit_month(month);
        self.run("audit_month", |table| {
            let mut entries: Vec<AuditEntry> =
                super::partitions(table, &partitions).map(|(_, item)| entry_of(item)).collect();
            // By time, not text: RFC 3339 drops a fraction's trailing zeros (…:35.5Z is after …:35.123Z).
            entries.sort_by_key(|entry| crate::time::Timestamp::parse_rfc3339(&entry.at));
            Ok(entries)
        })
    }
}

/// Reads a record as the DynamoDB store does: erasure records keep their counts as attributes of
/// their own and say who acted in `reason` too.
fn entry_of(item: &Item) -> AuditEntry {
    let action = text(item, "action").unwrap_or_else(|| "unknown".to_owned());
    let mut counts: BTreeMap<String, u64> = item
        .get("counts")
        .and_then(Value::as_object)
        .map(|counts| {
            counts.iter().filter_map(|(name, count)| Some((name.clone(), count.as_u64()?))).collect()
        })
        .unwrap_or_default();
    if action == "erasure" {
        for name in ["items_deleted", "cv_versions_deleted", "payments_retained"] {
            if let Some(count) = item.get(name).and_then(Value::as_u64) {
                counts.insert(name.to_owned(), count);
            }
        }
    }
    let actor = match text(item, "actor") {
        Some(label) => Actor::parse(&label),
        None => Actor::of_erasure_reason(&text(item, "reason").unwrap_or_default()),
    };
    AuditEntry {
        at: text(item, "at").unwrap_or_default(),
        action,
        actor,
        subject: text(item, "subject"),
        reference: text(item, "reference").or_else(|| text(item, "reason").map(|r| format!("reason:{r}"))),
        outcome: text(item, "outcome").unwrap_or_else(|| "ok".to_owned()),
        counts,
        // Items without `v` are version 1's.
        schema_version: number(item, "v").unwrap_or(1),
    }
}
