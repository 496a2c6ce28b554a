//! Long runs: a campaign, a retention sweep, a Stripe replay. Each prints progress on stderr, a
//! summary on stdout, stops cleanly on Ctrl-C after the step in hand (exit status 130), and
//! carries on where it stopped when run again, because every step is idempotent.

use std::ops::ControlFlow;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use steward_core::adapters::s3::cv_bucket::CvBucket;
use steward_core::domain::forms::catalogue::built_in_topics;
use steward_core::domain::mail::campaign::{queue_campaign, Campaign, Finished};
use steward_core::domain::payments::{receive_event, Received, StripeEvent};
use steward_core::domain::privacy::retention;
use steward_core::telemetry::error_chain;

use crate::context::{now, parse_time, rfc3339, Context, Record};
use crate::Done;

/// Set by Ctrl-C (SIGINT) or SIGTERM; a second Ctrl-C ends the process at once.
#[derive(Clone)]
struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Takes over SIGINT and SIGTERM before returning, so that a signal sent once the run has
    /// said it started is never the default "end at once".
    fn install() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        let (Ok(mut interrupt), Ok(mut terminate)) =
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            eprintln!(
                "signals cannot be caught here: Ctrl-C ends the run at once (running it again carries on)"
            );
            return Self(flag);
        };
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
                if set.swap(true, Ordering::SeqCst) {
                    eprintln!("\nstopped at once; run the same command again to carry on");
                    std::process::exit(130);
                }
                eprintln!("\nstopping after the current step (Ctrl-C again to stop at once)…");
            }
        });
        Self(flag)
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Progress on stderr, at most once a second, so that a long run shows it is moving.
struct Progress {
    started: Instant,
    last: Option<Instant>,
}

impl Progress {
    fn new(what: &str) -> Self {
        eprintln!("{what}");
        Self { started: Instant::now(), last: None }
    }

    fn tick(&mut self, done: u64, line: impl FnOnce() -> String) {
        if self.last.is_some_and(|last| last.elapsed() < Duration::from_secs(1)) {
            return;
        }
        self.last = Some(Instant::now());
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        eprintln!("… {} ({rate:.0}/s, {:.0} s)", line(), self.started.elapsed().as_secs_f64());
    }
}

/// How a run ended: its audit outcome, the sentence that says so, and the exit status.
fn ending(interrupted: bool, stopped_by_limit: bool) -> (&'static str, &'static str, ExitCode) {
    if interrupted {
        ("interrupted", "interrupted: run the same command again to carry on", ExitCode::from(130))
    } else if stopped_by_limit {
        ("stopped", "stopped at --limit: run the same command again to carry on", ExitCode::SUCCESS)
    } else {
        ("ok", "done", ExitCode::SUCCESS)
    }
}

pub async fn campaign(
    context: &Context,
    id: String,
    topic: String,
    subject: String,
    body_file: &std::path::Path,
    limit: Option<u64>,
) -> Result<Done, String> {
    let keys = context.mail_link_keys().await?;
    let links = context.mail_links()?;
    let topics = built_in_topics();
    // The topic as the campaign's readers name it, in its language.
    let Some(topic_label) = steward_core::domain::forms::catalogue::topic_words(&topics, &topic) else {
        return Err(format!(
            "unknown topic {topic:?}; topics: {}",
            topics.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err("--id must be letters, digits, - and _ (it names every message of the campaign)".into());
    }
    let body = std::fs::read_to_string(body_file).map_err(|e| format!("{}: {e}", body_file.display()))?;
    // With the hash key: whether a message was sent already is kept under a keyed hash of its id.
    let store = context.store(true).await?;
    let campaign = Campaign { id, topic, topic_label, subject, body };
    let interrupt = Interrupt::install();
    let mut progress =
        Progress::new(&format!("queuing campaign {} for topic {}", campaign.id, campaign.topic));
    let mut limited = false;
    let result = queue_campaign(&store, &keys, &links, &campaign, now(), |p| {
        progress.tick(p.queued + p.already_queued, || {
            format!("{} queued, {} already queued", p.queued, p.already_queued)
        });
        if limit.is_some_and(|limit| p.queued >= limit) {
            limited = true;
            return ControlFlow::Break(());
        }
        if interrupt.is_set() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .await;
    let (done, finished) = match result {
        Ok(result) => result,
        Err(err) => {
            context.audit(Record::new("campaign", "failed").subject(Some(&campaign.id))).await?;
            return Err(format!("queuing failed (run again to resume): {}", error_chain(&err)));
        }
    };
    let stopped = finished == Finished::Stopped;
    let (outcome, sentence, status) = ending(stopped && !limited, stopped && limited);
    let record = Record::new("campaign", outcome)
        .subject(Some(&campaign.id))
        .count("queued", done.queued)
        .count("already_queued", done.already_queued);
    context.audit(record).await?;
    Ok(Done {
        output: format!(
            "campaign {}: {} newly queued, {} already queued or sent; {sentence}. The outbox sends them at its configured rate.",
            campaign.id, done.queued, done.already_queued
        ),
        status,
    })
}

pub async fn sweep(context: &Context) -> Result<Done, String> {
    // Erasing a lapsed profile also removes its rate counters, keyed by the address's hash.
    let store = context.store(true).await?;
    let cvs = CvBucket::new(context.s3.clone(), context.bucket()?);
    let interrupt = Interrupt::install();
    let mut progress = Progress::new("sweeping what has expired");
    let result = retention::sweep(&store, &cvs, now(), |report| {
        let items: usize = report.items.values().sum();
        progress.tick(items as u64, || {
            format!("{items} items, {} profiles, {} CV versions deleted", report.profiles, report.cv_versions)
        });
        if interrupt.is_set() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .await;
    let report = match result {
        Ok(report) => report,
        Err(err) => {
            context.audit(Record::new("sweep", "failed")).await?;
            return Err(format!("the sweep stopped (run it again to carry on): {}", error_chain(&err)));
        }
    };
    let (outcome, sentence, status) = ending(report.stopped, false);
    let mut record = Record::new("sweep", outcome)
        .count("profiles", report.profiles as u64)
        .count("cv_versions", report.cv_versions as u64)
        .count("cv_failures", report.cv_failures as u64)
        .count("seat_holds", report.seat_holds as u64);
    let mut kinds = vec![];
    for (kind, count) in &report.items {
        record = record.count(&format!("items_{kind}"), *count as u64);
        kinds.push(format!("{count} {kind}"));
    }
    context.audit(record).await?;
    Ok(Done {
        output: format!(
            "sweep: deleted {} items ({}), {} profiles nothing was kept for, {} CV versions; gave back {} seats of lapsed checkouts; {} CV deletions failed (the next sweep retries); {sentence}",
            report.items.values().sum::<usize>(),
            if kinds.is_empty() { "none".to_owned() } else { kinds.join(", ") },
            report.profiles,
            report.cv_versions,
            report.seat_holds,
            report.cv_failures,
        ),
        status,
    })
}

/// One page of `GET /v1/events`, as JSON.
async fn events_page(
    client: &stripe::Client,
    since: i64,
    until: i64,
    starting_after: Option<&str>,
) -> Result<Value, String> {
    let mut query = serde_json::json!({"created": {"gte": since, "lte": until}, "limit": 100});
    if let Some(after) = starting_after {
        query["starting_after"] = after.into();
    }
    let page: miniserde::json::Value =
        stripe_client_core::RequestBuilder::new(stripe_client_core::StripeMethod::Get, "/events")
            .query(&query)
            .customize()
            .send(client)
            .await
            .map_err(|e| format!("listing Stripe events failed: {e}"))?;
    stripe_types::with_serde_json::serialize(&page, serde_json::value::Serializer)
        .map_err(|e| format!("a page of Stripe events could not be read: {e}"))
}

pub async fn replay_stripe(
    context: &Context,
    since: &str,
    until: Option<&str>,
    limit: Option<u64>,
) -> Result<Done, String> {
    let now = now();
    let since = parse_time(since, now).map_err(|e| format!("--since: {e}"))?;
    let until =
        until.map(|u| parse_time(u, now)).transpose().map_err(|e| format!("--until: {e}"))?.unwrap_or(now);
    if since > until {
        return Err("--since is after --until".into());
    }
    let client = context.stripe_client().await?;
    // With the hash key: a replayed payment's receipt checks its sent marker, kept under it.
    let store = context.store(true).await?;
    let interrupt = Interrupt::install();
    let mut progress =
        Progress::new(&format!("replaying Stripe events from {} to {}", rfc3339(since), rfc3339(until)));
    let mut counts = std::collections::BTreeMap::<&'static str, u64>::new();
    let mut seen = 0u64;
    // What --limit counts: events this run applied or found nothing to do for, not those applied
    // before (a second run with the same limit carries on past them).
    let mut processed = 0u64;
    let mut cursor: Option<String> = None;
    let mut limited = false;
    let mut interrupted = false;
    let mut failure = None;
    // Stripe lists newest first; the order does not matter, each event carries its own time and
    // payments keep the newest state (domain::payments).
    'pages: loop {
        let page = match events_page(&client, since, until, cursor.as_deref()).await {
            Ok(page) => page,
            Err(err) => {
                failure = Some(err);
                break;
            }
        };
        let events = page["data"].as_array().cloned().unwrap_or_default();
        for raw in &events {
            if interrupt.is_set() {
                interrupted = true;
                break 'pages;
            }
            if limit.is_some_and(|limit| processed >= limit) {
                limited = true;
                break 'pages;
            }
            let event: StripeEvent = match serde_json::from_value(raw.clone()) {
                Ok(event) => event,
                Err(err) => {
                    *counts.entry("unreadable").or_default() += 1;
                    eprintln!("an event could not be read and was skipped: {err}");
                    continue;
                }
            };
            match receive_event(&store, &event, now).await {
                Ok(received) => {
                    *counts.entry(received.as_str()).or_default() += 1;
                    if received != Received::Duplicate {
                        processed += 1;
                    }
                }
                Err(err) => {
                    failure = Some(format!("event {} could not be applied: {}", event.id, error_chain(&err)));
                    break 'pages;
                }
            }
            seen += 1;
            progress.tick(seen, || summary_of(&counts));
        }
        cursor = events.last().and_then(|e| e["id"].as_str()).map(str::to_owned);
        if page["has_more"] != Value::Bool(true) || cursor.is_none() {
            break;
        }
    }
    let (mut outcome, sentence, status) = ending(interrupted, limited);
    if failure.is_some() {
        outcome = "failed";
    }
    let mut record =
        Record::new("replay-stripe", outcome).count("since", since as u64).count("until", until as u64);
    for (name, count) in &counts {
        record = record.count(name, *count);
    }
    context.audit(record).await?;
    if let Some(failure) = failure {
        return Err(format!("{failure}; so far: {}. Run it again to carry on.", summary_of(&counts)));
    }
    Ok(Done {
        output: format!(
            "replay: {seen} events, {processed} not seen before: {}; {sentence}",
            summary_of(&counts)
        ),
        status,
    })
}

fn summary_of(counts: &std::collections::BTreeMap<&'static str, u64>) -> String {
    let applied =
        counts.get(Received::Processed(steward_core::domain::payments::WebhookOutcome::Applied).as_str());
    let mut parts = vec![format!("{} applied", applied.copied().unwrap_or(0))];
    for (name, count) in counts {
        if *name != "applied" {
            parts.push(format!("{count} {}", name.replace('_', " ")));
        }
    }
    parts.join(", ")
}
