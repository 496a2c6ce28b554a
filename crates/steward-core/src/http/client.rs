//! What the browser sent about itself, read from the API Gateway request context.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::domain::fields;
use crate::domain::forms::submit::ClientInfo;
use crate::domain::ports::Clock;
use crate::time::Timestamp;

/// Reads the client's IP from API Gateway's request context (it saw the TCP peer), never from
/// `X-Forwarded-For`, which the client controls. Header values are bounded and cleaned: a header
/// that cannot be stored as clean text is dropped rather than failing the request.
/// `clock` stands in for API Gateway's request time where an event has none (a hand-made one).
pub fn client_info(request: &Request, clock: &dyn Clock) -> ClientInfo {
    let (source_ip, time_epoch) = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => (ctx.http.source_ip.clone(), Some(ctx.time_epoch)),
        _ => (None, None),
    };
    let header = |name: &str, max: usize| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| fields::text(name, v, max, false).ok())
            .filter(|v| !v.is_empty())
    };
    ClientInfo {
        source_ip: source_ip.unwrap_or_else(|| "unknown".to_owned()),
        user_agent: header("user-agent", 512),
        accept_language: header("accept-language", 256),
        referer: header("referer", 2048),
        received_at: time_epoch
            .filter(|t| *t > 0)
            .and_then(Timestamp::from_epoch_millis)
            .unwrap_or_else(|| clock.timestamp()),
        // https://privacycg.github.io/gpc-spec/: the only valid value is "1".
        global_privacy_control: request
            .headers()
            .get("sec-gpc")
            .is_some_and(|v| v.as_bytes().trim_ascii() == b"1"),
    }
}

/// The request id that API Gateway assigned, for problem bodies and logs.
pub fn request_id(request: &Request) -> Option<String> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
}
