//! Typed configuration, read once at cold start from the environment that `template.yaml`
//! (in AWS) or `infra/local.env` (locally) sets. A missing or malformed value stops the cold start
//! with a message naming the variable, rather than failing later on a request.

use crate::secret::SecretKey;
use crate::token::{KeyFamily, TokenKeys};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("secret {id} cannot be read: {reason}")]
    Secret { id: String, reason: String },
}

/// An origin (`scheme://host[:port]`) that may call the API from a browser and receive redirects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| format!("{text:?}: {e}"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(format!("{text:?} is not an http(s) origin"));
        }
        Ok(Self(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Fixed-window rate limits, per source IP and per email address.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub window: Duration,
    pub per_ip: u32,
    pub per_email: u32,
    /// Submissions one address may make in a day, whoever sends them: with each form's retention
    /// and the size limits of its fields, what anyone can pile up in a person's name is bounded
    /// (`docs/data-model.md`, "What one address can hold").
    pub per_email_per_day: u32,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The single DynamoDB table.
    pub table_name: String,
    /// Origins allowed to call the API from a browser (CORS) and to be redirected to.
    pub allowed_origins: Vec<Origin>,
    /// The public site; `{site}` in the form catalogue's URLs stands for it.
    pub site_url: String,
    /// The privacy policy on the site, which every page links to.
    pub policy_url: String,
    /// The effective date of the privacy policy in force, stored with every consent.
    pub policy_version: String,
    /// Keys pseudonyms (rate-limit counters) so that stored keys reveal no email or IP address.
    pub hash_key: SecretKey,
    /// Signs the links and grants Steward hands out (see [`crate::token`]): the families this
    /// function was given; its `main.rs` requires the ones it uses.
    pub token_keys: TokenKeys,
    /// How long a careers applicant may take to upload a CV after applying.
    pub cv_upload_token_ttl: Duration,
    /// How long a registration's grant to pay stays valid.
    pub payment_token_ttl: Duration,
    /// Requests with larger bodies are refused with 413 before parsing.
    pub max_body_bytes: usize,
    pub rate_limits: RateLimits,
    pub links: MailLinks,
}

/// What mail needs to build its links and footer.
#[derive(Debug, Clone)]
pub struct MailLinks {
    /// Where `/unsubscribe`, `/preferences` and `/subscriptions/confirm` are served.
    pub public_api_url: String,
    pub organisation: String,
}

/// The privacy policy every page and mail links to: on the company site, where visitors read it.
pub fn policy_url(site_url: &str) -> String {
    format!("{}/privacy-policy", site_url.trim_end_matches('/'))
}

/// Reads typed values from an environment, naming the variable in every error.
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl Env<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Env(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// The key that makes pseudonyms of addresses (`HASH_KEY`): at least 16 characters.
    pub fn hash_key(&self) -> Result<SecretKey, ConfigError> {
        let hash_key = self.required("HASH_KEY")?;
        if hash_key.len() < 16 {
            return Err(ConfigError::Invalid {
                name: "HASH_KEY",
                reason: "must be at least 16 characters".into(),
            });
        }
        Ok(SecretKey::new(hash_key.into_bytes()))
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        (self.0)(name).filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing(name))
    }

    pub fn optional(&self, name: &'static str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    pub fn number(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| ConfigError::Invalid { name, reason: format!("{v:?} is not a whole number") }),
        }
    }

    pub fn origins(&self, name: &'static str) -> Result<Vec<Origin>, ConfigError> {
        self.required(name)?
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Origin::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| ConfigError::Invalid { name, reason })
    }

    /// The key families this function holds, each required one present (`token::KeyFamily`).
    pub fn token_keys(&self, required: &[KeyFamily]) -> Result<TokenKeys, ConfigError> {
        let keys = TokenKeys::from_lookup(|name| (self.0)(name))
            .map_err(|(name, reason)| ConfigError::Invalid { name, reason })?;
        keys.require(required).map_err(ConfigError::Missing)?;
        Ok(keys)
    }
}

impl Config {
    /// From the environment and secrets of [`crate::adapters::secrets::load_env`].
    pub fn from_env(env: &Env<impl Fn(&str) -> Option<String>>) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| (env.0)(name))
    }

    /// Builds the configuration from any variable source; tests pass a map.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let site_url = env.required("SITE_URL")?.trim_end_matches('/').to_owned();
        Origin::parse(&site_url).map_err(|reason| ConfigError::Invalid { name: "SITE_URL", reason })?;
        let hash_key = env.hash_key()?;
        let policy_url = policy_url(&site_url);
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            allowed_origins: env.origins("ALLOWED_ORIGINS")?,
            policy_url,
            site_url,
            policy_version: env.required("POLICY_VERSION")?,
            hash_key,
            token_keys: env.token_keys(&[])?,
            cv_upload_token_ttl: Duration::from_secs(env.number("CV_UPLOAD_TOKEN_TTL_SECONDS", 3600)?),
            payment_token_ttl: Duration::from_secs(env.number("PAYMENT_TOKEN_TTL_SECONDS", 86400)?),
            max_body_bytes: env.number("MAX_BODY_BYTES", 64 * 1024)? as usize,
            links: MailLinks {
                public_api_url: env.required("PUBLIC_API_URL")?.trim_end_matches('/').to_owned(),
                organisation: env.optional("ORGANISATION_NAME").unwrap_or_else(|| "WSO2".to_owned()),
            },
            rate_limits: RateLimits {
                window: Duration::from_secs(env.number("RATE_LIMIT_WINDOW_SECONDS", 600)?.max(1)),
                per_ip: env.number("RATE_LIMIT_PER_IP", 30)? as u32,
                per_email: env.number("RATE_LIMIT_PER_EMAIL", 10)? as u32,
                per_email_per_day: env.number("RATE_LIMIT_PER_EMAIL_PER_DAY", 40)? as u32,
            },
        })
    }

    /// Stops the cold start unless this function holds each key family it uses.
    pub fn requiring(self, families: &[KeyFamily]) -> Result<Self, ConfigError> {
        self.token_keys.require(families).map_err(ConfigError::Missing)?;
        Ok(self)
    }

    pub fn is_allowed_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o.as_str() == origin)
    }
}

#[cfg(test)]
pub(crate) fn test_config() -> Config {
    Config::from_lookup(|name| {
        Some(
            match name {
                "TABLE_NAME" => "steward-test",
                "ALLOWED_ORIGINS" => "https://www.example.com,http://127.0.0.1:3000",
                "SITE_URL" => "https://www.example.com",
                "POLICY_VERSION" => "2018-03-23",
                "HASH_KEY" => "0123456789abcdef0123456789abcdef",
                "TOKEN_KEYS_PRIVACY_CENTER" => "t1:test-privacy-center-key-0123456789abcdef",
                "TOKEN_KEYS_CV_UPLOAD" => "t1:test-cv-upload-key-0123456789abcdef",
                "TOKEN_KEYS_PAYMENT" => "t1:test-payment-key-0123456789abcdef",
                "TOKEN_KEYS_CONSENT" => "t1:test-consent-key-0123456789abcdef",
                "TOKEN_KEYS_MAIL_LINKS" => "t1:test-mail-links-key-0123456789abcdef",
                "PUBLIC_API_URL" => "https://api.example.com",
                _ => return None,
            }
            .to_owned(),
        )
    })
    .expect("test configuration is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_and_checked() {
        assert_eq!(Origin::parse("https://Example.com/path").unwrap().as_str(), "https://example.com");
        assert!(Origin::parse("javascript:alert(1)").is_err());
        assert!(Origin::parse("ftp://example.com").is_err());
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = Config::from_lookup(|_| None).unwrap_err();
        assert!(matches!(err, ConfigError::Missing(_)), "{err}");
        assert!(err.to_string().contains("SITE_URL"));
    }

    #[test]
    fn defaults_apply_and_origins_are_matched_exactly() {
        let config = test_config();
        assert_eq!(config.max_body_bytes, 65536);
        assert!(config.is_allowed_origin("https://www.example.com"));
        assert!(!config.is_allowed_origin("https://www.example.com.evil.test"));
    }
}
