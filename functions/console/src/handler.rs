//! The console's routes, each to the module of its concern: signing in (`sign_in`), the teams'
//! inboxes (`inboxes`), people and the audit log (`people`), the register of requests
//! (`register`). Who is asking is decided here, once, from a token Cognito signed: the session
//! cookie of the console's pages (HttpOnly, SameSite=Strict, never in a URL) or, on the JSON API,
//! the `Authorization` header the HTTP API's JWT authorizer checked first. Every failure is
//! mapped to HTTP in one place, [`ConsoleError::respond`].

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::http::HeaderValue;
use lambda_http::{Body, Request, RequestExt, Response};
use steward_core::adapters::cognito::{CognitoDirectory, CognitoSignIn, CognitoTokens};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::config::{Config, Origin};
use steward_core::domain::forms::catalogue::Catalogue;
use steward_core::domain::forms::validation::FormInput;
use steward_core::domain::payments::PaymentCatalogue;
use steward_core::domain::ports::{Clock, StoreError};
use steward_core::domain::privacy::audit::{AuditEntry, AuditStore as _};
use steward_core::domain::staff::{Group, StaffDirectory as _, StaffMember, StaffTokens as _, TokenError};
use steward_core::http::body::decode_form;
use steward_core::http::page::escape;
use steward_core::http::problem::{body_problem, Problem};
use steward_core::http::respond;
use steward_core::lambda::body_bytes;

use crate::pages::{page, Page};
use crate::{inboxes, people, register, sign_in};

pub struct App {
    pub config: Config,
    pub catalogue: Catalogue,
    pub payments: PaymentCatalogue,
    pub store: DynamoStore,
    pub cvs: CvBucket,
    pub tokens: CognitoTokens,
    /// The pool's directory: an account disabled or a group removed counts at once.
    pub directory: CognitoDirectory,
    pub sign_in: CognitoSignIn,
    pub cookies: Cookies,
    pub clock: Arc<dyn Clock>,
}

/// Every way a console request can fail, and (in [`Self::respond`]) what each answers.
#[derive(Debug)]
pub enum ConsoleError {
    /// No session, or one that ended: a page goes to the sign-in, the API answers 401.
    NotSignedIn,
    /// Signed in, but none of their groups may see or do this.
    Forbidden,
    NotFound,
    /// A field is wrong: it is named.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The page was stale: someone changed the request meanwhile.
    Stale,
    /// A POST that did not come from the console's own pages.
    ForeignOrigin,
    Unavailable(String),
}

impl From<StoreError> for ConsoleError {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %steward_core::telemetry::error_chain(&err), "the table failed");
        Self::Unavailable("the table".into())
    }
}

impl ConsoleError {
    fn problem(&self) -> Problem {
        match self {
            Self::NotSignedIn => Problem::new(401, "not_signed_in", "Sign in to the staff console"),
            Self::Forbidden => Problem::new(403, "forbidden", "Your groups do not include this")
                .with_detail("Ask the console's administrator to add you to the group that works with it."),
            Self::NotFound => Problem::new(404, "not_found", "Not found"),
            Self::Invalid { field, message } => {
                Problem::validation(vec![steward_core::domain::fields::FieldError::new(
                    field,
                    "invalid",
                    message.clone(),
                )])
            }
            Self::Stale => Problem::new(409, "stale", "The request was changed meanwhile")
                .with_detail("Reload it to see what changed, then act again."),
            Self::ForeignOrigin => Problem::new(403, "forbidden_origin", "Use the console's own pages"),
            Self::Unavailable(_) => Problem::unavailable(5),
        }
    }

    fn respond(&self, json: bool) -> Response<Body> {
        if matches!(self, Self::NotSignedIn) && !json {
            return respond::see_other("/console/sign-in");
        }
        respond::problem_for(
            json,
            &self.problem(),
            "Staff console",
            Some(steward_core::http::page::Back { href: "/console", words: "Back to the console" }),
        )
    }
}

pub type Outcome = Result<Response<Body>, ConsoleError>;

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    let json = request.raw_http_path().starts_with("/console/api/");
    let mut response = match route(app, &request).await {
        Ok(response) => response,
        Err(err) => {
            if let ConsoleError::Unavailable(reason) = &err {
                tracing::error!(reason = reason.as_str(), "the console could not answer");
            }
            let mut response = err.respond(json);
            if matches!(err, ConsoleError::NotSignedIn) && app.cookies.read_session(&request).is_some() {
                response.headers_mut().append("set-cookie", app.cookies.session("", 0));
            }
            response
        }
    };
    // Personal data: never cached, by the browser or anything between.
    response.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn route(app: &App, request: &Request) -> Outcome {
    let path = request.raw_http_path().to_owned();
    let method = request.method().as_str().to_owned();
    if method == "POST" && !app.cookies.sent_by_own_pages(request) {
        // Another site cannot make a signed-in browser act (SameSite=Strict already keeps the
        // cookie from its posts; this refuses them outright).
        return Err(ConsoleError::ForeignOrigin);
    }
    // Each segment as the gateway's path parameters have it: percent-decoded (an event's id may
    // hold any character a registration sent).
    let decoded: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["console", "sign-in"]) => return Ok(sign_in::page_for(None, None)),
        ("POST", ["console", "sign-in"]) => return sign_in::password(app, request).await,
        ("POST", ["console", "sign-in", "code"]) => return sign_in::code(app, request).await,
        ("POST", ["console", "sign-in", "new-password"]) => return sign_in::new_password(app, request).await,
        ("POST", ["console", "sign-in", "app"]) => return sign_in::app_code(app, request).await,
        ("POST", ["console", "sign-out"]) => return Ok(sign_in::sign_out(app)),
        _ => {}
    }
    let staff = signed_in(app, request).await?;
    let query = |name: &str| query(request, name);
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["console"]) => Ok(home(app, &staff)),
        ("GET", ["console", "forms", form]) => inboxes::submissions(app, &staff, form, request).await,
        ("GET", ["console", "events"]) => inboxes::events(app, &staff).await,
        ("GET", ["console", "events", event]) => inboxes::attendees(app, &staff, event, request).await,
        ("GET", ["console", "applicants"]) => inboxes::applicants(app, &staff, request).await,
        ("POST", ["console", "applicants", application, "cv"]) => {
            inboxes::cv_link(app, &staff, application).await
        }
        ("GET", ["console", "people"]) => people::find(app, &staff, query("email").as_deref()).await,
        ("GET", ["console", "people", profile]) => people::person(app, &staff, profile).await,
        ("GET", ["console", "audit"]) => people::audit_log(app, &staff, query("month").as_deref()).await,
        ("GET", ["console", "requests"]) => register::list(app, &staff).await,
        ("POST", ["console", "requests"]) => register::enter(app, &staff, request).await,
        ("GET", ["console", "requests", "report.csv"]) => {
            register::report(app, &staff, query("year").as_deref(), false).await
        }
        ("GET", ["console", "requests", "year.csv"]) => {
            register::report(app, &staff, query("year").as_deref(), true).await
        }
        ("GET", ["console", "requests", id]) => register::show(app, &staff, id).await,
        ("POST", ["console", "requests", id]) => register::act(app, &staff, id, request).await,
        ("GET", ["console", "api", "requests"]) => register::api_list(app, &staff).await,
        _ => Err(ConsoleError::NotFound),
    }
}

/// Who is asking: the staff member a valid Cognito token names, from the API's `Authorization`
/// header or the pages' session cookie, with the groups the pool gives them now (an account
/// disabled when they left is signed out at once). Nothing the browser says otherwise is taken.
async fn signed_in(app: &App, request: &Request) -> Result<StaffMember, ConsoleError> {
    let token =
        bearer(request).or_else(|| app.cookies.read_session(request)).ok_or(ConsoleError::NotSignedIn)?;
    let checked = |err: TokenError| match err {
        TokenError::Refused(reason) => {
            tracing::info!(reason = reason.as_str(), "a staff token was refused");
            ConsoleError::NotSignedIn
        }
        TokenError::Unavailable(reason) => ConsoleError::Unavailable(reason),
    };
    let mut staff = app.tokens.staff_member(&token).await.map_err(checked)?;
    if staff.expires_at <= app.clock.now() {
        return Err(ConsoleError::NotSignedIn);
    }
    staff.groups =
        app.directory.current_groups(&staff.username).await.map_err(checked)?.ok_or_else(|| {
            tracing::info!("a disabled staff account's session was refused");
            ConsoleError::NotSignedIn
        })?;
    Ok(staff)
}

/// The token of an `Authorization` header, as the gateway's JWT authorizer takes it: with or
/// without the `Bearer` scheme (any case).
fn bearer(request: &Request) -> Option<String> {
    let value = request.headers().get("authorization")?.to_str().ok()?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        Some(_) => return None,
        None => value,
    };
    (!token.is_empty()).then(|| token.to_owned())
}

pub fn query(request: &Request, name: &str) -> Option<String> {
    request.query_string_parameters_ref().and_then(|q| q.first(name).map(str::to_owned))
}

pub async fn read_form(request: &Request) -> Result<FormInput, ConsoleError> {
    let bytes = body_bytes(request);
    if bytes.is_empty() {
        return Ok(FormInput::default());
    }
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
    decode_form(content_type, bytes, 16 * 1024).await.map_err(|e| {
        let problem: Problem = body_problem(&e);
        ConsoleError::Invalid { field: "body", message: problem.title }
    })
}

/// Refuses anyone not in `group`.
pub fn require(staff: &StaffMember, group: Group) -> Result<(), ConsoleError> {
    if staff.is_in(group) {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden)
    }
}

/// Records a view or an action under the staff member's name. Nothing is shown or done without
/// its record: a failure to record fails the request.
pub async fn audit(
    app: &App,
    staff: &StaffMember,
    action: &str,
    subject: Option<&str>,
    counts: &[(&str, u64)],
) -> Result<(), ConsoleError> {
    let entry = AuditEntry {
        at: app.clock.timestamp().rfc3339(),
        action: action.to_owned(),
        actor: staff.actor(),
        subject: subject.map(str::to_owned),
        reference: None,
        outcome: "ok".to_owned(),
        counts: counts.iter().map(|(name, count)| ((*name).to_owned(), *count)).collect(),
        schema_version: 2,
    };
    app.store.record(&entry).await?;
    Ok(())
}

fn home(app: &App, staff: &StaffMember) -> Response<Body> {
    let mut sections = String::new();
    let forms: Vec<String> = app
        .catalogue
        .forms()
        .filter(|form| staff.may_read(&form.teams))
        .map(|form| {
            format!(
                r#"<li><a href="/console/forms/{}">{}</a></li>"#,
                escape(form.id.as_str()),
                escape(&form.title)
            )
        })
        .collect();
    if !forms.is_empty() {
        sections.push_str(&format!("<h2>What came in</h2><ul>{}</ul>", forms.join("")));
    }
    if staff.is_in(Group::Events) {
        sections.push_str(r#"<h2>Events</h2><p><a href="/console/events">Attendees of each event</a></p>"#);
    }
    if staff.is_in(Group::Recruiting) {
        sections.push_str(
            r#"<h2>Recruiting</h2><p><a href="/console/applicants">Applicants and their CVs</a></p>"#,
        );
    }
    if staff.is_in(Group::Privacy) {
        sections.push_str(
            r#"<h2>Privacy</h2><ul><li><a href="/console/requests">Register of requests</a></li><li><a href="/console/people">Find a person</a></li><li><a href="/console/audit">Audit log</a></li></ul>"#,
        );
    }
    if sections.is_empty() {
        sections.push_str("<p>You are in no group yet: ask the console's administrator to add you to the group you work in.</p>");
    }
    page(Page { title: "Staff console", staff: Some(staff), body: &sections })
}

/// The console's cookies: the session (a Cognito id token) and, between sign-in steps, Cognito's
/// sign-in session. HttpOnly, SameSite=Strict and for `/console` alone (the visitors' functions
/// on the same origin never see them); `__Secure-` and Secure over HTTPS.
pub struct Cookies {
    secure: bool,
    own_origin: String,
}

impl Cookies {
    pub fn for_api(public_api_url: &Origin) -> Self {
        Self {
            secure: public_api_url.as_str().starts_with("https://"),
            own_origin: public_api_url.as_str().to_owned(),
        }
    }

    /// Whether a request comes from the console's own pages: its `Origin` is the API's exactly
    /// (or, with none, the browser says it is same-origin).
    pub fn sent_by_own_pages(&self, request: &Request) -> bool {
        steward_core::http::sent_by_own_pages(request, &self.own_origin)
    }

    fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Secure-{base}")
        } else {
            base.to_owned()
        }
    }

    fn cookie(&self, base: &str, path: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
        steward_core::http::session_cookie(&self.name(base), value, path, self.secure, max_age_seconds)
            .unwrap_or_else(|_| HeaderValue::from_static("steward-staff=; Max-Age=0"))
    }

    pub fn session(&self, token: &str, max_age_seconds: i64) -> HeaderValue {
        self.cookie("steward-staff", "/console", token, max_age_seconds)
    }

    pub fn read_session(&self, request: &Request) -> Option<String> {
        steward_core::http::cookie(request, &self.name("steward-staff"))
    }

    /// Cognito's session between two sign-in steps (three minutes), with the address it is for.
    pub fn sign_in_step(&self, value: &str, max_age_seconds: i64) -> HeaderValue {
        self.cookie("steward-staff-sign-in", "/console/sign-in", value, max_age_seconds)
    }

    pub fn read_sign_in_step(&self, request: &Request) -> Option<String> {
        steward_core::http::cookie(request, &self.name("steward-staff-sign-in"))
    }
}
