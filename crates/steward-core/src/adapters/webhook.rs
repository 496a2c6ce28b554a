//! Signed webhooks (feature `destinations`): each delivery is one HTTPS POST of the event's JSON,
//! signed as Standard Webhooks says under its destination's own secret. Anything but a 2xx answer
//! in time is a failed attempt, retried on the dispatcher's schedule.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::config::ConfigError;
use crate::domain::destinations::dispatch::{DeliveryError, Webhooks};
use crate::domain::destinations::webhook::WebhookSecret;
use crate::domain::destinations::DomainEvent;
use crate::domain::ports::Clock;
use crate::secret::SecretKey;

/// Longest a receiver may take to answer (Standard Webhooks suggests a short timeout: a receiver
/// should queue the work and answer at once).
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct HttpWebhooks {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    endpoints: BTreeMap<String, url::Url>,
    signing_key: SecretKey,
    clock: Arc<dyn Clock>,
}

/// Parses `WEBHOOK_ENDPOINTS`: `id=https://url` pairs separated by commas. Only HTTPS, but on the
/// machine itself (the local stack's receiver).
pub fn endpoints(text: &str) -> Result<BTreeMap<String, url::Url>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid { name: "WEBHOOK_ENDPOINTS", reason };
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (id, address) = pair
                .split_once('=')
                .ok_or_else(|| invalid("each entry is destination=https://url".into()))?;
            let url = url::Url::parse(address.trim()).map_err(|e| invalid(format!("{}: {e}", id.trim())))?;
            let on_this_machine = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
            if url.scheme() != "https" && !(url.scheme() == "http" && on_this_machine) {
                return Err(invalid(format!("{}: webhooks go over HTTPS", id.trim())));
            }
            Ok((id.trim().to_owned(), url))
        })
        .collect()
}

impl HttpWebhooks {
    pub fn new(
        endpoints: BTreeMap<String, url::Url>,
        signing_key: SecretKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| ConfigError::Invalid { name: "WEBHOOK_ENDPOINTS", reason: e.to_string() })?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { client, endpoints, signing_key, clock })
    }
}

impl Webhooks for HttpWebhooks {
    async fn post(&self, destination: &str, event: &DomainEvent) -> Result<(), DeliveryError> {
        let Some(url) = self.endpoints.get(destination) else { return Err(DeliveryError::NotConfigured) };
        let body = serde_json::to_vec(event).map_err(|e| DeliveryError::Unavailable(e.to_string()))?;
        let timestamp = self.clock.now();
        let signature =
            WebhookSecret::derive(&self.signing_key, destination).sign(&event.id, timestamp, &body);
        let request = lambda_http::http::Request::post(url.as_str())
            .header("content-type", "application/json")
            .header("user-agent", "Steward-Webhooks/1")
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| DeliveryError::Unavailable(e.to_string()))?;
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| DeliveryError::Unavailable("no answer in time".into()))?
            .map_err(|e| DeliveryError::Unavailable(e.to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Unavailable(format!("answered {}", response.status())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::endpoints;

    #[test]
    fn endpoints_are_https_but_on_this_machine() {
        let parsed =
            endpoints("crm=https://crm.example/hooks, chat = http://127.0.0.1:3000/_local/webhooks/chat")
                .unwrap();
        assert_eq!(parsed["crm"].as_str(), "https://crm.example/hooks");
        assert_eq!(parsed["chat"].host_str(), Some("127.0.0.1"));
        assert!(endpoints("").unwrap().is_empty());
        assert!(endpoints("crm=http://crm.example/hooks").is_err());
        assert!(endpoints("crm").is_err());
    }
}
