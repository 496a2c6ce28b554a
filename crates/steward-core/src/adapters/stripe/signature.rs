//! Stripe's webhook signature scheme: `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]`,
//! where each `v1` is HMAC-SHA256, keyed with an endpoint secret, of `"<t>.<raw body>"`.
//! Several `v1` entries appear while Stripe rolls a secret; several secrets are configured while
//! we roll ours. Any match of any pair is enough; comparisons are constant-time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    Mismatch,
    Stale,
    /// The body is larger than any event Stripe sends: refused before any MAC is computed.
    TooLarge,
}

/// Stripe signs with one `v1` entry, two while an endpoint secret is rolled: a header with more
/// is not Stripe's, and is refused before any MAC is computed (each entry would otherwise cost
/// an HMAC over the whole body).
pub const MAX_SIGNATURES: usize = 4;

/// The largest body verified. Stripe's events are a few kilobytes (an object and what changed in
/// it); a quarter of a megabyte leaves room for the largest invoice with many lines, and bounds
/// what an unsigned request can make us hash.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Missing => "the Stripe-Signature header is missing",
            Self::Malformed => "the Stripe-Signature header is malformed",
            Self::Mismatch => "no signature matches the body",
            Self::Stale => "the signature's timestamp is outside the tolerance",
            Self::TooLarge => "the body is larger than any Stripe event",
        })
    }
}

/// Checks the header against the raw body bytes; returns the signed timestamp.
pub fn verify(
    header: Option<&str>,
    payload: &[u8],
    secrets: &[String],
    tolerance_seconds: i64,
    now: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(SignatureError::TooLarge);
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" if timestamp.is_none() => {
                timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?)
            }
            "t" => return Err(SignatureError::Malformed),
            "v1" if signatures.len() == MAX_SIGNATURES => return Err(SignatureError::Malformed),
            "v1" => signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
            _ => {} // other schemes (v0, test) are ignored, as Stripe's libraries do
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    // The tolerance costs nothing to check, so a replayed or made-up old header is refused
    // before the body is hashed. abs_diff: a timestamp near i64's ends must not overflow (found
    // by fuzzing).
    if now.abs_diff(timestamp) > tolerance_seconds.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    // One pass over the body per secret; each signature is then compared with that MAC in
    // constant time (a clone of the finished state costs only the final blocks).
    let matches = secrets.iter().any(|secret| {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        signatures.iter().any(|signature| mac.clone().verify_slice(signature).is_ok())
    });
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    Ok(timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(payload);
        hex::encode(mac.finalize().into_bytes())
    }

    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    const NOW: i64 = 1_795_944_600;

    fn secrets() -> Vec<String> {
        vec!["whsec_current".into(), "whsec_previous".into()]
    }

    #[test]
    fn a_signed_timestamp_at_the_ends_of_time_is_stale_not_an_overflow() {
        for timestamp in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let header = format!("t={timestamp},v1={}", sign("whsec_current", timestamp, BODY));
            assert_eq!(verify(Some(&header), BODY, &secrets(), 300, NOW), Err(SignatureError::Stale));
        }
    }

    #[test]
    fn a_signature_made_as_stripe_makes_it_verifies() {
        let header = format!("t={NOW},v1={},v0=ignored", sign("whsec_current", NOW, BODY));
        assert_eq!(verify(Some(&header), BODY, &secrets(), 300, NOW + 299), Ok(NOW));
    }

    #[test]
    fn the_published_scheme_is_hmac_sha256_over_timestamp_dot_payload() {
        // Stripe's documented computation, recomputed independently of `verify`.
        let expected = sign("whsec_test", 1_492_774_577, b"{}");
        let header = format!("t=1492774577,v1={expected}");
        assert!(verify(Some(&header), b"{}", &["whsec_test".into()], 300, 1_492_774_577).is_ok());
    }

    #[test]
    fn more_entries_than_stripe_sends_and_bodies_larger_than_its_events_are_refused_unhashed() {
        let good = sign("whsec_current", NOW, BODY);
        let padding = format!(",v1={}", "00".repeat(32)).repeat(MAX_SIGNATURES - 1);
        let header = format!("t={NOW}{padding},v1={good}");
        assert!(verify(Some(&header), BODY, &secrets(), 300, NOW).is_ok(), "as many as Stripe may send");
        let header = format!("t={NOW},v1={}{padding},v1={good}", "00".repeat(32));
        assert_eq!(verify(Some(&header), BODY, &secrets(), 300, NOW), Err(SignatureError::Malformed));

        let large = vec![b' '; MAX_PAYLOAD_BYTES + 1];
        let header = format!("t={NOW},v1={}", sign("whsec_current", NOW, &large));
        assert_eq!(verify(Some(&header), &large, &secrets(), 300, NOW), Err(SignatureError::TooLarge));
    }

    #[test]
    fn any_of_several_signatures_and_secrets_may_match() {
        let header = format!("t={NOW},v1={},v1={}", "00".repeat(32), sign("whsec_previous", NOW, BODY));
        assert!(verify(Some(&header), BODY, &secrets(), 300, NOW).is_ok());
    }

    #[test]
    fn tampered_stale_unsigned_and_malformed_are_refused() {
        let good = sign("whsec_current", NOW, BODY);
        let header = format!("t={NOW},v1={good}");
        assert_eq!(
            verify(Some(&header), b"{\"id\":\"evt_2\"}", &secrets(), 300, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(Some(&header), BODY, &secrets(), 300, NOW + 301), Err(SignatureError::Stale));
        assert_eq!(
            verify(Some(&header), BODY, &["whsec_other".into()], 300, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(None, BODY, &secrets(), 300, NOW), Err(SignatureError::Missing));
        for bad in [
            "",
            "t=abc,v1=00",
            &format!("v1={good}"),
            &format!("t={NOW}"),
            &format!("t={NOW},v1=zz"),
            "garbage",
            &format!("t=1,t=2,v1={good}"),
        ] {
            assert_eq!(
                verify(Some(bad), BODY, &secrets(), 300, NOW),
                Err(SignatureError::Malformed),
                "{bad:?}"
            );
        }
    }
}
