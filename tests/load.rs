//! A bounded load test on loopback: a fixed number of form submissions at a fixed rate (open loop:
//! requests go out on schedule whether or not earlier ones have answered), through the local
//! stack. No request may fail; throughput and latency go to `target/load-report.json`.
//!
//! The figures say what the local stack sustains, not what AWS does: moto serves one request at a
//! time (see `infra/local/stack.py`). `LOAD_REQUESTS` and `LOAD_RATE` change the size.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use steward_blackbox::{http, stack, unique_ip};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_fixed_rate_of_form_submissions_then_none_fails_and_the_figures_are_recorded() {
    // moto answers one request at a time and scans in Python: the hourly retention sweep, run
    // every few seconds locally, would measure moto's scans of a growing table, not submissions.
    // Read when this binary's stack starts, on its first use below.
    std::env::set_var("STEWARD_STACK_SET", "LOCAL_SCHEDULE_SECONDS_RetentionFunction=3600");
    let requests = setting("LOAD_REQUESTS", 600);
    // 5/s: what the local stack sustains with idempotent rate counters (docs/local-stack.md).
    let rate = setting("LOAD_RATE", 5);
    let url = stack().url("/forms/contact-us");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..requests {
        ticker.tick().await;
        let url = url.clone();
        let email = format!("load-{run}-{n}@example.com");
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = http()
                .post(url)
                .header("accept", "application/json")
                .header("x-local-source-ip", unique_ip())
                .json(&json!({"name": "Load Test", "email": email, "message": "Hello"}))
                .send()
                .await;
            (response.map(|r| r.status()).ok(), sent.elapsed())
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for task in tasks {
        let (status, latency) = task.await.unwrap();
        latencies.push(latency);
        if status != Some(StatusCode::CREATED) {
            failures.push(status);
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0
    };
    let report = json!({
        "requests": requests,
        "target_rate_per_second": rate,
        "throughput_per_second": (requests as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "latency_ms": {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": at(1.0)},
        "failures": failures.len(),
        "elapsed_seconds": elapsed.as_secs_f64(),
    });
    let path = stack().bin_dir.parent().unwrap().join("load-report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("load: {report}");
    assert!(
        failures.is_empty(),
        "{} of {requests} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}
