//! Mail: the outbox, marketing consent, campaign subscribers, suppression and preferences.

use super::*;
use crate::domain::mail::campaign::{Subscriber, SubscriberStore};
use crate::domain::mail::outbox::{Enqueued, MarketingConsent, OutboxMessage, OutboxStore, Queue};
use crate::domain::mail::preferences::{
    ChangeSource, MailPreferences, PreferenceChange, PreferenceStore, SuppressionStore,
};

/// How long a sent message's marker keeps a re-enqueued copy from going out again.
const SENT_MARKER_SECONDS: i64 = 30 * 24 * 3600;
/// How long an unsent message may wait before it is dropped by TTL.
const OUTBOX_SECONDS: i64 = 14 * 24 * 3600;

fn outbox_key(id: &str) -> ItemKey {
    keys::outbox(id)
}

/// Whether the dispatcher may take a message now: due, or its sender's lease has run out.
fn claimable(message: &Item, now: i64) -> bool {
    match text(message, "status").as_deref() {
        Some("pending") => number(message, "next_attempt_at").is_some_and(|at| at <= now),
        Some("sending") => number(message, "lease_until").is_some_and(|until| until < now),
        _ => false,
    }
}

/// A message's outbox item, due now.
pub(super) fn outbox_item(message: &OutboxMessage, now: i64) -> Result<Item, StoreError> {
    let serialized = serde_json::to_string(message).map_err(|e| StoreError::Unexpected(Box::new(e)))?;
    let mut item = stamped("outbox");
    item.insert("status".into(), "pending".into());
    item.insert("next_attempt_at".into(), now.into());
    item.insert("attempts".into(), 0.into());
    // Erasure finds a person's pending mail by it.
    item.insert("profile_id".into(), message.profile_id.clone().into());
    item.insert("message".into(), serialized.into());
    item.insert(keys::TTL.into(), (now + OUTBOX_SECONDS).into());
    Ok(item)
}

impl OutboxStore for MemoryStore {
    async fn enqueue(&self, message: &OutboxMessage, now: i64) -> Result<Enqueued, StoreError> {
        let item = outbox_item(message, now)?;
        let marker = self.sent_marker(&message.id);
        self.run("enqueue", |table| {
            let key = outbox_key(&message.id);
            if table.contains_key(&marker) || table.contains_key(&key) {
                return Ok(Enqueued::Known);
            }
            table.insert(key, item);
            Ok(Enqueued::New)
        })
    }

    async fn due(&self, now: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let queues: Vec<String> = Queue::IN_ORDER.into_iter().flat_map(keys::outbox_queue).collect();
        self.run("due", |table| {
            // The transactional queue's shards first, then the campaign's (as the DynamoDB store
            // does).
            let mut due: Vec<String> = partitions(table, &queues)
                .filter(|(_, message)| claimable(message, now))
                .map(|((_, id), _)| id.clone())
                .take(limit)
                .collect();
            due.sort_by_key(|id| Queue::of(id) == Queue::Campaign);
            Ok(due)
        })
    }

    async fn claim(
        &self,
        id: &str,
        now: i64,
        lease: std::time::Duration,
    ) -> Result<Option<(OutboxMessage, u32)>, StoreError> {
        self.run("claim", |table| {
            let Some(item) = table.get_mut(&outbox_key(id)).filter(|item| claimable(item, now)) else {
                return Ok(None);
            };
            let attempts = number(item, "attempts").unwrap_or(0) + 1;
            item.insert("status".into(), "sending".into());
            item.insert("lease_until".into(), (now + lease.as_secs() as i64).into());
            item.insert("attempts".into(), attempts.into());
            let message = text(item, "message")
                .and_then(|text| serde_json::from_str(&text).ok())
                .ok_or_else(|| StoreError::Unexpected("an outbox item without a readable message".into()))?;
            Ok(Some((message, u32::try_from(attempts).unwrap_or(u32::MAX))))
        })
    }

    async fn complete(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let sent_marker = self.sent_marker(id);
        self.run("complete", |table| {
            table.remove(&outbox_key(id));
            let mut marker = stamped("outbox_sent");
            marker.insert(keys::TTL.into(), (now + SENT_MARKER_SECONDS).into());
            table.insert(sent_marker, marker);
            Ok(())
        })
    }

    async fn retry_at(&self, id: &str, next_attempt_at: i64) -> Result<(), StoreError> {
        self.run("retry_at", |table| {
            // DynamoDB refuses the conditional update of a message that is gone, and the store
            // reports that refusal as a failure, not as "nothing to do".
            let item = table
                .get_mut(&outbox_key(id))
                .ok_or_else(|| StoreError::Unexpected("the outbox message to retry is gone".into()))?;
            item.insert("status".into(), "pending".into());
            item.insert("next_attempt_at".into(), next_attempt_at.into());
            Ok(())
        })
    }
}

/// Whether a profile stops all marketing: unsubscribed from everything, suppressed, restricted
/// or objecting.
fn blocks_marketing(profile: &Item) -> bool {
    flag(profile, "unsubscribed_all")
        || strings(profile, "withdrawn_consents").contains("marketing")
        || ["suppressed", "restricted", "objected"].iter().any(|name| profile.contains_key(*name))
}

/// Consent given again from the address (a confirmation) ends a withdrawal of marketing; a form
/// or a preference-center choice never does.
fn lift_marketing_withdrawal(profile: &mut Item) {
    let mut withdrawn = strings(profile, "withdrawn_consents");
    withdrawn.remove("marketing");
    set_strings(profile, "withdrawn_consents", withdrawn);
}

impl MarketingConsent for MemoryStore {
    async fn may_receive(&self, profile_id: &ProfileId, topic: &str) -> Result<bool, StoreError> {
        self.run("may_receive", |table| {
            let Some(profile) = profile_key(table, profile_id).and_then(|key| table.get(&key)) else {
                return Ok(false);
            };
            if !strings(profile, "marketing_topics").contains(topic) || blocks_marketing(profile) {
                return Ok(false);
            }
            let email = crate::domain::fields::address_key(&text(profile, "email").unwrap_or_default());
            let Some(entry) = table.get(&keys::suppression(&self.email_pseudonym(&email))) else {
                return Ok(true);
            };
            // An erased person who came back is mailed only for what they confirmed since; a
            // bounce or a complaint stops marketing to the address for good.
            let text_of = |item: &Item, name: &str| text(item, name).unwrap_or_default();
            Ok(text_of(entry, "source") == "erasure"
                && text_of(profile, "confirmed_at") > text_of(entry, "at"))
        })
    }
}

impl SubscriberStore for MemoryStore {
    async fn subscribers(
        &self,
        topic: &str,
        start: Option<String>,
    ) -> Result<(Vec<Subscriber>, Option<String>), StoreError> {
        self.run("subscribers", |table| {
            let (page, next) = scan_page(table, start.as_deref(), self.page_size);
            let subscribers = page
                .into_iter()
                .filter(|((_, sk), profile)| {
                    sk == "PROFILE"
                        && strings(profile, "marketing_topics").contains(topic)
                        && !blocks_marketing(profile)
                })
                .filter_map(|(_, profile)| {
                    Some(Subscriber {
                        profile_id: ProfileId::from_stored(text(profile, "profile_id")?),
                        email: text(profile, "email")?,
                    })
                })
                .collect();
            Ok((subscribers, next))
        })
    }
}

/// One entry of a person's mail preference history, with its keys.
pub(super) fn mail_log_item(
    profile_id: &str,
    at: &Timestamp,
    source: ChangeSource,
    change: String,
    token_id: &str,
) -> (ItemKey, Item) {
    let key = (keys::profile_partition(profile_id), format!("MAILLOG#{}#{}", at.rfc3339(), random_suffix(8)));
    let mut log = stamped("mail_preference_change");
    log.insert("at".into(), at.rfc3339().into());
    log.insert("source".into(), source.as_str().into());
    log.insert("change".into(), change.into());
    log.insert("token_id".into(), token_id.into());
    (key, log)
}

impl SuppressionStore for MemoryStore {
    async fn suppress(&self, email: &str, source: ChangeSource, detail: &str) -> Result<bool, StoreError> {
        let pseudonym = self.email_pseudonym(&crate::domain::fields::address_key(email));
        let now = self.now();
        self.run("suppress", |table| {
            let mut entry = stamped("suppression");
            entry.insert("source".into(), source.as_str().into());
            entry.insert("at".into(), now.rfc3339().into());
            table.insert(keys::suppression(&pseudonym), entry);
            let Some(profile) = table.get_mut(&keys::profile_by_email(&pseudonym)) else { return Ok(false) };
            let Some(profile_id) = text(profile, "profile_id") else { return Ok(false) };
            profile.insert(
                "suppressed".into(),
                serde_json::json!({"source": source.as_str(), "detail": detail, "at": now.rfc3339()}),
            );
            let (key, log) = mail_log_item(&profile_id, &now, source, format!("suppressed ({detail})"), "-");
            table.insert(key, log);
            tracing::info!(profile_id = %profile_id, source = source.as_str(), "address suppressed");
            Ok(true)
        })
    }
}

fn preferences_of(profile: &Item) -> MailPreferences {
    MailPreferences {
        email: text(profile, "email").unwrap_or_default(),
        name: text(profile, "full_name"),
        topics: strings(profile, "marketing_topics"),
        pending: strings(profile, "pending_topics"),
        unsubscribed_all: flag(profile, "unsubscribed_all"),
        withdrawn: strings(profile, "withdrawn_consents").contains("marketing"),
        suppressed: profile.contains_key("suppressed"),
        limited: profile.contains_key("restricted") || profile.contains_key("objected"),
    }
}

impl PreferenceStore for MemoryStore {
    async fn preferences(&self, profile_id: &ProfileId) -> Result<Option<MailPreferences>, StoreError> {
        self.run("preferences", |table| {
            Ok(profile_key(table, profile_id).and_then(|key| table.get(&key)).map(preferences_of))
        })
    }

    async fn change_preferences(
        &self,
        profile_id: &ProfileId,
        change: &PreferenceChange,
        source: ChangeSource,
        token_id: &str,
    ) -> Result<Option<MailPreferences>, StoreError> {
        let now = self.now();
        self.run("change_preferences", |table| {
            let Some(key) = profile_key(table, profile_id) else { return Ok(None) };
            let Some(profile) = table.get_mut(&key) else { return Ok(None) };
            let current = preferences_of(profile);
            let listed = |topics: &BTreeSet<String>| topics.iter().cloned().collect::<Vec<_>>().join(",");
            let mut click = None;
            let description = match change {
                PreferenceChange::Confirm { topics, click: evidence } => {
                    let confirmable: BTreeSet<String> = current.pending.intersection(topics).cloned().collect();
                    if confirmable.is_empty() {
                        return Ok(Some(current));
                    }
                    click = Some(evidence);
                    let mut confirmed = current.topics.clone();
                    confirmed.extend(confirmable.iter().cloned());
                    set_strings(profile, "marketing_topics", confirmed);
                    set_strings(profile, "pending_topics", current.pending.difference(&confirmable).cloned().collect());
                    profile.insert("confirmed_at".into(), now.rfc3339().into());
                    profile.insert("unsubscribed_all".into(), false.into());
                    lift_marketing_withdrawal(profile);
                    format!("confirmed {}", listed(&confirmable))
                }
                PreferenceChange::Unsubscribe { topic: Some(topic) } => {
                    let mut topics = current.topics.clone();
                    topics.remove(topic);
                    set_strings(profile, "marketing_topics", topics);
                    profile.insert("preferences_changed_at".into(), now.rfc3339().into());
                    format!("unsubscribed {topic}")
                }
                PreferenceChange::Unsubscribe { topic: None } => {
                    profile.insert("unsubscribed_all".into(), true.into());
                    profile.insert("preferences_changed_at".into(), now.rfc3339().into());
                    "unsubscribed from all".to_owned()
                }
                PreferenceChange::Choose { keep, pending } => {
                    // Only what is already confirmed can be kept: a choice never confirms anything.
                    let keep: BTreeSet<String> = current.topics.intersection(keep).cloned().collect();
                    set_strings(profile, "marketing_topics", keep.clone());
                    set_strings(profile, "pending_topics", pending.clone());
                    profile.insert("preferences_changed_at".into(), now.rfc3339().into());
                    format!("topics [{}], asked to confirm [{}]", listed(&keep), listed(pending))
                }
            };
            let changed = preferences_of(profile);
            let (log_key, mut log) = mail_log_item(profile_id, &now, source, description, token_id);
            if let Some(click) = click {
                log.insert("source_ip".into(), click.source_ip.clone().into());
                log.insert("policy_version".into(), click.policy_version.clone().into());
                if let Some(user_agent) = &click.user_agent {
                    log.insert("user_agent".into(), user_agent.clone().into());
                }
            }
            table.insert(log_key, log);
            tracing::info!(profile_id = %profile_id, source = source.as_str(), token_id, "mail preferences changed");
            Ok(Some(changed))
        })
    }
}
