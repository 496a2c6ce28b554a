//! `/unsubscribe`, `/preferences` and `/subscriptions/confirm`: pages behind signed links, no
//! login, no cookies, no JavaScript. A GET (or HEAD) never changes anything, because corporate link
//! scanners fetch every link in a message; changes are POSTs, from the page's button or, for
//! `/unsubscribe`, from a mail provider's RFC 8058 one-click request.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Body, Request, RequestExt, Response};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::config::Config;
use steward_core::domain::forms::validation::FormInput;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::mail::preferences::{
    ChangeSource, MailPreferences, PreferenceChange, PreferenceStore,
};
use steward_core::domain::ports::Clock;
use steward_core::http::body::decode_form;
use steward_core::http::page::{escape, layout};
use steward_core::http::problem::Problem;
use steward_core::http::{client, respond};
use steward_core::lambda::body_bytes;
use steward_core::token::{token_id, Claims, Purpose, TokenError};

pub struct App {
    pub config: Config,
    pub topics: BTreeMap<String, String>,
    pub store: DynamoStore,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    let json_client = respond::wants_json(request.headers());
    let response = match route(app, &request).await {
        Ok(response) => response,
        Err(problem) => {
            let problem = problem.with_request_id(client::request_id(&request));
            respond::problem_for(json_client, &problem, "Mail preferences", None)
        }
    };
    Ok(response)
}

async fn route(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let path = request.raw_http_path().to_owned();
    let method = request.method().as_str().to_owned();
    let changing = method == "POST";
    if !changing && method != "GET" && method != "HEAD" {
        return Err(Problem::new(
            405,
            "method_not_allowed",
            "Use GET to see this page and POST to act on it",
        ));
    }
    // A page's own button sends the token as a field; mail providers and links carry it in the URL.
    let form = if changing { read_form(request).await? } else { FormInput::default() };
    let token = request
        .query_string_parameters_ref()
        .and_then(|q| q.first("token").map(str::to_owned))
        .or_else(|| form.first("token").map(str::to_owned))
        .ok_or_else(|| {
            Problem::new(400, "missing_token", "This link is incomplete").with_detail("The token is missing.")
        })?;
    let purpose = match path.as_str() {
        "/unsubscribe" => Purpose::Unsubscribe,
        "/preferences" => Purpose::Preferences,
        "/subscriptions/confirm" => Purpose::ConfirmSubscription,
        _ => return Err(Problem::not_found("page")),
    };
    let claims = verify(app, &token, purpose)?;
    let id = token_id(&token);
    let profile = &claims.profile_id;
    let page = match (purpose, changing) {
        (Purpose::Unsubscribe, false) => unsubscribe_page(app, &claims, &token),
        (Purpose::Unsubscribe, true) => {
            let topic = (claims.subject != "all").then(|| claims.subject.clone());
            let source = if form.first("List-Unsubscribe") == Some("One-Click") {
                ChangeSource::OneClick
            } else {
                ChangeSource::UnsubscribePage
            };
            change(app, profile, &PreferenceChange::Unsubscribe { topic: topic.clone() }, source, &id)
                .await?;
            let what = topic.map_or_else(
                || "any marketing email".to_owned(),
                |t| format!("email about {}", label(app, &t)),
            );
            layout(
                "You are unsubscribed",
                &format!(
                    "<h1>You are unsubscribed</h1><p>You will not receive {} from us again. Messages about things you asked for, such as receipts, still reach you.</p>{}",
                    escape(&what),
                    preferences_link(app, profile)
                ),
            )
        }
        (Purpose::Preferences, false) => {
            let preferences = app.store.preferences(profile).await.map_err(unavailable)?.unwrap_or_default();
            preferences_page(app, &token, &preferences, None)
        }
        (Purpose::Preferences, true) => {
            let requested = preferences_change(app, &form);
            let preferences = change(app, profile, &requested, ChangeSource::Preferences, &id).await?;
            preferences_page(
                app,
                &token,
                &preferences.unwrap_or_default(),
                Some("Your preferences are saved."),
            )
        }
        (Purpose::ConfirmSubscription, false) => layout(
            "Confirm your subscription",
            &format!(
                r#"<h1>Confirm your subscription</h1><p>Press the button to confirm that you want our emails on the topics you chose.</p>
<form method="post" action="/subscriptions/confirm"><input type="hidden" name="token" value="{}"><button type="submit">Confirm my subscription</button></form>"#,
                escape(&token)
            ),
        ),
        (Purpose::ConfirmSubscription, true) => {
            let preferences =
                change(app, profile, &PreferenceChange::ConfirmPending, ChangeSource::Confirmation, &id)
                    .await?;
            let topics = preferences.map(|p| p.topics).unwrap_or_default();
            let listed: Vec<String> = topics.iter().map(|t| label(app, t)).collect();
            layout(
                "Subscription confirmed",
                &format!(
                    "<h1>Thank you, your subscription is confirmed</h1><p>You will hear from us about: {}.</p>{}",
                    escape(&listed.join(", ")),
                    preferences_link(app, profile)
                ),
            )
        }
        _ => return Err(Problem::not_found("page")),
    };
    Ok(respond::html(200, page))
}

async fn read_form(request: &Request) -> Result<FormInput, Problem> {
    let bytes = body_bytes(request);
    if bytes.is_empty() {
        return Ok(FormInput::default());
    }
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
    decode_form(content_type, bytes, 16 * 1024)
        .await
        .map_err(|e| steward_core::http::problem::body_problem(&e))
}

// A Problem is the answer on this path, built once per refused request.
#[allow(clippy::result_large_err)]
fn verify(app: &App, token: &str, purpose: Purpose) -> Result<Claims, Problem> {
    app.config.token_keys.verify(token, purpose, app.clock.now()).map_err(|err| {
        tracing::info!(reason = %err, "mail link refused");
        match err {
            TokenError::Malformed => Problem::new(400, "invalid_token", "This link is damaged")
                .with_detail("Part of the link may be missing. Please use the whole link from the email."),
            TokenError::Expired => Problem::new(403, "expired_token", "This link has expired")
                .with_detail("Please sign up again to get a new confirmation email."),
            _ => Problem::new(403, "invalid_token", "This link is not valid")
                .with_detail("Nothing was changed."),
        }
    })
}

async fn change(
    app: &App,
    profile: &ProfileId,
    change: &PreferenceChange,
    source: ChangeSource,
    token_id: &str,
) -> Result<Option<MailPreferences>, Problem> {
    app.store.change_preferences(profile, change, source, token_id).await.map_err(unavailable)
}

/// Mail links answer 503 whatever the store's failure (`infra/openapi.yaml`): trying again later
/// is all a person or a mail provider's one-click POST can do.
fn unavailable(err: steward_core::domain::ports::StoreError) -> Problem {
    tracing::error!(error = %steward_core::telemetry::error_chain(&err), "mail preferences store failed");
    Problem::unavailable(2)
}

fn label(app: &App, topic: &str) -> String {
    app.topics.get(topic).cloned().unwrap_or_else(|| topic.to_owned())
}

fn preferences_link(app: &App, profile: &ProfileId) -> String {
    let token = app.config.token_keys.sign(Purpose::Preferences, "preferences", profile, None);
    format!(r#"<p><a href="/preferences?token={}">Choose what you hear about</a></p>"#, escape(&token))
}

fn unsubscribe_page(app: &App, claims: &Claims, token: &str) -> String {
    let what = if claims.subject == "all" {
        "all our marketing email".to_owned()
    } else {
        format!("email about {}", label(app, &claims.subject))
    };
    layout(
        "Unsubscribe",
        &format!(
            r#"<h1>Unsubscribe</h1><p>Press the button to stop {}. Nothing changes until you do.</p>
<form method="post" action="/unsubscribe"><input type="hidden" name="token" value="{}"><button type="submit">Unsubscribe</button></form>
{}"#,
            escape(&what),
            escape(token),
            preferences_link(app, &claims.profile_id)
        ),
    )
}

fn preferences_change(app: &App, form: &FormInput) -> PreferenceChange {
    match form.first("action") {
        Some("unsubscribe_all") => PreferenceChange::Set { topics: BTreeSet::new(), unsubscribed_all: true },
        _ => {
            let topics = form
                .values
                .get("topic")
                .into_iter()
                .flatten()
                .filter(|t| app.topics.contains_key(t.as_str()))
                .cloned()
                .collect();
            PreferenceChange::Set { topics, unsubscribed_all: false }
        }
    }
}

fn preferences_page(app: &App, token: &str, preferences: &MailPreferences, notice: Option<&str>) -> String {
    let boxes: String = app
        .topics
        .iter()
        .map(|(id, title)| {
            let checked = if preferences.topics.contains(id) && !preferences.unsubscribed_all {
                " checked"
            } else {
                ""
            };
            format!(
                r#"<label><input type="checkbox" name="topic" value="{}"{checked}> {}</label>"#,
                escape(id),
                escape(title)
            )
        })
        .collect();
    let status = if preferences.unsubscribed_all {
        "<p>You are unsubscribed from all marketing email. Tick topics and save to resubscribe.</p>"
    } else {
        ""
    };
    let notice = notice.map(|n| format!(r#"<p role="status">{}</p>"#, escape(n))).unwrap_or_default();
    layout(
        "Your email preferences",
        &format!(
            r#"<h1>Your email preferences</h1>{notice}{status}
<form method="post" action="/preferences"><input type="hidden" name="token" value="{token}">
<fieldset><legend>Send me marketing email about</legend>{boxes}</fieldset>
<p><button type="submit" name="action" value="save">Save my choices</button>
<button type="submit" name="action" value="unsubscribe_all" class="secondary">Unsubscribe from everything</button></p>
</form>"#,
            token = escape(token),
        ),
    )
}
