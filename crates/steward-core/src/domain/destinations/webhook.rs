//! Standard Webhooks (https://www.standardwebhooks.com): how a webhook is signed, so that its
//! receiver can check it came from Steward, unchanged, recently. The signed content is
//! `<webhook-id>.<webhook-timestamp>.<body>`, signed with HMAC-SHA256 under the destination's
//! secret, sent as `webhook-signature: v1,<base64>`.
//!
//! Each destination has its own secret, derived from the deployment's one signing key, so that a
//! receiver that leaks its secret exposes no other destination, and no secret is stored per
//! destination. `steward-admin deliveries secret --destination <id>` prints it as `whsec_<base64>`,
//! the form the Standard Webhooks libraries take.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::SecretKey;

/// A destination's signing secret: HMAC-SHA256(signing key, "steward-webhook-secret:<id>").
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    pub fn derive(signing_key: &SecretKey, destination: &str) -> Self {
        Self(signing_key.hmac(format!("steward-webhook-secret:{destination}").as_bytes()).to_vec())
    }

    /// Parses `whsec_<base64>`, as receivers hold it.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.strip_prefix("whsec_")?).ok()?;
        // Standard Webhooks' secrets are 24 to 64 bytes.
        (24..=64).contains(&bytes.len()).then_some(Self(bytes))
    }

    /// As receivers configure it: `whsec_<base64>`.
    pub fn reveal(&self) -> String {
        format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(&self.0))
    }

    /// The `webhook-signature` header's value for one delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(self.mac(id, timestamp, body)))
    }

    /// Whether any `v1` signature of the header is this delivery's (compared in constant time).
    pub fn verifies(&self, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        header.split(' ').filter_map(|entry| entry.strip_prefix("v1,")).any(|signature| {
            let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature) else { return false };
            let mut mac = self.hmac();
            mac.update(&content(id, timestamp, body));
            mac.verify_slice(&given).is_ok()
        })
    }

    fn hmac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let mut mac = self.hmac();
        mac.update(&content(id, timestamp, body));
        mac.finalize().into_bytes().into()
    }
}

fn content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    signed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_reference_does() {
        // The specification's own example (standard-webhooks libraries' tests).
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret.verifies(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            body,
            &format!("v1,bm9wZQ== {signature}")
        ));
        assert!(!secret.verifies("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_331, body, &signature));
        assert!(!secret.verifies("msg_other", 1_614_265_330, body, &signature));
    }

    #[test]
    fn each_destination_has_its_own_secret_and_it_round_trips() {
        let key = SecretKey::new(b"signing-key".to_vec());
        let crm = WebhookSecret::derive(&key, "crm");
        assert_ne!(crm.reveal(), WebhookSecret::derive(&key, "chat").reveal());
        assert_eq!(WebhookSecret::parse(&crm.reveal()).unwrap().reveal(), crm.reveal());
        assert!(!format!("{crm:?}").contains(&crm.reveal()[6..]));
    }
}
