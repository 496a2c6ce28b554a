//! Careers CVs through the real local stack: apply, get a presigned POST, upload straight to S3,
//! and let verify-cv (fed by the bucket's notifications through SQS) check and record the file.

use std::time::SystemTime;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use steward_blackbox::{
    eventually, http, map, post_to_bucket, s, stack, unique_email, unique_ip, wait_for_mail, Item,
};
use steward_core::adapters::dynamodb::keys;
use steward_core::domain::ids::ProfileId;
use steward_core::token::{KeyRing, Purpose, TokenKeys};

const PDF: &str = "application/pdf";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(steward_blackbox::root().join("tests/fixtures/cv").join(name)).expect("fixture")
}

struct Application {
    email: String,
    submission_id: String,
    profile_id: String,
    token: String,
}

async fn apply() -> Application {
    let email = unique_email("applicant");
    let response = http()
        .post(stack().url("/forms/careers"))
        .header("x-local-source-ip", unique_ip())
        .json(&json!({
            "name": "Zoë Ñúñez",
            "email": email,
            "phone": "+44 20 7946 0958",
            "country": "GB",
            "position": "Rust engineer",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(receipt["cv_upload"]["url"], "/careers/cv-upload");
    Application {
        submission_id: receipt["submission_id"].as_str().unwrap().to_owned(),
        // The answer names no profile: read back which one it landed on, as an operator would.
        profile_id: s(&stack().profile(&email).await.expect("a profile"), "profile_id").to_owned(),
        email,
        token: receipt["cv_upload"]["token"].as_str().unwrap().to_owned(),
    }
}

async fn request_upload(token: &str, content_type: &str, file_name: &str) -> reqwest::Response {
    http()
        .post(stack().url("/careers/cv-upload"))
        .json(&json!({"token": token, "content_type": content_type, "file_name": file_name}))
        .send()
        .await
        .unwrap()
}

async fn application_item(app: &Application) -> Item {
    let (pk, sk) = keys::submission(&app.profile_id, &app.submission_id);
    stack().item(pk, sk).await.expect("the application is stored")
}

async fn cv_status(app: &Application) -> Item {
    eventually("the CV was checked", || async { application_item(app).await.contains_key("cv") }).await;
    map(&application_item(app).await, "cv").clone()
}

/// verify-cv records the check, then tags the object: the tag can come a moment after the record.
async fn tagged_verified(key: &str) {
    eventually("the object was tagged cv-status=verified", || async {
        stack()
            .s3()
            .get_object_tagging()
            .bucket(stack().resource("CvBucket"))
            .key(key)
            .send()
            .await
            .is_ok_and(|tags| {
                tags.tag_set().iter().any(|t| t.key() == "cv-status" && t.value() == "verified")
            })
    })
    .await;
}

async fn versions_under(prefix: &str) -> usize {
    let listing = stack()
        .s3()
        .list_object_versions()
        .bucket(stack().resource("CvBucket"))
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    listing.versions().len() + listing.delete_markers().len()
}

async fn upload_cv(app: &Application, bytes: Vec<u8>, content_type: &str, file_name: &str) -> Value {
    let response = request_upload(&app.token, content_type, file_name).await;
    assert_eq!(response.status(), StatusCode::OK);
    let post: Value = response.json().await.unwrap();
    assert_eq!(post_to_bucket(&post, bytes, content_type).await, StatusCode::CREATED);
    post
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_real_pdf_when_uploaded_then_it_is_verified_with_type_size_and_hash() {
    let app = apply().await;
    let pdf = fixture("cv.pdf");
    let post = upload_cv(&app, pdf.clone(), PDF, "Zoë CV.pdf").await;
    let cv = cv_status(&app).await;
    assert_eq!(s(&cv, "status"), "verified");
    assert_eq!(s(&cv, "media_type"), PDF);
    assert_eq!(cv["size"].as_n().unwrap(), &pdf.len().to_string());
    assert_eq!(s(&cv, "sha256"), hex::encode(Sha256::digest(&pdf)));
    assert_eq!(s(&cv, "key"), post["key"].as_str().unwrap());
    assert_eq!(
        s(&cv, "file_name"),
        "Zo%C3%AB CV.pdf",
        "the browser's name is kept only as sanitised metadata"
    );

    tagged_verified(post["key"].as_str().unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_real_docx_when_uploaded_then_it_is_verified() {
    let app = apply().await;
    upload_cv(&app, fixture("cv.docx"), DOCX, "cv.docx").await;
    let cv = cv_status(&app).await;
    assert_eq!(s(&cv, "status"), "verified");
    assert_eq!(s(&cv, "media_type"), DOCX);
}

async fn assert_rejected_and_removed(bytes: Vec<u8>, content_type: &str, reason: &str) {
    let app = apply().await;
    let post = upload_cv(&app, bytes, content_type, "cv.pdf").await;
    let cv = cv_status(&app).await;
    assert_eq!(s(&cv, "status"), "rejected");
    assert!(s(&cv, "reason").contains(reason), "{:?}", cv["reason"]);
    let key = post["key"].as_str().unwrap();
    eventually("the rejected object was deleted", || async { versions_under(key).await == 0 }).await;
    // The applicant is told by mail too, and why (the page may be closed); never the file's name,
    // which is whoever uploaded it's to choose.
    let told = wait_for_mail(&app.email, "We could not accept your CV").await;
    assert!(told.text.contains(reason) && !told.text.contains("cv.pdf"), "{}", told.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_executable_renamed_pdf_then_it_is_rejected_and_removed() {
    assert_rejected_and_removed(fixture("program-renamed.pdf"), PDF, "not an allowed document type").await;
}

/// What S3 answers a browser upload its signed policy does not allow: nothing is stored.
async fn assert_refused_by_the_policy(
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
    status: StatusCode,
    code: &str,
) {
    let app = apply().await;
    let response = request_upload(&app.token, PDF, "cv.pdf").await;
    let mut post: Value = response.json().await.unwrap();
    for (name, value) in fields {
        post["fields"][*name] = json!(value);
    }
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in post["fields"].as_object().unwrap() {
        form = form.text(name.clone(), value.as_str().unwrap().to_owned());
    }
    form =
        form.part("file", reqwest::multipart::Part::bytes(bytes).file_name("cv.pdf").mime_str(PDF).unwrap());
    let answer = http().post(post["url"].as_str().unwrap()).multipart(form).send().await.unwrap();
    assert_eq!(answer.status(), status);
    assert!(answer.text().await.unwrap().contains(&format!("<Code>{code}</Code>")));
    assert_eq!(versions_under(&format!("cv/{}/", app.submission_id)).await, 0, "nothing stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_empty_file_then_s3_refuses_it_under_the_policy() {
    assert_refused_by_the_policy(Vec::new(), &[], StatusCode::BAD_REQUEST, "EntityTooSmall").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_oversize_file_then_s3_refuses_it_under_the_policy() {
    let max: usize = stack().settings["CvMaxBytes"].parse().unwrap();
    let mut big = fixture("cv.pdf");
    big.resize(max + 1, b' ');
    assert_refused_by_the_policy(big, &[], StatusCode::BAD_REQUEST, "EntityTooLarge").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_browser_that_changes_the_key_or_type_or_adds_a_field_then_s3_refuses_the_upload() {
    let forbidden = StatusCode::FORBIDDEN;
    assert_refused_by_the_policy(
        fixture("cv.pdf"),
        &[("key", "cv/someone-else/cv.pdf")],
        forbidden,
        "AccessDenied",
    )
    .await;
    assert_refused_by_the_policy(
        fixture("cv.pdf"),
        &[("Content-Type", "text/html")],
        forbidden,
        "AccessDenied",
    )
    .await;
    assert_refused_by_the_policy(fixture("cv.pdf"), &[("acl", "public-read")], forbidden, "AccessDenied")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_pdf_declared_as_docx_then_it_is_rejected() {
    assert_rejected_and_removed(fixture("cv.pdf"), DOCX, "declared").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_upload_request_then_the_policy_pins_key_type_size_encryption_and_expiry() {
    let app = apply().await;
    let response = request_upload(&app.token, PDF, "cv.pdf").await;
    assert_eq!(response.status(), StatusCode::OK);
    let post: Value = response.json().await.unwrap();
    let key = post["key"].as_str().unwrap();
    assert!(key.starts_with(&format!("cv/{}/", app.submission_id)), "{key}");
    assert!(post["url"].as_str().unwrap().ends_with(stack().resource("CvBucket")));
    let policy =
        base64::engine::general_purpose::STANDARD.decode(post["fields"]["policy"].as_str().unwrap()).unwrap();
    let policy: Value = serde_json::from_slice(&policy).unwrap();
    let conditions = policy["conditions"].as_array().unwrap();
    let max: u64 = stack().settings["CvMaxBytes"].parse().unwrap();
    for expected in [
        json!({"bucket": stack().resource("CvBucket")}),
        json!({"key": key}),
        json!({"Content-Type": PDF}),
        json!({"x-amz-server-side-encryption": "AES256"}),
        json!({"x-amz-meta-application-id": app.submission_id}),
        json!(["content-length-range", 1, max]),
    ] {
        assert!(conditions.contains(&expected), "{expected} missing from {conditions:?}");
    }
    let expiration = policy["expiration"].as_str().unwrap();
    let expires_at = post["expires_at"].as_str().unwrap();
    assert_eq!(&expiration[..19], &expires_at[..19], "the answer states when the policy expires");
    assert!(post["fields"]["x-amz-signature"].as_str().unwrap().len() == 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_wrong_forged_or_expired_tokens_then_403_and_nothing_is_signed() {
    let app = apply().await;
    let keys = stack().token_keys();
    let past = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64 - 1;
    let expired = keys.sign(
        Purpose::CvUpload,
        &app.submission_id,
        &ProfileId::from_stored(app.profile_id.clone()),
        Some(past),
    );
    let (head, _) = app.token.rsplit_once('.').unwrap();
    let other = apply().await;
    let (_, other_tag) = other.token.rsplit_once('.').unwrap();
    let stranger =
        TokenKeys::everywhere(KeyRing::parse("local1:someone-elses-key-0123456789abcdef0123").unwrap());
    let cases = [
        ("expired", expired),
        ("another application's signature", format!("{head}.{other_tag}")),
        ("truncated", app.token[..app.token.len() - 3].to_owned()),
        (
            "signed with another key",
            stranger.sign(
                Purpose::CvUpload,
                &app.submission_id,
                &ProfileId::from_stored(app.profile_id.clone()),
                None,
            ),
        ),
        ("garbage", "not-a-token".to_owned()),
    ];
    for (label, token) in cases {
        let response = request_upload(&token, PDF, "cv.pdf").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{label}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_token", "{label}");
        assert!(problem.get("fields").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_bad_upload_requests_then_422_naming_the_field() {
    let app = apply().await;
    let response = request_upload(&app.token, "application/x-msdownload", "setup.exe").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "content_type");
    assert_eq!(problem["errors"][0]["code"], "unsupported_file_type");

    let response = http().post(stack().url("/careers/cv-upload")).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    let fields: Vec<_> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, [json!("token"), json!("content_type")]);
}

async fn queue_drained() {
    let sqs = stack().sqs();
    let url = sqs.get_queue_url().queue_name(stack().resource("CvUploadQueue")).send().await.unwrap();
    let url = url.queue_url().unwrap().to_owned();
    eventually("the upload queue drained", || async {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .unwrap();
        let count = |name: aws_sdk_sqs::types::QueueAttributeName| {
            attributes.attributes().and_then(|a| a.get(&name)).map_or(0, |v| v.parse::<u32>().unwrap_or(0))
        };
        count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            + count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            == 0
    })
    .await;
}

async fn redeliver(key: &str) {
    let sqs = stack().sqs();
    let url = sqs.get_queue_url().queue_name(stack().resource("CvUploadQueue")).send().await.unwrap();
    let notification = json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Post",
        "s3": {"bucket": {"name": stack().resource("CvBucket")}, "object": {"key": key}},
    }]});
    for _ in 0..2 {
        sqs.send_message()
            .queue_url(url.queue_url().unwrap())
            .message_body(notification.to_string())
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_notification_delivered_again_then_nothing_changes() {
    let app = apply().await;
    let post = upload_cv(&app, fixture("cv.pdf"), PDF, "cv.pdf").await;
    let first = cv_status(&app).await;
    let key = post["key"].as_str().unwrap();
    redeliver(key).await;
    queue_drained().await;
    let again = map(&application_item(&app).await, "cv").clone();
    for field in ["status", "key", "sha256", "size", "uploaded_at"] {
        assert_eq!(first.get(field), again.get(field), "{field}");
    }
    assert_eq!(versions_under(key).await, 1, "the verified CV is still there, once");

    let rejected = apply().await;
    let post = upload_cv(&rejected, fixture("program-renamed.pdf"), PDF, "x.pdf").await;
    let first = cv_status(&rejected).await;
    let key = post["key"].as_str().unwrap();
    eventually("the rejected object was deleted", || async { versions_under(key).await == 0 }).await;
    redeliver(key).await;
    queue_drained().await;
    assert_eq!(
        map(&application_item(&rejected).await, "cv"),
        &first,
        "a gone object's redelivery changes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_verified_cv_then_a_recruiter_gets_a_short_lived_attachment_link() {
    let app = apply().await;
    let pdf = fixture("cv.pdf");
    let post = upload_cv(&app, pdf.clone(), PDF, "Zoe CV.pdf").await;
    assert_eq!(s(&cv_status(&app).await, "status"), "verified");
    // cv-link hands out only objects tagged verified.
    tagged_verified(post["key"].as_str().unwrap()).await;

    let output =
        steward_blackbox::admin(&["cv-link", "--application", &app.submission_id, "--expires-in", "120"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let link = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(link.contains("X-Amz-Expires=120"), "{link}");
    assert!(link.contains("response-content-disposition=attachment"), "{link}");
    let response = http().get(&link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap().to_vec(), pdf);

    let unknown = steward_blackbox::admin(&["cv-link", "--application", "no-such-application"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no verified CV"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_the_bucket_cors_then_only_our_origins_may_upload_from_a_browser() {
    let bucket_url = format!("{}/{}", stack().aws_endpoint, stack().resource("CvBucket"));
    let preflight = |origin: &'static str| {
        http()
            .request(reqwest::Method::OPTIONS, &bucket_url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ours = preflight("http://127.0.0.1:3000").await.unwrap();
    assert_eq!(ours.status(), StatusCode::OK);
    assert_eq!(ours.headers()["access-control-allow-origin"], "http://127.0.0.1:3000");
    let theirs = preflight("https://evil.example").await.unwrap();
    assert_eq!(theirs.status(), StatusCode::FORBIDDEN, "a foreign origin's preflight is refused");
}

async fn verdict(token: &str, key: &str) -> (StatusCode, Value) {
    let response = http()
        .post(stack().url("/careers/cv-upload/status"))
        .json(&json!({"token": token, "key": key}))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_upload_then_its_applicant_reads_its_verdict_and_no_one_reads_another_applications() {
    let app = apply().await;
    let refused = upload_cv(&app, fixture("program-renamed.pdf"), PDF, "cv.pdf").await;
    let key = refused["key"].as_str().unwrap();
    eventually("the refused upload's verdict is rejected", || async {
        verdict(&app.token, key).await.1["state"] == "rejected"
    })
    .await;
    let (status, answer) = verdict(&app.token, key).await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer["reason"].as_str().unwrap().contains("not an allowed"), "{answer}");
    assert_eq!(answer["earlier_kept"], false);

    let accepted = upload_cv(&app, fixture("cv.pdf"), PDF, "cv.pdf").await;
    let key = accepted["key"].as_str().unwrap();
    eventually("the PDF's verdict is accepted", || async {
        verdict(&app.token, key).await.1["state"] == "accepted"
    })
    .await;

    let other = apply().await;
    let (status, problem) = verdict(&other.token, key).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "another application's grant: {problem}");
    assert_eq!(problem["errors"][0]["field"], "key");
    let (status, _) = verdict("forged.token", key).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
