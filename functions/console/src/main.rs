//! Wiring for the console Lambda: the staff console (`/console/*`). Configuration, catalogues,
//! SDK clients and the staff pool's token checker are built once per cold start.

use std::sync::Arc;

use steward_core::adapters::cognito::{CognitoDirectory, CognitoSignIn, CognitoTokens};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::config::{Config, Origin};
use steward_core::domain::forms::catalogue::{Catalogue, BUILT_IN};
use steward_core::domain::payments::PaymentCatalogue;
use steward_core::domain::ports::{Clock, SystemClock};

mod handler;
mod inboxes;
mod pages;
mod people;
mod register;
mod sign_in;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Interactive);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    let config = Config::from_env(&env)?;
    steward_core::http::page::set_identity(&config.links.organisation, &config.policy_url, &config.site_url);
    let catalogue = Catalogue::load(BUILT_IN, &config)?;
    let payments = PaymentCatalogue::load(steward_core::domain::payments::BUILT_IN)?;
    let store = DynamoStore::metered(&aws, &config.table_name, config.hash_key.clone(), clock.clone());
    let s3 =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&aws).force_path_style(true).build());
    let cvs = CvBucket::new(s3, env.required("CV_BUCKET")?);
    let pool_id = env.required("STAFF_USER_POOL_ID")?;
    let client_id = env.required("STAFF_CLIENT_ID")?;
    let region = aws.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".to_owned());
    // A local stack's Cognito publishes the pool's keys under its own address; AWS's under the issuer.
    let endpoint = env.optional("AWS_ENDPOINT_URL");
    let tokens = CognitoTokens::new(&region, &pool_id, &client_id, endpoint.as_deref());
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&aws);
    let directory = CognitoDirectory::new(cognito.clone(), pool_id);
    let sign_in = CognitoSignIn::new(cognito, client_id);
    let own_origin = Origin::parse(&config.links.public_api_url)?;
    let app: &'static handler::App = Box::leak(Box::new(handler::App {
        cookies: handler::Cookies::for_api(&own_origin),
        config,
        catalogue,
        payments,
        store,
        cvs,
        tokens,
        directory,
        sign_in,
        clock,
    }));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
