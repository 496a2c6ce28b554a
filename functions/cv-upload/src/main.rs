//! Wiring for the cv-upload Lambda: configuration and the credentials provider, once per cold start.

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use steward_core::config::{ConfigError, Env};
use steward_core::domain::careers::CvBucket;
use steward_core::domain::ports::SystemClock;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::load(steward_core::adapters::aws::Caller::Interactive).await;
    let region = aws.region().map(|r| r.to_string()).ok_or(ConfigError::Missing("AWS_REGION"))?;
    let credentials: SharedCredentialsProvider =
        aws.credentials_provider().ok_or(ConfigError::Missing("AWS credentials"))?;
    let app = handler::App::from_env(
        &steward_core::adapters::secrets::load_env(&aws).await?,
        region,
        credentials,
        Arc::new(SystemClock),
    )?;
    let app: &'static handler::App = Box::leak(Box::new(app));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}

/// Where browsers POST: the regional virtual-hosted bucket URL in AWS, or the endpoint override
/// (the local S3) in path style.
pub fn bucket_url(bucket: &str, region: &str, endpoint_override: Option<&str>) -> String {
    match endpoint_override {
        Some(endpoint) => format!("{}/{bucket}", endpoint.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/"),
    }
}

pub fn cv_bucket<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    region: String,
) -> Result<CvBucket, ConfigError> {
    let name = env.required("CV_BUCKET")?;
    let endpoint = env.optional("AWS_ENDPOINT_URL_S3").or_else(|| env.optional("AWS_ENDPOINT_URL"));
    Ok(CvBucket {
        url: bucket_url(&name, &region, endpoint.as_deref()),
        name,
        region,
        max_bytes: env.number("CV_MAX_BYTES", 10 * 1024 * 1024)?,
        url_valid_for: Duration::from_secs(env.number("CV_UPLOAD_URL_TTL_SECONDS", 300)?),
    })
}
