//! Erasure: the plan of everything a person left, and its deletion, item by item.

use super::*;
use crate::domain::destinations::{is_erasure_delivery, DELIVERY_KEPT_DAYS};
use crate::domain::ports::StoreError;
use crate::domain::privacy::audit::Actor;
use crate::domain::privacy::erasure::{
    confirmation_id, ErasurePlan, ErasureReason, ErasureReport, ErasureStore, ItemKey, EMAIL_RATE_SCOPES,
    PAYMENT_RETENTION_DAYS,
};
use aws_sdk_dynamodb::types::{Delete, DeleteRequest, Put, ReturnValue, TransactWriteItem, WriteRequest};

impl DynamoStore {
    /// The keys of what waits to be sent about a person in every queue (mail, deliveries owed or
    /// given up, each shard and each partition of old), read all at once, but the erasure's own
    /// goodbye and its deliveries.
    async fn queued_about(
        &self,
        profile_id: &ProfileId,
        theirs: (&str, &str, AttributeValue),
    ) -> Result<Vec<ItemKey>, StoreError> {
        let goodbye = confirmation_id(profile_id);
        let queues = keys::person_queues();
        let reads = queues.iter().map(|queue| self.partition(queue, Some(theirs.clone())));
        let items = futures_util::future::try_join_all(reads).await?;
        Ok(items
            .iter()
            .flatten()
            .filter_map(|item| Some((text(item, keys::PK)?, text(item, keys::SK)?)))
            .filter(|(_, sk)| *sk != goodbye && !is_erasure_delivery(profile_id, sk))
            .collect())
    }
}

impl ErasureStore for DynamoStore {
    async fn mark_erasing(&self, profile_id: &ProfileId, profile_key: &ItemKey) -> Result<(), StoreError> {
        let marked = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(profile_key.0.clone(), profile_key.1.clone())))
            .update_expression("SET erasing_since = if_not_exists(erasing_since, :now)")
            .condition_expression("profile_id = :pid")
            .expression_attribute_values(":now", s(self.clock.timestamp().rfc3339()))
            .expression_attribute_values(":pid", s(profile_id))
            .send()
            .await;
        match marked {
            Ok(_) => Ok(()),
            // Gone or moved since the plan was read: this round's forget finds out and says so.
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(classify(err)),
        }
    }

    async fn profile_held(&self, profile_id: &ProfileId) -> Result<bool, StoreError> {
        Ok(self.profile(profile_id).await?.is_some())
    }

    async fn erasure_plan(&self, profile_id: &ProfileId) -> Result<Option<ErasurePlan>, StoreError> {
        let Some((profile_key, profile)) = self.profile(profile_id).await? else { return Ok(None) };
        let email = text(&profile, "email").unwrap_or_default();
        let mut plan = ErasurePlan {
            profile_key,
            email: email.clone(),
            last_submission_id: text(&profile, "last_submission_id"),
            ..ErasurePlan::default()
        };
        for item in self.partition(&keys::profile_partition(profile_id), None).await? {
            let (Some(pk), Some(sk)) = (text(&item, keys::PK), text(&item, keys::SK)) else { continue };
            if let Some(customer) = text(&item, "stripe_customer_id") {
                plan.stripe_customers.insert(customer);
            }
            if let (Some(subscription), true) = (
                text(&item, "subscription_id"),
                text(&item, "status").and_then(|s| PaymentStatus::parse(&s)).is_some_and(|s| s.is_running()),
            ) {
                plan.running_subscriptions.insert(subscription);
            }
            if sk.starts_with("PAYMENT#") {
                let started = text(&item, "started_at")
                    .and_then(|t| {
                        time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
                    })
                    .map_or_else(|| self.clock.timestamp().epoch_seconds(), |t| t.unix_timestamp());
                plan.payments.push(((pk, sk), started + PAYMENT_RETENTION_DAYS * 86_400));
                continue;
            }
            if let Some(application) = sk.strip_prefix("SUBMISSION#") {
                plan.applications.push(application.to_owned());
            }
            plan.items.push((pk, sk));
        }
        // Mail and deliveries still owed or given up carry what they were to send: theirs go too
        // (the destinations that already have it are told, below, from the record of what went).
        // Messages queued before `profile_id` was an attribute carry it only inside `message`.
        let theirs = ("profile_id = :pid OR contains(message, :pid)", ":pid", s(profile_id));
        plan.items.extend(self.queued_about(profile_id, theirs).await?);
        if !email.is_empty() {
            let subject = self.hash_key.pseudonym("rate-email", &crate::domain::fields::address_key(&email));
            for scope in EMAIL_RATE_SCOPES {
                for item in self.partition(&format!("RATE#{scope}#{subject}"), None).await? {
                    if let (Some(pk), Some(sk)) = (text(&item, keys::PK), text(&item, keys::SK)) {
                        plan.items.push((pk, sk));
                    }
                }
            }
        }
        Ok(Some(plan))
    }

    async fn suppress_erased(&self, email: &str) -> Result<(), StoreError> {
        let pseudonym = self.email_pseudonym(&crate::domain::fields::address_key(email));
        let (pk, sk) = keys::suppression(&pseudonym);
        let mut entry = key(pk, sk);
        stamp(&mut entry, "suppression");
        entry.insert("source".into(), s("erasure"));
        entry.insert("at".into(), s(self.clock.timestamp().rfc3339()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(entry))
            // A bounce or a complaint says more than an erasure: it stays.
            .condition_expression("attribute_not_exists(pk) OR #source = :erasure")
            .expression_attribute_names("#source", "source")
            .expression_attribute_values(":erasure", s("erasure"))
            .send()
            .await;
        unless_condition_failed(result)
    }

    async fn retain_payment(&self, item_key: &ItemKey, retain_until: i64) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(item_key.0.clone(), item_key.1.clone())))
            .update_expression("REMOVE stripe_customer_id SET retained_for = :why, #ttl = :until")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":why", s("legal obligation (accounting); the person was erased"))
            .expression_attribute_values(":until", n(retain_until))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let Ok(output) = result else { return unless_condition_failed(result) };
        // The references that lead Stripe's webhooks to the record go when the record goes.
        let payment = output.attributes().cloned().unwrap_or_default();
        for stripe_id in
            ["payment_intent_id", "subscription_id"].iter().filter_map(|name| text(&payment, name))
        {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(keys::stripe_ref(&stripe_id).0, keys::stripe_ref(&stripe_id).1)))
                .update_expression("SET #ttl = :until")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":until", n(retain_until))
                .send()
                .await;
            unless_condition_failed(result)?;
        }
        Ok(())
    }

    async fn delete_items(&self, item_keys: &[ItemKey]) -> Result<(), StoreError> {
        let mut requests: Vec<WriteRequest> = item_keys
            .iter()
            .map(|(pk, sk)| {
                Ok(WriteRequest::builder()
                    .delete_request(built(
                        DeleteRequest::builder().set_key(Some(key(pk.clone(), sk.clone()))).build(),
                    )?)
                    .build())
            })
            .collect::<Result<_, StoreError>>()?;
        for attempt in 0..5u32 {
            if requests.is_empty() {
                return Ok(());
            }
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(classify)?;
            requests =
                output.unprocessed_items().and_then(|u| u.get(&self.table)).cloned().unwrap_or_default();
        }
        if requests.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!("{} deletes left unprocessed", requests.len()).into()))
        }
    }

    async fn forget_profile(
        &self,
        profile_id: &ProfileId,
        profile_key: &ItemKey,
        last_submission_id: Option<&str>,
        reason: ErasureReason,
        report: &ErasureReport,
    ) -> Result<bool, StoreError> {
        let now = self.clock.timestamp();
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(profile_key.0.clone(), profile_key.1.clone())))
            .expression_attribute_values(":pid", s(profile_id));
        let delete = built(
            match last_submission_id {
                Some(last) => delete
                    .condition_expression(
                        "attribute_not_exists(pk) OR (profile_id = :pid AND last_submission_id = :last)",
                    )
                    .expression_attribute_values(":last", s(last)),
                None => delete.condition_expression(
                    "attribute_not_exists(pk) OR (profile_id = :pid AND attribute_not_exists(last_submission_id))",
                ),
            }
            .build(),
        )?;
        // The audit record says that an erasure happened, why and how much it removed; nothing in
        // it leads back to the person.
        let rfc3339 = now.rfc3339();
        let (audit_pk, audit_sk) =
            keys::audit_record(&rfc3339[..7], format!("ERASURE#{rfc3339}#{}", uuid::Uuid::new_v4().simple()));
        let mut audit = key(audit_pk, audit_sk);
        stamp(&mut audit, "audit");
        audit.insert("action".into(), s("erasure"));
        audit.insert("reason".into(), s(reason.as_str()));
        let actor = match reason {
            ErasureReason::Request => Actor::Person,
            ErasureReason::Retention => Actor::Retention,
            // The operator's own record (steward-admin erase) names them.
            ErasureReason::Operator => Actor::Operator(String::new()),
        };
        audit.insert("actor".into(), s(actor.label()));
        audit.insert("at".into(), s(rfc3339));
        audit.insert("items_deleted".into(), n(report.items_deleted));
        audit.insert("cv_versions_deleted".into(), n(report.cv_versions_deleted));
        audit.insert("payments_retained".into(), n(report.payments_retained));
        audit.insert(keys::TTL.into(), n(now.epoch_seconds() + AUDIT_RETENTION_DAYS * 86_400));
        let put = built(Put::builder().table_name(&self.table).set_item(Some(audit)).build())?;
        // The tombstone: nothing about them is queued for a destination, or recorded as given to
        // one, from now on (a form's deliveries queued just after its submission, a dispatcher
        // finishing a delivery), for as long as a delivery may wait.
        let (tomb_pk, tomb_sk) = self.erased_key(profile_id);
        let mut tombstone = key(tomb_pk, tomb_sk);
        stamp(&mut tombstone, "erased");
        tombstone.insert(keys::TTL.into(), n(now.epoch_seconds() + DELIVERY_KEPT_DAYS * 86_400));
        let tombstone = built(Put::builder().table_name(&self.table).set_item(Some(tombstone)).build())?;
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().put(tombstone).build(),
        ])
        .await
    }

    async fn leftovers(&self, profile_id: &ProfileId) -> Result<Vec<ItemKey>, StoreError> {
        let mut left: Vec<ItemKey> = self
            .partition(&keys::profile_partition(profile_id), None)
            .await?
            .iter()
            .filter_map(|item| Some((text(item, keys::PK)?, text(item, keys::SK)?)))
            .filter(|(_, sk)| !sk.starts_with("PAYMENT#"))
            .collect();
        // Mail and deliveries queued about them while the erasure ran (a dispatcher that took a
        // delivery before the plan was read), but the goodbye.
        left.extend(self.queued_about(profile_id, ("profile_id = :pid", ":pid", s(profile_id))).await?);
        Ok(left)
    }
}
