//! The privacy center's routes. JSON for API clients (a bearer session), pages for browsers
//! without JavaScript (the session travels in the URL and in hidden form fields). No cookies.
//! Browsers cannot send PATCH or DELETE, so pages POST to `/me` with `_method`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use lambda_http::{Body, Request, RequestExt, Response};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::config::Config;
use steward_core::domain::fields::{Email, FieldError};
use steward_core::domain::forms::catalogue::Catalogue;
use steward_core::domain::forms::validation::FormInput;
use steward_core::domain::ports::Clock;
use steward_core::domain::ports::StoreError;
use steward_core::domain::privacy::access::{
    request_link, session, start_session, PrivacyError, PrivacyStore as _,
};
use steward_core::domain::privacy::erasure::{erase, ErasureError, ErasureReason};
use steward_core::domain::privacy::rights::{
    self, confirm_email_change, confirm_export_to, export_csv, export_download, request_export_to,
    ExportFormat, Limit, RightsError, RightsStore as _,
};
use steward_core::http::body::decode_form;
use steward_core::http::page::{escape, layout};
use steward_core::http::problem::{body_problem, Problem};
use steward_core::http::{client, cors, respond};
use steward_core::lambda::body_bytes;
use steward_core::time::Timestamp;

use crate::pages;

/// How long the CV links in an export work.
const CV_LINK_MINUTES: u64 = 15;

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

/// A request made within a session: who, and how they asked.
struct Signed<'a> {
    profile_id: String,
    session: String,
    form: FormInput,
    /// A browser page (no bearer, no JSON): answered with pages and redirects.
    page: bool,
    request: &'a Request,
}

async fn route(app: &App, request: &Request, json_client: bool) -> Result<Response<Body>, Problem> {
    let method = request.method().as_str();
    let path = request.raw_http_path();
    match (method, path) {
        ("POST", "/privacy/link") => request_sign_in(app, request, json_client).await,
        ("GET" | "HEAD", "/privacy/session") => {
            // A page and a button: a link scanner opening the link must not use it up.
            let token = query(request, "token").ok_or_else(missing_token)?;
            Ok(respond::html(
                200,
                pages::confirm_link("Open your privacy center", "/privacy/session", &token, "Continue"),
            ))
        }
        ("POST", "/privacy/session") => {
            let token = token_of(request).await?;
            let (session_token, expires_at) = start_session(&app.store, &app.config, &token, app.clock.now())
                .await
                .map_err(privacy_problem)?;
            if json_client {
                return Ok(respond::json(
                    200,
                    &serde_json::json!({ "session_token": session_token, "expires_at": rfc3339(expires_at) }),
                ));
            }
            Ok(respond::see_other(&format!("/me?session={session_token}")))
        }
        ("GET" | "HEAD", "/privacy/email/confirm") => {
            let token = query(request, "token").ok_or_else(missing_token)?;
            Ok(respond::html(
                200,
                pages::confirm_link(
                    "Confirm your new address",
                    "/privacy/email/confirm",
                    &token,
                    "Use this address",
                ),
            ))
        }
        ("POST", "/privacy/email/confirm") => {
            let token = token_of(request).await?;
            confirm_email_change(&app.store, &app.config, &token, app.clock.now())
                .await
                .map_err(rights_problem)?;
            Ok(done(
                json_client,
                "Your address has changed",
                "From now on we use this address. Sign in again to see your data.",
            ))
        }
        ("GET" | "HEAD", "/privacy/export/confirm") => {
            let token = query(request, "token").ok_or_else(missing_token)?;
            rights::export_confirmation(&app.config, &token, app.clock.now()).map_err(rights_problem)?;
            Ok(respond::html(
                200,
                pages::confirm_link(
                    "Send a copy of your data",
                    "/privacy/export/confirm",
                    &token,
                    "Send my data",
                ),
            ))
        }
        ("POST", "/privacy/export/confirm") => {
            let token = token_of(request).await?;
            confirm_export_to(&app.store, &app.config, &token, app.clock.now())
                .await
                .map_err(rights_problem)?;
            Ok(done(
                json_client,
                "Your data is on its way",
                "The address you named has been sent a download link.",
            ))
        }
        ("GET" | "HEAD", "/privacy/export") => {
            // A page and a button: a link scanner opening the mail must not download the data.
            let token = query(request, "token").ok_or_else(missing_token)?;
            rights::export_download_link(&app.config, &token, app.clock.now()).map_err(rights_problem)?;
            Ok(respond::html(
                200,
                pages::confirm_link(
                    "Personal data shared with you",
                    "/privacy/export",
                    &token,
                    "Download the data",
                ),
            ))
        }
        ("POST", "/privacy/export") => {
            let token = token_of(request).await?;
            let (profile_id, format) = export_download(&app.store, &app.config, &token, app.clock.now())
                .await
                .map_err(rights_problem)?;
            export(app, &profile_id, format).await
        }
        (_, "/me" | "/me/delete" | "/me/export" | "/me/restrict" | "/me/object" | "/me/withdraw") => {
            let signed = signed_in(app, request, json_client).await?;
            me(app, method, path, signed).await
        }
        _ => Err(Problem::not_found("page")),
    }
}

async fn request_sign_in(app: &App, request: &Request, json_client: bool) -> Result<Response<Body>, Problem> {
    let form = read_form(request).await?;
    let email = Email::parse("email", form.first("email").unwrap_or_default())
        .map_err(|e| Problem::validation(vec![e]))?;
    let ip = client::client_info(request, app.clock.as_ref()).source_ip;
    request_link(&app.store, &app.config, &email, &ip, app.clock.now()).await.map_err(privacy_problem)?;
    // The same answer whether or not the address is known.
    let message = "If we know this address, a sign-in link is on its way. It works once, for 15 minutes.";
    Ok(if json_client {
        respond::json(202, &serde_json::json!({ "message": message }))
    } else {
        respond::html(202, layout("Check your email", &format!("<h1>Check your email</h1><p>{message}</p>")))
    })
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

async fn me(app: &App, method: &str, path: &str, signed: Signed<'_>) -> Result<Response<Body>, Problem> {
    let overridden = signed.form.first("_method").map(str::to_ascii_uppercase);
    let method = match (method, path, overridden.as_deref()) {
        ("POST", "/me", Some(m @ ("PATCH" | "DELETE"))) => m,
        ("POST", "/me", _) => return Err(Problem::new(405, "method_not_allowed", "Use PATCH or DELETE")),
        _ => method,
    };
    let profile_id = signed.profile_id.as_str();
    match (method, path) {
        ("GET" | "HEAD", "/me") => {
            let data = fit_for_one_response(everything(app, profile_id).await?);
            if signed.page {
                let notice = query(signed.request, "done");
                let page = pages::privacy_center(
                    &app.config.links.organisation,
                    &signed.session,
                    &data,
                    notice.as_deref(),
                    None,
                    &[],
                );
                return Ok(respond::html(200, page));
            }
            Ok(respond::json(200, &data))
        }
        ("GET" | "HEAD", "/me/delete") => Ok(respond::html(200, pages::confirm_erasure(&signed.session))),
        ("GET" | "HEAD", "/me/export") => {
            let format = ExportFormat::parse(query(signed.request, "format").as_deref())
                .map_err(|e| Problem::validation(vec![e]))?;
            export(app, profile_id, format).await
        }
        ("POST", "/me/export") => {
            let to = Email::parse("to", signed.form.first("to").unwrap_or_default());
            let format = ExportFormat::parse(signed.form.first("format"));
            let (to, format) = match (to, format) {
                (Ok(to), Ok(format)) => (to, format),
                (to, format) => {
                    return Err(Problem::validation(to.err().into_iter().chain(format.err()).collect()));
                }
            };
            request_export_to(&app.store, &app.config, profile_id, &to, format, app.clock.now())
                .await
                .map_err(rights_problem)?;
            let message =
                "We sent a message to your own address: the export goes out once you confirm it there.";
            Ok(finished(&signed, 202, "export_confirmation_sent", message))
        }
        ("PATCH", "/me") => {
            let corrected =
                match rights::correct(&app.store, &app.config, profile_id, &signed.form, app.clock.now())
                    .await
                {
                    Ok(corrected) => corrected,
                    // A page shows the errors beside the fields, keeping what the person typed.
                    Err(RightsError::Invalid(errors)) if signed.page => {
                        let data = everything(app, profile_id).await?;
                        let organisation = &app.config.links.organisation;
                        let page = pages::privacy_center(
                            organisation,
                            &signed.session,
                            &data,
                            None,
                            Some(&signed.form),
                            &errors,
                        );
                        return Ok(respond::html(422, page));
                    }
                    Err(err) => return Err(rights_problem(err)),
                };
            if signed.page {
                let done =
                    if corrected.email_confirmation_sent { "email_confirmation_sent" } else { "corrected" };
                return Ok(respond::see_other(&format!("/me?session={}&done={done}", signed.session)));
            }
            Ok(respond::json(
                200,
                &serde_json::json!({
                    "fields_changed": corrected.fields_changed,
                    "email_confirmation_sent": corrected.email_confirmation_sent,
                }),
            ))
        }
        ("POST", "/me/restrict" | "/me/object") => {
            let limit = if path == "/me/restrict" { Limit::Restrict } else { Limit::Object };
            let lift = matches!(signed.form.first("lift"), Some("true" | "yes" | "1"));
            if !app.store.set_limit(profile_id, limit, !lift).await.map_err(store_problem)? {
                return Err(Problem::not_found("person"));
            }
            tracing::info!(profile_id, limit = limit.attribute(), lifted = lift, "processing limit changed");
            let code = format!("{}{}", if lift { "lifted_" } else { "" }, limit.attribute());
            Ok(finished(&signed, 200, &code, "Done."))
        }
        ("POST", "/me/withdraw") => {
            let purpose = signed.form.first("purpose").ok_or_else(|| {
                Problem::validation(vec![FieldError::new("purpose", "required", "is required")])
            })?;
            rights::withdraw(&app.store, &app.catalogue, profile_id, purpose)
                .await
                .map_err(rights_problem)?;
            Ok(finished(&signed, 200, "withdrawn", "Your consent is withdrawn."))
        }
        ("DELETE", "/me") => {
            if signed.page && signed.form.first("confirm") != Some("yes") {
                return Err(Problem::validation(vec![FieldError::new(
                    "confirm",
                    "required",
                    "tick the box to confirm that everything should be deleted",
                )]));
            }
            let report = erase(
                &app.store,
                &app.cvs,
                Some(&app.config.links),
                profile_id,
                ErasureReason::Request,
                app.clock.now(),
            )
            .await
            .map_err(erasure_problem)?;
            if signed.page {
                return Ok(respond::html(200, pages::erased()));
            }
            Ok(respond::json(
                200,
                &serde_json::json!({
                    "erased": true,
                    // Nothing held any more: asked before, or finished now.
                    "already_erased": report.is_none(),
                    "report": report,
                }),
            ))
        }
        _ => Err(Problem::new(405, "method_not_allowed", "This route does not take this method")),
    }
}

/// After a change: a redirect back to the privacy center for pages, JSON for API clients.
fn finished(signed: &Signed<'_>, status: u16, code: &str, message: &str) -> Response<Body> {
    if signed.page {
        return respond::see_other(&format!("/me?session={}&done={code}", signed.session));
    }
    respond::json(status, &serde_json::json!({ "result": code, "message": message }))
}

fn done(json_client: bool, title: &str, message: &str) -> Response<Body> {
    if json_client {
        return respond::json(200, &serde_json::json!({ "message": message }));
    }
    respond::html(200, layout(title, &format!("<h1>{}</h1><p>{}</p>", escape(title), escape(message))))
}

async fn everything(app: &App, profile_id: &str) -> Result<serde_json::Value, Problem> {
    app.store.everything(profile_id).await.map_err(store_problem)?.ok_or_else(|| Problem::not_found("person"))
}

/// The export: everything held, with each verified CV as a link that works for minutes.
async fn export(app: &App, profile_id: &str, format: ExportFormat) -> Result<Response<Body>, Problem> {
    let mut data = everything(app, profile_id).await?;
    if let Some(submissions) = data.get_mut("submissions").and_then(|s| s.as_array_mut()) {
        for submission in submissions {
            let Some(cv) = submission.get_mut("cv") else { continue };
            if cv["status"] != "verified" {
                continue;
            }
            let (Some(key), version) = (cv["key"].as_str(), cv["version_id"].as_str()) else { continue };
            let file_name = cv["file_name"].as_str().unwrap_or("cv");
            let link = app
                .cvs
                .download_link(key, version, file_name, Duration::from_secs(CV_LINK_MINUTES * 60))
                .await
                .map_err(|err| {
                    tracing::error!(error = %err, "a CV link could not be signed");
                    Problem::unavailable(2)
                })?;
            cv["download_url"] = link.into();
            cv["download_url_expires_at"] = rfc3339(app.clock.now() + CV_LINK_MINUTES as i64 * 60).into();
        }
    }
    data["exported_at"] = app.clock.timestamp().rfc3339().into();
    let body = match format {
        ExportFormat::Json => serde_json::to_string_pretty(&data).unwrap_or_default(),
        ExportFormat::Csv => export_csv(&data),
    };
    if !fits_one_response(&body) {
        return export_by_link(app, profile_id, format, body).await;
    }
    let mut response = respond::json(200, &serde_json::Value::Null);
    *response.body_mut() = Body::Text(body);
    let headers = response.headers_mut();
    headers.insert("content-type", lambda_http::http::HeaderValue::from_static(format.content_type()));
    let disposition = format!("attachment; filename=\"my-data.{}\"", format.as_str());
    if let Ok(value) = disposition.parse() {
        headers.insert("content-disposition", value);
    }
    tracing::info!(profile_id, format = format.as_str(), "data exported");
    Ok(response)
}

/// Lambda's limit on a synchronous response: 6 MB, the body counted as the JSON string it
/// travels in (quotes and line breaks escaped), with room for the status and headers.
const LAMBDA_RESPONSE_LIMIT: usize = 6 * 1024 * 1024;
const RESPONSE_ENVELOPE: usize = 64 * 1024;

fn fits_one_response(body: &str) -> bool {
    let escaped = serde_json::to_string(body).map_or(usize::MAX, |s| s.len());
    escaped + RESPONSE_ENVELOPE <= LAMBDA_RESPONSE_LIMIT
}

/// Values longer than this are shortened in the privacy center when everything would not fit
/// one response; the export always has them whole.
const ABBREVIATED_CHARS: usize = 1_000;

/// What the privacy center shows: everything held, with long values shortened (and
/// `abbreviated` saying so, and where to get them whole) when it would not fit one response.
fn fit_for_one_response(mut data: serde_json::Value) -> serde_json::Value {
    let size = serde_json::to_string(&data).map_or(usize::MAX, |s| s.len());
    // Half the limit: the page renders the same data as HTML, which is larger than its JSON.
    if size + RESPONSE_ENVELOPE <= LAMBDA_RESPONSE_LIMIT / 2 {
        return data;
    }
    fn shorten(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) if text.chars().count() > ABBREVIATED_CHARS => {
                let kept: String = text.chars().take(ABBREVIATED_CHARS).collect();
                let total = text.chars().count();
                *text = format!("{kept}… ({total} characters: the export has them all)");
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(shorten),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(shorten),
            _ => {}
        }
    }
    shorten(&mut data);
    data["abbreviated"] = serde_json::json!({
        "detail": format!("Values longer than {ABBREVIATED_CHARS} characters are shortened here; the export has everything."),
        "export": "/me/export",
    });
    // Still too large (a very long history of short values): each list shows its first entries
    // and says how many more the export has.
    let size = serde_json::to_string(&data).map_or(usize::MAX, |s| s.len());
    if size + RESPONSE_ENVELOPE > LAMBDA_RESPONSE_LIMIT / 2 {
        let mut omitted = serde_json::Map::new();
        if let Some(fields) = data.as_object_mut() {
            for (name, value) in fields.iter_mut() {
                if let Some(items) = value.as_array_mut().filter(|items| items.len() > LISTED_ENTRIES) {
                    omitted.insert(name.clone(), (items.len() - LISTED_ENTRIES).into());
                    items.truncate(LISTED_ENTRIES);
                }
            }
        }
        data["abbreviated"]["omitted"] = omitted.into();
    }
    data
}

/// How many entries of each list the privacy center shows when everything would not fit.
const LISTED_ENTRIES: usize = 100;

/// An export too large for one response: kept in the private bucket for a day at most, and the
/// person sent on to a link that downloads it and works for minutes (303 for pages and JSON
/// clients alike; the link is in `Location` and in the body).
async fn export_by_link(
    app: &App,
    profile_id: &str,
    format: ExportFormat,
    body: String,
) -> Result<Response<Body>, Problem> {
    let unavailable = |err: steward_core::domain::privacy::erasure::CvObjectsError| {
        tracing::error!(error = %err, "a large export could not be kept for its link");
        Problem::unavailable(2)
    };
    let size = body.len();
    let key = app
        .cvs
        .put_export(profile_id, body.into_bytes(), format.content_type(), format.as_str())
        .await
        .map_err(unavailable)?;
    let file_name = format!("my-data.{}", format.as_str());
    let link = app
        .cvs
        .download_link(&key, None, &file_name, Duration::from_secs(CV_LINK_MINUTES * 60))
        .await
        .map_err(unavailable)?;
    tracing::info!(profile_id, format = format.as_str(), size, "data exported by link");
    let mut response = respond::json(
        303,
        &serde_json::json!({
            "download_url": link,
            "download_url_expires_at": rfc3339(app.clock.now() + CV_LINK_MINUTES as i64 * 60),
            "size_bytes": size,
        }),
    );
    if let Ok(location) = link.parse() {
        response.headers_mut().insert("location", location);
    }
    Ok(response)
}

fn rfc3339(epoch_seconds: i64) -> String {
    Timestamp::from_epoch_millis(epoch_seconds * 1000).map(|t| t.rfc3339()).unwrap_or_default()
}

fn query(request: &Request, name: &str) -> Option<String> {
    request.query_string_parameters_ref().and_then(|q| q.first(name).map(str::to_owned))
}

fn bearer(request: &Request) -> Option<String> {
    let value = request.headers().get("authorization")?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// A link's token, from the confirmation page's form or the query.
async fn token_of(request: &Request) -> Result<String, Problem> {
    let form = read_form(request).await?;
    form.first("token").map(str::to_owned).or_else(|| query(request, "token")).ok_or_else(missing_token)
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
    Problem::store_failed(&err, "the privacy center")
}

fn invalid_link(reason: impl std::fmt::Display) -> Problem {
    tracing::info!(%reason, "link refused");
    Problem::new(403, "invalid_token", "This link is not valid")
        .with_detail("It may have expired. Ask for a new one.")
}

fn link_used() -> Problem {
    Problem::new(403, "link_used", "This link was used already")
        .with_detail("Each link works once. Ask for a new one.")
}

fn privacy_problem(err: PrivacyError) -> Problem {
    match err {
        PrivacyError::RateLimited(wait) => {
            Problem::new(429, "rate_limited", "Too many requests").with_retry_after(wait.as_secs())
        }
        PrivacyError::InvalidLink(reason) => invalid_link(reason),
        PrivacyError::LinkUsed => link_used(),
        PrivacyError::Store(err) => store_problem(err),
    }
}

fn rights_problem(err: RightsError) -> Problem {
    match err {
        RightsError::Invalid(errors) => Problem::validation(errors),
        RightsError::NotFound => Problem::not_found("person"),
        RightsError::InvalidLink(reason) => invalid_link(reason),
        RightsError::LinkUsed => link_used(),
        RightsError::EmailTaken => {
            Problem::new(409, "email_taken", "This address belongs to another profile")
                .with_detail("Sign in with that address to see or delete its data.")
        }
        RightsError::RateLimited(wait) => {
            Problem::new(429, "rate_limited", "Too many requests").with_retry_after(wait.as_secs())
        }
        RightsError::Store(err) => store_problem(err),
    }
}

fn erasure_problem(err: ErasureError) -> Problem {
    match err {
        ErasureError::Store(err) => store_problem(err),
        ErasureError::Cv(err) => {
            // Nothing is lost: asking again finishes the erasure.
            tracing::error!(error = %err, "erasure stopped at the CV bucket");
            Problem::unavailable(5)
                .with_detail("Your data is being deleted; please ask again in a moment to finish.")
        }
    }
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
