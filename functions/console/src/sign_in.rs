//! Signing in: the address and password, then the authenticator app's code. A first sign-in
//! (an invitation's temporary password) sets a new password and an authenticator app first.
//! Between steps Cognito's sign-in session waits in a short-lived HttpOnly cookie, never in the
//! page or the URL; the session itself is the id token Cognito issues, in the session cookie.

use base64::Engine;
use lambda_http::{Body, Request, Response};
use steward_core::domain::staff::{SignInError, SignInStep, StaffSignIn as _, StaffTokens as _, TokenError};
use steward_core::http::page::escape;
use steward_core::http::respond;

use crate::handler::{audit, read_form, App, ConsoleError, Outcome};
use crate::pages::{frame, Page};

/// How long a sign-in step waits for the next (Cognito's sign-in sessions last three minutes).
const STEP_SECONDS: i64 = 180;

#[derive(serde::Serialize, serde::Deserialize)]
struct Step {
    email: String,
    session: String,
}

fn email_field(value: &str) -> String {
    format!(
        r#"<label for="email">Work address</label><input type="email" id="email" name="email" autocomplete="username" required value="{}">"#,
        escape(value)
    )
}

/// The sign-in page, with an error when the last attempt failed.
pub fn page_for(error: Option<&str>, email: Option<&str>) -> Response<Body> {
    let alert = error
        .map(|e| format!(r#"<div role="alert" class="alert"><p>{}</p></div>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"{alert}<p>For the company's people: your work address, your password, then the code of your authenticator app.</p>
<form method="post" action="/console/sign-in">{}<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required><button type="submit">Continue</button></form>"#,
        email_field(email.unwrap_or_default())
    );
    respond::html(
        if error.is_some() { 401 } else { 200 },
        frame(Page { title: "Sign in to the staff console", staff: None, body: &body }),
    )
}

fn code_page(title: &str, action: &str, intro: &str, error: Option<&str>) -> Response<Body> {
    let alert = error
        .map(|e| format!(r#"<div role="alert" class="alert"><p>{}</p></div>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"{alert}<p>{intro}</p><form method="post" action="{action}"><label for="code">Code from your authenticator app</label><input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{{6}}" maxlength="6" required><button type="submit">Sign in</button></form>"#,
    );
    respond::html(if error.is_some() { 401 } else { 200 }, frame(Page { title, staff: None, body: &body }))
}

fn new_password_page(error: Option<&str>) -> Response<Body> {
    let alert = error
        .map(|e| format!(r#"<div role="alert" class="alert"><p>{}</p></div>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"{alert}<p>This is your first sign-in: choose your own password (at least 14 characters, with upper- and lower-case letters and a digit).</p><form method="post" action="/console/sign-in/new-password"><label for="password">New password</label><input type="password" id="password" name="password" autocomplete="new-password" minlength="14" required><button type="submit">Set the password</button></form>"#
    );
    respond::html(
        if error.is_some() { 400 } else { 200 },
        frame(Page { title: "Choose your password", staff: None, body: &body }),
    )
}

fn set_up_app_page(email: &str, secret: &str, error: Option<&str>) -> Response<Body> {
    let alert = error
        .map(|e| format!(r#"<div role="alert" class="alert"><p>{}</p></div>"#, escape(e)))
        .unwrap_or_default();
    let uri = format!("otpauth://totp/Steward:{email}?secret={secret}&issuer=Steward");
    let body = format!(
        r#"{alert}<p>The console asks for a second factor every time: the code of an authenticator app on your phone.</p>
<ol><li>In your authenticator app, add an account by entering this key: <code>{}</code> (time-based).</li>
<li>Or open this address with it: <code>{}</code>.</li><li>Type the six-digit code it shows.</li></ol>
<form method="post" action="/console/sign-in/app"><label for="code">Code from your authenticator app</label><input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{{6}}" maxlength="6" required><button type="submit">Finish</button></form>"#,
        escape(secret),
        escape(&uri)
    );
    respond::html(
        if error.is_some() { 401 } else { 200 },
        frame(Page { title: "Set up your authenticator app", staff: None, body: &body }),
    )
}

fn encode(step: &Step) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(step).unwrap_or_default())
}

fn decode(text: &str) -> Option<Step> {
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?).ok()
}

/// Where a step leads: signed in (the session cookie, to the console), or the next step's page
/// with Cognito's session kept for it.
async fn next(app: &App, email: &str, step: SignInStep) -> Outcome {
    let keep = |response: Response<Body>, session: &str| {
        let mut response = response;
        let value = encode(&Step { email: email.to_owned(), session: session.to_owned() });
        response.headers_mut().append("set-cookie", app.cookies.sign_in_step(&value, STEP_SECONDS));
        response
    };
    match step {
        SignInStep::SignedIn { token, expires_in } => {
            // The token is checked as every later request checks it, and the sign-in recorded
            // under the name it gives them.
            let staff = app.tokens.staff_member(&token).await.map_err(|err| match err {
                TokenError::Refused(reason) => {
                    tracing::warn!(reason = reason.as_str(), "Cognito issued a token the console refuses");
                    ConsoleError::NotSignedIn
                }
                TokenError::Unavailable(reason) => ConsoleError::Unavailable(reason),
            })?;
            audit(app, &staff, "sign-in", None, &[]).await?;
            let mut response = respond::see_other("/console");
            response.headers_mut().append("set-cookie", app.cookies.session(&token, expires_in));
            response.headers_mut().append("set-cookie", app.cookies.sign_in_step("", 0));
            Ok(response)
        }
        SignInStep::Code { session } => Ok(keep(
            code_page(
                "Your authenticator app's code",
                "/console/sign-in/code",
                "Type the code your authenticator app shows now.",
                None,
            ),
            &session,
        )),
        SignInStep::NewPassword { session } => Ok(keep(new_password_page(None), &session)),
        SignInStep::SetUpApp { session, secret } => Ok(keep(set_up_app_page(email, &secret, None), &session)),
    }
}

fn failed(error: &SignInError) -> Result<String, ConsoleError> {
    match error {
        SignInError::Unavailable(reason) => Err(ConsoleError::Unavailable(reason.clone())),
        other => Ok(other.to_string()),
    }
}

pub async fn password(app: &App, request: &Request) -> Outcome {
    let form = read_form(request).await?;
    let email = form.first("email").unwrap_or_default().trim().to_lowercase();
    let password = form.first("password").unwrap_or_default();
    if email.is_empty() || password.is_empty() || email.len() > 254 || password.len() > 256 {
        return Ok(page_for(Some("Give your work address and your password."), Some(&email)));
    }
    match app.sign_in.password(&email, password).await {
        Ok(step) => next(app, &email, step).await,
        Err(err) => Ok(page_for(Some(&failed(&err)?), Some(&email))),
    }
}

fn pending(app: &App, request: &Request) -> Result<Step, ConsoleError> {
    app.cookies.read_sign_in_step(request).as_deref().and_then(decode).ok_or(ConsoleError::NotSignedIn)
}

fn six_digits(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

pub async fn code(app: &App, request: &Request) -> Outcome {
    let step = pending(app, request)?;
    let form = read_form(request).await?;
    let code = form.first("code").unwrap_or_default().trim().to_owned();
    let retry = |message: &str| {
        code_page(
            "Your authenticator app's code",
            "/console/sign-in/code",
            "Type the code your authenticator app shows now.",
            Some(message),
        )
    };
    if !six_digits(&code) {
        return Ok(retry("The code is the six digits your authenticator app shows."));
    }
    match app.sign_in.code(&step.email, &step.session, &code).await {
        Ok(next_step) => next(app, &step.email, next_step).await,
        Err(SignInError::Refused) => Ok(retry(
            "That code is not right, or the sign-in took too long: try the code shown now, or sign in again.",
        )),
        Err(err) => Ok(retry(&failed(&err)?)),
    }
}

pub async fn new_password(app: &App, request: &Request) -> Outcome {
    let step = pending(app, request)?;
    let form = read_form(request).await?;
    let password = form.first("password").unwrap_or_default();
    match app.sign_in.new_password(&step.email, &step.session, password).await {
        Ok(next_step) => next(app, &step.email, next_step).await,
        Err(SignInError::WeakPassword(reason)) => Ok(new_password_page(Some(&reason))),
        Err(err) => Ok(page_for(Some(&failed(&err)?), Some(&step.email))),
    }
}

pub async fn app_code(app: &App, request: &Request) -> Outcome {
    let step = pending(app, request)?;
    let form = read_form(request).await?;
    let code = form.first("code").unwrap_or_default().trim().to_owned();
    if !six_digits(&code) {
        return Ok(page_for(
            Some("The code is the six digits your authenticator app shows; sign in again to set it up."),
            Some(&step.email),
        ));
    }
    match app.sign_in.app_code(&step.email, &step.session, &code).await {
        Ok(next_step) => next(app, &step.email, next_step).await,
        Err(err) => Ok(page_for(Some(&failed(&err)?), Some(&step.email))),
    }
}

pub fn sign_out(app: &App) -> Response<Body> {
    let mut response = respond::see_other("/console/sign-in");
    response.headers_mut().append("set-cookie", app.cookies.session("", 0));
    response
}
