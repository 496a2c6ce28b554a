//! Privacy: the sign-in links of the privacy center and everything held about a person.

use super::*;
use crate::domain::mail::MailKind;
use crate::domain::privacy::rights::RequestKind;

impl DynamoStore {
    /// A person's items of one kind (sign-in links, sessions, pending requests), every page.
    async fn kept(
        &self,
        partition: &str,
        prefix: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(partition))
                .expression_attribute_values(":prefix", s(prefix))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Deletes a person's items of one kind.
    pub(super) async fn delete_kept(&self, partition: &str, prefix: &str) -> Result<(), StoreError> {
        for item in self.kept(partition, prefix).await? {
            if let Some(sk) = item.get(keys::SK).and_then(|v| v.as_s().ok()) {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key(partition.to_owned(), sk.clone())))
                    .send()
                    .await
                    .map_err(classify)?;
            }
        }
        Ok(())
    }
}

/// A message to no one, shaped like a sign-in mail: only its writes' shape is used.
fn decoy(link: &SignInLink) -> OutboxMessage {
    OutboxMessage {
        id: String::new(),
        kind: MailKind::Transactional,
        to: String::new(),
        profile_id: link.profile_id.clone(),
        subject: String::new(),
        template: String::new(),
        lang: crate::i18n::Lang::current(),
        values: serde_json::Value::Null,
        topic: None,
        unsubscribe_url: None,
    }
}

impl PrivacyStore for DynamoStore {
    async fn profile_by_email(&self, email: &Email) -> Result<Option<KnownAddress>, StoreError> {
        let key = keys::profile_by_email(&self.email_pseudonym(email.normalized()));
        let profile = self.get(key).await?;
        Ok(profile.and_then(|p| {
            let text = |name: &str| p.get(name).and_then(|v| v.as_s().ok()).cloned();
            Some(KnownAddress {
                profile_id: ProfileId::from_stored(text("profile_id")?),
                email: text("email")?,
            })
        }))
    }

    async fn issue_sign_in(
        &self,
        address: &Email,
        link: &SignInLink,
        mail: Option<&OutboxMessage>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let item = |profile_id: &ProfileId, nonce: &str| {
            let (pk, sk) = keys::sign_in(profile_id, nonce);
            let mut item = key(pk, sk);
            stamp(&mut item, "sign_in");
            item.insert("valid_until".into(), n(link.valid_until));
            item.insert("issued_at".into(), n(link.issued_at));
            item.insert(keys::TTL.into(), n(link.token_expires_at));
            item
        };
        // The address must still be the link's person's: an erasure that ran since the lookup
        // deleted the profile, and its sweep of the partition may already be over. For an
        // address no one holds, the same check, that no one does.
        let (pk, sk) = keys::profile_by_email(&self.email_pseudonym(address.normalized()));
        let holder = ConditionCheck::builder().table_name(&self.table).set_key(Some(key(pk, sk)));
        let holder = built(
            match mail {
                Some(_) => holder
                    .condition_expression("profile_id = :pid")
                    .expression_attribute_values(":pid", s(&link.profile_id)),
                None => holder.condition_expression("attribute_not_exists(pk)"),
            }
            .build(),
        )?;
        let mut writes = vec![
            TransactWriteItem::builder().condition_check(holder).build(),
            TransactWriteItem::builder()
                .put(self.put_if_absent(item(&link.profile_id, &link.nonce))?)
                .build(),
        ];
        match mail {
            Some(message) => writes.extend(self.enqueue_items(message, now)?),
            None => {
                // The same shape for an unknown address: two checks that pass and a second link
                // to no one, instead of the message (each link expires by itself).
                let nobody = OutboxMessage { id: uuid::Uuid::new_v4().simple().to_string(), ..decoy(link) };
                let mut shaped = self.enqueue_items(&nobody, now)?;
                shaped.pop();
                writes.extend(shaped);
                let decoy_nonce = uuid::Uuid::new_v4().simple().to_string();
                writes.push(
                    TransactWriteItem::builder()
                        .put(self.put_if_absent(item(&ProfileId::new_random(), &decoy_nonce))?)
                        .build(),
                );
            }
        }
        // Refused: erased meanwhile (or the address came to be held): nothing is kept or sent,
        // and the answer is the same.
        self.transact(writes).await
    }

    async fn extend_sign_in(&self, profile_id: &ProfileId, until: i64, now: i64) -> Result<(), StoreError> {
        let partition = keys::profile_partition(profile_id);
        let links = self.kept(&partition, keys::SIGN_IN_PREFIX).await?;
        let number = |item: &HashMap<String, AttributeValue>, name: &str| {
            item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok())
        };
        // The newest link the person was sent, by when it was issued: an older one is never
        // brought back (and once a link is used, the others are gone).
        let newest = links.iter().max_by_key(|link| number(link, "issued_at").unwrap_or(0));
        let (sk, token_expires_at) = newest
            .and_then(|link| Some((link.get(keys::SK)?.as_s().ok()?.clone(), number(link, keys::TTL)?)))
            .unwrap_or_else(|| (format!("{}none", keys::SIGN_IN_PREFIX), now));
        // One conditional update whether or not there is a link to extend: the same work for an
        // address with no link, or none known.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(partition, sk)))
            .update_expression("SET valid_until = :until")
            .condition_expression("attribute_exists(pk) AND valid_until < :until AND expires_at > :now")
            .expression_attribute_values(":until", n(until.min(token_expires_at)))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // None to extend, used meanwhile, or already working as long.
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(classify(err)),
        }
    }

    async fn consume_sign_in(&self, nonce: &str, session: &Session, now: i64) -> Result<bool, StoreError> {
        let (pk, sk) = keys::sign_in(&session.profile_id, nonce);
        // TTL deletes within days, not minutes: the time it works is checked here.
        let use_link = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .condition_expression("attribute_exists(pk) AND valid_until > :now")
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        let (pk, sk) = keys::session(&session.profile_id, &session.id);
        let mut kept = key(pk, sk);
        stamp(&mut kept, "session");
        kept.insert(keys::TTL.into(), n(session.expires_at));
        // One transaction (one request token for the SDK's retries): a lost answer to a link
        // that was used is the same transaction again, not a link found spent.
        let opened = self
            .transact(vec![
                TransactWriteItem::builder().delete(use_link).build(),
                TransactWriteItem::builder().put(self.put_if_absent(kept)?).build(),
            ])
            .await?;
        if opened {
            // Signed in: the person's other links die with this one.
            self.delete_kept(&keys::profile_partition(&session.profile_id), keys::SIGN_IN_PREFIX).await?;
        }
        Ok(opened)
    }

    async fn session_open(
        &self,
        profile_id: &ProfileId,
        session_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let kept = self.get(keys::session(profile_id, session_id)).await?;
        // TTL deletes within days: the expiry is checked here.
        Ok(kept
            .and_then(|item| item.get(keys::TTL)?.as_n().ok()?.parse::<i64>().ok())
            .is_some_and(|expires_at| expires_at > now))
    }

    async fn end_sessions(&self, profile_id: &ProfileId, only: Option<&str>) -> Result<(), StoreError> {
        match only {
            Some(id) => {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key(keys::session(profile_id, id).0, keys::session(profile_id, id).1)))
                    .send()
                    .await
                    .map_err(classify)?;
                Ok(())
            }
            None => {
                let partition = keys::profile_partition(profile_id);
                self.delete_kept(&partition, keys::SIGN_IN_PREFIX).await?;
                self.delete_kept(&partition, keys::SESSION_PREFIX).await
            }
        }
    }

    async fn address_of(&self, profile_id: &ProfileId) -> Result<Option<String>, StoreError> {
        self.profile_address(profile_id).await
    }

    async fn everything(&self, profile_id: &ProfileId) -> Result<Option<serde_json::Value>, StoreError> {
        let Some((_, profile)) = self.profile(profile_id).await? else { return Ok(None) };
        let items = self.partition(&keys::profile_partition(profile_id), None).await?;
        // When an item goes (its TTL), as RFC 3339.
        let retained_until = |item: &HashMap<String, AttributeValue>| -> Option<String> {
            let expires = item.get(keys::TTL)?.as_n().ok()?.parse::<i64>().ok()?;
            crate::time::Timestamp::from_epoch_millis(expires * 1000).map(|t| t.rfc3339())
        };
        let of_kind = |prefix: &str| -> Vec<serde_json::Value> {
            items
                .iter()
                .filter(|i| {
                    i.get(keys::SK).and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with(prefix))
                })
                .map(|item| {
                    let mut json = item_json(item);
                    if let Some(until) = retained_until(item) {
                        json["retained_until"] = until.into();
                    }
                    json
                })
                .collect()
        };
        let country = profile.get("country").and_then(|v| v.as_s().ok()).map(String::as_str);
        // The profile is kept as long as the longest-kept submission or payment record.
        let profile_until = items
            .iter()
            .filter(|i| {
                i.get(keys::SK)
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk.starts_with("SUBMISSION#") || sk.starts_with("PAYMENT#"))
            })
            .filter_map(|i| i.get(keys::TTL).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()))
            .max();
        let mut profile_json = item_json(&profile);
        if let Some(until) = profile_until {
            profile_json["retained_until"] =
                crate::time::Timestamp::from_epoch_millis(until * 1000).map(|t| t.rfc3339()).into();
        }
        // Each with its kind and id, for the person to see and cancel.
        let pending: Vec<serde_json::Value> = RequestKind::PENDING
            .into_iter()
            .flat_map(|kind| {
                let prefix = format!("{}#", kind.as_str());
                items
                    .iter()
                    .filter_map(|item| {
                        let id = item.get(keys::SK)?.as_s().ok()?.strip_prefix(&prefix)?.to_owned();
                        let mut request = item_json(item);
                        request["request"] = kind.shown_as().into();
                        request["request_id"] = id.into();
                        request["cancellable"] = RequestKind::CANCELLABLE.contains(&kind).into();
                        request["retained_until"] = retained_until(item).into();
                        Some(request)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        // Live download links of exports sent to someone, each with its id to revoke it.
        let export_links: Vec<serde_json::Value> = items
            .iter()
            .filter_map(|item| {
                let id = item.get(keys::SK)?.as_s().ok()?.strip_prefix("EXPORTLINK#")?;
                let mut json = item_json(item);
                json["link_id"] = id.into();
                json["works_until"] = item
                    .get(keys::TTL)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    .map(|at| crate::time::Timestamp::from_epoch_seconds(at).rfc3339())
                    .into();
                Some(json)
            })
            .collect();
        Ok(Some(serde_json::json!({
            "profile": profile_json,
            "submissions": of_kind("SUBMISSION#"),
            "payments": of_kind("PAYMENT#"),
            "mail_preference_history": of_kind("MAILLOG#"),
            "profile_history": of_kind("HISTORY#"),
            "pending_requests": pending,
            "export_links": export_links,
            "billing": of_kind("BILLING"),
            "data_controller": controller(country),
            "data_protection_officer": DATA_PROTECTION_OFFICER,
            "supervisory_authority": supervisory_authority(controller(country)),
            "recipients": RECIPIENTS,
        })))
    }
}
