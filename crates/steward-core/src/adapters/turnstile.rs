//! Cloudflare Turnstile's siteverify (https://developers.cloudflare.com/turnstile/get-started/server-side-validation/),
//! for a deployment that turns it on (`TURNSTILE_SECRET_KEY`): a form's `cf-turnstile-response`
//! is then another way to show a person sent it, beside Steward's own proof of work. Off (no
//! secret), it is never asked. Locally, the stack answers siteverify itself with Cloudflare's
//! documented test keys' behaviour (`TURNSTILE_SITEVERIFY_URL`).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::config::{ConfigError, Env};
use crate::domain::forms::proof::HumanCheck;
use crate::domain::ports::StoreError;

/// Where Cloudflare answers.
pub const SITEVERIFY: &str = "https://challenges.cloudflare.com/turnstile/v0/siteverify";
/// Longest a form waits for Cloudflare's answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Turnstile, as configured: off (`None`), or Cloudflare's siteverify with the deployment's secret.
pub struct Turnstile(Option<Siteverify>);

struct Siteverify {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    secret: String,
    url: String,
}

impl std::fmt::Debug for Turnstile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("Turnstile(off)"),
            Some(on) => write!(f, "Turnstile({}, secret redacted)", on.url),
        }
    }
}

impl Turnstile {
    /// On when `TURNSTILE_SECRET_KEY` is set (from its secret), at `TURNSTILE_SITEVERIFY_URL` or
    /// Cloudflare's.
    pub fn from_env(env: &Env<impl Fn(&str) -> Option<String>>) -> Result<Self, ConfigError> {
        let Some(secret) = env.optional("TURNSTILE_SECRET_KEY") else { return Ok(Self(None)) };
        let url = env.optional("TURNSTILE_SITEVERIFY_URL").unwrap_or_else(|| SITEVERIFY.to_owned());
        // The TLS stack every function already has: rustls on ring, Mozilla's roots.
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| ConfigError::Invalid { name: "TURNSTILE_SITEVERIFY_URL", reason: e.to_string() })?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self(Some(Siteverify { client, secret, url })))
    }
}

#[derive(serde::Deserialize)]
struct Verdict {
    success: bool,
}

impl HumanCheck for Turnstile {
    fn enabled(&self) -> bool {
        self.0.is_some()
    }

    async fn verify(&self, token: &str, remote_ip: &str) -> Result<bool, StoreError> {
        let Some(Siteverify { client, secret, url }) = &self.0 else { return Ok(false) };
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("secret", secret)
            .append_pair("response", token)
            .append_pair("remoteip", remote_ip)
            .finish();
        let request = lambda_http::http::Request::post(url.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| StoreError::Unexpected(Box::new(e)))?;
        let unavailable =
            |reason: String| StoreError::Unavailable(format!("Turnstile siteverify: {reason}").into());
        let response = tokio::time::timeout(TIMEOUT, client.request(request))
            .await
            .map_err(|_| unavailable("no answer in time".into()))?
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("status {}", response.status())));
        }
        let bytes = response.into_body().collect().await.map_err(|e| unavailable(e.to_string()))?.to_bytes();
        let verdict: Verdict = serde_json::from_slice(&bytes).map_err(|e| unavailable(e.to_string()))?;
        Ok(verdict.success)
    }
}
