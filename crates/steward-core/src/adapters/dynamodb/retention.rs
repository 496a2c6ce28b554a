//! Retention: what has expired, and holds that lapsed.

use super::*;
use crate::domain::ports::StoreError;
use crate::domain::privacy::retention::{ExpiredItem, ExpiredPage, RetentionStore, SweepPosition};

impl RetentionStore for DynamoStore {
    /// A filtered scan: the sweep reads the table once per run (about 0.5 RCU per 4 KB), which is
    /// cheaper than an index written on every item.
    async fn expired(
        &self,
        now: i64,
        cursor: Option<String>,
    ) -> Result<(ExpiredPage, Option<String>), StoreError> {
        let start_key = cursor.as_deref().and_then(cursor_key);
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("#ttl < :now OR sk = :profile OR #lapses < :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#lapses", keys::HOLD_LAPSES_AT)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":profile", s("PROFILE"))
            .set_exclusive_start_key(start_key)
            .send()
            .await
            .map_err(classify)?;
        let mut page = ExpiredPage::default();
        for item in output.items() {
            let (Some(pk), Some(sk)) = (text(item, keys::PK), text(item, keys::SK)) else { continue };
            if sk == "PROFILE" {
                // The latest end of any form's retention; none on profiles written before it was kept.
                let until = item
                    .iter()
                    .filter(|(name, _)| name.starts_with(RETAIN_UNTIL_PREFIX))
                    .filter_map(|(_, value)| value.as_n().ok()?.parse::<i64>().ok())
                    .max();
                if until.is_none_or(|until| until < now) {
                    page.lapsed_profiles.extend(text(item, "profile_id").map(ProfileId::from_stored));
                }
                continue;
            }
            // A seat hold is never an expired item: deleting it would lose its seat for good.
            if let (Some(event), Some(registration)) = (pk.strip_prefix("EVENT#"), sk.strip_prefix("HOLD#")) {
                let lapses_at =
                    item.get(keys::HOLD_LAPSES_AT).and_then(|v| v.as_n().ok()?.parse::<i64>().ok());
                if lapses_at.is_some_and(|at| at < now) {
                    page.lapsed_holds.push((event.to_owned(), registration.to_owned()));
                }
                continue;
            }
            let kind = text(item, "type").unwrap_or_else(|| {
                if pk.starts_with("RATE#") {
                    "rate_counter".into()
                } else {
                    "other".into()
                }
            });
            let profile_id = pk.strip_prefix("PROFILE#").map(|id| ProfileId::from_stored(id.to_owned()));
            let application_id = sk.strip_prefix("SUBMISSION#").map(str::to_owned);
            page.items.push(ExpiredItem { key: (pk, sk), kind, profile_id, application_id });
        }
        Ok((page, output.last_evaluated_key().and_then(cursor_of)))
    }

    async fn sweep_position(&self) -> Result<Option<SweepPosition>, StoreError> {
        let Some(item) = self.get(keys::sweep_position()).await? else { return Ok(None) };
        let cursor = item.get("cursor").and_then(|v| v.as_s().ok()).cloned();
        let started = item.get("pass_started_at").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok());
        Ok(cursor.zip(started).map(|(cursor, pass_started_at)| SweepPosition { cursor, pass_started_at }))
    }

    async fn save_sweep_position(&self, position: Option<&SweepPosition>) -> Result<(), StoreError> {
        let (pk, sk) = keys::sweep_position();
        match position {
            Some(position) => {
                let mut item = key(pk, sk);
                stamp(&mut item, "sweep_position");
                item.insert("cursor".into(), s(&position.cursor));
                item.insert("pass_started_at".into(), n(position.pass_started_at));
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .send()
                    .await
                    .map_err(classify)?;
            }
            None => {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key(pk, sk)))
                    .send()
                    .await
                    .map_err(classify)?;
            }
        }
        Ok(())
    }

    async fn still_needed(&self, profile_id: &ProfileId) -> Result<bool, StoreError> {
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .filter_expression("begins_with(sk, :submission) OR begins_with(sk, :payment)")
                .projection_expression("sk, #status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pk", s(keys::profile_partition(profile_id)))
                .expression_attribute_values(":submission", s("SUBMISSION#"))
                .expression_attribute_values(":payment", s("PAYMENT#"))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?;
            let needed = output.items().iter().any(|item| {
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str);
                text(keys::SK).is_some_and(|sk| sk.starts_with("SUBMISSION#"))
                    || text("status").and_then(PaymentStatus::parse).is_some_and(PaymentStatus::is_running)
            });
            if needed {
                return Ok(true);
            }
            start = output.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(false);
            }
        }
    }

    async fn release_lapsed_hold(
        &self,
        event: &str,
        registration: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.release_seat_if_lapsed(event, registration, Some(now)).await
    }
}
