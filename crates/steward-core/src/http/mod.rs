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
