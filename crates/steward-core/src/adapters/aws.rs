//! The AWS SDK configuration every function and the operator command share: timeouts and retries
//! chosen on purpose, not left to the SDK's defaults (which have no operation timeout at all).
//!
//! | caller | connect | per attempt | whole operation | attempts |
//! |---|---|---|---|---|
//! | a person waiting (API routes) | 1 s | 2 s | 5 s | 3, backoff from 50 ms |
//! | background work (queues, schedules, operator) | 2 s | 10 s | 30 s | 5, backoff from 200 ms |
//!
//! A person waiting gets a 503 with Retry-After well inside API Gateway's 30 s and the function's
//! 10 s, rather than a gateway timeout; background work has room to ride out throttling, and what
//! still fails is retried by its queue or its next scheduled run.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};

/// Who waits on the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A request from a browser or an API client, behind API Gateway.
    Interactive,
    /// An SQS batch, a schedule or the operator command.
    Background,
}

pub fn timeouts(caller: Caller) -> TimeoutConfig {
    let (connect, attempt, operation) = match caller {
        Caller::Interactive => (1, 2, 5),
        Caller::Background => (2, 10, 30),
    };
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(connect))
        .operation_attempt_timeout(Duration::from_secs(attempt))
        .operation_timeout(Duration::from_secs(operation))
        .build()
}

pub fn retries(caller: Caller) -> RetryConfig {
    match caller {
        Caller::Interactive => {
            RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(50))
        }
        Caller::Background => {
            RetryConfig::standard().with_max_attempts(5).with_initial_backoff(Duration::from_millis(200))
        }
    }
}

/// The roots of Amazon Trust Services, which every AWS endpoint's certificate chains to
/// (amazontrust.com/repository): Amazon Root CA 1–4 and the two Starfield roots that cross-sign
/// them. Trusting these alone spares each cold start reading and parsing the system's whole
/// certificate store (about 150 files here, a 200 KB bundle on Lambda), and trusts no other CA
/// with our AWS traffic.
const AWS_ROOTS: [&[u8]; 6] = [
    include_bytes!("../../certs/Amazon_Root_CA_1.pem"),
    include_bytes!("../../certs/Amazon_Root_CA_2.pem"),
    include_bytes!("../../certs/Amazon_Root_CA_3.pem"),
    include_bytes!("../../certs/Amazon_Root_CA_4.pem"),
    include_bytes!("../../certs/Starfield_Services_Root_Certificate_Authority_-_G2.pem"),
    include_bytes!("../../certs/Starfield_Class_2_CA.pem"),
];

/// Set to `1` to trust the system's certificate store as well: an operator's machine behind a
/// TLS-inspecting proxy, or an AWS endpoint that one day chains to another CA. Costs the cold start
/// the store's reading.
pub const SYSTEM_ROOTS_ENV: &str = "STEWARD_TLS_SYSTEM_ROOTS";

fn trusts_system_roots(setting: Option<&str>) -> bool {
    setting.is_some_and(|value| value.trim() == "1")
}

/// The one HTTPS client every SDK client shares: rustls on ring, the crypto provider async-stripe
/// uses too, so that a binary carries one TLS stack (the SDKs' default brings aws-lc-rs along),
/// trusting Amazon's roots (and the system's only when [`SYSTEM_ROOTS_ENV`] says so).
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    let system_roots = trusts_system_roots(std::env::var(SYSTEM_ROOTS_ENV).ok().as_deref());
    let roots = AWS_ROOTS.iter().fold(TrustStore::empty().with_native_roots(system_roots), |store, pem| {
        store.with_pem_certificate(*pem)
    });
    let context =
        TlsContext::builder().with_trust_store(roots).build().expect("building a TLS context cannot fail");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https()
}

/// A function's SDK configuration on Lambda (its on-demand environments, as the template deploys
/// them), from what Lambda puts in the environment: the region (`AWS_REGION`), the role's
/// credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and, where the
/// local stack sets it, `AWS_ENDPOINT_URL`; with the timeouts and retries for `caller`. Built once
/// per cold start. Not the SDK's whole default chain ([`load`]): profiles, SSO, web identity and
/// instance metadata never apply on Lambda, and their code (an STS client among it) is linked into
/// every binary that refers to the chain: a quarter of a megabyte of each zip.
pub fn lambda(caller: Caller) -> SdkConfig {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_sdk_dynamodb::config::SharedCredentialsProvider;
    let setting = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        // One cache of the credentials for every client, as the default chain's configuration has:
        // the secrets' client resolves them at init, and the first request's clients find them.
        .identity_cache(aws_config::identity::IdentityCache::lazy().build())
        .http_client(http_client())
        .timeout_config(timeouts(caller))
        .retry_config(retries(caller));
    config.set_region(setting("AWS_REGION").map(aws_config::Region::new));
    config.set_endpoint_url(setting("AWS_ENDPOINT_URL"));
    config.build()
}

/// The SDK configuration from the SDK's default chain (a profile, SSO, the environment, ...), with
/// the timeouts and retries for `caller`: for the operator's command, run wherever an operator
/// works. Functions use [`lambda`].
pub async fn load(caller: Caller) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeouts(caller))
        .retry_config(retries(caller))
        .load()
        .await
}

/// How long a cold start waits for DynamoDB's connection before it goes on without it.
const CONNECTION_WAIT: Duration = Duration::from_secs(1);

/// Opens the connection to DynamoDB that the function's first request will use: on Lambda its TLS
/// handshake, on a fraction of a vCPU, would otherwise land on that request. `DescribeEndpoints`
/// reads nothing and costs nothing; its connection stays in the pool of the one HTTPS client every
/// SDK client shares ([`http_client`]). Best effort: a failure leaves the first request to open it.
pub async fn open_dynamodb_connection(aws: &SdkConfig) {
    let call = aws_sdk_dynamodb::Client::new(aws).describe_endpoints().send();
    match tokio::time::timeout(CONNECTION_WAIT, call).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => tracing::warn!(
            error = %aws_sdk_dynamodb::error::DisplayErrorContext(&err),
            "the connection to DynamoDB was not opened at start"
        ),
        Err(_) => tracing::warn!("the connection to DynamoDB was not opened at start: it took too long"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_1_adds_the_system_store() {
        assert!(!trusts_system_roots(None));
        assert!(!trusts_system_roots(Some("")));
        assert!(!trusts_system_roots(Some("true")));
        assert!(trusts_system_roots(Some("1")));
    }

    #[test]
    fn the_trusted_roots_are_amazons_six_certificates() {
        for pem in AWS_ROOTS {
            let text = std::str::from_utf8(pem).unwrap();
            assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 1);
            assert!(text.trim_end().ends_with("-----END CERTIFICATE-----"));
        }
    }

    #[test]
    fn a_person_waiting_gets_an_answer_well_inside_the_function_and_gateway_timeouts() {
        let interactive = timeouts(Caller::Interactive);
        assert!(interactive.operation_timeout().unwrap() < Duration::from_secs(10), "the function's timeout");
        assert!(interactive.operation_attempt_timeout().unwrap() < interactive.operation_timeout().unwrap());
        assert_eq!(retries(Caller::Interactive).max_attempts(), 3);
        let background = timeouts(Caller::Background);
        assert!(background.operation_timeout().unwrap() > interactive.operation_timeout().unwrap());
        assert_eq!(retries(Caller::Background).max_attempts(), 5);
    }
}
