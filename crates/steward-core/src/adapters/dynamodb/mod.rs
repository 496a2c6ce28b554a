//! The single-table DynamoDB store. Item layout, keys and costs: `docs/data-model.md`.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use crate::domain::careers::{CvCheck, CvOutcome};
use crate::domain::careers::{CvFile, CvRecorded, CvStore, CvVerdict};
use crate::domain::fields::Email;
use crate::domain::forms::submit::NewSubmission;
use crate::domain::forms::submit::{Inserted, Owed, SubmissionStore, UpsertedProfile};
use crate::domain::ids::ProfileId;
use crate::domain::mail::campaign::{Subscriber, SubscriberStore};
use crate::domain::mail::outbox::{Enqueued, MarketingConsent, OutboxMessage, OutboxStore};
use crate::domain::mail::preferences::{
    ChangeSource, MailPreferences, PreferenceChange, PreferenceStore, SuppressionStore,
};
use crate::domain::payments::{
    PaymentKind, PaymentRecord, PaymentRef, PaymentStatus, PaymentStore, PaymentUpdate, RecordedPayment,
    SeatHold,
};
use crate::domain::ports::{Clock, RateLimiter, StoreError};
use crate::domain::privacy::access::{
    controller, supervisory_authority, KnownAddress, PrivacyStore, Session, SignInLink,
    DATA_PROTECTION_OFFICER, RECIPIENTS,
};
use crate::secret::SecretKey;

/// Profile attributes `retain_until_<form>`: when that form's latest submission expires.
pub const RETAIN_UNTIL_PREFIX: &str = "retain_until_";

/// Version of the item layout written by this code; readers accept this and the previous one.
///
/// - 1: the first layout. Only profiles, submissions and payments carried `v`.
/// - 2: every item carries `type` and `v`; audit records name their actor (`actor`) and cover
///   operators' actions (`OPERATOR#` sort keys) as well as erasures. Version 1's erasure records
///   have no `actor`: readers take it from their `reason` (see `domain::privacy::audit`).
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

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    hash_key: SecretKey,
    /// When items are stamped (`updated_at`, history, audit): the function's one clock.
    clock: Arc<dyn Clock>,
}

/// What a queue's dispatcher may take (the outbox's and the deliveries'): pending and due, or
/// sending under a lease that has run out (its dispatcher stopped).
const DUE: &str =
    "((#status = :pending AND next_attempt_at <= :now) OR (#status = :sending AND lease_until < :now))";

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, hash_key: SecretKey, clock: Arc<dyn Clock>) -> Self {
        Self { client, table: table.into(), hash_key, clock }
    }

    /// The store every function runs with: on the function's SDK configuration, its consumed
    /// capacity metered for the invocation's log line (`capacity`).
    pub fn metered(
        aws: &aws_config::SdkConfig,
        table: impl Into<String>,
        hash_key: SecretKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::new(capacity::metered_client(aws), table, hash_key, clock)
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

    /// A queue partition's items a dispatcher may take now ([`DUE`]), their `sk` and `occurred_at`
    /// only, read strongly, page after page until at least `limit` are found or the partition
    /// ends (`usize::MAX`: all of them).
    async fn due_in(
        &self,
        partition: &str,
        now: i64,
        limit: usize,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut due = Vec::new();
        let mut start = None;
        while due.len() < limit {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .filter_expression(DUE)
                // What a dispatcher orders and claims by: a backlog's items are never held whole.
                .projection_expression("sk, occurred_at")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":pk", s(partition))
                .expression_attribute_values(":pending", s("pending"))
                .expression_attribute_values(":sending", s("sending"))
                .expression_attribute_values(":now", n(now))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?;
            due.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        Ok(due)
    }

    /// Moves up to `limit` items waiting in a queue's partition of old (before it was sharded) to
    /// the key `key_of` gives each id, each in one transaction ([`Self::move_queued`]). Best effort
    /// and bounded, so that what is left there never keeps a run from sending what is sharded
    /// already: what is not moved now is moved on a later run.
    async fn move_unsharded(&self, old: &str, limit: usize, key_of: fn(&str) -> (String, String)) {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(old))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(err) => {
                tracing::warn!(queue = old, error = %classify(err), "a queue's partition of old could not be read; next run retries");
                return;
            }
        };
        let now = self.clock.now();
        for item in page.items() {
            let Some(id) = item.get(keys::SK).and_then(|v| v.as_s().ok()) else { continue };
            // Being sent by a dispatcher of the previous release: left to it (or, if it died, to a
            // later run, once its lease is over).
            let leased = item.get("status").and_then(|v| v.as_s().ok()).is_some_and(|s| s == "sending")
                && item
                    .get("lease_until")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|until| until >= now);
            if leased {
                continue;
            }
            if let Err(err) = self.move_queued(item, key_of(id)).await {
                tracing::warn!(queue = old, error = %err, "an item of a queue's partition of old was not moved; next run retries");
            }
        }
    }

    /// Moves a queued item, as it was read, from the queue's partition of old to `(pk, sk)` in one
    /// transaction: only while the old item is still there as read (the same status, due time and
    /// attempts), so that one an erasure, a deleted submission, a release of a held delivery or a
    /// dispatcher of the previous release changed or took meanwhile is never brought back stale. Refused because a copy is where it belongs already (another dispatcher
    /// moved it), the old one goes; refused otherwise, it is left for the next run to read again.
    async fn move_queued(
        &self,
        item: &HashMap<String, AttributeValue>,
        (pk, sk): (String, String),
    ) -> Result<(), StoreError> {
        let (Some(old_pk), Some(old_sk)) = (item.get(keys::PK).cloned(), item.get(keys::SK).cloned()) else {
            return Ok(());
        };
        let old = HashMap::from([(keys::PK.to_owned(), old_pk), (keys::SK.to_owned(), old_sk)]);
        let mut moved = item.clone();
        moved.insert(keys::PK.into(), s(&pk));
        moved.insert(keys::SK.into(), s(&sk));
        let put = self.put_if_absent(moved)?;
        // Still as read: its status (a held delivery released meanwhile is pending), when it is
        // due and how often it was tried (a dispatcher of the previous release took it).
        let mut as_read = vec!["attribute_exists(pk)".to_owned()];
        let mut values = HashMap::new();
        let mut names = HashMap::new();
        for (n, attribute) in ["status", "next_attempt_at", "attempts"].into_iter().enumerate() {
            names.insert(format!("#a{n}"), attribute.to_owned());
            match item.get(attribute) {
                Some(value) => {
                    as_read.push(format!("#a{n} = :a{n}"));
                    values.insert(format!(":a{n}"), value.clone());
                }
                None => as_read.push(format!("attribute_not_exists(#a{n})")),
            }
        }
        let delete = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(old.clone()))
                .condition_expression(as_read.join(" AND "))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values((!values.is_empty()).then_some(values))
                .build(),
        )?;
        let moved = self
            .transact(vec![
                TransactWriteItem::builder().put(put).build(),
                TransactWriteItem::builder().delete(delete).build(),
            ])
            .await?;
        if !moved && self.get((pk, sk)).await?.is_some() {
            let result = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(old))
                .condition_expression("attribute_exists(pk)")
                .send()
                .await;
            unless_condition_failed(result)?;
        }
        Ok(())
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
        match cancelled_by(&codes) {
            Some(Cancelled::Throttled) => Err(StoreError::Unavailable(Box::new(err))),
            Some(Cancelled::Refused) => Ok(Transacted::Refused),
            Some(Cancelled::Conflicted) => Ok(Transacted::Conflicted),
            None => Err(classify(err)),
        }
    }

    /// The key of an erased person's tombstone.
    pub fn erased_key(&self, profile_id: &ProfileId) -> (String, String) {
        keys::erased(&self.hash_key.pseudonym("erased", profile_id.as_str()))
    }

    pub fn email_pseudonym(&self, normalized_email: &str) -> String {
        self.hash_key.pseudonym("email", normalized_email)
    }

    /// A sent message's marker key: a keyed hash of the message id, which names its person's
    /// profile; the marker outlives an erasure by up to 30 days and must not keep that id.
    pub fn sent_marker(&self, message_id: &str) -> (String, String) {
        keys::outbox_sent(&self.hash_key.pseudonym("outbox-sent", message_id))
    }
}

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

/// Why DynamoDB cancelled a transaction, from its items' reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cancelled {
    /// An item over its partition's throughput (a hot queue shard at a peak) cancels the whole
    /// transaction: a retry later is the answer, as for any throttled request.
    Throttled,
    /// A condition failed, and only conditions.
    Refused,
    /// Another transaction had an item, and perhaps a condition failed too: read and try again.
    Conflicted,
}

fn cancelled_by(codes: &[String]) -> Option<Cancelled> {
    let throttled = |code: &String| {
        matches!(code.as_str(), "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded")
    };
    if codes.iter().any(throttled) {
        Some(Cancelled::Throttled)
    } else if !codes.is_empty() && codes.iter().all(|c| c == "ConditionalCheckFailed") {
        Some(Cancelled::Refused)
    } else if !codes.is_empty()
        && codes.iter().all(|c| c == "ConditionalCheckFailed" || c == "TransactionConflict")
    {
        Some(Cancelled::Conflicted)
    } else {
        None
    }
}

fn built<T, E: std::error::Error + Send + Sync + 'static>(result: Result<T, E>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Unexpected(Box::new(e)))
}

impl DynamoStore {
    /// The table keys of a profile, from its id (the `by-profile-id` index, eventually consistent).
    pub async fn profile_key(&self, profile_id: &ProfileId) -> Result<Option<(String, String)>, StoreError> {
        Ok(self.profile(profile_id).await?.map(|(key, _)| key))
    }

    /// The address a profile holds now, from its id.
    pub(super) async fn profile_address(&self, profile_id: &ProfileId) -> Result<Option<String>, StoreError> {
        Ok(self.profile(profile_id).await?.and_then(|(_, profile)| text(&profile, "email")))
    }

    /// A person's profile item and its key, found by profile id. The index is eventually
    /// consistent: an entry may still point where the profile was (before an address change) or
    /// at a profile erased since, so each candidate is read back, consistently, and kept only if
    /// it is this profile.
    pub async fn profile(
        &self,
        profile_id: &ProfileId,
    ) -> Result<Option<((String, String), HashMap<String, AttributeValue>)>, StoreError> {
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
        for item in output.items() {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            let (Some(pk), Some(sk)) = (text(keys::PK), text(keys::SK)) else { continue };
            if sk != "PROFILE" {
                continue;
            }
            let Some(stored) = self.get((pk.clone(), sk.clone())).await? else { continue };
            if stored.get("profile_id").and_then(|v| v.as_s().ok()).map(String::as_str)
                == Some(profile_id.as_str())
            {
                return Ok(Some(((pk, sk), stored)));
            }
        }
        Ok(None)
    }
}

/// An item as JSON, for people reading their own data: keys and internal bookkeeping left out.
fn item_json(item: &HashMap<String, AttributeValue>) -> serde_json::Value {
    const INTERNAL: [&str; 10] = [
        "held_submissions",
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

/// How long audit records are kept.
const AUDIT_RETENTION_DAYS: i64 = 7 * 365;

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

mod audit;
pub mod capacity;
mod careers;
mod destinations;
mod erasure;
pub(crate) mod forms;
mod inbox;
pub mod keys;
mod mail;
mod payments;
mod privacy;
mod requests;
mod retention;
mod rights;

#[cfg(test)]
mod tests {
    use super::{cancelled_by, Cancelled};

    fn codes(reasons: &[&str]) -> Vec<String> {
        reasons.iter().map(|r| (*r).to_owned()).collect()
    }

    #[test]
    fn a_cancelled_transaction_is_judged_by_its_items_reasons() {
        assert_eq!(cancelled_by(&codes(&["ConditionalCheckFailed"])), Some(Cancelled::Refused));
        assert_eq!(
            cancelled_by(&codes(&["ConditionalCheckFailed", "TransactionConflict"])),
            Some(Cancelled::Conflicted)
        );
        // A throttled item decides, whatever the others say: a 503 to try again, never a 500.
        for throttled in ["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"] {
            assert_eq!(
                cancelled_by(&codes(&["ConditionalCheckFailed", throttled])),
                Some(Cancelled::Throttled),
                "{throttled}"
            );
        }
        assert_eq!(cancelled_by(&codes(&["ValidationError"])), None);
        assert_eq!(cancelled_by(&[]), None);
    }
}
