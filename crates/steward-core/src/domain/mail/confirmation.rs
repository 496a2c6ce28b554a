//! The double opt-in mail: it names the exact topics it asks about, and its link confirms those
//! and no others, whatever was ticked in the person's name after it was sent.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Config;
use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::OutboxMessage;
use crate::domain::mail::recipients::{may_mail, MailPurpose};
use crate::domain::mail::MailKind;
use crate::domain::ports::{RateLimiter, StoreError};
use crate::time::Timestamp;
use crate::token::Purpose;

/// How long a confirmation link works.
pub const CONFIRMATION_DAYS: u32 = 7;

/// Confirmation mails one address may be sent in a day, however many forms or preference saves
/// ask for them: anyone can type an address, and the organisation's mail must not become a way
/// to flood it (`recipients::MailPurpose::Confirmation`).
pub const CONFIRMATIONS_PER_DAY: u32 = MailPurpose::Confirmation.per_day();

/// Counts a confirmation mail against its address's day; `false` once the day's are used up
/// (the topics stay pending, and a later day's form or save asks again). A form's count once a
/// day; topics chosen through the preference link mailed to the address, a few.
pub async fn may_send_confirmation<S: RateLimiter>(
    store: &S,
    config: &Config,
    message: &OutboxMessage,
    purpose: MailPurpose,
    now: Timestamp,
) -> Result<bool, StoreError> {
    may_mail(store, &config.hash_key, purpose, &message.to, &message.id, now.epoch_seconds()).await
}

/// The token subject of a confirmation link: the topics it confirms, sorted (topic ids are
/// catalogue ids, which never hold a comma).
pub fn subject_for(topics: &BTreeSet<String>) -> String {
    format!("topics:{}", topics.iter().cloned().collect::<Vec<_>>().join(","))
}

/// The topics a confirmation link's subject names; `None` for a subject that names none (a
/// link from before links named their topics confirms nothing).
pub fn topics_of(subject: &str) -> Option<BTreeSet<String>> {
    let listed = subject.strip_prefix("topics:")?;
    let topics: BTreeSet<String> = listed.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect();
    (!topics.is_empty()).then_some(topics)
}

/// The confirmation mail for `topics`, to the profile's own address.
pub fn confirmation_mail(
    config: &Config,
    labels: &BTreeMap<String, String>,
    to: &str,
    profile: &ProfileId,
    topics: &BTreeSet<String>,
    now: Timestamp,
) -> OutboxMessage {
    let expires = now.plus_days(CONFIRMATION_DAYS).epoch_seconds();
    let token =
        config.token_keys.sign(Purpose::ConfirmSubscription, &subject_for(topics), profile, Some(expires));
    let links = &config.links;
    let named: Vec<String> = topics
        .iter()
        .map(|t| crate::domain::forms::catalogue::topic_words(labels, t).unwrap_or_else(|| t.clone()))
        .collect();
    // One confirmation per person, day and set of topics, however many forms ask for the same:
    // a retried submission owes it once; other topics owe their own.
    let which = crate::domain::ids::short_digest(&subject_for(topics));
    OutboxMessage {
        id: format!("confirm-{}-{}-{which}", profile.as_str(), now.epoch_seconds() / 86_400),
        kind: MailKind::Transactional,
        to: to.to_owned(),
        profile_id: profile.clone(),
        subject: crate::t!("subject-confirm-subscription", organisation = links.organisation.as_str()),
        template: "confirm_subscription".to_owned(),
        lang: crate::i18n::Lang::current(),
        // Nothing the visitor typed but the address itself: the address is not proven yet, and a
        // name would let anyone put their own words in the organisation's mail to anyone.
        values: serde_json::json!({
            "organisation": links.organisation,
            "topics": named,
            "confirm_url": crate::i18n::Lang::current()
                .carried_by(format!("{}/subscriptions/confirm?token={token}", links.public_api_url)),
        }),
        topic: None,
        unsubscribe_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_names_exactly_its_topics() {
        let topics = BTreeSet::from(["events".to_owned(), "cloud".to_owned()]);
        assert_eq!(subject_for(&topics), "topics:cloud,events");
        assert_eq!(topics_of(&subject_for(&topics)), Some(topics));
        assert_eq!(topics_of("topics"), None, "an old link names no topics");
        assert_eq!(topics_of("topics:"), None);
    }
}
