//! Wiring for the mail-outbox Lambda: a schedule invokes it; it sends what is due through SES v2.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{EmailContent, RawMessage};
use lambda_runtime::{service_fn, LambdaEvent};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::domain::mail::outbox::{dispatch, MailSender, Pace, SendError, Sender};
use steward_core::domain::mail::Templates;
use steward_core::secret::SecretKey;

struct Ses {
    client: aws_sdk_sesv2::Client,
    configuration_set: Option<String>,
}

impl MailSender for Ses {
    async fn send(&self, from: &str, to: &str, raw: Vec<u8>) -> Result<(), SendError> {
        let content = EmailContent::builder()
            .raw(
                RawMessage::builder()
                    .data(Blob::new(raw))
                    .build()
                    .map_err(|e| SendError::Rejected(e.to_string()))?,
            )
            .build();
        let result = self
            .client
            .send_email()
            .from_email_address(from)
            .destination(aws_sdk_sesv2::types::Destination::builder().to_addresses(to).build())
            .content(content)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Throttling, a paused account, a network failure: try again later. A refused
            // message (an unverified sender, a malformed address) is retried too, with backoff,
            // since the cause is usually configuration that someone is about to fix.
            Err(err) => {
                // The code only: SES's messages can quote the recipient's address.
                let text = err.code().unwrap_or("no response").to_owned();
                Err(match err.code() {
                    Some("MessageRejected" | "BadRequestException") => SendError::Rejected(text),
                    _ => SendError::Unavailable(text),
                })
            }
        }
    }
}

struct App {
    store: DynamoStore,
    ses: Ses,
    templates: Templates,
    from: Sender,
    pace: Pace,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward_core::telemetry::init();
    let aws = steward_core::adapters::aws::load(steward_core::adapters::aws::Caller::Background).await;
    let env = steward_core::adapters::secrets::load_env(&aws).await?;
    let app = App {
        store: DynamoStore::new(
            steward_core::adapters::dynamodb::capacity::metered_client(&aws),
            env.required("TABLE_NAME")?,
            // Marketing is checked against the suppression list, keyed by this hash of addresses.
            SecretKey::new(env.required("HASH_KEY")?.into_bytes()),
        ),
        ses: Ses {
            client: aws_sdk_sesv2::Client::new(&aws),
            configuration_set: env.optional("SES_CONFIGURATION_SET"),
        },
        templates: Templates::default(),
        from: Sender { name: env.required("MAIL_FROM_NAME")?, address: env.required("MAIL_FROM_ADDRESS")? },
        pace: Pace {
            batch: env.number("MAIL_BATCH", 200)? as usize,
            per_second: env.number("MAIL_SEND_RATE_PER_SECOND", 10)? as u32,
            retry_base_seconds: env.number("MAIL_RETRY_BASE_SECONDS", 30)? as i64,
        },
    };
    let app: &'static App = Box::leak(Box::new(app));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        steward_core::lambda::metered(
            "send-mail",
            &event.context.request_id,
            async move {
                let report = dispatch(&app.store, &app.ses, &app.templates, &app.from, now, app.pace).await?;
                tracing::info!(
                    sent = report.sent,
                    skipped = report.skipped,
                    deferred = report.deferred,
                    "outbox dispatched"
                );
                Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
            },
            |report| report["deferred"].as_u64().is_some_and(|deferred| deferred > 0),
        )
        .await
    }))
    .await
}
