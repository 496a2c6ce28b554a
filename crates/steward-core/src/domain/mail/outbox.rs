//! The outbox: mail a change owes is stored with the change, and sent by the dispatcher once SES
//! accepts it. Nothing is lost while SES is down or throttling; each message goes out once.
//!
//! Ids are deterministic (`confirm-<submission>`, `campaign-<campaign>-<profile>`), and a sent
//! message leaves a marker behind, so enqueuing the same message again (a retried request, a
//! resumed campaign) sends nothing twice.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Mail, MailKind, Templates, Unsubscribe};
use crate::config::MailLinks;
use crate::domain::ids::ProfileId;
use crate::domain::ports::{Clock, StoreError};
use crate::i18n::Lang;

/// The start of every campaign message's id (`campaign-<campaign>-<profile>`).
pub const CAMPAIGN_ID_PREFIX: &str = "campaign-";

/// Which queue a message waits in. Transactional mail (sign-in links, confirmations, exports)
/// never shares a queue position with a campaign: the dispatcher empties the transactional queue
/// first, so a 100,000-person campaign delays no sign-in link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Transactional,
    Campaign,
}

impl Queue {
    /// Both queues, in the order the dispatcher takes from them.
    pub const IN_ORDER: [Queue; 2] = [Queue::Transactional, Queue::Campaign];

    /// The queue of the message with this id.
    pub fn of(id: &str) -> Self {
        if id.starts_with(CAMPAIGN_ID_PREFIX) {
            Queue::Campaign
        } else {
            Queue::Transactional
        }
    }
}

/// A message waiting to be sent: what to render, for whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: String,
    pub kind: MailKind,
    pub to: String,
    pub profile_id: ProfileId,
    pub subject: String,
    pub template: String,
    /// The language it is written in: the one the person used when it was asked for (messages
    /// queued before languages existed are English).
    #[serde(default)]
    pub lang: Lang,
    pub values: serde_json::Value,
    /// Marketing only: the topic the person must still be subscribed to when it is sent.
    pub topic: Option<String>,
    /// Marketing only: the RFC 8058 one-click URL (the mailbox beside it is the deployment's).
    pub unsubscribe_url: Option<String>,
}

impl OutboxMessage {
    /// A transactional message (a link the person asked for, a confirmation): sent whatever their
    /// marketing choices. Its template gets the organisation besides `values` (and, when it is
    /// sent, the deployment's policy link).
    pub fn transactional(
        links: &MailLinks,
        id: String,
        to: &str,
        profile_id: &ProfileId,
        subject: String,
        template: &str,
        mut values: serde_json::Value,
    ) -> Self {
        if let Some(values) = values.as_object_mut() {
            values.insert("organisation".into(), links.organisation.clone().into());
        }
        Self {
            id,
            kind: MailKind::Transactional,
            to: to.to_owned(),
            profile_id: profile_id.to_owned(),
            subject,
            template: template.to_owned(),
            lang: Lang::current(),
            values,
            topic: None,
            unsubscribe_url: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    New,
    /// Queued or sent before: nothing new.
    Known,
}

pub trait OutboxStore {
    fn enqueue(
        &self,
        message: &OutboxMessage,
        now: i64,
    ) -> impl Future<Output = Result<Enqueued, StoreError>> + Send;
    /// Ids of messages due now, oldest first.
    fn due(&self, now: i64, limit: usize) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Takes a message for `lease`; `None` when another dispatcher has it or it is gone.
    fn claim(
        &self,
        id: &str,
        now: i64,
        lease: Duration,
    ) -> impl Future<Output = Result<Option<(OutboxMessage, u32)>, StoreError>> + Send;
    /// Sent (or skipped): removes it and remembers that it went.
    fn complete(&self, id: &str, now: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn retry_at(&self, id: &str, next_attempt_at: i64)
        -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Whether a person may receive marketing mail on a topic right now.
pub trait MarketingConsent {
    fn may_receive(
        &self,
        profile_id: &ProfileId,
        topic: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the mail service is unavailable: {0}")]
    Unavailable(String),
    #[error("the mail service refused the message: {0}")]
    Rejected(String),
}

pub trait MailSender {
    fn send(&self, from: &str, to: &str, raw: Vec<u8>) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// Who mail comes from, and what every mail of the deployment carries whoever queued it (a
/// function, or an operator's campaign): the template's settings, never a default.
#[derive(Debug, Clone)]
pub struct Sender {
    pub name: String,
    pub address: String,
    /// The privacy policy every footer links to.
    pub policy_url: String,
    /// The company site, for the links a mail sends people to (contact, help).
    pub site_url: String,
    /// A mailbox that really acts on unsubscribe requests, offered beside the one-click URL; none
    /// unless the deployment has one (RFC 8058 needs only the URL).
    pub unsubscribe_mailto: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    pub sent: u32,
    pub skipped: u32,
    pub deferred: u32,
}

/// Attempts before a message is given up (about a day of backoff); then it is logged and removed.
pub const MAX_ATTEMPTS: u32 = 12;

/// Sends what is due, at most `per_second` messages a second.
/// How the dispatcher paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Messages a run takes at most.
    pub batch: usize,
    /// Messages sent per second at most.
    pub per_second: u32,
    /// The first retry's delay; each later one doubles it, up to two hours.
    pub retry_base_seconds: i64,
}

pub async fn dispatch<S, M>(
    store: &S,
    sender: &M,
    templates: &Templates,
    from: &Sender,
    clock: &dyn Clock,
    pace: Pace,
) -> Result<DispatchReport, StoreError>
where
    S: OutboxStore + MarketingConsent,
    M: MailSender,
{
    let mut report = DispatchReport::default();
    let gap = Duration::from_secs_f64(1.0 / f64::from(pace.per_second.max(1)));
    for id in store.due(clock.now(), pace.batch).await? {
        let Some((message, attempts)) = store.claim(&id, clock.now(), Duration::from_secs(120)).await? else {
            continue;
        };
        if message.kind == MailKind::Marketing {
            let topic = message.topic.as_deref().unwrap_or_default();
            if !store.may_receive(&message.profile_id, topic).await? {
                store.complete(&id, clock.now()).await?;
                report.skipped += 1;
                tracing::info!(message_id = id.as_str(), "marketing mail skipped: no longer wanted");
                continue;
            }
        }
        let raw = match render(templates, &message, from, clock.now()) {
            Ok(raw) => raw,
            Err(err) => {
                tracing::error!(message_id = id.as_str(), error = %err, "mail could not be rendered; dropped");
                store.complete(&id, clock.now()).await?;
                continue;
            }
        };
        match sender.send(&from.address, &message.to, raw).await {
            Ok(()) => {
                store.complete(&id, clock.now()).await?;
                report.sent += 1;
                tracing::info!(message_id = id.as_str(), kind = ?message.kind, "mail sent");
            }
            Err(err) if attempts >= MAX_ATTEMPTS => {
                tracing::error!(message_id = id.as_str(), error = %err, attempts, "mail given up");
                store.complete(&id, clock.now()).await?;
            }
            Err(err) => {
                // base, 2 × base, 4 × base, ... capped at 2 h.
                let backoff =
                    pace.retry_base_seconds.saturating_mul(1 << attempts.saturating_sub(1).min(8)).min(7200);
                store.retry_at(&id, clock.now() + backoff).await?;
                report.deferred += 1;
                tracing::warn!(message_id = id.as_str(), error = %err, attempts, "mail deferred");
            }
        }
        tokio::time::sleep(gap).await;
    }
    Ok(report)
}

fn render(
    templates: &Templates,
    message: &OutboxMessage,
    from: &Sender,
    sent_at: i64,
) -> Result<Vec<u8>, super::MailError> {
    let template = super::built_in_template(&message.template)
        .ok_or_else(|| super::MailError::Template("unknown", message.template.clone()))?;
    let mut values = message.values.clone();
    if let Some(values) = values.as_object_mut() {
        // The site's pages in the mail's language (the site has each under `/<language>/`).
        let site_here = message.lang.site_in(&from.site_url);
        values
            .insert("policy_url".into(), message.lang.site_page_in(&from.policy_url, &from.site_url).into());
        values.insert("help_url".into(), format!("{site_here}/contact").into());
        values.insert("site_url".into(), site_here.into());
        // Messages owed by functions that do not know the deployment's name (a CV's verdict).
        values.entry("organisation").or_insert_with(|| from.name.clone().into());
    }
    let (text, html) = templates.render(message.lang, template, &values)?;
    let unsubscribe = message
        .unsubscribe_url
        .as_ref()
        .map(|url| Unsubscribe { url: url.clone(), mailto: from.unsubscribe_mailto.clone() });
    let mail = Mail {
        kind: message.kind,
        to: message.to.clone(),
        subject: message.subject.clone(),
        text,
        html,
        unsubscribe,
    };
    let domain = from.address.rsplit('@').next().unwrap_or("localhost");
    mail.to_mime(&from.name, &from.address, &format!("{}@{domain}", message.id), sent_at)
}
