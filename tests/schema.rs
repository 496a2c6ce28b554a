//! Upgrade safety: items written by the previous version of Steward's item layout (`v`,
//! `SCHEMA_VERSION`) are read, updated, listed and erased by this one.
//!
//! `tests/fixtures/schema/v<N>.json` holds the items a version wrote, through its real code
//! paths against the local stack. When a version changes the layout, run the ignored writer at
//! the old version first (`cargo test -p steward-blackbox --test schema -- --ignored`), commit its
//! file, and let the test below load the newest fixture older than the current version.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use steward_blackbox::{confirm_with_card, http, link, stack, submit_json as submit, wait_for_mail};
use steward_core::adapters::dynamodb::{DynamoStore, SCHEMA_VERSION};
use steward_core::domain::ids::ProfileId;
use steward_core::domain::mail::preferences::{ChangeSource, PreferenceChange, PreferenceStore};
use steward_core::domain::privacy::erasure::{erase, ErasureReason};
use steward_core::domain::privacy::limits::{Limit, LimitStore};

/// The people in the fixture (addresses under example.com; nobody real).
const KEPT: &str = "fixture.kept@example.com";
const ERASED: &str = "fixture.erased@example.com";

fn local_store() -> DynamoStore {
    DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&stack().aws()),
        stack().table.clone(),
        stack().hash_key(),
        std::sync::Arc::new(steward_core::domain::ports::SystemClock),
    )
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// DynamoDB's JSON form of an attribute value, as the AWS CLI prints it.
fn to_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(set) => json!({ "SS": set }),
        AttributeValue::Ns(set) => json!({ "NS": set }),
        AttributeValue::L(list) => json!({ "L": list.iter().map(to_json).collect::<Vec<_>>() }),
        AttributeValue::M(map) => {
            json!({ "M": map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<Map<_, _>>() })
        }
        other => panic!("no fixture form for {other:?}"),
    }
}

fn from_json(value: &Value) -> AttributeValue {
    let (kind, inner) = value.as_object().unwrap().iter().next().unwrap();
    let strings = || inner.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
    match kind.as_str() {
        "S" => AttributeValue::S(inner.as_str().unwrap().to_owned()),
        "N" => AttributeValue::N(inner.as_str().unwrap().to_owned()),
        "BOOL" => AttributeValue::Bool(inner.as_bool().unwrap()),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(strings()),
        "NS" => AttributeValue::Ns(strings()),
        "L" => AttributeValue::L(inner.as_array().unwrap().iter().map(from_json).collect()),
        "M" => AttributeValue::M(
            inner.as_object().unwrap().iter().map(|(k, v)| (k.clone(), from_json(v))).collect(),
        ),
        other => panic!("unknown attribute type {other}"),
    }
}

/// Writes `tests/fixtures/schema/v<SCHEMA_VERSION>.json`: every item this version writes for a
/// person with a rich history (forms, a confirmed subscription and a changed preference, a CV
/// application, a paid event seat, a restriction lifted), and the audit record of another
/// person's erasure. Run it alone, on a fresh local stack, at the version being replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes the fixture of this version; run it before changing the item layout"]
async fn write_the_fixture_of_this_version() {
    let person = json!({"name": "Fixture Kept", "email": KEPT, "phone": "+442079460123", "country": "GB"});
    let with = |extra: Value| {
        let mut body = person.clone();
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let contact = submit("contact-us", with(json!({"message": "Please call me"}))).await;
    let profile_id = ProfileId::from_stored(contact["profile_id"].as_str().unwrap().to_owned());
    submit("careers", with(json!({"position": "Rust engineer"}))).await;
    let registration = submit(
        "event-registration",
        with(json!({"job_title": "CTO", "company": "Acme", "state": "GB-LND", "event": "wso2con-2027"})),
    )
    .await;
    let started = steward_blackbox::start_payment(&registration["payment"]["token"]).await;
    confirm_with_card(&started, "4242424242424242").await;
    submit("newsletter", json!({"email": KEPT, "name": "Fixture Kept", "interests": ["cloud", "events"]}))
        .await;
    let mail = wait_for_mail(KEPT, "confirm").await;
    let token = link(&mail.text, "/subscriptions/confirm").split("token=").nth(1).unwrap().to_owned();
    let confirmed =
        http().post(stack().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let store = local_store();
    let unsubscribe = PreferenceChange::Unsubscribe { topic: Some("events".into()) };
    store.change_preferences(&profile_id, &unsubscribe, ChangeSource::Preferences, "fixture").await.unwrap();
    store.set_limit(&profile_id, Limit::Restrict, true).await.unwrap();
    store.set_limit(&profile_id, Limit::Restrict, false).await.unwrap();

    let erased = submit("newsletter", json!({"email": ERASED, "interests": ["cloud"]})).await;
    let cvs =
        steward_core::adapters::s3::cv_bucket::CvBucket::new(stack().s3(), stack().resource("CvBucket"));
    let erased_id = ProfileId::from_stored(erased["profile_id"].as_str().unwrap().to_owned());
    erase(&store, &cvs, None, &erased_id, ErasureReason::Request, now()).await.unwrap().expect("erased");

    // Let the webhook, the CV-less careers form and the outbox settle.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let mut items: Vec<Value> = stack()
        .scan_all()
        .await
        .iter()
        .filter(|item| !item["pk"].as_s().unwrap().starts_with("RATE#"))
        .map(|item| Value::Object(item.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()))
        .collect();
    items.sort_by_key(|item| (item["pk"].to_string(), item["sk"].to_string()));
    let fixture = json!({
        "schema_version": SCHEMA_VERSION,
        "written_at": now(),
        "profile_id": profile_id,
        "items": items,
    });
    let path = steward_blackbox::root().join(format!("tests/fixtures/schema/v{SCHEMA_VERSION}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&fixture).unwrap() + "\n").unwrap();
    println!("wrote {} items to {}", fixture["items"].as_array().unwrap().len(), path.display());
}

/// Puts a fixture's items into the table, moving every expiry (`expires_at`) by the time since it
/// was written, so that nothing has expired that had not when it was written. (The writer leaves
/// out rate counters: they last minutes.)
async fn load(fixture: &Value) -> HashMap<String, usize> {
    let shift = now() - fixture["written_at"].as_i64().unwrap();
    let client = stack().dynamodb();
    let mut types = HashMap::new();
    for item in fixture["items"].as_array().unwrap() {
        let mut item: HashMap<String, AttributeValue> =
            item.as_object().unwrap().iter().map(|(k, v)| (k.clone(), from_json(v))).collect();
        if let Some(AttributeValue::N(expires)) = item.get("expires_at") {
            let moved = expires.parse::<i64>().unwrap() + shift;
            item.insert("expires_at".into(), AttributeValue::N(moved.to_string()));
        }
        let kind = item.get("type").and_then(|v| v.as_s().ok()).cloned().unwrap_or_else(|| "-".into());
        *types.entry(kind).or_default() += 1;
        client.put_item().table_name(&stack().table).set_item(Some(item)).send().await.unwrap();
    }
    types
}

/// The newest fixture written by a version before this one.
fn previous_fixture() -> Value {
    let previous = SCHEMA_VERSION - 1;
    let path = steward_blackbox::root().join(format!("tests/fixtures/schema/v{previous}.json"));
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(fixture["schema_version"], previous);
    fixture
}

fn admin_ok(args: &[&str]) -> String {
    let output = steward_blackbox::admin(args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{args:?}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_items_written_by_the_previous_version_then_this_version_reads_updates_and_erases_them() {
    let fixture = previous_fixture();
    let types = load(&fixture).await;
    for kind in ["profile", "submission", "payment", "mail_preference_change", "profile_change", "audit"] {
        assert!(types.contains_key(kind), "the fixture holds a {kind}: {types:?}");
    }
    let profile_id = fixture["profile_id"].as_str().unwrap();

    // Read: what the person sees of themselves (GET /me and exports read the same) and the
    // operator's views.
    let found = admin_ok(&["find", "--email", KEPT]);
    assert!(found.contains(profile_id), "{found}");
    assert!(
        found.contains("4 submissions, 1 payments, 2 mail preference changes, 2 profile changes"),
        "{found}"
    );
    let everything: Value = serde_json::from_str(&admin_ok(&["find", "--email", KEPT, "--json"])).unwrap();
    assert_eq!(everything["profile"]["full_name"], "Fixture Kept");
    assert_eq!(everything["payments"][0]["status"], "succeeded");
    let forms: Vec<&str> =
        everything["submissions"].as_array().unwrap().iter().map(|s| s["form"].as_str().unwrap()).collect();
    for form in ["contact-us", "careers", "event-registration", "newsletter"] {
        assert!(forms.contains(&form), "{forms:?}");
    }
    let history = admin_ok(&["history", "--profile", profile_id]);
    assert!(history.contains("payment") && history.contains("succeeded"), "{history}");
    let preferences = local_store()
        .preferences(&ProfileId::from_stored(profile_id.to_owned()))
        .await
        .unwrap()
        .expect("the profile's preferences");
    assert!(
        preferences.topics.contains("cloud") && !preferences.topics.contains("events"),
        "{preferences:?}"
    );

    // Update: the person comes back; their version 1 profile takes the submission and is now
    // written by this version, while what was not rewritten keeps its version.
    let receipt =
        submit("contact-us", json!({"name": "Fixture Kept", "email": KEPT, "message": "Back again"})).await;
    assert_eq!(receipt["profile_id"], profile_id, "the same person, the same profile");
    let profile = stack().profile(KEPT).await.unwrap();
    assert_eq!(profile["v"].as_n().unwrap(), &SCHEMA_VERSION.to_string());
    let submissions = stack().submissions(profile_id).await;
    assert_eq!(submissions.len(), 5);
    assert_eq!(submissions.iter().filter(|s| s["v"].as_n().unwrap() == "1").count(), 4);

    // The audit log reads version 1's erasure record, which named no actor.
    let month =
        &fixture["items"].as_array().unwrap().iter().find(|i| i["type"]["S"] == "audit").unwrap()["pk"]["S"];
    let since = month.as_str().unwrap().trim_start_matches("AUDIT#");
    let log: Vec<Value> = serde_json::from_str(&admin_ok(&["audit", "--since", since, "--json"])).unwrap();
    let erasure =
        log.iter().find(|e| e["action"] == "erasure" && e["schema_version"] == 1).expect("the v1 record");
    assert_eq!(erasure["actor"], "person");
    assert!(erasure["counts"]["items_deleted"].as_u64().unwrap() >= 1, "{erasure}");

    // Erase: everything of either version goes, the payment record stays, stripped.
    let erased = admin_ok(&["erase", "--email", KEPT, "--ticket", "UPGRADE-1", "--yes", "--no-mail"]);
    assert!(erased.contains("1 payment records kept"), "{erased}");
    assert!(stack().profile(KEPT).await.is_none());
    let left = stack().scan_all().await;
    let partition = format!("PROFILE#{profile_id}");
    let kept: Vec<_> = left.iter().filter(|i| i["pk"].as_s().unwrap() == &partition).collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(
        kept[0]["sk"].as_s().unwrap().starts_with("PAYMENT#") && !kept[0].contains_key("stripe_customer_id")
    );
}
