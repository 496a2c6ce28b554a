//! Deliveries to destinations: their queue (`DELIVERY#<shard>`), their dead letters (`DELIVERY_DEAD`) and
//! the record of what went where, in the person's partition (`SHARED#<destination>#<event>`).

use super::*;
use crate::domain::destinations::{
    DeadLetter, Delivery, DeliveryStore, EventType, Shared, DELIVERY_KEPT_DAYS,
};
use crate::domain::mail::outbox::OutboxMessage;
use crate::domain::privacy::erasure::ItemKey;

/// How many deliveries a run moves out of the queue's partition of old.
const MOVED_PER_RUN: usize = 100;

fn serialized(delivery: &Delivery) -> Result<AttributeValue, StoreError> {
    Ok(s(serde_json::to_string(delivery).map_err(|e| StoreError::Unexpected(Box::new(e)))?))
}

fn delivery_of(item: &HashMap<String, AttributeValue>) -> Result<Delivery, StoreError> {
    text(item, "delivery")
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or_else(|| StoreError::Unexpected("a delivery item without a readable delivery".into()))
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

impl DynamoStore {
    /// A delivery's queue item, due now.
    fn queued_item(
        &self,
        delivery: &Delivery,
        now: i64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let (pk, sk) = keys::delivery(&delivery.id());
        let mut item = key(pk, sk);
        stamp(&mut item, "delivery");
        // Held until the person confirms their topics, or due now.
        item.insert("status".into(), s(if delivery.awaiting_confirmation { "held" } else { "pending" }));
        if let Some(subject) = &delivery.subject {
            // Deleting one submission drops what is still owed about it.
            item.insert("subject".into(), s(subject));
        }
        item.insert("next_attempt_at".into(), n(now));
        item.insert("attempts".into(), n(0));
        // Erasure finds a person's pending deliveries by it (they may carry their data).
        item.insert("profile_id".into(), s(&delivery.profile_id));
        item.insert("delivery".into(), serialized(delivery)?);
        // The dispatcher delivers in the order things happened.
        item.insert("occurred_at".into(), s(&delivery.event.timestamp));
        item.insert(keys::TTL.into(), n(now + DELIVERY_KEPT_DAYS * 86_400));
        Ok(item)
    }
}

impl DynamoStore {
    /// A new submission's delivery, queued in the submission's own transaction. Without the
    /// checks `enqueue_deliveries` makes one by one, as the transaction's other writes say what
    /// they would (the submission is new, so nothing about it was delivered; its person is not
    /// erased: a new profile's id is new, and an existing one's transaction checks the tombstone
    /// once for all its deliveries). Put if absent all the same: its key is the event's and the
    /// destination's, and a retry with the same idempotency key from an address whose person
    /// moved away is another profile's submission with the same id, whose delivery may still
    /// wait (the transaction is refused, and the request answered 503).
    pub(super) fn queued_with_submission(
        &self,
        delivery: &Delivery,
        now: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder().put(self.put_if_absent(self.queued_item(delivery, now)?)?).build())
    }
}

impl DynamoStore {
    /// The queue's items about one person, wherever they wait.
    async fn owed_to(
        &self,
        profile_id: &ProfileId,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        // Every shard at once: a person's page waits for one round trip, not seventeen.
        let queues = keys::delivery_queues();
        let reads = queues.iter().map(|queue| {
            let theirs = ("profile_id = :pid", ":pid", s(profile_id));
            self.partition(queue, Some(theirs))
        });
        Ok(futures_util::future::try_join_all(reads).await?.into_iter().flatten().collect())
    }

    /// A transaction's check that the person has not been erased (no tombstone).
    pub(super) fn not_erased(&self, profile_id: &ProfileId) -> Result<TransactWriteItem, StoreError> {
        let (pk, sk) = self.erased_key(profile_id);
        let check = built(
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}

impl DeliveryStore for DynamoStore {
    async fn enqueue_deliveries(&self, deliveries: &[Delivery], now: i64) -> Result<(), StoreError> {
        for delivery in deliveries {
            let mut writes = vec![TransactWriteItem::builder()
                .put(self.put_if_absent(self.queued_item(delivery, now)?)?)
                .build()];
            // Delivered before (a retried request): recorded with the person, not owed again.
            if let (true, Some(destination)) =
                (delivery.event.kind.carries_personal_data(), delivery.destination())
            {
                let (pk, sk) = keys::shared(&delivery.profile_id, destination, &delivery.event.id);
                let not_delivered = built(
                    ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(pk, sk)))
                        .condition_expression("attribute_not_exists(pk)")
                        .build(),
                )?;
                writes.push(TransactWriteItem::builder().condition_check(not_delivered).build());
            }
            // Nothing that carries an erased person's data is queued again (the tombstone erasure
            // leaves); what a person asked for (their erasure among it) is told whatever follows.
            if delivery.event.kind.carries_personal_data() {
                writes.push(self.not_erased(&delivery.profile_id)?);
            }
            // Refused: queued or delivered already, or the person is erased; nothing more is owed.
            self.transact(writes).await?;
        }
        Ok(())
    }

    async fn due_deliveries(&self, now: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        // Deliveries queued before the queue was sharded move to their shard first (until
        // 2027-01-07, when the last of them has gone: then this goes).
        self.move_unsharded(keys::DELIVERY_UNSHARDED, MOVED_PER_RUN, keys::delivery).await;
        // Every due delivery is read (the queue drains each minute: it is short but while a
        // destination is down), every shard at once, so that the oldest go first, whichever shard
        // they are in.
        let shards = keys::delivery_shards();
        let read = shards.iter().map(|shard| self.due_in(shard, now, usize::MAX));
        let mut due: Vec<(String, String)> = futures_util::future::try_join_all(read)
            .await?
            .iter()
            .flatten()
            .filter_map(|item| Some((text(item, "occurred_at").unwrap_or_default(), text(item, keys::SK)?)))
            .collect();
        due.sort();
        Ok(due.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    async fn claim_delivery(
        &self,
        id: &str,
        now: i64,
        lease: std::time::Duration,
    ) -> Result<Option<(Delivery, u32)>, StoreError> {
        let (pk, sk) = keys::delivery(id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET #status = :sending, lease_until = :lease ADD attempts :one")
            .condition_expression(format!("attribute_exists(pk) AND {DUE}"))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":lease", n(now + lease.as_secs() as i64))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(err) if is_condition_failure(&err) => return Ok(None),
            Err(err) => return Err(classify(err)),
        };
        let item = output.attributes().cloned().unwrap_or_default();
        let attempts = number(&item, "attempts").unwrap_or(1) as u32;
        match delivery_of(&item) {
            Ok(delivery) => Ok(Some((delivery, attempts))),
            // One this build cannot read (written by a newer one, before a rollback) is kept as a
            // dead letter for that build to replay, never retried here for ever.
            Err(err) => {
                tracing::error!(delivery = id, error = %err, "an unreadable delivery: dead-lettered");
                self.dead_letter(id, now, "this build cannot read it").await?;
                Ok(None)
            }
        }
    }

    async fn delivered(
        &self,
        delivery: &Delivery,
        mail: &[OutboxMessage],
        now: i64,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::delivery(&delivery.id());
        // Still queued: an erasure that ran meanwhile deleted it, and then nothing is recorded in
        // the partition it emptied.
        let dequeue = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let mut writes = vec![TransactWriteItem::builder().delete(dequeue).build()];
        if let (true, Some(destination)) =
            (delivery.event.kind.carries_personal_data(), delivery.destination())
        {
            // Never a record in the partition of someone erased meanwhile.
            writes.push(self.not_erased(&delivery.profile_id)?);
            let (pk, sk) = keys::shared(&delivery.profile_id, destination, &delivery.event.id);
            let mut record = key(pk, sk);
            stamp(&mut record, "shared");
            record.insert("destination".into(), s(destination));
            record.insert("event_type".into(), s(delivery.event.kind.as_str()));
            record.insert("event_id".into(), s(&delivery.event.id));
            if let Some(subject) = &delivery.subject {
                record.insert("submission_id".into(), s(subject));
            }
            let fields: Vec<String> = delivery.event.data["fields"]
                .as_object()
                .map(|fields| fields.keys().cloned().collect())
                .unwrap_or_default();
            if !fields.is_empty() {
                record.insert("fields".into(), AttributeValue::Ss(fields));
            }
            record.insert("at".into(), s(crate::time::Timestamp::from_epoch_seconds(now).rfc3339()));
            writes.push(
                TransactWriteItem::builder()
                    .put(built(Put::builder().table_name(&self.table).set_item(Some(record)).build())?)
                    .build(),
            );
        }
        for message in mail {
            writes.extend(self.enqueue_items(message, now)?);
        }
        self.transact(writes).await
    }

    async fn retry_delivery(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), StoreError> {
        let (pk, sk) = keys::delivery(id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET #status = :pending, next_attempt_at = :next, last_error = :error")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":next", n(next_attempt_at))
            .expression_attribute_values(":error", s(truncated(error)))
            .send()
            .await;
        unless_condition_failed(result)
    }

    async fn dead_letter(&self, id: &str, now: i64, error: &str) -> Result<(), StoreError> {
        let (pk, sk) = keys::delivery(id);
        let Some(mut item) = self.get((pk.clone(), sk.clone())).await? else { return Ok(()) };
        let (dead_pk, dead_sk) = keys::dead_delivery(id);
        item.insert(keys::PK.into(), s(dead_pk));
        item.insert(keys::SK.into(), s(dead_sk));
        item.insert("status".into(), s("dead"));
        item.insert("last_error".into(), s(truncated(error)));
        item.insert("dead_since".into(), s(crate::time::Timestamp::from_epoch_seconds(now).rfc3339()));
        item.insert(keys::TTL.into(), n(now + DELIVERY_KEPT_DAYS * 86_400));
        // Still queued: an erasure may have taken it since it was read, and then nothing of it
        // comes back as a dead letter.
        let dequeue = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let put = built(Put::builder().table_name(&self.table).set_item(Some(item)).build())?;
        self.transact(vec![
            TransactWriteItem::builder().delete(dequeue).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await?;
        Ok(())
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        let items = self.partition(keys::DELIVERY_DEAD, None).await?;
        Ok(items
            .iter()
            .take(limit)
            .filter_map(|item| {
                let delivery = delivery_of(item).ok()?;
                Some(DeadLetter {
                    id: text(item, keys::SK)?,
                    target: delivery.destination().unwrap_or("stripe").to_owned(),
                    event_type: delivery.event.kind,
                    attempts: number(item, "attempts").unwrap_or(0) as u32,
                    last_error: text(item, "last_error").unwrap_or_default(),
                    dead_since: text(item, "dead_since").unwrap_or_default(),
                })
            })
            .collect())
    }

    async fn replay(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let (dead_pk, dead_sk) = keys::dead_delivery(id);
        let Some(item) = self.get((dead_pk.clone(), dead_sk.clone())).await? else { return Ok(false) };
        // Replayed as it stands now: never held again (a released copy's record still said held).
        let delivery = Delivery { awaiting_confirmation: false, ..delivery_of(&item)? };
        let queued = self.queued_item(&delivery, now)?;
        let undead = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(dead_pk, dead_sk)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        self.transact(vec![
            TransactWriteItem::builder().delete(undead).build(),
            TransactWriteItem::builder().put(self.put_if_absent(queued)?).build(),
        ])
        .await
    }

    async fn held(&self, profile_id: &ProfileId) -> Result<Vec<Delivery>, StoreError> {
        Ok(self
            .owed_to(profile_id)
            .await?
            .iter()
            .filter(|item| text(item, "status").as_deref() == Some("held"))
            .filter_map(|item| delivery_of(item).ok())
            .collect())
    }

    async fn release(&self, deliveries: &[Delivery], now: i64) -> Result<(), StoreError> {
        for delivery in deliveries {
            let item = self.queued_item(delivery, now)?;
            // Where it is held: (not moved yet) the queue's partition of old, where the dispatcher
            // moves it from as it is released (a move of the held copy read before is then
            // refused), or its shard.
            let mut unmoved = item.clone();
            unmoved.insert(keys::PK.into(), s(keys::DELIVERY_UNSHARDED));
            for item in [unmoved, item] {
                let result = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("#status = :held")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":held", s("held"))
                    .send()
                    .await;
                unless_condition_failed(result)?;
            }
        }
        Ok(())
    }

    async fn drop_owed(&self, profile_id: &ProfileId, subject: &str) -> Result<(), StoreError> {
        let mut queues = keys::delivery_queues();
        queues.push(keys::DELIVERY_DEAD.to_owned());
        for queue in queues {
            let theirs = ("profile_id = :pid", ":pid", s(profile_id));
            let owed: Vec<ItemKey> = self
                .partition(&queue, Some(theirs))
                .await?
                .iter()
                .filter(|item| text(item, "subject").as_deref() == Some(subject))
                .filter_map(|item| Some((text(item, keys::PK)?, text(item, keys::SK)?)))
                .collect();
            for chunk in owed.chunks(25) {
                crate::domain::privacy::erasure::ErasureStore::delete_items(self, chunk).await?;
            }
        }
        Ok(())
    }

    async fn recipients(&self, profile_id: &ProfileId) -> Result<Vec<Shared>, StoreError> {
        let mut recipients: Vec<Shared> = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :shared)")
                .expression_attribute_values(":pk", s(keys::profile_partition(profile_id)))
                .expression_attribute_values(":shared", s(keys::SHARED_PREFIX))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?;
            recipients.extend(page.items().iter().filter_map(shared_of));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        for item in self.owed_to(profile_id).await? {
            let Ok(delivery) = delivery_of(&item) else { continue };
            if let Some(owed) = delivery.as_owed() {
                recipients.push(owed);
            }
        }
        Ok(recipients)
    }
}

fn shared_of(item: &HashMap<String, AttributeValue>) -> Option<Shared> {
    let mut fields: Vec<String> =
        item.get("fields").and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default();
    fields.sort();
    Some(Shared {
        destination: text(item, "destination")?,
        event: EventType::parse(&text(item, "event_type")?)?,
        event_id: text(item, "event_id")?,
        subject: text(item, "submission_id"),
        fields,
        at: text(item, "at").unwrap_or_default(),
        delivered: true,
    })
}

/// An error as it is kept: short, whatever the destination answered.
fn truncated(error: &str) -> String {
    error.chars().take(300).collect()
}
