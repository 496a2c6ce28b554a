//! Signed, unforgeable tokens for links and one-time grants (CV upload, unsubscribe, sign-in).
//!
//! A token is `<key id>.<payload>.<tag>`: the payload is base64url JSON claims and the tag is
//! HMAC-SHA-256 over a version label, the key id and the payload. Tokens are verified in constant
//! time against the key their id names.
//!
//! Keys come in families ([`KeyFamily`]), one secret each, so that a function holds only the keys
//! of what it signs or checks: whoever runs a campaign can mint unsubscribe links, not sessions.
//! Within a family every purpose signs with its own key, derived from the family's secret, so a
//! token of one purpose can never be made to verify as another even by a bug in the claims.
//!
//! A family's keys rotate: the first key signs, the others verify until they are removed, or until
//! the date they retire (`id@YYYY-MM-DD:secret`), from which their tokens are [`TokenError::Retired`]
//! (genuine, but no longer honoured: the page that gets one offers a fresh link). Only opting out
//! still takes a retired key's word ([`TokenKeys::verify_even_retired`]). A key of the release
//! before keys had families (`v1/id:secret`) is retired from the start: it checks the tokens it
//! signed then, the old way, for opting out only, so that mail already sent keeps its
//! unsubscribe links and nothing else.

use crate::domain::ids::ProfileId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Longest token accepted; anything longer is refused before any work.
const MAX_TOKEN_LEN: usize = 2048;
const VERSION_LABEL: &[u8] = b"steward-token-v2";
/// The label of the single-key release's tokens, which legacy keys check.
const LEGACY_VERSION_LABEL: &[u8] = b"steward-token-v1";

/// What a token allows. A token for one purpose is refused for every other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    CvUpload,
    Payment,
    /// Confirms pending marketing topics (double opt-in).
    ConfirmSubscription,
    /// One-click unsubscribe from a topic, or from everything (`all`): no expiry, it lasts until
    /// its key retires (and then its page offers a fresh link).
    Unsubscribe,
    /// The preference center: 60 days.
    Preferences,
    /// A privacy-center sign-in link: single use (its subject is a nonce the store consumes), minutes.
    SignIn,
    /// A privacy-center session, exchanged for a sign-in link: short-lived.
    Session,
    /// Confirms, from a person's own address, that their export may go to an address they named:
    /// single use (its subject is a nonce the store consumes), a day.
    ExportConfirm,
    /// The nominated recipient's download of an export: read-only, a few days.
    ExportDownload,
    /// Confirms a new email address from that address: single use, a day.
    EmailChange,
    /// Takes an address back after it was changed, from the old address: single use, a week.
    EmailChangeUndo,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::CvUpload => "cv-upload",
            Self::Payment => "payment",
            Self::ConfirmSubscription => "confirm-subscription",
            Self::Unsubscribe => "unsubscribe",
            Self::Preferences => "preferences",
            Self::SignIn => "sign-in",
            Self::Session => "session",
            Self::ExportConfirm => "export-confirm",
            Self::ExportDownload => "export-download",
            Self::EmailChange => "email-change",
            Self::EmailChangeUndo => "email-change-undo",
        }
    }
}

/// A short, stable id of a token for logs: it names the token without being usable as one.
pub fn token_id(token: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(token.as_bytes())[..6])
}

/// What a token says, once its signature has been checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Purpose, as [`Purpose::as_str`].
    #[serde(rename = "p")]
    purpose: String,
    /// The thing the token is about (an application id, ...).
    #[serde(rename = "sub")]
    pub subject: String,
    /// The person it belongs to.
    #[serde(rename = "pid")]
    pub profile_id: ProfileId,
    /// What the grant is for within its subject (the event or plan being paid for).
    #[serde(rename = "item", skip_serializing_if = "Option::is_none", default)]
    pub item: Option<String>,
    /// Expiry in epoch seconds; tokens without one do not expire.
    #[serde(rename = "exp", skip_serializing_if = "Option::is_none", default)]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token was signed with a key that is no longer accepted")]
    UnknownKey,
    #[error("the token's signature is wrong")]
    BadSignature,
    #[error("the token is for another purpose")]
    WrongPurpose,
    #[error("the token has expired")]
    Expired,
    /// Genuine, but its key has retired: a fresh link is needed.
    #[error("the token was signed with a key that has retired")]
    Retired,
}

/// Who holds a key: each family is one secret, given only to the functions that use its purposes
/// (`template.yaml`, `docs/deploying.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyFamily {
    /// Sign-in links, sessions, export and address-change links: the privacy function alone.
    PrivacyCenter,
    /// CV upload grants: submit-form signs, cv-upload checks.
    CvUpload,
    /// Payment grants: submit-form signs, payments checks.
    Payment,
    /// Double opt-in confirmations: submit-form and the mail-links function.
    Consent,
    /// Unsubscribe and preference links: the mail-links function, and the operator's campaigns.
    MailLinks,
}

impl KeyFamily {
    pub const ALL: [KeyFamily; 5] =
        [Self::PrivacyCenter, Self::CvUpload, Self::Payment, Self::Consent, Self::MailLinks];

    /// The name its keys are read from (a secret's name, or the environment's).
    pub fn variable(self) -> &'static str {
        match self {
            Self::PrivacyCenter => "TOKEN_KEYS_PRIVACY_CENTER",
            Self::CvUpload => "TOKEN_KEYS_CV_UPLOAD",
            Self::Payment => "TOKEN_KEYS_PAYMENT",
            Self::Consent => "TOKEN_KEYS_CONSENT",
            Self::MailLinks => "TOKEN_KEYS_MAIL_LINKS",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl Purpose {
    /// The family whose keys sign this purpose.
    pub fn family(self) -> KeyFamily {
        match self {
            Self::SignIn
            | Self::Session
            | Self::ExportConfirm
            | Self::ExportDownload
            | Self::EmailChange
            | Self::EmailChangeUndo => KeyFamily::PrivacyCenter,
            Self::CvUpload => KeyFamily::CvUpload,
            Self::Payment => KeyFamily::Payment,
            Self::ConfirmSubscription => KeyFamily::Consent,
            Self::Unsubscribe | Self::Preferences => KeyFamily::MailLinks,
        }
    }
}

#[derive(Clone)]
struct TokenKey {
    id: String,
    secret: Vec<u8>,
    /// From this time (epoch seconds) the key's tokens are refused as retired.
    retires_at: Option<i64>,
    /// A key of the single-key release: its tags were made with the secret itself, for every
    /// purpose, under the first version label. Retired from the start: it only ever vouches for
    /// opting out.
    legacy: bool,
}

impl TokenKey {
    /// The purpose's own key: HMAC of the family secret over the purpose's name.
    fn for_purpose(&self, purpose: Purpose) -> Hmac<Sha256> {
        let mut derive = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        derive.update(b"steward-token-purpose\0");
        derive.update(purpose.as_str().as_bytes());
        let key = derive.finalize().into_bytes();
        Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length")
    }

    fn tag(&self, purpose: Purpose, payload: &str) -> Hmac<Sha256> {
        let mut mac = if self.legacy {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
            mac.update(LEGACY_VERSION_LABEL);
            mac
        } else {
            let mut mac = self.for_purpose(purpose);
            mac.update(VERSION_LABEL);
            mac
        };
        mac.update(&[0]);
        mac.update(self.id.as_bytes());
        mac.update(&[0]);
        mac.update(payload.as_bytes());
        mac
    }
}

/// One family's keys; the first one signs.
#[derive(Clone)]
pub struct KeyRing(Vec<TokenKey>);

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<_> = self.0.iter().map(|k| k.id.as_str()).collect();
        write!(f, "KeyRing({ids:?}, secrets redacted)")
    }
}

impl KeyRing {
    /// Parses `id[@YYYY-MM-DD]:secret[,...]`: ids of letters and digits, secrets of 32 or more
    /// bytes; a date is when that key retires (midnight UTC), and the signing key has none. A
    /// `v1/` before the id marks a key of the single-key release, retired from the start.
    pub fn parse(text: &str) -> Result<Self, String> {
        let keys = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|pair| {
                let (name, secret) = pair.split_once(':').ok_or("each key is id:secret")?;
                let (legacy, name) = match name.strip_prefix("v1/") {
                    Some(name) => (true, name),
                    None => (false, name),
                };
                let (id, retires_at) = match name.split_once('@') {
                    Some((id, date)) => (id, Some(retirement(date)?)),
                    None => (name, None),
                };
                if id.is_empty() || id.len() > 16 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err("key ids are 1 to 16 letters or digits".to_owned());
                }
                if secret.len() < 32 {
                    return Err("key secrets are at least 32 characters".to_owned());
                }
                Ok(TokenKey { id: id.to_owned(), secret: secret.as_bytes().to_vec(), retires_at, legacy })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let Some(signing) = keys.first() else {
            return Err("at least one key is needed".into());
        };
        if signing.retires_at.is_some() || signing.legacy {
            return Err("the first key signs, so it cannot have a retirement date or be a v1/ key".into());
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|earlier| earlier.id == key.id) {
                return Err(format!("key id {} is listed twice", key.id));
            }
        }
        Ok(Self(keys))
    }
}

/// A retirement date, `YYYY-MM-DD`, as its first second (UTC).
fn retirement(date: &str) -> Result<i64, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(date, &format)
        .map(|day| day.midnight().assume_utc().unix_timestamp())
        .map_err(|_| format!("{date:?} is not a date (YYYY-MM-DD)"))
}

/// The keys a function holds, by family; tokens are signed and checked with these.
#[derive(Clone, Default)]
pub struct TokenKeys([Option<KeyRing>; 5]);

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held: Vec<_> = KeyFamily::ALL.iter().filter(|family| self.holds(**family)).collect();
        write!(f, "TokenKeys({held:?}, secrets redacted)")
    }
}

impl TokenKeys {
    /// Every family whose variable `lookup` finds; none is required here (see [`Self::require`]).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, (&'static str, String)> {
        let mut keys = Self::default();
        for family in KeyFamily::ALL {
            if let Some(text) = lookup(family.variable()).filter(|text| !text.trim().is_empty()) {
                keys =
                    keys.with(family, KeyRing::parse(&text).map_err(|reason| (family.variable(), reason))?);
            }
        }
        Ok(keys)
    }

    /// The same ring for every family: tests and fuzzing, never a deployment.
    pub fn everywhere(ring: KeyRing) -> Self {
        Self(std::array::from_fn(|_| Some(ring.clone())))
    }

    pub fn with(mut self, family: KeyFamily, ring: KeyRing) -> Self {
        self.0[family.index()] = Some(ring);
        self
    }

    pub fn holds(&self, family: KeyFamily) -> bool {
        self.0[family.index()].is_some()
    }

    /// The first family of `needed` that is not held, by its variable's name: checked at cold
    /// start, so that signing never meets a missing key.
    pub fn require(&self, needed: &[KeyFamily]) -> Result<(), &'static str> {
        match needed.iter().find(|family| !self.holds(**family)) {
            Some(family) => Err(family.variable()),
            None => Ok(()),
        }
    }

    fn ring(&self, purpose: Purpose) -> Option<&KeyRing> {
        self.0[purpose.family().index()].as_ref()
    }

    pub fn sign(
        &self,
        purpose: Purpose,
        subject: &str,
        profile_id: &ProfileId,
        expires_at: Option<i64>,
    ) -> String {
        self.sign_for_item(purpose, subject, profile_id, None, expires_at)
    }

    /// # Panics
    /// When the function was not given the purpose's family: [`Self::require`] at cold start
    /// makes that a configuration error instead.
    pub fn sign_for_item(
        &self,
        purpose: Purpose,
        subject: &str,
        profile_id: &ProfileId,
        item: Option<&str>,
        expires_at: Option<i64>,
    ) -> String {
        let claims = Claims {
            purpose: purpose.as_str().to_owned(),
            subject: subject.to_owned(),
            profile_id: profile_id.to_owned(),
            item: item.map(str::to_owned),
            expires_at,
        };
        let ring = self.ring(purpose).unwrap_or_else(|| {
            panic!(
                "{} is required at cold start to sign {} tokens",
                purpose.family().variable(),
                purpose.as_str()
            )
        });
        let key = &ring.0[0];
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let tag = URL_SAFE_NO_PAD.encode(key.tag(purpose, &payload).finalize().into_bytes());
        format!("{}.{payload}.{tag}", key.id)
    }

    /// Checks the signature (in constant time) with the purpose's key, then the key's
    /// retirement and the token's expiry.
    pub fn verify(
        &self,
        token: &str,
        purpose: Purpose,
        now_epoch_seconds: i64,
    ) -> Result<Claims, TokenError> {
        let (key, claims) = self.genuine(token, purpose)?;
        if key.legacy || key.retires_at.is_some_and(|at| at <= now_epoch_seconds) {
            return Err(TokenError::Retired);
        }
        if claims.expires_at.is_some_and(|exp| exp <= now_epoch_seconds) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// As [`Self::verify`], but a retired key's token still counts: only for opting out, which is
    /// safe whoever holds the key (it can take people off lists, never add them or open anything),
    /// and which mail providers' one-click requests need long after the mail was sent.
    pub fn verify_even_retired(
        &self,
        token: &str,
        purpose: Purpose,
        now_epoch_seconds: i64,
    ) -> Result<Claims, TokenError> {
        let (_, claims) = self.genuine(token, purpose)?;
        if claims.expires_at.is_some_and(|exp| exp <= now_epoch_seconds) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    fn genuine(&self, token: &str, purpose: Purpose) -> Result<(&TokenKey, Claims), TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.trim().split('.');
        let (Some(id), Some(payload), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| TokenError::Malformed)?;
        let ring = self.ring(purpose).ok_or(TokenError::UnknownKey)?;
        let key = ring.0.iter().find(|k| k.id == id).ok_or(TokenError::UnknownKey)?;
        // A token of another purpose fails here: its tag was made with that purpose's key.
        key.tag(purpose, payload).verify_slice(&tag).map_err(|_| TokenError::BadSignature)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
        if claims.purpose != purpose.as_str() {
            return Err(TokenError::WrongPurpose);
        }
        Ok((key, claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(id: &str) -> ProfileId {
        ProfileId::from_stored(id.to_owned())
    }

    fn keys(spec: &str) -> TokenKeys {
        TokenKeys::everywhere(KeyRing::parse(spec).unwrap())
    }

    const K1: &str = "k1:0123456789abcdef0123456789abcdef";
    const K2: &str = "k2:fedcba9876543210fedcba9876543210";

    #[test]
    fn a_signed_token_verifies_for_its_purpose_until_it_expires() {
        let keys = keys(K1);
        let token = keys.sign(Purpose::CvUpload, "app-1", &pid("profile-1"), Some(1_000));
        let claims = keys.verify(&token, Purpose::CvUpload, 999).unwrap();
        assert_eq!((claims.subject.as_str(), claims.profile_id.as_str()), ("app-1", "profile-1"));
        assert_eq!(keys.verify(&token, Purpose::CvUpload, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn forged_truncated_and_altered_tokens_are_refused() {
        let keys = keys(K1);
        let token = keys.sign(Purpose::CvUpload, "app-1", &pid("profile-1"), None);
        let (head, tag) = token.rsplit_once('.').unwrap();
        let other_payload = URL_SAFE_NO_PAD.encode(br#"{"p":"cv-upload","sub":"app-2","pid":"profile-1"}"#);
        let forged = format!("k1.{other_payload}.{tag}");
        assert_eq!(keys.verify(&forged, Purpose::CvUpload, 0), Err(TokenError::BadSignature));
        assert_eq!(keys.verify(head, Purpose::CvUpload, 0), Err(TokenError::Malformed));
        assert_eq!(keys.verify(&format!("{token}x"), Purpose::CvUpload, 0), Err(TokenError::BadSignature));
        assert_eq!(keys.verify("", Purpose::CvUpload, 0), Err(TokenError::Malformed));
        assert_eq!(keys.verify(&"a.".repeat(2000), Purpose::CvUpload, 0), Err(TokenError::Malformed));
        let stranger =
            TokenKeys::everywhere(KeyRing::parse("k1:another-secret-of-at-least-32-chars!!").unwrap());
        assert_eq!(stranger.verify(&token, Purpose::CvUpload, 0), Err(TokenError::BadSignature));
    }

    #[test]
    fn every_purpose_signs_with_its_own_key_so_no_token_serves_another_purpose() {
        let keys = keys(K1);
        let token = keys.sign_for_item(Purpose::Payment, "reg-1", &pid("p"), Some("wso2con-2027"), None);
        assert_eq!(keys.verify(&token, Purpose::Payment, 0).unwrap().item.as_deref(), Some("wso2con-2027"));
        assert_eq!(keys.verify(&token, Purpose::CvUpload, 0), Err(TokenError::BadSignature));
        // Same family, same secret: still another purpose's key.
        let session = keys.sign(Purpose::Session, "session", &pid("p"), None);
        assert_eq!(keys.verify(&session, Purpose::SignIn, 0), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_function_checks_only_the_families_it_holds() {
        let campaigns = TokenKeys::default().with(KeyFamily::MailLinks, KeyRing::parse(K1).unwrap());
        let unsubscribe = campaigns.sign(Purpose::Unsubscribe, "all", &pid("p"), None);
        assert!(campaigns.verify(&unsubscribe, Purpose::Unsubscribe, 0).is_ok());
        // Even holding the same secret for sessions elsewhere, the campaign keys open no session.
        let center = TokenKeys::default().with(KeyFamily::PrivacyCenter, KeyRing::parse(K2).unwrap());
        let forged = campaigns.clone().with(KeyFamily::PrivacyCenter, KeyRing::parse(K1).unwrap()).sign(
            Purpose::Session,
            "session",
            &pid("p"),
            None,
        );
        assert!(center.verify(&forged, Purpose::Session, 0).is_err());
        assert_eq!(campaigns.verify(&forged, Purpose::Session, 0), Err(TokenError::UnknownKey));
        assert_eq!(campaigns.require(&[KeyFamily::MailLinks]), Ok(()));
        assert_eq!(campaigns.require(&[KeyFamily::MailLinks, KeyFamily::Consent]), Err("TOKEN_KEYS_CONSENT"));
        let from_env =
            TokenKeys::from_lookup(|name| (name == "TOKEN_KEYS_PAYMENT").then(|| K1.to_owned())).unwrap();
        assert!(from_env.holds(KeyFamily::Payment) && !from_env.holds(KeyFamily::PrivacyCenter));
    }

    #[test]
    fn rotation_keeps_tokens_of_older_keys_working_until_removed() {
        let old = keys(K1);
        let token = old.sign(Purpose::CvUpload, "a", &pid("p"), None);
        let rotated = keys(&format!("{K2},{K1}"));
        assert!(rotated.verify(&token, Purpose::CvUpload, 0).is_ok());
        assert!(rotated.sign(Purpose::CvUpload, "a", &pid("p"), None).starts_with("k2."));
        assert_eq!(keys(K2).verify(&token, Purpose::CvUpload, 0), Err(TokenError::UnknownKey));
    }

    #[test]
    fn a_key_retires_on_its_date_and_its_genuine_tokens_are_then_retired_not_forged() {
        let token = keys(K1).sign(Purpose::Unsubscribe, "all", &pid("p"), None);
        let retiring = keys(&format!("{K2},k1@2027-01-01:0123456789abcdef0123456789abcdef"));
        let new_year = 1_798_761_600; // 2027-01-01T00:00:00Z
        assert!(retiring.verify(&token, Purpose::Unsubscribe, new_year - 1).is_ok());
        assert_eq!(retiring.verify(&token, Purpose::Unsubscribe, new_year), Err(TokenError::Retired));
        let opting_out = retiring.verify_even_retired(&token, Purpose::Unsubscribe, new_year).unwrap();
        assert_eq!(opting_out.profile_id, pid("p"));
        let forged = keys("k1:another-secret-of-at-least-32-chars!!").sign(
            Purpose::Unsubscribe,
            "all",
            &pid("q"),
            None,
        );
        assert_eq!(retiring.verify(&forged, Purpose::Unsubscribe, new_year), Err(TokenError::BadSignature));
        assert_eq!(
            retiring.verify_even_retired(&forged, Purpose::Unsubscribe, new_year),
            Err(TokenError::BadSignature)
        );
        let expired = retiring.sign(Purpose::Preferences, "preferences", &pid("p"), Some(10));
        assert_eq!(
            retiring.verify_even_retired(&expired, Purpose::Preferences, 10),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_key_of_the_single_key_release_checks_the_tokens_it_signed_then_and_signs_nothing() {
        // A token as the single-key release made it: the secret itself, the first label.
        let claims = br#"{"p":"unsubscribe","sub":"all","pid":"p"}"#;
        let payload = URL_SAFE_NO_PAD.encode(claims);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"0123456789abcdef0123456789abcdef").unwrap();
        mac.update(b"steward-token-v1\0k1\0");
        mac.update(payload.as_bytes());
        let old = format!("k1.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));

        let ring = keys(&format!("{K2},v1/k1:0123456789abcdef0123456789abcdef"));
        assert_eq!(ring.verify_even_retired(&old, Purpose::Unsubscribe, 0).unwrap().profile_id, pid("p"));
        assert_eq!(ring.verify(&old, Purpose::Unsubscribe, 0), Err(TokenError::Retired), "opting out only");
        assert_eq!(ring.verify(&old, Purpose::Preferences, 0), Err(TokenError::WrongPurpose));
        assert!(KeyRing::parse("v1/k1:0123456789abcdef0123456789abcdef").is_err(), "a v1 key never signs");
    }

    #[test]
    fn weak_or_malformed_key_lists_are_refused_and_never_printed() {
        assert!(KeyRing::parse("").is_err());
        assert!(KeyRing::parse("k1:short").is_err());
        assert!(KeyRing::parse("bad id:0123456789abcdef0123456789abcdef").is_err());
        assert!(KeyRing::parse("k1@2027-13-01:0123456789abcdef0123456789abcdef").is_err());
        assert!(KeyRing::parse(&format!("k1@2027-01-01:0123456789abcdef0123456789abcdef,{K2}")).is_err());
        assert!(KeyRing::parse(&format!("{K1},{K1}")).is_err());
        assert!(TokenKeys::from_lookup(|_| Some("k1:short".to_owned())).is_err());
        assert!(!format!("{:?}", keys(K1)).contains("0123"));
        assert!(!format!("{:?}", KeyRing::parse(K1).unwrap()).contains("0123"));
    }
}
