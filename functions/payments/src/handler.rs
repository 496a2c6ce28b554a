//! `POST /payments` (and its preflight): check the grant from the registration, start paying for
//! what it names, answer with what Stripe Elements needs.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Body, Request, RequestExt, Response};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::config::Origin;
use steward_core::domain::fields::FieldError;
use steward_core::domain::payments::{
    event_availability, start_payment, PaymentCatalogue, PaymentError, PaymentRequest, ProviderError,
};
use steward_core::domain::ports::Clock;
use steward_core::http::body::decode_form;
use steward_core::http::problem::{body_problem, Problem};
use steward_core::http::{cors, respond};
use steward_core::lambda::{body_bytes, body_was_invalid_base64};
use steward_core::secret::SecretKey;
use steward_core::token::{Purpose, TokenKeys};

use steward_core::adapters::stripe::provider::StripeProvider;
use steward_core::t;

pub struct App {
    pub allowed_origins: Vec<Origin>,
    pub token_keys: TokenKeys,
    pub publishable_key: String,
    pub catalogue: PaymentCatalogue,
    pub store: DynamoStore,
    /// Keys the rate limits' pseudonyms of IP addresses and people.
    pub hash_key: SecretKey,
    pub provider: StripeProvider,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    if request.raw_http_path() == "/payments/events" {
        return Ok(cors::json_endpoint(&app.allowed_origins, &request, "GET, OPTIONS", || events(app)).await);
    }
    Ok(cors::json_endpoint(&app.allowed_origins, &request, "POST, OPTIONS", || pay(app, &request)).await)
}

/// `GET /payments/events`: each event as its page shows it before anyone types (on sale, seats
/// left). Cached briefly: a busy page asks often, and a few seconds' staleness is settled by the
/// checkout itself, which never sells a seat that is not there.
async fn events(app: &App) -> Result<Response<Body>, Problem> {
    let events = event_availability(&app.store, &app.catalogue, app.clock.now()).await.map_err(|err| {
        tracing::error!(error = %err, "reading seats failed");
        Problem::from_store(&err)
    })?;
    let mut response = respond::json(200, &serde_json::json!({ "events": events }));
    response
        .headers_mut()
        .insert("cache-control", lambda_http::http::HeaderValue::from_static("public, max-age=10"));
    Ok(response)
}

async fn pay(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    if body_was_invalid_base64(request) {
        return Err(Problem::new(400, "invalid_base64", t!("problem-unreadable-body")));
    }
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
    let input =
        decode_form(content_type, body_bytes(request), 16 * 1024).await.map_err(|e| body_problem(&e))?;
    let Some(token) = input.first("token") else {
        return Err(Problem::validation(vec![FieldError::new("token", "required", t!("error-required"))]));
    };
    let now = app.clock.now();
    let grant = app.token_keys.verify(token, Purpose::Payment, now).map_err(|reason| {
        tracing::info!(%reason, "payment refused");
        Problem::new(403, "invalid_token", t!("problem-invalid-payment-link"))
            .with_detail(t!("problem-invalid-payment-link-detail"))
    })?;
    let source_ip = steward_core::http::client::client_info(request, app.clock.as_ref()).source_ip;
    let asked = PaymentRequest { grant: &grant, source_ip: &source_ip };
    match start_payment(&app.store, &app.provider, &app.catalogue, &app.hash_key, asked, app.clock.as_ref())
        .await
    {
        Ok(started) => {
            let mut body = serde_json::to_value(&started).expect("serializes");
            body["publishable_key"] = app.publishable_key.clone().into();
            Ok(respond::json(200, &body))
        }
        Err(PaymentError::UnknownItem) => Err(Problem::new(404, "not_found", t!("problem-nothing-on-sale"))),
        Err(PaymentError::SoldOut) => {
            Err(Problem::new(409, "sold_out", t!("problem-sold-out"))
                .with_detail(t!("problem-sold-out-detail")))
        }
        Err(PaymentError::AlreadyPaid) => Err(Problem::new(409, "already_paid", t!("problem-already-paid"))
            .with_detail(t!("problem-already-paid-detail"))),
        Err(PaymentError::SalesClosed) => Err(Problem::new(409, "sales_closed", t!("problem-sales-closed"))
            .with_detail(t!("problem-sales-closed-detail"))),
        Err(PaymentError::RegistrationGone) => {
            Err(Problem::new(410, "registration_gone", t!("problem-registration-gone"))
                .with_detail(t!("problem-registration-gone-detail")))
        }
        Err(PaymentError::RateLimited { retry_after }) => {
            Err(Problem::new(429, "rate_limited", t!("problem-too-many-payments"))
                .with_detail(t!("problem-too-many-payments-detail"))
                .with_retry_after(retry_after.as_secs()))
        }
        Err(PaymentError::HoldExpired) => Err(Problem::new(409, "hold_expired", t!("problem-hold-expired"))
            .with_detail(t!("problem-hold-expired-detail"))),
        Err(PaymentError::Provider(err)) => {
            tracing::error!(error = %err, registration_id = grant.subject.as_str(), "the payment provider failed");
            Err(match err {
                ProviderError::Unavailable(_) => Problem::new(
                    503,
                    "payment_provider_unavailable",
                    t!("problem-payment-provider-unavailable"),
                )
                .with_detail(t!("problem-payment-provider-unavailable-detail"))
                .with_retry_after(30),
                ProviderError::Rejected(_) => {
                    Problem::new(502, "payment_provider_error", t!("problem-payment-provider-error"))
                        .with_detail(t!("problem-payment-provider-error-detail"))
                }
            })
        }
        Err(PaymentError::Store(err)) => {
            tracing::error!(error = %steward_core::telemetry::error_chain(&err), "the store failed while starting a payment");
            Err(Problem::from_store(&err))
        }
    }
}
