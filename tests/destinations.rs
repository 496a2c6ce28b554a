//! Destinations on the whole stack: a contact request reaches the sales inbox (SES), the CRM's
//! webhook receiver (signed as Standard Webhooks says) and the event bus (EventBridge, read from
//! the local stack's tap queue); a receiver down for a while gets every delivery once it is back;
//! erasure reaches every destination and Stripe; the teams list what came in, safely as CSV.

use std::time::Duration;

use serde_json::{json, Value};
use steward_blackbox::*;
use steward_core::domain::destinations::webhook::WebhookSecret;
use steward_core::secret::SecretKey;

/// Every attempt the local webhook receiver saw for the CRM, newest first.
async fn crm_attempts() -> Vec<Value> {
    http()
        .get(stack().url("/_local/webhooks.json"))
        .query(&[("name", "crm")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The CRM's attempts of one event type about one person.
async fn crm_attempts_about(kind: &str, person: &str) -> Vec<Value> {
    crm_attempts()
        .await
        .into_iter()
        .filter(|a| a["type"] == kind && a["body"]["data"]["person_id"] == person)
        .collect()
}

/// Every event the stack's EventBridge tap holds now, taken from it (the queue forgets what it
/// gave: callers keep what they read).
async fn drain_bus() -> Vec<Value> {
    let sqs = stack().sqs();
    let mut taken = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(stack().resource("EventsTapQueue"))
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = received.messages();
        if messages.is_empty() {
            return taken;
        }
        for message in messages {
            taken.push(serde_json::from_str(message.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(stack().resource("EventsTapQueue"))
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

/// Waits until the bus has carried an event that `wanted` picks (tests share the tap: each keeps
/// every event it read), and returns it.
async fn wait_on_bus(what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let seen = std::sync::Mutex::new(Vec::new());
    let (seen, wanted) = (&seen, &wanted);
    eventually_within(DELIVERIES, what, || async move {
        let new = drain_bus().await;
        let mut all = seen.lock().unwrap();
        all.extend(new);
        all.iter().any(wanted)
    })
    .await;
    let all = seen.lock().unwrap();
    all.iter().find(|e| wanted(e)).cloned().unwrap()
}

/// Checks events against their published JSON Schemas (docs/events/<type>.schema.json), as a
/// consumer's validator would.
fn assert_match_their_schemas(events: &[&Value]) {
    let script = r#"
import json, sys
from jsonschema import Draft202012Validator
root, events = sys.argv[1], json.load(sys.stdin)
for event in events:
    schema = json.load(open(f"{root}/docs/events/{event['type']}.schema.json"))
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(event)]
    if errors:
        sys.exit(f"{event['type']}: {errors}")
"#;
    let mut child = std::process::Command::new(python())
        .args(["-c", script, &root().display().to_string()])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("the project's Python runs");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(serde_json::to_string(events).unwrap().as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "the events match their schemas: {events:?}");
}

async fn contact(email: &str, name: &str) -> Value {
    submit_json(
        "contact-us",
        json!({
            "name": name,
            "email": email,
            "phone": "+44 20 7946 0958",
            "company": "Acme",
            "country": "GB",
            "message": "Please call me about API management.",
        }),
    )
    .await
}

const DELIVERIES: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_request_reaches_the_sales_inbox_a_signed_webhook_and_the_event_bus() {
    let email = unique_email("contact");
    let receipt = contact(&email, "Ana Silva").await;
    let submission = receipt["submission_id"].as_str().unwrap().to_owned();
    let person = receipt["profile_id"].as_str().unwrap().to_owned();

    eventually_within(DELIVERIES, "the CRM's receiver got the submission", || async {
        crm_attempts_about("submission.received", &person).await.iter().any(|a| a["status"] == 204)
    })
    .await;
    let attempts = crm_attempts_about("submission.received", &person).await;
    let delivered = attempts.iter().find(|a| a["status"] == 204).unwrap();
    assert_eq!(delivered["signature_valid"], true, "signed with the CRM's own secret: {delivered}");
    let body = &delivered["body"];
    assert_eq!(body["data"]["submission_id"], submission.as_str());
    assert_eq!(body["data"]["fields"]["message"], "Please call me about API management.");
    assert_eq!(body["version"], 1);
    assert_eq!(delivered["webhook_id"], body["id"], "webhook-id is the event's id");

    // The receiver's secret is the one the operator gives it.
    let output = admin(&["deliveries", "secret", "--destination", "crm"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let secret = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let key = SecretKey::new(stack().settings["WEBHOOK_SIGNING_KEY"].clone().into_bytes());
    assert_eq!(secret, WebhookSecret::derive(&key, "crm").reveal());
    assert!(secret.starts_with("whsec_"));

    // The event bus got the same event, with only what its destination may receive.
    let on_bus = wait_on_bus("the event reached the bus", |e| {
        e["detail"]["data"]["submission_id"] == submission.as_str()
    })
    .await;
    assert_eq!(on_bus["source"], "steward");
    assert_eq!(on_bus["detail-type"], "submission.received");
    assert_eq!(on_bus["detail"]["id"], body["id"], "one event id everywhere");
    assert!(on_bus["detail"]["data"]["fields"].get("message").is_none(), "{on_bus}");
    assert_match_their_schemas(&[body, &on_bus["detail"]]);

    // The sales team's inbox, with what it needs and the reference to find it by.
    eventually_within(DELIVERIES, "the sales inbox was told", || async {
        mail_to("sales@wso2.com", "Contact us").await.iter().any(|m| m.text.contains(&submission))
    })
    .await;
    let mail = mail_to("sales@wso2.com", "Contact us")
        .await
        .into_iter()
        .find(|m| m.text.contains(&submission))
        .unwrap();
    assert!(mail.text.contains("Ana Silva") && mail.text.contains("Please call me about API management."));

    // The person sees where it went.
    let session = stack().session_for(&person).await;
    let me: Value =
        http().get(stack().url("/me")).bearer_auth(&session).send().await.unwrap().json().await.unwrap();
    let mut went: Vec<&str> = me["shared_with"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["delivered"] == true)
        .map(|s| s["destination"].as_str().unwrap())
        .collect();
    went.sort();
    assert_eq!(went, ["crm", "event-bus", "sales"], "{me}");
    let page = http()
        .get(stack().url("/me"))
        .header("cookie", format!("steward-session={session}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Where your data went") && page.contains("Our sales team, by mail"), "{page}");
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_delivery_once_it_is_back() {
    // The receiver is down for everything on its stack: this test has a stack of its own, so that
    // the other tests' deliveries never meet its outage (and wait out a retry of minutes). On a
    // current_thread runtime, every helper it calls runs on this thread, with this stack.
    static OWN: std::sync::OnceLock<Stack> = std::sync::OnceLock::new();
    use_stack(Some(OWN.get_or_init(|| stack_with(&[]))));
    let down = http().post(stack().url("/_local/webhooks/crm/down")).send().await.unwrap();
    assert!(down.status().is_success());
    let first = contact(&unique_email("down1"), "Bo").await;
    let second = contact(&unique_email("down2"), "Cy").await;
    let people =
        [first["profile_id"].as_str().unwrap().to_owned(), second["profile_id"].as_str().unwrap().to_owned()];
    for person in &people {
        eventually_within(DELIVERIES, "the CRM was tried while down", || async {
            crm_attempts_about("submission.received", person).await.iter().any(|a| a["status"] == 503)
        })
        .await;
    }
    http().post(stack().url("/_local/webhooks/crm/up")).send().await.unwrap();
    for person in &people {
        eventually_within(DELIVERIES, "the CRM got it once back", || async {
            crm_attempts_about("submission.received", person).await.iter().any(|a| a["status"] == 204)
        })
        .await;
    }
    // Once: nothing delivered is sent again.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for person in &people {
        let attempts = crm_attempts_about("submission.received", person).await;
        assert_eq!(attempts.iter().filter(|a| a["status"] == 204).count(), 1, "{attempts:?}");
        assert!(
            attempts.iter().all(|a| a["webhook_id"] == attempts[0]["webhook_id"]),
            "one id across retries"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_reaches_the_webhook_the_bus_and_stripe_which_cancels_and_deletes_the_customer() {
    let email = unique_email("erase");
    let response = http()
        .post(stack().url("/forms/cloud-signup"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({
            "name": "Dee Erased", "email": email, "phone": "+44 20 7946 0958", "job_title": "CTO",
            "company": "Acme", "country": "GB", "state": "GB-LND", "plan": "cloud-starter",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let receipt: Value = response.json().await.unwrap();
    let receipt = with_profile_read_back(receipt, &email).await;
    let person = receipt["profile_id"].as_str().unwrap().to_owned();
    let started = start_payment(&receipt["payment"]["token"]).await;
    confirm_with_card(&started, "4242424242424242").await;
    let subscription = started["subscription_id"].as_str().unwrap().to_owned();
    eventually_within(DELIVERIES, "the CRM learnt the sign-up is paid", || async {
        !crm_attempts_about("payment.succeeded", &person).await.is_empty()
    })
    .await;
    let billing =
        stack().item(format!("PROFILE#{person}"), "BILLING".into()).await.expect("a Stripe customer");
    let customer = s(&billing, "stripe_customer_id").to_owned();

    // The person is told before they confirm that erasure ends the subscription.
    let session = stack().session_for(&person).await;
    let confirm = http()
        .get(stack().url("/me/delete"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(confirm.contains("Your running subscription will be cancelled at once"), "{confirm}");
    let erased = http().delete(stack().url("/me")).bearer_auth(&session).send().await.unwrap();
    assert_eq!(erased.status(), reqwest::StatusCode::OK);

    eventually_within(DELIVERIES, "the CRM was told of the erasure", || async {
        crm_attempts_about("person.erased", &person).await.iter().any(|a| a["status"] == 204)
    })
    .await;
    let told = crm_attempts_about("person.erased", &person).await;
    assert_eq!(told[0]["signature_valid"], true);
    let data = &told[0]["body"]["data"];
    assert_eq!(data["submission_ids"], json!([receipt["submission_id"]]));
    assert!(
        data.get("fields").is_none() && !told[0]["body"].to_string().contains(&email),
        "no personal data"
    );
    let paid = crm_attempts_about("payment.succeeded", &person).await;
    assert_match_their_schemas(&[&told[0]["body"], &paid[0]["body"]]);

    wait_on_bus("the bus got the erasure", |e| {
        e["detail-type"] == "person.erased" && e["detail"]["data"]["person_id"] == person.as_str()
    })
    .await;

    let stripe_get = |path: String| async move {
        http()
            .get(stripe(&path))
            .bearer_auth(&stack().settings["STRIPE_SECRET_KEY"])
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    eventually_within(DELIVERIES, "Stripe deleted the customer", || async {
        stripe_get(format!("/v1/customers/{customer}")).await["deleted"] == true
    })
    .await;
    assert_eq!(stripe_get(format!("/v1/subscriptions/{subscription}")).await["status"], "canceled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_teams_list_submissions_attendees_and_applicants_and_the_csv_runs_nothing() {
    let email = unique_email("listed");
    let receipt = contact(&email, "=HYPERLINK(\"https://evil.example\",\"Click\")").await;
    let submission = receipt["submission_id"].as_str().unwrap();

    let output = admin(&["submissions", "--form", "contact-us", "--format", "csv", "--ticket", "SALES-1"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("items of the table"), "progress on stderr");
    let csv = String::from_utf8(output.stdout).unwrap();
    let row = csv.lines().find(|line| line.contains(submission)).unwrap_or_else(|| panic!("{csv}"));
    assert!(row.contains("\"'=HYPERLINK("), "a formula is made text: {row}");
    assert!(row.contains("'+442079460958"), "{row}");
    assert!(csv.starts_with("received_at,submission_id,person_id,name,email"), "{csv}");

    let attendee = unique_email("attendee");
    submit_json(
        "event-registration",
        json!({
            "name": "Eve", "email": attendee, "phone": "+44 20 7946 0958", "job_title": "CTO",
            "company": "Acme", "country": "GB", "state": "GB-LND", "event": "identity-workshop",
        }),
    )
    .await;
    let output = admin(&["attendees", "--event", "identity-workshop", "--format", "json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let listed: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let eve = listed.iter().find(|row| row["fields"]["email"] == attendee.as_str()).expect("listed");
    assert_eq!(eve["payment"], "not started");

    let applicant = unique_email("applicant");
    let application = submit_json(
        "careers",
        json!({"name": "Fay", "email": applicant, "phone": "+44 20 7946 0958", "country": "GB", "position": "Rust engineer"}),
    )
    .await;
    let output = admin(&["applicants", "--position", "rust", "--links"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8(output.stdout).unwrap();
    let id = application["submission_id"].as_str().unwrap();
    let line = table.lines().find(|line| line.contains(id)).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("waiting"), "no CV yet: {line}");

    let audit = admin(&["audit", "--json"]);
    let audit = String::from_utf8(audit.stdout).unwrap();
    for action in ["list-submissions", "list-attendees", "list-applicants"] {
        assert!(audit.contains(action), "{action} is in the audit log");
    }
    assert!(audit.contains("SALES-1"));
}
