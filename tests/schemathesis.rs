//! Its own test binary, so its own local stack (with rate limits out of the way): schemathesis
//! generates requests from infra/openapi.yaml — valid ones, and invalid ones on purpose — for
//! every operation and checks every answer: never a 5xx, and always a status, content type and
//! body that the document describes. Signed in as a real person, so the privacy center's routes
//! are exercised past authentication (erasure included).

use serde_json::json;
use steward_blackbox::{http, stack, unique_email, with_profile_read_back};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_openapi_document_then_generated_requests_get_no_server_error_and_conform_to_it() {
    // Schemathesis sends thousands of requests from one address and a few made-up emails.
    std::env::set_var(
        "STEWARD_STACK_SET",
        "RateLimitPerIp=1000000,RateLimitPerEmail=1000000,RateLimitPerEmailPerDay=1000000",
    );
    let email = unique_email("schemathesis");
    let response = http()
        .post(stack().url("/forms/contact-us"))
        .json(&json!({"name": "Sam Schema", "email": email, "message": "Hello"}))
        .send()
        .await
        .unwrap();
    let receipt = with_profile_read_back(response.json().await.unwrap(), &email).await;
    let profile_id = receipt["profile_id"].as_str().expect("a profile").to_owned();
    let session = stack().session_for(&profile_id).await;

    let st = std::env::var("STEWARD_SCHEMATHESIS")
        .unwrap_or_else(|_| steward_blackbox::root().join(".venv/schemathesis/bin/st").display().to_string());
    // A fixed seed, so that CI is reproducible; SCHEMATHESIS_SEED explores further.
    let seed = std::env::var("SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".to_owned());
    let examples = std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "20".to_owned());
    let api = stack().api.clone();
    // A fresh working directory: schemathesis replays the failures it cached there first, which
    // helps at a desk but would make this test depend on earlier runs.
    let workdir = stack().log_dir.join("schemathesis");
    let _ = std::fs::remove_dir_all(&workdir);
    std::fs::create_dir_all(&workdir).unwrap();
    // Erasure first would leave every other privacy route only an erased person to answer for,
    // so the erasing operations run last, on their own.
    let erasing = ["eraseMe", "meForm"];
    let mut everything_else = vec![];
    let mut only_erasing = vec![];
    for id in erasing {
        everything_else.extend(["--exclude-operation-id".to_owned(), id.to_owned()]);
        only_erasing.extend(["--include-operation-id".to_owned(), id.to_owned()]);
    }
    for filter in [everything_else, only_erasing] {
        let (st, api, workdir, seed, examples, session) =
            (st.clone(), api.clone(), workdir.clone(), seed.clone(), examples.clone(), session.clone());
        let output = tokio::task::spawn_blocking(move || {
            run_schemathesis(&st, &api, &workdir, &seed, &examples, &session, &filter)
        })
        .await
        .unwrap();
        check(&output);
    }
}

fn run_schemathesis(
    st: &str,
    api: &str,
    workdir: &std::path::Path,
    seed: &str,
    examples: &str,
    session: &str,
    filter: &[String],
) -> std::process::Output {
    std::process::Command::new(st)
        .current_dir(workdir)
        .arg("run")
        .arg(steward_blackbox::root().join("infra/openapi.yaml"))
        .args(["--url", api])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing", "--max-examples", examples, "--seed", seed])
        // One worker: with two threads, hypothesis's ast.parse of its own sources raced in
        // CPython 3.11 ("AST constructor recursion depth mismatch", CPython gh-106905) and
        // failed a CI run with a runtime error of the tool, not a finding.
        .args(["--workers", "1", "--request-timeout", "15", "--no-color"])
        .args(["--header", &format!("Authorization: Bearer {session}")])
        .args(filter)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {st} (make setup-schemathesis): {e}"))
}

fn check(output: &std::process::Output) {
    let report = String::from_utf8_lossy(&output.stdout);
    let summary: Vec<&str> = report.lines().rev().take(12).collect();
    println!("{}", summary.into_iter().rev().collect::<Vec<_>>().join("\n"));
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
