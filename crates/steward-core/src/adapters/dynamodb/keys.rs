//! Every item's keys, in one place so that every reader and writer agrees: the table's partition
//! and sort keys and the index keys.

use crate::domain::mail::outbox::Queue;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1_PK: &str = "gsi1pk";
pub const TTL: &str = "expires_at";
/// When an unpaid checkout's seat hold lapses (epoch seconds); a paid seat's hold has none.
pub const HOLD_LAPSES_AT: &str = "lapses_at";

/// The profile is found by email; the key holds a keyed hash, never the address itself.
pub fn profile_by_email(email_pseudonym: &str) -> (String, String) {
    (format!("EMAIL#{email_pseudonym}"), "PROFILE".to_owned())
}

pub fn profile_partition(profile_id: &str) -> String {
    format!("PROFILE#{profile_id}")
}

/// The verdict on one CV upload, for its applicant's page: apart from the person's partition, so
/// that the public function reading it may read nothing else, and gone a day later.
pub fn cv_verdict(application_id: &str, key: &str) -> (String, String) {
    (format!("CVCHECK#{application_id}"), key.to_owned())
}

pub fn submission(profile_id: &str, submission_id: &str) -> (String, String) {
    (profile_partition(profile_id), format!("SUBMISSION#{submission_id}"))
}

pub fn payment(profile_id: &str, registration_id: &str) -> (String, String) {
    (profile_partition(profile_id), format!("PAYMENT#{registration_id}"))
}

pub fn billing(profile_id: &str) -> (String, String) {
    (profile_partition(profile_id), "BILLING".to_owned())
}

pub fn stripe_ref(stripe_id: &str) -> (String, String) {
    (format!("STRIPE#{stripe_id}"), "REF".to_owned())
}

pub fn seats(event: &str) -> (String, String) {
    (format!("EVENT#{event}"), "SEATS".to_owned())
}

pub fn seat_hold(event: &str, registration_id: &str) -> (String, String) {
    (format!("EVENT#{event}"), format!("HOLD#{registration_id}"))
}

pub fn stripe_event(event_id: &str) -> (String, String) {
    (format!("STRIPE_EVENT#{event_id}"), "SEEN".to_owned())
}

/// The transactional queue's partition (the outbox's only one before campaigns had their own).
pub const OUTBOX: &str = "OUTBOX";
/// The campaign queue's partition.
pub const OUTBOX_CAMPAIGN: &str = "OUTBOX_CAMPAIGN";

/// The partition of a queue of the outbox.
pub fn outbox_queue(queue: Queue) -> &'static str {
    match queue {
        Queue::Transactional => OUTBOX,
        Queue::Campaign => OUTBOX_CAMPAIGN,
    }
}

/// A message's item, in its queue's partition.
pub fn outbox(id: &str) -> (String, String) {
    (outbox_queue(Queue::of(id)).to_owned(), id.to_owned())
}

pub fn outbox_sent(id: &str) -> (String, String) {
    (format!("OUTBOX_SENT#{id}"), "SENT".to_owned())
}

pub fn suppression(email_pseudonym: &str) -> (String, String) {
    (format!("SUPPRESS#{email_pseudonym}"), "MAIL".to_owned())
}

/// A sign-in link, in its person's partition: erasure takes it along.
pub fn sign_in(profile_id: &str, nonce: &str) -> (String, String) {
    (profile_partition(profile_id), format!("{SIGN_IN_PREFIX}{nonce}"))
}

/// The sort-key prefix of a person's sign-in links.
pub const SIGN_IN_PREFIX: &str = "SIGNIN#";

/// A privacy-center session, in its person's partition: erasure ends it.
pub fn session(profile_id: &str, id: &str) -> (String, String) {
    (profile_partition(profile_id), format!("{SESSION_PREFIX}{id}"))
}

/// The sort-key prefix of a person's sessions.
pub const SESSION_PREFIX: &str = "SESSION#";

pub fn rate_counter(scope: &str, subject: &str, window_start: i64) -> (String, String) {
    (format!("RATE#{scope}#{subject}"), format!("WINDOW#{window_start}"))
}

/// Where the retention sweep's unfinished pass stands.
pub fn sweep_position() -> (String, String) {
    ("SWEEP".to_owned(), "POSITION".to_owned())
}

/// The partition of deliveries owed to destinations.
pub const DELIVERY: &str = "DELIVERY";
/// The partition of deliveries given up, kept for replay.
pub const DELIVERY_DEAD: &str = "DELIVERY_DEAD";

pub fn delivery(id: &str) -> (String, String) {
    (DELIVERY.to_owned(), id.to_owned())
}

pub fn dead_delivery(id: &str) -> (String, String) {
    (DELIVERY_DEAD.to_owned(), id.to_owned())
}

/// The sort-key prefix of a person's records of what went to which destination.
pub const SHARED_PREFIX: &str = "SHARED#";

/// That a destination received a person's data in an event: in their partition, so erasure takes
/// it along (after reading it, to tell each destination).
pub fn shared(profile_id: &str, destination: &str, event_id: &str) -> (String, String) {
    (profile_partition(profile_id), format!("{SHARED_PREFIX}{destination}#{event_id}"))
}

/// That a person was erased, under a keyed hash of their id (nothing in it leads back to them):
/// for as long as a delivery may wait, nothing about them is queued or recorded again.
pub fn erased(profile_pseudonym: &str) -> (String, String) {
    (format!("ERASED#{profile_pseudonym}"), "ERASED".to_owned())
}

/// The register of data-protection requests: one small partition (hundreds a year), each item
/// keyed by its id, which sorts by the day it was received.
pub const REQUEST: &str = "REQUEST";

pub fn request(id: &str) -> (String, String) {
    (REQUEST.to_owned(), id.to_owned())
}

/// The requests answered in the privacy center, by the month they were made (`yyyy-mm`): many,
/// read only by the yearly report.
pub fn self_service_requests(month: &str) -> String {
    format!("REQUEST_SELF#{month}")
}

/// Where a request is kept: the team's register, or its month of self-service requests.
pub fn request_of(request: &crate::domain::privacy::requests::PrivacyRequest) -> (String, String) {
    match request.channel {
        crate::domain::privacy::requests::Channel::Mail => self::request(&request.id),
        crate::domain::privacy::requests::Channel::SelfService => (
            self_service_requests(&format!(
                "{:04}-{:02}",
                request.received.year(),
                request.received.month() as u8
            )),
            request.id.clone(),
        ),
    }
}
