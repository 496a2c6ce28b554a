//! `steward-admin`: operator commands, run with the operator's own AWS credentials (never a
//! public endpoint). Against the local stack, source `infra/local.env` and set `AWS_ENDPOINT_URL`.

use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use clap::{Parser, Subcommand};
use steward_core::catalogue::built_in_topics;
use steward_core::config::MailLinks;
use steward_core::domain::campaign::{queue_campaign, Campaign};
use steward_core::secret::SecretKey;
use steward_core::store::dynamodb::DynamoStore;
use steward_core::telemetry::error_chain;
use steward_core::token::TokenKeys;

#[derive(Parser)]
#[command(name = "steward-admin", version, about = "Operate Steward: what no self-service page covers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Queue a topic's campaign for its confirmed subscribers; the outbox sends it at the
    /// configured rate. Running it again with the same --id resumes it: nobody gets it twice.
    Campaign {
        /// Stable campaign id (for example 2026-12-cloud-launch).
        #[arg(long)]
        id: String,
        /// The interest topic (forms.toml [topics]).
        #[arg(long)]
        topic: String,
        #[arg(long)]
        subject: String,
        /// A text file: paragraphs separated by blank lines.
        #[arg(long)]
        body_file: std::path::PathBuf,
        #[arg(long, env = "TABLE_NAME")]
        table: String,
        /// The secret holding TOKEN_KEYS (in AWS: `<stack>/token-keys`), read with your credentials.
        #[arg(long, env = "KEYS_SECRET_ID", required_unless_present = "token_keys")]
        keys_secret: Option<String>,
        /// The token keys themselves, instead of the secret (locally: from infra/local.env).
        #[arg(long, env = "TOKEN_KEYS", hide_env_values = true)]
        token_keys: Option<String>,
        #[arg(long, env = "PUBLIC_API_URL")]
        public_api_url: String,
        #[arg(long, env = "ORGANISATION_NAME", default_value = "WSO2")]
        organisation: String,
        #[arg(long, env = "POLICY_URL", default_value = "https://wso2.com/privacy-policy")]
        policy_url: String,
        #[arg(
            long,
            env = "UNSUBSCRIBE_MAILTO",
            default_value = "mailto:unsubscribe@example.com?subject=unsubscribe"
        )]
        unsubscribe_mailto: String,
    },
    /// Print a short-lived download link for an application's verified CV (for a recruiter).
    CvLink {
        /// The careers application (its submission id).
        #[arg(long)]
        application: String,
        /// The CV bucket (the stack's CvBucketName output).
        #[arg(long, env = "CV_BUCKET")]
        bucket: String,
        /// How long the link works, in seconds (at most an hour).
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
        expires_in: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let aws = steward_core::aws::load(steward_core::aws::Caller::Background).await;
    let local = std::env::var_os("AWS_ENDPOINT_URL").is_some();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws).force_path_style(local).build(),
    );
    let result = match cli.command {
        Command::Campaign {
            id,
            topic,
            subject,
            body_file,
            table,
            keys_secret,
            token_keys,
            public_api_url,
            organisation,
            policy_url,
            unsubscribe_mailto,
        } => {
            let links = MailLinks { public_api_url, organisation, policy_url, unsubscribe_mailto };
            match campaign_keys(&aws, token_keys, keys_secret).await {
                Ok(token_keys) => {
                    campaign(&aws, &table, &token_keys, links, id, topic, subject, &body_file).await
                }
                Err(message) => Err(message),
            }
        }
        Command::CvLink { application, bucket, expires_in } => {
            cv_link(&s3, &bucket, &application, Duration::from_secs(expires_in)).await
        }
    };
    match result {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("steward-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The token keys: read from the secret with the operator's credentials when one is named (it wins
/// over a TOKEN_KEYS left in the shell from local work), or else given.
async fn campaign_keys(
    aws: &aws_config::SdkConfig,
    token_keys: Option<String>,
    keys_secret: Option<String>,
) -> Result<String, String> {
    match (token_keys, keys_secret) {
        (_, Some(secret)) => {
            let mut values =
                steward_core::secrets::read_secrets(aws, &secret).await.map_err(|e| e.to_string())?;
            values.remove("TOKEN_KEYS").ok_or(format!("{secret} has no TOKEN_KEYS"))
        }
        (Some(keys), None) => Ok(keys),
        (None, None) => Err("give --keys-secret or --token-keys".to_owned()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn campaign(
    aws: &aws_config::SdkConfig,
    table: &str,
    token_keys: &str,
    links: MailLinks,
    id: String,
    topic: String,
    subject: String,
    body_file: &std::path::Path,
) -> Result<String, String> {
    let keys = TokenKeys::parse(token_keys).map_err(|e| format!("TOKEN_KEYS: {e}"))?;
    let topics = built_in_topics();
    let Some(topic_label) = topics.get(&topic).cloned() else {
        return Err(format!(
            "unknown topic {topic:?}; topics: {}",
            topics.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    };
    let body = std::fs::read_to_string(body_file).map_err(|e| format!("{}: {e}", body_file.display()))?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), table, SecretKey::new([]));
    let campaign = Campaign { id, topic, topic_label, subject, body };
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let done = queue_campaign(&store, &keys, &links, &campaign, now, |p| {
        eprintln!("… {} queued, {} already queued", p.queued, p.already_queued);
    })
    .await
    .map_err(|e| format!("queuing failed (run again to resume): {}", error_chain(&e)))?;
    Ok(format!(
        "campaign {}: {} newly queued, {} already queued or sent; the outbox sends them at its configured rate",
        campaign.id, done.queued, done.already_queued
    ))
}

/// The newest verified CV of the application, as a presigned GET that downloads as an attachment.
async fn cv_link(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    application: &str,
    valid_for: Duration,
) -> Result<String, String> {
    if application.is_empty() || !application.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err("--application must be an application id".into());
    }
    let listing = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(format!("cv/{application}/"))
        .send()
        .await
        .map_err(|e| format!("listing the CVs failed: {}", error_chain(&e)))?;
    let mut objects: Vec<_> =
        listing.contents().iter().filter_map(|o| Some((o.last_modified()?.secs(), o.key()?))).collect();
    objects.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, key) in objects {
        let tags = s3
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| format!("reading the CV's status failed: {}", error_chain(&e)))?;
        if !tags.tag_set().iter().any(|t| t.key() == "cv-status" && t.value() == "verified") {
            continue;
        }
        let head = s3.head_object().bucket(bucket).key(key).send().await.map_err(|e| error_chain(&e))?;
        let file_name = head
            .metadata()
            .and_then(|m| m.get("original-filename"))
            .map(|name| name.replace(['"', '\\'], "_"))
            .unwrap_or_else(|| "cv".to_owned());
        let presigned = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .response_content_disposition(format!("attachment; filename=\"{file_name}\""))
            .presigned(PresigningConfig::expires_in(valid_for).map_err(|e| e.to_string())?)
            .await
            .map_err(|e| format!("signing the link failed: {}", error_chain(&e)))?;
        return Ok(presigned.uri().to_owned());
    }
    Err(format!("application {application} has no verified CV"))
}
