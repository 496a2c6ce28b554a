//! Many identical or conflicting requests at once end exactly as they would one at a time.

use futures_like::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{http, link, s, stack, unique_email, unique_ip, wait_for_mail};
use steward_core::domain::ids::ProfileId;

mod futures_like {
    /// Runs every future concurrently on the test's runtime and collects their outputs in order.
    pub async fn join_all<T: Send + 'static>(
        futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>>,
    ) -> Vec<T> {
        let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
        let mut outputs = Vec::new();
        for handle in handles {
            outputs.push(handle.await.expect("the request task"));
        }
        outputs
    }
}

async fn submit(form: &str, body: Value, idempotency_key: Option<String>) -> (StatusCode, Value) {
    let mut request = http()
        .post(stack().url(&format!("/forms/{form}")))
        .header("accept", "application/json")
        .header("x-local-source-ip", unique_ip());
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let response = request.json(&body).send().await.unwrap();
    (response.status(), response.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn given_one_idempotency_key_sent_eight_times_at_once_then_one_submission_and_one_answer() {
    let email = unique_email("same-key");
    let key = uuid::Uuid::new_v4().simple().to_string();
    let body = json!({"name": "Zoë", "email": email, "message": "Once"});
    let answers: Vec<(StatusCode, Value)> = join_all(
        (0..8).map(|_| Box::pin(submit("contact-us", body.clone(), Some(key.clone()))) as _).collect(),
    )
    .await;
    for (status, _) in &answers {
        assert_eq!(*status, StatusCode::CREATED);
    }
    let ids: std::collections::BTreeSet<_> =
        answers.iter().map(|(_, a)| a["submission_id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "one submission id for all: {ids:?}");
    let profile = stack().profile(&email).await.expect("one profile");
    assert_eq!(stack().submissions(s(&profile, "profile_id")).await.len(), 1, "one submission stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn given_one_unsubscribe_link_clicked_eight_times_at_once_then_each_answer_is_the_same_and_the_topic_is_gone(
) {
    let email = unique_email("many-clicks");
    submit("newsletter", json!({"email": email, "interests": ["cloud"]}), None).await;
    let mail = wait_for_mail(&email, "onfirm").await;
    let token = link(&mail.text, "/subscriptions/confirm?token=").split("token=").nth(1).unwrap().to_owned();
    http().post(stack().url("/subscriptions/confirm")).form(&[("token", token)]).send().await.unwrap();
    let profile = stack().profile(&email).await.unwrap();
    let keys = stack().token_keys();
    let unsubscribe = keys.sign(
        steward_core::token::Purpose::Unsubscribe,
        "cloud",
        &ProfileId::from_stored(s(&profile, "profile_id").to_owned()),
        None,
    );
    let click = |token: String| async move {
        http()
            .post(stack().url(&format!("/unsubscribe?token={token}")))
            .form(&[("List-Unsubscribe", "One-Click")])
            .send()
            .await
            .unwrap()
            .status()
    };
    let statuses: Vec<StatusCode> =
        join_all((0..8).map(|_| Box::pin(click(unsubscribe.clone())) as _).collect()).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    let profile = stack().profile(&email).await.unwrap();
    let topics = profile.get("marketing_topics").and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default();
    assert!(!topics.contains(&"cloud".to_owned()), "unsubscribed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn given_an_erasure_racing_new_submissions_then_nothing_of_the_old_profile_is_left() {
    let email = unique_email("racing");
    submit("contact-us", json!({"name": "Zoë Racer", "email": email, "message": "Hi"}), None).await;
    let old_profile = s(&stack().profile(&email).await.expect("a profile"), "profile_id").to_owned();
    let session = stack().session_for(&old_profile).await;

    // Submissions arriving all through the erasure can make it answer 503: a client tries again.
    let erase = async move {
        for _ in 0..10 {
            let response = http().delete(stack().url("/me")).bearer_auth(&session).send().await.unwrap();
            if response.status().is_success() {
                return Value::Null;
            }
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!("the erasure never finished");
    };
    let mut racers: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Value> + Send>>> =
        vec![Box::pin(erase)];
    for n in 0..3 {
        let body = json!({"name": "Zoë Racer", "email": email, "message": format!("Race {n}")});
        racers.push(Box::pin(async move { submit("contact-us", body, None).await.1 }));
    }
    join_all(racers).await;

    // One at a time, each submission lands either before the erasure (and is erased with the old
    // profile) or after it (on a new profile): nothing may remain under the old profile.
    let partition = format!("PROFILE#{old_profile}");
    let left: Vec<_> = stack()
        .scan_all()
        .await
        .into_iter()
        .filter(|i| i.get("pk").and_then(|v| v.as_s().ok()) == Some(&partition))
        .collect();
    assert!(left.is_empty(), "orphaned under the erased profile: {left:?}");
    if let Some(profile) = stack().profile(&email).await {
        assert_ne!(s(&profile, "profile_id"), old_profile, "a new profile, not the erased one");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_cloud_sign_up_replayed_with_its_key_and_another_plan_then_422_and_no_grant_for_it() {
    let email = unique_email("plan-swap");
    let key = format!("swap-{}", uuid::Uuid::new_v4().simple());
    let sign_up = |plan: &str| {
        json!({"name": "Pat", "email": email, "phone": "+44 20 7946 0958", "job_title": "CTO",
               "company": "Acme", "country": "GB", "state": "GB-LND", "plan": plan})
    };
    let (status, first) = submit("cloud-signup", sign_up("cloud-starter"), Some(key.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, again) = submit("cloud-signup", sign_up("cloud-starter"), Some(key.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "the same request is replayed");
    assert_eq!(again["submission_id"], first["submission_id"]);

    let (status, swapped) = submit("cloud-signup", sign_up("cloud-business"), Some(key)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{swapped}");
    assert_eq!(swapped["errors"][0]["field"], "Idempotency-Key", "{swapped}");
    assert!(swapped.get("payment").is_none(), "no payment grant for the other plan: {swapped}");
}
