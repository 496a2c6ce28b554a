//! Bounded load tests on loopback, open loop (requests go out on schedule whether or not earlier
//! ones have answered), through the local stack. Two profiles, their figures in
//! `target/load-report.json`: the steady one's at the top, the burst's under `burst`.
//!
//! - **steady** (`make test`, and at full size `make load`): a fixed number of contact-form
//!   submissions at a fixed rate. `LOAD_REQUESTS` and `LOAD_RATE` change its size.
//! - **burst** (`make load` and `make load-burst`; `make test` leaves it out, it takes a minute
//!   and a half): a registration opening, docs/scale.md's peak A scaled down to the local stack.
//!   Event registrations by new people ticking a topic: 40 % of them in the first 10 % of the time
//!   at the peak rate, the rest evenly over the remaining 90 %. `LOAD_BURST_REQUESTS` and
//!   `LOAD_BURST_PEAK_RATE` change it.
//!
//! No request may fail: no 5xx, and no 429 either (each request comes from an address of its own,
//! for a new person). The figures say what the local stack sustains, not what AWS does: moto serves
//! one request at a time (see `infra/local/stack.py`). BENCHMARKS.md sets the burst's beside the
//! model's figures for AWS.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use steward_blackbox::{http, stack, unique_ip};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The profiles share one stack: one at a time, so that neither measures the other's load.
static ONE_PROFILE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The settings of the stack both profiles share, set before the first of them starts it.
fn quiet_stack() {
    // moto answers one request at a time and scans in Python: the hourly retention sweep, run
    // every few seconds locally, would measure moto's scans of a growing table, not submissions.
    // Read when this binary's stack starts, on its first use.
    std::env::set_var("STEWARD_STACK_SET", "LOCAL_SCHEDULE_SECONDS_RetentionFunction=3600");
}

/// The latency at quantile `q` of sorted latencies, in milliseconds.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Each profile replaces its own figures in the one report and keeps the other's.
fn update_report(update: impl FnOnce(&mut Map<String, Value>)) {
    let path = stack().bin_dir.parent().unwrap().join("load-report.json");
    let mut report = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|value| value.as_object().cloned())
        .unwrap_or_default();
    update(&mut report);
    std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(report)).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_fixed_rate_of_form_submissions_then_none_fails_and_the_figures_are_recorded() {
    let _alone = ONE_PROFILE_AT_A_TIME.lock().await;
    quiet_stack();
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
    let at = |q: f64| quantile_ms(&latencies, q);
    let report = json!({
        "requests": requests,
        "target_rate_per_second": rate,
        "throughput_per_second": (requests as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "latency_ms": {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": at(1.0)},
        "failures": failures.len(),
        "elapsed_seconds": elapsed.as_secs_f64(),
    });
    update_report(|figures| {
        let burst = figures.remove("burst");
        *figures = report.as_object().cloned().unwrap();
        if let Some(burst) = burst {
            figures.insert("burst".into(), burst);
        }
    });
    println!("load: {report}");
    assert!(
        failures.is_empty(),
        "{} of {requests} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}

/// docs/scale.md's peak A: 40 % of a registration opening's registrations come in the first 10 %
/// of its time.
const PEAK_SHARE: f64 = 0.4;
const PEAK_TIME_SHARE: f64 = 0.1;

/// A burst's plan: when each request goes out, counted from its start.
struct Burst {
    schedule: Vec<Duration>,
    peak_seconds: f64,
}

/// The first `PEAK_SHARE` of the requests at `peak_rate`, which sets the burst's length (that part
/// is its first `PEAK_TIME_SHARE`), and the rest evenly over the remainder.
fn burst(requests: u64, peak_rate: f64) -> Burst {
    let at_peak = ((requests as f64 * PEAK_SHARE).round() as u64).min(requests);
    let peak_seconds = at_peak as f64 / peak_rate;
    let rest_interval = (peak_seconds / PEAK_TIME_SHARE - peak_seconds) / (requests - at_peak).max(1) as f64;
    let schedule = (0..requests)
        .map(|n| match n.checked_sub(at_peak) {
            None => n as f64 / peak_rate,
            Some(after_peak) => peak_seconds + (after_peak + 1) as f64 * rest_interval,
        })
        .map(Duration::from_secs_f64)
        .collect();
    Burst { schedule, peak_seconds }
}

#[test]
fn given_a_burst_of_200_at_10_a_second_then_40_percent_go_in_the_first_tenth_of_its_time() {
    let Burst { schedule, peak_seconds } = burst(200, 10.0);
    let end = schedule.last().unwrap().as_secs_f64();
    let early = schedule.iter().filter(|at| at.as_secs_f64() < end * PEAK_TIME_SHARE).count();
    assert_eq!((schedule.len(), early), (200, 80));
    assert!((end - 80.0).abs() < 1e-9, "200 at 10/s at the top: 8 s of peak, 80 s in all; {end}");
    assert!((peak_seconds - 8.0).abs() < 1e-9);
    assert!(schedule.windows(2).all(|pair| pair[0] <= pair[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a minute and a half: make load and make load-burst run it"]
async fn given_a_registration_opening_then_no_registration_fails_and_the_burst_figures_are_recorded() {
    let _alone = ONE_PROFILE_AT_A_TIME.lock().await;
    quiet_stack();
    let requests = setting("LOAD_BURST_REQUESTS", 200);
    // Twice the steady rate the local stack sustains, for a tenth of the time: a queue builds at
    // the top and drains during the rest, as the average is well under what the stack sustains.
    let peak_rate = setting("LOAD_BURST_PEAK_RATE", 10) as f64;
    let Burst { schedule, peak_seconds } = burst(requests, peak_rate);
    let url = stack().url("/forms/event-registration");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for (n, at) in schedule.iter().enumerate() {
        tokio::time::sleep_until(started + *at).await;
        let url = url.clone();
        let email = format!("burst-{run}-{n}@example.com");
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = http()
                .post(url)
                .header("accept", "application/json")
                .header("x-local-source-ip", unique_ip())
                .json(&json!({
                    "name": "Burst Test", "email": email, "phone": "+44 20 7946 0958", "job_title": "CTO",
                    "company": "Acme", "country": "GB", "state": "GB-LND", "event": "wso2con-2027",
                    "interests": ["events"],
                }))
                .send()
                .await;
            (response.map(|r| r.status()).ok(), sent.elapsed())
        }));
    }
    let mut latencies = Vec::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for task in tasks {
        let (status, latency) = task.await.unwrap();
        latencies.push(latency);
        *statuses.entry(status.map_or("no answer".to_owned(), |s| s.as_u16().to_string())).or_default() += 1;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| quantile_ms(&latencies, q);
    let errors: BTreeMap<&String, &usize> = statuses.iter().filter(|(status, _)| *status != "201").collect();
    let report = json!({
        "profile": "burst",
        "form": "event-registration",
        "requests": requests,
        "peak_rate_per_second": peak_rate,
        "peak_share": PEAK_SHARE,
        "peak_seconds": peak_seconds,
        "seconds": schedule.last().map_or(0.0, Duration::as_secs_f64),
        "elapsed_seconds": elapsed.as_secs_f64(),
        "throughput_per_second": (requests as f64 / elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "latency_ms": {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": at(1.0)},
        "statuses": statuses,
        "errors": errors,
        "workers": stack().settings.get("FUNCTION_WORKERS").and_then(|w| w.parse::<u64>().ok()),
        "finished_at_unix": SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
    });
    update_report(|figures| {
        figures.insert("burst".into(), report.clone());
    });
    println!("load (burst): {report}");
    assert!(errors.is_empty(), "no registration may fail (no 5xx, no 429): {errors:?} of {requests}");
}
