//! `steward-admin` against the local stack, as an operator runs it against a deployed one: by
//! stack name, with the stack's secrets, and every action in the audit log under the caller's
//! AWS identity.

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{
    admin, admin_command, confirm_with_card, eventually, http, stack, submit_json as submit, unique_email,
    wait_for_mail,
};
use steward_core::adapters::dynamodb::{keys, DynamoStore};
use steward_core::domain::ids::ProfileId;
use steward_core::domain::mail::preferences::{ChangeSource, PreferenceChange, PreferenceStore};

/// This binary's stack runs no scheduled retention sweep: the sweep test counts what
/// `steward-admin sweep` itself deletes. Call first in every test.
fn setup() {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        std::env::set_var("STEWARD_STACK_SET", "LOCAL_SCHEDULE_SECONDS_RetentionFunction=86400")
    });
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "stdout: {}\nstderr: {}", stdout(output), stderr(output));
    stdout(output)
}

fn local_store() -> DynamoStore {
    DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&stack().aws()),
        stack().table.clone(),
        stack().hash_key(),
        std::sync::Arc::new(steward_core::domain::ports::SystemClock),
    )
}

/// The audit log's records since the start of this month, as JSON.
fn audit_log() -> Vec<Value> {
    // From two days back: a run across the end of a month still sees all it wrote.
    serde_json::from_str(&succeeded(&admin(&["audit", "--since", "2d", "--json"]))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_person_then_find_and_history_show_them_and_the_audit_log_names_the_operator_not_the_person()
{
    setup();
    let email = unique_email("findme");
    let first =
        submit("contact-us", json!({"name": "Ada Lovelace", "email": email, "message": "Hello"})).await;
    submit("newsletter", json!({"email": email, "interests": ["cloud"]})).await;
    let profile_id = first["profile_id"].as_str().unwrap();

    let found = succeeded(&admin(&["find", "--email", &email.to_uppercase(), "--ticket", "DSR-1"]));
    assert!(found.contains(profile_id), "{found}");
    assert!(found.contains("2 submissions") && found.contains("pending: cloud"), "{found}");
    let everything: Value =
        serde_json::from_str(&succeeded(&admin(&["find", "--email", &email, "--json"]))).unwrap();
    assert_eq!(everything["submissions"].as_array().unwrap().len(), 2);

    let history = succeeded(&admin(&["history", "--profile", profile_id, "--ticket", "DSR-1"]));
    let lines: Vec<&str> = history.lines().collect();
    assert!(lines[1].contains("profile") && lines[1].contains("created"), "{history}");
    assert!(
        lines.iter().position(|l| l.contains("contact-us"))
            < lines.iter().position(|l| l.contains("newsletter"))
    );

    let unknown = admin(&["find", "--email", &unique_email("nobody")]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no profile has that address"), "{}", stderr(&unknown));
    let not_an_address = admin(&["find", "--email", "not-an-address"]);
    assert!(!not_an_address.status.success() && stderr(&not_an_address).contains("--email"));

    let log = audit_log();
    let mine: Vec<&Value> = log.iter().filter(|e| e["reference"] == "DSR-1").collect();
    let actions: Vec<&str> = mine.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["find", "history"], "{log:?}");
    assert!(mine.iter().all(|e| e["subject"].is_null()), "no profile id: it would outlive an erasure");
    assert!(mine.iter().all(|e| e["actor"].as_str().unwrap().starts_with("operator:arn:aws:")), "{mine:?}");
    assert!(mine.iter().all(|e| e["schema_version"] == 2));
    assert!(log.iter().any(|e| e["action"] == "find" && e["outcome"] == "not-found"));
    let text = serde_json::to_string(&log).unwrap().to_lowercase();
    assert!(
        !text.contains(&email.to_lowercase()) && !text.contains("lovelace"),
        "no personal data in the audit log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_request_by_mail_then_export_writes_a_private_file_and_erase_previews_then_erases_and_tells_them(
) {
    setup();
    let email = unique_email("bymail");
    let receipt =
        submit("contact-us", json!({"name": "Grace Hopper", "email": email, "message": "Delete me"})).await;
    let profile_id = receipt["profile_id"].as_str().unwrap().to_owned();

    let dir = std::env::temp_dir().join(format!("steward-admin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("export.json");
    let written = succeeded(&admin(&[
        "export",
        "--email",
        &email,
        "--ticket",
        "DSR-2",
        "--out",
        file.to_str().unwrap(),
    ]));
    assert!(written.contains(&profile_id), "{written}");
    let export: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(export["profile"]["email"], email.as_str());
    assert_eq!(export["submissions"][0]["fields"]["message"], "Delete me");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let again = admin(&["export", "--email", &email, "--ticket", "DSR-2", "--out", file.to_str().unwrap()]);
    assert!(!again.status.success(), "an existing file is never overwritten");
    let csv =
        succeeded(&admin(&["export", "--profile", &profile_id, "--ticket", "DSR-2", "--format", "csv"]));
    assert!(csv.contains("Delete me"), "{csv}");
    std::fs::remove_dir_all(&dir).unwrap();

    let address_as_ticket = admin(&["erase", "--email", &email, "--ticket", &email, "--yes"]);
    assert!(!address_as_ticket.status.success());
    assert!(stderr(&address_as_ticket).contains("never an address"));
    let preview = succeeded(&admin(&["erase", "--email", &email, "--ticket", "DSR-2"]));
    assert!(preview.contains("--yes") && preview.contains("1 submissions"), "{preview}");
    assert!(stack().profile(&email).await.is_some(), "a preview erases nothing");

    let erased = succeeded(&admin(&["erase", "--email", &email, "--ticket", "DSR-2", "--yes"]));
    assert!(erased.starts_with("erased:"), "{erased}");
    assert!(stack().profile(&email).await.is_none());
    assert!(stack().submissions(&profile_id).await.is_empty());
    wait_for_mail(&email, "deleted").await;
    let twice = admin(&["erase", "--email", &email, "--ticket", "DSR-2", "--yes"]);
    assert!(!twice.status.success() && stderr(&twice).contains("nothing"), "{}", stderr(&twice));

    let log = audit_log();
    let erase = log
        .iter()
        .find(|e| e["action"] == "erase" && e["outcome"] == "ok" && e["reference"] == "DSR-2")
        .unwrap();
    assert!(erase["subject"].is_null(), "the erased id is not kept: {erase}");
    assert!(erase["counts"]["items_deleted"].as_u64().unwrap() >= 2, "{erase}");
    assert!(
        log.iter().any(|e| e["action"] == "erasure" && e["actor"] == "operator"),
        "the erasure's own record"
    );
    let exports: Vec<_> =
        log.iter().filter(|e| e["action"] == "export" && e["reference"] == "DSR-2").collect();
    assert_eq!(
        exports.len(),
        2,
        "the JSON file and the CSV (the refused overwrite exported nothing): {exports:?}"
    );
    assert!(!serde_json::to_string(&log).unwrap().contains(&profile_id), "no erased profile's id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_stripe_events_the_webhook_never_got_then_a_replay_applies_them_once() {
    setup();
    let registration = submit(
        "event-registration",
        json!({"name": "Replay Person", "email": unique_email("replay"), "phone": "+442079460321", "job_title": "CTO",
               "company": "Acme", "country": "GB", "state": "GB-LND", "event": "wso2con-2027"}),
    )
    .await;
    let profile_id = registration["profile_id"].as_str().unwrap().to_owned();
    let registration_id = registration["submission_id"].as_str().unwrap().to_owned();
    let started = steward_blackbox::start_payment(&registration["payment"]["token"]).await;
    let intent = started["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
    // The webhook endpoint is "down" for this payment's events.
    let hold = http()
        .post(steward_blackbox::stripe("/_emulator/undeliverable"))
        .form(&[("match", &intent)])
        .send()
        .await
        .unwrap();
    assert_eq!(hold.status(), StatusCode::OK);
    confirm_with_card(&started, "4242424242424242").await;
    let (pk, sk) = keys::payment(&profile_id, &registration_id);
    let status = || async {
        stack()
            .item(pk.clone(), sk.clone())
            .await
            .and_then(|i| i.get("status").and_then(|v| v.as_s().ok()).cloned())
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_ne!(status().await.as_deref(), Some("succeeded"), "the webhook did not get it");

    // One event first (a first wave), then the rest; the run says how far it got.
    let first = succeeded(&admin(&["replay-stripe", "--since", "10m", "--limit", "1"]));
    assert!(first.contains("1 not seen before") && first.contains("--limit"), "{first}");
    let rest = succeeded(&admin(&["replay-stripe", "--since", "10m"]));
    assert!(rest.contains("done"), "{rest}");
    eventually("the replay applied the payment's success", || async {
        status().await.as_deref() == Some("succeeded")
    })
    .await;

    let again = succeeded(&admin(&["replay-stripe", "--since", "10m"]));
    assert!(again.contains(" 0 not seen before: 0 applied"), "nothing applies twice: {again}");
    // Stripe's own retries stayed undeliverable until now, so that only the replay applied them.
    http()
        .post(steward_blackbox::stripe("/_emulator/undeliverable"))
        .form(&[("match", "")])
        .send()
        .await
        .unwrap();
    let bad = admin(&["replay-stripe", "--since", "last tuesday"]);
    assert!(!bad.status.success() && stderr(&bad).contains("--since"), "{}", stderr(&bad));
    assert!(audit_log()
        .iter()
        .any(|e| e["action"] == "replay-stripe" && e["counts"]["applied"].as_u64() >= Some(1)));
}

/// Confirmed subscribers of a topic: each signed up with the newsletter form (so that the
/// retention sweep keeps them) and confirmed.
async fn subscribers(topic: &str, count: usize) -> Vec<(String, ProfileId)> {
    let mut signups = tokio::task::JoinSet::new();
    let mut people = vec![];
    for _ in 0..count {
        let topic = topic.to_owned();
        signups.spawn(async move {
            let email = unique_email("wave");
            let receipt = submit("newsletter", json!({"email": email, "interests": [topic]})).await;
            (email, ProfileId::from_stored(receipt["profile_id"].as_str().unwrap().to_owned()))
        });
        while signups.len() >= 8 {
            people.push(signups.join_next().await.unwrap().unwrap());
        }
    }
    while let Some(signup) = signups.join_next().await {
        people.push(signup.unwrap());
    }
    let store = local_store();
    for (_, profile_id) in &people {
        let confirmed = store
            .change_preferences(
                profile_id,
                &PreferenceChange::Confirm {
                    topics: std::collections::BTreeSet::from([topic.to_owned()]),
                    click: steward_core::domain::mail::preferences::ClickEvidence {
                        source_ip: "192.0.2.1".into(),
                        user_agent: None,
                        policy_version: "2018-03-23".into(),
                    },
                },
                ChangeSource::Confirmation,
                "t",
            )
            .await
            .unwrap();
        assert!(confirmed.is_some_and(|p| p.topics.contains(topic)));
    }
    people
}

/// Each of these people is owed the campaign exactly once: its message is queued or was sent.
async fn assert_owed_once(campaign: &str, people: &[(String, ProfileId)]) {
    for (_, profile_id) in people {
        let id = format!("campaign-{campaign}-{profile_id}");
        let (queue, key) = keys::outbox(&id);
        let queued = stack().item(queue, key).await.is_some();
        // A sent message's marker is keyed by a keyed hash of its id (which names the person).
        let (pk, sk) = keys::outbox_sent(&stack().hash_key().pseudonym("outbox-sent", &id));
        let sent = stack().item(pk, sk).await.is_some();
        assert!(queued || sent, "{id} is owed");
    }
}

/// `<new> newly queued, <already> already queued` from a campaign's summary.
fn counts_of(summary: &str) -> (usize, usize) {
    let number = |marker: &str| -> usize {
        summary.split(marker).next().unwrap().rsplit([' ', ':']).next().unwrap().parse().unwrap()
    };
    (number(" newly queued"), number(" already queued"))
}

fn campaign_args<'a>(id: &'a str, topic: &'a str, body: &'a str) -> Vec<&'a str> {
    vec!["campaign", "--id", id, "--topic", topic, "--subject", "A wave", "--body-file", body]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_campaign_stopped_at_a_limit_or_by_ctrl_c_then_running_it_again_queues_the_rest_once() {
    setup();
    let body = std::env::temp_dir().join(format!("wave-{}.txt", uuid::Uuid::new_v4().simple()));
    std::fs::write(&body, "Hello!\n\nA wave.").unwrap();
    let body = body.to_str().unwrap();

    // A first wave of two, then the rest.
    let wave = subscribers("identity", 5).await;
    let id = format!("wave-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let first = succeeded(&admin(&[campaign_args(&id, "identity", body), vec!["--limit", "2"]].concat()));
    assert!(first.contains("--limit"), "{first}");
    assert_eq!(counts_of(&first).0, 2, "{first}");
    let rest = succeeded(&admin(&campaign_args(&id, "identity", body)));
    let (new, already) = counts_of(&rest);
    assert!(already == 2 && new >= 3, "{rest}");
    assert_owed_once(&id, &wave).await;

    // A limit that reaches the last subscriber leaves nothing to carry on: the run is done.
    // Nothing else in this file subscribes to api-management.
    let wave = subscribers("api-management", 3).await;
    let whole_id = format!("wave-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let whole =
        succeeded(&admin(&[campaign_args(&whole_id, "api-management", body), vec!["--limit", "3"]].concat()));
    assert!(whole.contains("; done.") && !whole.contains("--limit"), "{whole}");
    assert_eq!(counts_of(&whole), (3, 0), "{whole}");
    assert_owed_once(&whole_id, &wave).await;

    // Ctrl-C part-way: the run stops after the message in hand, says so, and exits 130.
    let wave = subscribers("integration", 150).await;
    let id = format!("wave-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut child = admin_command()
        .args(campaign_args(&id, "integration", body))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut progress = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    progress.read_line(&mut line).unwrap();
    assert!(line.starts_with("queuing campaign"), "{line}");
    // It has said it started, so it catches the signal; sent now, the signal comes long before
    // the 150th message, however slow this machine is.
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let output = child.wait_with_output().unwrap();
    let summary = stdout(&output);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut progress, &mut rest).unwrap();
    assert_eq!(output.status.code(), Some(130), "{summary}\n{line}{rest}");
    assert!(summary.contains("interrupted: run the same command again"), "{summary}");
    let (queued, _) = counts_of(&summary);
    assert!(queued < 150, "{summary}");
    let resumed = succeeded(&admin(&campaign_args(&id, "integration", body)));
    let (new, already) = counts_of(&resumed);
    assert!(already == queued && new + already >= 150, "{resumed}");
    assert_owed_once(&id, &wave).await;
    let log = audit_log();
    let runs: Vec<&str> =
        log.iter().filter(|e| e["subject"] == id.as_str()).map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(runs, ["interrupted", "ok"]);
    assert!(log.iter().any(|e| e["subject"] == whole_id.as_str() && e["outcome"] == "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_expired_items_then_the_sweep_runs_now_and_reports_what_it_deleted() {
    setup();
    let marker = format!("OUTBOX_SENT#expired-{}", uuid::Uuid::new_v4().simple());
    stack()
        .dynamodb()
        .put_item()
        .table_name(&stack().table)
        .item("pk", AttributeValue::S(marker.clone()))
        .item("sk", AttributeValue::S("SENT".into()))
        .item("type", AttributeValue::S("outbox_sent".into()))
        .item("expires_at", AttributeValue::N("1000".into()))
        .send()
        .await
        .unwrap();
    let swept = succeeded(&admin(&["sweep"]));
    assert!(swept.starts_with("sweep: deleted") && swept.ends_with("done\n"), "{swept}");
    assert!(swept.contains(" outbox_sent"), "{swept}");
    assert!(stack().item(marker.clone(), "SENT".into()).await.is_none(), "deleted by the command itself");
    assert!(audit_log().iter().any(|e| e["action"] == "sweep" && e["outcome"] == "ok"));
}

#[test]
fn given_every_command_then_help_explains_it() {
    setup();
    let top = succeeded(&admin(&["--help"]));
    for command in
        ["find", "history", "export", "erase", "cv-link", "replay-stripe", "sweep", "campaign", "audit"]
    {
        assert!(top.contains(command), "{command} in --help");
        let help = succeeded(&admin(&[command, "--help"]));
        assert!(help.contains("Usage: steward-admin") && help.contains("--stack"), "{command}: {help}");
    }
    assert!(top.contains("Ctrl-C"), "the long help says how runs stop and resume");
    let missing = admin_command().env_remove("STEWARD_STACK").args(["sweep"]).output().unwrap();
    assert!(!missing.status.success() && stderr(&missing).contains("--stack"), "{}", stderr(&missing));
}
