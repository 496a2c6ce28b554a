//! The rights a signed-in person exercises themselves, and what they share: the store they need
//! (`RightsStore`), how they fail (`RightsError`), and the requests a person confirms by following
//! a mailed link. Each right is its own module: [`super::correction`], [`super::limits`],
//! [`super::export`].

use std::future::Future;

use crate::config::Config;
use crate::domain::fields::FieldError;
use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::{OutboxMessage, OutboxStore};
use crate::domain::mail::recipients::{may_mail, MailPurpose};
use crate::domain::ports::{RateLimiter, StoreError};
use crate::t;
use crate::token::{Claims, Purpose, TokenError};

/// How long a link to confirm a new address, or an export to someone else, works.
pub const CONFIRM_HOURS: i64 = 24;

/// The parts of a stored profile a correction is checked against.
#[derive(Debug, Clone, Default)]
pub struct CurrentProfile {
    pub email: String,
    pub country: Option<String>,
}

/// What a person can see of a pending email change or export, once they follow its link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub profile_id: ProfileId,
    /// The new address, or the address the export goes to.
    pub address: String,
    pub format: Option<String>,
}

/// What every right needs of the store: the profile as the rights see it, and the requests a
/// person confirms by following a mailed link.
pub trait RightsStore {
    fn current_profile(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<Option<CurrentProfile>, StoreError>> + Send;
    /// Keeps a pending request (email change or export) in the person's own partition, so that
    /// erasure takes it along.
    fn save_request(
        &self,
        kind: RequestKind,
        nonce: &str,
        request: &PendingRequest,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Uses a pending request up: it is returned the first time only, while it has not expired.
    fn take_request(
        &self,
        kind: RequestKind,
        profile_id: &ProfileId,
        nonce: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<PendingRequest>, StoreError>> + Send;
    /// Drops every pending request of these kinds of a person: what someone else set going in
    /// their name (an address change, an export, a download link) ends when they take their
    /// address back.
    fn drop_requests(
        &self,
        profile_id: &ProfileId,
        kinds: &[RequestKind],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A pending request, left in place (a download link that works until it expires).
    fn find_request(
        &self,
        kind: RequestKind,
        profile_id: &ProfileId,
        nonce: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<PendingRequest>, StoreError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    EmailChange,
    /// The old address's way back after a change.
    EmailChangeUndo,
    Export,
    /// A confirmed export's download link, for the person it was sent to.
    ExportLink,
}

impl RequestKind {
    /// The daily limit the mail carrying its link counts against, at its recipient. The old
    /// address's way back counts against none: it is the safety net of a change someone may have
    /// made without its owner, so no limit may swallow it, and it cannot flood anyone (an address
    /// is told only when the one profile holding it moves away, each move confirmed from a new
    /// address, once a day per address).
    pub fn mail_purpose(self) -> Option<MailPurpose> {
        match self {
            Self::EmailChange => Some(MailPurpose::EmailChange),
            Self::EmailChangeUndo => None,
            Self::Export => Some(MailPurpose::ExportConfirmation),
            Self::ExportLink => Some(MailPurpose::ExportLink),
        }
    }

    /// The requests a person has under way, as the privacy center lists them.
    pub const PENDING: [RequestKind; 3] = [Self::EmailChange, Self::EmailChangeUndo, Self::Export];

    /// Those a person may call off. Never an old address's way back: it guards against whoever
    /// holds a session, who could otherwise cut it.
    pub const CANCELLABLE: [RequestKind; 2] = [Self::EmailChange, Self::Export];

    /// A kind a person may call off, by its name in the privacy center's data.
    pub fn cancellable(shown_as: &str) -> Option<Self> {
        Self::CANCELLABLE.into_iter().find(|kind| kind.shown_as() == shown_as)
    }

    /// Its name in the privacy center's data (`request`).
    pub fn shown_as(self) -> &'static str {
        match self {
            Self::EmailChange => "email_change",
            Self::EmailChangeUndo => "email_change_undo",
            Self::Export => "export",
            Self::ExportLink => "export_link",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailChange => "EMAILCHANGE",
            Self::EmailChangeUndo => "EMAILUNDO",
            Self::Export => "EXPORT",
            Self::ExportLink => "EXPORTLINK",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error("the request is not valid")]
    Invalid(Vec<FieldError>),
    #[error("no such person")]
    NotFound,
    /// No such request of this person's under way (done, cancelled or expired).
    #[error("no such request")]
    NoSuchRequest,
    #[error("the link is not valid: {0}")]
    InvalidLink(TokenError),
    #[error("the link was used already or has expired")]
    LinkUsed,
    #[error("the address belongs to another profile")]
    EmailTaken,
    #[error("too many requests; retry after {0:?}")]
    RateLimited(std::time::Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Requests that send mail (to a new address, or to the person's own) are limited per person,
/// so that a session cannot be used to flood an inbox.
const MAILING_REQUESTS_PER_WINDOW: u32 = 5;

pub(super) async fn limit_mailing_requests<S: RateLimiter>(
    store: &S,
    config: &Config,
    current_email: &str,
    now: i64,
) -> Result<(), RightsError> {
    let window = crate::domain::ports::FixedWindow::containing(
        crate::time::Timestamp::from_epoch_seconds(now),
        config.rate_limits.window,
    );
    let subject = config.hash_key.pseudonym("rate-email", &crate::domain::fields::address_key(current_email));
    let this_request = uuid::Uuid::new_v4().simple().to_string();
    let limit = MAILING_REQUESTS_PER_WINDOW;
    if store.hit_once("privacy-request", &subject, &this_request, limit, window).await? > limit {
        return Err(RightsError::RateLimited(std::time::Duration::from_secs(
            (window.end - now).max(1) as u64
        )));
    }
    Ok(())
}

/// A request a person confirms by following a link mailed to an address (a new address of
/// theirs, their own for an export to someone else, or the export's recipient): kept in their
/// own partition (erasure takes it along), redeemable once, until it expires. Every such request
/// goes through these two steps, so none can skip the rate limit's counterpart, the expiry or the
/// single use.
pub struct MailedLink<'a> {
    pub kind: RequestKind,
    pub purpose: Purpose,
    /// Where the link leads, under the public API (`/privacy/email/confirm`).
    pub path: &'static str,
    pub expires_at: i64,
    /// The outbox id's prefix: one message per request, however often it is enqueued.
    pub message: &'static str,
    pub to: &'a str,
    pub subject: String,
    pub template: &'static str,
    /// The template's values; `link_url` is added.
    pub values: serde_json::Value,
}

/// Keeps the request under `nonce`, signs its link and owes the mail that carries it; `false`
/// when the recipient has had the day's mails of this kind (nothing is kept or sent, and the
/// answer does not say so: the recipient is not to be flooded, nor their mailbox probed).
pub async fn send_link<S: RightsStore + OutboxStore + RateLimiter>(
    store: &S,
    config: &Config,
    nonce: &str,
    request: &PendingRequest,
    link: MailedLink<'_>,
    now: i64,
) -> Result<bool, RightsError> {
    let message_id = format!("{}-{nonce}", link.message);
    let within_limit = match link.kind.mail_purpose() {
        Some(purpose) => may_mail(store, &config.hash_key, purpose, link.to, &message_id, now).await?,
        None => true,
    };
    if !within_limit {
        tracing::info!(
            kind = link.kind.as_str(),
            "the recipient's mails of this kind today are used up; none sent"
        );
        return Ok(false);
    }
    store.save_request(link.kind, nonce, request, link.expires_at).await?;
    let token = config.token_keys.sign(link.purpose, nonce, &request.profile_id, Some(link.expires_at));
    let links = &config.links;
    let mut values = link.values;
    values["link_url"] = crate::i18n::Lang::current()
        .carried_by(format!("{}{}?token={token}", links.public_api_url, link.path))
        .into();
    let message = OutboxMessage::transactional(
        links,
        message_id,
        link.to,
        &request.profile_id,
        link.subject,
        link.template,
        values,
    );
    store.enqueue(&message, now).await?;
    Ok(true)
}

/// Verifies a mailed link and uses its request up: the first time only, while it has not expired.
pub async fn redeem_link<S: RightsStore>(
    store: &S,
    config: &Config,
    kind: RequestKind,
    purpose: Purpose,
    token: &str,
    now: i64,
) -> Result<(Claims, PendingRequest), RightsError> {
    let claims = config.token_keys.verify(token, purpose, now).map_err(RightsError::InvalidLink)?;
    let request = store
        .take_request(kind, &claims.profile_id, &claims.subject, now)
        .await?
        .ok_or(RightsError::LinkUsed)?;
    Ok((claims, request))
}

/// The person calls off a request under way in their name: an address change not yet confirmed
/// from the new address, or an export not yet confirmed from their own (`RequestKind::CANCELLABLE`).
pub async fn cancel_request<S: RightsStore>(
    store: &S,
    profile_id: &ProfileId,
    kind: RequestKind,
    request_id: &str,
    now: i64,
) -> Result<(), RightsError> {
    if !RequestKind::CANCELLABLE.contains(&kind) || !well_formed_id(request_id) {
        return Err(RightsError::Invalid(vec![FieldError::new(
            "request",
            "invalid",
            t!("error-not-your-request"),
        )]));
    }
    store.take_request(kind, profile_id, request_id, now).await?.ok_or(RightsError::NoSuchRequest)?;
    tracing::info!(profile_id = %profile_id, kind = kind.as_str(), "pending request cancelled");
    Ok(())
}

/// Whether an id a page sends back could be one of a request's nonces (hex or alphanumeric, short):
/// anything else is refused before the store is asked.
pub fn well_formed_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}
