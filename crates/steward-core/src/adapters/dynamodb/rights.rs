//! The privacy center's writes: corrections, limits, withdrawals, pending requests, address
//! changes, erasure and the retention sweep.

use super::mail::mail_log_item;
use super::*;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use crate::domain::fields::Email;
use crate::domain::ids::ProfileId;
use crate::domain::mail::preferences::ChangeSource;
use crate::domain::ports::StoreError;
use crate::domain::privacy::correction::{Correction, CorrectionStore, EmailChanged};
use crate::domain::privacy::limits::{Limit, LimitStore};
use crate::domain::privacy::rights::{CurrentProfile, PendingRequest, RequestKind, RightsStore};
use crate::time::Timestamp;

/// One entry of a person's profile history: what changed, never the values.
fn history_item(profile_id: &ProfileId, at: &Timestamp, change: String) -> HashMap<String, AttributeValue> {
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
        profile_id: &ProfileId,
        update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
        change: String,
    ) -> Result<bool, StoreError> {
        let Some(profile_key) = self.profile_key(profile_id).await? else { return Ok(false) };
        let update = update
            .table_name(&self.table)
            .set_key(Some(key(profile_key.0, profile_key.1)))
            // This person's profile still: not one erased since, nor another person's who signed
            // up again with the address.
            .condition_expression("profile_id = :pid")
            .expression_attribute_values(":pid", s(profile_id));
        let history = history_item(profile_id, &self.clock.timestamp(), change);
        let put = built(Put::builder().table_name(&self.table).set_item(Some(history)).build())?;
        self.transact(vec![
            TransactWriteItem::builder().update(built(update.build())?).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await
    }
}

impl RightsStore for DynamoStore {
    async fn current_profile(&self, profile_id: &ProfileId) -> Result<Option<CurrentProfile>, StoreError> {
        Ok(self.profile(profile_id).await?.map(|(_, profile)| CurrentProfile {
            email: text(&profile, "email").unwrap_or_default(),
            country: text(&profile, "country"),
        }))
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
        profile_id: &ProfileId,
        nonce: &str,
        now: i64,
    ) -> Result<Option<PendingRequest>, StoreError> {
        // Read, then used up in a transaction: its request token makes the store client's retry of
        // a lost answer the same transaction, so the link is not found spent by its own use.
        let Some(request) = self.find_request(kind, profile_id, nonce, now).await? else { return Ok(None) };
        let use_up = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::profile_partition(profile_id), format!("{}#{nonce}", kind.as_str()))))
                // TTL deletes within days, not hours: the expiry is checked here too.
                .condition_expression("attribute_exists(pk) AND expires_at > :now")
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        let used = self.transact(vec![TransactWriteItem::builder().delete(use_up).build()]).await?;
        Ok(used.then_some(request))
    }

    async fn drop_requests(&self, profile_id: &ProfileId, kinds: &[RequestKind]) -> Result<(), StoreError> {
        let partition = keys::profile_partition(profile_id);
        for kind in kinds {
            self.delete_kept(&partition, &format!("{}#", kind.as_str())).await?;
        }
        Ok(())
    }

    async fn find_request(
        &self,
        kind: RequestKind,
        profile_id: &ProfileId,
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
}

impl CorrectionStore for DynamoStore {
    async fn correct(&self, profile_id: &ProfileId, correction: &Correction) -> Result<bool, StoreError> {
        let Some((_, profile)) = self.profile(profile_id).await? else { return Ok(false) };
        let has_provenance = profile.contains_key(super::forms::PROVENANCE);
        let now = self.clock.timestamp().rfc3339();
        let mut sets = vec!["updated_at = :now".to_owned()];
        let mut names = HashMap::new();
        let mut values = HashMap::from([(":now".to_owned(), s(&now))]);
        // Corrected by the person, signed in from their address: the value's source says so.
        let corrected = || {
            AttributeValue::M(HashMap::from([
                ("source".to_owned(), s("privacy-center")),
                ("at".to_owned(), s(&now)),
            ]))
        };
        let mut sources = HashMap::new();
        for (attribute, value) in &correction.set {
            sets.push(format!("#{attribute} = :{attribute}"));
            names.insert(format!("#{attribute}"), (*attribute).to_owned());
            values.insert(format!(":{attribute}"), s(value));
            sources.insert((*attribute).to_owned(), corrected());
        }
        if !sources.is_empty() || (has_provenance && !correction.remove.is_empty()) {
            names.insert("#provenance".into(), super::forms::PROVENANCE.into());
        }
        if has_provenance {
            for (attribute, source) in sources {
                sets.push(format!("#provenance.#{attribute} = :source_{attribute}"));
                values.insert(format!(":source_{attribute}"), source);
            }
        } else if !sources.is_empty() {
            sets.push("#provenance = :provenance".to_owned());
            values.insert(":provenance".into(), AttributeValue::M(sources));
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !correction.remove.is_empty() {
            for attribute in &correction.remove {
                names.insert(format!("#{attribute}"), (*attribute).to_owned());
            }
            let mut removed: Vec<String> = correction.remove.iter().map(|a| format!("#{a}")).collect();
            if has_provenance {
                removed.extend(correction.remove.iter().map(|a| format!("#provenance.#{a}")));
            }
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

    async fn submission_exists(
        &self,
        profile_id: &ProfileId,
        submission_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.get(keys::submission(profile_id, submission_id)).await?.is_some())
    }

    async fn delete_submission(
        &self,
        profile_id: &ProfileId,
        submission_id: &str,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::submission(profile_id, submission_id);
        let delete = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .condition_expression("attribute_exists(pk)")
                .build(),
        )?;
        let history = history_item(profile_id, &self.clock.timestamp(), "deleted a submission".to_owned());
        let put = built(Put::builder().table_name(&self.table).set_item(Some(history)).build())?;
        let mut items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        // The profile values this submission filled in go with it (their provenance names it).
        if let Some((profile_key, profile)) = self.profile(profile_id).await? {
            let filled: Vec<String> = profile
                .get(super::forms::PROVENANCE)
                .and_then(|v| v.as_m().ok())
                .map(|sources| {
                    sources
                        .iter()
                        .filter(|(_, source)| {
                            source
                                .as_m()
                                .ok()
                                .and_then(|m| m.get("submission_id"))
                                .and_then(|v| v.as_s().ok())
                                == Some(&submission_id.to_owned())
                        })
                        .map(|(field, _)| field.clone())
                        .collect()
                })
                .unwrap_or_default();
            if !filled.is_empty() {
                let mut names =
                    HashMap::from([("#provenance".to_owned(), super::forms::PROVENANCE.to_owned())]);
                let mut removed = Vec::new();
                for (index, field) in filled.iter().enumerate() {
                    names.insert(format!("#f{index}"), field.clone());
                    removed.push(format!("#f{index}"));
                    removed.push(format!("#provenance.#f{index}"));
                }
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(profile_key.0, profile_key.1)))
                    .update_expression(format!("REMOVE {}", removed.join(", ")))
                    .condition_expression("profile_id = :pid")
                    .expression_attribute_values(":pid", s(profile_id))
                    .set_expression_attribute_names(Some(names));
                items.push(TransactWriteItem::builder().update(built(update.build())?).build());
            }
        }
        self.transact(items).await
    }

    async fn change_email(
        &self,
        profile_id: &ProfileId,
        new_email: &Email,
    ) -> Result<EmailChanged, StoreError> {
        let Some((old_key, mut profile)) = self.profile(profile_id).await? else {
            return Ok(EmailChanged::Used);
        };
        let new_key = keys::profile_by_email(&self.email_pseudonym(new_email.normalized()));
        if new_key == old_key {
            return Ok(EmailChanged::Changed);
        }
        let now = self.clock.timestamp();
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
                // Never out from under an erasure that has begun.
                .condition_expression("profile_id = :pid AND attribute_not_exists(erasing_since)")
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

impl LimitStore for DynamoStore {
    async fn set_limit(&self, profile_id: &ProfileId, limit: Limit, on: bool) -> Result<bool, StoreError> {
        let attribute = limit.attribute();
        let update = if on {
            Update::builder()
                .update_expression(format!("SET {attribute} = if_not_exists({attribute}, :now)"))
                .expression_attribute_values(":now", s(self.clock.timestamp().rfc3339()))
        } else {
            Update::builder().update_expression(format!("REMOVE {attribute}"))
        };
        let change = format!("{} {}", if on { "set" } else { "lifted" }, attribute.trim_end_matches("ed"));
        self.update_with_history(profile_id, update, change).await
    }

    async fn withdraw(&self, profile_id: &ProfileId, purpose: &str) -> Result<bool, StoreError> {
        let Some(profile_key) = self.profile_key(profile_id).await? else { return Ok(false) };
        let now = self.clock.timestamp();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(profile_key.0, profile_key.1)))
            .condition_expression("profile_id = :pid")
            .expression_attribute_values(":pid", s(profile_id))
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
}
