//! CORS for allowlisted origins only. Preflights are answered by the function itself, so the rules
//! live in one place with the rest of the request handling.

use lambda_http::http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::{Body, Response};

use crate::config::Origin;
use crate::http::problem::Problem;
use crate::t;

/// Where a request comes from, as far as CORS is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginCheck<'a> {
    /// No `Origin` header: not a cross-origin browser request (curl, a server, a same-origin GET).
    Absent,
    /// A browser on one of our sites.
    Allowed(&'a str),
    /// A browser on a site we do not allow.
    Forbidden,
}

impl<'a> OriginCheck<'a> {
    pub fn allowed(self) -> Option<&'a str> {
        match self {
            Self::Allowed(origin) => Some(origin),
            _ => None,
        }
    }
}

pub fn check_origin<'a>(allowed: &[Origin], headers: &'a HeaderMap) -> OriginCheck<'a> {
    match headers.get("origin").map(|o| o.to_str()) {
        None => OriginCheck::Absent,
        Some(Ok(origin)) if allowed.iter().any(|o| o.as_str() == origin) => OriginCheck::Allowed(origin),
        Some(_) => OriginCheck::Forbidden,
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

/// The answer to a browser request from a site we do not allow.
pub fn forbidden_origin() -> Problem {
    Problem::new(403, "origin_not_allowed", t!("problem-origin-not-allowed"))
}

/// The answer to `OPTIONS`: 204 with what may be sent, for allowed origins only.
pub fn preflight(origin: OriginCheck<'_>, methods: &'static str) -> Response<Body> {
    let OriginCheck::Allowed(origin) = origin else {
        return crate::http::respond::problem(&forbidden_origin());
    };
    let mut response = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header("access-control-allow-methods", methods)
        .header("access-control-allow-headers", "Content-Type, Accept, Idempotency-Key")
        .header("access-control-max-age", "600")
        .body(Body::Empty)
        .expect("static headers are valid");
    decorate(&mut response, Some(origin));
    response
}

/// A JSON endpoint behind CORS: answers the preflight, refuses foreign origins, and adds the CORS
/// headers (and, to a problem, the request id) to whatever the endpoint answers.
pub async fn json_endpoint<F, Fut>(
    allowed: &[Origin],
    request: &lambda_http::Request,
    methods: &'static str,
    endpoint: F,
) -> Response<Body>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Response<Body>, Problem>>,
{
    let origin = check_origin(allowed, request.headers());
    if request.method() == "OPTIONS" {
        return preflight(origin, methods);
    }
    if origin == OriginCheck::Forbidden {
        return crate::http::respond::problem(&forbidden_origin());
    }
    let mut response = match endpoint().await {
        Ok(response) => response,
        Err(problem) => {
            crate::http::respond::problem(&problem.with_request_id(crate::http::client::request_id(request)))
        }
    };
    decorate(&mut response, origin.allowed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(origin) = origin {
            headers.insert("origin", HeaderValue::from_static(origin));
        }
        headers
    }

    #[test]
    fn only_listed_origins_pass_and_a_hidden_one_is_refused() {
        let allowed = [Origin::parse("https://www.example.com").unwrap()];
        assert_eq!(check_origin(&allowed, &headers(None)), OriginCheck::Absent);
        assert_eq!(
            check_origin(&allowed, &headers(Some("null"))),
            OriginCheck::Forbidden,
            "a hidden origin could be anyone's"
        );
        assert_eq!(
            check_origin(&allowed, &headers(Some("https://www.example.com"))),
            OriginCheck::Allowed("https://www.example.com")
        );
        assert_eq!(check_origin(&allowed, &headers(Some("https://evil.example"))), OriginCheck::Forbidden);
    }
}
