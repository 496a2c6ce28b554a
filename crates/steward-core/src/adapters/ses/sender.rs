//! The outbox's mail sender on SES v2.

use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{EmailContent, RawMessage};

use crate::domain::mail::outbox::{MailSender, SendError};

/// SES v2, sending the raw MIME the outbox renders, under the deployment's configuration set
/// (bounces and complaints come back through it: `notifications`).
pub struct Ses {
    pub client: aws_sdk_sesv2::Client,
    pub configuration_set: Option<String>,
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
