//! HTTP helpers shared by every function: request bodies in every content type a browser or a
//! fetch page sends, content negotiation, CORS, responses and RFC 9457 problem details.
//!
//! Errors never echo internal detail: a 5xx body says only that something went wrong and gives the
//! request id, which the logs carry together with the cause.

pub mod body;
pub mod client;
pub mod cors;
pub mod form_page;
pub mod page;
pub mod problem;
pub mod respond;

pub use lambda_http::{Body, Request, Response};

/// Whether a request comes from `own_origin`'s own pages: its `Origin` is exactly that (or, with
/// none, the browser says the request is same-origin). What the pages' session cookies (the
/// privacy center's, the staff console's) require of a change made with them.
pub fn sent_by_own_pages(request: &Request, own_origin: &str) -> bool {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    match header("origin") {
        Some(origin) => origin == own_origin,
        None => header("sec-fetch-site") == Some("same-origin"),
    }
}

/// The `Set-Cookie` line of a session cookie: HttpOnly, SameSite=Strict, for `path`, Secure when
/// `secure` (0 seconds ends it in the browser).
pub fn session_cookie(
    name: &str,
    value: &str,
    path: &str,
    secure: bool,
    max_age_seconds: i64,
) -> Result<lambda_http::http::HeaderValue, lambda_http::http::header::InvalidHeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    lambda_http::http::HeaderValue::from_str(&format!(
        "{name}={value}; Max-Age={max_age_seconds}; Path={path}{secure}; HttpOnly; SameSite=Strict"
    ))
}

/// A cookie's value from the request's `Cookie` headers; `None` when absent or empty.
pub fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all("cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}
