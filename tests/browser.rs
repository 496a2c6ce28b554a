//! End-to-end, in a real browser: Debian's chromium, headless, driven by playwright-core
//! (`e2e/run.mjs`), against the local stack and its reference site. Every flow checks each page
//! it visits with axe-core, and keeps a screenshot of each in `target/e2e-artifacts/`.

use std::process::Command;

use serde_json::Value;
use steward_blackbox::{campaign, root, stack, stack_with, use_stack, Stack};

/// Runs one flow of `e2e/run.mjs` in a phone's window and returns what it reported.
fn flow(name: &str, env: &[(&str, &str)]) -> Value {
    run_flow(name, env)
}

/// The same, in a desktop's window.
fn on_desktop(name: &str) -> Value {
    run_flow(name, &[("STEWARD_VIEWPORT", "1280x800")])
}

/// The browser tests' stack: every flow's pages come from one address (the browser's), as many
/// visitors behind one network would, so its per-address limit is a crowd's, not one person's.
fn browser_stack() -> &'static Stack {
    static STACK: std::sync::OnceLock<Stack> = std::sync::OnceLock::new();
    STACK.get_or_init(|| stack_with(&["RateLimitPerIp=300"]))
}

fn run_flow(name: &str, env: &[(&str, &str)]) -> Value {
    use_stack(Some(browser_stack()));
    let artifacts = stack().bin_dir.parent().expect("the target directory").join("e2e-artifacts");
    let output = Command::new("node")
        .arg(root().join("e2e/run.mjs"))
        .arg(name)
        .env("STEWARD_SITE", &stack().site)
        .env("STEWARD_API", &stack().api)
        .env("STEWARD_ARTIFACTS", &artifacts)
        .envs(env.iter().copied())
        .output()
        .expect("node runs (make setup installs e2e/node_modules and chromium)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "flow {name} failed (screenshots in {}):\n{stdout}\n{}",
        artifacts.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let result = stdout.lines().rev().find_map(|l| l.strip_prefix("RESULT ")).expect("the flow reports");
    serde_json::from_str(result).expect("a JSON report")
}

#[test]
fn a_plain_form_without_javascript_posts_and_lands_on_the_thank_you_page() {
    let result = flow("contact_without_javascript", &[]);
    let email = result["email"].as_str().unwrap();
    assert!(tokio_runtime().block_on(stack().profile(email)).is_some(), "stored");
}

#[test]
fn without_javascript_the_paid_and_careers_forms_say_what_their_next_step_needs_before_and_after() {
    let result = flow("next_steps_without_javascript", &[]);
    let email = result["email"].as_str().unwrap();
    assert!(tokio_runtime().block_on(stack().profile(email)).is_some(), "both were stored");
}

/// Every journey that works at a phone's width works at a desktop's, and its pages pass axe there.
#[test]
fn the_journeys_hold_at_a_desktops_width_too() {
    for journey in [
        "forms_with_javascript",
        "careers_cv_upload",
        "event_payment",
        "privacy_center_erasure",
        "german_journey",
        "console_privacy_team",
    ] {
        on_desktop(journey);
    }
}

#[test]
fn with_javascript_errors_show_beside_their_fields_and_forms_go_through_without_a_reload() {
    let result = flow("forms_with_javascript", &[]);
    assert!(result["accessibility"].as_array().unwrap().len() >= 6, "every page was checked");
}

#[test]
fn a_german_visitor_is_answered_in_german_on_the_site_by_steward_and_by_mail() {
    let result = flow("german_journey", &[]);
    let email = result["email"].as_str().unwrap();
    assert!(tokio_runtime().block_on(stack().profile(email)).is_some(), "stored");
}

#[test]
fn an_applicant_uploads_a_cv_straight_to_s3_and_the_page_waits_for_its_verdict() {
    flow("careers_cv_upload", &[]);
}

#[test]
fn a_declined_card_is_explained_a_card_the_bank_must_confirm_pays_and_nothing_paid_is_offered_again() {
    flow("event_payment", &[]);
}

#[test]
fn a_subscriber_confirms_by_mail_and_unsubscribes_with_one_click_from_a_campaign() {
    let subscribed = flow("newsletter_confirmed", &[]);
    let email = subscribed["email"].as_str().unwrap().to_owned();
    campaign(&format!("browser-{}", uuid::Uuid::new_v4().simple()), "cloud");
    flow("unsubscribe_from_mail", &[("STEWARD_EMAIL", &email)]);
    let profile = tokio_runtime().block_on(stack().profile(&email)).unwrap();
    let topics = profile.get("marketing_topics").and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default();
    assert!(!topics.contains(&"cloud".to_owned()), "unsubscribed from the campaign's topic");
}

#[test]
fn a_person_signs_in_corrects_and_erases_their_data_from_the_privacy_center() {
    let result = flow("privacy_center_erasure", &[]);
    let email = result["email"].as_str().unwrap();
    assert!(tokio_runtime().block_on(stack().profile(email)).is_none(), "erased");
}

/// The privacy team's day, in the staff console's pages: signed in with password and app code, a
/// request received by mail is entered, verified, and answered by erasure, which closes it; the
/// yearly report downloads; the audit log lists every step under their name.
#[test]
fn in_the_console_the_privacy_team_answers_a_request_by_mail_with_erasure() {
    let result = flow("console_privacy_team", &[]);
    let email = result["email"].as_str().unwrap();
    assert!(tokio_runtime().block_on(stack().profile(email)).is_none(), "the person is erased");
    assert_eq!(result["state"], "Done");
    assert!(result["outcome"].as_str().unwrap().starts_with("erased:"), "{result}");
    for action in ["enter-request", "request-verify", "erase", "request-erase", "download-requests-report"] {
        assert!(result["audited"][action].as_u64().unwrap_or(0) >= 1, "{action} audited: {result}");
    }
    assert_console_pages_checked(&result, 8);
}

/// A recruiter finds an applicant by address and downloads the CV they uploaded, from S3.
#[test]
fn in_the_console_a_recruiter_finds_an_applicant_and_downloads_their_verified_cv() {
    let result = flow("console_recruiter", &[]);
    let sent = std::fs::read(root().join("tests/fixtures/cv/cv.pdf")).unwrap();
    assert_eq!(result["cv"]["bytes"].as_u64(), Some(sent.len() as u64), "{result}");
    assert_eq!(result["cv"]["expires_seconds"], 300);
    assert_console_pages_checked(&result, 5);
}

/// An events manager sees a paying attendee of an event with the payment's state.
#[test]
fn in_the_console_an_events_manager_sees_an_attendee_and_their_payment() {
    let result = flow("console_events_manager", &[]);
    assert_eq!(result["payment"], "succeeded", "{result}");
    let email = result["email"].as_str().unwrap();
    assert!(tokio_runtime().block_on(stack().profile(email)).is_some(), "registered");
    assert_console_pages_checked(&result, 6);
}

/// Each console page the flow visited passed axe (the flow fails on a serious violation); at
/// least `pages` of them were checked.
fn assert_console_pages_checked(result: &Value, pages: usize) {
    let checked = result["accessibility"].as_array().unwrap();
    let console = checked.iter().filter(|c| c["url"].as_str().unwrap_or("").contains("/console")).count();
    assert!(console >= pages, "{console} console pages checked: {checked:?}");
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}
