//! Running a handler on Lambda: JSON logs with one line per request, and guards in front of
//! `lambda_http`'s event conversion, which would panic on a body flagged base64 that is not, on a
//! path or query no URI can hold, and fail (500) on a header value with a control character.

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
use crate::i18n::{self, Lang, Visit, LANGUAGE_COOKIE, LANGUAGE_PARAMETER};
use crate::t;

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
    lambda_http::lambda_runtime::run(Admitted(service)).await
}

/// The runtime's events, read as JSON and [`admit`]ted before `lambda_http` sees them.
struct Admitted<S>(S);

impl<S> Service<LambdaEvent<serde_json::Value>> for Admitted<S>
where
    S: Service<LambdaEvent<LambdaRequest>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, event: LambdaEvent<serde_json::Value>) -> S::Future {
        let LambdaEvent { payload, context } = event;
        self.0.call(LambdaEvent::new(admit(payload), context))
    }
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
        let malformed = request.headers().contains_key(REQUEST_ERROR_HEADER);
        let (visit, switched) = visit_of(&request);
        let lang = visit.lang;
        let response: Self::Future = if malformed {
            // No handler sees a request that could not be read: Steward answers for them.
            Box::pin(async {
                let problem = crate::http::problem::Problem::new(
                    400,
                    "malformed_request",
                    t!("problem-malformed-request"),
                )
                .with_detail(t!("problem-malformed-request-detail"));
                Ok(crate::http::respond::problem(&problem))
            })
        } else {
            Box::pin(self.0.call(request))
        };
        Box::pin(async move {
            let Ok(mut response) = i18n::visit(visit, response).await;
            let headers = response.headers_mut();
            headers.insert("content-language", lambda_http::http::HeaderValue::from_static(lang.code()));
            // Its words depend on these: a cache (the events list is public for a few seconds)
            // keeps one answer per language.
            headers.append("vary", lambda_http::http::HeaderValue::from_static("Accept-Language, Cookie"));
            // Remembered, except on an answer any cache may share (a cookie is one visitor's).
            let shared = headers
                .get("cache-control")
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.contains("public"));
            if let (Some(chosen), false) = (switched, shared) {
                headers.append("set-cookie", language_cookie(chosen));
            }
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

/// The request's language and, for a page fetched with GET, its address for the language
/// switch; and the language the request named (`lang`: the switch, a page's form, a mail link).
fn visit_of(request: &Request) -> (Visit, Option<Lang>) {
    let query = request.query_string_parameters_ref();
    let chosen = query.and_then(|query| query.first(LANGUAGE_PARAMETER));
    let remembered = crate::http::cookie(request, LANGUAGE_COOKIE);
    let accept_language = request.headers().get("accept-language").and_then(|value| value.to_str().ok());
    let lang = Lang::of_visitor(chosen, remembered.as_deref(), accept_language);
    let page = (request.method() == lambda_http::http::Method::GET).then(|| {
        let mut others = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in query.into_iter().flat_map(|query| query.iter()) {
            if name != LANGUAGE_PARAMETER {
                others.append_pair(name, value);
            }
        }
        let others = others.finish();
        let path = request.uri().path();
        if others.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{others}")
        }
    });
    (Visit { lang, page }, chosen.and_then(Lang::from_code))
}

/// Remembers the language a request named for a year, so the pages that follow (a form's answer,
/// the next link from a mail) speak it too. It holds the language and nothing else, so it
/// is neither `Secure` nor secret: the local stack serves plain HTTP.
fn language_cookie(lang: Lang) -> lambda_http::http::HeaderValue {
    lambda_http::http::HeaderValue::from_str(&format!(
        "{LANGUAGE_COOKIE}={}; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax",
        lang.code()
    ))
    .expect("a language code is a valid cookie value")
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

/// Set on a request `lambda_http` could not have turned into an HTTP request (a method, path,
/// query or host no URI can hold): it reaches no handler and is answered 400 by [`run`]. A
/// client-sent header of this name is removed first, so it cannot be forged.
pub const REQUEST_ERROR_HEADER: &str = "x-steward-request-error";

/// Turns the runtime's event into the request `lambda_http` converts, so that no input reaches
/// its conversion (which panics on a URI it cannot build, and the process aborts) or fails its
/// deserialisation (an invalid header value, answered 500): control characters in header values
/// are dropped (an obs-fold becomes the space it stands for), headers with invalid names are
/// dropped, and bytes a URI cannot hold in the path or query are percent-encoded (they decode
/// back to what was sent). What still cannot be converted becomes a bare request marked with
/// [`REQUEST_ERROR_HEADER`].
pub fn admit(mut event: serde_json::Value) -> LambdaRequest {
    if let Some(headers) = event.get_mut("headers").and_then(serde_json::Value::as_object_mut) {
        headers.remove(REQUEST_ERROR_HEADER);
        headers.retain(|name, value| {
            lambda_http::http::HeaderName::from_bytes(name.as_bytes()).is_ok() && value.is_string()
        });
        for value in headers.values_mut() {
            if let serde_json::Value::String(text) = value {
                if text.chars().any(is_header_control) {
                    text.retain(|c| !is_header_control(c));
                }
            }
        }
    }
    for field in ["rawPath", "rawQueryString"] {
        if let Some(serde_json::Value::String(text)) = event.get_mut(field) {
            *text = percent_encoding::utf8_percent_encode(text, URI_UNSAFE).to_string();
        }
    }
    match serde_json::from_value::<LambdaRequest>(event) {
        Ok(LambdaRequest::ApiGatewayV2(mut request)) => {
            if !convertible(&request) {
                // A host no URL can hold: API Gateway's own domain name stands in for it.
                request.headers.remove(lambda_http::http::header::HOST);
            }
            if convertible(&request) {
                return LambdaRequest::ApiGatewayV2(request);
            }
            refused()
        }
        #[allow(unreachable_patterns)] // other event sources, were their features enabled
        _ => refused(),
    }
}

/// Control characters other than a tab, which no header value may hold.
fn is_header_control(c: char) -> bool {
    c.is_ascii_control() && c != '\t'
}

/// Bytes no URI path or query may hold as they are (RFC 3986 and the `http` crate's parser).
const URI_UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Whether `lambda_http` builds a request from this event without panicking: the URI it makes
/// from the scheme, host, stage, path and query, as it makes it.
fn convertible(request: &lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest) -> bool {
    use lambda_http::http::header::HOST;
    let host = request
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or(request.request_context.domain_name.as_deref());
    let raw_path = request.raw_path.as_deref().unwrap_or_default();
    let path = match request.request_context.stage.as_deref() {
        None | Some("$default") => raw_path.to_owned(),
        Some(stage) if raw_path.starts_with(&format!("/{stage}/")) => raw_path.to_owned(),
        Some(stage) => format!("/{stage}{raw_path}"),
    };
    let base = match host {
        None => url::Url::parse(&format!("http://localhost{path}")).map(|url| url.path().to_owned()),
        Some(host) => {
            let scheme =
                request.headers.get("x-forwarded-proto").and_then(|s| s.to_str().ok()).unwrap_or("https");
            url::Url::parse(&format!("{scheme}://{host}{path}")).map(|url| url.to_string())
        }
    };
    let Ok(mut uri) = base else { return false };
    if let Some(query) = request.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(query);
    }
    lambda_http::http::Request::builder().uri(uri).body(()).is_ok()
}

/// The bare request that stands for one that could not be converted: it reaches no handler.
fn refused() -> LambdaRequest {
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": { REQUEST_ERROR_HEADER: "malformed" },
        "requestContext": {
            "routeKey": "$default",
            "stage": "$default",
            "http": { "method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "0.0.0.0" },
        },
        "isBase64Encoded": false,
    });
    serde_json::from_value(event).expect("the bare request is a valid API Gateway event")
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

#[cfg(test)]
mod admission_tests {
    use super::*;

    fn sample() -> serde_json::Value {
        serde_json::from_str(include_str!("../../../events/submit-form/newsletter-json.json")).unwrap()
    }

    fn converted(event: serde_json::Value) -> Request {
        admit(event).into()
    }

    #[test]
    fn what_no_uri_can_hold_is_encoded_and_decodes_to_what_was_sent() {
        for raw in
            ["q=\"x\"", "q=<b>", "q=a\u{7f}", "q=a b", "q=\u{e9}t\u{e9}", "q={|}^`\\", "q=%zz", "q=a#b"]
        {
            let mut event = sample();
            event["rawQueryString"] = raw.into();
            let request = converted(event);
            assert!(!request.headers().contains_key(REQUEST_ERROR_HEADER), "{raw:?} is read");
            let query = request.uri().query().unwrap_or_default();
            let decoded = percent_encoding::percent_decode_str(query).decode_utf8_lossy();
            let expected = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
            assert_eq!(decoded, expected, "{raw:?} means what was sent");
        }
        let mut event = sample();
        event["rawPath"] = "/forms/\"news<letter>".into();
        assert!(!converted(event).headers().contains_key(REQUEST_ERROR_HEADER));
    }

    #[test]
    fn control_characters_in_header_values_are_dropped_and_an_obs_fold_is_the_space_it_stands_for() {
        let mut event = sample();
        event["headers"]["user-agent"] = "Mozilla/5.0\r\n (X11)\u{0}\u{1b}[31m".into();
        event["headers"]["x-bad name"] = "dropped".into();
        event["headers"]["x-number"] = 5.into();
        let request = converted(event);
        assert_eq!(request.headers()["user-agent"], "Mozilla/5.0 (X11)[31m");
        assert!(!request.headers().contains_key(REQUEST_ERROR_HEADER), "still read");
    }

    #[test]
    fn what_cannot_be_converted_reaches_no_handler_and_the_mark_cannot_be_forged() {
        let mut event = sample();
        event["requestContext"]["http"]["method"] = "GE T".into();
        assert!(converted(event).headers().contains_key(REQUEST_ERROR_HEADER), "an impossible method");

        let mut event = sample();
        event["headers"]["host"] = "a b/c".into();
        let request = converted(event);
        assert!(!request.headers().contains_key(REQUEST_ERROR_HEADER), "a bad Host is dropped, not fatal");

        let mut event = sample();
        event["headers"][REQUEST_ERROR_HEADER] = "malformed".into();
        assert!(!converted(event).headers().contains_key(REQUEST_ERROR_HEADER), "a client cannot set it");
    }
}
