//! The domain's ports, implemented against the world: one folder or file per service, each
//! organised by the same domain areas as `crate::domain`.

pub mod aws;
#[cfg(feature = "staff")]
pub mod cognito;
pub mod dynamodb;
#[cfg(feature = "destinations")]
pub mod eventbridge;
#[cfg(feature = "testing")]
pub mod memory;
pub mod s3;
pub mod secrets;
pub mod ses;
pub mod stripe;
#[cfg(feature = "turnstile")]
pub mod turnstile;
#[cfg(feature = "destinations")]
pub mod webhook;

/// A cold start's waits, side by side: the function's secrets (one round trip) and, meanwhile, the
/// connection to DynamoDB its first request will use. Every function starts with it.
pub async fn start(
    aws: &aws_config::SdkConfig,
) -> Result<crate::config::Env<impl Fn(&str) -> Option<String>>, crate::config::ConfigError> {
    let (env, ()) = tokio::join!(secrets::load_env(aws), aws::open_dynamodb_connection(aws));
    env
}
