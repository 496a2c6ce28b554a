//! Identifiers. Ids are random (or, for idempotent submissions, derived from the client's key) and
//! carry no personal data, so they are what logs and links use.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::fields::FieldError;
use crate::t;

/// A person's profile, shared by every function. Minted here, read back from the store or from a
/// token Steward signed: never taken from what a browser typed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ProfileId(String);

impl ProfileId {
    pub fn new_random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Rebuilds an id read back from the store (or from a token or object Steward signed).
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }

    /// An id someone typed (an operator's `--profile`): 32 lower-case hex digits, as minted.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        if text.len() == 32 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(text.to_owned()))
        } else {
            Err(FieldError::new(field, "invalid_profile_id", t!("error-invalid-profile-id")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Read as the text it is wherever text is wanted (keys, links, logs); made only as above.
impl std::ops::Deref for ProfileId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&ProfileId> for String {
    fn from(id: &ProfileId) -> Self {
        id.0.clone()
    }
}

impl From<&ProfileId> for serde_json::Value {
    fn from(id: &ProfileId) -> Self {
        id.0.clone().into()
    }
}

impl From<ProfileId> for serde_json::Value {
    fn from(id: ProfileId) -> Self {
        id.0.into()
    }
}

impl std::fmt::Display for ProfileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One submission of one form.
/// A short, stable digest of a text, for ids derived from it (twelve hex digits of SHA-256).
pub fn short_digest(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..6])
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SubmissionId(String);

impl SubmissionId {
    pub fn new_random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The same form, idempotency key and person always give the same id, which is what makes a
    /// retry store nothing new: the store refuses a second item with this id. Two people who happen
    /// to send the same key get different ids (the id is also their registration's).
    pub fn for_idempotency_key(form: &FormId, key: &IdempotencyKey, normalized_email: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(form.as_str())
            .chain_update([0])
            .chain_update(key.as_str())
            .chain_update([0])
            .chain_update(normalized_email)
            .finalize();
        let bytes: [u8; 16] = digest[..16].try_into().expect("SHA-256 is 32 bytes");
        Self(uuid::Uuid::new_v8(bytes).simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a form in the catalogue: lower-case letters, digits and hyphens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct FormId(String);

impl FormId {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FormId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value).ok_or_else(|| format!("{value:?} is not a form id (a-z, 0-9, -)"))
    }
}

/// A client's idempotency key (`Idempotency-Key` header or the `_submission_id` form field):
/// 1 to 255 visible ASCII characters, as Stripe and the IETF draft allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() || value.len() > 255 || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new(
                field,
                "invalid_idempotency_key",
                t!("error-invalid-idempotency-key"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_profile_id_is_exactly_what_steward_mints() {
        let minted = ProfileId::new_random();
        assert_eq!(ProfileId::parse("profile", &format!(" {minted} ")), Ok(minted));
        for bad in
            ["", "PROFILE#abc", "0123456789abcdef0123456789ABCDEF", "0123456789abcdef0123456789abcde", "../x"]
        {
            assert_eq!(ProfileId::parse("profile", bad).unwrap_err().field, "profile", "{bad}");
        }
    }

    #[test]
    fn idempotent_submission_ids_depend_on_form_and_key() {
        let key = IdempotencyKey::parse("k", "abc-123").unwrap();
        let form = FormId::parse("contact-us").unwrap();
        let other = FormId::parse("newsletter").unwrap();
        let id = SubmissionId::for_idempotency_key(&form, &key, "a@example.com");
        assert_eq!(id, SubmissionId::for_idempotency_key(&form, &key, "a@example.com"));
        assert_ne!(id, SubmissionId::for_idempotency_key(&other, &key, "a@example.com"));
        assert_ne!(id, SubmissionId::for_idempotency_key(&form, &key, "b@example.com"));
        assert_ne!(id, SubmissionId::new_random());
    }

    #[test]
    fn keys_and_form_ids_are_bounded() {
        assert!(IdempotencyKey::parse("k", "").is_err());
        assert!(IdempotencyKey::parse("k", &"x".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("k", "has space").is_err());
        assert!(FormId::parse("Contact").is_none());
        assert!(FormId::parse("../etc").is_none());
        assert!(FormId::parse("contact-us").is_some());
    }
}
