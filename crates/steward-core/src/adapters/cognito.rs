//! Cognito user pools, for the staff console (feature `staff`): signing in (a password, then an
//! authenticator app's code; on a first sign-in a new password and the app's set-up), and
//! checking the tokens it issues (RS256 by the pool's published keys, its issuer, the console's
//! client as audience, an id token, not expired).

use std::collections::BTreeSet;

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_cognitoidentityprovider::Client;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tokio::sync::OnceCell;

use crate::domain::staff::{
    Group, SignInError, SignInStep, StaffMember, StaffSignIn, StaffTokens, TokenRefused,
};

/// The console's app client of the staff pool.
#[derive(Debug, Clone)]
pub struct CognitoSignIn {
    client: Client,
    client_id: String,
}

impl CognitoSignIn {
    pub fn new(client: Client, client_id: impl Into<String>) -> Self {
        Self { client, client_id: client_id.into() }
    }
}

fn refused<E: ProvideErrorMetadata + std::fmt::Debug, R>(
    err: aws_sdk_cognitoidentityprovider::error::SdkError<E, R>,
) -> SignInError {
    match err.code() {
        Some(
            "NotAuthorizedException"
            | "UserNotFoundException"
            | "CodeMismatchException"
            | "ExpiredCodeException"
            | "EnableSoftwareTokenMFAException"
            | "PasswordResetRequiredException"
            | "UserNotConfirmedException",
        ) => SignInError::Refused,
        Some("InvalidPasswordException") => {
            SignInError::WeakPassword(err.message().unwrap_or("the password is too weak").to_owned())
        }
        Some("TooManyRequestsException" | "LimitExceededException" | "TooManyFailedAttemptsException") => {
            SignInError::Throttled
        }
        Some("InvalidParameterException") => SignInError::Refused,
        code => SignInError::Unavailable(code.unwrap_or("no answer").to_owned()),
    }
}

impl CognitoSignIn {
    /// What Cognito asks next, or the session.
    async fn step(
        &self,
        challenge: Option<&ChallengeNameType>,
        session: Option<&str>,
        tokens: Option<&aws_sdk_cognitoidentityprovider::types::AuthenticationResultType>,
    ) -> Result<SignInStep, SignInError> {
        if let Some(tokens) = tokens {
            let token = tokens.id_token().ok_or_else(|| SignInError::Unavailable("no id token".into()))?;
            return Ok(SignInStep::SignedIn {
                token: token.to_owned(),
                expires_in: i64::from(tokens.expires_in()),
            });
        }
        let session = session.unwrap_or_default().to_owned();
        match challenge {
            Some(ChallengeNameType::SoftwareTokenMfa) => Ok(SignInStep::Code { session }),
            Some(ChallengeNameType::NewPasswordRequired) => Ok(SignInStep::NewPassword { session }),
            Some(ChallengeNameType::MfaSetup) => {
                let associated =
                    self.client.associate_software_token().session(&session).send().await.map_err(refused)?;
                Ok(SignInStep::SetUpApp {
                    session: associated.session().map(str::to_owned).unwrap_or(session),
                    secret: associated.secret_code().unwrap_or_default().to_owned(),
                })
            }
            other => Err(SignInError::Unavailable(format!("an unexpected challenge: {other:?}"))),
        }
    }
}

impl StaffSignIn for CognitoSignIn {
    async fn password(&self, email: &str, password: &str) -> Result<SignInStep, SignInError> {
        let answer = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", email)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(refused)?;
        self.step(answer.challenge_name(), answer.session(), answer.authentication_result()).await
    }

    async fn code(&self, email: &str, session: &str, code: &str) -> Result<SignInStep, SignInError> {
        let answer = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::SoftwareTokenMfa)
            .session(session)
            .challenge_responses("USERNAME", email)
            .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", code)
            .send()
            .await
            .map_err(refused)?;
        self.step(answer.challenge_name(), answer.session(), answer.authentication_result()).await
    }

    async fn new_password(
        &self,
        email: &str,
        session: &str,
        password: &str,
    ) -> Result<SignInStep, SignInError> {
        let answer = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(session)
            .challenge_responses("USERNAME", email)
            .challenge_responses("NEW_PASSWORD", password)
            .send()
            .await
            .map_err(refused)?;
        self.step(answer.challenge_name(), answer.session(), answer.authentication_result()).await
    }

    async fn app_code(&self, email: &str, session: &str, code: &str) -> Result<SignInStep, SignInError> {
        let verified = self
            .client
            .verify_software_token()
            .session(session)
            .user_code(code)
            .friendly_device_name("authenticator app")
            .send()
            .await
            .map_err(refused)?;
        let session = verified.session().unwrap_or(session);
        let answer = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::MfaSetup)
            .session(session)
            .challenge_responses("USERNAME", email)
            .send()
            .await
            .map_err(refused)?;
        self.step(answer.challenge_name(), answer.session(), answer.authentication_result()).await
    }
}

/// Checks the staff pool's id tokens. The pool's keys are fetched once per cold start, when a
/// token is first checked.
pub struct CognitoTokens {
    issuer: String,
    client_id: String,
    jwks_url: String,
    keys: OnceCell<JwkSet>,
    http: HttpClient<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl std::fmt::Debug for CognitoTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoTokens").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct IdClaims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    token_use: String,
    exp: i64,
    #[serde(default, rename = "cognito:groups")]
    groups: Vec<String>,
}

impl CognitoTokens {
    /// For the pool `pool_id` in `region`; `endpoint` is the AWS endpoint override of a local
    /// stack (its Cognito publishes the keys under its own address), `None` in AWS.
    pub fn new(region: &str, pool_id: &str, client_id: &str, endpoint: Option<&str>) -> Self {
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}");
        let jwks_url = match endpoint {
            Some(endpoint) => format!("{}/{pool_id}/.well-known/jwks.json", endpoint.trim_end_matches('/')),
            None => format!("{issuer}/.well-known/jwks.json"),
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .expect("ring provides the TLS versions")
            .https_or_http()
            .enable_http1()
            .build();
        let http = HttpClient::builder(TokioExecutor::new()).build(connector);
        Self { issuer, client_id: client_id.to_owned(), jwks_url, keys: OnceCell::new(), http }
    }

    async fn keys(&self) -> Result<&JwkSet, TokenRefused> {
        self.keys
            .get_or_try_init(|| async {
                let unavailable = |reason: String| TokenRefused(format!("the pool's keys: {reason}"));
                let request = lambda_http::http::Request::get(self.jwks_url.as_str())
                    .body(Empty::new())
                    .map_err(|e| unavailable(e.to_string()))?;
                let response =
                    tokio::time::timeout(std::time::Duration::from_secs(5), self.http.request(request))
                        .await
                        .map_err(|_| unavailable("no answer in time".into()))?
                        .map_err(|e| unavailable(e.to_string()))?;
                if !response.status().is_success() {
                    return Err(unavailable(format!("status {}", response.status())));
                }
                let body =
                    response.into_body().collect().await.map_err(|e| unavailable(e.to_string()))?.to_bytes();
                serde_json::from_slice(&body).map_err(|e| unavailable(e.to_string()))
            })
            .await
    }
}

impl StaffTokens for CognitoTokens {
    async fn staff_member(&self, token: &str) -> Result<StaffMember, TokenRefused> {
        let refuse = |reason: &str| TokenRefused(reason.to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|_| refuse("not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(refuse("not signed with RS256"));
        }
        let kid = header.kid.ok_or_else(|| refuse("no key id"))?;
        let keys = self.keys().await?;
        let jwk = keys.find(&kid).ok_or_else(|| refuse("signed by a key the pool does not publish"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| refuse("the pool's key does not read"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
            .map_err(|e| TokenRefused(format!("{:?}", e.kind())))?
            .claims;
        if claims.token_use != "id" {
            return Err(refuse("not an id token"));
        }
        let groups: BTreeSet<Group> = claims.groups.iter().filter_map(|g| Group::parse(g)).collect();
        Ok(StaffMember {
            email: claims.email.unwrap_or_else(|| claims.sub.clone()).to_lowercase(),
            subject: claims.sub,
            groups,
            expires_at: claims.exp,
        })
    }
}
