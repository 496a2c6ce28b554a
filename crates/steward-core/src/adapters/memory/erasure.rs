//! Erasure: the plan of everything a person left, and its deletion, item by item.

use super::*;
use crate::domain::destinations::{is_erasure_delivery, DELIVERY_KEPT_DAYS};
use crate::domain::privacy::audit::Actor;
use crate::domain::privacy::erasure::{
    confirmation_id, ErasurePlan, ErasureReason, ErasureReport, ErasureStore, EMAIL_RATE_SCOPES,
    PAYMENT_RETENTION_DAYS,
};

impl ErasureStore for MemoryStore {
    async fn mark_erasing(&self, profile_id: &ProfileId, profile_key: &ItemKey) -> Result<(), StoreError> {
        let now = self.now();
        self.run("mark_erasing", |table| {
            if let Some(profile) =
                table.get_mut(profile_key).filter(|p| p["profile_id"] == profile_id.as_str())
            {
                profile.insert("erasing_since".into(), now.rfc3339().into());
            }
            Ok(())
        })
    }

    async fn profile_held(&self, profile_id: &ProfileId) -> Result<bool, StoreError> {
        self.run("profile_held", |table| Ok(profile_key(table, profile_id).is_some()))
    }

    async fn erasure_plan(&self, profile_id: &ProfileId) -> Result<Option<ErasurePlan>, StoreError> {
        let now = self.clock.now();
        let queues = keys::person_queues();
        self.run("erasure_plan", |table| {
            let Some(profile_key) = profile_key(table, profile_id) else { return Ok(None) };
            let Some(profile) = table.get(&profile_key) else { return Ok(None) };
            let email = text(profile, "email").unwrap_or_default();
            let mut plan = ErasurePlan {
                last_submission_id: text(profile, "last_submission_id"),
                profile_key,
                email: email.clone(),
                ..ErasurePlan::default()
            };
            for ((pk, sk), item) in partition(table, &keys::profile_partition(profile_id)) {
                if let Some(customer) = text(item, "stripe_customer_id") {
                    plan.stripe_customers.insert(customer);
                }
                let running = text(item, "status")
                    .and_then(|s| crate::domain::payments::PaymentStatus::parse(&s))
                    .is_some_and(|s| s.is_running());
                if let (Some(subscription), true) = (text(item, "subscription_id"), running) {
                    plan.running_subscriptions.insert(subscription);
                }
                if sk.starts_with("PAYMENT#") {
                    let started = text(item, "started_at")
                        .and_then(|t| {
                            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                                .ok()
                        })
                        .map_or(now, |t| t.unix_timestamp());
                    plan.payments.push(((pk.clone(), sk.clone()), started + PAYMENT_RETENTION_DAYS * 86_400));
                    continue;
                }
                if let Some(application) = sk.strip_prefix("SUBMISSION#") {
                    plan.applications.push(application.to_owned());
                }
                plan.items.push((pk.clone(), sk.clone()));
            }
            let goodbye = confirmation_id(profile_id);
            // Messages queued before `profile_id` was an attribute carry it only inside `message`.
            let theirs = |message: &Item| {
                text(message, "profile_id").as_deref() == Some(profile_id.as_str())
                    || text(message, "message").is_some_and(|m| m.contains(profile_id.as_str()))
            };
            // Mail and deliveries (owed or given up) carry what they were to send: theirs go too.
            let queued = partitions(table, &queues).filter(|(_, message)| theirs(message));
            for ((pk, sk), _) in queued {
                if *sk != goodbye && !is_erasure_delivery(profile_id, sk) {
                    plan.items.push((pk.clone(), sk.clone()));
                }
            }
            if !email.is_empty() {
                let subject =
                    self.hash_key.pseudonym("rate-email", &crate::domain::fields::address_key(&email));
                for scope in EMAIL_RATE_SCOPES {
                    let counters = format!("RATE#{scope}#{subject}");
                    plan.items.extend(partition(table, &counters).map(|(key, _)| key.clone()));
                }
            }
            Ok(Some(plan))
        })
    }

    async fn suppress_erased(&self, email: &str) -> Result<(), StoreError> {
        let key = keys::suppression(&self.email_pseudonym(&crate::domain::fields::address_key(email)));
        let now = self.now();
        self.run("suppress_erased", |table| {
            // A bounce or a complaint says more than an erasure: it stays.
            if table.get(&key).is_some_and(|entry| text(entry, "source").as_deref() != Some("erasure")) {
                return Ok(());
            }
            let mut entry = stamped("suppression");
            entry.insert("source".into(), "erasure".into());
            entry.insert("at".into(), now.rfc3339().into());
            table.insert(key.clone(), entry);
            Ok(())
        })
    }

    async fn retain_payment(&self, key: &ItemKey, retain_until: i64) -> Result<(), StoreError> {
        self.run("retain_payment", |table| {
            let Some(payment) = table.get_mut(key) else { return Ok(()) };
            payment.remove("stripe_customer_id");
            payment
                .insert("retained_for".into(), "legal obligation (accounting); the person was erased".into());
            payment.insert(keys::TTL.into(), retain_until.into());
            // The references that lead Stripe's webhooks to the record go when the record goes.
            let stripe_ids: Vec<String> = ["payment_intent_id", "subscription_id"]
                .iter()
                .filter_map(|name| text(payment, name))
                .collect();
            for stripe_id in stripe_ids {
                if let Some(reference) = table.get_mut(&keys::stripe_ref(&stripe_id)) {
                    reference.insert(keys::TTL.into(), retain_until.into());
                }
            }
            Ok(())
        })
    }

    async fn delete_items(&self, item_keys: &[ItemKey]) -> Result<(), StoreError> {
        self.run("delete_items", |table| {
            for key in item_keys {
                table.remove(key);
            }
            Ok(())
        })
    }

    async fn forget_profile(
        &self,
        profile_id: &ProfileId,
        key: &ItemKey,
        last_submission_id: Option<&str>,
        reason: ErasureReason,
        report: &ErasureReport,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        let tombstone = self.erased_key(profile_id);
        self.run("forget_profile", |table| {
            // Gone already (an earlier run got this far), or still the profile the plan read.
            let unchanged = table.get(key).is_none_or(|profile| {
                text(profile, "profile_id").as_deref() == Some(profile_id)
                    && text(profile, "last_submission_id").as_deref() == last_submission_id
            });
            if !unchanged {
                return Ok(false);
            }
            table.remove(key);
            // The audit record says that an erasure happened, why and how much it removed; nothing
            // in it leads back to the person.
            let rfc3339 = now.rfc3339();
            let actor = match reason {
                ErasureReason::Request => Actor::Person,
                ErasureReason::Retention => Actor::Retention,
                // The operator's own record (steward-admin erase) names them.
                ErasureReason::Operator => Actor::Operator(String::new()),
            };
            let mut audit = stamped("audit");
            audit.insert("action".into(), "erasure".into());
            audit.insert("reason".into(), reason.as_str().into());
            audit.insert("actor".into(), actor.label().into());
            audit.insert("at".into(), rfc3339.clone().into());
            audit.insert("items_deleted".into(), report.items_deleted.into());
            audit.insert("cv_versions_deleted".into(), report.cv_versions_deleted.into());
            audit.insert("payments_retained".into(), report.payments_retained.into());
            audit.insert(keys::TTL.into(), (now.epoch_seconds() + AUDIT_RETENTION_DAYS * 86_400).into());
            let audit_key = keys::audit_record(
                &rfc3339[..7],
                format!("ERASURE#{rfc3339}#{}", uuid::Uuid::new_v4().simple()),
            );
            table.insert(audit_key, audit);
            let mut erased = stamped("erased");
            erased.insert(keys::TTL.into(), (now.epoch_seconds() + DELIVERY_KEPT_DAYS * 86_400).into());
            table.insert(tombstone, erased);
            Ok(true)
        })
    }

    async fn leftovers(&self, profile_id: &ProfileId) -> Result<Vec<ItemKey>, StoreError> {
        let queues = keys::person_queues();
        self.run("leftovers", |table| {
            let goodbye = confirmation_id(profile_id);
            let queued = partitions(table, &queues)
                .filter(|(_, item)| text(item, "profile_id").as_deref() == Some(profile_id.as_str()))
                .map(|(key, _)| key.clone())
                .filter(|(_, sk)| *sk != goodbye && !is_erasure_delivery(profile_id, sk))
                .collect::<Vec<_>>();
            Ok(partition(table, &keys::profile_partition(profile_id))
                .map(|(key, _)| key.clone())
                .filter(|(_, sk)| !sk.starts_with("PAYMENT#"))
                .chain(queued)
                .collect())
        })
    }
}
