//! Where a command acts (the stack's table, bucket and secrets), who runs it, and its audit record.

use std::collections::BTreeMap;

use clap::Args;
use std::sync::Arc;

use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::config::MailLinks;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::domain::privacy::audit::{Actor, AuditEntry, AuditStore};
use steward_core::secret::SecretKey;
use steward_core::telemetry::error_chain;
use steward_core::time::Timestamp;
use steward_core::token::{KeyFamily, KeyRing, TokenKeys};

#[derive(Args, Debug)]
#[command(next_help_heading = "Where it acts")]
pub struct Settings {
    /// The deployed stack's name (what `sam deploy` was given): its table, bucket and secrets.
    #[arg(long, global = true, env = "STEWARD_STACK")]
    stack: Option<String>,
    /// The profile table, instead of `<stack>-profiles`.
    #[arg(long, global = true, env = "TABLE_NAME")]
    table: Option<String>,
    /// The CV bucket, instead of `<stack>-cvs-<account>`.
    #[arg(long, global = true, env = "CV_BUCKET")]
    bucket: Option<String>,
    /// The secret holding HASH_KEY, instead of `<stack>/hash-key`.
    #[arg(long, global = true, env = "HASH_KEY_SECRET_ID")]
    hash_key_secret: Option<String>,
    /// The secret holding TOKEN_KEYS_MAIL_LINKS (campaigns' unsubscribe and preference links, the
    /// only token keys an operator holds), instead of `<stack>/mail-link-keys`.
    #[arg(long, global = true, env = "KEYS_SECRET_ID")]
    keys_secret: Option<String>,
    /// The secret holding STRIPE_SECRET_KEY, instead of `<stack>/stripe-api`.
    #[arg(long, global = true, env = "STRIPE_SECRET_ID")]
    stripe_secret: Option<String>,
    /// The secret holding WEBHOOK_SIGNING_KEY, instead of `<stack>/webhook-keys`.
    #[arg(long, global = true, env = "WEBHOOK_KEYS_SECRET_ID")]
    webhook_secret: Option<String>,
    /// Another Stripe API endpoint (the local emulator).
    #[arg(long, global = true, env = "STRIPE_API_BASE")]
    stripe_api_base: Option<String>,
    /// The API's public base URL, for the links in mail (the stack's PublicApiUrl parameter).
    #[arg(long, global = true, env = "PUBLIC_API_URL")]
    public_api_url: Option<String>,
    #[arg(long, global = true, env = "ORGANISATION_NAME", default_value = "WSO2")]
    organisation: String,
    /// The staff console's Cognito user pool, instead of the one named `<stack>-staff`.
    #[arg(long, global = true, env = "STAFF_USER_POOL_ID")]
    user_pool_id: Option<String>,
}

pub struct Context {
    pub aws: aws_config::SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub table: String,
    /// The caller's AWS identity: every audit record names it.
    pub actor: Actor,
    account: String,
    settings: Settings,
}

impl Context {
    pub async fn connect(settings: Settings) -> Result<Self, String> {
        let aws = steward_core::adapters::aws::load(steward_core::adapters::aws::Caller::Background).await;
        let local = std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&aws).force_path_style(local).build(),
        );
        let identity = aws_sdk_sts::Client::new(&aws).get_caller_identity().send().await.map_err(|e| {
            format!("who is acting could not be told (sts:GetCallerIdentity): {}", error_chain(&e))
        })?;
        let (Some(arn), Some(account)) = (identity.arn(), identity.account()) else {
            return Err("sts:GetCallerIdentity named no identity".into());
        };
        let table = settings
            .table
            .clone()
            .or_else(|| settings.stack.as_ref().map(|stack| format!("{stack}-profiles")))
            .ok_or("give --stack, or --table (TABLE_NAME)")?;
        Ok(Self {
            aws,
            s3,
            table,
            actor: Actor::Operator(arn.to_owned()),
            account: account.to_owned(),
            settings,
        })
    }

    /// A secret's value: from the named secret, or the stack's, read with the operator's
    /// credentials (a secret wins over a value left in the shell from local work); otherwise from
    /// the environment variable of the same name.
    async fn secret(
        &self,
        name: &str,
        secret_id: Option<&String>,
        stack_suffix: &str,
    ) -> Result<String, String> {
        let secret_id = secret_id
            .cloned()
            .or_else(|| self.settings.stack.as_ref().map(|s| format!("{s}/{stack_suffix}")));
        match secret_id {
            Some(id) => {
                let mut values = steward_core::adapters::secrets::read_secrets(&self.aws, &id)
                    .await
                    .map_err(|e| error_chain(&e))?;
                values.remove(name).filter(|v| !v.is_empty()).ok_or(format!("the secret {id} has no {name}"))
            }
            None => std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or(format!("give --stack, or name the secret holding {name}, or set {name}")),
        }
    }

    /// The table's store. People are found by a keyed hash of their address, so commands that
    /// look people up (or erase them, with their rate counters) need HASH_KEY.
    pub async fn store(&self, with_hash_key: bool) -> Result<DynamoStore, String> {
        let hash_key = if with_hash_key {
            SecretKey::new(
                self.secret("HASH_KEY", self.settings.hash_key_secret.as_ref(), "hash-key")
                    .await?
                    .into_bytes(),
            )
        } else {
            SecretKey::new([])
        };
        Ok(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&self.aws),
            &self.table,
            hash_key,
            Arc::new(SystemClock),
        ))
    }

    /// The key each webhook destination's signing secret is derived from.
    pub async fn webhook_signing_key(&self) -> Result<String, String> {
        self.secret("WEBHOOK_SIGNING_KEY", self.settings.webhook_secret.as_ref(), "webhook-keys").await
    }

    /// The staff console's user pool: given, or found by its name, `<stack>-staff`.
    pub async fn staff_pool(
        &self,
        cognito: &aws_sdk_cognitoidentityprovider::Client,
    ) -> Result<String, String> {
        if let Some(id) = &self.settings.user_pool_id {
            return Ok(id.clone());
        }
        let stack =
            self.settings.stack.as_ref().ok_or("give --stack, or --user-pool-id (STAFF_USER_POOL_ID)")?;
        let name = format!("{stack}-staff");
        let mut pages = cognito.list_user_pools().max_results(60).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| format!("listing the user pools failed: {}", error_chain(&e)))?;
            if let Some(pool) = page.user_pools().iter().find(|p| p.name() == Some(name.as_str())) {
                return pool.id().map(str::to_owned).ok_or_else(|| format!("the pool {name} has no id"));
            }
        }
        Err(format!("no user pool is named {name}: give --user-pool-id"))
    }

    pub fn bucket(&self) -> Result<String, String> {
        self.settings
            .bucket
            .clone()
            .or_else(|| self.settings.stack.as_ref().map(|stack| format!("{stack}-cvs-{}", self.account)))
            .ok_or_else(|| "give --stack, or --bucket (CV_BUCKET)".to_owned())
    }

    /// The mail-link keys, and no other family: a campaign's links are all an operator signs.
    pub async fn mail_link_keys(&self) -> Result<TokenKeys, String> {
        let family = KeyFamily::MailLinks;
        let keys =
            self.secret(family.variable(), self.settings.keys_secret.as_ref(), "mail-link-keys").await?;
        let ring = KeyRing::parse(&keys).map_err(|e| format!("{}: {e}", family.variable()))?;
        Ok(TokenKeys::default().with(family, ring))
    }

    pub async fn stripe_client(&self) -> Result<stripe::Client, String> {
        let key =
            self.secret("STRIPE_SECRET_KEY", self.settings.stripe_secret.as_ref(), "stripe-api").await?;
        // As in the payments function: ring is rustls's provider, the one TLS stack we build.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = stripe::ClientBuilder::new(key).app_info(
            "steward-admin",
            Some(env!("CARGO_PKG_VERSION").to_owned()),
            None,
        );
        if let Some(base) = &self.settings.stripe_api_base {
            builder = builder.url(base);
        }
        builder.build().map_err(|e| format!("the Stripe client: {e}"))
    }

    pub fn mail_links(&self) -> Result<MailLinks, String> {
        Ok(MailLinks {
            public_api_url: self
                .settings
                .public_api_url
                .clone()
                .ok_or("give --public-api-url (PUBLIC_API_URL): mail carries links to it")?,
            organisation: self.settings.organisation.clone(),
        })
    }

    /// Records what was done. A command whose record cannot be written fails: nothing is done
    /// to people's data without a trace.
    pub async fn audit(&self, record: Record<'_>) -> Result<(), String> {
        let entry = AuditEntry {
            at: SystemClock.timestamp().rfc3339(),
            action: record.action.to_owned(),
            actor: self.actor.clone(),
            subject: record.subject.map(std::borrow::Cow::into_owned),
            reference: record.ticket.map(str::to_owned),
            outcome: record.outcome.to_owned(),
            counts: record.counts,
            schema_version: steward_core::adapters::dynamodb::SCHEMA_VERSION,
        };
        self.store(false)
            .await?
            .record(&entry)
            .await
            .map_err(|e| format!("the audit record could not be written: {}", error_chain(&e)))
    }
}

/// One audit record, as a command describes it.
pub struct Record<'a> {
    pub action: &'a str,
    pub subject: Option<std::borrow::Cow<'a, str>>,
    pub ticket: Option<&'a str>,
    pub outcome: &'a str,
    pub counts: BTreeMap<String, u64>,
}

impl<'a> Record<'a> {
    pub fn new(action: &'a str, outcome: &'a str) -> Self {
        Self { action, subject: None, ticket: None, outcome, counts: BTreeMap::new() }
    }

    pub fn subject(mut self, subject: Option<&'a str>) -> Self {
        self.subject = subject.map(std::borrow::Cow::Borrowed);
        self
    }

    pub fn subject_owned(mut self, subject: String) -> Self {
        self.subject = Some(std::borrow::Cow::Owned(subject));
        self
    }

    pub fn ticket(mut self, ticket: Option<&'a str>) -> Self {
        self.ticket = ticket;
        self
    }

    pub fn count(mut self, name: &str, value: u64) -> Self {
        self.counts.insert(name.to_owned(), value);
        self
    }
}

/// A ticket reference goes into the audit log for seven years: an id, never the person's address.
pub fn checked_ticket(ticket: &str) -> Result<&str, String> {
    let ticket = ticket.trim();
    if ticket.is_empty() || ticket.len() > 100 || ticket.contains('@') || ticket.chars().any(char::is_control)
    {
        return Err("--ticket must be a reference of at most 100 characters, such as a ticket id, and never an address".into());
    }
    Ok(ticket)
}

/// The operator tool's clock: the one place it reads the time.
pub fn now() -> i64 {
    SystemClock.now()
}

/// A point in time: RFC 3339, or a duration before `now` (`90m`, `36h`, `3d`).
pub fn parse_time(text: &str, now: i64) -> Result<i64, String> {
    let text = text.trim();
    let unit = |suffix: char, seconds: i64| -> Option<i64> {
        let count: i64 = text.strip_suffix(suffix)?.parse().ok()?;
        Some(now - count.checked_mul(seconds)?)
    };
    if let Some(at) = unit('m', 60).or_else(|| unit('h', 3600)).or_else(|| unit('d', 86_400)) {
        return Ok(at);
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            format!("{text:?} is neither a time (2026-11-29T10:00:00Z) nor a duration ago (90m, 36h, 3d)")
        })
}

pub fn rfc3339(epoch_seconds: i64) -> String {
    Timestamp::from_epoch_millis(epoch_seconds * 1000)
        .map_or_else(|| epoch_seconds.to_string(), |t| t.rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_a_duration_ago() {
        let now = 1_800_000_000;
        assert_eq!(parse_time("90m", now), Ok(now - 5400));
        assert_eq!(parse_time("36h", now), Ok(now - 36 * 3600));
        assert_eq!(parse_time("3d", now), Ok(now - 3 * 86_400));
        assert_eq!(parse_time("2026-11-29T10:00:00Z", now), Ok(1_795_946_400));
        assert!(parse_time("yesterday", now).is_err());
        assert!(parse_time("99999999999999999d", now).is_err());
    }

    #[test]
    fn tickets_are_references_not_addresses() {
        assert_eq!(checked_ticket(" DSR-1042 "), Ok("DSR-1042"));
        assert!(checked_ticket("jane@example.com").is_err());
        assert!(checked_ticket("").is_err());
        assert!(checked_ticket(&"x".repeat(101)).is_err());
    }
}
