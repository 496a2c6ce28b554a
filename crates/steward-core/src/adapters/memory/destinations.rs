//! Deliveries to destinations, as the DynamoDB store keeps them.

use super::*;
use crate::domain::destinations::{
    DeadLetter, Delivery, DeliveryStore, EventType, Shared, DELIVERY_KEPT_DAYS,
};
use crate::domain::mail::outbox::OutboxMessage;

fn due(item: &Item, now: i64) -> bool {
    match text(item, "status").as_deref() {
        Some("pending") => number(item, "next_attempt_at").is_some_and(|at| at <= now),
        Some("sending") => number(item, "lease_until").is_some_and(|until| until < now),
        _ => false,
    }
}

pub(super) fn queued(delivery: &Delivery, now: i64) -> Result<Item, StoreError> {
    let mut item = stamped("delivery");
    item.insert("status".into(), if delivery.awaiting_confirmation { "held" } else { "pending" }.into());
    if let Some(subject) = &delivery.subject {
        item.insert("subject".into(), subject.clone().into());
    }
    item.insert("next_attempt_at".into(), now.into());
    item.insert("attempts".into(), 0.into());
    item.insert("profile_id".into(), delivery.profile_id.as_str().into());
    item.insert(
        "delivery".into(),
        serde_json::to_string(delivery).map_err(|e| StoreError::Unexpected(Box::new(e)))?.into(),
    );
    item.insert("occurred_at".into(), delivery.event.timestamp.clone().into());
    item.insert(keys::TTL.into(), (now + DELIVERY_KEPT_DAYS * 86_400).into());
    Ok(item)
}

fn delivery_of(item: &Item) -> Result<Delivery, StoreError> {
    text(item, "delivery")
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or_else(|| StoreError::Unexpected("a delivery item without a readable delivery".into()))
}

fn shared_key(delivery: &Delivery) -> Option<ItemKey> {
    match (delivery.event.kind.carries_personal_data(), delivery.destination()) {
        (true, Some(destination)) => {
            Some(keys::shared(&delivery.profile_id, destination, &delivery.event.id))
        }
        _ => None,
    }
}

impl DeliveryStore for MemoryStore {
    async fn enqueue_deliveries(&self, deliveries: &[Delivery], now: i64) -> Result<(), StoreError> {
        let tombstones: Vec<ItemKey> = deliveries.iter().map(|d| self.erased_key(&d.profile_id)).collect();
        self.run("enqueue_deliveries", |table| {
            for (delivery, tombstone) in deliveries.iter().zip(&tombstones) {
                let key = keys::delivery(&delivery.id());
                if table.contains_key(&key) || shared_key(delivery).is_some_and(|k| table.contains_key(&k)) {
                    continue;
                }
                // Nothing that carries an erased person's data is queued again.
                if delivery.event.kind.carries_personal_data() && table.contains_key(tombstone) {
                    continue;
                }
                table.insert(key, queued(delivery, now)?);
            }
            Ok(())
        })
    }

    async fn due_deliveries(&self, now: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let shards = keys::delivery_shards();
        self.run("due_deliveries", |table| {
            // The oldest first, whichever shard, as the DynamoDB store orders them.
            let mut due: Vec<(String, String)> = partitions(table, &shards)
                .filter(|(_, item)| due(item, now))
                .map(|((_, id), item)| (text(item, "occurred_at").unwrap_or_default(), id.clone()))
                .collect();
            due.sort();
            Ok(due.into_iter().take(limit).map(|(_, id)| id).collect())
        })
    }

    async fn claim_delivery(
        &self,
        id: &str,
        now: i64,
        lease: std::time::Duration,
    ) -> Result<Option<(Delivery, u32)>, StoreError> {
        self.run("claim_delivery", |table| {
            let Some(item) = table.get_mut(&keys::delivery(id)).filter(|item| due(item, now)) else {
                return Ok(None);
            };
            let attempts = number(item, "attempts").unwrap_or(0) + 1;
            item.insert("status".into(), "sending".into());
            item.insert("lease_until".into(), (now + lease.as_secs() as i64).into());
            item.insert("attempts".into(), attempts.into());
            // One this build cannot read is a dead letter, as the DynamoDB store keeps it.
            match delivery_of(item) {
                Ok(delivery) => Ok(Some((delivery, attempts as u32))),
                Err(_) => {
                    let mut item = table.remove(&keys::delivery(id)).unwrap_or_default();
                    item.insert("status".into(), "dead".into());
                    item.insert("last_error".into(), "this build cannot read it".into());
                    table.insert(keys::dead_delivery(id), item);
                    Ok(None)
                }
            }
        })
    }

    async fn delivered(
        &self,
        delivery: &Delivery,
        mail: &[OutboxMessage],
        now: i64,
    ) -> Result<bool, StoreError> {
        let queued = mail
            .iter()
            .map(|message| Ok((keys::outbox(&message.id), super::mail::outbox_item(message, now)?)))
            .collect::<Result<Vec<(ItemKey, Item)>, StoreError>>()?;
        let markers: Vec<ItemKey> = mail.iter().map(|message| self.sent_marker(&message.id)).collect();
        let tombstone = self.erased_key(&delivery.profile_id);
        self.run("delivered", |table| {
            if delivery.event.kind.carries_personal_data() && table.contains_key(&tombstone) {
                return Ok(false);
            }
            // Gone from the queue: an erasure took it, and nothing is recorded or queued where it
            // erased. A message queued or sent before refuses the whole, as the transaction does.
            let key = keys::delivery(&delivery.id());
            if !table.contains_key(&key)
                || queued.iter().any(|(k, _)| table.contains_key(k))
                || markers.iter().any(|k| table.contains_key(k))
            {
                return Ok(false);
            }
            table.remove(&key);
            table.extend(queued);
            if let (Some(key), Some(destination)) = (shared_key(delivery), delivery.destination()) {
                let mut record = stamped("shared");
                record.insert("destination".into(), destination.into());
                record.insert("event_type".into(), delivery.event.kind.as_str().into());
                record.insert("event_id".into(), delivery.event.id.clone().into());
                if let Some(subject) = &delivery.subject {
                    record.insert("submission_id".into(), subject.clone().into());
                }
                let fields: BTreeSet<String> = delivery.event.data["fields"]
                    .as_object()
                    .map(|fields| fields.keys().cloned().collect())
                    .unwrap_or_default();
                set_strings(&mut record, "fields", fields);
                record.insert("at".into(), timestamp(now).rfc3339().into());
                table.insert(key, record);
            }
            Ok(true)
        })
    }

    async fn retry_delivery(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), StoreError> {
        self.run("retry_delivery", |table| {
            if let Some(item) = table.get_mut(&keys::delivery(id)) {
                item.insert("status".into(), "pending".into());
                item.insert("next_attempt_at".into(), next_attempt_at.into());
                item.insert("last_error".into(), error.chars().take(300).collect::<String>().into());
            }
            Ok(())
        })
    }

    async fn dead_letter(&self, id: &str, now: i64, error: &str) -> Result<(), StoreError> {
        self.run("dead_letter", |table| {
            let Some(mut item) = table.remove(&keys::delivery(id)) else { return Ok(()) };
            item.insert("status".into(), "dead".into());
            item.insert("last_error".into(), error.chars().take(300).collect::<String>().into());
            item.insert("dead_since".into(), timestamp(now).rfc3339().into());
            item.insert(keys::TTL.into(), (now + DELIVERY_KEPT_DAYS * 86_400).into());
            table.insert(keys::dead_delivery(id), item);
            Ok(())
        })
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        self.run("dead_letters", |table| {
            Ok(partition(table, keys::DELIVERY_DEAD)
                .take(limit)
                .filter_map(|((_, id), item)| {
                    let delivery = delivery_of(item).ok()?;
                    Some(DeadLetter {
                        id: id.clone(),
                        target: delivery.destination().unwrap_or("stripe").to_owned(),
                        event_type: delivery.event.kind,
                        attempts: number(item, "attempts").unwrap_or(0) as u32,
                        last_error: text(item, "last_error").unwrap_or_default(),
                        dead_since: text(item, "dead_since").unwrap_or_default(),
                    })
                })
                .collect())
        })
    }

    async fn replay(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        self.run("replay", |table| {
            let key = keys::delivery(id);
            if table.contains_key(&key) {
                return Ok(false);
            }
            let Some(item) = table.remove(&keys::dead_delivery(id)) else { return Ok(false) };
            let delivery = Delivery { awaiting_confirmation: false, ..delivery_of(&item)? };
            table.insert(key, queued(&delivery, now)?);
            Ok(true)
        })
    }

    async fn held(&self, profile_id: &ProfileId) -> Result<Vec<Delivery>, StoreError> {
        let queues = keys::delivery_queues();
        self.run("held", |table| {
            Ok(partitions(table, &queues)
                .filter(|(_, item)| text(item, "profile_id").as_deref() == Some(profile_id.as_str()))
                .filter(|(_, item)| text(item, "status").as_deref() == Some("held"))
                .filter_map(|(_, item)| delivery_of(item).ok())
                .collect())
        })
    }

    async fn release(&self, deliveries: &[Delivery], now: i64) -> Result<(), StoreError> {
        let items = deliveries
            .iter()
            .map(|d| Ok((keys::delivery(&d.id()), queued(d, now)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.run("release", |table| {
            for (key, item) in items {
                if table.get(&key).is_some_and(|held| text(held, "status").as_deref() == Some("held")) {
                    table.insert(key, item);
                }
            }
            Ok(())
        })
    }

    async fn drop_owed(&self, profile_id: &ProfileId, subject: &str) -> Result<(), StoreError> {
        let mut queues = keys::delivery_queues();
        queues.push(keys::DELIVERY_DEAD.to_owned());
        self.run("drop_owed", |table| {
            table.retain(|(pk, _), item| {
                !(queues.contains(pk)
                    && text(item, "profile_id").as_deref() == Some(profile_id.as_str())
                    && text(item, "subject").as_deref() == Some(subject))
            });
            Ok(())
        })
    }

    async fn recipients(&self, profile_id: &ProfileId) -> Result<Vec<Shared>, StoreError> {
        let queues = keys::delivery_queues();
        self.run("recipients", |table| {
            let owed: Vec<Shared> = partitions(table, &queues)
                .filter(|(_, item)| text(item, "profile_id").as_deref() == Some(profile_id.as_str()))
                .filter_map(|(_, item)| delivery_of(item).ok())
                .filter_map(|delivery| delivery.as_owed())
                .collect();
            Ok(partition(table, &keys::profile_partition(profile_id))
                .filter(|((_, sk), _)| sk.starts_with(keys::SHARED_PREFIX))
                .filter_map(|(_, item)| {
                    Some(Shared {
                        destination: text(item, "destination")?,
                        event: EventType::parse(&text(item, "event_type")?)?,
                        event_id: text(item, "event_id")?,
                        subject: text(item, "submission_id"),
                        fields: strings(item, "fields").into_iter().collect(),
                        at: text(item, "at").unwrap_or_default(),
                        delivered: true,
                    })
                })
                .chain(owed)
                .collect())
        })
    }
}
