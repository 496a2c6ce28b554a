//! `steward-admin`: operator commands, run with the operator's own AWS credentials (never a
//! public endpoint). Against the local stack, source `infra/local.env` and set `AWS_ENDPOINT_URL`.

use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use clap::{Parser, Subcommand};
use steward_core::telemetry::error_chain;

#[derive(Parser)]
#[command(name = "steward-admin", version, about = "Operate Steward: what no self-service page covers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let local = std::env::var_os("AWS_ENDPOINT_URL").is_some();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws).force_path_style(local).build(),
    );
    let result = match cli.command {
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
