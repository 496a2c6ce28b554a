//! Verifying an uploaded CV: judged by its content, recorded on its application, a rejected file
//! deleted and an accepted one marked; an upload whose application is gone is not kept.

use steward_core::adapters::dynamodb::keys;
use steward_core::adapters::memory::MemoryUploads;
use steward_core::domain::careers::object_key;
use steward_core::domain::careers::verification::{verify_upload, Verified};
use steward_core::domain::careers::{upload_verdict, CvRecorded, CvVerdict, VerdictError};
use steward_core::domain::forms::submit::Receipt;
use steward_core::domain::ports::Clock as _;

use crate::support::{email, World};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00";
const MAX_BYTES: u64 = 1_000_000;

async fn apply(world: &World, who: &str) -> Receipt {
    world
        .submit(
            "careers",
            &[
                ("name", "Gus"),
                ("email", &email(who)),
                ("phone", "+44 20 7946 0958"),
                ("country", "GB"),
                ("position", "Engineer"),
            ],
        )
        .await
}

/// What the browser's upload leaves in the bucket, with the metadata its signed policy pinned.
fn upload(
    world: &World,
    uploads: &MemoryUploads,
    application: &Receipt,
    bytes: &[u8],
    declared: &str,
) -> String {
    let key = object_key(application.submission_id.as_str());
    let metadata = [
        ("application-id", application.submission_id.as_str()),
        ("profile-id", application.profile_id.as_str()),
        ("original-filename", "cv.pdf"),
    ];
    uploads.put(&key, bytes, declared, &metadata, world.now());
    key
}

fn recorded_status(world: &World, application: &Receipt) -> Option<String> {
    let item = world
        .store
        .item(keys::submission(application.profile_id.as_str(), application.submission_id.as_str()))?;
    item.get("cv")?.get("status")?.as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_pdf_for_its_application_is_verified_recorded_and_marked() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "gus").await;
    let key = upload(&world, &uploads, &application, PDF, "application/pdf");

    let verified =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, None, MAX_BYTES)
            .await
            .unwrap();
    assert_eq!(verified, Verified::Checked { rejected: false, recorded: CvRecorded::Recorded });
    assert_eq!(recorded_status(&world, &application).as_deref(), Some("verified"));
    assert!(uploads.get(&key).expect("kept").verified);
}

#[tokio::test]
async fn an_executable_named_cv_pdf_is_rejected_recorded_so_and_deleted() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "mallory").await;
    let key = upload(&world, &uploads, &application, ELF, "application/pdf");

    let verified =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, None, MAX_BYTES)
            .await
            .unwrap();
    assert_eq!(verified, Verified::Checked { rejected: true, recorded: CvRecorded::Recorded });
    assert_eq!(recorded_status(&world, &application).as_deref(), Some("rejected"));
    assert!(uploads.get(&key).is_none(), "nothing of a rejected file is kept");
}

#[tokio::test]
async fn an_upload_whose_application_is_gone_is_not_kept_and_a_second_notice_finds_nothing() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "gone").await;
    let key = upload(&world, &uploads, &application, PDF, "application/pdf");
    world
        .store
        .delete_item(keys::submission(application.profile_id.as_str(), application.submission_id.as_str()));

    let verified =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, None, MAX_BYTES)
            .await
            .unwrap();
    assert_eq!(verified, Verified::Checked { rejected: false, recorded: CvRecorded::ApplicationMissing });
    assert!(uploads.get(&key).is_none());
    let again =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, None, MAX_BYTES)
            .await
            .unwrap();
    assert_eq!(again, Verified::Gone, "S3 may notify twice");
}

#[tokio::test]
async fn an_upload_that_does_not_carry_its_application_is_rejected() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "eve").await;
    let other = apply(&world, "ann").await;
    // A key under one application, metadata naming another: not what a signed policy allows.
    let key = object_key(application.submission_id.as_str());
    let metadata =
        [("application-id", other.submission_id.as_str()), ("profile-id", other.profile_id.as_str())];
    uploads.put(&key, PDF, "application/pdf", &metadata, world.now());

    let verified =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, None, MAX_BYTES)
            .await
            .unwrap();
    assert!(matches!(verified, Verified::Checked { rejected: true, .. }), "{verified:?}");
    assert!(uploads.get(&key).is_none());
}

#[tokio::test]
async fn an_empty_upload_is_rejected_without_reading_it_and_deleted() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "nil").await;
    let key = upload(&world, &uploads, &application, b"", "application/pdf");

    let verified =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, None, MAX_BYTES)
            .await
            .unwrap();
    assert_eq!(verified, Verified::Checked { rejected: true, recorded: CvRecorded::Recorded });
    assert!(uploads.get(&key).is_none());
}

#[tokio::test]
async fn a_document_with_a_macro_project_is_rejected_and_deleted() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "mac").await;
    // A Word package as Word writes it, with a VBA project among its parts (a .docm renamed).
    let mut docm = b"PK\x03\x04\x14\x00\x00\x00\x00\x00[Content_Types].xml<Types/>".to_vec();
    docm.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00word/document.xml<w:document/>");
    docm.extend(std::iter::repeat_n(b'x', 20_000));
    docm.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00word/vbaProject.bin\xd0\xcf\x11\xe0");
    let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let key = upload(&world, &uploads, &application, &docm, docx);

    let verified =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, None, MAX_BYTES)
            .await
            .unwrap();
    assert_eq!(verified, Verified::Checked { rejected: true, recorded: CvRecorded::Recorded });
    assert!(uploads.get(&key).is_none(), "deleted");
}

#[tokio::test]
async fn the_notified_version_is_the_one_checked_and_deleted() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "vic").await;
    let key = upload(&world, &uploads, &application, ELF, "application/pdf");
    let version = uploads.get(&key).unwrap().object.version_id;

    let other = verify_upload(
        &uploads,
        &world.store,
        &world.config.hash_key,
        &world.clock,
        &key,
        Some("another".into()),
        MAX_BYTES,
    )
    .await
    .unwrap();
    assert_eq!(other, Verified::Gone, "another version of the key is not this upload");
    let verified =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, version, MAX_BYTES)
            .await
            .unwrap();
    assert!(matches!(verified, Verified::Checked { rejected: true, .. }));
    assert!(uploads.get(&key).is_none(), "its exact version deleted");
}

#[tokio::test]
async fn an_application_keeps_only_its_latest_upload_and_an_older_one_checked_late_is_not_kept() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "twice").await;
    let first = upload(&world, &uploads, &application, PDF, "application/pdf");
    world.clock.advance(60);
    let second = upload(&world, &uploads, &application, PDF, "application/pdf");
    world.clock.advance(60);
    let third = upload(&world, &uploads, &application, PDF, "application/pdf");

    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &first, None, MAX_BYTES)
        .await
        .unwrap();
    assert!(uploads.get(&first).is_some(), "the only file so far");
    let verified =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &third, None, MAX_BYTES)
            .await
            .unwrap();
    assert!(
        matches!(verified, Verified::Checked { recorded: CvRecorded::Replaced { ref earlier }, .. } if earlier.key == first),
        "{verified:?}"
    );
    assert!(uploads.get(&first).is_none(), "the superseded upload is deleted");
    assert!(uploads.get(&third).expect("the latest is kept").verified);

    // The middle upload's notice arrives last: a newer file is the application's, so it goes.
    let late =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &second, None, MAX_BYTES)
            .await
            .unwrap();
    assert_eq!(late, Verified::Checked { rejected: false, recorded: CvRecorded::Superseded });
    assert!(uploads.get(&second).is_none(), "an older upload is not kept");
    assert!(uploads.get(&third).is_some());
}

#[tokio::test]
async fn a_rejected_upload_never_displaces_the_verified_file_an_application_keeps() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "keeper").await;
    let good = upload(&world, &uploads, &application, PDF, "application/pdf");
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &good, None, MAX_BYTES)
        .await
        .unwrap();
    world.clock.advance(60);
    let bad = upload(&world, &uploads, &application, ELF, "application/pdf");

    let checked =
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &bad, None, MAX_BYTES)
            .await
            .unwrap();
    assert_eq!(checked, Verified::Checked { rejected: true, recorded: CvRecorded::Superseded });
    assert!(uploads.get(&bad).is_none(), "the rejected file is not kept");
    assert!(uploads.get(&good).expect("the verified file stays").verified);
    assert_eq!(recorded_status(&world, &application).as_deref(), Some("verified"));
}

/// The application's grant, as the careers form's answer hands it to the page.
fn grant(world: &World, application: &Receipt) -> String {
    steward_core::domain::careers::upload_token(
        &world.config.token_keys,
        &application.submission_id,
        &application.profile_id,
        world.clock.system_time(),
        std::time::Duration::from_secs(3600),
    )
}

#[tokio::test]
async fn the_applicants_page_learns_each_uploads_verdict_and_never_another_applications() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "ines").await;
    let token = grant(&world, &application);
    let verdict = |key: String| {
        let (world, token) = (&world, token.clone());
        async move {
            upload_verdict(&world.config.token_keys, &world.store, &token, &key, world.clock.system_time())
                .await
        }
    };

    let bad = upload(&world, &uploads, &application, ELF, "application/pdf");
    assert_eq!(verdict(bad.clone()).await.unwrap(), CvVerdict::Checking, "not checked yet");
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &bad, None, MAX_BYTES)
        .await
        .unwrap();
    let CvVerdict::Rejected { reason, earlier_kept: false } = verdict(bad).await.unwrap() else {
        panic!("a refused file is said to be refused")
    };
    assert!(reason.contains("not an allowed"), "and why: {reason}");

    world.clock.advance(1);
    let good = upload(&world, &uploads, &application, PDF, "application/pdf");
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &good, None, MAX_BYTES)
        .await
        .unwrap();
    assert_eq!(verdict(good).await.unwrap(), CvVerdict::Accepted);

    world.clock.advance(1);
    let worse = upload(&world, &uploads, &application, ELF, "application/pdf");
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &worse, None, MAX_BYTES)
        .await
        .unwrap();
    assert!(
        matches!(verdict(worse).await.unwrap(), CvVerdict::Rejected { earlier_kept: true, .. }),
        "refused, and the file sent before is still the application's"
    );

    let other = apply(&world, "mallory").await;
    let theirs = upload(&world, &uploads, &other, PDF, "application/pdf");
    assert!(
        matches!(verdict(theirs).await, Err(VerdictError::NotThisApplication)),
        "one grant, one application"
    );
    assert!(matches!(verdict("cv/../x".into()).await, Err(VerdictError::NotThisApplication)));
}

#[tokio::test]
async fn a_verified_file_always_takes_the_place_of_a_rejection_which_keeps_no_file() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "ada").await;
    let metadata = [
        ("application-id", application.submission_id.as_str()),
        ("profile-id", application.profile_id.as_str()),
    ];
    // In the same second, the refused upload's key sorts after the good one's.
    let refused = format!("cv/{}/ffff", application.submission_id.as_str());
    let good = format!("cv/{}/0000", application.submission_id.as_str());
    uploads.put(&refused, ELF, "application/pdf", &metadata, world.now());
    uploads.put(&good, PDF, "application/pdf", &metadata, world.now());
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &refused, None, MAX_BYTES)
        .await
        .unwrap();
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &good, None, MAX_BYTES)
        .await
        .unwrap();
    assert_eq!(recorded_status(&world, &application).as_deref(), Some("verified"));
    assert!(uploads.get(&good).expect("the good file is kept").verified);
}

#[tokio::test]
async fn the_applicant_is_told_each_verdict_by_mail_and_an_address_gets_a_few_a_day() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "hana").await;
    world.dispatch().await;
    let before = world.subjects_sent_to(&email("hana")).len();

    let bad = upload(&world, &uploads, &application, ELF, "application/pdf");
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &bad, None, MAX_BYTES)
        .await
        .unwrap();
    // A redelivered notification tells nobody twice.
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &bad, None, MAX_BYTES)
        .await
        .unwrap();
    world.clock.advance(1);
    let good = upload(&world, &uploads, &application, PDF, "application/pdf");
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &good, None, MAX_BYTES)
        .await
        .unwrap();
    world.dispatch().await;
    let sent = world.mail.sent_to(&email("hana"));
    let told: Vec<&str> = sent[before..].iter().map(|mail| mail.raw.as_str()).collect();
    assert_eq!(told.len(), 2, "one mail per verdict");
    // The outbox sends in its own order, not the order the verdicts came in.
    let refused =
        told.iter().find(|raw| raw.contains("Subject: We could not accept your CV")).expect("refused");
    assert!(refused.contains("not an allowed document type"), "says why: {refused}");
    assert!(!refused.contains("cv.pdf"), "never the name someone gave the file: {refused}");
    assert!(
        told.iter().any(|raw| raw.contains("Subject: Your CV is attached to your application")),
        "accepted"
    );

    // Someone uploading file after file to an application in another's name mails them a few
    // times a day, not once per file.
    for _ in 0..10 {
        world.clock.advance(1);
        let key = upload(&world, &uploads, &application, ELF, "application/pdf");
        verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, None, MAX_BYTES)
            .await
            .unwrap();
    }
    world.dispatch().await;
    assert_eq!(world.mail.sent_to(&email("hana")).len() - before, 3, "three a day at most");
}

#[tokio::test]
async fn a_verified_cv_is_announced_to_the_destinations_that_got_the_application_never_the_file() {
    let (world, uploads) = (World::new(), MemoryUploads::default());
    let application = apply(&world, "hana").await;
    world.deliver().await;
    let key = upload(&world, &uploads, &application, PDF, "application/pdf");
    verify_upload(&uploads, &world.store, &world.config.hash_key, &world.clock, &key, None, MAX_BYTES)
        .await
        .unwrap();
    world.deliver().await;
    let on_bus = world.destinations.received("bus");
    let verified: Vec<_> = on_bus
        .iter()
        .filter(|e| e.kind == steward_core::domain::destinations::EventType::CvVerified)
        .collect();
    assert_eq!(verified.len(), 1, "{on_bus:?}");
    assert_eq!(verified[0].data["submission_id"], application.submission_id.as_str());
    assert!(!verified[0].data.to_string().contains("cv.pdf"), "nothing of the file");
    // The recruiters' inbox hears it too (the application went there).
    world.dispatch().await;
    assert!(world.mail.sent().iter().filter(|m| m.to == "careers@wso2.com").count() >= 2);
}
