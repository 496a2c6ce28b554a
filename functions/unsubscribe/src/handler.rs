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
use steward_core::domain::fields::{label as label_of, masked_address};
use steward_core::domain::forms::catalogue::topic_words;
use steward_core::domain::forms::validation::FormInput;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::mail::confirmation::topics_of;
use steward_core::domain::mail::preferences::{
    choose_topics, confirm_subscription, preference_token, unsubscribe, ChangeSource, Chosen, ClickEvidence,
    Confirmed, MailPreferences, PreferenceStore, PreferencesError,
};
use steward_core::domain::ports::Clock;
use steward_core::http::body::decode_form;
use steward_core::http::page::{escape, layout};
use steward_core::http::problem::Problem;
use steward_core::http::{client, respond};
use steward_core::i18n::form_action;
use steward_core::lambda::body_bytes;
use steward_core::t;
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
            respond::problem_for(json_client, &problem, &t!("mail-preferences"), None)
        }
    };
    Ok(response)
}

async fn route(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let path = request.raw_http_path().to_owned();
    let method = request.method().as_str().to_owned();
    let changing = method == "POST";
    if !changing && method != "GET" && method != "HEAD" {
        return Err(Problem::new(405, "method_not_allowed", t!("problem-mail-page-methods")));
    }
    // A page's own button sends the token as a field; mail providers and links carry it in the URL.
    let form = if changing { read_form(request).await? } else { FormInput::default() };
    let token = request
        .query_string_parameters_ref()
        .and_then(|q| q.first("token").map(str::to_owned))
        .or_else(|| form.first("token").map(str::to_owned))
        .ok_or_else(|| {
            Problem::new(400, "missing_token", t!("problem-missing-token"))
                .with_detail(t!("problem-missing-token-detail"))
        })?;
    let purpose = match path.as_str() {
        "/unsubscribe" => Purpose::Unsubscribe,
        "/preferences" => Purpose::Preferences,
        "/subscriptions/confirm" => Purpose::ConfirmSubscription,
        _ => return Err(Problem::not_found("page")),
    };
    let claims = match verify(app, &token, purpose) {
        Ok(claims) => claims,
        Err(problem) if problem.status == 403 => return Ok(fresh_link_offer(request, &problem)),
        Err(problem) => return Err(problem),
    };
    if purpose == Purpose::Preferences && claims.expires_at.is_none() {
        // Preference links lapse (60 days); one without an expiry was never ours to honour.
        let problem = Problem::new(403, "expired_token", t!("problem-expired-token"))
            .with_detail(t!("problem-expired-token-detail"));
        return Ok(fresh_link_offer(request, &problem));
    }
    let id = token_id(&token);
    let profile = &claims.profile_id;
    // Whom the page acts on, masked: every page says which address it changes.
    let whose = || async {
        app.store.preferences(profile).await.ok().flatten().and_then(|p| masked_address(&p.email))
    };
    let page = match (purpose, changing) {
        (Purpose::Unsubscribe, false) => unsubscribe_page(app, &claims, &token, whose().await.as_deref()),
        (Purpose::Unsubscribe, true) => {
            let topic = (claims.subject != "all").then(|| claims.subject.clone());
            let source = if form.first("List-Unsubscribe") == Some("One-Click") {
                ChangeSource::OneClick
            } else {
                ChangeSource::UnsubscribePage
            };
            let after = unsubscribe(&app.store, profile, topic.clone(), source, &id, app.clock.timestamp())
                .await
                .map_err(preferences_problem)?;
            let address = after.and_then(|p| masked_address(&p.email)).unwrap_or_default();
            let topic = topic.map(|t| label(app, &t)).unwrap_or_default();
            let scope = if topic.is_empty() { "all" } else { "topic" };
            let told = t!("unsubscribed-body", scope = scope, topic = topic);
            // No preference link here: an unsubscribe link is also held by mail providers'
            // one-click handlers, and must not open the door to adding topics.
            let title = t!("unsubscribed-title");
            layout(
                &title,
                &format!("<h1>{}</h1><p>{}</p>{}", escape(&title), escape(&told), acts_on(&address)),
            )
        }
        (Purpose::Preferences, false) => {
            let preferences = app.store.preferences(profile).await.map_err(unavailable)?.unwrap_or_default();
            preferences_page(app, &token, &preferences, None)
        }
        (Purpose::Preferences, true) => {
            let notice;
            let preferences = if form.first("action") == Some("unsubscribe_all") {
                notice = t!("preferences-unsubscribed-all");
                unsubscribe(&app.store, profile, None, ChangeSource::Preferences, &id, app.clock.timestamp())
                    .await
                    .map_err(preferences_problem)?
                    .unwrap_or_default()
            } else {
                let chosen = chosen_topics(app, &form);
                let now = app.clock.timestamp();
                let chosen = choose_topics(&app.store, &app.config, &app.topics, profile, chosen, &id, now)
                    .await
                    .map_err(preferences_problem)?;
                notice = saved_notice(app, &chosen);
                chosen.preferences
            };
            preferences_page(app, &token, &preferences, Some(&notice))
        }
        (Purpose::ConfirmSubscription, false) => {
            let named = topics_of(&claims.subject).unwrap_or_default();
            let listed: Vec<String> = named.iter().map(|t| label(app, t)).collect();
            let address = whose().await.unwrap_or_default();
            let title = t!("confirm-subscription-title");
            layout(
                &title,
                &format!(
                    r#"<h1>{}</h1><p>{}</p>{}
<form method="post" action="{}"><input type="hidden" name="token" value="{}"><button type="submit">{}</button></form>"#,
                    escape(&title),
                    escape(&t!("confirm-subscription-body", topics = listed.join(", "))),
                    acts_on(&address),
                    escape(&form_action("/subscriptions/confirm")),
                    escape(&token),
                    escape(&t!("confirm-subscription-button")),
                ),
            )
        }
        (Purpose::ConfirmSubscription, true) => {
            let client = client::client_info(request, app.clock.as_ref());
            let click = ClickEvidence {
                source_ip: client.source_ip,
                user_agent: client.user_agent,
                policy_version: app.config.policy_version.clone(),
            };
            let confirmed =
                confirm_subscription(&app.store, profile, &claims.subject, click, &id, app.clock.timestamp())
                    .await
                    .map_err(preferences_problem)?;
            let Confirmed::Receiving(preferences) = confirmed else {
                // Unsubscribed or withdrawn since the mail was sent: the click gives nothing back.
                return Ok(respond::html(
                    200,
                    layout(
                        &t!("nothing-to-confirm-title"),
                        &format!(
                            "<h1>{}</h1><p>{}</p>",
                            escape(&t!("nothing-to-confirm-title")),
                            escape(&t!("nothing-to-confirm-body"))
                        ),
                    ),
                ));
            };
            let listed: Vec<String> = preferences.receiving().iter().map(|t| label(app, t)).collect();
            // The address itself was reached: it may choose what it hears about from here.
            layout(
                &t!("subscription-confirmed-title"),
                &format!(
                    "<h1>{}</h1><p>{}</p>{}",
                    escape(&t!("subscription-confirmed-heading")),
                    escape(&t!("subscription-confirmed-body", topics = listed.join(", "))),
                    preferences_link(app, profile)
                ),
            )
        }
        _ => return Err(Problem::not_found("page")),
    };
    Ok(respond::html(200, page))
}

/// What the preference center says after saving.
fn saved_notice(app: &App, chosen: &Chosen) -> String {
    let listed =
        |topics: &BTreeSet<String>| topics.iter().map(|t| label(app, t)).collect::<Vec<_>>().join(", ");
    if chosen.not_mailable {
        return t!("preferences-saved-not-mailable");
    }
    if chosen.awaiting_confirmation.is_empty() {
        return t!("preferences-saved");
    }
    t!("preferences-saved-confirm", topics = listed(&chosen.awaiting_confirmation))
}

/// A refused preference change, as a page or a problem.
fn preferences_problem(err: PreferencesError) -> Problem {
    match err {
        PreferencesError::NotHeld => {
            Problem::new(410, "not_held", t!("problem-not-held")).with_detail(t!("problem-not-held-detail"))
        }
        PreferencesError::NamesNoTopics => Problem::new(403, "expired_token", t!("problem-expired-token"))
            .with_detail(t!("problem-confirmation-expired-detail")),
        PreferencesError::Store(err) => unavailable(err),
    }
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
    let keys = &app.config.token_keys;
    // Opting out takes a retired key's word: mail providers' one-click requests come long after
    // the mail, and a leaked key can only take people off lists.
    let checked = if purpose == Purpose::Unsubscribe {
        keys.verify_even_retired(token, purpose, app.clock.now())
    } else {
        keys.verify(token, purpose, app.clock.now())
    };
    checked.map_err(|err| {
        tracing::info!(reason = %err, "mail link refused");
        match err {
            TokenError::Malformed => Problem::new(400, "invalid_token", t!("problem-damaged-link"))
                .with_detail(t!("problem-damaged-link-detail")),
            TokenError::Expired if purpose == Purpose::ConfirmSubscription => {
                Problem::new(403, "expired_token", t!("problem-confirmation-expired"))
                    .with_detail(t!("problem-confirmation-expired-detail"))
            }
            TokenError::Expired | TokenError::Retired => {
                Problem::new(403, "expired_token", t!("problem-expired-token"))
                    .with_detail(t!("problem-expired-token-detail"))
            }
            _ => Problem::new(403, "invalid_token", t!("problem-invalid-link"))
                .with_detail(t!("problem-invalid-link-nothing-changed")),
        }
    })
}

/// A refused link's page offers a fresh one: the address typed gets a privacy-center sign-in link,
/// where every choice about our mail can be made (nothing is sent to an address we do not hold).
/// The link's own claims are never trusted for this: its key may be retired because it leaked.
fn fresh_link_offer(request: &Request, problem: &Problem) -> Response<Body> {
    if respond::wants_json(request.headers()) {
        return respond::problem(problem);
    }
    let detail = problem.detail.clone().unwrap_or_else(|| t!("nothing-changed"));
    respond::html(
        problem.status,
        layout(
            &t!("page-error", problem = problem.title.as_str()),
            &format!(
                r#"<h1>{title}</h1><div role="alert" class="alert"><p>{detail}</p></div>
<h2>{heading}</h2><p>{explain}</p>
<form method="post" action="{action}"><label for="email">{email}</label><input id="email" name="email" type="email" autocomplete="email" required>
<button type="submit">{button}</button></form>"#,
                title = escape(&problem.title),
                detail = escape(&detail),
                heading = escape(&t!("fresh-link-heading")),
                explain = escape(&t!("fresh-link-explain")),
                email = escape(&label_of("email")),
                button = escape(&t!("fresh-link-button")),
                // Relative: the privacy center is served from this API's origin, as this page is.
                action = escape(&form_action("/privacy/link")),
            ),
        ),
    )
}

/// Mail links answer 503 whatever the store's failure (`infra/openapi.yaml`): trying again later
/// is all a person or a mail provider's one-click POST can do.
fn unavailable(err: steward_core::domain::ports::StoreError) -> Problem {
    tracing::error!(error = %steward_core::telemetry::error_chain(&err), "mail preferences store failed");
    Problem::unavailable(2)
}

fn label(app: &App, topic: &str) -> String {
    topic_words(&app.topics, topic).unwrap_or_else(|| topic.to_owned())
}

fn preferences_link(app: &App, profile: &ProfileId) -> String {
    let token = preference_token(&app.config.token_keys, profile, app.clock.timestamp());
    format!(
        r#"<p><a href="/preferences?token={}">{}</a></p>"#,
        escape(&token),
        escape(&t!("choose-what-you-hear"))
    )
}

fn unsubscribe_page(app: &App, claims: &Claims, token: &str, whose: Option<&str>) -> String {
    let topic = if claims.subject == "all" { String::new() } else { label(app, &claims.subject) };
    let title = t!("unsubscribe-title");
    layout(
        &title,
        &format!(
            r#"<h1>{title}</h1><p>{}</p>{}
<form method="post" action="{}"><input type="hidden" name="token" value="{}"><button type="submit">{title}</button></form>"#,
            escape(&t!(
                "unsubscribe-body",
                scope = if topic.is_empty() { "all" } else { "topic" },
                topic = topic
            )),
            acts_on(whose.unwrap_or_default()),
            escape(&form_action("/unsubscribe")),
            escape(token),
            title = escape(&title),
        ),
    )
}

/// Which address a page acts on (masked), as every mail page says; nothing when it is not known.
fn acts_on(address: &str) -> String {
    if address.is_empty() {
        return String::new();
    }
    format!("<p>{}</p>", escape(&t!("page-acts-on", address = address)))
}

/// The catalogue topics ticked on the preference center's form; anything else is ignored.
fn chosen_topics(app: &App, form: &FormInput) -> BTreeSet<String> {
    form.values
        .get("topic")
        .into_iter()
        .flatten()
        .filter(|t| app.topics.contains_key(t.as_str()))
        .cloned()
        .collect()
}

fn preferences_page(app: &App, token: &str, preferences: &MailPreferences, notice: Option<&str>) -> String {
    let receiving = preferences.receiving();
    let boxes: String = app
        .topics
        .keys()
        .map(|id| {
            let waiting = preferences.pending.contains(id) && !receiving.contains(id);
            let checked = if receiving.contains(id) || waiting { " checked" } else { "" };
            let note = if waiting { format!(" {}", t!("preferences-waiting")) } else { String::new() };
            format!(
                r#"<label><input type="checkbox" name="topic" value="{}"{checked}> {}{}</label>"#,
                escape(id),
                escape(&label(app, id)),
                escape(&note)
            )
        })
        .collect();
    let status = if preferences.unsubscribed_all || preferences.withdrawn {
        t!("preferences-none")
    } else {
        t!("preferences-how")
    };
    let status = format!("<p>{}</p>", escape(&status));
    let notice = notice.map(|n| format!(r#"<p role="status">{}</p>"#, escape(n))).unwrap_or_default();
    let whose = masked_address(&preferences.email)
        .map(|address| format!("<p>{}</p>", escape(&t!("preferences-whose", address = address))))
        .unwrap_or_default();
    let title = t!("preferences-title");
    layout(
        &title,
        &format!(
            r#"<h1>{title}</h1>{whose}{notice}{status}
<form method="post" action="{action}"><input type="hidden" name="token" value="{token}">
<fieldset><legend>{legend}</legend>{boxes}</fieldset>
<p><button type="submit" name="action" value="save">{save}</button>
<button type="submit" name="action" value="unsubscribe_all" class="secondary">{all}</button></p>
</form>"#,
            title = escape(&title),
            token = escape(token),
            action = escape(&form_action("/preferences")),
            legend = escape(&t!("preferences-legend")),
            save = escape(&t!("preferences-save")),
            all = escape(&t!("preferences-unsubscribe-all")),
        ),
    )
}
