//! The privacy center's routes. JSON for API clients, pages for browsers, no cookies: the session
//! travels as a bearer token (or, for pages without JavaScript, in the URL).

use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_http::{Body, Request, RequestExt, Response};
use steward_core::config::Config;
use steward_core::domain::fields::Email;
use steward_core::domain::form::FormInput;
use steward_core::domain::privacy::{request_link, session, start_session, PrivacyError, PrivacyStore as _};
use steward_core::http::body::decode_form;
use steward_core::http::page::{escape, layout};
use steward_core::http::problem::{body_problem, Problem};
use steward_core::http::{client, cors, respond};
use steward_core::lambda::body_bytes;
use steward_core::store::dynamodb::DynamoStore;
use steward_core::store::StoreError;
use steward_core::time::Timestamp;

pub struct App {
    pub config: Config,
    pub store: DynamoStore,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    let origin = cors::check_origin(&app.config.allowed_origins, request.headers());
    if request.method() == "OPTIONS" {
        return Ok(cors::preflight(origin, "GET, POST, OPTIONS"));
    }
    if origin == cors::OriginCheck::Forbidden {
        return Ok(respond::problem(&cors::forbidden_origin()));
    }
    let json_client = respond::wants_json(request.headers());
    let mut response = match route(app, &request, json_client).await {
        Ok(response) => response,
        Err(problem) => respond::problem_for(
            json_client,
            &problem.with_request_id(client::request_id(&request)),
            "Privacy center",
            None,
        ),
    };
    cors::decorate(&mut response, origin.allowed());
    Ok(response)
}

async fn route(app: &App, request: &Request, json_client: bool) -> Result<Response<Body>, Problem> {
    let method = request.method().as_str();
    match (method, request.raw_http_path()) {
        ("POST", "/privacy/link") => {
            let form = read_form(request).await?;
            let email = Email::parse("email", form.first("email").unwrap_or_default())
                .map_err(|e| Problem::validation(vec![e]))?;
            let ip = client::client_info(request).source_ip;
            request_link(&app.store, &app.config, &email, &ip, now()).await.map_err(privacy_problem)?;
            // The same answer whether or not the address is known.
            let message =
                "If we know this address, a sign-in link is on its way. It works once, for 15 minutes.";
            Ok(if json_client {
                respond::json(202, &serde_json::json!({ "message": message }))
            } else {
                respond::html(
                    202,
                    layout("Check your email", &format!("<h1>Check your email</h1><p>{message}</p>")),
                )
            })
        }
        ("GET" | "HEAD", "/privacy/session") => {
            // A page and a button: a link scanner opening the link must not use it up.
            let token = query(request, "token").ok_or_else(missing_token)?;
            Ok(respond::html(
                200,
                layout(
                    "Open your privacy center",
                    &format!(
                        r#"<h1>Open your privacy center</h1><form method="post" action="/privacy/session"><input type="hidden" name="token" value="{}"><button type="submit">Continue</button></form>"#,
                        escape(&token)
                    ),
                ),
            ))
        }
        ("POST", "/privacy/session") => {
            let form = read_form(request).await?;
            let token = form
                .first("token")
                .map(str::to_owned)
                .or_else(|| query(request, "token"))
                .ok_or_else(missing_token)?;
            let (session_token, expires_at) =
                start_session(&app.store, &app.config, &token, now()).await.map_err(privacy_problem)?;
            let expires =
                Timestamp::from_epoch_millis(expires_at * 1000).map(|t| t.rfc3339()).unwrap_or_default();
            Ok(if json_client {
                respond::json(
                    200,
                    &serde_json::json!({ "session_token": session_token, "expires_at": expires }),
                )
            } else {
                respond::html(
                    200,
                    layout(
                        "Your privacy center",
                        &format!(
                            r#"<h1>You are signed in</h1><p>Until {}.</p><p><a href="/me?session={}">See everything we hold about you</a></p>"#,
                            escape(&expires),
                            escape(&session_token)
                        ),
                    ),
                )
            })
        }
        ("GET", "/me") => {
            let token = bearer(request).or_else(|| query(request, "session")).ok_or_else(|| {
                Problem::new(401, "not_signed_in", "Please sign in")
                    .with_detail("Ask for a sign-in link at /privacy/link.")
            })?;
            let claims = session(&app.config, &token, now()).map_err(|_| {
                Problem::new(401, "not_signed_in", "Your session is not valid")
                    .with_detail("It may have expired; ask for a new link.")
            })?;
            let data = app
                .store
                .everything(&claims.profile_id)
                .await
                .map_err(store_problem)?
                .ok_or_else(|| Problem::not_found("person"))?;
            Ok(respond::json(200, &data))
        }
        _ => Err(Problem::not_found("page")),
    }
}

fn query(request: &Request, name: &str) -> Option<String> {
    request.query_string_parameters_ref().and_then(|q| q.first(name).map(str::to_owned))
}

fn bearer(request: &Request) -> Option<String> {
    let value = request.headers().get("authorization")?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

fn missing_token() -> Problem {
    Problem::new(400, "missing_token", "This link is incomplete").with_detail("The token is missing.")
}

async fn read_form(request: &Request) -> Result<FormInput, Problem> {
    let bytes = body_bytes(request);
    if bytes.is_empty() {
        return Ok(FormInput::default());
    }
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
    decode_form(content_type, bytes, 16 * 1024).await.map_err(|e| body_problem(&e))
}

fn store_problem(err: StoreError) -> Problem {
    tracing::error!(error = %steward_core::telemetry::error_chain(&err), "privacy store failed");
    match err {
        StoreError::Unavailable(_) => Problem::unavailable(2),
        StoreError::Unexpected(_) => Problem::internal(),
    }
}

fn privacy_problem(err: PrivacyError) -> Problem {
    match err {
        PrivacyError::RateLimited(wait) => {
            Problem::new(429, "rate_limited", "Too many requests").with_retry_after(wait.as_secs())
        }
        PrivacyError::InvalidLink(reason) => {
            tracing::info!(%reason, "sign-in link refused");
            Problem::new(403, "invalid_token", "This sign-in link is not valid")
                .with_detail("It may have expired. Ask for a new one.")
        }
        PrivacyError::LinkUsed => Problem::new(403, "link_used", "This sign-in link was used already")
            .with_detail("Each link works once. Ask for a new one."),
        PrivacyError::Store(err) => store_problem(err),
    }
}
