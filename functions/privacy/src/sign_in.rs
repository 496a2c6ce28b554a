//! Signing in to the privacy center: a link by mail (the same answer whether or not the address
//! is known), then a session from the link, behind a button so that a link scanner cannot use it.

use lambda_http::{Body, Request, Response};
use steward_core::domain::fields::Email;
use steward_core::domain::forms::proof::{self, Evidence};
use steward_core::domain::privacy::access::{request_link, start_session, whose_link};
use steward_core::http::page::{escape, layout};
use steward_core::http::problem::Problem;
use steward_core::http::{client, respond};

use crate::handler::{missing_token, query, read_form, rfc3339, token_of, App};
use crate::pages;
use crate::problems::privacy_problem;
use steward_core::t;

pub async fn request_link_by_mail(
    app: &App,
    request: &Request,
    json_client: bool,
) -> Result<Response<Body>, Problem> {
    let form = read_form(request).await?;
    let email = Email::parse("email", form.first("email").unwrap_or_default())
        .map_err(|e| Problem::validation(vec![e]))?;
    let ip = client::client_info(request, app.clock.as_ref()).source_ip;
    let evidence = Evidence {
        remote_ip: &ip,
        proof_of_work: form.first(proof::FIELD),
        turnstile: form.first(proof::TURNSTILE_FIELD),
    };
    request_link(&app.store, &app.turnstile, &app.config, &email, &evidence, app.clock.now())
        .await
        .map_err(privacy_problem)?;
    // The same answer whether or not the address is known.
    let message = t!("sign-in-sent");
    Ok(if json_client {
        respond::json(202, &serde_json::json!({ "message": message }))
    } else {
        let title = t!("sign-in-sent-title");
        respond::html(202, layout(&title, &format!("<h1>{}</h1><p>{}</p>", escape(&title), escape(&message))))
    })
}

/// The link's page: a button that opens the session.
pub async fn session_page(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    // A page and a button: a link scanner opening the link must not use it up.
    let token = query(request, "token").ok_or_else(missing_token)?;
    let whose = whose_link(&app.store, &app.config, &token, app.clock.now()).await;
    Ok(respond::html(200, pages::sign_in_link(&token, whose.as_deref())))
}

/// The button: the link becomes a session (once).
pub async fn open_session(
    app: &App,
    request: &Request,
    json_client: bool,
) -> Result<Response<Body>, Problem> {
    if !json_client && !app.session_cookie.sent_by_own_pages(request) {
        // A page's button, from this link's own page: another site cannot sign a browser in
        // (login CSRF) by posting someone's link to it.
        return Err(Problem::new(403, "forbidden_origin", t!("problem-press-the-button")));
    }
    let token = token_of(request).await?;
    let (session_token, expires_at) =
        start_session(&app.store, &app.config, &token, app.clock.now()).await.map_err(privacy_problem)?;
    if json_client {
        return Ok(respond::json(
            200,
            &serde_json::json!({ "session_token": session_token, "expires_at": rfc3339(expires_at) }),
        ));
    }
    // The session goes in the browser's HttpOnly cookie, never in the URL it lands on.
    let mut response = respond::see_other("/me");
    response
        .headers_mut()
        .insert("set-cookie", app.session_cookie.set(&session_token, expires_at - app.clock.now()));
    Ok(response)
}
