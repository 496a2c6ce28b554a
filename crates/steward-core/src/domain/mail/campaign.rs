//! Marketing campaigns: a topic's message, owed to each confirmed subscriber through the outbox.
//! Enqueuing is idempotent per campaign and person, so a campaign that stops halfway is resumed
//! by running it again, and nobody gets it twice. The dispatcher sends at the configured rate and
//! checks, at sending time, that the person still wants the topic.

use std::future::Future;
use std::ops::ControlFlow;

use crate::config::MailLinks;
use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::{Enqueued, OutboxMessage, OutboxStore, CAMPAIGN_ID_PREFIX};
use crate::domain::mail::preferences::preference_token;
use crate::domain::mail::MailKind;
use crate::domain::ports::StoreError;
use crate::token::{Purpose, TokenKeys};

#[derive(Debug, Clone)]
pub struct Campaign {
    /// Stable across runs: it is what makes a resumed run send nothing twice.
    pub id: String,
    pub topic: String,
    pub topic_label: String,
    pub subject: String,
    pub body: String,
}

/// Someone subscribed (and confirmed) to a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub profile_id: ProfileId,
    pub email: String,
}

pub trait SubscriberStore {
    /// One page of confirmed, unsuppressed subscribers of a topic, and where the next page starts.
    fn subscribers(
        &self,
        topic: &str,
        start: Option<String>,
    ) -> impl Future<Output = Result<(Vec<Subscriber>, Option<String>), StoreError>> + Send;
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CampaignProgress {
    pub queued: u64,
    pub already_queued: u64,
}

/// Queues the campaign for every subscriber. `progress` is told after each message and page, and stops the
/// run by answering `Break`; running it again resumes, since a message already queued or sent is
/// not queued again (`Enqueued::Known`).
pub async fn queue_campaign<S>(
    store: &S,
    keys: &TokenKeys,
    links: &MailLinks,
    campaign: &Campaign,
    now: i64,
    mut progress: impl FnMut(CampaignProgress) -> ControlFlow<()>,
) -> Result<(CampaignProgress, Finished), StoreError>
where
    S: SubscriberStore + OutboxStore,
{
    let mut done = CampaignProgress::default();
    let mut start = None;
    loop {
        let (page, next) = store.subscribers(&campaign.topic, start).await?;
        let on_page = page.len();
        for (index, subscriber) in page.into_iter().enumerate() {
            let message = campaign_mail(keys, links, campaign, &subscriber, now);
            match store.enqueue(&message, now).await? {
                Enqueued::New => done.queued += 1,
                Enqueued::Known => done.already_queued += 1,
            }
            // A stop after the very last subscriber stops nothing: the run is complete.
            let nobody_left = next.is_none() && index + 1 == on_page;
            if progress(done).is_break() && !nobody_left {
                return Ok((done, Finished::Stopped));
            }
        }
        // Also after each page: pages of a large table may hold nobody of the topic.
        if next.is_some() && progress(done).is_break() {
            return Ok((done, Finished::Stopped));
        }
        match next {
            Some(next) => start = Some(next),
            None => return Ok((done, Finished::Completed)),
        }
    }
}

/// How a long run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Completed,
    /// Its progress callback stopped it; running it again carries on.
    Stopped,
}

fn campaign_mail(
    keys: &TokenKeys,
    links: &MailLinks,
    campaign: &Campaign,
    subscriber: &Subscriber,
    now: i64,
) -> OutboxMessage {
    // Unsubscribe links never expire: a message read a year later still works.
    let unsubscribe = keys.sign(Purpose::Unsubscribe, &campaign.topic, &subscriber.profile_id, None);
    let now = crate::time::Timestamp::from_epoch_seconds(now);
    let preferences = preference_token(keys, &subscriber.profile_id, now);
    // In the campaign's language, as every page they open is.
    let lang = crate::i18n::Lang::current();
    let unsubscribe_url =
        lang.carried_by(format!("{}/unsubscribe?token={unsubscribe}", links.public_api_url));
    let paragraphs: Vec<&str> =
        campaign.body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
    OutboxMessage {
        id: format!("{CAMPAIGN_ID_PREFIX}{}-{}", campaign.id, subscriber.profile_id),
        kind: MailKind::Marketing,
        to: subscriber.email.clone(),
        profile_id: subscriber.profile_id.clone(),
        subject: campaign.subject.clone(),
        template: "campaign".to_owned(),
        lang,
        values: serde_json::json!({
            "subject": campaign.subject,
            "body_text": campaign.body,
            "paragraphs": paragraphs,
            "topic_label": campaign.topic_label,
            "organisation": links.organisation,
            "unsubscribe_url": unsubscribe_url,
            "preferences_url": lang.carried_by(format!("{}/preferences?token={preferences}", links.public_api_url)),
        }),
        topic: Some(campaign.topic.clone()),
        unsubscribe_url: Some(unsubscribe_url),
    }
}
