//! JSON logs for CloudWatch. Call once at cold start.

/// Installs a JSON subscriber honouring `RUST_LOG` (default `info`). Lambda adds the timestamp
/// itself, so ours is left out; the span list carries the request id.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .try_init();
}
