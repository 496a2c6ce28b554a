//! Running a handler on Lambda: JSON logs, and a guard in front of `lambda_http`'s event
//! conversion, which would panic on a body flagged base64 that is not.

use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Body, Error, IntoResponse, LambdaEvent, Request, Service};

/// Set on a request whose body could not be decoded before it reached the handler; the handler
/// answers 400. A client-sent header of this name is removed first, so it cannot be forged.
pub const BODY_ERROR_HEADER: &str = "x-steward-body-error";

/// Starts the Lambda runtime loop for an HTTP handler.
pub async fn run<S, R, E>(handler: S) -> Result<(), Error>
where
    S: Service<Request, Response = R, Error = E> + Send + 'static,
    S::Future: Send + 'static,
    R: IntoResponse + Send + Sync + 'static,
    E: std::fmt::Debug + Into<lambda_http::lambda_runtime::Diagnostic> + Send + 'static,
{
    crate::telemetry::init();
    let service = lambda_http::Adapter::from(handler).map_request(guard_body);
    lambda_http::lambda_runtime::run(service).await
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
