//! Mail: the outbox, marketing consent, campaign subscribers, suppression and preferences.

use super::*;
use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::Queue;

/// How long a sent message's marker keeps a re-enqueued copy from going out again.
const SENT_MARKER_SECONDS: i64 = 30 * 24 * 3600;
/// How long an unsent message may wait before it is dropped by TTL.
const OUTBOX_SECONDS: i64 = 14 * 24 * 3600;

impl DynamoStore {
    /// A message's item in its queue.
    fn outbox_item(&self, id: &str) -> HashMap<String, AttributeValue> {
        let (pk, sk) = keys::outbox(id);
        key(pk, sk)
    }
}

impl DynamoStore {
    /// The writes that owe a message once: its item, unless its sent marker (or one written
    /// before markers were keyed by a hash) says it went out already. One transaction's items,
    /// so that other writes can go with them.
    pub(super) fn enqueue_items(
        &self,
        message: &OutboxMessage,
        now: i64,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let (marker_pk, marker_sk) = self.sent_marker(&message.id);
        let item = self.queued_message(message, now)?;
        let not_sent = built(
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(marker_pk, marker_sk)))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        // Markers written before they were keyed by a hash (until 2027-01-06, when the last of
        // them has expired: then this check goes).
        let (legacy_pk, legacy_sk) = keys::outbox_sent(&message.id);
        let not_sent_before = built(
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(legacy_pk, legacy_sk)))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        let put = self.put_if_absent(item)?;
        Ok(vec![
            TransactWriteItem::builder().condition_check(not_sent).build(),
            TransactWriteItem::builder().condition_check(not_sent_before).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
    }

    /// A new profile's first mail, written in the transaction that creates the profile. Without
    /// the checks `enqueue_items` makes: nothing was queued or sent under an id that transaction
    /// makes (2 write units, where they cost 6).
    pub(super) fn first_mail_with_profile(
        &self,
        message: &OutboxMessage,
        now: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let item = self.queued_message(message, now)?;
        let put = built(Put::builder().table_name(&self.table).set_item(Some(item)).build())?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A message's item in its queue, due now.
    fn queued_message(
        &self,
        message: &OutboxMessage,
        now: i64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let (pk, sk) = keys::outbox(&message.id);
        let mut item = key(pk, sk);
        stamp(&mut item, "outbox");
        item.insert("status".into(), s("pending"));
        item.insert("next_attempt_at".into(), n(now));
        item.insert("attempts".into(), n(0));
        // Erasure finds a person's pending mail by it.
        item.insert("profile_id".into(), s(&message.profile_id));
        item.insert(
            "message".into(),
            s(serde_json::to_string(message).map_err(|e| StoreError::Unexpected(Box::new(e)))?),
        );
        item.insert(keys::TTL.into(), n(now + OUTBOX_SECONDS));
        Ok(item)
    }
}

impl OutboxStore for DynamoStore {
    async fn enqueue(&self, message: &OutboxMessage, now: i64) -> Result<Enqueued, StoreError> {
        if self.transact(self.enqueue_items(message, now)?).await? {
            Ok(Enqueued::New)
        } else {
            Ok(Enqueued::Known)
        }
    }

    async fn due(&self, now: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        // Messages queued in the outbox's one partition of old (before campaigns had their own
        // queue, and before transactional mail was sharded) move to where their id now says
        // first. Nothing is left there once the last of them has been sent or has expired (14
        // days after 2026-12-07): then this goes.
        self.move_unsharded(keys::OUTBOX_UNSHARDED, limit, keys::outbox).await;
        // The transactional queue first, then the campaign's with what room is left: however
        // long a campaign's backlog, a sign-in link is never behind it. The shards are read from
        // one that turns with the clock, so that a busy shard cannot keep the others waiting.
        let mut due = Vec::new();
        for queue in Queue::IN_ORDER {
            let mut partitions = keys::outbox_queue(queue);
            // The dispatcher runs each minute: the minute picks the first shard.
            let first = (now / 60).rem_euclid(partitions.len() as i64) as usize;
            partitions.rotate_left(first);
            for partition in partitions {
                if due.len() >= limit {
                    break;
                }
                let items = self.due_in(&partition, now, limit - due.len()).await?;
                due.extend(items.iter().filter_map(|item| text(item, keys::SK)));
            }
        }
        due.truncate(limit);
        Ok(due)
    }

    async fn claim(
        &self,
        id: &str,
        now: i64,
        lease: std::time::Duration,
    ) -> Result<Option<(OutboxMessage, u32)>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.outbox_item(id)))
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
        let attributes = output.attributes().cloned().unwrap_or_default();
        let attempts =
            attributes.get("attempts").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(1);
        let message = attributes
            .get("message")
            .and_then(|v| v.as_s().ok())
            .and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(|| StoreError::Unexpected("an outbox item without a readable message".into()))?;
        Ok(Some((message, attempts)))
    }

    async fn complete(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let (marker_pk, marker_sk) = self.sent_marker(id);
        let mut marker = key(marker_pk, marker_sk);
        stamp(&mut marker, "outbox_sent");
        marker.insert(keys::TTL.into(), n(now + SENT_MARKER_SECONDS));
        let delete =
            built(Delete::builder().table_name(&self.table).set_key(Some(self.outbox_item(id))).build())?;
        let put = built(Put::builder().table_name(&self.table).set_item(Some(marker)).build())?;
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await?;
        Ok(())
    }

    async fn retry_at(&self, id: &str, next_attempt_at: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.outbox_item(id)))
            .update_expression("SET #status = :pending, next_attempt_at = :next")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":next", n(next_attempt_at))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

/// `{"marketing"}`, for ending a withdrawal of marketing consent: only when the address gives it
/// again (a confirmation, or topics chosen through the mailed preference link), never a form.
fn marketing_set() -> AttributeValue {
    AttributeValue::Ss(vec!["marketing".to_owned()])
}

impl MarketingConsent for DynamoStore {
    async fn may_receive(&self, profile_id: &ProfileId, topic: &str) -> Result<bool, StoreError> {
        let Some((_, profile)) = self.profile(profile_id).await? else { return Ok(false) };
        let flag = |name: &str| profile.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
        let subscribed = profile
            .get("marketing_topics")
            .and_then(|v| v.as_ss().ok())
            .is_some_and(|t| t.iter().any(|t| t == topic));
        let withdrawn = profile
            .get("withdrawn_consents")
            .and_then(|v| v.as_ss().ok())
            .is_some_and(|purposes| purposes.iter().any(|p| p == "marketing"));
        if !subscribed
            || withdrawn
            || flag("unsubscribed_all")
            || profile.contains_key("suppressed")
            || profile.contains_key("restricted")
            || profile.contains_key("objected")
        {
            return Ok(false);
        }
        let email = profile
            .get("email")
            .and_then(|v| v.as_s().ok())
            .map_or(String::new(), |e| crate::domain::fields::address_key(e));
        let Some(entry) = self.get(keys::suppression(&self.email_pseudonym(&email))).await? else {
            return Ok(true);
        };
        let text = |item: &HashMap<String, AttributeValue>, name: &str| {
            item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
        };
        // An erased person who came back is mailed only for what they confirmed since; a bounce
        // or a complaint stops marketing to the address for good.
        Ok(text(&entry, "source") == "erasure" && text(&profile, "confirmed_at") > text(&entry, "at"))
    }
}

impl SubscriberStore for DynamoStore {
    /// A filtered scan of profiles: an operator's campaign reads the table once (about 0.5 RCU per
    /// 4 KB of profiles), which is cheaper than keeping a per-topic index written on every change.
    async fn subscribers(
        &self,
        topic: &str,
        start: Option<String>,
    ) -> Result<(Vec<Subscriber>, Option<String>), StoreError> {
        let start_key = start.as_deref().and_then(cursor_key);
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression(
                "sk = :profile AND contains(marketing_topics, :topic) AND (attribute_not_exists(unsubscribed_all) OR unsubscribed_all = :false) AND attribute_not_exists(suppressed) AND attribute_not_exists(restricted) AND attribute_not_exists(objected) AND NOT contains(withdrawn_consents, :marketing)",
            )
            .expression_attribute_values(":marketing", s("marketing"))
            .expression_attribute_values(":profile", s("PROFILE"))
            .expression_attribute_values(":topic", s(topic))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .set_exclusive_start_key(start_key)
            .send()
            .await
            .map_err(classify)?;
        let subscribers = output
            .items()
            .iter()
            .filter_map(|item| {
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
                Some(Subscriber {
                    profile_id: ProfileId::from_stored(text("profile_id")?),
                    email: text("email")?,
                })
            })
            .collect();
        Ok((subscribers, output.last_evaluated_key().and_then(cursor_of)))
    }
}

/// One entry of a person's mail preference history.
pub(super) fn mail_log_item(
    profile_id: &str,
    at: &crate::time::Timestamp,
    source: ChangeSource,
    change: String,
    token_id: &str,
) -> HashMap<String, AttributeValue> {
    let mut log = key(
        keys::profile_partition(profile_id),
        format!("MAILLOG#{}#{}", at.rfc3339(), &uuid::Uuid::new_v4().simple().to_string()[..8]),
    );
    stamp(&mut log, "mail_preference_change");
    log.insert("at".into(), s(at.rfc3339()));
    log.insert("source".into(), s(source.as_str()));
    log.insert("change".into(), s(change));
    log.insert("token_id".into(), s(token_id));
    log
}

impl SuppressionStore for DynamoStore {
    async fn suppress(&self, email: &str, source: ChangeSource, detail: &str) -> Result<bool, StoreError> {
        let pseudonym = self.email_pseudonym(&crate::domain::fields::address_key(email));
        let now = self.clock.timestamp();
        let (pk, sk) = keys::suppression(&pseudonym);
        let mut entry = key(pk, sk);
        stamp(&mut entry, "suppression");
        entry.insert("source".into(), s(source.as_str()));
        entry.insert("at".into(), s(now.rfc3339()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(entry))
            .send()
            .await
            .map_err(classify)?;
        let (pk, sk) = keys::profile_by_email(&pseudonym);
        let Some(profile) = self.get((pk.clone(), sk.clone())).await? else { return Ok(false) };
        let Some(profile_id) = profile.get("profile_id").and_then(|v| v.as_s().ok()).cloned() else {
            return Ok(false);
        };
        let update = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .update_expression("SET suppressed = :why")
                .expression_attribute_values(
                    ":why",
                    AttributeValue::M(HashMap::from([
                        ("source".to_owned(), s(source.as_str())),
                        ("detail".to_owned(), s(detail)),
                        ("at".to_owned(), s(now.rfc3339())),
                    ])),
                )
                .build(),
        )?;
        let log = mail_log_item(&profile_id, &now, source, format!("suppressed ({detail})"), "-");
        let put = built(Put::builder().table_name(&self.table).set_item(Some(log)).build())?;
        self.transact(vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await?;
        tracing::info!(profile_id = %profile_id, source = source.as_str(), "address suppressed");
        Ok(true)
    }
}

fn preferences_of(profile: &HashMap<String, AttributeValue>) -> MailPreferences {
    let set = |name: &str| {
        profile
            .get(name)
            .and_then(|v| v.as_ss().ok())
            .map(|v| v.iter().cloned().collect())
            .unwrap_or_default()
    };
    MailPreferences {
        email: profile.get("email").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default(),
        name: profile.get("full_name").and_then(|v| v.as_s().ok()).cloned(),
        topics: set("marketing_topics"),
        pending: set("pending_topics"),
        unsubscribed_all: profile
            .get("unsubscribed_all")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        withdrawn: profile
            .get("withdrawn_consents")
            .and_then(|v| v.as_ss().ok())
            .is_some_and(|purposes| purposes.iter().any(|p| p == "marketing")),
        suppressed: profile.contains_key("suppressed"),
        limited: profile.contains_key("restricted") || profile.contains_key("objected"),
    }
}

impl PreferenceStore for DynamoStore {
    async fn preferences(&self, profile_id: &ProfileId) -> Result<Option<MailPreferences>, StoreError> {
        Ok(self.profile(profile_id).await?.map(|(_, profile)| preferences_of(&profile)))
    }

    async fn change_preferences(
        &self,
        profile_id: &ProfileId,
        change: &PreferenceChange,
        source: ChangeSource,
        token_id: &str,
    ) -> Result<Option<MailPreferences>, StoreError> {
        let Some(((pk, sk), profile)) = self.profile(profile_id).await? else { return Ok(None) };
        let current = preferences_of(&profile);
        let now = self.clock.timestamp();
        let ss = |set: &std::collections::BTreeSet<String>| AttributeValue::Ss(set.iter().cloned().collect());
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), sk.clone())))
            .expression_attribute_values(":now", s(now.rfc3339()));
        let listed = |topics: &std::collections::BTreeSet<String>| {
            topics.iter().cloned().collect::<Vec<_>>().join(",")
        };
        let mut click = None;
        // This person's profile still (not recreated as a stub after an erasure, nor another
        // person's), and a confirmation's topics still pending: a change races nothing.
        let mut condition = "profile_id = :pid".to_owned();
        let (update, description) = match change {
            PreferenceChange::Confirm { topics, click: evidence } => {
                let confirmable: std::collections::BTreeSet<String> =
                    current.pending.intersection(topics).cloned().collect();
                if confirmable.is_empty() {
                    return Ok(Some(current));
                }
                click = Some(evidence);
                let mut update = update;
                for (index, topic) in confirmable.iter().enumerate() {
                    condition.push_str(&format!(" AND contains(pending_topics, :pending{index})"));
                    update = update.expression_attribute_values(format!(":pending{index}"), s(topic));
                }
                (
                    update
                        // Confirmed from the address: consent given again, so a withdrawal of it ends.
                        .update_expression("ADD marketing_topics :confirmed DELETE pending_topics :confirmed, withdrawn_consents :marketing SET confirmed_at = :now, unsubscribed_all = :false")
                        .expression_attribute_values(":confirmed", ss(&confirmable))
                        .expression_attribute_values(":marketing", marketing_set())
                        .expression_attribute_values(":false", AttributeValue::Bool(false)),
                    format!("confirmed {}", listed(&confirmable)),
                )
            }
            PreferenceChange::Unsubscribe { topic: Some(topic) } => (
                update
                    .update_expression("DELETE marketing_topics :topic SET preferences_changed_at = :now")
                    .expression_attribute_values(":topic", AttributeValue::Ss(vec![topic.clone()])),
                format!("unsubscribed {topic}"),
            ),
            PreferenceChange::Unsubscribe { topic: None } => (
                update
                    .update_expression("SET unsubscribed_all = :true, preferences_changed_at = :now")
                    .expression_attribute_values(":true", AttributeValue::Bool(true)),
                "unsubscribed from all".to_owned(),
            ),
            PreferenceChange::Choose { keep, pending } => {
                // Only what is already confirmed can be kept: a choice never confirms anything.
                let keep: std::collections::BTreeSet<String> =
                    current.topics.intersection(keep).cloned().collect();
                let mut sets = vec!["preferences_changed_at = :now"];
                let mut removes = Vec::new();
                let mut update = update;
                if keep.is_empty() {
                    removes.push("marketing_topics");
                } else {
                    sets.push("marketing_topics = :keep");
                    update = update.expression_attribute_values(":keep", ss(&keep));
                }
                if pending.is_empty() {
                    removes.push("pending_topics");
                } else {
                    sets.push("pending_topics = :pending");
                    update = update.expression_attribute_values(":pending", ss(pending));
                }
                let mut expression = format!("SET {}", sets.join(", "));
                if !removes.is_empty() {
                    expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
                }
                (
                    update.update_expression(expression),
                    format!("topics [{}], asked to confirm [{}]", listed(&keep), listed(pending)),
                )
            }
        };
        let mut log = mail_log_item(profile_id, &now, source, description, token_id);
        if let Some(click) = click {
            // The confirmation's evidence, as a form's: who clicked, from where, with what.
            log.insert("source_ip".into(), s(&click.source_ip));
            log.insert("policy_version".into(), s(&click.policy_version));
            if let Some(user_agent) = &click.user_agent {
                log.insert("user_agent".into(), s(user_agent));
            }
        }
        let put = built(Put::builder().table_name(&self.table).set_item(Some(log)).build())?;
        let items = vec![
            TransactWriteItem::builder()
                .update(built(
                    update
                        .condition_expression(condition)
                        .expression_attribute_values(":pid", s(profile_id))
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        self.transact(items).await?;
        tracing::info!(profile_id = %profile_id, source = source.as_str(), token_id, "mail preferences changed");
        Ok(self.get((pk, sk)).await?.as_ref().map(preferences_of))
    }
}
