//! Wiring for the mail-outbox Lambda: a schedule invokes it; it sends what is due through SES v2
//! (`steward_core::domain::mail::outbox::dispatch`).

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use steward_core::adapters::dynamodb::DynamoStore;
use steward_core::adapters::ses::sender::Ses;
use steward_core::domain::mail::outbox::{Pace, Sender};
use steward_core::domain::mail::Templates;
use steward_core::domain::ports::{Clock, SystemClock};
use steward_core::secret::SecretKey;

mod handler;

/// The mailbox List-Unsubscribe offers beside its one-click URL: none when the template leaves it
/// empty, and only a `mailto:` address otherwise.
fn unsubscribe_mailto(value: Option<String>) -> Result<Option<String>, String> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(mailto)
            if mailto.starts_with("mailto:")
                && mailto.contains('@')
                // Written into a raw mail header: nothing that could end or split it.
                && !mailto.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',')) =>
        {
            Ok(Some(mailto))
        }
        Some(_) => {
            Err("UNSUBSCRIBE_MAILTO must be a mailto: URI (mailto:unsubscribe@your-domain), or empty".into())
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    steward_core::telemetry::init();
    let aws = steward_core::adapters::aws::lambda(steward_core::adapters::aws::Caller::Background);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let env = steward_core::adapters::start(&aws).await?;
    // Marketing is checked against the suppression list, keyed by this hash of addresses.
    let hash_key = SecretKey::new(env.required("HASH_KEY")?.into_bytes());
    let app = handler::App {
        store: DynamoStore::metered(&aws, env.required("TABLE_NAME")?, hash_key, clock.clone()),
        ses: Ses {
            client: aws_sdk_sesv2::Client::new(&aws),
            configuration_set: env.optional("SES_CONFIGURATION_SET"),
        },
        templates: Templates::default(),
        from: Sender {
            name: env.required("MAIL_FROM_NAME")?,
            address: env.required("MAIL_FROM_ADDRESS")?,
            // Every mail's footer, whoever queued it (a function or an operator's campaign).
            policy_url: steward_core::config::policy_url(&env.required("SITE_URL")?),
            site_url: env.required("SITE_URL")?.trim_end_matches('/').to_owned(),
            unsubscribe_mailto: unsubscribe_mailto(env.optional("UNSUBSCRIBE_MAILTO"))?,
        },
        pace: Pace {
            batch: env.number("MAIL_BATCH", 200)? as usize,
            per_second: env.number("MAIL_SEND_RATE_PER_SECOND", 10)? as u32,
            retry_base_seconds: env.number("MAIL_RETRY_BASE_SECONDS", 30)? as i64,
        },
        clock,
    };
    let app: &'static handler::App = Box::leak(Box::new(app));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        steward_core::lambda::metered(
            "send-mail",
            &event.context.request_id,
            handler::handle(app),
            |report| report["deferred"].as_u64().is_some_and(|deferred| deferred > 0),
        )
        .await
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::unsubscribe_mailto;

    #[test]
    fn the_unsubscribe_mailbox_is_a_mailto_uri_that_cannot_break_its_header_or_none() {
        assert_eq!(unsubscribe_mailto(None), Ok(None));
        assert_eq!(unsubscribe_mailto(Some("  ".into())), Ok(None));
        assert_eq!(
            unsubscribe_mailto(Some("mailto:leave@lists.example?subject=unsubscribe".into())),
            Ok(Some("mailto:leave@lists.example?subject=unsubscribe".into()))
        );
        for bad in [
            "leave@lists.example",
            "mailto:leave",
            "mailto:a@b>, <https://evil",
            "mailto:a@b\tc",
            "mailto:a@b\r\nBcc: x",
        ] {
            assert!(unsubscribe_mailto(Some(bad.into())).is_err(), "{bad:?}");
        }
    }
}
