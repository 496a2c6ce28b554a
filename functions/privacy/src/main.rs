//! Wiring for the privacy Lambda: the privacy center (`/privacy/*`, `/me*`). Configuration,
//! catalogue and SDK clients are built once per cold start.

use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::config::{Config, Origin};
use steward_core::domain::forms::catalogue::{Catalogue, BUILT_IN};
use steward_core::domain::payments::PaymentCatalogue;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::token::KeyFamily;

mod center;
mod export;
mod handler;
mod me;
mod pages;
mod problems;
mod sign_in;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Interactive);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    let mut config = Config::from_env(&env)?.requiring(&[KeyFamily::PrivacyCenter])?;
    // The privacy center's own pages post to it from the API's origin.
    config.allowed_origins.push(Origin::parse(&config.links.public_api_url)?);
    steward_core::http::page::set_identity(&config.links.organisation, &config.policy_url, &config.site_url);
    let catalogue = Catalogue::load(BUILT_IN, &config)?;
    let payments = PaymentCatalogue::load(steward_core::domain::payments::BUILT_IN)?;
    let store = DynamoStore::metered(&aws, &config.table_name, config.hash_key.clone(), clock.clone());
    // Path-style addressing: the bucket name stays out of the host, which local endpoints need.
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&aws).force_path_style(true).build());
    let cvs = CvBucket::new(s3, env.required("CV_BUCKET")?);
    let session_cookie = handler::SessionCookie::for_api(&Origin::parse(&config.links.public_api_url)?);
    let turnstile = steward_core::adapters::turnstile::Turnstile::from_env(&env)?;
    let app: &'static handler::App = Box::leak(Box::new(handler::App {
        session_cookie,
        turnstile,
        config,
        catalogue,
        payments,
        store,
        cvs,
        clock,
    }));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
