//! The single-table DynamoDB store. Item layout, keys and costs: `docs/data-model.md`.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use super::{CvRecorded, CvStore, Inserted, RateLimiter, StoreError, SubmissionStore, UpsertedProfile};
use crate::domain::campaign::{Subscriber, SubscriberStore};
use crate::domain::careers::{CvCheck, CvOutcome};
use crate::domain::fields::Email;
use crate::domain::ids::ProfileId;
use crate::domain::payments::{
    PaymentRecord, PaymentRef, PaymentStore, PaymentUpdate, RecordedPayment, SeatHold,
};
use crate::domain::preferences::{
    ChangeSource, MailPreferences, PreferenceChange, PreferenceStore, SuppressionStore,
};
use crate::domain::privacy::{
    controller, supervisory_authority, PrivacyStore, DATA_PROTECTION_OFFICER, RECIPIENTS,
};
use crate::domain::submit::NewSubmission;
use crate::mail::outbox::{Enqueued, MarketingConsent, OutboxMessage, OutboxStore};
use crate::secret::SecretKey;

/// Profile attributes `retain_until_<form>`: when that form's latest submission expires.
pub const RETAIN_UNTIL_PREFIX: &str = "retain_until_";

/// Version of the item layout written by this code; readers accept this and the previous one.
///
/// - 1: the first layout. Only profiles, submissions and payments carried `v`.
/// - 2: every item carries `type` and `v`; audit records name their actor (`actor`) and cover
///   operators' actions (`OPERATOR#` sort keys) as well as erasures. Version 1's erasure records
///   have no `actor`: readers take it from their `reason` (see `domain::audit`).
///
/// Changes stay additive for one version (new attributes, new item types), so that the version
/// before can still read what this one writes during a deployment or a rollback; a removal or a
/// change of meaning waits until no reader of the old layout is left.
pub const SCHEMA_VERSION: i64 = 2;

/// The layout version an item was written with: items of version 1 without `v` are version 1.
pub fn schema_version(item: &HashMap<String, AttributeValue>) -> i64 {
    item.get("v").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(1)
}

/// Marks a new item with its type and the layout version that writes it.
fn stamp(item: &mut HashMap<String, AttributeValue>, kind: impl Into<String>) {
    item.insert("type".into(), s(kind));
    item.insert("v".into(), n(SCHEMA_VERSION));
}

/// Key builders, in one place so that every reader and writer agrees.
pub mod keys {
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

    pub const OUTBOX: &str = "OUTBOX";

    pub fn outbox(id: &str) -> (String, String) {
        (OUTBOX.to_owned(), id.to_owned())
    }

    pub fn outbox_sent(id: &str) -> (String, String) {
        (format!("OUTBOX_SENT#{id}"), "SENT".to_owned())
    }

    pub fn suppression(email_pseudonym: &str) -> (String, String) {
        (format!("SUPPRESS#{email_pseudonym}"), "MAIL".to_owned())
    }

    pub fn sign_in(nonce: &str) -> (String, String) {
        (format!("SIGNIN#{nonce}"), "LINK".to_owned())
    }

    pub fn rate_counter(scope: &str, subject: &str, window_start: i64) -> (String, String) {
        (format!("RATE#{scope}#{subject}"), format!("WINDOW#{window_start}"))
    }
}

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    hash_key: SecretKey,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, hash_key: SecretKey) -> Self {
        Self { client, table: table.into(), hash_key }
    }

    /// One item by its keys, read strongly: every caller decides on what it reads.
    async fn get(
        &self,
        (pk, sk): (String, String),
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item)
    }

    /// Writes all or nothing; `Ok(false)` when a condition refused it. A transaction cancelled for
    /// any other reason (a conflict with another transaction, throttling) is `Unavailable`: it is
    /// not an answer about the data, so no caller may read it as one.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        match self.transact_outcome(items).await? {
            Transacted::Committed => Ok(true),
            Transacted::Refused => Ok(false),
            Transacted::Conflicted => {
                Err(StoreError::Unavailable("a conflicting transaction was in flight".into()))
            }
        }
    }

    /// As [`Self::transact`], telling a conflict apart for callers that can simply try again.
    async fn transact_outcome(&self, items: Vec<TransactWriteItem>) -> Result<Transacted, StoreError> {
        // One token for every attempt the SDK makes: a retry after a timed-out attempt that did
        // commit is then the same transaction, not a second one refused by its own conditions.
        let token = uuid::Uuid::new_v4().simple().to_string();
        let request =
            self.client.transact_write_items().set_transact_items(Some(items)).client_request_token(token);
        let err = match request.send().await {
            Ok(_) => return Ok(Transacted::Committed),
            Err(err) => err,
        };
        let codes: Vec<String> = err
            .as_service_error()
            .and_then(|e| match e {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                    Some(c.cancellation_reasons().iter().filter_map(|r| r.code()).filter(|c| *c != "None").map(str::to_owned).collect())
                }
                _ => None,
            })
            .unwrap_or_default();
        if !codes.is_empty() && codes.iter().all(|c| c == "ConditionalCheckFailed") {
            Ok(Transacted::Refused)
        } else if !codes.is_empty()
            && codes.iter().all(|c| c == "ConditionalCheckFailed" || c == "TransactionConflict")
        {
            Ok(Transacted::Conflicted)
        } else {
            Err(classify(err))
        }
    }

    pub fn email_pseudonym(&self, normalized_email: &str) -> String {
        self.hash_key.pseudonym("email", normalized_email)
    }
}

/// What a submission needs to know of the profile it landed on.
fn upserted(id: ProfileId, profile: Option<&HashMap<String, AttributeValue>>) -> UpsertedProfile {
    let attribute = |name: &str| profile.and_then(|p| p.get(name));
    UpsertedProfile {
        confirmed_topics: attribute("marketing_topics")
            .and_then(|v| v.as_ss().ok())
            .map(|topics| topics.iter().cloned().collect())
            .unwrap_or_default(),
        // Restricted or objecting people are owed no mail a form could trigger either.
        suppressed: MAIL_BLOCKING_FLAGS.iter().any(|flag| attribute(flag).is_some()),
        id,
    }
}

/// Profile attributes that stop any mail a form could trigger: bounced or complained, restricted,
/// objecting.
const MAIL_BLOCKING_FLAGS: [&str; 3] = ["suppressed", "restricted", "objected"];

/// How a transaction ended, when DynamoDB answered.
enum Transacted {
    Committed,
    /// Its own conditions refused it.
    Refused,
    /// Cancelled because another transaction on one of its items was in flight (DynamoDB does
    /// not retry these for us): worth doing again.
    Conflicted,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Sorts SDK failures into "retry later" and "bug", keeping the cause for the logs.
fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let retryable_code = matches!(
        err.code(),
        Some(
            "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "LimitExceededException"
        )
    );
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => StoreError::Unavailable(Box::new(err)),
        SdkError::ResponseError(_) => StoreError::Unavailable(Box::new(err)),
        _ if retryable_code => StoreError::Unavailable(Box::new(err)),
        _ => StoreError::Unexpected(Box::new(err)),
    }
}

impl RateLimiter for DynamoStore {
    async fn hit(
        &self,
        scope: &'static str,
        subject: &str,
        window_start: i64,
        window_end: i64,
    ) -> Result<u32, StoreError> {
        let (pk, sk) = keys::rate_counter(scope, subject, window_start);
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression("ADD #count :one SET #ttl = :ttl, #type = :type, #v = :v")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#type", "type")
            .expression_attribute_names("#v", "v")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":type", s("rate_counter"))
            .expression_attribute_values(":v", n(SCHEMA_VERSION))
            // A minute of slack so that a counter never vanishes inside its own window.
            .expression_attribute_values(":ttl", n(window_end + 60))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(classify)?;
        let count = output
            .attributes()
            .and_then(|a| a.get("count"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(u32::MAX);
        Ok(count)
    }
}

impl DynamoStore {
    /// The profile update a submission makes: only what it carries, the latest submission, each
    /// form's retention, and topics waiting for confirmation. `id` is the profile's id: the stored
    /// one (the update checks it is still there) or a new one (the update checks none exists).
    fn profile_update(
        &self,
        submission: &NewSubmission,
        pk: &str,
        sk: &str,
        id: &ProfileId,
        stored: Option<&HashMap<String, AttributeValue>>,
    ) -> Result<Update, StoreError> {
        let data = &submission.data;
        let now = submission.client.received_at.rfc3339();

        let mut sets = vec![
            "#type = :type",
            "#v = :v",
            "profile_id = :id",
            "#gsi = :gsi",
            "created_at = if_not_exists(created_at, :now)",
            "updated_at = :now",
            "email = :email",
            "last_submission_id = :sid",
        ];
        let mut values: HashMap<String, AttributeValue> = HashMap::from([
            (":type".into(), s("profile")),
            (":v".into(), n(SCHEMA_VERSION)),
            (":id".into(), s(id.as_str())),
            (":gsi".into(), s(keys::profile_partition(id.as_str()))),
            (":now".into(), s(now)),
            (":email".into(), s(data.email.as_str())),
            (":sid".into(), s(submission.id.as_str())),
        ]);
        // Only what this submission carries is written: an absent optional field keeps the
        // profile's earlier value.
        let optional = [
            ("full_name", data.name.clone()),
            ("phone", data.phone.as_ref().map(|p| p.as_e164().to_owned())),
            ("job_title", data.job_title.clone()),
            ("company", data.company.clone()),
            ("country", data.country.map(|c| c.code().to_owned())),
            ("state", data.state.as_ref().map(|s| s.code().to_owned())),
        ];
        let mut clauses: Vec<String> = sets.drain(..).map(str::to_owned).collect();
        let mut names: HashMap<String, String> = HashMap::from([
            ("#type".into(), "type".into()),
            ("#v".into(), "v".into()),
            ("#gsi".into(), keys::GSI1_PK.into()),
        ]);
        for (attribute, value) in optional {
            if let Some(value) = value {
                // Placeholders throughout: `state` and others are DynamoDB reserved words.
                clauses.push(format!("#{attribute} = :{attribute}"));
                names.insert(format!("#{attribute}"), attribute.to_owned());
                values.insert(format!(":{attribute}"), s(value));
            }
        }
        // Each form's retention, latest submission first: the retention sweep removes the profile
        // once every one of them has passed and nothing else is kept.
        clauses.push("#retain = :retain".to_owned());
        names.insert("#retain".into(), format!("{RETAIN_UNTIL_PREFIX}{}", submission.form.as_str()));
        values.insert(":retain".into(), n(submission.expires_at.epoch_seconds()));
        let mut expression = format!("SET {}", clauses.join(", "));
        if !data.topics.is_empty() {
            // Ticked topics wait for the confirmation link (double opt-in) before any marketing,
            // and consent given again replaces a withdrawal of it.
            expression.push_str(" ADD pending_topics :topics DELETE withdrawn_consents :marketing");
            values.insert(":topics".into(), AttributeValue::Ss(data.topics.iter().cloned().collect()));
            values.insert(":marketing".into(), AttributeValue::Ss(vec!["marketing".to_owned()]));
        }

        // The profile as read: the same id, and the same flags that decide whether the submission
        // owes mail, so that a restriction or objection written since the read refuses this
        // transaction (and it reads again) rather than letting a confirmation mail through.
        let condition = match stored {
            None => "attribute_not_exists(profile_id)".to_owned(),
            Some(stored) => {
                let mut clauses = vec!["profile_id = :id".to_owned()];
                for flag in MAIL_BLOCKING_FLAGS {
                    names.insert(format!("#{flag}"), flag.to_owned());
                    let test =
                        if stored.contains_key(flag) { "attribute_exists" } else { "attribute_not_exists" };
                    clauses.push(format!("{test}(#{flag})"));
                }
                clauses.join(" AND ")
            }
        };
        built(
            Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(pk))
                .key(keys::SK, s(sk))
                .update_expression(expression)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build(),
        )
    }
}

impl SubmissionStore for DynamoStore {
    async fn store_submission(
        &self,
        submission: &NewSubmission,
    ) -> Result<(UpsertedProfile, Inserted), StoreError> {
        let (pk, sk) = keys::profile_by_email(&self.email_pseudonym(submission.data.email.normalized()));
        // Profile and submission are written in one transaction, so that a failure (a throttled
        // or unavailable table) leaves neither. The profile is read first for its id, which keys
        // the submission; a concurrent first submission for the same address, or an erasure,
        // changes it and refuses the transaction, and the read is done again.
        for attempt in 0..4u64 {
            if attempt > 0 {
                // Concurrent submissions for one address (a double click, two tabs) collide here;
                // a short, jittered pause lets the first commit before this one reads again.
                let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % 20;
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt + jitter)).await;
            }
            let stored = self.get((pk.clone(), sk.clone())).await?;
            let stored_id =
                stored.as_ref().and_then(|p| p.get("profile_id")).and_then(|v| v.as_s().ok()).cloned();
            let new_profile = stored_id.is_none();
            let id = stored_id.map_or_else(ProfileId::new_random, ProfileId::from_stored);
            let (submission_pk, submission_sk) = keys::submission(id.as_str(), submission.id.as_str());
            let mut item = submission_item(submission);
            item.insert(keys::PK.into(), s(&submission_pk));
            item.insert(keys::SK.into(), s(&submission_sk));
            item.insert("profile_id".into(), s(id.as_str()));
            let put = self.put_if_absent(item)?;
            let update =
                self.profile_update(submission, &pk, &sk, &id, stored.as_ref().filter(|_| !new_profile))?;
            let items = vec![
                TransactWriteItem::builder().update(update).build(),
                TransactWriteItem::builder().put(put).build(),
            ];
            match self.transact_outcome(items).await? {
                Transacted::Committed => return Ok((upserted(id, stored.as_ref()), Inserted::New)),
                Transacted::Conflicted => continue,
                // Either this submission is already stored (a retry), or the profile changed.
                Transacted::Refused => {
                    if self.get((submission_pk, submission_sk)).await?.is_some() {
                        // The profile as it is now: a flag may have changed since the first read.
                        let now = self.get((pk.clone(), sk.clone())).await?;
                        return Ok((upserted(id, now.as_ref()), Inserted::AlreadyStored));
                    }
                }
            }
        }
        Err(StoreError::Unavailable("the profile kept changing during the submission".into()))
    }
}

impl CvStore for DynamoStore {
    async fn record_cv(&self, check: &CvCheck) -> Result<CvRecorded, StoreError> {
        let (pk, sk) = keys::submission(&check.profile_id, &check.application_id);
        let mut cv = HashMap::from([
            ("key".to_owned(), s(&check.key)),
            ("uploaded_at".to_owned(), n(check.uploaded_at)),
            ("checked_at".to_owned(), s(check.checked_at.rfc3339())),
        ]);
        if let Some(version) = &check.version_id {
            cv.insert("version_id".into(), s(version));
        }
        if let Some(name) = &check.file_name {
            cv.insert("file_name".into(), s(name));
        }
        match &check.outcome {
            CvOutcome::Verified { cv_type, size, sha256 } => {
                cv.insert("status".into(), s("verified"));
                cv.insert("media_type".into(), s(cv_type.media_type()));
                cv.insert("size".into(), n(size));
                cv.insert("sha256".into(), s(sha256));
            }
            CvOutcome::Rejected { reason } => {
                cv.insert("status".into(), s("rejected"));
                cv.insert("reason".into(), s(reason));
            }
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(&sk))
            .update_expression("SET cv = :cv")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(cv) OR cv.uploaded_at <= :t)",
            )
            .expression_attribute_values(":cv", AttributeValue::M(cv))
            .expression_attribute_values(":t", n(check.uploaded_at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(CvRecorded::Recorded),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(if self.get((pk, sk)).await?.is_some() {
                    CvRecorded::NewerRecorded
                } else {
                    CvRecorded::ApplicationMissing
                })
            }
            Err(err) => Err(classify(err)),
        }
    }
}

fn key(pk: String, sk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

/// A scan's page cursor: its last key, both parts, on one line.
fn cursor_of(last_key: &HashMap<String, AttributeValue>) -> Option<String> {
    Some(format!("{}\n{}", last_key.get(keys::PK)?.as_s().ok()?, last_key.get(keys::SK)?.as_s().ok()?))
}

fn cursor_key(cursor: &str) -> Option<HashMap<String, AttributeValue>> {
    cursor.split_once('\n').map(|(pk, sk)| key(pk.to_owned(), sk.to_owned()))
}

/// A single-item write whose refusal by its condition means "nothing to do".
fn unless_condition_failed<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_condition_failure(&err) => Ok(()),
        Err(err) => Err(classify(err)),
    }
}

/// A single-item write refused by its condition (transactions read their reasons in `transact`).
fn is_condition_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

impl DynamoStore {
    /// A transaction's `Put` of an item that must not exist yet.
    fn put_if_absent(&self, item: HashMap<String, AttributeValue>) -> Result<Put, StoreError> {
        built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )
    }
}

fn built<T, E: std::error::Error + Send + Sync + 'static>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Unexpected(Box::new(e)))
}

impl DynamoStore {
    /// Gives a registration's seat back: the hold and the count move together. With `lapsed_before`,
    /// only a hold that lapsed before then (not one resumed or paid meanwhile).
    pub(crate) async fn release_seat_if_lapsed(
        &self,
        event: &str,
        registration: &str,
        lapsed_before: Option<i64>,
    ) -> Result<bool, StoreError> {
        let (seats_pk, seats_sk) = keys::seats(event);
        let (hold_pk, hold_sk) = keys::seat_hold(event, registration);
        let delete = Delete::builder().table_name(&self.table).set_key(Some(key(hold_pk, hold_sk)));
        let delete = match lapsed_before {
            Some(before) => delete
                .condition_expression("#lapses < :before")
                .expression_attribute_names("#lapses", keys::HOLD_LAPSES_AT)
                .expression_attribute_values(":before", n(before)),
            None => delete.condition_expression("attribute_exists(pk)"),
        };
        let count = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(seats_pk, seats_sk)))
                .update_expression("ADD taken :minus_one")
                .condition_expression("taken > :zero")
                .expression_attribute_values(":minus_one", n(-1))
                .expression_attribute_values(":zero", n(0))
                .build(),
        )?;
        let items = vec![
            TransactWriteItem::builder().delete(built(delete.build())?).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        match self.transact_outcome(items).await? {
            Transacted::Committed => Ok(true),
            Transacted::Refused => Ok(false),
            // Another release of the same event's seats was in flight: a lapsed hold is left for
            // the next try (the sweep or the next buyer), so one busy event never stops a sweep.
            Transacted::Conflicted if lapsed_before.is_some() => Ok(false),
            Transacted::Conflicted => {
                Err(StoreError::Unavailable("a conflicting transaction was in flight".into()))
            }
        }
    }
}

impl PaymentStore for DynamoStore {
    async fn hold_seat(
        &self,
        event: &str,
        registration: &str,
        capacity: u32,
        lapses_at: Option<i64>,
    ) -> Result<SeatHold, StoreError> {
        let (seats_pk, seats_sk) = keys::seats(event);
        let (hold_pk, hold_sk) = keys::seat_hold(event, registration);
        // One transaction: the seat count and the registration's hold move together, so a seat is
        // never counted without its holder, and a second hold for one registration is refused.
        let count = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(seats_pk, seats_sk)))
                .update_expression(if capacity == 0 {
                    "ADD taken :one"
                } else {
                    "ADD taken :one SET seat_capacity = :capacity, #type = :type, #v = :v"
                })
                .condition_expression(if capacity == 0 {
                    "attribute_exists(seat_capacity) AND taken < seat_capacity"
                } else {
                    "attribute_not_exists(taken) OR taken < :capacity"
                })
                .expression_attribute_values(":one", n(1))
                .set_expression_attribute_values(if capacity == 0 {
                    Some(HashMap::from([(":one".to_owned(), n(1))]))
                } else {
                    Some(HashMap::from([
                        (":one".to_owned(), n(1)),
                        (":capacity".to_owned(), n(capacity)),
                        (":type".to_owned(), s("seats")),
                        (":v".to_owned(), n(SCHEMA_VERSION)),
                    ]))
                })
                .set_expression_attribute_names((capacity != 0).then(|| {
                    HashMap::from([
                        ("#type".to_owned(), "type".to_owned()),
                        ("#v".to_owned(), "v".to_owned()),
                    ])
                }))
                .build(),
        )?;
        let mut hold_item = key(hold_pk.clone(), hold_sk.clone());
        stamp(&mut hold_item, "seat_hold");
        hold_item.insert("registration_id".into(), s(registration));
        hold_item.insert("held_at".into(), s(crate::time::Timestamp::now().rfc3339()));
        if let Some(lapses_at) = lapses_at {
            hold_item.insert(keys::HOLD_LAPSES_AT.into(), n(lapses_at));
        }
        let hold = self.put_if_absent(hold_item)?;
        let items = vec![
            TransactWriteItem::builder().update(count).build(),
            TransactWriteItem::builder().put(hold).build(),
        ];
        if self.transact(items).await? {
            return Ok(SeatHold::Held);
        }
        Ok(if self.get((hold_pk, hold_sk)).await?.is_some() {
            SeatHold::AlreadyHeld
        } else {
            SeatHold::SoldOut
        })
    }

    async fn set_hold_lapse(
        &self,
        event: &str,
        registration: &str,
        lapses_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::seat_hold(event, registration);
        let update = self.client.update_item().table_name(&self.table).set_key(Some(key(pk, sk)));
        let update = match lapses_at {
            Some(lapses_at) => update
                .update_expression("SET #lapses = :lapses")
                .condition_expression("attribute_exists(#lapses)")
                .expression_attribute_values(":lapses", n(lapses_at)),
            None => update.update_expression("REMOVE #lapses").condition_expression("attribute_exists(pk)"),
        };
        match update.expression_attribute_names("#lapses", keys::HOLD_LAPSES_AT).send().await {
            Ok(_) => Ok(true),
            // No hold, or (moving a lapse) a paid seat's, which has none and keeps none.
            Err(err) if is_condition_failure(&err) => {
                Ok(lapses_at.is_some() && self.get(keys::seat_hold(event, registration)).await?.is_some())
            }
            Err(err) => Err(classify(err)),
        }
    }

    async fn free_lapsed_seat(&self, event: &str, now: i64) -> Result<bool, StoreError> {
        let (pk, _) = keys::seats(event);
        let mut start = None;
        let mut found = false;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :hold)")
                .filter_expression("#lapses < :now")
                .expression_attribute_names("#lapses", keys::HOLD_LAPSES_AT)
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":hold", s("HOLD#"))
                .expression_attribute_values(":now", n(now))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            // One seat is what the buyer asking needs; the sweep gives back the rest. A hold that
            // is refused (resumed, paid, or given back by someone else meanwhile) is passed over
            // for the next; having seen one at all means a seat may have been freed.
            for hold in page.items() {
                let Some(registration) = hold.get("registration_id").and_then(|v| v.as_s().ok()) else {
                    continue;
                };
                found = true;
                if self.release_seat_if_lapsed(event, registration, Some(now)).await? {
                    return Ok(true);
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    async fn release_seat(
        &self,
        event: &str,
        registration: &str,
        lapsed_before: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.release_seat_if_lapsed(event, registration, lapsed_before).await
    }

    async fn customer_of(&self, profile: &str) -> Result<Option<String>, StoreError> {
        let (pk, sk) = keys::billing(profile);
        let item = self.get((pk, sk)).await?;
        Ok(item.and_then(|i| i.get("stripe_customer_id").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn save_customer(&self, profile: &str, customer: &str) -> Result<(), StoreError> {
        let (pk, sk) = keys::billing(profile);
        let mut item = key(pk, sk);
        stamp(&mut item, "billing");
        item.insert("stripe_customer_id".into(), s(customer));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Ok(()), // the same customer, saved by a concurrent call
            Err(err) => Err(classify(err)),
        }
    }

    async fn record_started(&self, payment: &PaymentRecord) -> Result<(), StoreError> {
        let (pk, sk) = keys::payment(&payment.profile_id, &payment.registration_id);
        let mut names = HashMap::from([
            ("#status".to_owned(), "status".to_owned()),
            ("#type".to_owned(), "type".to_owned()),
        ]);
        let mut values = HashMap::from([
            (":type".to_owned(), s("payment")),
            (":v".to_owned(), n(SCHEMA_VERSION)),
            (":kind".to_owned(), s(payment.kind)),
            (":item".to_owned(), s(&payment.item)),
            (":amount".to_owned(), n(payment.amount)),
            (":currency".to_owned(), s(&payment.currency)),
            (":customer".to_owned(), s(&payment.stripe_customer_id)),
            (":status".to_owned(), s(payment.status.as_str())),
            (":now".to_owned(), s(payment.started_at.rfc3339())),
            (":registration".to_owned(), s(&payment.registration_id)),
            (
                ":retain".to_owned(),
                n(payment.started_at.epoch_seconds()
                    + crate::domain::erasure::PAYMENT_RETENTION_DAYS * 86_400),
            ),
        ]);
        let mut sets = vec![
            "#type = :type",
            "v = :v",
            "kind = :kind",
            "#item = :item",
            "amount = :amount",
            "currency = :currency",
            "stripe_customer_id = :customer",
            "registration_id = :registration",
            "#status = if_not_exists(#status, :status)",
            "started_at = if_not_exists(started_at, :now)",
            // Payment records are kept as accounting law requires, then they go.
            "expires_at = if_not_exists(expires_at, :retain)",
        ];
        names.insert("#item".into(), "item".into());
        let mut stripe_ids = Vec::new();
        if let Some(id) = &payment.payment_intent_id {
            sets.push("payment_intent_id = :pi");
            values.insert(":pi".into(), s(id));
            stripe_ids.push(id);
        }
        if let Some(id) = &payment.subscription_id {
            sets.push("subscription_id = :sub");
            values.insert(":sub".into(), s(id));
            stripe_ids.push(id);
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(classify)?;
        for stripe_id in stripe_ids {
            let (pk, sk) = keys::stripe_ref(stripe_id);
            let mut item = key(pk, sk);
            stamp(&mut item, "stripe_ref");
            item.insert("profile_id".into(), s(&payment.profile_id));
            item.insert("registration_id".into(), s(&payment.registration_id));
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    async fn payment_ref(&self, stripe_id: &str) -> Result<Option<PaymentRef>, StoreError> {
        let (pk, sk) = keys::stripe_ref(stripe_id);
        let item = self.get((pk, sk)).await?;
        Ok(item.and_then(|item| {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            Some(PaymentRef { profile_id: text("profile_id")?, registration_id: text("registration_id")? })
        }))
    }

    async fn apply_update(
        &self,
        payment: &PaymentRef,
        update: &PaymentUpdate,
        version: i64,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::payment(&payment.profile_id, &payment.registration_id);
        let now = crate::time::Timestamp::now().rfc3339();
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .expression_attribute_values(":version", n(version))
            .expression_attribute_values(":now", s(now));
        let request = match update {
            PaymentUpdate::Status { status, failure_code } => {
                let request = request
                    .update_expression(if failure_code.is_some() {
                        "SET #status = :status, status_version = :version, updated_at = :now, failure_code = :code"
                    } else {
                        "SET #status = :status, status_version = :version, updated_at = :now REMOVE failure_code"
                    })
                    .condition_expression("attribute_exists(pk) AND (attribute_not_exists(status_version) OR status_version < :version)")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", s(status.as_str()));
                match failure_code {
                    Some(code) => request.expression_attribute_values(":code", s(code)),
                    None => request,
                }
            }
            PaymentUpdate::Invoice { invoice_id, status, amount } => request
                .update_expression("SET last_invoice = :invoice, invoice_version = :version, updated_at = :now")
                .condition_expression("attribute_exists(pk) AND (attribute_not_exists(invoice_version) OR invoice_version < :version)")
                .expression_attribute_values(
                    ":invoice",
                    AttributeValue::M(HashMap::from([
                        ("id".to_owned(), s(invoice_id)),
                        ("status".to_owned(), s(*status)),
                        ("amount".to_owned(), n(amount)),
                    ])),
                ),
            PaymentUpdate::Dispute { dispute_id, status } => request
                .update_expression("SET dispute = :dispute, dispute_version = :version, updated_at = :now")
                .condition_expression("attribute_exists(pk) AND (attribute_not_exists(dispute_version) OR dispute_version < :version)")
                .expression_attribute_values(
                    ":dispute",
                    AttributeValue::M(HashMap::from([("id".to_owned(), s(dispute_id)), ("status".to_owned(), s(status))])),
                ),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(classify(err)),
        }
    }

    async fn payment_item(&self, payment: &PaymentRef) -> Result<Option<RecordedPayment>, StoreError> {
        let (pk, sk) = keys::payment(&payment.profile_id, &payment.registration_id);
        let item = self.get((pk, sk)).await?;
        Ok(item.and_then(|item| {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            Some(RecordedPayment { kind: text("kind")?, item: text("item")?, status: text("status")? })
        }))
    }

    async fn event_seen(&self, event_id: &str) -> Result<bool, StoreError> {
        let (pk, sk) = keys::stripe_event(event_id);
        let item = self.get((pk, sk)).await?;
        Ok(item.is_some())
    }

    async fn mark_event_seen(&self, event_id: &str, expires_at: i64) -> Result<(), StoreError> {
        let (pk, sk) = keys::stripe_event(event_id);
        let mut item = key(pk, sk);
        stamp(&mut item, "stripe_event");
        item.insert(keys::TTL.into(), n(expires_at));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(classify)?;
        Ok(())
    }
}

impl DynamoStore {
    /// The table keys of a profile, from its id (the `by-profile-id` index, eventually consistent).
    pub async fn profile_key(&self, profile_id: &str) -> Result<Option<(String, String)>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by-profile-id")
            .key_condition_expression("#gsi = :gsi")
            .expression_attribute_names("#gsi", keys::GSI1_PK)
            .expression_attribute_values(":gsi", s(keys::profile_partition(profile_id)))
            .send()
            .await
            .map_err(classify)?;
        Ok(output.items().first().and_then(|item| {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            Some((text(keys::PK)?, text(keys::SK)?))
        }))
    }
}

/// How long a sent message's marker keeps a re-enqueued copy from going out again.
const SENT_MARKER_SECONDS: i64 = 30 * 24 * 3600;
/// How long an unsent message may wait before it is dropped by TTL.
const OUTBOX_SECONDS: i64 = 14 * 24 * 3600;

impl OutboxStore for DynamoStore {
    async fn enqueue(&self, message: &OutboxMessage, now: i64) -> Result<Enqueued, StoreError> {
        let (marker_pk, marker_sk) = keys::outbox_sent(&message.id);
        let (pk, sk) = keys::outbox(&message.id);
        let mut item = key(pk, sk);
        stamp(&mut item, "outbox");
        item.insert("status".into(), s("pending"));
        item.insert("next_attempt_at".into(), n(now));
        item.insert("attempts".into(), n(0));
        // Erasure finds a person's pending mail by it.
        item.insert("profile_id".into(), s(&message.profile_id));
        item.insert(
            "message".into(),
            s(serde_json::to_string(message).map_err(|e| StoreError::Unexpected(Box::new(e)))?),
        );
        item.insert(keys::TTL.into(), n(now + OUTBOX_SECONDS));
        let not_sent = built(
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(marker_pk, marker_sk)))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        let put = self.put_if_absent(item)?;
        if self
            .transact(vec![
                TransactWriteItem::builder().condition_check(not_sent).build(),
                TransactWriteItem::builder().put(put).build(),
            ])
            .await?
        {
            Ok(Enqueued::New)
        } else {
            Ok(Enqueued::Known)
        }
    }

    async fn due(&self, now: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let mut due = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .filter_expression(
                    "(#status = :pending AND next_attempt_at <= :now) OR (#status = :sending AND lease_until < :now)",
                )
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pk", s(keys::OUTBOX))
                .expression_attribute_values(":pending", s("pending"))
                .expression_attribute_values(":sending", s("sending"))
                .expression_attribute_values(":now", n(now))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?;
            due.extend(
                page.items()
                    .iter()
                    .filter_map(|item| item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned()),
            );
            start = page.last_evaluated_key().cloned();
            if start.is_none() || due.len() >= limit * 4 {
                break;
            }
        }
        // Transactional mail (confirmations, sign-in links) before any campaign.
        due.sort_by_key(|id| id.starts_with("campaign-"));
        due.truncate(limit);
        Ok(due)
    }

    async fn claim(
        &self,
        id: &str,
        now: i64,
        lease: std::time::Duration,
    ) -> Result<Option<(OutboxMessage, u32)>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::OUTBOX.to_owned(), id.to_owned())))
            .update_expression("SET #status = :sending, lease_until = :lease ADD attempts :one")
            .condition_expression(
                "attribute_exists(pk) AND ((#status = :pending AND next_attempt_at <= :now) OR (#status = :sending AND lease_until < :now))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":lease", n(now + lease.as_secs() as i64))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(err) if is_condition_failure(&err) => return Ok(None),
            Err(err) => return Err(classify(err)),
        };
        let attributes = output.attributes().cloned().unwrap_or_default();
        let attempts =
            attributes.get("attempts").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(1);
        let message = attributes
            .get("message")
            .and_then(|v| v.as_s().ok())
            .and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(|| StoreError::Unexpected("an outbox item without a readable message".into()))?;
        Ok(Some((message, attempts)))
    }

    async fn complete(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let (marker_pk, marker_sk) = keys::outbox_sent(id);
        let mut marker = key(marker_pk, marker_sk);
        stamp(&mut marker, "outbox_sent");
        marker.insert(keys::TTL.into(), n(now + SENT_MARKER_SECONDS));
        let delete = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::OUTBOX.to_owned(), id.to_owned())))
                .build(),
        )?;
        let put = built(Put::builder().table_name(&self.table).set_item(Some(marker)).build())?;
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await?;
        Ok(())
    }

    async fn retry_at(&self, id: &str, next_attempt_at: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::OUTBOX.to_owned(), id.to_owned())))
            .update_expression("SET #status = :pending, next_attempt_at = :next")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":next", n(next_attempt_at))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

impl MarketingConsent for DynamoStore {
    async fn may_receive(&self, profile_id: &str, topic: &str) -> Result<bool, StoreError> {
        let Some(profile_key) = self.profile_key(profile_id).await? else { return Ok(false) };
        let Some(profile) = self.get(profile_key).await? else { return Ok(false) };
        let flag = |name: &str| profile.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
        let subscribed = profile
            .get("marketing_topics")
            .and_then(|v| v.as_ss().ok())
            .is_some_and(|t| t.iter().any(|t| t == topic));
        if !subscribed
            || flag("unsubscribed_all")
            || profile.contains_key("suppressed")
            || profile.contains_key("restricted")
            || profile.contains_key("objected")
        {
            return Ok(false);
        }
        let email = profile
            .get("email")
            .and_then(|v| v.as_s().ok())
            .map_or(String::new(), |e| e.trim().to_lowercase());
        let Some(entry) = self.get(keys::suppression(&self.email_pseudonym(&email))).await? else {
            return Ok(true);
        };
        let text = |item: &HashMap<String, AttributeValue>, name: &str| {
            item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
        };
        // An erased person who came back is mailed only for what they confirmed since; a bounce
        // or a complaint stops marketing to the address for good.
        Ok(text(&entry, "source") == "erasure" && text(&profile, "confirmed_at") > text(&entry, "at"))
    }
}

impl SubscriberStore for DynamoStore {
    /// A filtered scan of profiles: an operator's campaign reads the table once (about 0.5 RCU per
    /// 4 KB of profiles), which is cheaper than keeping a per-topic index written on every change.
    async fn subscribers(
        &self,
        topic: &str,
        start: Option<String>,
    ) -> Result<(Vec<Subscriber>, Option<String>), StoreError> {
        let start_key = start.as_deref().and_then(cursor_key);
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression(
                "sk = :profile AND contains(marketing_topics, :topic) AND (attribute_not_exists(unsubscribed_all) OR unsubscribed_all = :false) AND attribute_not_exists(suppressed) AND attribute_not_exists(restricted) AND attribute_not_exists(objected)",
            )
            .expression_attribute_values(":profile", s("PROFILE"))
            .expression_attribute_values(":topic", s(topic))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .set_exclusive_start_key(start_key)
            .send()
            .await
            .map_err(classify)?;
        let subscribers = output
            .items()
            .iter()
            .filter_map(|item| {
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
                Some(Subscriber { profile_id: text("profile_id")?, email: text("email")? })
            })
            .collect();
        Ok((subscribers, output.last_evaluated_key().and_then(cursor_of)))
    }
}

/// One entry of a person's mail preference history.
fn mail_log_item(
    profile_id: &str,
    at: &crate::time::Timestamp,
    source: ChangeSource,
    change: String,
    token_id: &str,
) -> HashMap<String, AttributeValue> {
    let mut log = key(
        keys::profile_partition(profile_id),
        format!("MAILLOG#{}#{}", at.rfc3339(), &uuid::Uuid::new_v4().simple().to_string()[..8]),
    );
    stamp(&mut log, "mail_preference_change");
    log.insert("at".into(), s(at.rfc3339()));
    log.insert("source".into(), s(source.as_str()));
    log.insert("change".into(), s(change));
    log.insert("token_id".into(), s(token_id));
    log
}

impl SuppressionStore for DynamoStore {
    async fn suppress(&self, email: &str, source: ChangeSource, detail: &str) -> Result<bool, StoreError> {
        let pseudonym = self.email_pseudonym(&email.trim().to_lowercase());
        let now = crate::time::Timestamp::now();
        let (pk, sk) = keys::suppression(&pseudonym);
        let mut entry = key(pk, sk);
        stamp(&mut entry, "suppression");
        entry.insert("source".into(), s(source.as_str()));
        entry.insert("at".into(), s(now.rfc3339()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(entry))
            .send()
            .await
            .map_err(classify)?;
        let (pk, sk) = keys::profile_by_email(&pseudonym);
        let Some(profile) = self.get((pk.clone(), sk.clone())).await? else { return Ok(false) };
        let Some(profile_id) = profile.get("profile_id").and_then(|v| v.as_s().ok()).cloned() else {
            return Ok(false);
        };
        let update = built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .update_expression("SET suppressed = :why")
                .expression_attribute_values(
                    ":why",
                    AttributeValue::M(HashMap::from([
                        ("source".to_owned(), s(source.as_str())),
                        ("detail".to_owned(), s(detail)),
                        ("at".to_owned(), s(now.rfc3339())),
                    ])),
                )
                .build(),
        )?;
        let log = mail_log_item(&profile_id, &now, source, format!("suppressed ({detail})"), "-");
        let put = built(Put::builder().table_name(&self.table).set_item(Some(log)).build())?;
        self.transact(vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await?;
        tracing::info!(profile_id, source = source.as_str(), "address suppressed");
        Ok(true)
    }
}

/// An item as JSON, for people reading their own data: keys and internal bookkeeping left out.
fn item_json(item: &HashMap<String, AttributeValue>) -> serde_json::Value {
    const INTERNAL: [&str; 9] = [
        "pk",
        "sk",
        "gsi1pk",
        "v",
        "status_version",
        "invoice_version",
        "dispute_version",
        "last_submission_id",
        "type",
    ];
    let mut object = serde_json::Map::new();
    for (name, value) in item {
        if !INTERNAL.contains(&name.as_str()) {
            object.insert(name.clone(), value_json(value));
        }
    }
    serde_json::Value::Object(object)
}

fn value_json(value: &AttributeValue) -> serde_json::Value {
    match value {
        AttributeValue::S(text) => text.clone().into(),
        AttributeValue::N(number) => {
            number.parse::<i64>().map(Into::into).unwrap_or_else(|_| number.clone().into())
        }
        AttributeValue::Bool(flag) => (*flag).into(),
        AttributeValue::Ss(set) => set.clone().into(),
        AttributeValue::L(list) => list.iter().map(value_json).collect::<Vec<_>>().into(),
        AttributeValue::M(map) => {
            map.iter().map(|(k, v)| (k.clone(), value_json(v))).collect::<serde_json::Map<_, _>>().into()
        }
        _ => serde_json::Value::Null,
    }
}

impl PrivacyStore for DynamoStore {
    async fn profile_id_by_email(&self, email: &Email) -> Result<Option<String>, StoreError> {
        let key = keys::profile_by_email(&self.email_pseudonym(email.normalized()));
        Ok(self.get(key).await?.and_then(|p| p.get("profile_id").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn save_sign_in(&self, nonce: &str, profile_id: &str, expires_at: i64) -> Result<(), StoreError> {
        let (pk, sk) = keys::sign_in(nonce);
        let mut item = key(pk, sk);
        stamp(&mut item, "sign_in");
        item.insert("profile_id".into(), s(profile_id));
        item.insert(keys::TTL.into(), n(expires_at));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(classify)?;
        Ok(())
    }

    async fn consume_sign_in(&self, nonce: &str, now: i64) -> Result<bool, StoreError> {
        let (pk, sk) = keys::sign_in(nonce);
        // TTL deletes within days, not minutes: the expiry is checked here too.
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(classify(err)),
        }
    }

    async fn everything(&self, profile_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(profile_key) = self.profile_key(profile_id).await? else { return Ok(None) };
        let Some(profile) = self.get(profile_key).await? else { return Ok(None) };
        let items = self.partition(&keys::profile_partition(profile_id), None).await?;
        let of_kind = |prefix: &str| -> Vec<serde_json::Value> {
            items
                .iter()
                .filter(|i| {
                    i.get(keys::SK).and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with(prefix))
                })
                .map(|item| {
                    let mut json = item_json(item);
                    if let Some(expires) =
                        item.get(keys::TTL).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok())
                    {
                        json["retained_until"] = crate::time::Timestamp::from_epoch_millis(expires * 1000)
                            .map(|t| t.rfc3339())
                            .into();
                    }
                    json
                })
                .collect()
        };
        let country = profile.get("country").and_then(|v| v.as_s().ok()).map(String::as_str);
        // The profile is kept as long as the longest-kept submission or payment record.
        let profile_until = items
            .iter()
            .filter(|i| {
                i.get(keys::SK)
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk.starts_with("SUBMISSION#") || sk.starts_with("PAYMENT#"))
            })
            .filter_map(|i| i.get(keys::TTL).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()))
            .max();
        let mut profile_json = item_json(&profile);
        if let Some(until) = profile_until {
            profile_json["retained_until"] =
                crate::time::Timestamp::from_epoch_millis(until * 1000).map(|t| t.rfc3339()).into();
        }
        let pending = [of_kind("EMAILCHANGE#"), of_kind("EXPORT#")].concat();
        Ok(Some(serde_json::json!({
            "profile": profile_json,
            "submissions": of_kind("SUBMISSION#"),
            "payments": of_kind("PAYMENT#"),
            "mail_preference_history": of_kind("MAILLOG#"),
            "profile_history": of_kind("HISTORY#"),
            "pending_requests": pending,
            "billing": of_kind("BILLING"),
            "data_controller": controller(country),
            "data_protection_officer": DATA_PROTECTION_OFFICER,
            "supervisory_authority": supervisory_authority(controller(country)),
            "recipients": RECIPIENTS,
        })))
    }
}

fn preferences_of(profile: &HashMap<String, AttributeValue>) -> MailPreferences {
    let set = |name: &str| {
        profile
            .get(name)
            .and_then(|v| v.as_ss().ok())
            .map(|v| v.iter().cloned().collect())
            .unwrap_or_default()
    };
    MailPreferences {
        email: profile.get("email").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default(),
        name: profile.get("full_name").and_then(|v| v.as_s().ok()).cloned(),
        topics: set("marketing_topics"),
        pending: set("pending_topics"),
        unsubscribed_all: profile
            .get("unsubscribed_all")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        suppressed: profile.contains_key("suppressed"),
    }
}

impl PreferenceStore for DynamoStore {
    async fn preferences(&self, profile_id: &str) -> Result<Option<MailPreferences>, StoreError> {
        let Some(profile_key) = self.profile_key(profile_id).await? else { return Ok(None) };
        Ok(self.get(profile_key).await?.as_ref().map(preferences_of))
    }

    async fn change_preferences(
        &self,
        profile_id: &str,
        change: &PreferenceChange,
        source: ChangeSource,
        token_id: &str,
    ) -> Result<Option<MailPreferences>, StoreError> {
        let Some((pk, sk)) = self.profile_key(profile_id).await? else { return Ok(None) };
        let Some(current) = self.get((pk.clone(), sk.clone())).await?.as_ref().map(preferences_of) else {
            return Ok(None);
        };
        let now = crate::time::Timestamp::now();
        let ss = |set: &std::collections::BTreeSet<String>| AttributeValue::Ss(set.iter().cloned().collect());
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), sk.clone())))
            .expression_attribute_values(":now", s(now.rfc3339()));
        let (update, description) = match change {
            PreferenceChange::ConfirmPending if !current.pending.is_empty() => (
                update
                    .update_expression("ADD marketing_topics :pending DELETE pending_topics :pending SET confirmed_at = :now, unsubscribed_all = :false")
                    .expression_attribute_values(":pending", ss(&current.pending))
                    .expression_attribute_values(":false", AttributeValue::Bool(false)),
                format!("confirmed {}", current.pending.iter().cloned().collect::<Vec<_>>().join(",")),
            ),
            PreferenceChange::ConfirmPending => return Ok(Some(current)),
            PreferenceChange::Unsubscribe { topic: Some(topic) } => (
                update
                    .update_expression("DELETE marketing_topics :topic SET preferences_changed_at = :now")
                    .expression_attribute_values(":topic", AttributeValue::Ss(vec![topic.clone()])),
                format!("unsubscribed {topic}"),
            ),
            PreferenceChange::Unsubscribe { topic: None } => (
                update
                    .update_expression("SET unsubscribed_all = :true, preferences_changed_at = :now")
                    .expression_attribute_values(":true", AttributeValue::Bool(true)),
                "unsubscribed from all".to_owned(),
            ),
            PreferenceChange::Set { topics, unsubscribed_all } => {
                let update = update.expression_attribute_values(":all", AttributeValue::Bool(*unsubscribed_all));
                let update = if topics.is_empty() {
                    update.update_expression("REMOVE marketing_topics SET unsubscribed_all = :all, preferences_changed_at = :now")
                } else {
                    update
                        .update_expression("SET marketing_topics = :topics, unsubscribed_all = :all, preferences_changed_at = :now")
                        .expression_attribute_values(":topics", ss(topics))
                };
                let listed = topics.iter().cloned().collect::<Vec<_>>().join(",");
                (update, format!("topics [{listed}]{}", if *unsubscribed_all { ", unsubscribed from all" } else { "" }))
            }
        };
        let log = mail_log_item(profile_id, &now, source, description, token_id);
        let put = built(Put::builder().table_name(&self.table).set_item(Some(log)).build())?;
        let items = vec![
            TransactWriteItem::builder().update(built(update.build())?).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        self.transact(items).await?;
        tracing::info!(profile_id, source = source.as_str(), token_id, "mail preferences changed");
        Ok(self.get((pk, sk)).await?.as_ref().map(preferences_of))
    }
}

fn submission_item(submission: &NewSubmission) -> HashMap<String, AttributeValue> {
    let data = &submission.data;
    let client = &submission.client;
    let consent = &submission.consent;

    let mut fields: HashMap<String, AttributeValue> =
        HashMap::from([("email".into(), s(data.email.as_str()))]);
    let standard = [
        ("name", data.name.clone()),
        ("phone", data.phone.as_ref().map(|p| p.as_e164().to_owned())),
        ("job_title", data.job_title.clone()),
        ("company", data.company.clone()),
        ("country", data.country.map(|c| c.code().to_owned())),
        ("state", data.state.as_ref().map(|s| s.code().to_owned())),
        ("message", data.message.clone()),
    ];
    for (name, value) in standard {
        if let Some(value) = value {
            fields.insert(name.into(), s(value));
        }
    }
    for (name, value) in &data.custom {
        fields.insert(name.clone(), s(value));
    }
    if !data.topics.is_empty() {
        fields.insert("interests".into(), AttributeValue::Ss(data.topics.iter().cloned().collect()));
    }

    let mut browser = HashMap::from([
        ("source_ip".to_owned(), s(&client.source_ip)),
        ("received_at".to_owned(), s(client.received_at.rfc3339())),
    ]);
    for (name, value) in [
        ("user_agent", &client.user_agent),
        ("accept_language", &client.accept_language),
        ("referer", &client.referer),
    ] {
        if let Some(value) = value {
            browser.insert(name.to_owned(), s(value));
        }
    }

    let purposes = consent
        .purposes
        .iter()
        .map(|p| {
            AttributeValue::M(HashMap::from([
                ("id".to_owned(), s(&p.id)),
                (
                    "basis".to_owned(),
                    s(serde_json::to_value(p.basis)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()),
                ),
            ]))
        })
        .collect();
    let mut evidence = HashMap::from([
        ("form".to_owned(), s(consent.form.as_str())),
        ("purposes".to_owned(), AttributeValue::L(purposes)),
        ("policy_version".to_owned(), s(&consent.policy_version)),
        ("given_at".to_owned(), s(consent.given_at.rfc3339())),
        ("source_ip".to_owned(), s(&consent.source_ip)),
        ("marketing_topics".to_owned(), AttributeValue::L(consent.topics.iter().map(s).collect())),
    ]);
    if let Some(ua) = &consent.user_agent {
        evidence.insert("user_agent".to_owned(), s(ua));
    }

    HashMap::from([
        ("type".into(), s("submission")),
        ("v".into(), n(SCHEMA_VERSION)),
        ("submission_id".into(), s(submission.id.as_str())),
        ("form".into(), s(submission.form.as_str())),
        ("received_at".into(), s(client.received_at.rfc3339())),
        (keys::TTL.into(), n(submission.expires_at.epoch_seconds())),
        ("fields".into(), AttributeValue::M(fields)),
        ("browser".into(), AttributeValue::M(browser)),
        ("consent".into(), AttributeValue::M(evidence)),
    ])
}

mod audit;
mod rights;
