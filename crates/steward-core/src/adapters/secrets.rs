//! Where keys and secrets come from. In AWS they live in Secrets Manager, never in the template or
//! the functions' environment: each function's `SECRET_IDS` names the secrets it may read (its IAM
//! policy allows those and no others), each a JSON object of `NAME: value`. They are read once per
//! cold start, so a rotated value reaches each function at its next cold start. Locally the stack
//! creates the same secrets in moto from `infra/local.env`, so the same code path runs in tests.
//!
//! A name found in a secret is read from there; any other from the environment. Without
//! `SECRET_IDS` (unit tests, the operator command given its keys), the environment alone is used.

use std::collections::HashMap;

use aws_config::SdkConfig;

use crate::config::{ConfigError, Env};

pub const SECRET_IDS: &str = "SECRET_IDS";

/// The process environment, overlaid with the values of the secrets named in `SECRET_IDS`.
pub async fn load_env(aws: &SdkConfig) -> Result<Env<impl Fn(&str) -> Option<String>>, ConfigError> {
    let secrets = match Env::process().optional(SECRET_IDS) {
        Some(ids) => read_secrets(aws, &ids).await?,
        None => HashMap::new(),
    };
    Ok(Env(move |name: &str| secrets.get(name).cloned().or_else(|| std::env::var(name).ok())))
}

/// The names and values of the secrets `ids` (comma-separated ARNs or names), later ones winning.
/// Several are read in one `BatchGetSecretValue` call: a cold start waits for one round trip on one
/// connection (on Lambda each new connection is a TLS handshake on a fraction of a vCPU), not one
/// per secret.
pub async fn read_secrets(aws: &SdkConfig, ids: &str) -> Result<HashMap<String, String>, ConfigError> {
    // A cold start reads its secrets before any request is answered: the read may take longer
    // than a request's own calls (Lambda's init phase has 10 s), so that a busy moment does not
    // fail the start.
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .operation_attempt_timeout(std::time::Duration::from_secs(4))
        .operation_timeout(std::time::Duration::from_secs(8))
        .build();
    let client = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(aws).timeout_config(timeouts).build(),
    );
    let ids: Vec<&str> = ids.split(',').map(str::trim).filter(|id| !id.is_empty()).collect();
    // The error's code is all an operator needs (AccessDenied, ResourceNotFound, a timeout).
    let refused = |id: &str, code: Option<&str>| ConfigError::Secret {
        id: id.to_owned(),
        reason: code.unwrap_or("unreachable").to_owned(),
    };
    let texts: Vec<(&str, String)> = match ids.as_slice() {
        [] => Vec::new(),
        [id] => {
            let answer =
                client.get_secret_value().secret_id(*id).send().await.map_err(|e| {
                    refused(id, aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(&e))
                })?;
            vec![(*id, answer.secret_string().unwrap_or_default().to_owned())]
        }
        several => {
            let answer = client
                .batch_get_secret_value()
                .set_secret_id_list(Some(several.iter().map(|id| (*id).to_owned()).collect()))
                .send()
                .await
                .map_err(|e| {
                    refused(&several.join(","), aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(&e))
                })?;
            // One secret refused (its policy, or gone) is an error of its own in the answer.
            if let Some(error) = answer.errors().first() {
                return Err(refused(error.secret_id().unwrap_or(several[0]), error.error_code()));
            }
            // The answer names each secret by its ARN and name; the order is the ids' own, so that
            // later ones win as they always have.
            let values = answer.secret_values();
            several
                .iter()
                .map(|id| {
                    let found =
                        values.iter().find(|value| value.arn() == Some(*id) || value.name() == Some(*id));
                    match found {
                        Some(value) => Ok((*id, value.secret_string().unwrap_or_default().to_owned())),
                        None => Err(refused(id, Some("NotReturned"))),
                    }
                })
                .collect::<Result<_, _>>()?
        }
    };
    let mut values = HashMap::new();
    for (id, text) in texts {
        values
            .extend(parse_secret(&text).map_err(|reason| ConfigError::Secret { id: id.to_owned(), reason })?);
    }
    Ok(values)
}

/// A secret's value: a JSON object whose values are strings. Errors never quote the text.
pub fn parse_secret(text: &str) -> Result<HashMap<String, String>, String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON (line {}, column {})", e.line(), e.column()))?;
    let object = value.as_object().ok_or("not a JSON object of names and values")?;
    object
        .iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(text) => Ok((name.clone(), text.clone())),
            _ => Err(format!("{name} is not a string")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_an_object_of_strings_and_errors_never_quote_it() {
        let values = parse_secret(r#"{"HASH_KEY":"s3cr3t-value","TOKEN_KEYS":"k1:abc"}"#).unwrap();
        assert_eq!(values["HASH_KEY"], "s3cr3t-value");
        let error = parse_secret(r#"{"HASH_KEY": 12345678}"#).unwrap_err();
        assert!(error.contains("HASH_KEY") && !error.contains("12345678"), "{error}");
        let error = parse_secret("s3cr3t-value").unwrap_err();
        assert!(!error.contains("s3cr3t"), "{error}");
        assert!(parse_secret("[]").is_err());
    }
}
