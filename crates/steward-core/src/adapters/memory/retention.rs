//! Retention: what has expired, and holds that lapsed.

use super::payments::release_seat;
use super::*;
use crate::adapters::dynamodb::RETAIN_UNTIL_PREFIX;
use crate::domain::payments::PaymentStatus;
use crate::domain::privacy::retention::{ExpiredItem, ExpiredPage, RetentionStore, SweepPosition};

impl RetentionStore for MemoryStore {
    async fn expired(
        &self,
        now: i64,
        cursor: Option<String>,
    ) -> Result<(ExpiredPage, Option<String>), StoreError> {
        self.run("expired", |table| {
            let (scanned, next) = scan_page(table, cursor.as_deref(), self.page_size);
            let mut page = ExpiredPage::default();
            for ((pk, sk), item) in scanned {
                if sk == "PROFILE" {
                    // The latest end of any form's retention; none on profiles written before it
                    // was kept.
                    let until = item
                        .iter()
                        .filter(|(name, _)| name.starts_with(RETAIN_UNTIL_PREFIX))
                        .filter_map(|(_, value)| value.as_i64())
                        .max();
                    if until.is_none_or(|until| until < now) {
                        page.lapsed_profiles.extend(text(item, "profile_id").map(ProfileId::from_stored));
                    }
                    continue;
                }
                // A seat hold is never an expired item: deleting it would lose its seat for good.
                if let (Some(event), Some(registration)) =
                    (pk.strip_prefix("EVENT#"), sk.strip_prefix("HOLD#"))
                {
                    if number(item, keys::HOLD_LAPSES_AT).is_some_and(|at| at < now) {
                        page.lapsed_holds.push((event.to_owned(), registration.to_owned()));
                    }
                    continue;
                }
                if number(item, keys::TTL).is_none_or(|expires| expires >= now) {
                    continue;
                }
                let kind = text(item, "type").unwrap_or_else(|| {
                    if pk.starts_with("RATE#") { "rate_counter" } else { "other" }.to_owned()
                });
                page.items.push(ExpiredItem {
                    key: (pk.clone(), sk.clone()),
                    kind,
                    profile_id: pk.strip_prefix("PROFILE#").map(|id| ProfileId::from_stored(id.to_owned())),
                    application_id: sk.strip_prefix("SUBMISSION#").map(str::to_owned),
                });
            }
            Ok((page, next))
        })
    }

    async fn sweep_position(&self) -> Result<Option<SweepPosition>, StoreError> {
        self.run("sweep_position", |table| {
            Ok(table.get(&keys::sweep_position()).and_then(|item| {
                Some(SweepPosition {
                    cursor: text(item, "cursor")?,
                    pass_started_at: number(item, "pass_started_at")?,
                })
            }))
        })
    }

    async fn save_sweep_position(&self, position: Option<&SweepPosition>) -> Result<(), StoreError> {
        self.run("save_sweep_position", |table| {
            match position {
                Some(position) => {
                    let mut item = stamped("sweep_position");
                    item.insert("cursor".into(), position.cursor.clone().into());
                    item.insert("pass_started_at".into(), position.pass_started_at.into());
                    table.insert(keys::sweep_position(), item);
                }
                None => {
                    table.remove(&keys::sweep_position());
                }
            }
            Ok(())
        })
    }

    async fn still_needed(&self, profile_id: &ProfileId) -> Result<bool, StoreError> {
        self.run("still_needed", |table| {
            Ok(partition(table, &keys::profile_partition(profile_id)).any(|((_, sk), item)| {
                sk.starts_with("SUBMISSION#")
                    || text(item, "status")
                        .as_deref()
                        .and_then(PaymentStatus::parse)
                        .is_some_and(PaymentStatus::is_running)
            }))
        })
    }

    async fn release_lapsed_hold(
        &self,
        event: &str,
        registration: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.run("release_lapsed_hold", |table| Ok(release_seat(table, event, registration, Some(now))))
    }
}
