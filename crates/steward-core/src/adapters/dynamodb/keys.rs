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

/// An event's one seat counter of old: events that sold a seat before the counter was sharded
/// keep counting on it, so that no seat is counted twice (new events never get one).
pub fn seats(event: &str) -> (String, String) {
    (format!("EVENT#{event}"), SEATS_PREFIX.to_owned())
}

/// The sort-key prefix of an event's seat counters (the one of old, and the shards).
pub const SEATS_PREFIX: &str = "SEATS";
/// How many counters an event's seats are split across: at a registration opening, hundreds of
/// checkouts a second take a seat, and transactions on one item conflict (docs/scale.md). Each
/// shard holds its share of the capacity under its own condition, so the shards together never
/// sell more than the capacity.
pub const SEAT_SHARDS: u8 = 8;

/// The attribute of a seat hold that says which counter counted it (none: the one of old).
pub const SEAT_SHARD: &str = "seat_shard";

/// One of an event's seat counters.
pub fn seat_shard(event: &str, shard: u8) -> (String, String) {
    (format!("EVENT#{event}"), format!("{SEATS_PREFIX}#{shard}"))
}

/// A shard's share of the event's capacity: the shares add up to it exactly.
pub fn seat_share(capacity: u32, shard: u8) -> u32 {
    let shards = u32::from(SEAT_SHARDS);
    capacity / shards + u32::from(u32::from(shard) < capacity % shards)
}

/// The order in which a registration tries the shards: from one its id picks, so that a burst of
/// checkouts spreads across them, then round the others until a seat is found.
pub fn seat_shards_from(registration: &str) -> impl Iterator<Item = u8> {
    let first = shard_of(registration, SEAT_SHARDS);
    (0..SEAT_SHARDS).map(move |step| (first + step) % SEAT_SHARDS)
}

pub fn seat_hold(event: &str, registration_id: &str) -> (String, String) {
    (format!("EVENT#{event}"), format!("HOLD#{registration_id}"))
}

pub fn stripe_event(event_id: &str) -> (String, String) {
    (format!("STRIPE_EVENT#{event_id}"), "SEEN".to_owned())
}

/// The transactional queue's only partition before it was sharded: the dispatcher moves what is
/// left in it to the message's shard (until 2026-12-21, when the last of it has been sent or has
/// expired: then this goes).
pub const OUTBOX_UNSHARDED: &str = "OUTBOX";
/// The campaign queue's partition: one campaign command writes it, and SES's sending rate, not
/// this partition's 1,000 writes a second, paces a campaign (docs/scale.md).
pub const OUTBOX_CAMPAIGN: &str = "OUTBOX_CAMPAIGN";
/// How many partitions transactional mail is written across: a registration opening owes a
/// confirmation a second per registration, 1,600 WCU a second at its top, past one partition's
/// 1,000 (docs/scale.md); eight give it room five times over.
pub const OUTBOX_SHARDS: u8 = 8;

/// The shard an item of a sharded queue falls in: a hash of its id, so that every writer and
/// reader of one item agrees on its key, and ids spread evenly whatever their shape.
pub fn shard_of(id: &str, shards: u8) -> u8 {
    use sha2::Digest;
    sha2::Sha256::digest(id.as_bytes())[0] % shards
}

/// The partitions of a queue of the outbox.
pub fn outbox_queue(queue: Queue) -> Vec<String> {
    match queue {
        Queue::Transactional => (0..OUTBOX_SHARDS).map(|shard| format!("OUTBOX#{shard}")).collect(),
        Queue::Campaign => vec![OUTBOX_CAMPAIGN.to_owned()],
    }
}

/// A message's item, in its queue's partition (a transactional message's shard).
pub fn outbox(id: &str) -> (String, String) {
    match Queue::of(id) {
        Queue::Transactional => (format!("OUTBOX#{}", shard_of(id, OUTBOX_SHARDS)), id.to_owned()),
        Queue::Campaign => (OUTBOX_CAMPAIGN.to_owned(), id.to_owned()),
    }
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

/// How many partitions a month's audit records are written across: an erasure wave (the retention
/// sweep erasing thousands of expired profiles) writes one record each, and a month's one
/// partition would cap it at 1,000 a second (docs/scale.md).
pub const AUDIT_SHARDS: u8 = 4;

/// An audit record of the month `month` (`yyyy-mm`), its sort key `sk` (what happened, when, and a
/// random suffix), in the shard its sort key falls in.
pub fn audit_record(month: &str, sk: String) -> (String, String) {
    (format!("AUDIT#{month}#{}", shard_of(&sk, AUDIT_SHARDS)), sk)
}

/// Where a month's audit records are: its shards, and its one partition of old (records written
/// before the log was sharded, kept for their 24 months).
pub fn audit_month(month: &str) -> Vec<String> {
    std::iter::once(format!("AUDIT#{month}"))
        .chain((0..AUDIT_SHARDS).map(|shard| format!("AUDIT#{month}#{shard}")))
        .collect()
}

/// Where the retention sweep's unfinished pass stands.
pub fn sweep_position() -> (String, String) {
    ("SWEEP".to_owned(), "POSITION".to_owned())
}

/// The deliveries' queue's only partition before it was sharded: the dispatcher moves what is left
/// in it to the delivery's shard (until 2027-01-07, when the last of it has been delivered,
/// dead-lettered or has expired: then this goes).
pub const DELIVERY_UNSHARDED: &str = "DELIVERY";
/// The partition of deliveries given up, kept for replay: written only when a destination has
/// been failing for days.
pub const DELIVERY_DEAD: &str = "DELIVERY_DEAD";
/// How many partitions the deliveries owed are written across: a registration opening owes each
/// of a form's destinations a transaction per registration, 7,200 WCU a second at its top
/// (docs/scale.md); sixteen partitions hold 16,000.
pub const DELIVERY_SHARDS: u8 = 16;

/// The partitions of the deliveries' queue.
pub fn delivery_shards() -> Vec<String> {
    (0..DELIVERY_SHARDS).map(|shard| format!("DELIVERY#{shard}")).collect()
}

/// Where a delivery owed may wait: its shard, or (until it is moved) the queue's old partition.
pub fn delivery_queues() -> Vec<String> {
    let mut queues = delivery_shards();
    queues.push(DELIVERY_UNSHARDED.to_owned());
    queues
}

pub fn delivery(id: &str) -> (String, String) {
    (format!("DELIVERY#{}", shard_of(id, DELIVERY_SHARDS)), id.to_owned())
}

/// Every partition where something about a person may wait to be sent: mail (each shard of the
/// transactional queue, its old partition, the campaign's) and deliveries (owed or given up).
pub fn person_queues() -> Vec<String> {
    let mut queues = outbox_queue(Queue::Transactional);
    queues.push(OUTBOX_UNSHARDED.to_owned());
    queues.extend(outbox_queue(Queue::Campaign));
    queues.extend(delivery_queues());
    queues.push(DELIVERY_DEAD.to_owned());
    queues
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
