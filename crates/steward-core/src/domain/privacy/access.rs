//! The privacy center's sign-in and access: a person proves they own an address by a single-use
//! link sent to it, exchanges it for a short session, and sees everything Steward holds about them.
//!
//! The answer to "send me a link" is the same whether or not the address is known, so nobody can
//! learn from it who is in the table.

use std::future::Future;
use std::time::Duration;

use crate::config::Config;
use crate::domain::fields::Email;
use crate::domain::forms::proof::{self, Evidence, HumanCheck, ProofError, SpendError};
use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::{OutboxMessage, OutboxStore};
use crate::domain::mail::recipients::{may_mail, MailPurpose};
use crate::domain::ports::{RateLimiter, StoreError};
use crate::token::{Claims, Purpose, TokenError};

/// How long a sign-in link works once sent.
pub const LINK_MINUTES: i64 = 15;
/// The longest a sign-in link's token can be used, however often its person asks again past the
/// day's limit (each such request keeps the newest link working for another [`LINK_MINUTES`]).
pub const LINK_TOKEN_HOURS: i64 = 2;

/// A sign-in link as kept: in its person's own partition, usable once, until `valid_until`
/// (which a request past the day's limit moves later, up to `token_expires_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInLink {
    pub profile_id: ProfileId,
    pub nonce: String,
    /// When it was sent: the newest is the one a flood keeps working.
    pub issued_at: i64,
    pub valid_until: i64,
    pub token_expires_at: i64,
}
/// How long a session lasts.
pub const SESSION_MINUTES: i64 = 30;

/// A privacy-center session as kept: in its person's partition, so that erasing them ends it,
/// until it expires or is ended (signing out, an address change). Its token names it; a token
/// whose session is not kept opens nothing, however well signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub profile_id: ProfileId,
    pub id: String,
    pub expires_at: i64,
}

/// A person Steward holds, found by address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAddress {
    pub profile_id: ProfileId,
    /// The address as the profile holds it: the spelling mail goes to, whatever was typed to
    /// find it.
    pub email: String,
}

pub trait PrivacyStore {
    /// The person an address belongs to, if Steward knows it.
    fn profile_by_email(
        &self,
        email: &Email,
    ) -> impl Future<Output = Result<Option<KnownAddress>, StoreError>> + Send;
    /// Keeps a sign-in link and owes the mail that carries it, in one transaction, only while the
    /// address still belongs to the link's person: an erasure that ran since the lookup leaves
    /// no link behind and no mail owed. With no mail (an unknown address), it makes the same
    /// writes for a link to no one, so that the answer costs the same whoever asked. `false` when
    /// nothing was kept.
    fn issue_sign_in(
        &self,
        address: &Email,
        link: &SignInLink,
        mail: Option<&OutboxMessage>,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Keeps the person's newest unused sign-in link working until `until` (never past its
    /// token's own expiry): the owner of an address flooded with requests still signs in with
    /// the last link they were sent.
    fn extend_sign_in(
        &self,
        profile_id: &ProfileId,
        until: i64,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Uses a sign-in link up and keeps the session it opens, in one step: `true` the first time
    /// only, while it works and while its person is held (a link issued before an erasure opens
    /// nothing: it was in their partition). The person's other links end with it.
    fn consume_sign_in(
        &self,
        nonce: &str,
        session: &Session,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Whether the session is kept and has not expired.
    fn session_open(
        &self,
        profile_id: &ProfileId,
        session_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Ends one session, or (`None`) every session of the person and every sign-in link not yet
    /// used (a link still in a mailbox would open a new one).
    fn end_sessions(
        &self,
        profile_id: &ProfileId,
        only: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The address a person is held under, read from their profile alone.
    fn address_of(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Everything held about a person, as JSON, or nothing if there is no such person.
    fn everything(
        &self,
        profile_id: &ProfileId,
    ) -> impl Future<Output = Result<Option<serde_json::Value>, StoreError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("too many requests; retry after {0:?}")]
    RateLimited(Duration),
    #[error("the link is not valid: {0}")]
    InvalidLink(TokenError),
    #[error("the link was used already, has expired, or its person's data was erased")]
    LinkUsed,
    #[error("not signed in: {0}")]
    NotSignedIn(&'static str),
    #[error("the proof of work is refused: {0}")]
    Proof(ProofError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sends a sign-in link to the address if Steward knows it; says nothing either way, and does
/// the same work either way. Whoever asks too often from one place is told to wait; the address
/// is never refused: past its few links a day, nothing more is sent and the newest link it was
/// sent keeps working a while longer, so a flood neither fills the inbox nor locks its owner out.
pub async fn request_link<S>(
    store: &S,
    humans: &impl HumanCheck,
    config: &Config,
    email: &Email,
    asker: &Evidence<'_>,
    now: i64,
) -> Result<(), PrivacyError>
where
    S: PrivacyStore + RateLimiter + OutboxStore,
{
    let window = crate::domain::ports::FixedWindow::containing(
        crate::time::Timestamp::from_epoch_seconds(now),
        config.rate_limits.window,
    );
    let this_request = uuid::Uuid::new_v4().simple().to_string();
    // A form that sends mail: a solved challenge, or a third of the limit without one (a plain
    // HTML form); one that does not hold changes nothing.
    let proven =
        proof::spend(store, humans, config, asker, &this_request, now).await.map_err(|err| match err {
            SpendError::Refused(refused) => PrivacyError::Proof(refused),
            SpendError::Store(err) => PrivacyError::Store(err),
        })?;
    let ip = config.hash_key.pseudonym("rate-ip", asker.remote_ip);
    // Without a proof of work, a third of what an address may ask with one, on the same counter.
    let kept = config.rate_limits.per_ip;
    let allowed = if proven { kept } else { (kept / 3).max(1) };
    if store.hit_once("privacy-ip", &ip, &this_request, kept, window).await? > allowed {
        return Err(PrivacyError::RateLimited(Duration::from_secs((window.end - now).max(1) as u64)));
    }
    // Counted for every request, known address or not: the same writes.
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let message_id = format!("signin-{nonce}");
    let may_send =
        may_mail(store, &config.hash_key, MailPurpose::SignIn, email.normalized(), &message_id, now).await?;
    let known = store.profile_by_email(email).await?;
    let link = |profile_id: &ProfileId| SignInLink {
        profile_id: profile_id.clone(),
        nonce: nonce.clone(),
        issued_at: now,
        valid_until: now + LINK_MINUTES * 60,
        token_expires_at: now + LINK_TOKEN_HOURS * 3600,
    };
    // Four paths, two shapes of work: a link kept with its mail (or, for no one, with nothing),
    // or, past the day's links, the newest link kept working a while longer (or no link at all).
    let Some(KnownAddress { profile_id, email: held }) = known else {
        let nobody = ProfileId::new_random();
        if may_send {
            store.issue_sign_in(email, &link(&nobody), None, now).await?;
        } else {
            store.extend_sign_in(&nobody, now + LINK_MINUTES * 60, now).await?;
        }
        tracing::info!("privacy link requested for an unknown address; nothing sent");
        return Ok(());
    };
    if !may_send {
        store.extend_sign_in(&profile_id, now + LINK_MINUTES * 60, now).await?;
        tracing::info!(profile_id = %profile_id, "the day's sign-in links are sent; the newest works a while longer");
        return Ok(());
    }
    let link = link(&profile_id);
    let token = config.token_keys.sign(Purpose::SignIn, &nonce, &profile_id, Some(link.token_expires_at));
    let links = &config.links;
    let message = OutboxMessage::transactional(
        links,
        message_id,
        &held,
        &profile_id,
        crate::t!("subject-privacy-link", organisation = links.organisation.as_str()),
        "privacy_link",
        serde_json::json!({
            "minutes": LINK_MINUTES,
            "link_url": crate::i18n::Lang::current()
                .carried_by(format!("{}/privacy/session?token={token}", links.public_api_url)),
        }),
    );
    if store.issue_sign_in(email, &link, Some(&message), now).await? {
        tracing::info!(profile_id = %profile_id, "privacy link sent");
    } else {
        // The same answer: the address was erased while the link was being made.
        tracing::info!(profile_id = %profile_id, "privacy link not sent: the person was erased meanwhile");
    }
    Ok(())
}

/// Exchanges a sign-in link, once, for a session token and its expiry.
pub async fn start_session<S: PrivacyStore>(
    store: &S,
    config: &Config,
    link: &str,
    now: i64,
) -> Result<(String, i64), PrivacyError> {
    let claims = config.token_keys.verify(link, Purpose::SignIn, now).map_err(PrivacyError::InvalidLink)?;
    let session = Session {
        profile_id: claims.profile_id.clone(),
        id: uuid::Uuid::new_v4().simple().to_string(),
        expires_at: now + SESSION_MINUTES * 60,
    };
    if !store.consume_sign_in(&claims.subject, &session, now).await? {
        return Err(PrivacyError::LinkUsed);
    }
    let token =
        config.token_keys.sign(Purpose::Session, &session.id, &session.profile_id, Some(session.expires_at));
    tracing::info!(profile_id = claims.profile_id.as_str(), "privacy session started");
    Ok((token, session.expires_at))
}

/// Whose privacy center a sign-in link opens, as its page says it before the button is pressed
/// (`a•••@example.com`): a link someone else sent opens their center, and this makes that plain.
/// `None` for a link that opens nothing.
pub async fn whose_link<S: PrivacyStore>(store: &S, config: &Config, link: &str, now: i64) -> Option<String> {
    let claims = config.token_keys.verify(link, Purpose::SignIn, now).ok()?;
    // The profile alone: link scanners open these pages, and each opening reads this much.
    let email = store.address_of(&claims.profile_id).await.ok()??;
    crate::domain::fields::masked_address(&email)
}

/// The person a session token belongs to, while its session is kept: signing out, an address
/// change or an erasure ends it whatever the token says.
pub async fn session<S: PrivacyStore>(
    store: &S,
    config: &Config,
    token: &str,
    now: i64,
) -> Result<Claims, PrivacyError> {
    let claims = config.token_keys.verify(token, Purpose::Session, now).map_err(|err| {
        PrivacyError::NotSignedIn(if err == TokenError::Expired { "expired" } else { "invalid" })
    })?;
    if !store.session_open(&claims.profile_id, &claims.subject, now).await? {
        return Err(PrivacyError::NotSignedIn("ended"));
    }
    Ok(claims)
}

/// Ends the session, or every session of its person (`everywhere`: on every device).
pub async fn sign_out<S: PrivacyStore>(
    store: &S,
    claims: &Claims,
    everywhere: bool,
) -> Result<(), PrivacyError> {
    let only = (!everywhere).then_some(claims.subject.as_str());
    store.end_sessions(&claims.profile_id, only).await?;
    tracing::info!(profile_id = claims.profile_id.as_str(), everywhere, "privacy session ended");
    Ok(())
}

/// Who is responsible for a person's data, as the policy says: WSO2 UK Limited for residents of
/// the EU, the EEA and Switzerland, WSO2 Inc. otherwise. The policy was written while the UK was in
/// the EU and names the UK's ICO for complaints, so UK residents stay with WSO2 UK Limited.
pub fn controller(country: Option<&str>) -> &'static str {
    const EU_EEA_CH_UK: [&str; 32] = [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
        "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "CH", "GB",
    ];
    match country {
        Some(code) if EU_EEA_CH_UK.contains(&code) => "WSO2 UK Limited",
        _ => "WSO2 Inc.",
    }
}

/// Where the policy sends questions, objections and complaints.
pub const DATA_PROTECTION_OFFICER: &str = "dpo@wso2.com";

/// Where a person whose controller is WSO2 UK Limited may also complain, as the policy says.
pub fn supervisory_authority(controller: &str) -> Option<&'static str> {
    (controller == "WSO2 UK Limited").then_some(
        "The data protection authority of your country; in the UK, the Information Commissioner's Office (https://ico.org.uk/)",
    )
}

/// The categories of recipients the policy names.
pub const RECIPIENTS: [&str; 4] = [
    "Subsidiaries and affiliates: WSO2 Inc. (USA), WSO2 UK Limited, WSO2 Lanka (Private) Limited, WSO2 Brasil Tecnologia E Software Ltda",
    "Service providers who help run the website and services, bound to confidentiality",
    "The card payment processor (Stripe), for processing payments only",
    "Authorities, where the law requires it",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_controller_depends_on_residence_as_the_policy_says() {
        assert_eq!(controller(Some("DE")), "WSO2 UK Limited");
        assert_eq!(controller(Some("CH")), "WSO2 UK Limited");
        assert_eq!(controller(Some("NO")), "WSO2 UK Limited");
        assert_eq!(controller(Some("US")), "WSO2 Inc.");
        assert_eq!(controller(Some("GB")), "WSO2 UK Limited");
        assert_eq!(controller(None), "WSO2 Inc.");
    }
}
