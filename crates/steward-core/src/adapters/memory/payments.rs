//! Payments: seats and their holds, Stripe customers, payments and the webhook's seen events.

use super::*;
use crate::domain::payments::{
    PaymentKind, PaymentRecord, PaymentRef, PaymentStatus, PaymentStore, PaymentUpdate, RecordedPayment,
    SeatHold,
};
use crate::domain::privacy::erasure::PAYMENT_RETENTION_DAYS;

/// Gives a registration's seat back: the hold and the count move together. With
/// `lapsed_before`, only a hold that lapsed before then (not one resumed or paid meanwhile).
pub(super) fn release_seat(
    table: &mut Table,
    event: &str,
    registration: &str,
    lapsed_before: Option<i64>,
) -> bool {
    let hold_key = keys::seat_hold(event, registration);
    // The seat goes back to the counter that counted it (none said: the one of old).
    let seats_key = match table.get(&hold_key).and_then(|hold| number(hold, keys::SEAT_SHARD)) {
        Some(shard) => match u8::try_from(shard) {
            Ok(shard) => keys::seat_shard(event, shard),
            Err(_) => return false,
        },
        None => keys::seats(event),
    };
    let hold_releasable = table.get(&hold_key).is_some_and(|hold| match lapsed_before {
        Some(before) => number(hold, keys::HOLD_LAPSES_AT).is_some_and(|lapses| lapses < before),
        None => true,
    });
    let taken = table.get(&seats_key).and_then(|seats| number(seats, "taken")).unwrap_or(0);
    if !hold_releasable || taken <= 0 {
        return false;
    }
    table.remove(&hold_key);
    if let Some(seats) = table.get_mut(&seats_key) {
        seats.insert("taken".into(), (taken - 1).into());
    }
    true
}

impl PaymentStore for MemoryStore {
    async fn payer_address(&self, profile_id: &ProfileId) -> Result<Option<String>, StoreError> {
        self.run("payer_address", |table| Ok(profile_address(table, profile_id)))
    }

    async fn note_receipt_owed(&self, payment: &PaymentRef, at: i64) -> Result<(), StoreError> {
        let key = keys::payment(&payment.profile_id, &payment.registration_id);
        self.run("note_receipt_owed", |table| {
            if let Some(record) = table.get_mut(&key) {
                record.entry("receipt_owed_at".to_owned()).or_insert(at.into());
            }
            Ok(())
        })
    }

    async fn seats_taken(&self, event: &str) -> Result<u32, StoreError> {
        self.run("seats_taken", |table| {
            let (event_pk, _) = keys::seats(event);
            let taken: i64 = partition(table, &event_pk)
                .filter(|((_, sk), _)| sk.starts_with(keys::SEATS_PREFIX))
                .filter_map(|(_, seats)| number(seats, "taken"))
                .sum();
            Ok(u32::try_from(taken.max(0)).unwrap_or(u32::MAX))
        })
    }

    async fn hold_seat(
        &self,
        event: &str,
        registration: &str,
        capacity: u32,
        lapses_at: Option<i64>,
    ) -> Result<SeatHold, StoreError> {
        let held_at = self.now().rfc3339();
        self.run("hold_seat", |table| {
            let hold_key = keys::seat_hold(event, registration);
            if table.contains_key(&hold_key) {
                return Ok(SeatHold::AlreadyHeld);
            }
            // An event that sold a seat before the counter was sharded keeps its one counter.
            let unsharded = table.contains_key(&keys::seats(event));
            let (event_pk, _) = keys::seats(event);
            let counters: Vec<(u8, i64, i64)> = partition(table, &event_pk)
                .filter_map(|((_, sk), seats)| {
                    let shard = match sk.strip_prefix(keys::SEATS_PREFIX)? {
                        "" => u8::MAX,
                        shard => shard.strip_prefix('#')?.parse().ok()?,
                    };
                    Some((
                        shard,
                        number(seats, "taken").unwrap_or(0),
                        number(seats, "seat_capacity").unwrap_or(0),
                    ))
                })
                .collect();
            // A capacity of 0 is the one recorded with the seats taken; after a change, the least.
            let capacity = match capacity {
                0 => counters
                    .iter()
                    .map(|(_, _, recorded)| *recorded)
                    .min()
                    .and_then(|c| u32::try_from(c).ok())
                    .unwrap_or(0),
                capacity => capacity,
            };
            let total: i64 = counters.iter().map(|(_, taken, _)| taken).sum();
            if total >= i64::from(capacity) {
                return Ok(SeatHold::SoldOut);
            }
            // After a capacity change, a take records the capacity in force on every counter, as
            // the DynamoDB store's pins do.
            let changed = !unsharded
                && counters.iter().any(|(shard, taken, recorded)| {
                    *recorded != i64::from(capacity) || *taken > i64::from(keys::seat_share(capacity, *shard))
                });
            // Each counter with what it may still count, from the shard this registration starts
            // at, as the DynamoDB store tries them (with the total checked above, as its takes
            // after a capacity change do).
            let on_shards: i64 =
                counters.iter().filter(|(shard, _, _)| *shard != u8::MAX).map(|(_, taken, _)| taken).sum();
            let counters: Vec<(ItemKey, Option<u8>, u32)> = if unsharded {
                let left = u32::try_from((i64::from(capacity) - on_shards).max(0)).unwrap_or(0);
                vec![(keys::seats(event), None, left)]
            } else {
                keys::seat_shards_from(registration)
                    .map(|shard| {
                        (keys::seat_shard(event, shard), Some(shard), keys::seat_share(capacity, shard))
                    })
                    .collect()
            };
            for (seats_key, shard, share) in counters {
                let taken = table.get(&seats_key).and_then(|s| number(s, "taken")).unwrap_or(0);
                if taken >= i64::from(share) {
                    continue;
                }
                if changed {
                    for other in 0..keys::SEAT_SHARDS {
                        let pinned = table.entry(keys::seat_shard(event, other)).or_default();
                        pinned.insert("seat_capacity".into(), capacity.into());
                        pinned.insert("type".into(), "seats".into());
                        pinned.insert("v".into(), SCHEMA_VERSION.into());
                    }
                }
                let seats = table.entry(seats_key).or_default();
                seats.insert("taken".into(), (taken + 1).into());
                seats.insert("seat_capacity".into(), capacity.into());
                seats.insert("type".into(), "seats".into());
                seats.insert("v".into(), SCHEMA_VERSION.into());
                let mut hold = stamped("seat_hold");
                hold.insert("registration_id".into(), registration.into());
                hold.insert("held_at".into(), held_at.into());
                if let Some(lapses_at) = lapses_at {
                    hold.insert(keys::HOLD_LAPSES_AT.into(), lapses_at.into());
                }
                if let Some(shard) = shard {
                    hold.insert(keys::SEAT_SHARD.into(), i64::from(shard).into());
                }
                table.insert(hold_key, hold);
                return Ok(SeatHold::Held);
            }
            Ok(SeatHold::SoldOut)
        })
    }

    async fn set_hold_lapse(
        &self,
        event: &str,
        registration: &str,
        lapses_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.run("set_hold_lapse", |table| {
            let Some(hold) = table.get_mut(&keys::seat_hold(event, registration)) else { return Ok(false) };
            match lapses_at {
                // A paid seat's hold has no lapse and is given none; it still holds its seat.
                Some(lapses_at) if hold.contains_key(keys::HOLD_LAPSES_AT) => {
                    hold.insert(keys::HOLD_LAPSES_AT.into(), lapses_at.into());
                }
                Some(_) => {}
                None => {
                    hold.remove(keys::HOLD_LAPSES_AT);
                }
            }
            Ok(true)
        })
    }

    async fn free_lapsed_seat(&self, event: &str, now: i64) -> Result<bool, StoreError> {
        self.run("free_lapsed_seat", |table| {
            let (event_pk, _) = keys::seats(event);
            let lapsed: Vec<String> = partition(table, &event_pk)
                .filter(|((_, sk), hold)| {
                    sk.starts_with("HOLD#") && number(hold, keys::HOLD_LAPSES_AT).is_some_and(|at| at < now)
                })
                .filter_map(|(_, hold)| text(hold, "registration_id"))
                .collect();
            // One seat is what the buyer asking needs; the sweep gives back the rest. Having seen
            // a lapsed hold at all means a seat may be free now.
            for registration in &lapsed {
                if release_seat(table, event, registration, Some(now)) {
                    return Ok(true);
                }
            }
            Ok(!lapsed.is_empty())
        })
    }

    async fn release_seat(
        &self,
        event: &str,
        registration: &str,
        lapsed_before: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.run("release_seat", |table| Ok(release_seat(table, event, registration, lapsed_before)))
    }

    async fn customer_of(&self, profile: &ProfileId) -> Result<Option<String>, StoreError> {
        self.run("customer_of", |table| {
            Ok(table.get(&keys::billing(profile)).and_then(|billing| text(billing, "stripe_customer_id")))
        })
    }

    async fn save_customer(&self, profile: &ProfileId, customer: &str) -> Result<(), StoreError> {
        self.run("save_customer", |table| {
            // The first one saved stays: a concurrent call saved the same customer.
            table.entry(keys::billing(profile)).or_insert_with(|| {
                let mut billing = stamped("billing");
                billing.insert("stripe_customer_id".into(), customer.into());
                billing
            });
            Ok(())
        })
    }

    async fn record_started(&self, payment: &PaymentRecord) -> Result<(), StoreError> {
        self.run("record_started", |table| {
            let record =
                table.entry(keys::payment(&payment.profile_id, &payment.registration_id)).or_default();
            record.insert("type".into(), "payment".into());
            record.insert("v".into(), SCHEMA_VERSION.into());
            record.insert("kind".into(), payment.kind.as_str().into());
            record.insert("item".into(), payment.item.clone().into());
            record.insert("amount".into(), payment.amount.into());
            record.insert("currency".into(), payment.currency.clone().into());
            record.insert("stripe_customer_id".into(), payment.stripe_customer_id.clone().into());
            record.insert("registration_id".into(), payment.registration_id.clone().into());
            record.insert("language".into(), payment.lang.code().into());
            // A payment resumed keeps the status its events gave it, and its first start.
            record.entry("status").or_insert_with(|| payment.status.as_str().into());
            record.entry("started_at").or_insert_with(|| payment.started_at.rfc3339().into());
            // Payment records are kept as accounting law requires, then they go.
            let retain = payment.started_at.epoch_seconds() + PAYMENT_RETENTION_DAYS * 86_400;
            let expires_at = record.entry(keys::TTL).or_insert_with(|| retain.into()).clone();
            let mut stripe_ids = Vec::new();
            if let Some(id) = &payment.payment_intent_id {
                record.insert("payment_intent_id".into(), id.clone().into());
                stripe_ids.push(id);
            }
            if let Some(id) = &payment.subscription_id {
                record.insert("subscription_id".into(), id.clone().into());
                stripe_ids.push(id);
            }
            for stripe_id in stripe_ids {
                let mut reference = stamped("stripe_ref");
                reference.insert("profile_id".into(), payment.profile_id.clone().into());
                reference.insert("registration_id".into(), payment.registration_id.clone().into());
                // It leads back to a person: it goes no later than the payment it points at.
                reference.insert(keys::TTL.into(), expires_at.clone());
                table.insert(keys::stripe_ref(stripe_id), reference);
            }
            Ok(())
        })
    }

    async fn payment_ref(&self, stripe_id: &str) -> Result<Option<PaymentRef>, StoreError> {
        self.run("payment_ref", |table| {
            Ok(table.get(&keys::stripe_ref(stripe_id)).and_then(|reference| {
                Some(PaymentRef {
                    profile_id: ProfileId::from_stored(text(reference, "profile_id")?),
                    registration_id: text(reference, "registration_id")?,
                })
            }))
        })
    }

    async fn apply_update(
        &self,
        payment: &PaymentRef,
        update: &PaymentUpdate,
        version: i64,
    ) -> Result<bool, StoreError> {
        let now = self.now().rfc3339();
        self.run("apply_update", |table| {
            let Some(record) = table.get_mut(&keys::payment(&payment.profile_id, &payment.registration_id))
            else {
                return Ok(false);
            };
            // Each part of a payment has its own version: a late event never moves it backwards.
            let version_attribute = match update {
                PaymentUpdate::Status { .. } => "status_version",
                PaymentUpdate::Invoice { .. } => "invoice_version",
                PaymentUpdate::Dispute { .. } => "dispute_version",
            };
            if number(record, version_attribute).is_some_and(|recorded| recorded >= version) {
                return Ok(false);
            }
            record.insert(version_attribute.into(), version.into());
            record.insert("updated_at".into(), now.clone().into());
            match update {
                PaymentUpdate::Status { status, failure_code } => {
                    record.insert("status".into(), status.as_str().into());
                    match failure_code {
                        Some(code) => record.insert("failure_code".into(), code.clone().into()),
                        None => record.remove("failure_code"),
                    };
                }
                PaymentUpdate::Invoice { invoice_id, status, amount } => {
                    record.insert(
                        "last_invoice".into(),
                        serde_json::json!({"id": invoice_id, "status": status.as_str(), "amount": amount}),
                    );
                }
                PaymentUpdate::Dispute { dispute_id, status } => {
                    record.insert("dispute".into(), serde_json::json!({"id": dispute_id, "status": status}));
                }
            }
            Ok(true)
        })
    }

    async fn registration_held(&self, payment: &PaymentRef) -> Result<bool, StoreError> {
        let key = keys::submission(&payment.profile_id, &payment.registration_id);
        self.run("registration_held", |table| Ok(table.contains_key(&key)))
    }

    async fn payment_item(&self, payment: &PaymentRef) -> Result<Option<RecordedPayment>, StoreError> {
        self.run("payment_item", |table| {
            let Some(record) = table.get(&keys::payment(&payment.profile_id, &payment.registration_id))
            else {
                return Ok(None);
            };
            let (Some(kind), Some(item), Some(status)) =
                (text(record, "kind"), text(record, "item"), text(record, "status"))
            else {
                return Ok(None);
            };
            Ok(Some(RecordedPayment {
                kind: PaymentKind::parse(&kind).ok_or_else(|| StoreError::unknown("payment kind", &kind))?,
                item,
                amount: number(record, "amount").unwrap_or(0),
                currency: text(record, "currency").unwrap_or_default(),
                receipt_owed: record.get("receipt_owed_at").is_some(),
                status: PaymentStatus::parse(&status)
                    .ok_or_else(|| StoreError::unknown("payment status", &status))?,
                started_at: text(record, "started_at")
                    .and_then(|at| crate::time::Timestamp::parse_rfc3339(&at)),
                lang: text(record, "language")
                    .and_then(|code| crate::i18n::Lang::from_code(&code))
                    .unwrap_or_default(),
            }))
        })
    }

    async fn event_seen(&self, event_id: &str) -> Result<bool, StoreError> {
        self.run("event_seen", |table| Ok(table.contains_key(&keys::stripe_event(event_id))))
    }

    async fn mark_event_seen(&self, event_id: &str, expires_at: i64) -> Result<(), StoreError> {
        self.run("mark_event_seen", |table| {
            let mut marker = stamped("stripe_event");
            marker.insert(keys::TTL.into(), expires_at.into());
            table.insert(keys::stripe_event(event_id), marker);
            Ok(())
        })
    }
}
