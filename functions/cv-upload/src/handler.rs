//! `POST /careers/cv-upload` (and its preflight): check the applicant's grant and the declared
//! file, answer with a presigned POST that allows exactly that upload. `POST
//! /careers/cv-upload/status`: what became of one upload (checking, accepted, or rejected and
//! why), for the page that waits for it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use lambda_http::{Body, Request, Response};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::s3::post::{S3PostSigner, SigningCredentials};
use steward_core::config::{ConfigError, Env, Origin};
use steward_core::domain::careers::{
    authorize_upload, upload_verdict, CvBucket, UploadError, UploadRequest, VerdictError,
};
use steward_core::domain::fields::FieldError;
use steward_core::domain::forms::validation::FormInput;
use steward_core::domain::ports::Clock;
use steward_core::http::body::decode_form;
use steward_core::http::problem::Problem;
use steward_core::http::{cors, respond};
use steward_core::lambda::{body_bytes, body_was_invalid_base64};
use steward_core::t;
use steward_core::time::Timestamp;
use steward_core::token::{KeyFamily, TokenKeys};

pub struct App {
    pub allowed_origins: Vec<Origin>,
    pub token_keys: TokenKeys,
    pub bucket: CvBucket,
    /// Counts each grant's uploads (`careers::UPLOADS_PER_GRANT`) and reads their verdicts.
    pub store: DynamoStore,
    pub credentials: SharedCredentialsProvider,
    pub max_body_bytes: usize,
    /// The function's one clock (`main.rs` gives it).
    pub clock: Arc<dyn Clock>,
}

impl App {
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        region: String,
        credentials: SharedCredentialsProvider,
        store: DynamoStore,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            allowed_origins: env.origins("ALLOWED_ORIGINS")?,
            token_keys: env.token_keys(&[KeyFamily::CvUpload])?,
            bucket: cv_bucket(env, region)?,
            store,
            credentials,
            clock,
            max_body_bytes: env.number("MAX_BODY_BYTES", 16 * 1024)? as usize,
        })
    }
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    let status = request.uri().path().ends_with("/status");
    Ok(cors::json_endpoint(&app.allowed_origins, &request, "POST, OPTIONS", || async {
        if status {
            verdict(app, &request).await
        } else {
            authorize(app, &request).await
        }
    })
    .await)
}

/// The verdict on one upload of the grant's application.
async fn verdict(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let input = read_fields(app, request, &["token", "key"]).await?;
    let (token, key) = (input.first("token").unwrap_or_default(), input.first("key").unwrap_or_default());
    match upload_verdict(&app.token_keys, &app.store, token, key, app.clock.system_time()).await {
        Ok(verdict) => {
            let mut response = respond::json(200, &verdict);
            response
                .headers_mut()
                .insert("cache-control", lambda_http::http::HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(VerdictError::Forbidden(_)) => {
            Err(Problem::new(403, "invalid_token", t!("problem-invalid-upload-link"))
                .with_detail(t!("problem-invalid-upload-link-detail")))
        }
        Err(VerdictError::NotThisApplication) => Err(Problem::validation(vec![FieldError::new(
            "key",
            "not_this_application",
            t!("error-not-this-application"),
        )])),
        Err(VerdictError::Store(err)) => {
            tracing::error!(error = %steward_core::telemetry::error_chain(&err), "reading a CV verdict failed");
            Err(Problem::from_store(&err))
        }
    }
}

async fn authorize(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let input = read_fields(app, request, &["token", "content_type"]).await?;
    let field = |name: &str| input.first(name).map(str::to_owned);
    let upload = UploadRequest {
        token: field("token").unwrap_or_default(),
        content_type: field("content_type").unwrap_or_default(),
        file_name: field("file_name"),
    };
    let credentials = app.credentials.provide_credentials().await.map_err(|err| {
        tracing::error!(error = %err, "no credentials to sign the upload with");
        Problem::unavailable(2)
    })?;
    let signer = S3PostSigner {
        credentials: SigningCredentials {
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: credentials.secret_access_key().to_owned(),
            session_token: credentials.session_token().map(str::to_owned),
        },
        region: app.bucket.region.clone(),
        bucket_url: app.bucket.url.clone(),
    };
    let now = app.clock.system_time();
    match authorize_upload(&app.token_keys, &app.bucket, &signer, &app.store, &upload, now).await {
        Ok((claims, key, post)) => {
            tracing::info!(
                application_id = claims.subject.as_str(),
                key = key.as_str(),
                "CV upload authorised"
            );
            let fields: serde_json::Map<String, serde_json::Value> =
                post.fields.into_iter().map(|(name, value)| (name, value.into())).collect();
            Ok(respond::json(
                200,
                &serde_json::json!({
                    "url": post.url,
                    "fields": fields,
                    "key": key,
                    "expires_at": Timestamp::from(post.expires_at).rfc3339(),
                    "max_bytes": app.bucket.max_bytes,
                }),
            ))
        }
        Err(UploadError::Forbidden(reason)) => {
            tracing::info!(%reason, "CV upload refused");
            Err(Problem::new(403, "invalid_token", t!("problem-invalid-upload-link"))
                .with_detail(t!("problem-invalid-upload-link-apply-again")))
        }
        Err(UploadError::Invalid(errors)) => Err(Problem::validation(errors)),
        Err(UploadError::TooMany) => {
            tracing::info!("CV upload refused: the grant has had its uploads");
            Err(Problem::new(429, "too_many_uploads", t!("problem-too-many-uploads"))
                .with_detail(t!("problem-too-many-uploads-detail")))
        }
        Err(UploadError::Store(err)) => {
            tracing::error!(error = %steward_core::telemetry::error_chain(&err), "upload counter failed");
            Err(Problem::from_store(&err))
        }
    }
}

/// The request's fields, decoded as a form or JSON, with each of `required` present (422 naming
/// those missing).
async fn read_fields(app: &App, request: &Request, required: &[&str]) -> Result<FormInput, Problem> {
    if body_was_invalid_base64(request) {
        return Err(Problem::new(400, "invalid_base64", t!("problem-unreadable-body")));
    }
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok());
    let input = decode_form(content_type, body_bytes(request), app.max_body_bytes)
        .await
        .map_err(|e| steward_core::http::problem::body_problem(&e))?;
    let missing: Vec<FieldError> = required
        .iter()
        .filter(|name| input.first(name).is_none())
        .map(|name| FieldError::new(name, "required", t!("error-required")))
        .collect();
    if !missing.is_empty() {
        return Err(Problem::validation(missing));
    }
    Ok(input)
}

/// Where CVs go, from the function's environment.
pub fn cv_bucket<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    region: String,
) -> Result<CvBucket, ConfigError> {
    let name = env.required("CV_BUCKET")?;
    let endpoint = env.optional("AWS_ENDPOINT_URL_S3").or_else(|| env.optional("AWS_ENDPOINT_URL"));
    Ok(CvBucket {
        url: steward_core::adapters::s3::post::bucket_url(&name, &region, endpoint.as_deref()),
        name,
        region,
        max_bytes: env.number("CV_MAX_BYTES", 10 * 1024 * 1024)?,
        url_valid_for: Duration::from_secs(env.number("CV_UPLOAD_URL_TTL_SECONDS", 300)?),
    })
}
