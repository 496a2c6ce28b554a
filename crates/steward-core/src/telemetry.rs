//! JSON logs for CloudWatch. Call once at cold start.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs a JSON subscriber honouring `RUST_LOG` (default `info`). Lambda adds the timestamp
/// itself, so ours is left out. Fields are flattened to the top level of each line, where
/// CloudWatch metric filters (`$.outcome`) and Logs Insights find them by name.
///
/// `RUST_LOG` takes levels per target (`info,aws_smithy_runtime=debug`), read by `Targets`
/// rather than `EnvFilter`, whose span and regex filters would put a regex engine in binaries that
/// otherwise have none.
pub fn init() {
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .finish()
        .with(log_filter(std::env::var("RUST_LOG").ok().as_deref()))
        .try_init();
}

/// The levels `RUST_LOG` asks for; `info` when it is unset, blank or cannot be read (a blank value
/// would otherwise parse as "everything at TRACE").
fn log_filter(rust_log: Option<&str>) -> Targets {
    rust_log
        .filter(|directives| !directives.trim().is_empty())
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

/// An error and all its causes on one line, for logs (never for responses).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn rust_log_sets_levels_per_target_and_defaults_to_info() {
        let unset = log_filter(None);
        assert!(unset.would_enable("submit_form", &Level::INFO));
        assert!(!unset.would_enable("submit_form", &Level::DEBUG));
        let tuned = log_filter(Some("warn,aws_smithy_runtime=debug"));
        assert!(tuned.would_enable("aws_smithy_runtime::client", &Level::DEBUG));
        assert!(!tuned.would_enable("submit_form", &Level::INFO));
        let blank = log_filter(Some(" "));
        assert!(!blank.would_enable("aws_smithy_runtime", &Level::TRACE), "blank is unset, not TRACE");
        assert!(blank.would_enable("submit_form", &Level::INFO));
        let unreadable = log_filter(Some("=?=nonsense[]"));
        assert!(unreadable.would_enable("submit_form", &Level::INFO));
    }
}
