//! CORS for allowlisted origins only. Preflights are answered by the function itself, so the rules
//! live in one place with the rest of the request handling.

use lambda_http::http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::{Body, Response};

use crate::config::Config;

/// The `Origin` a browser sent, when it is one of ours. `Ok(None)`: no Origin header (not a
/// cross-origin browser request). `Err(())`: a browser on a site we do not allow.
pub fn allowed_origin<'a>(config: &Config, headers: &'a HeaderMap) -> Result<Option<&'a str>, ()> {
    match headers.get("origin").map(|o| o.to_str()) {
        None => Ok(None),
        Some(Ok(origin)) if config.is_allowed_origin(origin) => Ok(Some(origin)),
        Some(_) => Err(()),
    }
}

/// Adds the CORS response headers for an allowed origin.
pub fn decorate(response: &mut Response<Body>, origin: Option<&str>) {
    let headers = response.headers_mut();
    headers.insert("vary", HeaderValue::from_static("Origin"));
    if let Some(origin) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert("access-control-allow-origin", origin);
        headers.insert(
            "access-control-expose-headers",
            HeaderValue::from_static("Retry-After, Idempotent-Replayed"),
        );
    }
}

/// The answer to `OPTIONS`: 204 with what may be sent, for allowed origins only.
pub fn preflight(config: &Config, headers: &HeaderMap, methods: &'static str) -> Response<Body> {
    let origin = match allowed_origin(config, headers) {
        Ok(Some(origin)) => origin,
        _ => {
            return crate::http::respond::problem(&crate::http::problem::Problem::new(
                403,
                "origin_not_allowed",
                "This origin may not call the API",
            ))
        }
    };
    let mut response = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header("access-control-allow-methods", methods)
        .header(
            "access-control-allow-headers",
            "Content-Type, Accept, Idempotency-Key",
        )
        .header("access-control-max-age", "600")
        .body(Body::Empty)
        .expect("static headers are valid");
    decorate(&mut response, Some(origin));
    response
}
