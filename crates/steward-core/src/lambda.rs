//! Running a handler on Lambda: JSON logs with one line per request, and a guard in front of
//! `lambda_http`'s event conversion, which would panic on a body flagged base64 that is not.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::tower::ServiceExt;
use lambda_http::{Body, Error, LambdaEvent, Request, RequestExt, Response, Service};

use crate::adapters::dynamodb::capacity;

/// Set on a request whose body could not be decoded before it reached the handler; the handler
/// answers 400. A client-sent header of this name is removed first, so it cannot be forged.
pub const BODY_ERROR_HEADER: &str = "x-steward-body-error";

/// Starts the Lambda runtime loop for an HTTP handler.
pub async fn run<S>(handler: S) -> Result<(), Error>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    crate::telemetry::init();
    let service = lambda_http::Adapter::from(Metered(handler)).map_request(guard_body);
    lambda_http::lambda_runtime::run(service).await
}

/// Logs one line per request: the function, the request id, the operation (the template's route
/// key, never the path with its values), outcome, status, latency, whether the instance was cold,
/// and the DynamoDB capacity it consumed. No personal data: no path, query or body.
struct Metered<S>(S);

impl<S> Service<Request> for Metered<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let cold_start = first_invocation();
        let operation = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.route_key.clone(),
            _ => None,
        };
        let request_id = request.lambda_context_ref().map(|context| context.request_id.clone());
        capacity::reset();
        let response = self.0.call(request);
        Box::pin(async move {
            let Ok(response) = response.await;
            let status = response.status().as_u16();
            log_line(
                "request",
                request_id.as_deref().unwrap_or("-"),
                operation.as_deref().unwrap_or("-"),
                Outcome::of_status(status),
                Some(status),
                started,
                cold_start,
            );
            Ok(response)
        })
    }
}

/// How an invocation ended, for alarms and queries: `ok`, `rejected` (the caller's fault: a 4xx)
/// or `error` (ours or a dependency's: a 5xx, or a failed event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Rejected,
    Error,
}

impl Outcome {
    pub fn of_status(status: u16) -> Self {
        match status {
            500.. => Self::Error,
            400..=499 => Self::Rejected,
            _ => Self::Ok,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Rejected => "rejected",
            Self::Error => "error",
        }
    }
}

/// True for the first invocation this process serves: the one that paid for the cold start.
fn first_invocation() -> bool {
    static SERVED: AtomicBool = AtomicBool::new(false);
    !SERVED.swap(true, Ordering::Relaxed)
}

/// The function's name as Lambda gives it (the stack's physical name), read once.
fn function_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "-".to_owned()))
}

/// The one log line per invocation that the Logs Insights queries of docs/operating.md and the template's
/// metric filters read: keep its field names stable.
fn log_line(
    message: &'static str,
    request_id: &str,
    operation: &str,
    outcome: Outcome,
    status: Option<u16>,
    started: Instant,
    cold_start: bool,
) {
    let consumed = capacity::consumed();
    tracing::info!(
        function = function_name(),
        request_id,
        operation,
        outcome = outcome.as_str(),
        status,
        latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        cold_start,
        dynamodb_read_units = consumed.read_units,
        dynamodb_write_units = consumed.write_units,
        "{message}"
    );
}

/// Runs one event of a queue or schedule consumer and logs one line for it, as [`run`] does for
/// each HTTP request: its operation (`verify-cv`, `send-mail`, ...), the Lambda request id, the
/// outcome, latency, cold start and DynamoDB units. `failed_in_part` says whether a result that
/// is not an error still failed some of its work (a batch's messages left for redelivery, mail
/// SES did not take): that is an `error` too, for the alarms.
pub async fn metered<T, E>(
    operation: &'static str,
    request_id: &str,
    work: impl Future<Output = Result<T, E>>,
    failed_in_part: impl FnOnce(&T) -> bool,
) -> Result<T, E> {
    let started = Instant::now();
    let cold_start = first_invocation();
    capacity::reset();
    let result = work.await;
    let outcome = match &result {
        Ok(output) if !failed_in_part(output) => Outcome::Ok,
        _ => Outcome::Error,
    };
    log_line("invocation", request_id, operation, outcome, None, started, cold_start);
    result
}

/// Replaces an undecodable base64 body by an empty one and marks the request.
pub fn guard_body(mut event: LambdaEvent<LambdaRequest>) -> LambdaEvent<LambdaRequest> {
    if let LambdaRequest::ApiGatewayV2(request) = &mut event.payload {
        request.headers.remove(BODY_ERROR_HEADER);
        if request.is_base64_encoded {
            use base64::Engine;
            let valid = request
                .body
                .as_deref()
                .is_none_or(|b| base64::engine::general_purpose::STANDARD.decode(b).is_ok());
            if !valid {
                request.body = None;
                request.is_base64_encoded = false;
                request
                    .headers
                    .insert(BODY_ERROR_HEADER, lambda_http::http::HeaderValue::from_static("invalid-base64"));
            }
        }
    }
    event
}

/// Whether [`guard_body`] refused this request's body.
pub fn body_was_invalid_base64(request: &Request) -> bool {
    request.headers().contains_key(BODY_ERROR_HEADER)
}

/// The request body as bytes, whatever form the adapter gave it.
pub fn body_bytes(request: &Request) -> &[u8] {
    match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}
