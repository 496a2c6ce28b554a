//! The privacy center's writes: corrections, limits, withdrawals, pending requests, address
//! changes, erasure and the retention sweep.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, Put, ReturnValue, TransactWriteItem, Update, WriteRequest,
};

use super::{
    built, classify, cursor_key, cursor_of, is_condition_failure, key, keys, mail_log_item, n, s, stamp,
    unless_condition_failed, DynamoStore, RETAIN_UNTIL_PREFIX,
};
use crate::domain::audit::Actor;
use crate::domain::erasure::{
    confirmation_id, ErasurePlan, ErasureReason, ErasureReport, ErasureStore, ItemKey, EMAIL_RATE_SCOPES,
    PAYMENT_RETENTION_DAYS,
};
use crate::domain::fields::Email;
use crate::domain::preferences::ChangeSource;
use crate::domain::retention::{ExpiredItem, ExpiredPage, RetentionStore};
use crate::domain::rights::{
    Correction, CurrentProfile, EmailChanged, Limit, PendingRequest, RequestKind, RightsStore,
};
use crate::store::StoreError;
use crate::time::Timestamp;

/// How long audit records are kept.
pub(super) const AUDIT_RETENTION_DAYS: i64 = 7 * 365;

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// One entry of a person's profile history: what changed, never the values.
fn history_item(profile_id: &str, at: &Timestamp, change: String) -> HashMap<String, AttributeValue> {
    let mut item = key(
        keys::profile_partition(profile_id),
        format!("HISTORY#{}#{}", at.rfc3339(), &uuid::Uuid::new_v4().simple().to_string()[..8]),
    );
    stamp(&mut item, "profile_change");
    item.insert("at".into(), s(at.rfc3339()));
    item.insert("change".into(), s(change));
    item
}

impl DynamoStore {
    /// Every item of a partition, all pages, read strongly.
    pub(super) async fn partition(
        &self,
        pk: &str,
        filter: Option<(&str, &str, AttributeValue)>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start)
                .consistent_read(true);
            if let Some((expression, placeholder, value)) = &filter {
                query = query
                    .filter_expression(*expression)
                    .expression_attribute_values(*placeholder, value.clone());
            }
            let page = query.send().await.map_err(classify)?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Writes an update and a history entry together; `false` when the profile is gone.
    async fn update_with_history(
        &self,
        profile_id: &str,
        update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
        change: String,
    ) -> Result<bool, StoreError> {
        let Some(profile_key) = self.profile_key(profile_id).await? else { return Ok(false) };
        let update = update
            .table_name(&self.table)
            .set_key(Some(key(profile_key.0, profile_key.1)))
            .condition_expression("attribute_exists(pk)");
        let history = history_item(profile_id, &Timestamp::now(), change);
        let put = built(Put::builder().table_name(&self.table).set_item(Some(history)).build())?;
        self.transact(vec![
            TransactWriteItem::builder().update(built(update.build())?).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await
    }
}

impl RightsStore for DynamoStore {
    async fn current_profile(&self, profile_id: &str) -> Result<Option<CurrentProfile>, StoreError> {
        let Some(profile_key) = self.profile_key(profile_id).await? else { return Ok(None) };
        Ok(self.get(profile_key).await?.map(|profile| CurrentProfile {
            email: text(&profile, "email").unwrap_or_default(),
            country: text(&profile, "country"),
        }))
    }

    async fn correct(&self, profile_id: &str, correction: &Correction) -> Result<bool, StoreError> {
        let mut sets = vec!["updated_at = :now".to_owned()];
        let mut names = HashMap::new();
        let mut values = HashMap::from([(":now".to_owned(), s(Timestamp::now().rfc3339()))]);
        for (attribute, value) in &correction.set {
            sets.push(format!("#{attribute} = :{attribute}"));
            names.insert(format!("#{attribute}"), (*attribute).to_owned());
            values.insert(format!(":{attribute}"), s(value));
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !correction.remove.is_empty() {
            for attribute in &correction.remove {
                names.insert(format!("#{attribute}"), (*attribute).to_owned());
            }
            let removed: Vec<String> = correction.remove.iter().map(|a| format!("#{a}")).collect();
            expression.push_str(&format!(" REMOVE {}", removed.join(", ")));
        }
        let changed: Vec<&str> =
            correction.set.iter().map(|(a, _)| *a).chain(correction.remove.iter().copied()).collect();
        let update = Update::builder()
            .update_expression(expression)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values));
        self.update_with_history(profile_id, update, format!("corrected {}", changed.join(", "))).await
    }

    async fn set_limit(&self, profile_id: &str, limit: Limit, on: bool) -> Result<bool, StoreError> {
        let attribute = limit.attribute();
        let update = if on {
            Update::builder()
                .update_expression(format!("SET {attribute} = if_not_exists({attribute}, :now)"))
                .expression_attribute_values(":now", s(Timestamp::now().rfc3339()))
        } else {
            Update::builder().update_expression(format!("REMOVE {attribute}"))
        };
        let change = format!("{} {}", if on { "set" } else { "lifted" }, attribute.trim_end_matches("ed"));
        self.update_with_history(profile_id, update, change).await
    }

    async fn withdraw(&self, profile_id: &str, purpose: &str) -> Result<bool, StoreError> {
        let Some(profile_key) = self.profile_key(profile_id).await? else { return Ok(false) };
        let now = Timestamp::now();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(profile_key.0, profile_key.1)))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":purpose", AttributeValue::Ss(vec![purpose.to_owned()]))
            .expression_attribute_values(":now", s(now.rfc3339()));
        let mut items = vec![];
        if purpose == "marketing" {
            // Consent to marketing ends every subscription, confirmed or pending.
            update = update
                .update_expression("ADD withdrawn_consents :purpose SET unsubscribed_all = :true, preferences_changed_at = :now REMOVE marketing_topics, pending_topics")
                .expression_attribute_values(":true", AttributeValue::Bool(true));
            let log = mail_log_item(
                profile_id,
                &now,
                ChangeSource::Preferences,
                "consent to marketing withdrawn".into(),
                "-",
            );
            items.push(
                TransactWriteItem::builder()
                    .put(built(Put::builder().table_name(&self.table).set_item(Some(log)).build())?)
                    .build(),
            );
        } else {
            update = update.update_expression("ADD withdrawn_consents :purpose SET updated_at = :now");
        }
        let history = history_item(profile_id, &now, format!("withdrew consent: {purpose}"));
        items.push(
            TransactWriteItem::builder()
                .put(built(Put::builder().table_name(&self.table).set_item(Some(history)).build())?)
                .build(),
        );
        items.push(TransactWriteItem::builder().update(built(update.build())?).build());
        self.transact(items).await
    }

    async fn save_request(
        &self,
        kind: RequestKind,
        nonce: &str,
        request: &PendingRequest,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut item =
            key(keys::profile_partition(&request.profile_id), format!("{}#{nonce}", kind.as_str()));
        stamp(&mut item, kind.as_str().to_lowercase());
        item.insert("address".into(), s(&request.address));
        if let Some(format) = &request.format {
            item.insert("format".into(), s(format));
        }
        item.insert(keys::TTL.into(), n(expires_at));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(classify)?;
        Ok(())
    }

    async fn take_request(
        &self,
        kind: RequestKind,
        profile_id: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Option<PendingRequest>, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::profile_partition(profile_id), format!("{}#{nonce}", kind.as_str()))))
            // TTL deletes within days, not hours: the expiry is checked here too.
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(output.attributes().and_then(|item| {
                Some(PendingRequest {
                    profile_id: profile_id.to_owned(),
                    address: text(item, "address")?,
                    format: text(item, "format"),
                })
            })),
            Err(err) if is_condition_failure(&err) => Ok(None),
            Err(err) => Err(classify(err)),
        }
    }

    async fn find_request(
        &self,
        kind: RequestKind,
        profile_id: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Option<PendingRequest>, StoreError> {
        let item =
            self.get((keys::profile_partition(profile_id), format!("{}#{nonce}", kind.as_str()))).await?;
        Ok(item
            .filter(|item| {
                // TTL deletes within days: the expiry is checked here too.
                item.get(keys::TTL).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok())
                    > Some(now)
            })
            .and_then(|item| {
                Some(PendingRequest {
                    profile_id: profile_id.to_owned(),
                    address: text(&item, "address")?,
                    format: text(&item, "format"),
                })
            }))
    }

    async fn change_email(&self, profile_id: &str, new_email: &Email) -> Result<EmailChanged, StoreError> {
        let Some(old_key) = self.profile_key(profile_id).await? else { return Ok(EmailChanged::Used) };
        let Some(mut profile) = self.get(old_key.clone()).await? else { return Ok(EmailChanged::Used) };
        let new_key = keys::profile_by_email(&self.email_pseudonym(new_email.normalized()));
        if new_key == old_key {
            return Ok(EmailChanged::Changed);
        }
        let now = Timestamp::now();
        profile.insert(keys::PK.into(), s(&new_key.0));
        profile.insert("email".into(), s(new_email.as_str()));
        profile.insert("updated_at".into(), s(now.rfc3339()));
        profile.insert("email_changed_at".into(), s(now.rfc3339()));
        // Bounces and complaints were about the old address.
        profile.remove("suppressed");
        let put = self.put_if_absent(profile)?;
        let delete = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(old_key.0, old_key.1)))
                .condition_expression("profile_id = :pid")
                .expression_attribute_values(":pid", s(profile_id))
                .build(),
        )?;
        let history = history_item(profile_id, &now, "changed email address".into());
        let log = built(Put::builder().table_name(&self.table).set_item(Some(history)).build())?;
        let moved = self
            .transact(vec![
                TransactWriteItem::builder().put(put).build(),
                TransactWriteItem::builder().delete(delete).build(),
                TransactWriteItem::builder().put(log).build(),
            ])
            .await?;
        if moved {
            Ok(EmailChanged::Changed)
        } else if self.get(new_key).await?.is_some() {
            Ok(EmailChanged::Taken)
        } else {
            Ok(EmailChanged::Used)
        }
    }
}

impl ErasureStore for DynamoStore {
    async fn erasure_plan(&self, profile_id: &str) -> Result<Option<ErasurePlan>, StoreError> {
        let Some(profile_key) = self.profile_key(profile_id).await? else { return Ok(None) };
        let Some(profile) = self.get(profile_key.clone()).await? else { return Ok(None) };
        let email = text(&profile, "email").unwrap_or_default();
        let mut plan = ErasurePlan {
            profile_key,
            email: email.clone(),
            last_submission_id: text(&profile, "last_submission_id"),
            ..ErasurePlan::default()
        };
        for item in self.partition(&keys::profile_partition(profile_id), None).await? {
            let (Some(pk), Some(sk)) = (text(&item, keys::PK), text(&item, keys::SK)) else { continue };
            if sk.starts_with("PAYMENT#") {
                let started = text(&item, "started_at")
                    .and_then(|t| {
                        time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
                    })
                    .map_or_else(|| Timestamp::now().epoch_seconds(), |t| t.unix_timestamp());
                plan.payments.push(((pk, sk), started + PAYMENT_RETENTION_DAYS * 86_400));
                continue;
            }
            if let Some(application) = sk.strip_prefix("SUBMISSION#") {
                plan.applications.push(application.to_owned());
            }
            plan.items.push((pk, sk));
        }
        let goodbye = confirmation_id(profile_id);
        // Messages queued before `profile_id` was an attribute carry it only inside `message`.
        let theirs = ("profile_id = :pid OR contains(message, :pid)", ":pid", s(profile_id));
        for item in self.partition(keys::OUTBOX, Some(theirs)).await? {
            if let (Some(pk), Some(sk)) = (text(&item, keys::PK), text(&item, keys::SK)) {
                if sk != goodbye {
                    plan.items.push((pk, sk));
                }
            }
        }
        if let Ok(parsed) = Email::parse("email", &email) {
            let subject = self.hash_key.pseudonym("rate-email", parsed.normalized());
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
        let pseudonym = self.email_pseudonym(&email.trim().to_lowercase());
        let (pk, sk) = keys::suppression(&pseudonym);
        let mut entry = key(pk, sk);
        stamp(&mut entry, "suppression");
        entry.insert("source".into(), s("erasure"));
        entry.insert("at".into(), s(Timestamp::now().rfc3339()));
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
        profile_id: &str,
        profile_key: &ItemKey,
        last_submission_id: Option<&str>,
        reason: ErasureReason,
        report: &ErasureReport,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now();
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
        let mut audit = key(
            format!("AUDIT#{}", &rfc3339[..7]),
            format!("ERASURE#{rfc3339}#{}", uuid::Uuid::new_v4().simple()),
        );
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
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await
    }

    async fn leftovers(&self, profile_id: &str) -> Result<Vec<ItemKey>, StoreError> {
        Ok(self
            .partition(&keys::profile_partition(profile_id), None)
            .await?
            .iter()
            .filter_map(|item| Some((text(item, keys::PK)?, text(item, keys::SK)?)))
            .filter(|(_, sk)| !sk.starts_with("PAYMENT#"))
            .collect())
    }
}

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
                    page.lapsed_profiles.extend(text(item, "profile_id"));
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
            let profile_id = pk.strip_prefix("PROFILE#").map(str::to_owned);
            let application_id = sk.strip_prefix("SUBMISSION#").map(str::to_owned);
            page.items.push(ExpiredItem { key: (pk, sk), kind, profile_id, application_id });
        }
        Ok((page, output.last_evaluated_key().and_then(cursor_of)))
    }

    async fn holds_anything(&self, profile_id: &str) -> Result<bool, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .filter_expression("begins_with(sk, :submission) OR begins_with(sk, :payment)")
            .expression_attribute_values(":pk", s(keys::profile_partition(profile_id)))
            .expression_attribute_values(":submission", s("SUBMISSION#"))
            .expression_attribute_values(":payment", s("PAYMENT#"))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        // A filtered count can stop at a page boundary with nothing counted yet.
        Ok(output.count() > 0 || output.last_evaluated_key().is_some())
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
