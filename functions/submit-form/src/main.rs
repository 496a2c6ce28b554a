//! Wiring for the submit-form Lambda: configuration, catalogue and SDK client are built once per
//! cold start and lent to every invocation.

use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::config::{Config, Origin};
use steward_core::domain::forms::catalogue::{Catalogue, BUILT_IN};
use steward_core::domain::payments::PaymentCatalogue;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::token::KeyFamily;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Interactive);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    let mut config =
        Config::from_env(&env)?.requiring(&[KeyFamily::CvUpload, KeyFamily::Payment, KeyFamily::Consent])?;
    // A refused form comes back as Steward's own page, which sends it again from the API's origin.
    config.allowed_origins.push(Origin::parse(&config.links.public_api_url)?);
    let turnstile = steward_core::adapters::turnstile::Turnstile::from_env(&env)?;
    steward_core::http::page::set_identity(&config.links.organisation, &config.policy_url, &config.site_url);
    let catalogue = Catalogue::load(BUILT_IN, &config)?;
    let store = DynamoStore::metered(&aws, &config.table_name, config.hash_key.clone(), clock.clone());
    let payments = PaymentCatalogue::load(steward_core::domain::payments::BUILT_IN)?;
    let app: &'static handler::App =
        Box::leak(Box::new(handler::App { config, catalogue, payments, store, turnstile, clock }));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
