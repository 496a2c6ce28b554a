//! The privacy center's routes, each to the module of its concern: signing in (`sign_in`), the
//! center itself (`me`), exports (`export`); how failures answer is in `problems`. JSON for API
//! clients (a bearer session), pages for browsers without JavaScript (the session is an HttpOnly,
//! SameSite=Strict cookie of this origin alone, never in a URL or a page, and a change made with
//! it must come from this origin's own pages). Browsers cannot send PATCH or DELETE, so pages POST to
//! `/me` with `_method`.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Body, Request, RequestExt, Response};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::adapters::turnstile::Turnstile;
use steward_core::config::{Config, Origin};
use steward_core::domain::forms::catalogue::Catalogue;
use steward_core::domain::forms::validation::FormInput;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::payments::PaymentCatalogue;
use steward_core::domain::ports::Clock;
use steward_core::domain::privacy::access::PrivacyStore as _;
use steward_core::domain::privacy::access::{session, PrivacyError};
use steward_core::http::body::decode_form;
use steward_core::http::page::{self, escape, layout, Back};
use steward_core::http::problem::{body_problem, Problem};
use steward_core::http::{client, cors, respond};
use steward_core::lambda::body_bytes;
use steward_core::time::Timestamp;
use steward_core::token::{Claims, Purpose};

use crate::problems::store_problem;
use crate::{export, me, sign_in};
use steward_core::t;

pub struct App {
    pub config: Config,
    pub catalogue: Catalogue,
    /// What is sold, to name what a person paid for.
    pub payments: PaymentCatalogue,
    pub store: DynamoStore,
    pub cvs: CvBucket,
    pub session_cookie: SessionCookie,
    /// Cloudflare Turnstile, where the deployment turns it on.
    pub turnstile: Turnstile,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// The catalogues and names the privacy center speaks with.
    pub fn words(&self) -> crate::center::Words<'_> {
        crate::center::Words {
            organisation: &self.config.links.organisation,
            forms: &self.catalogue,
            payments: &self.payments,
        }
    }
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
            let with_cookie = app.session_cookie.read(&request).is_some();
            let ended = with_cookie && problem.status == 401;
            // Back to the center while signed in, unless the center itself failed; otherwise to
            // the site's page that sends a new sign-in link. An ended session's cookie is forgotten.
            let center_failed = request.raw_http_path() == "/me" && request.method() == "GET";
            let sign_in = page::sign_in_page_url();
            let (to_center, new_link) = (t!("back-to-center"), t!("ask-new-sign-in-link"));
            let back = if with_cookie && !ended && !center_failed {
                Back { href: "/me", words: &to_center }
            } else {
                Back { href: &sign_in, words: &new_link }
            };
            let mut response = respond::problem_for(
                json_client,
                &problem.with_request_id(client::request_id(&request)),
                &t!("privacy-center"),
                Some(back),
            );
            if ended {
                response.headers_mut().insert("set-cookie", app.session_cookie.set("", 0));
            }
            response
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
    /// The session's own claims (its id is the subject), to end it.
    pub session: Claims,
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
        ("GET" | "HEAD", "/privacy/session") => sign_in::session_page(app, request).await,
        ("POST", "/privacy/session") => sign_in::open_session(app, request, json_client).await,
        ("GET" | "HEAD", "/privacy/email/confirm") => me::email_confirmation_page(request).await,
        ("POST", "/privacy/email/confirm") => me::confirm_email(app, request, json_client).await,
        ("GET" | "HEAD", "/privacy/email/undo") => me::email_undo_page(request).await,
        ("POST", "/privacy/email/undo") => me::undo_email(app, request, json_client).await,
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
            | "/me/requests/cancel"
            | "/me/submissions/delete"
            | "/me/restrict"
            | "/me/object"
            | "/me/withdraw"
            | "/me/sign-out",
        ) => {
            let signed = match signed_in(app, request, json_client).await {
                Ok(signed) => signed,
                // Erasure ends the session it was asked in: asking again (an answer lost on the
                // way) still hears that everything is erased.
                Err(problem) if problem.status == 401 && (method, path) == ("DELETE", "/me") => {
                    return match erased_already(app, request).await? {
                        true => Ok(me::erased_already()),
                        false => Err(problem),
                    };
                }
                Err(problem) => return Err(problem),
            };
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
    // A session is an API client's bearer token or a browser's cookie: never a query or a form
    // field, so no link or page can carry one person's session to another's browser.
    let (token, from_cookie) = match bearer(request) {
        Some(token) => (token, false),
        None => (
            app.session_cookie.read(request).ok_or_else(|| {
                Problem::new(401, "not_signed_in", t!("problem-not-signed-in"))
                    .with_detail(t!("problem-not-signed-in-detail"))
            })?,
            true,
        ),
    };
    let changing = !matches!(request.method().as_str(), "GET" | "HEAD");
    if from_cookie && changing && !app.session_cookie.sent_by_own_pages(request) {
        // SameSite keeps other sites' forms from sending the cookie; this keeps every other page,
        // the company site's included (same-site, so its scripts' requests carry the cookie),
        // and anything that does not say where it comes from, from acting with it.
        return Err(Problem::new(403, "forbidden_origin", t!("problem-forbidden-origin")));
    }
    let claims =
        session(&app.store, &app.config, &token, app.clock.now()).await.map_err(|err| match err {
            PrivacyError::Store(err) => store_problem(err),
            _ => Problem::new(401, "not_signed_in", t!("problem-session-ended"))
                .with_detail(t!("problem-session-ended-detail")),
        })?;
    Ok(Signed { profile_id: claims.profile_id.clone(), session: claims, form, page: !json_client, request })
}

/// Whether the bearer's session was genuine and its person is no longer held.
async fn erased_already(app: &App, request: &Request) -> Result<bool, Problem> {
    let Some(token) = bearer(request) else { return Ok(false) };
    let Ok(claims) = app.config.token_keys.verify(&token, Purpose::Session, app.clock.now()) else {
        return Ok(false);
    };
    Ok(app.store.address_of(&claims.profile_id).await.map_err(store_problem)?.is_none())
}

/// The browser's session cookie. HttpOnly: no script reads it; SameSite=Strict: no other site's
/// page sends it. Over HTTPS (every deployment) it is `__Host-steward-session`, Secure: set by
/// this origin alone, for every path, never for another host. Over plain HTTP (the local stack
/// alone) a browser would not keep a Secure cookie, so there it is `steward-session`, not Secure.
#[derive(Debug, Clone)]
pub struct SessionCookie {
    secure: bool,
    /// The origin of the API, which serves the privacy center's pages.
    own_origin: String,
}

impl SessionCookie {
    /// For the API the pages are served from.
    pub fn for_api(public_api_url: &Origin) -> Self {
        Self {
            secure: public_api_url.as_str().starts_with("https://"),
            own_origin: public_api_url.as_str().to_owned(),
        }
    }

    /// Whether a request comes from the privacy center's own pages: its `Origin` is the API's
    /// exactly (or, with none, the browser says the request is same-origin).
    pub fn sent_by_own_pages(&self, request: &Request) -> bool {
        steward_core::http::sent_by_own_pages(request, &self.own_origin)
    }

    pub fn name(&self) -> &'static str {
        if self.secure {
            "__Host-steward-session"
        } else {
            "steward-session"
        }
    }

    /// The `Set-Cookie` that keeps a session for `max_age_seconds` (0 ends it in the browser).
    pub fn set(&self, token: &str, max_age_seconds: i64) -> lambda_http::http::HeaderValue {
        steward_core::http::session_cookie(self.name(), token, "/", self.secure, max_age_seconds)
            .expect("a signed token is a valid cookie value")
    }

    pub fn read(&self, request: &Request) -> Option<String> {
        steward_core::http::cookie(request, self.name())
    }
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
    Problem::new(400, "missing_token", t!("problem-missing-token"))
        .with_detail(t!("problem-missing-token-detail"))
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

    #[test]
    fn a_deployment_keeps_the_session_in_a_host_only_secure_http_only_strict_cookie() {
        let api = |url: &str| SessionCookie::for_api(&Origin::parse(url).unwrap());
        let deployed = api("https://api.example.com").set("k1.abc.def", 1800);
        assert_eq!(
            deployed,
            "__Host-steward-session=k1.abc.def; Max-Age=1800; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        let local = api("http://127.0.0.1:3000").set("", 0);
        assert_eq!(local, "steward-session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
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
        assert!(
            steward_core::http::cookie(&page, "__Host-steward-session").is_some(),
            "its session in the cookie, not the form"
        );
        assert_eq!(form.first("session"), None);
    }
}
