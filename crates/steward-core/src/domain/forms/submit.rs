//! The form-submission use case: honeypot, validation, rate limits, then one profile per person
//! and every submission stored with its browser metadata and consent evidence.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use crate::config::Config;
use crate::domain::destinations::{self, Delivery, DeliveryStore};
use crate::domain::fields::FieldError;
use crate::domain::forms::catalogue::{Catalogue, FormDefinition, Purpose};
use crate::domain::forms::proof::{self, Evidence, HumanCheck, ProofError, SpendError};
use crate::domain::forms::validation::{validate, FormInput, ValidForm};
use crate::domain::ids::{FormId, IdempotencyKey, ProfileId, SubmissionId};
use crate::domain::mail::confirmation::{confirmation_mail, may_send_confirmation};
use crate::domain::mail::outbox::{OutboxMessage, OutboxStore};
use crate::domain::mail::recipients::{may_mail, MailPurpose};
use crate::domain::ports::{FixedWindow, RateLimiter, StoreError};
use crate::time::Timestamp;

/// What the browser sent about itself, as the policy says we collect: IP address (from API
/// Gateway's request context, never from a header the client can set), browser type, language,
/// access time and referring address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub accept_language: Option<String>,
    pub referer: Option<String>,
    pub received_at: Timestamp,
    /// The browser sent Global Privacy Control (`Sec-GPC: 1`): the person opts out of what they
    /// may opt out of.
    pub global_privacy_control: bool,
}

/// Proof of what the person agreed to, stored with the submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEvidence {
    pub form: FormId,
    /// SHA-256 of the exact notice the form showed (its title, purposes and topic labels), in
    /// the language it was shown in.
    pub notice_digest: String,
    /// The language the notice was shown in.
    pub language: crate::i18n::Lang,
    /// The purposes this submission is processed for: the form's, less those opted out of.
    pub purposes: Vec<Purpose>,
    /// Purposes opted out of by Global Privacy Control.
    pub opted_out: Vec<String>,
    pub global_privacy_control: bool,
    /// Marketing topics opted in to, each ticked by the person (never pre-ticked).
    pub topics: BTreeSet<String>,
    pub policy_version: String,
    pub given_at: Timestamp,
    pub source_ip: String,
    pub user_agent: Option<String>,
}

impl PartialEq for Purpose {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.basis == other.basis
    }
}
impl Eq for Purpose {}

/// A valid submission ready to be stored.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub id: SubmissionId,
    pub form: FormId,
    pub data: ValidForm,
    pub client: ClientInfo,
    pub consent: ConsentEvidence,
    /// When the form's retention period ends and the submission is deleted.
    pub expires_at: Timestamp,
    /// What the request said, as a digest: a retry with the same idempotency key must say the
    /// same, or it is another request reusing the key.
    pub fingerprint: String,
    /// Live submissions the address may hold, this one included.
    pub held_limit: u32,
}

pub struct SubmitCommand<'a> {
    pub form: &'a FormDefinition,
    pub input: FormInput,
    pub client: ClientInfo,
    pub idempotency_key: Option<IdempotencyKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub submission_id: SubmissionId,
    pub profile_id: ProfileId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    Stored(Receipt),
    /// The idempotency key was seen before: nothing new was stored, the first answer is repeated.
    Replayed(Receipt),
    /// The honeypot was filled: the answer looks like success, and nothing was stored.
    Discarded(Receipt),
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the submission has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("too many submissions; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// The idempotency key was used before for a request that said something else.
    #[error("the idempotency key was used for a different request")]
    KeyReused,
    /// The address holds as many submissions as any address may.
    #[error("the address holds as many submissions as it may")]
    AddressFull,
    /// A proof of work was sent that does not hold (`forms::proof`): nothing is stored.
    #[error("the proof of work is refused: {0}")]
    Proof(ProofError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SpendError> for SubmitError {
    fn from(err: SpendError) -> Self {
        match err {
            SpendError::Refused(refused) => Self::Proof(refused),
            SpendError::Store(err) => Self::Store(err),
        }
    }
}

pub async fn submit_form<S>(
    store: &S,
    humans: &impl HumanCheck,
    config: &Config,
    catalogue: &Catalogue,
    command: SubmitCommand<'_>,
) -> Result<SubmitOutcome, SubmitError>
where
    S: RateLimiter + SubmissionStore + OutboxStore + DeliveryStore,
{
    let SubmitCommand { form, input, client, idempotency_key } = command;
    if input.first(&catalogue.honeypot_field).is_some() {
        tracing::info!(form = form.id.as_str(), "honeypot filled; submission discarded");
        return Ok(SubmitOutcome::Discarded(Receipt {
            submission_id: SubmissionId::new_random(),
            profile_id: ProfileId::new_random(),
        }));
    }
    let data = validate(form, &input).map_err(SubmitError::Invalid)?;
    // The submission is the counted event: the store client's retry of a lost answer, or the
    // client's own retry of the same submission (its idempotency key, form and address), counts
    // once; a key reused for another address or form is another submission, counted again.
    let id = match &idempotency_key {
        Some(key) => SubmissionId::for_idempotency_key(&form.id, key, data.email.normalized()),
        None => SubmissionId::new_random(),
    };
    let this_request = id.as_str().to_owned();
    // A solved challenge; none at all is a form without script (or a client that does not solve
    // one), held to stricter limits below.
    let now = client.received_at.epoch_seconds();
    let evidence = Evidence {
        remote_ip: &client.source_ip,
        proof_of_work: input.first(proof::FIELD),
        turnstile: input.first(proof::TURNSTILE_FIELD),
    };
    let proven = proof::spend(store, humans, config, &evidence, &this_request, now).await?;

    let limits = config.rate_limits;
    let window = FixedWindow::containing(client.received_at, limits.window);
    let ip_key = config.hash_key.pseudonym("rate-ip", &client.source_ip);
    let email_key = config.hash_key.pseudonym("rate-email", data.email.normalized());
    let day = FixedWindow::containing(client.received_at, Duration::from_secs(86_400));
    // Without a proof of work, a third of what an address may send with one, on the same counter
    // (one write per limit and submission: each costs a write unit, and a flood pays for them).
    let ip_allowed = if proven { limits.per_ip } else { (limits.per_ip / 3).max(1) };
    let limited = [
        ("ip", &ip_key, limits.per_ip, ip_allowed, window),
        ("email", &email_key, limits.per_email, limits.per_email, window),
        ("email-day", &email_key, limits.per_email_per_day, limits.per_email_per_day, day),
    ];
    for (scope, subject, kept, allowed, window) in limited {
        let count = store.hit_once(scope, subject, &this_request, kept, window).await?;
        if count > allowed {
            tracing::info!(form = form.id.as_str(), scope, "rate limit reached");
            return Err(SubmitError::RateLimited { retry_after: window.remaining_after(client.received_at) });
        }
    }

    let submission = NewSubmission {
        id,
        form: form.id.clone(),
        consent: ConsentEvidence {
            form: form.id.clone(),
            notice_digest: form.notice_digest_here(),
            language: crate::i18n::Lang::current(),
            // Global Privacy Control opts out of the purposes a person may opt out of, here and
            // now, without a click: the submission is not processed for them.
            purposes: form
                .purposes
                .iter()
                .filter(|p| !(client.global_privacy_control && form.opt_out_purposes.contains(&p.id)))
                .cloned()
                .collect(),
            opted_out: if client.global_privacy_control { form.opt_out_purposes.clone() } else { Vec::new() },
            global_privacy_control: client.global_privacy_control,
            topics: data.topics.clone(),
            policy_version: config.policy_version.clone(),
            given_at: client.received_at,
            source_ip: client.source_ip.clone(),
            user_agent: client.user_agent.clone(),
        },
        expires_at: client.received_at.plus_days(form.retention_days),
        fingerprint: request_fingerprint(&form.id, &data),
        held_limit: SUBMISSIONS_HELD_PER_ADDRESS,
        data,
        client,
    };
    // The teams that act on it, each with what it may receive: owed through the table, so that
    // none of them holds up this answer or loses it while it is down. Decided from the profile the
    // submission lands on (its consent, restriction and objection), and written with the
    // submission itself: both or neither.
    let deliveries = |profile: &UpsertedProfile| {
        let no_topics = BTreeSet::new();
        let submitted = destinations::Submitted {
            id: &submission.id,
            received_at: submission.client.received_at,
            language: submission.consent.language,
            purposes: &submission.consent.purposes,
            data: &submission.data,
            // A complaint or a bounce ends marketing everywhere, as it does Steward's own.
            confirmed_topics: if profile.suppressed { &no_topics } else { &profile.confirmed_topics },
            restricted: profile.restricted,
            objected: profile.objected,
        };
        destinations::for_submission(catalogue, form, &submitted, &profile.id)
    };
    // Double opt-in: topics not yet confirmed get a confirmation email, owed through the outbox so
    // that it goes out even if SES is down now, to the address the profile holds (the one a person
    // proved, if any), not the spelling typed this time. Its id makes a retried submission owe it
    // once.
    let now = submission.client.received_at;
    let confirmation = |profile: &UpsertedProfile| {
        let unconfirmed: BTreeSet<String> =
            submission.data.topics.difference(&profile.confirmed_topics).cloned().collect();
        (!unconfirmed.is_empty() && !profile.suppressed).then(|| {
            confirmation_mail(config, &catalogue.topics, &profile.email, &profile.id, &unconfirmed, now)
        })
    };
    // A new person's confirmation is written with their profile: under an id this request made,
    // nothing was sent before.
    let owed = |profile: &UpsertedProfile| OwedWithSubmission {
        deliveries: deliveries(profile),
        first_mail: confirmation(profile).filter(|_| profile.created),
    };
    let (profile, inserted) = store.store_submission(&submission, &owed).await?;
    let profile_id = profile.id.clone();
    let receipt = Receipt { submission_id: submission.id.clone(), profile_id: profile_id.clone() };
    let outcome = match inserted {
        Inserted::New => SubmitOutcome::Stored(receipt),
        Inserted::AlreadyStored => {
            // A retry. Its deliveries went with the submission, unless a request of before
            // 2026-12-08 stored it and owed them in a write of its own, which may have failed:
            // owed again, queued once (their ids are the submission's; until 2027-01-07, when no
            // such request is still retried: then this goes).
            let deliveries = deliveries(&profile);
            if !deliveries.is_empty() {
                store.enqueue_deliveries(&deliveries, now.epoch_seconds()).await?;
            }
            SubmitOutcome::Replayed(receipt)
        }
        Inserted::DifferentRequest => {
            tracing::info!(form = form.id.as_str(), "an idempotency key reused for a different request");
            return Err(SubmitError::KeyReused);
        }
        Inserted::AddressFull => {
            tracing::info!(form = form.id.as_str(), "the address holds as many submissions as it may");
            return Err(SubmitError::AddressFull);
        }
    };
    if let Some(message) = confirmation(&profile) {
        if inserted == Inserted::New && profile.created {
            // Owed already, with the profile, whatever its address's count: a new person's first
            // confirmation. Counted all the same against the address's few a day, so that the
            // next ones are bounded. Over them only where the address had a person today who is
            // gone from it (erased, or moved to another address): one more mail, and no stranger
            // can make an address new again. The submission is stored, so a failure to count is
            // logged, not answered.
            match may_send_confirmation(store, config, &message, MailPurpose::Confirmation, now).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(form = form.id.as_str(), "a new person's confirmation, over the day's few")
                }
                Err(err) => {
                    tracing::warn!(form = form.id.as_str(), error = %err, "a new person's confirmation was not counted")
                }
            }
        } else if may_send_confirmation(store, config, &message, MailPurpose::Confirmation, now).await? {
            store.enqueue(&message, now.epoch_seconds()).await?;
        }
    }
    // What the form gives (a download link): owed by mail to the address the profile holds, once
    // per submission, a few a day to one address.
    if let Some(delivery) = form.delivers.as_ref().filter(|_| !profile.suppressed) {
        let chosen = submission.data.custom.get(&delivery.field).and_then(|value| delivery.links.get(value));
        if let Some(link) = chosen {
            let message = OutboxMessage::transactional(
                &config.links,
                format!("delivery-{}", submission.id.as_str()),
                &profile.email,
                &profile_id,
                crate::t!("subject-delivery", label = link.label.as_str()),
                "delivery",
                serde_json::json!({"label": link.label, "link_url": link.url, "form": form.title_words()}),
            );
            if may_mail(
                store,
                &config.hash_key,
                MailPurpose::Delivery,
                &profile.email,
                &message.id,
                now.epoch_seconds(),
            )
            .await?
            {
                store.enqueue(&message, now.epoch_seconds()).await?;
            }
        }
    }
    tracing::info!(
        form = form.id.as_str(),
        profile_id = profile_id.as_str(),
        submission_id = submission.id.as_str(),
        replayed = matches!(outcome, SubmitOutcome::Replayed(_)),
        "submission stored"
    );
    Ok(outcome)
}

// --- The port this use case needs ---------------------------------------------------------

/// The profile a submission landed on, and the topics it has already confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertedProfile {
    pub id: ProfileId,
    /// The address the profile holds: the first one typed, or the one the person proved since.
    pub email: String,
    /// Topics marketing goes out for now (none while unsubscribed from everything or withdrawn).
    pub confirmed_topics: BTreeSet<String>,
    /// Bounced or complained: owed no mail of any kind that a form could trigger.
    pub suppressed: bool,
    /// Its use is restricted (Article 18): kept, and given to no one.
    pub restricted: bool,
    /// It objects (Article 21): nothing on legitimate interests, no marketing.
    pub objected: bool,
    /// The submission created it (with [`Inserted::New`]): a new person.
    pub created: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// This very request was stored before (its fingerprint matches, or predates fingerprints).
    AlreadyStored,
    /// Its id is taken by a request that said something else: nothing was written.
    DifferentRequest,
    /// The address already holds `held_limit` live submissions: nothing was written.
    AddressFull,
}

/// Live submissions one address may hold, whoever sent them. The daily limit bounds a day; this
/// bounds every day together, so that `GET /me` and the export stay small however long a
/// stranger keeps at it (each submission is at most a few tens of kilobytes: a few megabytes in
/// all). A person makes room by deleting submissions in the privacy center, and retention does
/// it for them.
pub const SUBMISSIONS_HELD_PER_ADDRESS: u32 = 200;

/// The digest of a request for its idempotency key: the form and every validated value, in a
/// canonical form (sorted keys and sets), so that a byte-different retry of the same request
/// matches and a request that says anything else does not.
pub fn request_fingerprint(form: &FormId, data: &ValidForm) -> String {
    use sha2::Digest;
    let canonical = serde_json::json!({
        "form": form.as_str(),
        "email": data.email.normalized(),
        "name": data.name,
        "phone": data.phone.as_ref().map(|p| p.as_e164()),
        "job_title": data.job_title,
        "company": data.company,
        "country": data.country.map(|c| c.code()),
        "state": data.state.as_ref().map(|s| s.code()),
        "message": data.message,
        "topics": data.topics,
        "custom": data.custom,
    });
    hex::encode(sha2::Sha256::digest(canonical.to_string().as_bytes()))
}

pub trait SubmissionStore {
    /// Stores the submission and creates or updates the person's profile from it (keyed by the
    /// email address, case-insensitively), both or neither. Concurrent calls for one address end
    /// with one profile; a submission whose id is already stored is not stored again.
    ///
    /// What a new submission owes (`owed`, decided from the profile it lands on) is queued in the
    /// same write; a submission not stored now (a retry, or refused) queues nothing.
    fn store_submission(
        &self,
        submission: &NewSubmission,
        owed: &Owed<'_>,
    ) -> impl Future<Output = Result<(UpsertedProfile, Inserted), StoreError>> + Send;
}

/// What a new submission owes, decided from the profile it lands on.
pub type Owed<'a> = dyn Fn(&UpsertedProfile) -> OwedWithSubmission + Sync + 'a;

/// What a submission owes from the moment it is stored, written with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwedWithSubmission {
    /// The deliveries to its form's destinations.
    pub deliveries: Vec<Delivery>,
    /// The first mail of a profile the submission creates: nothing can have been queued or sent
    /// under a new profile's id, so it is owed without the sent markers' checks. Only for
    /// [`UpsertedProfile::created`].
    pub first_mail: Option<OutboxMessage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_retry_after_counts_down_to_their_end() {
        let at = Timestamp::from_epoch_millis(1_000_123_000).unwrap();
        let window = FixedWindow::containing(at, Duration::from_secs(600));
        assert_eq!(window.start, 999_600);
        assert_eq!(window.end, 1_000_200);
        assert_eq!(window.remaining_after(at), Duration::from_secs(77));
    }
}
