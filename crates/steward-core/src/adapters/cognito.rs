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
use tokio::sync::RwLock;

use crate::domain::staff::{
    Group, SignInError, SignInStep, StaffDirectory, StaffMember, StaffSignIn, StaffTokens, TokenError,
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

/// Checks the staff pool's id tokens. The pool's keys are fetched when a token is first checked,
/// and again (at most once a minute) when a token names a key not among them: Cognito rotates
/// its keys by publishing the new one first.
pub struct CognitoTokens {
    issuer: String,
    client_id: String,
    jwks_url: String,
    keys: RwLock<Option<(JwkSet, std::time::Instant)>>,
    http: HttpClient<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl std::fmt::Debug for CognitoTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoTokens").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// A claim Cognito writes as a JSON boolean or as the string `"true"`.
fn is_true(value: &serde_json::Value) -> bool {
    value.as_bool().unwrap_or(false) || value.as_str() == Some("true")
}

#[derive(serde::Deserialize)]
struct IdClaims {
    sub: String,
    #[serde(default, rename = "cognito:username")]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: serde_json::Value,
    token_use: String,
    exp: i64,
    #[serde(default, rename = "cognito:groups")]
    groups: Vec<String>,
}

/// How often the keys may be fetched again for a token naming an unknown key.
const KEYS_REFETCH: std::time::Duration = std::time::Duration::from_secs(60);

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
        Self { issuer, client_id: client_id.to_owned(), jwks_url, keys: RwLock::new(None), http }
    }

    async fn fetch(&self) -> Result<JwkSet, TokenError> {
        let unavailable = |reason: String| TokenError::Unavailable(format!("the pool's keys: {reason}"));
        let request = lambda_http::http::Request::get(self.jwks_url.as_str())
            .body(Empty::new())
            .map_err(|e| unavailable(e.to_string()))?;
        let response = tokio::time::timeout(std::time::Duration::from_secs(5), self.http.request(request))
            .await
            .map_err(|_| unavailable("no answer in time".into()))?
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("status {}", response.status())));
        }
        let body = response.into_body().collect().await.map_err(|e| unavailable(e.to_string()))?.to_bytes();
        serde_json::from_slice(&body).map_err(|e| unavailable(e.to_string()))
    }

    /// The pool's key `kid`, fetching the keys when none are held, or when it is not among them
    /// and they were fetched over a minute ago.
    async fn key(&self, kid: &str) -> Result<Option<jsonwebtoken::jwk::Jwk>, TokenError> {
        if let Some((keys, fetched)) = self.keys.read().await.as_ref() {
            if let Some(jwk) = keys.find(kid) {
                return Ok(Some(jwk.clone()));
            }
            if fetched.elapsed() < KEYS_REFETCH {
                return Ok(None);
            }
        }
        let keys = self.fetch().await?;
        let found = keys.find(kid).cloned();
        *self.keys.write().await = Some((keys, std::time::Instant::now()));
        Ok(found)
    }
}

impl StaffTokens for CognitoTokens {
    async fn staff_member(&self, token: &str) -> Result<StaffMember, TokenError> {
        let refuse = |reason: &str| TokenError::Refused(reason.to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|_| refuse("not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(refuse("not signed with RS256"));
        }
        let kid = header.kid.ok_or_else(|| refuse("no key id"))?;
        let jwk = self.key(&kid).await?.ok_or_else(|| refuse("signed by a key the pool does not publish"))?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| refuse("the pool's key does not read"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
            .map_err(|e| TokenError::Refused(format!("{:?}", e.kind())))?
            .claims;
        if claims.token_use != "id" {
            return Err(refuse("not an id token"));
        }
        // The address names them in the audit log: only one Cognito verified, which staff cannot
        // change themselves (the console's client may not write it).
        let email = claims
            .email
            .filter(|_| is_true(&claims.email_verified))
            .ok_or_else(|| refuse("no verified address"))?;
        let groups: BTreeSet<Group> = claims.groups.iter().filter_map(|g| Group::parse(g)).collect();
        Ok(StaffMember {
            email: email.to_lowercase(),
            username: claims.username.unwrap_or_else(|| claims.sub.clone()),
            subject: claims.sub,
            groups,
            expires_at: claims.exp,
        })
    }
}

/// The staff pool's directory, asked at each request (`AdminGetUser`, `AdminListGroupsForUser`).
#[derive(Debug, Clone)]
pub struct CognitoDirectory {
    client: Client,
    pool_id: String,
}

impl CognitoDirectory {
    pub fn new(client: Client, pool_id: impl Into<String>) -> Self {
        Self { client, pool_id: pool_id.into() }
    }
}

impl StaffDirectory for CognitoDirectory {
    async fn current_groups(&self, username: &str) -> Result<Option<BTreeSet<Group>>, TokenError> {
        let user = self.client.admin_get_user().user_pool_id(&self.pool_id).username(username).send();
        let groups =
            self.client.admin_list_groups_for_user().user_pool_id(&self.pool_id).username(username).send();
        let (user, groups) = tokio::join!(user, groups);
        let unavailable = |code: Option<&str>| {
            TokenError::Unavailable(format!("the staff directory: {}", code.unwrap_or("no answer")))
        };
        let user = match user {
            Ok(user) => user,
            Err(err) if err.code() == Some("UserNotFoundException") => return Ok(None),
            Err(err) => return Err(unavailable(err.code())),
        };
        if !user.enabled() {
            return Ok(None);
        }
        let groups = match groups {
            Ok(groups) => groups,
            Err(err) if err.code() == Some("UserNotFoundException") => return Ok(None),
            Err(err) => return Err(unavailable(err.code())),
        };
        Ok(Some(groups.groups().iter().filter_map(|g| g.group_name()).filter_map(Group::parse).collect()))
    }
}
