//! Stripe through `async-stripe`: customers, payment intents and subscriptions. Every request
//! carries an idempotency key derived from Steward's own ids, so a retry never charges twice or
//! makes a second customer.

use crate::domain::ids::ProfileId;
use std::time::Duration;

use crate::config::{ConfigError, Env};
use crate::domain::payments::{Created, IntentRequest, PaymentProvider, ProviderError, SubscriptionRequest};
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_billing::subscription::{
    CreateSubscription, CreateSubscriptionItems, CreateSubscriptionPaymentBehavior,
};
use stripe_core::customer::CreateCustomer;
use stripe_core::payment_intent::{CreatePaymentIntent, CreatePaymentIntentAutomaticPaymentMethods};
use stripe_types::{Currency, Expandable};

pub struct StripeProvider {
    client: Client,
}

impl StripeProvider {
    /// `STRIPE_API_BASE` points at the local emulator; unset, requests go to Stripe itself.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let secret = env.required("STRIPE_SECRET_KEY")?;
        // async-stripe's connector takes rustls's process-wide provider. Naming ring here keeps it
        // working even where features unify (tests, tools) with a crate that enables aws-lc-rs.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = ClientBuilder::new(secret)
            .timeout(Duration::from_secs(env.number("STRIPE_TIMEOUT_SECONDS", 5)?))
            .app_info("steward", Some(env!("CARGO_PKG_VERSION").to_owned()), None);
        if let Some(base) = env.optional("STRIPE_API_BASE") {
            builder = builder.url(base);
        }
        let client = builder
            .build()
            .map_err(|e| ConfigError::Invalid { name: "STRIPE_SECRET_KEY", reason: e.to_string() })?;
        Ok(Self { client })
    }
}

fn idempotent(key: String) -> Result<RequestStrategy, ProviderError> {
    Ok(RequestStrategy::Idempotent(
        IdempotencyKey::new(key).map_err(|e| ProviderError::Rejected(e.to_string()))?,
    ))
}

/// Tells "try again later" (network, timeouts, 429, 5xx) from "Stripe refused what we sent".
fn classify(err: StripeError) -> ProviderError {
    match err {
        StripeError::Stripe(details, status) if status == 429 || status >= 500 => ProviderError::Unavailable(
            format!("HTTP {status}: {}", details.message.clone().unwrap_or_default()),
        ),
        StripeError::Stripe(details, status) => {
            ProviderError::Rejected(format!("HTTP {status}: {}", details.message.clone().unwrap_or_default()))
        }
        StripeError::ClientError(message) => ProviderError::Unavailable(message),
        StripeError::Timeout => ProviderError::Unavailable("timed out".into()),
        other => ProviderError::Rejected(other.to_string()),
    }
}

fn currency(code: &str) -> Result<Currency, ProviderError> {
    code.parse().map_err(|_| ProviderError::Rejected(format!("unknown currency {code}")))
}

impl PaymentProvider for StripeProvider {
    async fn create_customer(&self, profile_id: &ProfileId) -> Result<String, ProviderError> {
        // Only a reference back to the profile: Stripe needs no name or email from us; card and
        // billing details go from the browser to Stripe directly.
        let customer = CreateCustomer::new()
            .metadata([("profile_id".to_owned(), profile_id.to_string())])
            .customize()
            .request_strategy(idempotent(format!("customer-{profile_id}"))?)
            .send(&self.client)
            .await
            .map_err(classify)?;
        Ok(customer.id.to_string())
    }

    async fn create_payment_intent(&self, request: &IntentRequest<'_>) -> Result<Created, ProviderError> {
        let intent = CreatePaymentIntent::new(request.amount, currency(request.currency)?)
            .customer(request.customer)
            .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods::new(true))
            .metadata([
                ("registration_id".to_owned(), request.registration_id.to_owned()),
                ("profile_id".to_owned(), request.profile_id.to_string()),
                ("event_id".to_owned(), request.event_id.to_owned()),
            ])
            .customize()
            .request_strategy(idempotent(format!("payment-intent-{}", request.registration_id))?)
            .send(&self.client)
            .await
            .map_err(classify)?;
        let client_secret =
            intent.client_secret.ok_or_else(|| ProviderError::Rejected("no client secret".into()))?;
        Ok(Created { id: intent.id.to_string(), client_secret })
    }

    async fn create_subscription(&self, request: &SubscriptionRequest<'_>) -> Result<Created, ProviderError> {
        // Incomplete until the first invoice is paid, as Stripe documents for Elements.
        let subscription = CreateSubscription::new()
            .customer(request.customer)
            .items(vec![CreateSubscriptionItems {
                price: Some(request.price_id.to_owned()),
                ..Default::default()
            }])
            .payment_behavior(CreateSubscriptionPaymentBehavior::DefaultIncomplete)
            .metadata([
                ("registration_id".to_owned(), request.registration_id.to_owned()),
                ("profile_id".to_owned(), request.profile_id.to_string()),
                ("plan_id".to_owned(), request.plan_id.to_owned()),
            ])
            .expand(vec!["latest_invoice.confirmation_secret".to_owned()])
            .customize()
            .request_strategy(idempotent(format!("subscription-{}", request.registration_id))?)
            .send(&self.client)
            .await
            .map_err(classify)?;
        let client_secret = match &subscription.latest_invoice {
            Some(Expandable::Object(invoice)) => {
                invoice.confirmation_secret.as_ref().map(|c| c.client_secret.clone())
            }
            _ => None,
        }
        .ok_or_else(|| {
            ProviderError::Rejected("the subscription's first invoice has no confirmation secret".into())
        })?;
        Ok(Created { id: subscription.id.to_string(), client_secret })
    }
}

impl crate::domain::destinations::dispatch::StripeErasure for StripeProvider {
    /// Ends the person's subscriptions now, then deletes their customer (with the billing
    /// details Elements gave Stripe). Either gone already (404) is done.
    async fn erase_customer(
        &self,
        customers: &[String],
        subscriptions: &[String],
    ) -> Result<(), crate::domain::destinations::dispatch::DeliveryError> {
        use crate::domain::destinations::dispatch::DeliveryError;
        let gone_or = |result: Result<(), StripeError>| match result {
            Ok(()) | Err(StripeError::Stripe(_, 404)) => Ok(()),
            Err(err) => Err(DeliveryError::Unavailable(classify(err).to_string())),
        };
        for subscription in subscriptions {
            gone_or(
                stripe_billing::subscription::CancelSubscription::new(subscription.as_str())
                    .send(&self.client)
                    .await
                    .map(|_| ()),
            )?;
        }
        for customer in customers {
            gone_or(
                stripe_core::customer::DeleteCustomer::new(customer.as_str())
                    .send(&self.client)
                    .await
                    .map(|_| ()),
            )?;
        }
        Ok(())
    }
}
