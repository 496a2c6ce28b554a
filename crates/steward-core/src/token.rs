//! Signed, unforgeable tokens for links and one-time grants (CV upload, unsubscribe, sign-in).
//!
//! A token is `<key id>.<payload>.<tag>`: the payload is base64url JSON claims and the tag is
//! HMAC-SHA-256 over a version label, the key id and the payload. Tokens are verified in constant
//! time against the key their id names, so keys can be rotated: new tokens use the first key,
//! and tokens signed with any other configured key keep working until that key is removed.

use crate::domain::ids::ProfileId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Longest token accepted; anything longer is refused before any work.
const MAX_TOKEN_LEN: usize = 2048;
const VERSION_LABEL: &[u8] = b"steward-token-v1";

/// What a token allows. A token for one purpose is refused for every other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    CvUpload,
    Payment,
    /// Confirms pending marketing topics (double opt-in).
    ConfirmSubscription,
    /// One-click unsubscribe from a topic, or from everything (`all`); never expires.
    Unsubscribe,
    /// The preference center; never expires.
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
}

#[derive(Clone)]
struct TokenKey {
    id: String,
    secret: Vec<u8>,
}

/// The keys tokens are signed and checked with; the first one signs.
#[derive(Clone)]
pub struct TokenKeys(Vec<TokenKey>);

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<_> = self.0.iter().map(|k| k.id.as_str()).collect();
        write!(f, "TokenKeys({ids:?}, secrets redacted)")
    }
}

impl TokenKeys {
    /// Parses `id:secret[,id:secret...]`: ids of letters and digits, secrets of 32 or more bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let keys = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|pair| {
                let (id, secret) = pair.split_once(':').ok_or("each key is id:secret")?;
                if id.is_empty() || id.len() > 16 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err("key ids are 1 to 16 letters or digits");
                }
                if secret.len() < 32 {
                    return Err("key secrets are at least 32 characters");
                }
                Ok(TokenKey { id: id.to_owned(), secret: secret.as_bytes().to_vec() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err("at least one key is needed".into());
        }
        Ok(Self(keys))
    }

    fn tag(key: &TokenKey, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&key.secret).expect("HMAC takes keys of any length");
        mac.update(VERSION_LABEL);
        mac.update(&[0]);
        mac.update(key.id.as_bytes());
        mac.update(&[0]);
        mac.update(payload.as_bytes());
        mac
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
        let key = &self.0[0];
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let tag = URL_SAFE_NO_PAD.encode(Self::tag(key, &payload).finalize().into_bytes());
        format!("{}.{payload}.{tag}", key.id)
    }

    /// Checks the signature (in constant time), then the purpose and expiry.
    pub fn verify(
        &self,
        token: &str,
        purpose: Purpose,
        now_epoch_seconds: i64,
    ) -> Result<Claims, TokenError> {
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
        let key = self.0.iter().find(|k| k.id == id).ok_or(TokenError::UnknownKey)?;
        Self::tag(key, payload).verify_slice(&tag).map_err(|_| TokenError::BadSignature)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
        if claims.purpose != purpose.as_str() {
            return Err(TokenError::WrongPurpose);
        }
        if claims.expires_at.is_some_and(|exp| exp <= now_epoch_seconds) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(id: &str) -> ProfileId {
        ProfileId::from_stored(id.to_owned())
    }

    fn keys(spec: &str) -> TokenKeys {
        TokenKeys::parse(spec).unwrap()
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
        let stranger = TokenKeys::parse("k1:another-secret-of-at-least-32-chars!!").unwrap();
        assert_eq!(stranger.verify(&token, Purpose::CvUpload, 0), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_for_one_purpose_is_refused_for_another() {
        let keys = keys(K1);
        let token = keys.sign_for_item(Purpose::Payment, "reg-1", &pid("p"), Some("wso2con-2026"), None);
        assert_eq!(keys.verify(&token, Purpose::CvUpload, 0), Err(TokenError::WrongPurpose));
        assert_eq!(keys.verify(&token, Purpose::Payment, 0).unwrap().item.as_deref(), Some("wso2con-2026"));
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
    fn weak_or_malformed_key_lists_are_refused_and_never_printed() {
        assert!(TokenKeys::parse("").is_err());
        assert!(TokenKeys::parse("k1:short").is_err());
        assert!(TokenKeys::parse("bad id:0123456789abcdef0123456789abcdef").is_err());
        assert!(!format!("{:?}", keys(K1)).contains("0123"));
    }
}
