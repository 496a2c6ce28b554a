//! The teams' listings: a form's submissions, read by scanning the table page by page (the
//! operator's listings are rare, and a scan needs no index the functions would pay to write).

use super::*;
use crate::domain::forms::inbox::{InboxRow, InboxStore, VerifiedCv};
use crate::domain::ids::FormId;
use std::collections::HashSet;

impl InboxStore for DynamoStore {
    async fn submissions_of(
        &self,
        form: &FormId,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Vec<InboxRow>, StoreError> {
        let mut submissions = Vec::new();
        // Payments by the registration they pay for (`PAYMENT#<submission id>`).
        let mut payments: HashMap<String, String> = HashMap::new();
        // People who limited the use of their data: restricted, or objecting.
        let mut restricted: HashSet<String> = HashSet::new();
        let mut objected: HashSet<String> = HashSet::new();
        let mut start = None;
        let mut read = 0u64;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                // Past its retention is gone, whether or not the TTL sweep has caught up.
                .filter_expression(
                    "(((begins_with(sk, :submission) AND form = :form) OR begins_with(sk, :payment)) \
                     AND (attribute_not_exists(#ttl) OR #ttl > :now)) \
                     OR (sk = :profile AND (attribute_exists(restricted) OR attribute_exists(objected)))",
                )
                .expression_attribute_values(":profile", s("PROFILE"))
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":now", n(self.clock.now()))
                .expression_attribute_values(":submission", s("SUBMISSION#"))
                .expression_attribute_values(":payment", s("PAYMENT#"))
                .expression_attribute_values(":form", s(form.as_str()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            read += page.scanned_count() as u64;
            progress(read);
            for item in page.items() {
                let Some(sk) = text(item, keys::SK) else { continue };
                if sk == "PROFILE" {
                    if let Some(profile) = text(item, "profile_id") {
                        if item.contains_key("restricted") {
                            restricted.insert(profile.clone());
                        }
                        if item.contains_key("objected") {
                            objected.insert(profile);
                        }
                    }
                    continue;
                }
                if let Some(registration) = sk.strip_prefix("PAYMENT#") {
                    if let Some(status) = text(item, "status") {
                        payments.insert(registration.to_owned(), status);
                    }
                } else {
                    submissions.push(item.clone());
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        let mut rows: Vec<InboxRow> = submissions
            .iter()
            .filter_map(|item| {
                let submission_id = text(item, "submission_id")?;
                let fields = item
                    .get("fields")
                    .and_then(|v| v.as_m().ok())
                    .map(|fields| {
                        fields
                            .iter()
                            .map(|(name, value)| {
                                let value = match value_json(value) {
                                    serde_json::Value::Array(items) => {
                                        items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join(",")
                                    }
                                    serde_json::Value::String(text) => text,
                                    other => other.to_string(),
                                };
                                (name.clone(), value)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let cv = (form.as_str() == "careers").then(|| {
                    item.get("cv")
                        .and_then(|v| v.as_m().ok())
                        .and_then(|cv| cv.get("status"))
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_else(|| "waiting".to_owned())
                });
                let cv_file = item
                    .get("cv")
                    .and_then(|v| v.as_m().ok())
                    .filter(|cv| {
                        cv.get("status").and_then(|v| v.as_s().ok()).is_some_and(|s| s == "verified")
                    })
                    .and_then(|cv| {
                        Some(VerifiedCv {
                            key: cv.get("key")?.as_s().ok()?.clone(),
                            version_id: cv.get("version_id").and_then(|v| v.as_s().ok()).cloned(),
                            file_name: cv
                                .get("file_name")
                                .and_then(|v| v.as_s().ok())
                                .cloned()
                                .unwrap_or_else(|| "cv".to_owned()),
                        })
                    });
                let person_id = text(item, keys::PK)?.strip_prefix("PROFILE#")?.to_owned();
                Some(InboxRow {
                    restricted: restricted.contains(&person_id),
                    objected: objected.contains(&person_id),
                    cv_file,
                    payment: payments.get(&submission_id).cloned(),
                    person_id,
                    form: form.as_str().to_owned(),
                    received_at: text(item, "received_at").unwrap_or_default(),
                    fields,
                    cv,
                    submission_id,
                })
            })
            .collect();
        rows.sort_by(|a, b| b.received_at.cmp(&a.received_at));
        Ok(rows)
    }
}
