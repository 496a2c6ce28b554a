//! The register of data-protection requests: entered by the privacy team, answered within the
//! requester's law's deadline (extended once, with a reason), closed with what was done or why
//! it was refused; a stale page changes nothing; an erasure's record keeps no address; the daily
//! digest raises what is due; the yearly report counts.

use steward_core::domain::fields::Email;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::privacy::requests::{
    self, change, digest, enter, record_self_service, report_csv, send_digest, yearly_report, Change, Law,
    NewRequest, RequestError, RequestKind, RequestState, RequestStore, Urgency,
};
use time::macros::date;

use steward_core::domain::ports::Clock as _;

use crate::support::World;

/// 2027-01-31T10:00:00Z: a month end, before a February without a 31st.
const JAN_31_2027: i64 = 1_801_389_600;

fn by_mail(kind: RequestKind, law: Law, received: time::Date) -> NewRequest {
    NewRequest {
        kind,
        law,
        email: Email::parse("email", "mia@example.com").unwrap(),
        received,
        note: Some("ticket 42".into()),
    }
}

#[tokio::test]
async fn a_request_received_on_a_month_end_is_due_on_the_next_months_last_working_day_and_extends_once() {
    let world = World::new();
    world.clock.set(JAN_31_2027);
    let now = world.clock.timestamp();
    let entered =
        enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, now.date()), "dpo@example.com", now)
            .await
            .unwrap();
    // February 2027 has no 31st; its last day (the 28th) is a Sunday: Monday 1 March.
    assert_eq!(entered.deadline(), date!(2027 - 03 - 01));
    assert!(!entered.verified, "an address in a mail is evidence, not proof");
    assert_eq!(entered.state, RequestState::Open);

    let extended = change(
        &world.store,
        &entered.id,
        1,
        Change::Extend("many requests at once".into()),
        "dpo@example.com",
        now,
    )
    .await
    .unwrap();
    assert_eq!(extended.state, RequestState::Extended);
    // Three months from 31 January: 30 April 2027, a Friday.
    assert_eq!(extended.deadline(), date!(2027 - 04 - 30));
    let again =
        change(&world.store, &entered.id, 2, Change::Extend("more".into()), "dpo@example.com", now).await;
    assert!(matches!(again, Err(RequestError::Invalid { field: "reason", .. })), "{again:?}");
    let no_reason =
        change(&world.store, &entered.id, 2, Change::Refuse("   ".into()), "dpo@example.com", now).await;
    assert!(matches!(no_reason, Err(RequestError::Invalid { field: "reason", .. })), "a refusal says why");
}

#[tokio::test]
async fn a_stale_page_changes_nothing_and_a_closed_request_stays_closed() {
    let world = World::new();
    let now = world.clock.timestamp();
    let entered =
        enter(&world.store, by_mail(RequestKind::Objection, Law::Ccpa, now.date()), "dpo@example.com", now)
            .await
            .unwrap();
    change(&world.store, &entered.id, 1, Change::AskedForIdentity, "a@example.com", now).await.unwrap();
    let stale =
        change(&world.store, &entered.id, 1, Change::Done("stopped".into()), "b@example.com", now).await;
    assert!(matches!(stale, Err(RequestError::Stale)), "{stale:?}");
    let done = change(&world.store, &entered.id, 2, Change::Done("stopped".into()), "b@example.com", now)
        .await
        .unwrap();
    assert_eq!(done.state, RequestState::Done);
    assert_eq!(done.closed, Some(now.date()));
    assert_eq!(done.history.len(), 3, "each step, by whom: {:?}", done.history);
    assert_eq!(done.history[1].by, "a@example.com");
    let reopened =
        change(&world.store, &entered.id, 3, Change::Refuse("no".into()), "b@example.com", now).await;
    assert!(matches!(reopened, Err(RequestError::Closed)));
}

#[tokio::test]
async fn a_request_cannot_be_entered_for_a_day_to_come_nor_one_older_than_the_register_keeps() {
    let world = World::new();
    world.clock.set(JAN_31_2027);
    let now = world.clock.timestamp();
    let tomorrow = now.date().next_day().unwrap();
    let future =
        enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, tomorrow), "dpo@example.com", now).await;
    assert!(matches!(future, Err(RequestError::Invalid { field: "received", .. })));
    let ancient = enter(
        &world.store,
        by_mail(RequestKind::Access, Law::Gdpr, date!(2024 - 01 - 01)),
        "dpo@example.com",
        now,
    )
    .await;
    assert!(matches!(ancient, Err(RequestError::Invalid { field: "received", .. })));
}

#[tokio::test]
async fn an_erasure_request_once_done_keeps_its_dates_and_outcome_but_not_who_asked() {
    let world = World::new();
    let now = world.clock.timestamp();
    let entered =
        enter(&world.store, by_mail(RequestKind::Erasure, Law::Gdpr, now.date()), "dpo@example.com", now)
            .await
            .unwrap();
    let profile = ProfileId::new_random();
    change(&world.store, &entered.id, 1, Change::Verified(Some(profile)), "dpo@example.com", now)
        .await
        .unwrap();
    let done = change(&world.store, &entered.id, 2, Change::Done("erased".into()), "dpo@example.com", now)
        .await
        .unwrap();
    let kept = world.store.request(&done.id).await.unwrap().unwrap();
    assert_eq!(kept.email, None);
    assert_eq!(kept.profile, None);
    assert_eq!(kept.received, now.date());
    assert_eq!(kept.outcome.as_deref(), Some("erased"));
    assert!(
        !serde_json::to_string(&kept).unwrap().contains("mia@example.com"),
        "the history names no address"
    );
    assert!(!serde_json::to_string(&kept).unwrap().contains("ticket 42"), "nor the note that may name them");
}

#[tokio::test]
async fn the_digest_raises_what_is_overdue_or_due_within_a_week_once_a_day_and_nothing_else() {
    let world = World::new();
    world.clock.set(JAN_31_2027);
    let now = world.clock.timestamp();
    // Due 2027-02-05 (5 days left), overdue (due 2027-01-25), on time (due 2027-03-01), closed.
    let soon = enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, date!(2027 - 01 - 05)), "d", now)
        .await
        .unwrap();
    let late = enter(&world.store, by_mail(RequestKind::Erasure, Law::Ccpa, date!(2026 - 12 - 10)), "d", now)
        .await
        .unwrap();
    let fine =
        enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, now.date()), "d", now).await.unwrap();
    let closed =
        enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, date!(2026 - 12 - 01)), "d", now)
            .await
            .unwrap();
    change(&world.store, &closed.id, 1, Change::Done("sent".into()), "d", now).await.unwrap();
    let today = now.date();
    assert_eq!(soon.urgency(today), Urgency::DueSoon);
    assert_eq!(late.urgency(today), Urgency::Overdue);
    assert_eq!(fine.urgency(today), Urgency::OnTime);

    let raised = digest(&world.store.requests().await.unwrap(), today);
    assert_eq!(raised.overdue.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), [late.id.as_str()]);
    assert_eq!(raised.due_soon.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), [soon.id.as_str()]);

    let links = world.config.links.clone();
    send_digest(&world.store, &links, "dpo@example.com", now).await.unwrap();
    send_digest(&world.store, &links, "dpo@example.com", now).await.unwrap();
    world.dispatch().await;
    let subjects = world.subjects_sent_to("dpo@example.com");
    assert_eq!(subjects, ["Data-protection requests: 1 overdue, 1 due within a week"], "once a day");
    let body = &world.mail.sent_to("dpo@example.com")[0].raw;
    assert!(body.contains(&late.id) && body.contains(&soon.id) && !body.contains(&fine.id), "{body}");
    assert!(!body.contains("mia@example.com"), "the digest names requests, not people");
}

#[tokio::test]
async fn self_service_requests_are_recorded_as_answered_and_the_years_report_counts_kinds_outcomes_and_the_median(
) {
    let world = World::new();
    world.clock.set(JAN_31_2027);
    let now = world.clock.timestamp();
    let person = ProfileId::new_random();
    record_self_service(
        &world.store,
        &world.config.hash_key,
        RequestKind::Restriction,
        &person,
        Law::Gdpr,
        "done in the privacy center",
        now,
    )
    .await
    .unwrap();
    record_self_service(
        &world.store,
        &world.config.hash_key,
        RequestKind::Erasure,
        &person,
        Law::Gdpr,
        "erased in the privacy center",
        now,
    )
    .await
    .unwrap();
    // The same person, kind and answer again that day: one request answered, not two.
    record_self_service(
        &world.store,
        &world.config.hash_key,
        RequestKind::Restriction,
        &person,
        Law::Gdpr,
        "done in the privacy center",
        now,
    )
    .await
    .unwrap();
    assert_eq!(world.store.self_service_requests(2027).await.unwrap().len(), 2);
    let earlier =
        enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, date!(2027 - 01 - 11)), "d", now)
            .await
            .unwrap();
    change(&world.store, &earlier.id, 1, Change::Done("sent".into()), "d", now).await.unwrap();
    let refused =
        enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, date!(2027 - 01 - 21)), "d", now)
            .await
            .unwrap();
    change(&world.store, &refused.id, 1, Change::Refuse("manifestly unfounded".into()), "d", now)
        .await
        .unwrap();
    enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, date!(2027 - 01 - 30)), "d", now)
        .await
        .unwrap();

    let mut all = world.store.requests().await.unwrap();
    assert_eq!(all.len(), 3, "the team's register holds what came by mail");
    all.extend(world.store.self_service_requests(2027).await.unwrap());
    let erasure = all.iter().find(|r| r.kind == RequestKind::Erasure).unwrap();
    assert_eq!((erasure.verified, erasure.state, erasure.profile.as_ref()), (true, RequestState::Done, None));
    let report = yearly_report(&all, 2027);
    let access = report.iter().find(|l| l.kind == Some(RequestKind::Access)).unwrap();
    assert_eq!((access.received, access.done, access.refused, access.open), (3, 1, 1, 1));
    // Answered after 20 days and after 10: the median is 15.
    assert_eq!(access.median_days_to_answer, Some(15.0));
    let csv = report_csv(&report, 2027);
    assert!(csv.contains("2027,access,3,1,1,1,15.0\r\n"), "{csv}");
    assert!(csv.contains("2027,all,5,3,1,1,"), "{csv}");
    let year = requests::year_csv(&all, 2027);
    assert_eq!(year.lines().count(), 6, "a header and one line per request: {year}");
    assert!(yearly_report(&all, 2026).iter().all(|l| l.received == 0));
}

#[tokio::test]
async fn an_extension_comes_within_the_first_period_and_keeps_a_request_waiting_for_identity() {
    let world = World::new();
    world.clock.set(JAN_31_2027);
    let now = world.clock.timestamp();
    // Received 2026-12-20: the first month ended on 2027-01-20.
    let late = enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, date!(2026 - 12 - 20)), "d", now)
        .await
        .unwrap();
    let refused = change(&world.store, &late.id, 1, Change::Extend("too many".into()), "d", now).await;
    assert!(matches!(refused, Err(RequestError::Invalid { field: "reason", .. })), "{refused:?}");
    let waiting =
        enter(&world.store, by_mail(RequestKind::Access, Law::Gdpr, now.date()), "d", now).await.unwrap();
    change(&world.store, &waiting.id, 1, Change::AskedForIdentity, "d", now).await.unwrap();
    let extended =
        change(&world.store, &waiting.id, 2, Change::Extend("complex".into()), "d", now).await.unwrap();
    assert_eq!(extended.state, RequestState::WaitingForIdentity);
    assert_eq!(extended.deadline(), date!(2027 - 04 - 30));
    let verified = change(&world.store, &waiting.id, 3, Change::Verified(None), "d", now).await.unwrap();
    assert_eq!(verified.state, RequestState::Extended);
}
