//! Secrets that cannot be printed by accident: `Debug` and `Display` show a placeholder.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A secret key, kept out of logs and panic messages.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// HMAC-SHA-256 of `parts`, each length-prefixed so that ("ab","c") and ("a","bc") differ.
    pub fn keyed_hash(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// Plain HMAC-SHA-256 of one message: for keys derived from this one that others must derive
    /// the same way (a webhook receiver's secret).
    pub fn hmac(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// A short, stable, non-reversible label for a personal value (an email, an IP address), to use
    /// in keys and logs instead of the value itself.
    pub fn pseudonym(&self, purpose: &str, value: &str) -> String {
        hex::encode(&self.keyed_hash(&[purpose.as_bytes(), value.as_bytes()])[..16])
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_key() {
        let key = SecretKey::new(b"super-secret".to_vec());
        assert!(!format!("{key:?}").contains("super"));
    }

    #[test]
    fn pseudonyms_depend_on_purpose_value_and_key() {
        let key = SecretKey::new(b"k1".to_vec());
        let other = SecretKey::new(b"k2".to_vec());
        let a = key.pseudonym("email", "a@example.com");
        assert_eq!(a, key.pseudonym("email", "a@example.com"));
        assert_ne!(a, key.pseudonym("ip", "a@example.com"));
        assert_ne!(a, other.pseudonym("email", "a@example.com"));
        assert_eq!(a.len(), 32);
    }
}
