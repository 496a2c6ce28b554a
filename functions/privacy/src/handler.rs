//! The privacy center's routes, each to the module of its concern: signing in (`sign_in`), the
//! center itself (`me`), exports (`export`); how failures answer is in `problems`. JSON for API
//! clients (a bearer session), pages for browsers without JavaScript (the session travels in the
//! URL and in hidden form fields). No cookies. Browsers cannot send PATCH or DELETE, so pages POST
//! to `/me` with `_method`.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Body, Request, RequestExt, Response};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::config::Config;
use steward_core::domain::forms::catalogue::Catalogue;
use steward_core::domain::forms::validation::FormInput;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::ports::Clock;
use steward_core::domain::privacy::access::session;
use steward_core::http::body::decode_form;
use steward_core::http::page::{escape, layout};
use steward_core::http::problem::{body_problem, Problem};
use steward_core::http::{client, cors, respond};
use steward_core::lambda::body_bytes;
use steward_core::time::Timestamp;

use crate::{export, me, sign_in};

pub struct App {
    pub config: Config,
    pub catalogue: Catalogue,
    pub store: DynamoStore,
    pub cvs: CvBucket,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    let origin = cors::check_origin(&app.config.allowed_origins, request.headers());
    if request.method() == "OPTIONS" {
        return Ok(cors::preflight(origin, "GET, POST, PATCH, DELETE, OPTIONS"));
    }
    if origin == cors::OriginCheck::Forbidden {
        return Ok(respond::problem(&cors::forbidden_origin()));
    }
    let json_client = respond::wants_json(request.headers()) || bearer(&request).is_some();
    let mut response = match route(app, &request, json_client).await {
        Ok(response) => response,
        Err(problem) => {
            let back = query(&request, "session").map(|s| format!("/me?session={s}"));
            respond::problem_for(
                json_client,
                &problem.with_request_id(client::request_id(&request)),
                "Privacy center",
                back.as_deref(),
            )
        }
    };
    cors::decorate(&mut response, origin.allowed());
    Ok(response)
}

/// When Steward's handling of Global Privacy Control last changed.
const GPC_LAST_UPDATE: &str = "2026-12-06";

/// The Global Privacy Control support resource (https://privacycg.github.io/gpc-spec/): this
/// site honours `Sec-GPC: 1`, by opting the person out of the purposes they may opt out of.
fn global_privacy_control() -> Response<Body> {
    let mut response = respond::json(200, &serde_json::json!({ "gpc": true, "lastUpdate": GPC_LAST_UPDATE }));
    response
        .headers_mut()
        .insert("cache-control", lambda_http::http::HeaderValue::from_static("public, max-age=86400"));
    response
}

/// A request made within a session: who, and how they asked.
pub struct Signed<'a> {
    pub profile_id: ProfileId,
    pub session: String,
    pub form: FormInput,
    /// A browser page (no bearer, no JSON): answered with pages and redirects.
    pub page: bool,
    pub request: &'a Request,
}

async fn route(app: &App, request: &Request, json_client: bool) -> Result<Response<Body>, Problem> {
    let method = request.method().as_str();
    let path = request.raw_http_path();
    match (method, path) {
        ("GET" | "HEAD", "/.well-known/gpc.json") => Ok(global_privacy_control()),
        ("POST", "/privacy/link") => sign_in::request_link_by_mail(app, request, json_client).await,
        ("GET" | "HEAD", "/privacy/session") => sign_in::session_page(request).await,
        ("POST", "/privacy/session") => sign_in::open_session(app, request, json_client).await,
        ("GET" | "HEAD", "/privacy/email/confirm") => me::email_confirmation_page(request).await,
        ("POST", "/privacy/email/confirm") => me::confirm_email(app, request, json_client).await,
        ("GET" | "HEAD", "/privacy/export/confirm") => export::confirmation_page(app, request).await,
        ("POST", "/privacy/export/confirm") => export::confirm(app, request, json_client).await,
        ("GET" | "HEAD", "/privacy/export") => export::download_page(app, request).await,
        ("POST", "/privacy/export") => export::download(app, request).await,
        (
            _,
            "/me"
            | "/me/delete"
            | "/me/consents"
            | "/me/export"
            | "/me/export/revoke"
            | "/me/submissions/delete"
            | "/me/restrict"
            | "/me/object"
            | "/me/withdraw",
        ) => {
            let signed = signed_in(app, request, json_client).await?;
            me::me(app, method, path, signed).await
        }
        _ => Err(Problem::not_found("page")),
    }
}

async fn signed_in<'a>(app: &App, request: &'a Request, json_client: bool) -> Result<Signed<'a>, Problem> {
    let form = if request.method() == "GET" || request.method() == "HEAD" {
        FormInput::default()
    } else {
        read_form(request).await?
    };
    let token = bearer(request)
        .or_else(|| form.first("session").map(str::to_owned))
        .or_else(|| query(request, "session"))
        .ok_or_else(|| {
            Problem::new(401, "not_signed_in", "Please sign in")
                .with_detail("Ask for a sign-in link at /privacy/link.")
        })?;
    // What verified is what travels on in links and hidden fields.
    let token = token.trim().to_owned();
    let claims = session(&app.config, &token, app.clock.now()).map_err(|_| {
        Problem::new(401, "not_signed_in", "Your session is not valid")
            .with_detail("It may have expired; ask for a new link.")
    })?;
    Ok(Signed { profile_id: claims.profile_id, session: token, form, page: !json_client, request })
}

pub fn done(json_client: bool, title: &str, message: &str) -> Response<Body> {
    if json_client {
        return respond::json(200, &serde_json::json!({ "message": message }));
    }
    respond::html(200, layout(title, &format!("<h1>{}</h1><p>{}</p>", escape(title), escape(message))))
}

pub fn rfc3339(epoch_seconds: i64) -> String {
    Timestamp::from_epoch_millis(epoch_seconds * 1000).map(|t| t.rfc3339()).unwrap_or_default()
}

pub fn query(request: &Request, name: &str) -> Option<String> {
    request.query_string_parameters_ref().and_then(|q| q.first(name).map(str::to_owned))
}

pub fn bearer(request: &Request) -> Option<String> {
    let value = request.headers().get("authorization")?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// A link's token, from the confirmation page's form or the query.
pub async fn token_of(request: &Request) -> Result<String, Problem> {
    let form = read_form(request).await?;
    form.first("token").map(str::to_owned).or_else(|| query(request, "token")).ok_or_else(missing_token)
}

pub fn missing_token() -> Problem {
    Problem::new(400, "missing_token", "This link is incomplete").with_detail("The token is missing.")
}

pub async fn read_form(request: &Request) -> Result<FormInput, Problem> {
    let bytes = body_bytes(request);
    if bytes.is_empty() {
        return Ok(FormInput::default());
    }
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
    decode_form(content_type, bytes, 16 * 1024).await.map_err(|e| body_problem(&e))
}

#[cfg(test)]
mod tests {
    use lambda_http::request::LambdaRequest;
    use lambda_http::{Context, LambdaEvent};
    use steward_core::lambda::guard_body;

    use super::*;

    fn sample(name: &str) -> Request {
        let path = format!("{}/../../events/privacy/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let event: LambdaRequest = serde_json::from_str(&text).expect("an API Gateway v2 event");
        guard_body(LambdaEvent::new(event, Context::default())).payload.into()
    }

    #[tokio::test]
    async fn given_the_sample_events_then_each_carries_what_its_route_reads() {
        let link = sample("link.json");
        assert_eq!(read_form(&link).await.unwrap().first("email"), Some("ana.silva@example.com"));
        for name in ["me.json", "export-csv.json", "correct.json", "erase.json"] {
            assert!(bearer(&sample(name)).is_some_and(|t| t.starts_with("local1.")), "{name}");
        }
        assert_eq!(query(&sample("export-csv.json"), "format").as_deref(), Some("csv"));
        let page = sample("erase-page.json");
        let form = read_form(&page).await.unwrap();
        assert_eq!((form.first("_method"), form.first("confirm")), (Some("DELETE"), Some("yes")));
        assert!(!respond::wants_json(page.headers()), "a browser's form post");
    }
}
