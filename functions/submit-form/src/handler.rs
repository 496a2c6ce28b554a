//! `POST /forms/{form}` (and its CORS preflight): parse, call the domain, map the outcome.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Body, Request, RequestExt, Response};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::turnstile::Turnstile;
use steward_core::config::Config;
use steward_core::domain::careers;
use steward_core::domain::fields::FieldError;
use steward_core::domain::forms::catalogue::{Catalogue, FormDefinition};
use steward_core::domain::forms::proof;
use steward_core::domain::forms::submit::{submit_form, Receipt, SubmitCommand, SubmitError, SubmitOutcome};
use steward_core::domain::ids::IdempotencyKey;
use steward_core::domain::payments::{PaymentCatalogue, Purchase};
use steward_core::domain::ports::Clock;
use steward_core::http::body::{decode_form, BodyError};
use steward_core::http::form_page::{correction_page, Choices};
use steward_core::http::page::Back;
use steward_core::http::problem::{self, Problem};
use steward_core::http::{client, cors, respond};
use steward_core::lambda::{body_bytes, body_was_invalid_base64};
use steward_core::t;
use steward_core::telemetry::error_chain;
use steward_core::time::Timestamp;
use steward_core::token::Purpose;

pub struct App {
    pub config: Config,
    pub catalogue: Catalogue,
    pub payments: PaymentCatalogue,
    pub store: DynamoStore,
    /// Cloudflare Turnstile, where the deployment turns it on.
    pub turnstile: Turnstile,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

/// The hidden field that plain HTML forms use for an idempotency key.
const SUBMISSION_ID_FIELD: &str = "_submission_id";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    let origin = cors::check_origin(&app.config.allowed_origins, request.headers());
    if request.method() == "OPTIONS" {
        return Ok(cors::preflight(origin, "POST, OPTIONS"));
    }
    if origin == cors::OriginCheck::Forbidden {
        return Ok(respond::problem(&cors::forbidden_origin()));
    }
    let mut response = if request.raw_http_path() == "/challenge" {
        if request.method() == "GET" {
            challenge(app, &request).await
        } else {
            respond::problem(&Problem::new(405, "method_not_allowed", t!("problem-challenge-get-only")))
        }
    } else {
        submit(app, &request).await
    };
    cors::decorate(&mut response, origin.allowed());
    Ok(response)
}

async fn submit(app: &App, request: &Request) -> Response<Body> {
    let json_client = respond::wants_json(request.headers());
    let request_id = client::request_id(request);
    let back = back_link(app, request);
    let go_back = t!("go-back-to-form");
    let fail = |problem: Problem, title: &str| {
        respond::problem_for(
            json_client,
            &problem.with_request_id(request_id.clone()),
            title,
            back.as_deref().map(|href| Back { href, words: &go_back }),
        )
    };

    let form_name = request.path_parameters_ref().and_then(|p| p.first("form")).unwrap_or_default();
    let Some(form) = app.catalogue.form(form_name) else {
        return fail(Problem::not_found("form"), &t!("problem-form-not-found"));
    };
    if request.method() != "POST" {
        return fail(
            Problem::new(405, "method_not_allowed", t!("problem-forms-post-only")),
            &form.title_words(),
        );
    }
    if body_was_invalid_base64(request) {
        return fail(problem::body_problem(&BodyError::InvalidBase64), &form.title_words());
    }
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
    let input = match decode_form(content_type, body_bytes(request), app.config.max_body_bytes).await {
        Ok(input) => input,
        Err(err) => return fail(problem::body_problem(&err), &form.title_words()),
    };
    // A browser without JavaScript gets a refused form back with what was typed kept in it.
    let typed = (!json_client).then(|| input.clone());
    let correct = |problem: Problem| match &typed {
        Some(typed) if problem.status == 422 => {
            let problem = problem.with_request_id(request_id.clone());
            // Sent again, it keeps the language it is in, whatever the browser's cookie says.
            let action = steward_core::i18n::form_action(&format!(
                "{}/forms/{}",
                app.config.links.public_api_url,
                form.id.as_str()
            ));
            let back = back.as_deref().map(|href| Back { href, words: &go_back });
            let choices = choices(app, form);
            let page = correction_page(&problem, form, &app.catalogue.topics, &choices, typed, &action, back);
            // Sent again and stored, it goes on to the site's thank-you page, on another origin.
            match steward_core::config::Origin::parse(&app.config.site_url) {
                Ok(site) => respond::html_sending_on_to(422, page, &site),
                Err(_) => respond::html(422, page),
            }
        }
        _ => fail(problem, &form.title_words()),
    };
    let idempotency_key = match idempotency_key(request, input.first(SUBMISSION_ID_FIELD)) {
        Ok(key) => key,
        Err(error) => return fail(Problem::validation(vec![error]), &form.title_words()),
    };
    // What a paid form's answer will offer to pay for: server-decided, from the payment catalogue,
    // and only what is on sale now (a past event is refused before anything is stored). A missing
    // value is the form's own validation's to name.
    let purchase = match form
        .payment
        .as_deref()
        .and_then(|field| Some((field, input.first(field).filter(|v| !v.trim().is_empty())?)))
    {
        Some((field, id)) => match app.payments.offer(field, id, app.clock.now()) {
            Ok(offer) => Some(offer.item),
            Err(error) => return correct(Problem::validation(vec![error])),
        },
        None => None,
    };
    let command = SubmitCommand {
        form,
        input,
        client: client::client_info(request, app.clock.as_ref()),
        idempotency_key,
    };

    match submit_form(&app.store, &app.turnstile, &app.config, &app.catalogue, command).await {
        Ok(outcome) => accepted(app, json_client, form, purchase.as_deref(), outcome),
        Err(SubmitError::Store(err)) => {
            tracing::error!(error = %error_chain(&err), form = form.id.as_str(), "storing the submission failed");
            fail(Problem::from_store(&err), &form.title_words())
        }
        Err(refused) => correct(refusal(refused)),
    }
}

/// What a refused form's page offers where the site shows a list: what is on sale now (events,
/// plans) and what the form delivers (products), each in the words the site uses.
fn choices(app: &App, form: &FormDefinition) -> Choices {
    let now = app.clock.now();
    let mut choices = Choices::new();
    if let Some(field) = form.payment.as_deref() {
        let on_sale: Vec<(String, String)> = match field {
            "event" => app
                .payments
                .events
                .iter()
                .filter(|(_, event)| event.on_sale(now))
                .map(|(id, event)| (id.clone(), Purchase::Event { id, event }.label()))
                .collect(),
            _ => app
                .payments
                .plans
                .iter()
                .map(|(id, plan)| (id.clone(), Purchase::Plan { id, plan }.label()))
                .collect(),
        };
        choices.insert(field.to_owned(), on_sale);
    }
    if let Some(delivery) = &form.delivers {
        let products = delivery.links.iter().map(|(id, link)| (id.clone(), link.label.clone())).collect();
        choices.insert(delivery.field.clone(), products);
    }
    choices
}

/// Why a submission was refused, as its answer says it (a store failure is logged first).
fn refusal(err: SubmitError) -> Problem {
    match err {
        SubmitError::Invalid(errors) => Problem::validation(errors),
        SubmitError::RateLimited { retry_after } => {
            Problem::new(429, "rate_limited", t!("problem-too-many-submissions"))
                .with_detail(t!("problem-too-many-submissions-detail"))
                .with_retry_after(retry_after.as_secs())
        }
        SubmitError::KeyReused => Problem::validation(vec![FieldError::new(
            "Idempotency-Key",
            "idempotency_key_reused",
            t!("error-idempotency-key-reused"),
        )]),
        SubmitError::AddressFull => Problem::new(429, "address_full", t!("problem-address-full"))
            .with_detail(t!("problem-address-full-detail"))
            .with_errors(vec![FieldError::new("email", "address_full", t!("error-address-full"))]),
        SubmitError::Proof(refused) => Problem::proof_refused(refused),
        SubmitError::Store(err) => Problem::from_store(&err),
    }
}

/// `GET /challenge`: a proof-of-work challenge for the next form (`forms::proof`), harder for an
/// address that keeps asking. Never cached: each is used once.
async fn challenge(app: &App, request: &Request) -> Response<Body> {
    let client = client::client_info(request, app.clock.as_ref());
    match proof::next_challenge(&app.store, &app.config, &client.source_ip, client.received_at).await {
        Ok(challenge) => {
            let mut response = respond::json(200, &challenge);
            response
                .headers_mut()
                .insert("cache-control", lambda_http::http::HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => {
            tracing::error!(error = %error_chain(&err), "challenge counter failed");
            respond::problem(&Problem::from_store(&err))
        }
    }
}

fn accepted(
    app: &App,
    json_client: bool,
    form: &FormDefinition,
    purchase: Option<&str>,
    outcome: SubmitOutcome,
) -> Response<Body> {
    let (receipt, replayed, discarded) = match outcome {
        SubmitOutcome::Stored(receipt) => (receipt, false, false),
        SubmitOutcome::Replayed(receipt) => (receipt, true, false),
        SubmitOutcome::Discarded(receipt) => (receipt, false, true),
    };
    // A discarded (bot) submission looks accepted but earns no grant: no upload, no seat.
    let purchase = purchase.filter(|_| !discarded);
    let Receipt { submission_id, profile_id } = receipt;
    // Careers applicants get the grant to upload their CV for this application, and only this one.
    let cv_upload = (form.cv_upload && !discarded).then(|| {
        let now = app.clock.system_time();
        let ttl = app.config.cv_upload_token_ttl;
        let token = careers::upload_token(&app.config.token_keys, &submission_id, &profile_id, now, ttl);
        (token, Timestamp::from(now + ttl))
    });
    let payment = purchase.map(|item| {
        let now = app.clock.system_time();
        let expires_at = now + app.config.payment_token_ttl;
        let epoch = expires_at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let token = app.config.token_keys.sign_for_item(
            Purpose::Payment,
            submission_id.as_str(),
            &profile_id,
            Some(item),
            Some(epoch),
        );
        (token, Timestamp::from(expires_at))
    });
    let mut response = if json_client {
        let mut body = serde_json::json!({
            "form": form.id,
            "submission_id": submission_id,
            "thank_you_url": form.thank_you_url_here(),
        });
        if let Some((token, expires_at)) = &cv_upload {
            body["cv_upload"] = serde_json::json!({
                "url": "/careers/cv-upload",
                "token": token,
                "expires_at": expires_at.rfc3339(),
            });
        }
        if let Some((token, expires_at)) = &payment {
            body["payment"] = serde_json::json!({
                "url": "/payments",
                "token": token,
                "expires_at": expires_at.rfc3339(),
            });
        }
        respond::json(201, &body)
    } else {
        // The thank-you page of a plain careers or paid form offers the upload or the payment
        // with this grant; a fragment never reaches a server or a Referer header.
        match (&cv_upload, &payment) {
            (Some((token, _)), _) => {
                respond::see_other(&format!("{}#cv_upload_token={token}", form.thank_you_url_here()))
            }
            (None, Some((token, _))) => {
                respond::see_other(&format!("{}#payment_token={token}", form.thank_you_url_here()))
            }
            (None, None) => respond::see_other(&form.thank_you_url_here()),
        }
    };
    if replayed {
        response.headers_mut().insert("idempotent-replayed", "true".parse().expect("static"));
    }
    response
}

fn idempotency_key(request: &Request, field: Option<&str>) -> Result<Option<IdempotencyKey>, FieldError> {
    if let Some(header) = request.headers().get("idempotency-key") {
        let text = header.to_str().unwrap_or("\u{0}");
        return IdempotencyKey::parse("Idempotency-Key", text).map(Some);
    }
    field.map(|raw| IdempotencyKey::parse(SUBMISSION_ID_FIELD, raw)).transpose()
}

/// Where "go back" leads on an HTML error page: the page the form was on, if it is one of ours.
fn back_link(app: &App, request: &Request) -> Option<String> {
    let referer = request.headers().get("referer")?.to_str().ok()?;
    let origin = steward_core::config::Origin::parse(referer).ok()?;
    // Never Steward's own form address: a refusal sent again from Steward's page has it as its
    // referrer, and it takes POSTs only (the site and the API may share an origin).
    let path =
        referer.split_once("://").and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..])).unwrap_or("/");
    let own_page = path.starts_with("/forms/");
    ((app.config.is_allowed_origin(origin.as_str()) || origin.as_str() == app.config.site_url) && !own_page)
        .then(|| referer.to_owned())
}

#[cfg(test)]
mod tests {
    //! The handler driven with the API Gateway events in `events/submit-form/`, the same fixtures
    //! that `cargo lambda invoke --data-file` uses. The store here points at a closed port: these
    //! cases must answer without it, or answer 503 when they need it.

    use super::*;
    use aws_sdk_dynamodb::config::{Credentials, Region};
    use lambda_http::request::LambdaRequest;
    use lambda_http::{Context, LambdaEvent};
    use steward_core::domain::forms::catalogue::BUILT_IN;
    use steward_core::lambda::guard_body;

    fn app() -> App {
        let config = Config::from_lookup(|name| {
            Some(
                match name {
                    "TABLE_NAME" => "steward-test",
                    "ALLOWED_ORIGINS" => "https://www.example.com",
                    "SITE_URL" => "https://www.example.com",
                    "POLICY_VERSION" => "2018-03-23",
                    "HASH_KEY" => "0123456789abcdef0123456789abcdef",
                    "TOKEN_KEYS_PRIVACY_CENTER" => "t1:test-privacy-center-key-0123456789abcdef",
                    "TOKEN_KEYS_CV_UPLOAD" => "t1:test-cv-upload-key-0123456789abcdef",
                    "TOKEN_KEYS_PAYMENT" => "t1:test-payment-key-0123456789abcdef",
                    "TOKEN_KEYS_CONSENT" => "t1:test-consent-key-0123456789abcdef",
                    "TOKEN_KEYS_MAIL_LINKS" => "t1:test-mail-links-key-0123456789abcdef",
                    "PUBLIC_API_URL" => "https://api.example.com",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .unwrap();
        let sdk = aws_sdk_dynamodb::Config::builder()
            .behavior_version_latest()
            .http_client(steward_core::adapters::aws::http_client())
            .endpoint_url("http://127.0.0.1:1")
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        let catalogue = Catalogue::load(BUILT_IN, &config).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(steward_core::domain::ports::SystemClock);
        let store = DynamoStore::new(
            aws_sdk_dynamodb::Client::from_conf(sdk),
            "steward-test",
            config.hash_key.clone(),
            clock.clone(),
        );
        let payments = PaymentCatalogue::load(steward_core::domain::payments::BUILT_IN).unwrap();
        let turnstile = Turnstile::from_env(&steward_core::config::Env(|_| None)).unwrap();
        App { config, catalogue, payments, store, turnstile, clock }
    }

    fn fixture(name: &str) -> Request {
        let path = format!("{}/../../events/submit-form/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let event: LambdaRequest = serde_json::from_str(&text).expect("an API Gateway v2 event");
        guard_body(LambdaEvent::new(event, Context::default())).payload.into()
    }

    async fn call(name: &str) -> Response<Body> {
        handle(&app(), fixture(name)).await.unwrap()
    }

    fn json_body(response: &Response<Body>) -> serde_json::Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn an_address_at_its_bound_is_told_so_naming_the_field() {
        let problem = refusal(SubmitError::AddressFull);
        assert_eq!((problem.status, problem.code), (429, "address_full"));
        assert_eq!(problem.errors[0].field, "email", "the field a JSON client shows it at");
        let reused = refusal(SubmitError::KeyReused);
        assert_eq!((reused.status, reused.errors[0].field.as_str()), (422, "Idempotency-Key"));
    }

    #[tokio::test]
    async fn given_a_body_flagged_base64_that_is_not_then_400_and_no_panic() {
        let response = call("invalid-base64.json").await;
        assert_eq!(response.status(), 400);
        assert_eq!(json_body(&response)["code"], "invalid_base64");
    }

    #[tokio::test]
    async fn given_a_forged_body_error_header_then_it_is_ignored() {
        let path = format!("{}/../../events/submit-form/newsletter-json.json", env!("CARGO_MANIFEST_DIR"));
        let mut event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        event["headers"]["x-steward-body-error"] = "invalid-base64".into();
        let event: LambdaRequest = serde_json::from_value(event).unwrap();
        let request: Request = guard_body(LambdaEvent::new(event, Context::default())).payload.into();
        assert!(!body_was_invalid_base64(&request));
    }

    #[tokio::test]
    async fn given_a_preflight_from_an_allowed_origin_then_204_with_cors_headers() {
        let response = call("preflight.json").await;
        assert_eq!(response.status(), 204);
        assert_eq!(response.headers()["access-control-allow-origin"], "https://www.example.com");
    }

    #[tokio::test]
    async fn given_the_store_is_unreachable_then_503_with_retry_after_for_every_content_type() {
        for name in ["newsletter-json.json", "careers-multipart.json"] {
            let response = call(name).await;
            assert_eq!(response.status(), 503, "{name}");
            assert_eq!(response.headers()["retry-after"], "2");
            assert_eq!(json_body(&response)["code"], "temporarily_unavailable");
        }
        let html = call("contact-us-urlencoded.json").await;
        assert_eq!(html.status(), 503);
        assert!(html.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(html.headers().contains_key("retry-after"));
    }

    #[tokio::test]
    async fn given_the_sample_events_then_each_decodes_to_a_valid_submission() {
        let app = app();
        for (name, form) in [
            ("contact-us-urlencoded.json", "contact-us"),
            ("newsletter-json.json", "newsletter"),
            ("careers-multipart.json", "careers"),
        ] {
            let request = fixture(name);
            let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
            let input = decode_form(content_type, body_bytes(&request), 65536).await.unwrap();
            let form = app.catalogue.form(form).unwrap();
            let valid = steward_core::domain::forms::validation::validate(form, &input).unwrap();
            assert!(valid.email.as_str().ends_with("@example.com"), "{name}");
            assert_eq!(
                client::client_info(&request, &steward_core::domain::ports::SystemClock).source_ip,
                "198.51.100.7"
            );
        }
    }
}
