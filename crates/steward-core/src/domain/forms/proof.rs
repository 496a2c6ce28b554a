//! Proof of work against bots, self-hosted: no third party, no cookie, nothing about the person.
//! It speaks ALTCHA's protocol (https://altcha.org, its SHA-256 challenge): Steward hands out a
//! signed challenge, the hash of a salt and a secret number below a maximum; the browser finds
//! the number by trying them, and sends it back with the form. Finding it costs a browser a moment
//! and a bot farm that much per submission; checking it costs one hash and one HMAC.
//!
//! A challenge expires (its expiry is inside the salt, which the signature covers, so it cannot be
//! moved) and works once. How hard it is adapts: an address that keeps asking for challenges gets
//! harder ones. Forms work without it too (a plain HTML form has no script to solve it), under
//! stricter limits (`forms::submit`).

use std::future::Future;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::domain::ports::{FixedWindow, RateLimiter, StoreError};
use crate::secret::SecretKey;
use crate::time::Timestamp;

/// The form field (and JSON member) that carries a solved challenge, as ALTCHA's widget names it.
pub const FIELD: &str = "altcha";
/// The field Cloudflare Turnstile's widget fills in, where a deployment turns Turnstile on.
pub const TURNSTILE_FIELD: &str = "cf-turnstile-response";
/// How long a challenge can be solved and used.
pub const CHALLENGE_SECONDS: i64 = 600;
/// The easiest challenge's range: a browser tries half of it on average, a fraction of a second.
pub const EASIEST: u64 = 50_000;
/// The hardest: 64 times the easiest, still a few seconds on a phone, a real cost at scale.
pub const HARDEST: u64 = EASIEST * 64;
/// Challenges one address may ask for in a window before each next one gets twice as hard.
pub const CHALLENGES_PER_STEP: u32 = 10;

/// The key challenges are signed with: its own, derived from the hash key (which every function
/// that takes forms holds) for this purpose alone.
#[derive(Clone)]
pub struct ProofKey(SecretKey);

impl ProofKey {
    pub fn derived_from(hash_key: &SecretKey) -> Self {
        Self(SecretKey::new(hash_key.keyed_hash(&[b"steward-proof-of-work-v1"]).to_vec()))
    }

    fn mac(&self, challenge: &str) -> Hmac<Sha256> {
        let key = self.0.keyed_hash(&[b"challenge"]);
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
        mac.update(challenge.as_bytes());
        mac
    }
}

/// A challenge, as ALTCHA's widget reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

/// How hard the next challenge for an address is, given how many it asked for in the window:
/// it doubles with every [`CHALLENGES_PER_STEP`], up to [`HARDEST`].
pub fn difficulty(asked_in_window: u32) -> u64 {
    let steps = (asked_in_window.saturating_sub(1) / CHALLENGES_PER_STEP).min(6);
    (EASIEST << steps).min(HARDEST)
}

/// A new challenge of the given difficulty, to solve before `now + CHALLENGE_SECONDS`.
pub fn challenge(key: &ProofKey, maxnumber: u64, now: i64) -> Challenge {
    // The expiry is part of the salt (the delimited form ALTCHA settled on), so the signature
    // covers it; the random part makes every challenge different.
    let salt = format!("{}?expires={}&", uuid::Uuid::new_v4().simple(), now + CHALLENGE_SECONDS);
    // The number comes from randomness of its own: nothing in the salt tells it.
    let secret = uuid::Uuid::new_v4();
    let drawn = u64::from_le_bytes(secret.as_bytes()[..8].try_into().expect("a UUID has 16 bytes"));
    let number = drawn % (maxnumber.max(1) + 1);
    let challenge = hash_hex(&salt, number);
    let signature = hex::encode(key.mac(&challenge).finalize().into_bytes());
    Challenge { algorithm: "SHA-256".to_owned(), challenge, maxnumber, salt, signature }
}

fn hash_hex(salt: &str, number: u64) -> String {
    hex::encode(Sha256::digest(format!("{salt}{number}").as_bytes()))
}

/// A solved challenge, as its payload says: genuine and still in time, not yet known to be unused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solved {
    /// The challenge itself: what marks it used.
    pub challenge: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the proof is not a solved challenge")]
    Malformed,
    #[error("the proof does not solve a challenge of ours")]
    Wrong,
    #[error("the challenge has expired")]
    Expired,
    #[error("the challenge was used already")]
    Used,
    /// Cloudflare Turnstile, turned on, said no.
    #[error("Turnstile did not vouch for the sender")]
    TurnstileRefused,
}

#[derive(Deserialize)]
struct Payload {
    algorithm: String,
    challenge: String,
    number: u64,
    salt: String,
    signature: String,
}

/// Checks a solution (the base64 JSON payload ALTCHA's widget sends): our signature, over a
/// challenge the number solves, whose expiry has not passed. Nothing is stored here.
pub fn check(key: &ProofKey, payload: &str, now: i64) -> Result<Solved, ProofError> {
    if payload.len() > 1024 {
        return Err(ProofError::Malformed);
    }
    let bytes = STANDARD.decode(payload.trim()).map_err(|_| ProofError::Malformed)?;
    let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| ProofError::Malformed)?;
    if payload.algorithm != "SHA-256" {
        return Err(ProofError::Malformed);
    }
    let signature = hex::decode(&payload.signature).map_err(|_| ProofError::Malformed)?;
    key.mac(&payload.challenge).verify_slice(&signature).map_err(|_| ProofError::Wrong)?;
    if hash_hex(&payload.salt, payload.number) != payload.challenge {
        return Err(ProofError::Wrong);
    }
    let expires_at = payload
        .salt
        .split_once('?')
        .and_then(|(_, query)| query.split('&').find_map(|pair| pair.strip_prefix("expires=")))
        .and_then(|at| at.parse::<i64>().ok())
        .ok_or(ProofError::Malformed)?;
    if expires_at <= now {
        return Err(ProofError::Expired);
    }
    Ok(Solved { challenge: payload.challenge, expires_at })
}

/// The next challenge for whoever asks from `source_ip`: harder the more that address asked for
/// in the window (counted up to the hardest step; past it, every challenge is the hardest).
pub async fn next_challenge(
    store: &impl RateLimiter,
    config: &Config,
    source_ip: &str,
    now: Timestamp,
) -> Result<Challenge, StoreError> {
    let window = FixedWindow::containing(now, config.rate_limits.window);
    let address = config.hash_key.pseudonym("rate-ip", source_ip);
    let this_request = uuid::Uuid::new_v4().simple().to_string();
    let ceiling = CHALLENGES_PER_STEP * 7;
    let asked = store.hit_once("challenge-ip", &address, &this_request, ceiling, window).await?;
    let key = ProofKey::derived_from(&config.hash_key);
    Ok(challenge(&key, difficulty(asked), now.epoch_seconds()))
}

/// A third party's check that a person sent a form (Cloudflare Turnstile, `adapters::turnstile`),
/// which a deployment may turn on beside the proof of work. The port.
pub trait HumanCheck {
    /// Whether the check is turned on at all.
    fn enabled(&self) -> bool;
    /// Whether `token` shows a person solved the check, from `remote_ip`. The service being
    /// unreachable is `StoreError::Unavailable`: the form is refused for now, not judged.
    fn verify(&self, token: &str, remote_ip: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// No third-party check: forms show a person sent them by the proof of work alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHumanCheck;

impl HumanCheck for NoHumanCheck {
    fn enabled(&self) -> bool {
        false
    }

    async fn verify(&self, _token: &str, _remote_ip: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
}

/// What a form carries to show a person sent it, and from where.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub remote_ip: &'a str,
    /// A solved challenge ([`FIELD`]).
    pub proof_of_work: Option<&'a str>,
    /// A Turnstile token ([`TURNSTILE_FIELD`]), which counts only where Turnstile is on.
    pub turnstile: Option<&'a str>,
}

impl<'a> Evidence<'a> {
    /// A plain form from `remote_ip`, which carries neither.
    pub fn none(remote_ip: &'a str) -> Self {
        Self { remote_ip, proof_of_work: None, turnstile: None }
    }
}

/// Why a form's proof of work did not let it in.
#[derive(Debug, thiserror::Error)]
pub enum SpendError {
    #[error(transparent)]
    Refused(#[from] ProofError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a form showed a person sent it: the proof of work it carries is checked and spent
/// before anything else is written, once per `event` (the same submission retried may carry it
/// again; any other use is refused); without one, a Turnstile token where Turnstile is on.
/// `false`: it carries neither, and is held to stricter limits.
pub async fn spend(
    store: &impl RateLimiter,
    humans: &impl HumanCheck,
    config: &Config,
    evidence: &Evidence<'_>,
    event: &str,
    now: i64,
) -> Result<bool, SpendError> {
    let Some(payload) = evidence.proof_of_work else {
        return match evidence.turnstile {
            Some(token) if humans.enabled() => match humans.verify(token, evidence.remote_ip).await? {
                true => Ok(true),
                false => Err(ProofError::TurnstileRefused.into()),
            },
            _ => Ok(false),
        };
    };
    let solved = check(&ProofKey::derived_from(&config.hash_key), payload, now)?;
    let lifetime = FixedWindow { start: solved.expires_at, end: solved.expires_at };
    if store.hit_once("proof", &solved.challenge, event, 1, lifetime).await? > 1 {
        return Err(ProofError::Used.into());
    }
    Ok(true)
}

/// Solves a challenge by trying every number, as a browser does: for tests and benchmarks.
pub fn solve(challenge: &Challenge) -> Option<String> {
    let number = (0..=challenge.maxnumber).find(|n| hash_hex(&challenge.salt, *n) == challenge.challenge)?;
    let payload = serde_json::json!({
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "number": number,
        "salt": challenge.salt,
        "signature": challenge.signature,
    });
    Some(STANDARD.encode(payload.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ProofKey {
        ProofKey::derived_from(&SecretKey::new(b"0123456789abcdef".to_vec()))
    }

    #[test]
    fn a_solved_challenge_checks_until_it_expires() {
        let challenge = challenge(&key(), 1_000, 100);
        let solution = solve(&challenge).expect("the number is in range");
        let solved = check(&key(), &solution, 100 + CHALLENGE_SECONDS - 1).unwrap();
        assert_eq!(
            solved,
            Solved { challenge: challenge.challenge.clone(), expires_at: 100 + CHALLENGE_SECONDS }
        );
        assert_eq!(check(&key(), &solution, 100 + CHALLENGE_SECONDS), Err(ProofError::Expired));
    }

    #[test]
    fn forged_altered_and_foreign_proofs_are_refused() {
        let challenge = challenge(&key(), 1_000, 100);
        let solution = solve(&challenge).unwrap();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&STANDARD.decode(&solution).unwrap()).unwrap();
        let encode = |value: &serde_json::Value| STANDARD.encode(value.to_string());

        let mut wrong_number = payload.clone();
        wrong_number["number"] = (payload["number"].as_u64().unwrap() + 1).into();
        assert_eq!(check(&key(), &encode(&wrong_number), 100), Err(ProofError::Wrong));
        // A later expiry in the salt: the challenge no longer matches its signature.
        let mut later = payload.clone();
        later["salt"] = challenge.salt.replace("expires=", "expires=9").into();
        assert_eq!(check(&key(), &encode(&later), 100), Err(ProofError::Wrong));
        let other = ProofKey::derived_from(&SecretKey::new(b"another-key-entirely".to_vec()));
        assert_eq!(check(&other, &solution, 100), Err(ProofError::Wrong));
        payload["algorithm"] = "SHA-1".into();
        assert_eq!(check(&key(), &encode(&payload), 100), Err(ProofError::Malformed));
        for junk in ["", "not base64!", &STANDARD.encode("[]"), &"A".repeat(5000)] {
            assert_eq!(check(&key(), junk, 100), Err(ProofError::Malformed), "{junk}");
        }
    }

    #[test]
    fn the_number_is_not_in_the_salt() {
        // Were the number drawn from the salt's random part, its first bytes would give it away.
        let hits = (0..50)
            .filter(|_| {
                let challenge = challenge(&key(), HARDEST, 0);
                let bytes = hex::decode(&challenge.salt[..32]).unwrap();
                let guess = u64::from_le_bytes(bytes[..8].try_into().unwrap()) % (HARDEST + 1);
                hash_hex(&challenge.salt, guess) == challenge.challenge
            })
            .count();
        assert_eq!(hits, 0);
    }

    #[test]
    fn challenges_get_harder_for_an_address_that_keeps_asking() {
        assert_eq!(difficulty(1), EASIEST);
        assert_eq!(difficulty(CHALLENGES_PER_STEP), EASIEST);
        assert_eq!(difficulty(CHALLENGES_PER_STEP + 1), EASIEST * 2);
        assert_eq!(difficulty(u32::MAX), HARDEST);
        let hard = challenge(&key(), difficulty(200), 0);
        assert_eq!(hard.maxnumber, HARDEST);
        assert_eq!(hard.algorithm, "SHA-256");
    }

    /// Turnstile as a test sets it: on, vouching for one token.
    struct Vouching(&'static str);

    impl HumanCheck for Vouching {
        fn enabled(&self) -> bool {
            true
        }

        async fn verify(&self, token: &str, _remote_ip: &str) -> Result<bool, StoreError> {
            Ok(token == self.0)
        }
    }

    #[tokio::test]
    async fn turnstile_where_it_is_on_vouches_for_a_form_and_its_no_refuses_it() {
        let config = crate::config::test_config();
        let store = crate::adapters::memory::MemoryStore::new(config.hash_key.clone());
        let with = |turnstile| Evidence { remote_ip: "192.0.2.1", proof_of_work: None, turnstile };
        let on = Vouching("good");
        assert!(spend(&store, &on, &config, &with(Some("good")), "e1", 0).await.unwrap());
        let refused = spend(&store, &on, &config, &with(Some("bad")), "e2", 0).await;
        assert!(matches!(refused, Err(SpendError::Refused(ProofError::TurnstileRefused))), "{refused:?}");
        assert!(!spend(&store, &on, &config, &with(None), "e3", 0).await.unwrap(), "none: a plain form");
        // Off, a token is no evidence at all.
        assert!(!spend(&store, &NoHumanCheck, &config, &with(Some("good")), "e4", 0).await.unwrap());
    }
}
