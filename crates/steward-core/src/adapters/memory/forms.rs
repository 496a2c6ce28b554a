//! Forms: submissions and the profile each lands on, and the per-person rate limits.

use serde_json::{json, Value};

use super::*;
use crate::adapters::dynamodb::forms::{profile_values, PROVENANCE};
use crate::adapters::dynamodb::RETAIN_UNTIL_PREFIX;
use crate::domain::forms::submit::{Inserted, NewSubmission, Owed, SubmissionStore, UpsertedProfile};
use crate::domain::ids::ProfileId;
use crate::domain::ports::FixedWindow;
use crate::domain::ports::RateLimiter;

/// Profile attributes that stop any mail a form could trigger: bounced or complained, restricted,
/// objecting.
const MAIL_BLOCKING_FLAGS: [&str; 3] = ["suppressed", "restricted", "objected"];

/// What a submission needs to know of the profile it landed on (`None`: the one it created).
fn upserted(id: ProfileId, profile: Option<&Item>, submission: &NewSubmission) -> UpsertedProfile {
    // Unsubscribed from everything or withdrawn: no topic is received, so every ticked one asks.
    let receiving = profile.is_none_or(|p| {
        !flag(p, "unsubscribed_all") && !strings(p, "withdrawn_consents").contains("marketing")
    });
    UpsertedProfile {
        email: profile
            .and_then(|p| text(p, "email"))
            .unwrap_or_else(|| submission.data.email.as_str().to_owned()),
        confirmed_topics: profile
            .filter(|_| receiving)
            .map(|p| strings(p, "marketing_topics"))
            .unwrap_or_default(),
        suppressed: profile.is_some_and(|p| MAIL_BLOCKING_FLAGS.iter().any(|flag| p.contains_key(*flag))),
        restricted: profile.is_some_and(|p| p.contains_key("restricted")),
        objected: profile.is_some_and(|p| p.contains_key("objected")),
        created: profile.is_none(),
        id,
    }
}

impl RateLimiter for MemoryStore {
    async fn hit_once(
        &self,
        scope: &'static str,
        subject: &str,
        event: &str,
        limit: u32,
        window: FixedWindow,
    ) -> Result<u32, StoreError> {
        let event = crate::domain::ports::counted_event(event);
        self.run("hit_once", |table| {
            let counter = table.entry(keys::rate_counter(scope, subject, window.start)).or_default();
            let mut events = strings(counter, "events");
            if events.len() >= limit as usize && !events.contains(&event) {
                return Ok(limit.saturating_add(1));
            }
            events.insert(event);
            let count = events.len();
            set_strings(counter, "events", events);
            counter.insert("type".into(), "rate_counter".into());
            counter.insert("v".into(), SCHEMA_VERSION.into());
            counter.insert(keys::TTL.into(), (window.end + 60).into());
            Ok(u32::try_from(count).unwrap_or(u32::MAX))
        })
    }
}

impl SubmissionStore for MemoryStore {
    async fn store_submission(
        &self,
        submission: &NewSubmission,
        owed: &Owed<'_>,
    ) -> Result<(UpsertedProfile, Inserted), StoreError> {
        let profile_key = keys::profile_by_email(&self.email_pseudonym(submission.data.email.normalized()));
        let tombstone = |id: &ProfileId| self.erased_key(id);
        self.run("store_submission", |table| {
            let stored = table.get(&profile_key).cloned();
            let id = stored
                .as_ref()
                .and_then(|p| text(p, "profile_id"))
                .map_or_else(ProfileId::new_random, ProfileId::from_stored);
            let submission_key = keys::submission(id.as_str(), submission.id.as_str());
            if let Some(earlier) = table.get(&submission_key) {
                if text(earlier, "request_fingerprint").is_some_and(|said| said != submission.fingerprint) {
                    let theirs = UpsertedProfile { created: false, ..upserted(id, None, submission) };
                    return Ok((theirs, Inserted::DifferentRequest));
                }
                // A retry: nothing is written, and the profile is read as it is now.
                return Ok((upserted(id, stored.as_ref(), submission), Inserted::AlreadyStored));
            }
            // Live submissions only: what retention has deleted (or its TTL passed) makes room.
            let now = submission.client.received_at.epoch_seconds();
            let held = super::partition(table, &keys::profile_partition(id.as_str()))
                .filter(|((_, sk), item)| {
                    sk.starts_with("SUBMISSION#") && number(item, keys::TTL).is_none_or(|at| at > now)
                })
                .count();
            if held >= submission.held_limit as usize {
                return Ok((upserted(id, stored.as_ref(), submission), Inserted::AddressFull));
            }
            let upserted = upserted(id.clone(), stored.as_ref(), submission);
            // What it owes, with it (as the DynamoDB store's transaction): every item made before
            // any is written, so that a failure writes nothing.
            let owed = owed(&upserted);
            // Refused as the DynamoDB store's transaction is (which reads again until it gives
            // up): an erasure that found the person under an address they moved to writes their
            // tombstone before it reaches the profile, and nothing of theirs is queued meanwhile;
            // a delivery of the same id waiting already is another profile's (a retry from an
            // address whose person moved away), which a put if absent keeps.
            let carries_their_data = owed.deliveries.iter().any(|d| d.event.kind.carries_personal_data());
            let erasing = stored.is_some() && carries_their_data && table.contains_key(&tombstone(&id));
            let taken = owed.deliveries.iter().any(|d| table.contains_key(&keys::delivery(&d.id())));
            if erasing || taken {
                return Err(StoreError::Unavailable(
                    "the profile kept changing during the submission".into(),
                ));
            }
            let mut writes = Vec::new();
            for delivery in &owed.deliveries {
                writes.push((keys::delivery(&delivery.id()), super::destinations::queued(delivery, now)?));
            }
            if let Some(message) = owed.first_mail.as_ref().filter(|_| upserted.created) {
                writes.push((keys::outbox(&message.id), super::mail::outbox_item(message, now)?));
            }
            let mut profile = stored.clone().unwrap_or_default();
            update_profile(&mut profile, submission, &id);
            writes.push((profile_key.clone(), profile));
            writes.push((submission_key, submission_item(submission, &id)));
            table.extend(writes);
            Ok((upserted, Inserted::New))
        })
    }
}

/// The profile update a submission makes: only what it carries, the latest submission, the
/// form's retention, and topics waiting for confirmation.
fn update_profile(profile: &mut Item, submission: &NewSubmission, id: &ProfileId) {
    let data = &submission.data;
    let now = submission.client.received_at.rfc3339();
    profile.insert("type".into(), "profile".into());
    profile.insert("v".into(), SCHEMA_VERSION.into());
    profile.insert("profile_id".into(), id.as_str().into());
    profile.insert(keys::GSI1_PK.into(), keys::profile_partition(id.as_str()).into());
    profile.entry("created_at").or_insert_with(|| now.clone().into());
    profile.insert("updated_at".into(), now.into());
    // The address first typed, or the one a person proved since: never rewritten by a form.
    profile.entry("email").or_insert_with(|| data.email.as_str().into());
    profile.insert("last_submission_id".into(), submission.id.as_str().into());
    // A submission fills in only what the profile does not hold yet, and says where each value
    // came from (as the DynamoDB store does).
    for (attribute, value) in profile_values(data) {
        let Some(value) = value else { continue };
        if profile.contains_key(attribute) {
            continue;
        }
        profile.insert(attribute.into(), value.into());
        let source = json!({
            "source": "form",
            "form": submission.form.as_str(),
            "submission_id": submission.id.as_str(),
            "at": submission.client.received_at.rfc3339(),
        });
        let provenance = profile.entry(PROVENANCE).or_insert_with(|| json!({}));
        if let Some(map) = provenance.as_object_mut() {
            map.insert(attribute.to_owned(), source);
        }
    }
    profile.insert(
        format!("{RETAIN_UNTIL_PREFIX}{}", submission.form.as_str()),
        submission.expires_at.epoch_seconds().into(),
    );
    if !data.topics.is_empty() {
        // Ticked topics wait for the confirmation link; a withdrawal of consent stands until the
        // address confirms (a form is anyone's word).
        let mut pending = strings(profile, "pending_topics");
        pending.extend(data.topics.iter().cloned());
        set_strings(profile, "pending_topics", pending);
    }
}

fn submission_item(submission: &NewSubmission, profile_id: &ProfileId) -> Item {
    let data = &submission.data;
    let client = &submission.client;
    let consent = &submission.consent;

    let mut fields = Item::new();
    fields.insert("email".into(), data.email.as_str().into());
    let standard = [
        ("name", data.name.clone()),
        ("phone", data.phone.as_ref().map(|p| p.as_e164().to_owned())),
        ("job_title", data.job_title.clone()),
        ("company", data.company.clone()),
        ("country", data.country.map(|c| c.code().to_owned())),
        ("state", data.state.as_ref().map(|s| s.code().to_owned())),
        ("message", data.message.clone()),
    ];
    for (name, value) in standard {
        if let Some(value) = value {
            fields.insert(name.into(), value.into());
        }
    }
    for (name, value) in &data.custom {
        fields.insert(name.clone(), value.clone().into());
    }
    set_strings(&mut fields, "interests", data.topics.clone());

    let mut browser = Item::new();
    browser.insert("source_ip".into(), client.source_ip.clone().into());
    browser.insert("received_at".into(), client.received_at.rfc3339().into());
    for (name, value) in [
        ("user_agent", &client.user_agent),
        ("accept_language", &client.accept_language),
        ("referer", &client.referer),
    ] {
        if let Some(value) = value {
            browser.insert(name.into(), value.clone().into());
        }
    }

    let purposes: Vec<Value> = consent
        .purposes
        .iter()
        .map(|p| json!({"id": p.id, "basis": serde_json::to_value(p.basis).unwrap_or_default()}))
        .collect();
    let mut evidence = Item::new();
    evidence.insert("form".into(), consent.form.as_str().into());
    evidence.insert("purposes".into(), purposes.into());
    evidence.insert("policy_version".into(), consent.policy_version.clone().into());
    evidence.insert("given_at".into(), consent.given_at.rfc3339().into());
    evidence.insert("source_ip".into(), consent.source_ip.clone().into());
    evidence.insert("marketing_topics".into(), consent.topics.iter().cloned().collect::<Vec<_>>().into());
    evidence.insert("notice_sha256".into(), consent.notice_digest.clone().into());
    evidence.insert("language".into(), consent.language.code().into());
    evidence.insert("global_privacy_control".into(), consent.global_privacy_control.into());
    evidence.insert("opted_out".into(), consent.opted_out.clone().into());
    if let Some(user_agent) = &consent.user_agent {
        evidence.insert("user_agent".into(), user_agent.clone().into());
    }

    let mut item = stamped("submission");
    item.insert("submission_id".into(), submission.id.as_str().into());
    item.insert("request_fingerprint".into(), submission.fingerprint.clone().into());
    item.insert("form".into(), submission.form.as_str().into());
    item.insert("received_at".into(), client.received_at.rfc3339().into());
    item.insert(keys::TTL.into(), submission.expires_at.epoch_seconds().into());
    item.insert("fields".into(), fields.into());
    item.insert("browser".into(), browser.into());
    item.insert("consent".into(), evidence.into());
    item.insert("profile_id".into(), profile_id.as_str().into());
    item
}
