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
        return Err(Problem::new(400, "invalid_base64", "The request body could not be read"));
    }
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
    let input =
        decode_form(content_type, body_bytes(request), 16 * 1024).await.map_err(|e| body_problem(&e))?;
    let Some(token) = input.first("token") else {
        return Err(Problem::validation(vec![FieldError::new("token", "required", "is required")]));
    };
    let now = app.clock.now();
    let grant = app.token_keys.verify(token, Purpose::Payment, now).map_err(|reason| {
        tracing::info!(%reason, "payment refused");
        Problem::new(403, "invalid_token", "This payment link is not valid")
            .with_detail("It may have expired or belong to another registration. Please register again.")
    })?;
    let source_ip = steward_core::http::client::client_info(request, app.clock.as_ref()).source_ip;
    let asked = PaymentRequest { grant: &grant, source_ip: &source_ip };
    match start_payment(&app.store, &app.provider, &app.catalogue, &app.hash_key, asked, app.clock.as_ref()).await {
        Ok(started) => {
            let mut body = serde_json::to_value(&started).expect("serializes");
            body["publishable_key"] = app.publishable_key.clone().into();
            Ok(respond::json(200, &body))
        }
        Err(PaymentError::UnknownItem) => {
            Err(Problem::new(404, "not_found", "Nothing on sale matches this payment link"))
        }
        Err(PaymentError::SoldOut) => Err(Problem::new(409, "sold_out", "This event is sold out")
            .with_detail("Every seat is taken. Nothing was charged.")),
        Err(PaymentError::AlreadyPaid) => Err(Problem::new(409, "already_paid", "This registration is paid")
            .with_detail("Your payment was received (or is on its way from your bank): there is nothing more to pay. Thank you.")),
        Err(PaymentError::SalesClosed) => Err(Problem::new(409, "sales_closed", "Registration for this event is closed")
            .with_detail("The event has started or taken place. Nothing was charged.")),
        Err(PaymentError::RegistrationGone) => Err(Problem::new(410, "registration_gone", "This registration is no longer held")
            .with_detail("Its data was deleted, so nothing can be paid for it. Nothing was charged. Please register again.")),
        Err(PaymentError::RateLimited { retry_after }) => Err(Problem::new(429, "rate_limited", "Too many payment attempts")
            .with_detail("Please wait a little and try again. Nothing was charged.")
            .with_retry_after(retry_after.as_secs())),
        Err(PaymentError::HoldExpired) => Err(Problem::new(409, "hold_expired", "This checkout's time to pay has passed")
            .with_detail("The seat it held went back on sale. Nothing was charged. Please register again.")),
        Err(PaymentError::Provider(err)) => {
            tracing::error!(error = %err, registration_id = grant.subject.as_str(), "the payment provider failed");
            Err(match err {
                ProviderError::Unavailable(_) => {
                    Problem::new(503, "payment_provider_unavailable", "Payments are unavailable right now")
                        .with_detail(
                            "Nothing was charged and nothing was kept. Please try again in a minute.",
                        )
                        .with_retry_after(30)
                }
                ProviderError::Rejected(_) => {
                    Problem::new(502, "payment_provider_error", "The payment could not be started")
                        .with_detail("Nothing was charged. We have been told; please try again later.")
                }
            })
        }
        Err(PaymentError::Store(err)) => {
            tracing::error!(error = %steward_core::telemetry::error_chain(&err), "the store failed while starting a payment");
            Err(Problem::from_store(&err))
        }
    }
}
