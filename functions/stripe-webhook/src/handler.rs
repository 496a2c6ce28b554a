//! `POST /webhooks/stripe`: verify the signature on the raw bytes, apply the event once, answer
//! 2xx when done. A failure while processing answers 500 so that Stripe retries; never a 3xx.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::domain::payments::{receive_event, Received, StripeEvent};
use steward_core::domain::ports::Clock;
use steward_core::http::problem::Problem;
use steward_core::http::{client, respond};
use steward_core::lambda::{body_bytes, body_was_invalid_base64};

use steward_core::adapters::stripe::signature::{verify, SignatureError};

pub struct App {
    pub store: DynamoStore,
    /// Endpoint secrets (`whsec_...`); more than one while rolling.
    pub secrets: Vec<String>,
    pub tolerance_seconds: i64,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    let request_id = client::request_id(&request);
    Ok(match receive(app, &request).await {
        Ok(response) => response,
        Err(problem) => respond::problem(&problem.with_request_id(request_id)),
    })
}

async fn receive(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    if request.method() != "POST" {
        return Err(Problem::new(405, "method_not_allowed", "Webhooks are POSTed"));
    }
    if body_was_invalid_base64(request) {
        return Err(Problem::new(400, "invalid_base64", "The request body could not be read"));
    }
    let payload = body_bytes(request);
    let header = request.headers().get("stripe-signature").and_then(|v| v.to_str().ok());
    let now = app.clock.now();
    verify(header, payload, &app.secrets, app.tolerance_seconds, now).map_err(|err| {
        tracing::warn!(reason = %err, "webhook refused");
        let (status, code, title) = match err {
            SignatureError::TooLarge => {
                (413, "body_too_large", "The webhook body is larger than any Stripe event")
            }
            SignatureError::Missing => (400, "missing_signature", "The webhook signature is not valid"),
            SignatureError::Malformed => (400, "malformed_signature", "The webhook signature is not valid"),
            SignatureError::Mismatch => (400, "invalid_signature", "The webhook signature is not valid"),
            SignatureError::Stale => (400, "stale_signature", "The webhook signature is not valid"),
        };
        Problem::new(status, code, title).with_detail(err.to_string())
    })?;
    let event: StripeEvent = serde_json::from_slice(payload).map_err(|e| {
        Problem::new(400, "malformed_json", "The webhook body is not a Stripe event")
            .with_detail(e.to_string())
    })?;
    let failed = |err: steward_core::domain::ports::StoreError| {
        tracing::error!(event_id = event.id.as_str(), error = %err, "processing a Stripe event failed; Stripe will retry");
        Problem::new(500, "processing_failed", "The event could not be processed; please retry")
    };
    let received = receive_event(&app.store, &event, now).await.map_err(failed)?;
    if received == Received::Duplicate {
        return Ok(respond::json(200, &serde_json::json!({"received": true, "duplicate": true})));
    }
    let outcome = received.as_str();
    Ok(respond::json(200, &serde_json::json!({"received": true, "outcome": outcome})))
}
