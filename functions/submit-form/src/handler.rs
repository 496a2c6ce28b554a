//! `POST /forms/{form}` (and its CORS preflight): parse, call the domain, map the outcome.

use std::convert::Infallible;

use lambda_http::{Body, Request, RequestExt, Response};
use steward_core::catalogue::Catalogue;
use steward_core::config::Config;
use steward_core::domain::fields::FieldError;
use steward_core::domain::ids::IdempotencyKey;
use steward_core::domain::submit::{
    submit_form, Receipt, SubmitCommand, SubmitError, SubmitOutcome,
};
use steward_core::http::body::{decode_form, BodyError};
use steward_core::http::problem::Problem;
use steward_core::http::{client, cors, respond};
use steward_core::lambda::{body_bytes, body_was_invalid_base64};
use steward_core::store::dynamodb::DynamoStore;
use steward_core::store::StoreError;

pub struct App {
    pub config: Config,
    pub catalogue: Catalogue,
    pub store: DynamoStore,
}

/// The hidden field that plain HTML forms use for an idempotency key.
const SUBMISSION_ID_FIELD: &str = "_submission_id";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    if request.method() == "OPTIONS" {
        return Ok(cors::preflight(
            &app.config,
            request.headers(),
            "POST, OPTIONS",
        ));
    }
    let Ok(origin) = cors::allowed_origin(&app.config, request.headers()) else {
        return Ok(respond::problem(&Problem::new(
            403,
            "origin_not_allowed",
            "This origin may not submit forms",
        )));
    };
    let mut response = submit(app, &request).await;
    cors::decorate(&mut response, origin);
    Ok(response)
}

async fn submit(app: &App, request: &Request) -> Response<Body> {
    let json_client = respond::wants_json(request.headers());
    let request_id = client::request_id(request);
    let back = back_link(app, request);
    let fail = |problem: Problem, title: &str| {
        respond::problem_for(
            json_client,
            &problem.with_request_id(request_id.clone()),
            title,
            back.as_deref(),
        )
    };

    let form_name = request
        .path_parameters_ref()
        .and_then(|p| p.first("form"))
        .unwrap_or_default();
    let Some(form) = app.catalogue.form(form_name) else {
        return fail(Problem::not_found("form"), "Form not found");
    };
    if request.method() != "POST" {
        return fail(
            Problem::new(405, "method_not_allowed", "Forms accept POST only"),
            &form.title,
        );
    }
    if body_was_invalid_base64(request) {
        return fail(body_problem(&BodyError::InvalidBase64), &form.title);
    }
    let content_type = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    let input =
        match decode_form(content_type, body_bytes(request), app.config.max_body_bytes).await {
            Ok(input) => input,
            Err(err) => return fail(body_problem(&err), &form.title),
        };
    let idempotency_key = match idempotency_key(request, input.first(SUBMISSION_ID_FIELD)) {
        Ok(key) => key,
        Err(error) => return fail(Problem::validation(vec![error]), &form.title),
    };
    let command = SubmitCommand {
        form,
        input,
        client: client::client_info(request),
        idempotency_key,
    };

    match submit_form(&app.store, &app.config, &app.catalogue, command).await {
        Ok(outcome) => accepted(
            json_client,
            form.thank_you_url.as_str(),
            form.id.as_str(),
            outcome,
        ),
        Err(SubmitError::Invalid(errors)) => fail(Problem::validation(errors), &form.title),
        Err(SubmitError::RateLimited { retry_after }) => fail(
            Problem::new(429, "rate_limited", "Too many submissions")
                .with_detail("Please wait a little and try again.")
                .with_retry_after(retry_after.as_secs()),
            &form.title,
        ),
        Err(SubmitError::Store(err)) => {
            tracing::error!(error = %error_chain(&err), form = form.id.as_str(), "storing the submission failed");
            let problem = match err {
                StoreError::Unavailable(_) => Problem::unavailable(2),
                StoreError::Unexpected(_) => Problem::internal(),
            };
            fail(problem, &form.title)
        }
    }
}

fn accepted(
    json_client: bool,
    thank_you_url: &str,
    form: &str,
    outcome: SubmitOutcome,
) -> Response<Body> {
    let (receipt, replayed) = match outcome {
        SubmitOutcome::Stored(receipt) | SubmitOutcome::Discarded(receipt) => (receipt, false),
        SubmitOutcome::Replayed(receipt) => (receipt, true),
    };
    let Receipt {
        submission_id,
        profile_id,
    } = receipt;
    let mut response = if json_client {
        respond::json(
            201,
            &serde_json::json!({
                "form": form,
                "submission_id": submission_id,
                "profile_id": profile_id,
                "thank_you_url": thank_you_url,
            }),
        )
    } else {
        respond::see_other(thank_you_url)
    };
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", "true".parse().expect("static"));
    }
    response
}

fn idempotency_key(
    request: &Request,
    field: Option<&str>,
) -> Result<Option<IdempotencyKey>, FieldError> {
    if let Some(header) = request.headers().get("idempotency-key") {
        let text = header.to_str().unwrap_or("\u{0}");
        return IdempotencyKey::parse("Idempotency-Key", text).map(Some);
    }
    field
        .map(|raw| IdempotencyKey::parse(SUBMISSION_ID_FIELD, raw))
        .transpose()
}

fn body_problem(err: &BodyError) -> Problem {
    let (status, code) = match err {
        BodyError::TooLarge { .. } => (413, "body_too_large"),
        BodyError::UnsupportedMediaType(_) => (415, "unsupported_media_type"),
        BodyError::InvalidUtf8 => (400, "invalid_utf8"),
        BodyError::InvalidBase64 => (400, "invalid_base64"),
        BodyError::MalformedJson(_) | BodyError::JsonNotAnObject => (400, "malformed_json"),
        BodyError::MalformedMultipart(_) => (400, "malformed_multipart"),
        BodyError::Empty => (400, "empty_body"),
    };
    Problem::new(status, code, "The request body could not be read").with_detail(err.to_string())
}

/// Where "go back" leads on an HTML error page: the page the form was on, if it is one of ours.
fn back_link(app: &App, request: &Request) -> Option<String> {
    let referer = request.headers().get("referer")?.to_str().ok()?;
    let origin = steward_core::config::Origin::parse(referer).ok()?;
    (app.config.is_allowed_origin(origin.as_str()) || origin.as_str() == app.config.site_url)
        .then(|| referer.to_owned())
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
