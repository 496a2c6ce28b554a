//! Payments: seats and their holds, Stripe customers, payments and the webhook's seen events.

use super::*;
use crate::domain::ids::ProfileId;

impl DynamoStore {
    /// Gives a registration's seat back: the hold and the count move together. With `lapsed_before`,
    /// only a hold that lapsed before then (not one resumed or paid meanwhile).
    pub(crate) async fn release_seat_if_lapsed(
        &self,
        event: &str,
        registration: &str,
        lapsed_before: Option<i64>,
    ) -> Result<bool, StoreError> {
        let (hold_pk, hold_sk) = keys::seat_hold(event, registration);
        // The seat goes back to the counter that counted it.
        let Some(hold) = self.get((hold_pk.clone(), hold_sk.clone())).await? else { return Ok(false) };
        let shard = hold.get(keys::SEAT_SHARD).and_then(|v| v.as_n().ok()).cloned();
        let (seats_pk, seats_sk) = match shard.as_deref().map(str::parse::<u8>) {
            Some(Ok(shard)) => keys::seat_shard(event, shard),
            Some(Err(_)) => {
                return Err(StoreError::Unexpected("a seat hold with an unreadable counter".into()))
            }
            None => keys::seats(event),
        };
        // Still the hold as read, counted by that counter: one released and taken again on
        // another counter meanwhile is not given back to this one.
        let same_counter = match &shard {
            Some(_) => "#shard = :shard",
            None => "attribute_not_exists(#shard)",
        };
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(hold_pk, hold_sk)))
            .expression_attribute_names("#shard", keys::SEAT_SHARD)
            .set_expression_attribute_values(
                shard.map(|shard| HashMap::from([(":shard".to_owned(), n(shard))])),
            );
        let delete = match lapsed_before {
            Some(before) => delete
                .condition_expression(format!("#lapses < :before AND {same_counter}"))
                .expression_attribute_names("#lapses", keys::HOLD_LAPSES_AT)
                .expression_attribute_values(":before", n(before)),
            None => delete.condition_expression(format!("attribute_exists(pk) AND {same_counter}")),
        };
        let count = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(seats_pk, seats_sk)))
                .update_expression("ADD taken :minus_one")
                .condition_expression("taken > :zero")
                .expression_attribute_values(":minus_one", n(-1))
                .expression_attribute_values(":zero", n(0))
                .build(),
        )?;
        let items = vec![
            TransactWriteItem::builder().delete(built(delete.build())?).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        match self.transact_outcome(items).await? {
            Transacted::Committed => Ok(true),
            Transacted::Refused => Ok(false),
            // Another release of the same event's seats was in flight: a lapsed hold is left for
            // the next try (the sweep or the next buyer), so one busy event never stops a sweep.
            Transacted::Conflicted if lapsed_before.is_some() => Ok(false),
            Transacted::Conflicted => {
                Err(StoreError::Unavailable("a conflicting transaction was in flight".into()))
            }
        }
    }
}

/// How many times a checkout reads the seat counters and tries them before it says they are busy:
/// again after a refusal (they moved since the read) or, when every counter is pinned, a conflict
/// (DynamoDB does not retry conflicts for us).
const SEAT_ROUNDS: usize = 4;

/// One of an event's seat counters as read: its shard (`None`: the counter of old), the seats it
/// counts and the event's capacity it was last written with.
struct SeatCounter {
    shard: Option<u8>,
    taken: u32,
    capacity: u32,
}

impl DynamoStore {
    /// Every seat counter of the event, in one strongly consistent query.
    async fn seat_counters(&self, event: &str) -> Result<Vec<SeatCounter>, StoreError> {
        let (pk, _) = keys::seats(event);
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :seats)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":seats", s(keys::SEATS_PREFIX))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let number = |item: &HashMap<String, AttributeValue>, name: &str| {
            item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
        };
        Ok(items
            .items()
            .iter()
            .filter_map(|item| {
                let sk = item.get(keys::SK).and_then(|v| v.as_s().ok())?;
                let shard = match sk.strip_prefix(keys::SEATS_PREFIX)? {
                    "" => None,
                    shard => Some(shard.strip_prefix('#')?.parse().ok()?),
                };
                Some(SeatCounter {
                    shard,
                    taken: number(item, "taken"),
                    capacity: number(item, "seat_capacity"),
                })
            })
            .collect())
    }

    /// A registration's hold on a seat, counted by `shard` (`None`: the counter of old).
    fn hold_item(
        &self,
        event: &str,
        registration: &str,
        lapses_at: Option<i64>,
        shard: Option<u8>,
    ) -> HashMap<String, AttributeValue> {
        let (hold_pk, hold_sk) = keys::seat_hold(event, registration);
        let mut hold_item = key(hold_pk, hold_sk);
        stamp(&mut hold_item, "seat_hold");
        hold_item.insert("registration_id".into(), s(registration));
        hold_item.insert("held_at".into(), s(self.clock.timestamp().rfc3339()));
        if let Some(lapses_at) = lapses_at {
            hold_item.insert(keys::HOLD_LAPSES_AT.into(), n(lapses_at));
        }
        if let Some(shard) = shard {
            hold_item.insert(keys::SEAT_SHARD.into(), n(shard));
        }
        hold_item
    }

    /// A seat counted by the shard, under its share of the capacity, with the registration's hold.
    fn hold_in_shard(
        &self,
        event: &str,
        registration: &str,
        capacity: u32,
        lapses_at: Option<i64>,
        shard: u8,
        as_read: Option<u32>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        // Under its share; or, after a capacity change, no more than was read (the other counters
        // pinned alongside).
        let (condition, limit) = match as_read {
            None => ("attribute_not_exists(taken) OR taken < :limit", keys::seat_share(capacity, shard)),
            Some(taken) => ("attribute_not_exists(taken) OR taken <= :limit", taken),
        };
        let hold = self.hold_item(event, registration, lapses_at, Some(shard));
        self.count_seat_with_hold(keys::seat_shard(event, shard), capacity, condition, limit, hold)
    }

    /// One transaction's items: a seat counted on `counter` under `condition` (on `:limit`), and
    /// the registration's hold with it, so that a seat is never counted without its holder and a
    /// second hold for one registration is refused.
    fn count_seat_with_hold(
        &self,
        (counter_pk, counter_sk): (String, String),
        capacity: u32,
        condition: &str,
        limit: u32,
        hold: HashMap<String, AttributeValue>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let count = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(counter_pk, counter_sk)))
                .update_expression("ADD taken :one SET seat_capacity = :capacity, #type = :type, #v = :v")
                .condition_expression(condition)
                .expression_attribute_names("#type", "type")
                .expression_attribute_names("#v", "v")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":capacity", n(capacity))
                .expression_attribute_values(":limit", n(limit))
                .expression_attribute_values(":type", s("seats"))
                .expression_attribute_values(":v", n(SCHEMA_VERSION))
                .build(),
        )?;
        Ok(vec![
            TransactWriteItem::builder().update(count).build(),
            TransactWriteItem::builder().put(self.put_if_absent(hold)?).build(),
        ])
    }

    /// Pins every counter but `taking` to what was read (`taken`), recording the capacity in force
    /// on each: with them, the seats taken after a capacity change stay within the capacity, and
    /// once every counter records it, takes go back to each counter's share alone.
    fn counters_as_read(
        &self,
        event: &str,
        taking: u8,
        capacity: u32,
        taken: &dyn Fn(u8) -> u32,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        (0..keys::SEAT_SHARDS)
            .filter(|&shard| shard != taking)
            .map(|shard| {
                let (pk, sk) = keys::seat_shard(event, shard);
                let pin = built(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(pk, sk)))
                        .update_expression("SET seat_capacity = :capacity, #type = :type, #v = :v")
                        .condition_expression("attribute_not_exists(taken) OR taken <= :read")
                        .expression_attribute_names("#type", "type")
                        .expression_attribute_names("#v", "v")
                        .expression_attribute_values(":capacity", n(capacity))
                        .expression_attribute_values(":read", n(taken(shard)))
                        .expression_attribute_values(":type", s("seats"))
                        .expression_attribute_values(":v", n(SCHEMA_VERSION))
                        .build(),
                )?;
                Ok(TransactWriteItem::builder().update(pin).build())
            })
            .collect()
    }

    /// Sold out, unless this registration holds one of the seats already.
    async fn sold_out_or_held(&self, event: &str, registration: &str) -> Result<SeatHold, StoreError> {
        Ok(if self.get(keys::seat_hold(event, registration)).await?.is_some() {
            SeatHold::AlreadyHeld
        } else {
            SeatHold::SoldOut
        })
    }

    /// A seat of an event that sold one before the counter was sharded: on its one counter, which
    /// keeps counting for it. Seats a release of this one's counted on the shards (a deployment's
    /// mixed moment) count against the capacity too; they only go down once the old counter is
    /// there, since every hold then goes to it.
    async fn hold_unsharded_seat(
        &self,
        event: &str,
        registration: &str,
        capacity: u32,
        lapses_at: Option<i64>,
        counters: &[SeatCounter],
    ) -> Result<SeatHold, StoreError> {
        let on_shards: u32 = counters.iter().filter(|c| c.shard.is_some()).map(|c| c.taken).sum();
        let limit = capacity.saturating_sub(on_shards);
        if limit == 0 {
            return self.sold_out_or_held(event, registration).await;
        }
        let hold = self.hold_item(event, registration, lapses_at, None);
        let items = self.count_seat_with_hold(
            keys::seats(event),
            capacity,
            "attribute_not_exists(taken) OR taken < :limit",
            limit,
            hold,
        )?;
        if self.transact(items).await? {
            return Ok(SeatHold::Held);
        }
        self.sold_out_or_held(event, registration).await
    }
}

impl PaymentStore for DynamoStore {
    async fn payer_address(&self, profile_id: &ProfileId) -> Result<Option<String>, StoreError> {
        self.profile_address(profile_id).await
    }

    async fn note_receipt_owed(&self, payment: &PaymentRef, at: i64) -> Result<(), StoreError> {
        let (pk, sk) = keys::payment(&payment.profile_id, &payment.registration_id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET receipt_owed_at = if_not_exists(receipt_owed_at, :at)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", n(at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Erased meanwhile: nothing to note.
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(classify(err)),
        }
    }

    async fn seats_taken(&self, event: &str) -> Result<u32, StoreError> {
        let counters = self.seat_counters(event).await?;
        Ok(counters.iter().map(|counter| counter.taken).sum())
    }

    async fn hold_seat(
        &self,
        event: &str,
        registration: &str,
        capacity: u32,
        lapses_at: Option<i64>,
    ) -> Result<SeatHold, StoreError> {
        // A round reads the counters and tries those read with a seat free, from the one this
        // registration starts at. A counter that conflicts with another checkout's transaction is
        // passed over for the next: a burst's conflicts spread across the counters. A refusal
        // means the counters moved since the read, so the next round reads them again: "sold out"
        // is only ever said on a fresh read of a full event, and a checkout still without a seat
        // after every round is told the counters are busy (503), never that the event is full.
        for _round in 0..SEAT_ROUNDS {
            let counters = self.seat_counters(event).await?;
            // A capacity of 0 is the one recorded with the seats taken; after a change, the least.
            let capacity = match capacity {
                0 => counters.iter().map(|counter| counter.capacity).min().unwrap_or(0),
                capacity => capacity,
            };
            if counters.iter().any(|counter| counter.shard.is_none()) {
                return self.hold_unsharded_seat(event, registration, capacity, lapses_at, &counters).await;
            }
            let taken = |shard: u8| {
                counters
                    .iter()
                    .find(|counter| counter.shard == Some(shard))
                    .map_or(0, |counter| counter.taken)
            };
            if counters.iter().map(|counter| counter.taken).sum::<u32>() >= capacity {
                return self.sold_out_or_held(event, registration).await;
            }
            // Each counter's condition keeps it to its share, so together they sell the capacity and
            // no more, while every counter was written with this capacity. After the catalogue
            // changed it, a counter may hold more than its new share: each take then also pins
            // every other counter to what was read (and records the new capacity on it), so that
            // the total stays within the capacity.
            let changed = counters.iter().any(|c| {
                c.capacity != capacity || c.shard.is_some_and(|s| c.taken > keys::seat_share(capacity, s))
            });
            for shard in keys::seat_shards_from(registration)
                .filter(|&shard| taken(shard) < keys::seat_share(capacity, shard))
            {
                let mut items = self.hold_in_shard(
                    event,
                    registration,
                    capacity,
                    lapses_at,
                    shard,
                    changed.then(|| taken(shard)),
                )?;
                if changed {
                    items.extend(self.counters_as_read(event, shard, capacity, &taken)?);
                }
                match self.transact_outcome(items).await? {
                    Transacted::Committed => return Ok(SeatHold::Held),
                    Transacted::Refused => {
                        if self.get(keys::seat_hold(event, registration)).await?.is_some() {
                            return Ok(SeatHold::AlreadyHeld);
                        }
                        break;
                    }
                    // Every counter pinned: any other checkout's take conflicts; read again.
                    Transacted::Conflicted if changed => break,
                    Transacted::Conflicted => {}
                }
            }
        }
        if self.get(keys::seat_hold(event, registration)).await?.is_some() {
            return Ok(SeatHold::AlreadyHeld);
        }
        Err(StoreError::Unavailable("the seat counters were busy".into()))
    }

    async fn set_hold_lapse(
        &self,
        event: &str,
        registration: &str,
        lapses_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::seat_hold(event, registration);
        let update = self.client.update_item().table_name(&self.table).set_key(Some(key(pk, sk)));
        let update = match lapses_at {
            Some(lapses_at) => update
                .update_expression("SET #lapses = :lapses")
                .condition_expression("attribute_exists(#lapses)")
                .expression_attribute_values(":lapses", n(lapses_at)),
            None => update.update_expression("REMOVE #lapses").condition_expression("attribute_exists(pk)"),
        };
        match update.expression_attribute_names("#lapses", keys::HOLD_LAPSES_AT).send().await {
            Ok(_) => Ok(true),
            // No hold, or (moving a lapse) a paid seat's, which has none and keeps none.
            Err(err) if is_condition_failure(&err) => {
                Ok(lapses_at.is_some() && self.get(keys::seat_hold(event, registration)).await?.is_some())
            }
            Err(err) => Err(classify(err)),
        }
    }

    async fn free_lapsed_seat(&self, event: &str, now: i64) -> Result<bool, StoreError> {
        let (pk, _) = keys::seats(event);
        let mut start = None;
        let mut found = false;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :hold)")
                .filter_expression("#lapses < :now")
                .expression_attribute_names("#lapses", keys::HOLD_LAPSES_AT)
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":hold", s("HOLD#"))
                .expression_attribute_values(":now", n(now))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            // One seat is what the buyer asking needs; the sweep gives back the rest. A hold that
            // is refused (resumed, paid, or given back by someone else meanwhile) is passed over
            // for the next; having seen one at all means a seat may have been freed.
            for hold in page.items() {
                let Some(registration) = hold.get("registration_id").and_then(|v| v.as_s().ok()) else {
                    continue;
                };
                found = true;
                if self.release_seat_if_lapsed(event, registration, Some(now)).await? {
                    return Ok(true);
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    async fn release_seat(
        &self,
        event: &str,
        registration: &str,
        lapsed_before: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.release_seat_if_lapsed(event, registration, lapsed_before).await
    }

    async fn customer_of(&self, profile: &ProfileId) -> Result<Option<String>, StoreError> {
        let (pk, sk) = keys::billing(profile);
        let item = self.get((pk, sk)).await?;
        Ok(item.and_then(|i| i.get("stripe_customer_id").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn save_customer(&self, profile: &ProfileId, customer: &str) -> Result<(), StoreError> {
        let (pk, sk) = keys::billing(profile);
        let mut item = key(pk, sk);
        stamp(&mut item, "billing");
        item.insert("stripe_customer_id".into(), s(customer));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Ok(()), // the same customer, saved by a concurrent call
            Err(err) => Err(classify(err)),
        }
    }

    async fn record_started(&self, payment: &PaymentRecord) -> Result<(), StoreError> {
        let (pk, sk) = keys::payment(&payment.profile_id, &payment.registration_id);
        let mut names = HashMap::from([
            ("#status".to_owned(), "status".to_owned()),
            ("#type".to_owned(), "type".to_owned()),
        ]);
        let retain_until = payment.started_at.epoch_seconds()
            + crate::domain::privacy::erasure::PAYMENT_RETENTION_DAYS * 86_400;
        let mut values = HashMap::from([
            (":type".to_owned(), s("payment")),
            (":v".to_owned(), n(SCHEMA_VERSION)),
            (":kind".to_owned(), s(payment.kind.as_str())),
            (":item".to_owned(), s(&payment.item)),
            (":amount".to_owned(), n(payment.amount)),
            (":currency".to_owned(), s(&payment.currency)),
            (":customer".to_owned(), s(&payment.stripe_customer_id)),
            (":status".to_owned(), s(payment.status.as_str())),
            (":now".to_owned(), s(payment.started_at.rfc3339())),
            (":registration".to_owned(), s(&payment.registration_id)),
            (":language".to_owned(), s(payment.lang.code())),
            (":retain".to_owned(), n(retain_until)),
        ]);
        let mut sets = vec![
            "#type = :type",
            "v = :v",
            "kind = :kind",
            "#item = :item",
            "amount = :amount",
            "currency = :currency",
            "stripe_customer_id = :customer",
            "registration_id = :registration",
            // The language of the last checkout: the receipt's.
            "#language = :language",
            "#status = if_not_exists(#status, :status)",
            "started_at = if_not_exists(started_at, :now)",
            // Payment records are kept as accounting law requires, then they go.
            "expires_at = if_not_exists(expires_at, :retain)",
        ];
        names.insert("#item".into(), "item".into());
        names.insert("#language".into(), "language".into());
        let mut stripe_ids = Vec::new();
        if let Some(id) = &payment.payment_intent_id {
            sets.push("payment_intent_id = :pi");
            values.insert(":pi".into(), s(id));
            stripe_ids.push(id);
        }
        if let Some(id) = &payment.subscription_id {
            sets.push("subscription_id = :sub");
            values.insert(":sub".into(), s(id));
            stripe_ids.push(id);
        }
        let stored = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(classify)?;
        // The payment keeps the expiry of its first start; its references go with it, never later.
        let expires_at = stored
            .attributes()
            .and_then(|item| item.get(keys::TTL))
            .and_then(|v| v.as_n().ok()?.parse::<i64>().ok())
            .unwrap_or(retain_until);
        for stripe_id in stripe_ids {
            let (pk, sk) = keys::stripe_ref(stripe_id);
            let mut item = key(pk, sk);
            stamp(&mut item, "stripe_ref");
            item.insert("profile_id".into(), s(&payment.profile_id));
            item.insert("registration_id".into(), s(&payment.registration_id));
            // It leads back to a person: it goes no later than the payment it points at.
            item.insert(keys::TTL.into(), n(expires_at));
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    async fn payment_ref(&self, stripe_id: &str) -> Result<Option<PaymentRef>, StoreError> {
        let (pk, sk) = keys::stripe_ref(stripe_id);
        let item = self.get((pk, sk)).await?;
        Ok(item.and_then(|item| {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            Some(PaymentRef {
                profile_id: ProfileId::from_stored(text("profile_id")?),
                registration_id: text("registration_id")?,
            })
        }))
    }

    async fn apply_update(
        &self,
        payment: &PaymentRef,
        update: &PaymentUpdate,
        version: i64,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::payment(&payment.profile_id, &payment.registration_id);
        let now = self.clock.timestamp().rfc3339();
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .expression_attribute_values(":version", n(version))
            .expression_attribute_values(":now", s(now));
        let request = match update {
            PaymentUpdate::Status { status, failure_code } => {
                let request = request
                    .update_expression(if failure_code.is_some() {
                        "SET #status = :status, status_version = :version, updated_at = :now, failure_code = :code"
                    } else {
                        "SET #status = :status, status_version = :version, updated_at = :now REMOVE failure_code"
                    })
                    .condition_expression("attribute_exists(pk) AND (attribute_not_exists(status_version) OR status_version < :version)")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", s(status.as_str()));
                match failure_code {
                    Some(code) => request.expression_attribute_values(":code", s(code)),
                    None => request,
                }
            }
            PaymentUpdate::Invoice { invoice_id, status, amount } => request
                .update_expression("SET last_invoice = :invoice, invoice_version = :version, updated_at = :now")
                .condition_expression("attribute_exists(pk) AND (attribute_not_exists(invoice_version) OR invoice_version < :version)")
                .expression_attribute_values(
                    ":invoice",
                    AttributeValue::M(HashMap::from([
                        ("id".to_owned(), s(invoice_id)),
                        ("status".to_owned(), s(status.as_str())),
                        ("amount".to_owned(), n(amount)),
                    ])),
                ),
            PaymentUpdate::Dispute { dispute_id, status } => request
                .update_expression("SET dispute = :dispute, dispute_version = :version, updated_at = :now")
                .condition_expression("attribute_exists(pk) AND (attribute_not_exists(dispute_version) OR dispute_version < :version)")
                .expression_attribute_values(
                    ":dispute",
                    AttributeValue::M(HashMap::from([("id".to_owned(), s(dispute_id)), ("status".to_owned(), s(status))])),
                ),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(classify(err)),
        }
    }

    async fn registration_held(&self, payment: &PaymentRef) -> Result<bool, StoreError> {
        Ok(self.get(keys::submission(&payment.profile_id, &payment.registration_id)).await?.is_some())
    }

    async fn payment_item(&self, payment: &PaymentRef) -> Result<Option<RecordedPayment>, StoreError> {
        let (pk, sk) = keys::payment(&payment.profile_id, &payment.registration_id);
        let item = self.get((pk, sk)).await?;
        let Some(item) = item else { return Ok(None) };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let (Some(kind), Some(item_id), Some(status)) = (text("kind"), text("item"), text("status")) else {
            return Ok(None);
        };
        Ok(Some(RecordedPayment {
            kind: PaymentKind::parse(&kind).ok_or_else(|| StoreError::unknown("payment kind", &kind))?,
            item: item_id,
            amount: item.get("amount").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0),
            currency: text("currency").unwrap_or_default(),
            receipt_owed: item.contains_key("receipt_owed_at"),
            status: PaymentStatus::parse(&status)
                .ok_or_else(|| StoreError::unknown("payment status", &status))?,
            started_at: text("started_at").and_then(|at| crate::time::Timestamp::parse_rfc3339(&at)),
            lang: text("language").and_then(|code| crate::i18n::Lang::from_code(&code)).unwrap_or_default(),
        }))
    }

    async fn event_seen(&self, event_id: &str) -> Result<bool, StoreError> {
        let (pk, sk) = keys::stripe_event(event_id);
        let item = self.get((pk, sk)).await?;
        Ok(item.is_some())
    }

    async fn mark_event_seen(&self, event_id: &str, expires_at: i64) -> Result<(), StoreError> {
        let (pk, sk) = keys::stripe_event(event_id);
        let mut item = key(pk, sk);
        stamp(&mut item, "stripe_event");
        item.insert(keys::TTL.into(), n(expires_at));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(classify)?;
        Ok(())
    }
}
