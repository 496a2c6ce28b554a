//! Wiring for the unsubscribe Lambda (`/unsubscribe`, `/preferences`, `/subscriptions/confirm`).

use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::config::Config;
use steward_core::domain::forms::catalogue::{Catalogue, BUILT_IN};
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::token::KeyFamily;

mod handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Interactive);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let config = Config::from_env(&steward_core::adapters::start(&aws).await?)?
        .requiring(&[KeyFamily::Consent, KeyFamily::MailLinks])?;
    steward_core::http::page::set_identity(&config.links.organisation, &config.policy_url, &config.site_url);
    let catalogue = Catalogue::load(BUILT_IN, &config)?;
    let store = DynamoStore::metered(&aws, &config.table_name, config.hash_key.clone(), clock.clone());
    let app = handler::App { topics: catalogue.topics.clone(), config, store, clock };
    let app: &'static handler::App = Box::leak(Box::new(app));
    steward_core::lambda::run(lambda_http::service_fn(move |request| handler::handle(app, request))).await
}
