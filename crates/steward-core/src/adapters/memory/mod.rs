//! Every port of the domain, in memory (feature `testing`): the use cases' own tests run against
//! these in milliseconds; the black-box tests prove the real adapters behave the same.
//!
//! [`MemoryStore`] keeps one "table", as the DynamoDB store does: the same items under the same
//! keys ([`crate::adapters::dynamodb::keys`]) with the same attribute names, held as JSON. Keeping
//! DynamoDB's layout rather than a typed model is deliberate: erasure, retention and exports work
//! on item keys and whole partitions, and a test that asserts what is stored reads what the real
//! table would hold. Each method does what its DynamoDB twin does (same conditions, same answers),
//! as one step under one lock, so every method is "both or neither". The differences a test could
//! notice are listed in [`MemoryStore`]'s documentation.
//!
//! Besides the table: [`MemoryClock`] (the time every internal stamp uses, settable),
//! [`MemoryMail`] (records what was sent), [`MemoryCvObjects`] (the CV bucket's versions),
//! [`MemoryUploads`] (the uploads a browser put there, as verify-cv reads them),
//! [`MemoryUploadSigner`] and [`MemoryPaymentProvider`] (predictable Stripe ids). [`contract`]
//! holds the promises both stores must keep, run against each.

use crate::domain::ids::ProfileId;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use crate::adapters::dynamodb::{keys, SCHEMA_VERSION};
use crate::domain::careers::verification::{ContentScan, Scanned, UploadedCvs, UploadedObject, UploadsError};
use crate::domain::careers::{PresignedPost, UploadRules, UploadSigner};
use crate::domain::mail::outbox::{MailSender, SendError};
use crate::domain::payments::{Created, IntentRequest, PaymentProvider, ProviderError, SubscriptionRequest};
use crate::domain::ports::{Clock, StoreError};
use crate::domain::privacy::erasure::{CvObjects, CvObjectsError, ItemKey};
use crate::secret::SecretKey;
use crate::time::Timestamp;

mod audit;
mod careers;
pub mod contract;
mod destinations;
mod erasure;
mod forms;
mod mail;
mod payments;
mod privacy;
mod requests;
mod retention;
mod rights;

/// One item's attributes (its keys are the table's key, not attributes). Numbers are JSON
/// integers, string sets sorted JSON arrays (never empty: DynamoDB removes an emptied set), maps
/// JSON objects.
pub type Item = Map<String, Value>;

type Table = BTreeMap<ItemKey, Item>;

/// How long audit records are kept (the DynamoDB store's period).
const AUDIT_RETENTION_DAYS: i64 = 7 * 365;

// --- The clock ------------------------------------------------------------------------------

/// A clock that stands still until a test moves it, to the second. Clones share the time, so the
/// store, the use case and the test all see one clock.
#[derive(Debug, Clone)]
pub struct MemoryClock(Arc<AtomicI64>);

impl MemoryClock {
    /// 2026-01-01T00:00:00Z: a fixed start makes every stamp in a test predictable.
    pub const START: i64 = 1_767_225_600;

    pub fn at(epoch_seconds: i64) -> Self {
        Self(Arc::new(AtomicI64::new(epoch_seconds)))
    }

    pub fn set(&self, epoch_seconds: i64) {
        self.0.store(epoch_seconds, Ordering::SeqCst);
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Default for MemoryClock {
    fn default() -> Self {
        Self::at(Self::START)
    }
}

impl Clock for MemoryClock {
    fn system_time(&self) -> SystemTime {
        let seconds = self.0.load(Ordering::SeqCst);
        let since_epoch = Duration::from_secs(seconds.unsigned_abs());
        if seconds < 0 {
            SystemTime::UNIX_EPOCH - since_epoch
        } else {
            SystemTime::UNIX_EPOCH + since_epoch
        }
    }

    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn timestamp(epoch_seconds: i64) -> Timestamp {
    Timestamp::from_epoch_seconds(epoch_seconds)
}

// --- Faults ---------------------------------------------------------------------------------

/// How an injected failure looks to the use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Throttled or down: `StoreError::Unavailable`.
    Unavailable,
    /// A bug or misconfiguration: `StoreError::Unexpected`.
    Unexpected,
}

/// When calls fail: the calls are the port methods, counted as they are made.
#[derive(Debug, Clone, Copy)]
struct FaultRule {
    /// Only calls of this port method fail (and count); every method when `None`.
    operation: Option<&'static str>,
    /// Calls that still succeed before the first failure.
    succeed_first: usize,
    /// Failures before the store heals by itself; never when `None`.
    fail_times: Option<usize>,
    fault: Fault,
}

// --- The store ------------------------------------------------------------------------------

#[derive(Default)]
struct State {
    table: Table,
    fault: Option<FaultRule>,
    calls: Vec<&'static str>,
}

impl State {
    /// Whether this call fails, by the rule set (which it uses up as it goes).
    fn trip(&mut self, operation: &'static str) -> Option<Fault> {
        let rule = self.fault.as_mut()?;
        if rule.operation.is_some_and(|only| only != operation) {
            return None;
        }
        if rule.succeed_first > 0 {
            rule.succeed_first -= 1;
            return None;
        }
        let fault = rule.fault;
        match rule.fail_times {
            Some(1) => self.fault = None,
            Some(n) => rule.fail_times = Some(n - 1),
            None => {}
        }
        Some(fault)
    }
}

/// The whole table in memory, implementing every store port.
///
/// What deliberately differs from DynamoDB:
/// - Every method is one atomic step: an injected fault fails a whole call before it changes
///   anything. DynamoDB methods that make several requests (`record_started`, `suppress`,
///   `retain_payment`, `delete_items`' batches) can also stop between them; their callers are
///   written for that, but only the black-box fault tests exercise it.
/// - No transaction ever conflicts with another (`TransactionConflict`), and no retry is needed.
/// - The `by-profile-id` index is read consistently: a profile is found by id as soon as it is
///   written (DynamoDB's index lags by a moment).
/// - Items past their `expires_at` stay until the retention sweep deletes them, or a test calls
///   [`MemoryStore::expire_ttl`] (DynamoDB's TTL deletes them within days). Readers that check
///   the expiry themselves (sign-in links, pending requests) do so here too.
/// - Scans page by a count of items ([`MemoryStore::with_page_size`]), not by 1 MB, in key order.
/// - Times the DynamoDB store takes from the system clock (`updated_at`, `held_at`, a
///   suppression's `at`, audit records) come from the store's [`MemoryClock`].
pub struct MemoryStore {
    state: Mutex<State>,
    hash_key: SecretKey,
    clock: MemoryClock,
    page_size: usize,
}

impl MemoryStore {
    /// An empty table. `hash_key` must be the configuration's, as the deployed store's is: people
    /// are found by a keyed hash of their address, and erasure finds their rate counters by it.
    pub fn new(hash_key: SecretKey) -> Self {
        Self::with_clock(hash_key, MemoryClock::default())
    }

    pub fn with_clock(hash_key: SecretKey, clock: MemoryClock) -> Self {
        Self { state: Mutex::new(State::default()), hash_key, clock, page_size: 100 }
    }

    /// How many items one page of a scan (campaign audiences, the retention sweep) reads.
    pub fn with_page_size(mut self, items: usize) -> Self {
        self.page_size = items.max(1);
        self
    }

    pub fn clock(&self) -> &MemoryClock {
        &self.clock
    }

    fn now(&self) -> Timestamp {
        self.clock.timestamp()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("a test panicked while holding the memory store")
    }

    /// Runs one port method against the table: counted, failed if a fault says so, and done
    /// under one lock, so nothing else sees it half-done.
    fn run<T>(
        &self,
        operation: &'static str,
        body: impl FnOnce(&mut Table) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut state = self.lock();
        state.calls.push(operation);
        if let Some(fault) = state.trip(operation) {
            let cause = format!("{operation} failed: a fault injected by the test").into();
            return Err(match fault {
                Fault::Unavailable => StoreError::Unavailable(cause),
                Fault::Unexpected => StoreError::Unexpected(cause),
            });
        }
        body(&mut state.table)
    }

    /// An erased person's tombstone, as the DynamoDB store keys it.
    fn erased_key(&self, profile_id: &ProfileId) -> ItemKey {
        keys::erased(&self.hash_key.pseudonym("erased", profile_id.as_str()))
    }

    fn email_pseudonym(&self, normalized_email: &str) -> String {
        self.hash_key.pseudonym("email", normalized_email)
    }

    /// A sent message's marker key, as the DynamoDB store's: no profile id in it.
    fn sent_marker(&self, message_id: &str) -> ItemKey {
        keys::outbox_sent(&self.hash_key.pseudonym("outbox-sent", message_id))
    }

    // --- Faults, for tests that interrupt a use case ----------------------------------------

    /// Every call fails from now on, until [`Self::heal`].
    pub fn fail_from_now(&self, fault: Fault) {
        self.fail_after(0, fault);
    }

    /// The next `calls` calls succeed; every one after fails, until [`Self::heal`]. Counting the
    /// calls of an uninterrupted run ([`Self::calls`]) gives every point a use case can stop at.
    pub fn fail_after(&self, calls: usize, fault: Fault) {
        self.lock().fault =
            Some(FaultRule { operation: None, succeed_first: calls, fail_times: None, fault });
    }

    /// The next `calls` calls fail, then the store works again.
    pub fn fail_next(&self, calls: usize, fault: Fault) {
        self.lock().fault = (calls > 0).then_some(FaultRule {
            operation: None,
            succeed_first: 0,
            fail_times: Some(calls),
            fault,
        });
    }

    /// Every call of one port method (by its name in the trait, e.g. `"forget_profile"`) fails,
    /// until [`Self::heal`]; the others work.
    pub fn fail_operation(&self, operation: &'static str, fault: Fault) {
        self.lock().fault =
            Some(FaultRule { operation: Some(operation), succeed_first: 0, fail_times: None, fault });
    }

    /// No more injected failures.
    pub fn heal(&self) {
        self.lock().fault = None;
    }

    /// The port methods called so far, in order, failed ones included.
    pub fn calls(&self) -> Vec<&'static str> {
        self.lock().calls.clone()
    }

    // --- Arranging and inspecting the table -------------------------------------------------

    /// The person's tombstone, as an erasure writes it before it reaches their profile (one
    /// that found them under an address they moved to, mid-way).
    pub fn mark_erased(&self, profile_id: &ProfileId) {
        let key = self.erased_key(profile_id);
        self.lock().table.insert(key, Item::new());
    }

    /// One item, by its keys.
    pub fn item(&self, (pk, sk): (String, String)) -> Option<Item> {
        self.lock().table.get(&(pk, sk)).cloned()
    }

    /// Writes an item as it is (a test arranging state the use cases cannot make, such as an
    /// item of an older layout). `item` holds its attributes, not its keys.
    pub fn put_item(&self, (pk, sk): (String, String), item: Item) {
        self.lock().table.insert((pk, sk), item);
    }

    /// Removes an item as it is (a test arranging an application that expired or was erased).
    pub fn delete_item(&self, (pk, sk): (String, String)) {
        self.lock().table.remove(&(pk, sk));
    }

    /// Every item, in key order.
    pub fn items(&self) -> Vec<(ItemKey, Item)> {
        self.lock().table.iter().map(|(key, item)| (key.clone(), item.clone())).collect()
    }

    /// Every item of one partition, by sort key.
    pub fn partition(&self, pk: &str) -> Vec<(ItemKey, Item)> {
        let state = self.lock();
        partition(&state.table, pk).map(|(key, item)| (key.clone(), item.clone())).collect()
    }

    /// Every message waiting in the transactional outbox, whichever shard it is in.
    pub fn transactional_outbox(&self) -> Vec<(ItemKey, Item)> {
        let queues = keys::outbox_queue(crate::domain::mail::outbox::Queue::Transactional);
        let state = self.lock();
        partitions(&state.table, &queues).map(|(key, item)| (key.clone(), item.clone())).collect()
    }

    /// The keys of the profile of an address, as the forms find it (case-insensitively).
    pub fn profile_key_of(&self, email: &str) -> ItemKey {
        keys::profile_by_email(&self.email_pseudonym(&crate::domain::fields::address_key(email)))
    }

    /// What DynamoDB's TTL does eventually: deletes every item whose `expires_at` has passed.
    /// Returns how many went.
    pub fn expire_ttl(&self, now: i64) -> usize {
        let mut state = self.lock();
        let before = state.table.len();
        state.table.retain(|_, item| number(item, keys::TTL).is_none_or(|at| at >= now));
        before - state.table.len()
    }
}

/// Every item of one partition, by sort key, as a DynamoDB query returns them.
fn partition<'a>(table: &'a Table, pk: &'a str) -> impl Iterator<Item = (&'a ItemKey, &'a Item)> + 'a {
    table.range((pk.to_owned(), String::new())..).take_while(move |((item_pk, _), _)| item_pk == pk)
}

/// The items of several partitions (a sharded queue's), one partition after the other.
fn partitions<'a>(table: &'a Table, pks: &'a [String]) -> impl Iterator<Item = (&'a ItemKey, &'a Item)> + 'a {
    pks.iter().flat_map(move |pk| partition(table, pk))
}

/// The table keys of a profile, from its id (the `by-profile-id` index).
fn profile_key(table: &Table, profile_id: &ProfileId) -> Option<ItemKey> {
    let partition = keys::profile_partition(profile_id);
    table
        .iter()
        .find(|((_, sk), item)| sk == "PROFILE" && text(item, keys::GSI1_PK).as_deref() == Some(&partition))
        .map(|(key, _)| key.clone())
}

/// The address a profile holds now, from its id.
fn profile_address(table: &Table, profile_id: &ProfileId) -> Option<String> {
    profile_key(table, profile_id).and_then(|key| table.get(&key)).and_then(|profile| text(profile, "email"))
}

/// A new item of a type, stamped with the layout version that writes it.
fn stamped(kind: &str) -> Item {
    let mut item = Item::new();
    item.insert("type".into(), kind.into());
    item.insert("v".into(), SCHEMA_VERSION.into());
    item
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(Value::as_i64)
}

fn flag(item: &Item, name: &str) -> bool {
    item.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// A string set attribute; empty when absent.
fn strings(item: &Item, name: &str) -> BTreeSet<String> {
    item.get(name)
        .and_then(Value::as_array)
        .map(|values| values.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Writes a string set; an empty one removes the attribute, as DynamoDB does.
fn set_strings(item: &mut Item, name: &str, values: BTreeSet<String>) {
    if values.is_empty() {
        item.remove(name);
    } else {
        item.insert(name.to_owned(), values.into_iter().collect::<Vec<_>>().into());
    }
}

/// A scan's page cursor: the last key read, both parts, on one line (as the DynamoDB store's).
fn cursor_of((pk, sk): &ItemKey) -> String {
    format!("{pk}\n{sk}")
}

/// One page of a scan of the whole table: the items after `cursor`, and the next cursor when
/// more are left.
fn scan_page<'a>(
    table: &'a Table,
    cursor: Option<&str>,
    page_size: usize,
) -> (Vec<(&'a ItemKey, &'a Item)>, Option<String>) {
    let after = cursor.and_then(|c| c.split_once('\n')).map(|(pk, sk)| (pk.to_owned(), sk.to_owned()));
    let rest = table.iter().filter(|(key, _)| after.as_ref().is_none_or(|after| *key > after));
    let page: Vec<_> = rest.take(page_size).collect();
    let more = page.last().is_some_and(|(last, _)| table.range((*last).clone()..).nth(1).is_some());
    let next = if more { page.last().map(|(last, _)| cursor_of(last)) } else { None };
    (page, next)
}

/// Eight random hex digits, for sort keys that must not collide within one second.
fn random_suffix(length: usize) -> String {
    uuid::Uuid::new_v4().simple().to_string()[..length].to_owned()
}

// --- Mail -----------------------------------------------------------------------------------

/// One message the sender accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub from: String,
    pub to: String,
    /// The raw MIME message, as text.
    pub raw: String,
}

#[derive(Debug, Default)]
struct MailState {
    sent: Vec<SentMail>,
    failures_left: usize,
}

/// A mail service that keeps what it is given.
#[derive(Debug, Default)]
pub struct MemoryMail {
    state: Mutex<MailState>,
}

impl MemoryMail {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MailState> {
        self.state.lock().expect("a test panicked while holding the memory mail")
    }

    /// Everything sent, in order.
    pub fn sent(&self) -> Vec<SentMail> {
        self.lock().sent.clone()
    }

    /// What was sent to one address.
    pub fn sent_to(&self, address: &str) -> Vec<SentMail> {
        self.sent().into_iter().filter(|mail| mail.to == address).collect()
    }

    /// The next `sends` are refused as if the service were down (the outbox defers them).
    pub fn fail_next(&self, sends: usize) {
        self.lock().failures_left = sends;
    }
}

impl MailSender for MemoryMail {
    async fn send(&self, from: &str, to: &str, raw: Vec<u8>) -> Result<(), SendError> {
        let mut state = self.lock();
        if state.failures_left > 0 {
            state.failures_left -= 1;
            return Err(SendError::Unavailable("a failure injected by the test".into()));
        }
        let raw = String::from_utf8_lossy(&raw).into_owned();
        state.sent.push(SentMail { from: from.to_owned(), to: to.to_owned(), raw });
        Ok(())
    }
}

// --- The CV bucket --------------------------------------------------------------------------

/// One stored version of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub key: String,
    pub version_id: String,
    /// When it was written (S3's LastModified), epoch seconds.
    pub modified_at: i64,
}

#[derive(Debug, Default)]
struct BucketState {
    versions: Vec<ObjectVersion>,
    failing: bool,
}

/// A versioned bucket: every put adds a version, every delete removes them all.
#[derive(Debug, Default)]
pub struct MemoryCvObjects {
    state: Mutex<BucketState>,
}

impl MemoryCvObjects {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, BucketState> {
        self.state.lock().expect("a test panicked while holding the memory bucket")
    }

    /// Stores one more version of `key`, written at `modified_at`.
    pub fn put(&self, key: &str, modified_at: i64) {
        let version_id = uuid::Uuid::new_v4().simple().to_string();
        self.lock().versions.push(ObjectVersion { key: key.to_owned(), version_id, modified_at });
    }

    /// An applicant's upload, where the upload grant puts it: `cv/<application>/<random>`.
    pub fn put_cv(&self, application_id: &str, modified_at: i64) -> String {
        let key = crate::domain::careers::object_key(application_id);
        self.put(&key, modified_at);
        key
    }

    /// An export too large for one response, where the privacy function keeps it.
    pub fn put_export(&self, profile_id: &ProfileId, modified_at: i64) -> String {
        let key = format!("exports/{profile_id}/{}.json", uuid::Uuid::new_v4().simple());
        self.put(&key, modified_at);
        key
    }

    /// Every version still stored.
    pub fn versions(&self) -> Vec<ObjectVersion> {
        self.lock().versions.clone()
    }

    /// Every call fails (`true`) or works again (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.lock().failing = failing;
    }

    fn delete_where(&self, doomed: impl Fn(&ObjectVersion) -> bool) -> Result<usize, CvObjectsError> {
        let mut state = self.lock();
        if state.failing {
            return Err(CvObjectsError("a failure injected by the test".into()));
        }
        let before = state.versions.len();
        state.versions.retain(|version| !doomed(version));
        Ok(before - state.versions.len())
    }
}

/// The S3 bucket's check of an id used as a key prefix: nothing that could reach another prefix.
fn checked_prefix(id: &str, what: &str) -> Result<(), CvObjectsError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(CvObjectsError(format!("not {what}")));
    }
    Ok(())
}

impl CvObjects for MemoryCvObjects {
    async fn delete_application(&self, application_id: &str) -> Result<usize, CvObjectsError> {
        checked_prefix(application_id, "an application id")?;
        let prefix = format!("cv/{application_id}/");
        self.delete_where(|version| version.key.starts_with(&prefix))
    }

    async fn delete_exports(&self, profile_id: &ProfileId) -> Result<usize, CvObjectsError> {
        checked_prefix(profile_id, "a profile id")?;
        let prefix = format!("exports/{profile_id}/");
        self.delete_where(|version| version.key.starts_with(&prefix))
    }

    async fn delete_exports_before(&self, cutoff: i64) -> Result<usize, CvObjectsError> {
        self.delete_where(|version| version.key.starts_with("exports/") && version.modified_at < cutoff)
    }
}

// --- Upload grants --------------------------------------------------------------------------

/// Signs nothing: the grant lists what it allows as plain form fields, so a test reads exactly
/// what the use case asked the bucket to accept.
#[derive(Debug, Clone, Default)]
pub struct MemoryUploadSigner;

impl UploadSigner for MemoryUploadSigner {
    fn presign(&self, rules: &UploadRules<'_>, now: SystemTime) -> PresignedPost {
        let mut fields = vec![
            ("key".to_owned(), rules.key.to_owned()),
            ("Content-Type".to_owned(), rules.content_type.to_owned()),
            ("x-amz-server-side-encryption".to_owned(), rules.server_side_encryption.to_owned()),
        ];
        fields
            .extend(rules.metadata.iter().map(|(name, value)| (format!("x-amz-meta-{name}"), value.clone())));
        PresignedPost {
            url: format!("memory://{}", rules.bucket),
            fields,
            expires_at: now + rules.valid_for,
            policy: serde_json::json!({
                "bucket": rules.bucket,
                "key": rules.key,
                "content_type": rules.content_type,
                "max_bytes": rules.max_bytes,
                "valid_for_seconds": rules.valid_for.as_secs(),
            }),
        }
    }
}

// --- The payment provider -------------------------------------------------------------------

/// How the provider fails, when a test says so.
#[derive(Debug, Clone)]
pub enum ProviderFault {
    Unavailable,
    Rejected,
    /// Every call answers, `seconds` later on this clock (a provider under load).
    Slow {
        clock: MemoryClock,
        seconds: i64,
    },
}

#[derive(Debug, Default)]
struct ProviderState {
    calls: Vec<String>,
    fault: Option<ProviderFault>,
}

/// Stripe as Steward uses it, with ids derived from Steward's own as Stripe's idempotency keys
/// make them: the same profile always gets `cus_<profile>`, the same registration `pi_<id>` or
/// `sub_<id>`, so a retried call returns what the first one made.
#[derive(Debug, Default)]
pub struct MemoryPaymentProvider {
    state: Mutex<ProviderState>,
}

impl MemoryPaymentProvider {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, ProviderState> {
        self.state.lock().expect("a test panicked while holding the memory provider")
    }

    /// Every call fails so from now on (`Some`), or works again (`None`).
    pub fn set_fault(&self, fault: Option<ProviderFault>) {
        self.lock().fault = fault;
    }

    /// The calls made, as `create_customer <profile>`, `create_payment_intent <registration>`...
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    fn call(&self, call: String) -> Result<(), ProviderError> {
        let mut state = self.lock();
        state.calls.push(call);
        match &state.fault {
            None => Ok(()),
            Some(ProviderFault::Slow { clock, seconds }) => {
                clock.advance(*seconds);
                Ok(())
            }
            Some(ProviderFault::Unavailable) => {
                Err(ProviderError::Unavailable("injected by the test".into()))
            }
            Some(ProviderFault::Rejected) => Err(ProviderError::Rejected("injected by the test".into())),
        }
    }
}

/// The client secret Stripe hands out for an intent or a subscription's first invoice.
pub fn client_secret_of(id: &str) -> String {
    format!("{id}_secret_memory")
}

impl PaymentProvider for MemoryPaymentProvider {
    async fn create_customer(&self, profile_id: &ProfileId) -> Result<String, ProviderError> {
        self.call(format!("create_customer {profile_id}"))?;
        Ok(format!("cus_{profile_id}"))
    }

    async fn create_payment_intent(&self, request: &IntentRequest<'_>) -> Result<Created, ProviderError> {
        self.call(format!("create_payment_intent {}", request.registration_id))?;
        let id = format!("pi_{}", request.registration_id);
        Ok(Created { client_secret: client_secret_of(&id), id })
    }

    async fn create_subscription(&self, request: &SubscriptionRequest<'_>) -> Result<Created, ProviderError> {
        self.call(format!("create_subscription {}", request.registration_id))?;
        let id = format!("sub_{}", request.registration_id);
        Ok(Created { client_secret: client_secret_of(&id), id })
    }
}

/// Uploaded objects as the CV bucket holds them: bytes, what S3 says about them, and whether
/// they are marked verified. One version per key (a new upload takes a new key); the exact
/// version is asked for as S3 asks for it.
#[derive(Default)]
pub struct MemoryUploads {
    objects: Mutex<BTreeMap<String, Upload>>,
}

/// One uploaded object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub object: UploadedObject,
    pub bytes: Vec<u8>,
    pub verified: bool,
}

impl MemoryUploads {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Upload>> {
        self.objects.lock().expect("a test panicked while holding the memory uploads")
    }

    /// What a browser's upload leaves: the bytes, the type it declared and the metadata the signed
    /// policy pinned.
    pub fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        metadata: &[(&str, &str)],
        uploaded_at: i64,
    ) {
        let object = UploadedObject {
            version_id: Some(uuid::Uuid::new_v4().simple().to_string()),
            size: bytes.len() as u64,
            content_type: Some(content_type.to_owned()),
            metadata: metadata.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            uploaded_at,
        };
        self.lock().insert(key.to_owned(), Upload { object, bytes: bytes.to_vec(), verified: false });
    }

    pub fn get(&self, key: &str) -> Option<Upload> {
        self.lock().get(key).cloned()
    }
}

impl MemoryUploads {
    /// The upload at `key`, if `version_id` (when given) is its version: in a versioned bucket an
    /// exact version is asked for, and another version is not this one.
    fn version<'a>(
        uploads: &'a BTreeMap<String, Upload>,
        key: &str,
        version_id: Option<&str>,
    ) -> Option<&'a Upload> {
        uploads
            .get(key)
            .filter(|upload| version_id.is_none_or(|v| upload.object.version_id.as_deref() == Some(v)))
    }
}

impl UploadedCvs for MemoryUploads {
    async fn head(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<UploadedObject>, UploadsError> {
        Ok(Self::version(&self.lock(), key, version_id).map(|upload| upload.object.clone()))
    }

    async fn first_bytes(
        &self,
        key: &str,
        version_id: Option<&str>,
        count: u64,
    ) -> Result<Vec<u8>, UploadsError> {
        let uploads = self.lock();
        let upload = Self::version(&uploads, key, version_id)
            .ok_or_else(|| UploadsError(format!("no object {key}")))?;
        // S3 answers a range on an empty object with 416 InvalidRange.
        if upload.bytes.is_empty() {
            return Err(UploadsError("InvalidRange: the object is empty".into()));
        }
        Ok(upload.bytes.iter().take(count as usize).copied().collect())
    }

    async fn scan(
        &self,
        key: &str,
        version_id: Option<&str>,
        mut scan: ContentScan,
    ) -> Result<Scanned, UploadsError> {
        let uploads = self.lock();
        let upload = Self::version(&uploads, key, version_id)
            .ok_or_else(|| UploadsError(format!("no object {key}")))?;
        // In chunks, as the bucket streams it.
        for chunk in upload.bytes.chunks(8 * 1024) {
            scan.feed(chunk);
        }
        Ok(scan.finish())
    }

    async fn mark_verified(&self, key: &str, version_id: Option<&str>) -> Result<(), UploadsError> {
        let mut uploads = self.lock();
        let upload = uploads
            .get_mut(key)
            .filter(|upload| version_id.is_none_or(|v| upload.object.version_id.as_deref() == Some(v)))
            .ok_or_else(|| UploadsError(format!("no object {key}")))?;
        upload.verified = true;
        Ok(())
    }

    /// Only the exact version goes: without one, a versioned bucket would only add a delete marker
    /// and keep the file, so nothing is removed here either.
    async fn delete(&self, key: &str, version_id: Option<&str>) -> Result<(), UploadsError> {
        let mut uploads = self.lock();
        if version_id.is_some() && Self::version(&uploads, key, version_id).is_some() {
            uploads.remove(key);
        }
        Ok(())
    }
}

// --- The world deliveries go to ---------------------------------------------------------------

use crate::domain::destinations::dispatch::{DeliveryError, EventBus, StripeErasure, Webhooks};
use crate::domain::destinations::DomainEvent;

/// The event bus, the webhook receivers and Stripe's erasure, recording what they are given; a
/// test takes any of them down (`"bus"`, `"stripe"` or a webhook's destination id) and back up.
#[derive(Debug, Clone, Default)]
pub struct MemoryDestinations(Arc<Mutex<Received>>);

#[derive(Debug, Default)]
struct Received {
    down: BTreeSet<String>,
    /// Each event in the order it arrived, with where it went (`bus`, or a destination id).
    events: Vec<(String, DomainEvent)>,
    /// Stripe's erasures: customers deleted, subscriptions cancelled.
    customers_deleted: Vec<String>,
    subscriptions_cancelled: Vec<String>,
    /// Webhook receivers without an address in this "deployment".
    unconfigured: BTreeSet<String>,
}

impl MemoryDestinations {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Received> {
        self.0.lock().expect("a test panicked while holding the destinations")
    }

    pub fn take_down(&self, which: &str) {
        self.lock().down.insert(which.to_owned());
    }

    pub fn bring_up(&self, which: &str) {
        self.lock().down.remove(which);
    }

    /// A webhook destination this deployment gives no address.
    pub fn unconfigure(&self, destination: &str) {
        self.lock().unconfigured.insert(destination.to_owned());
    }

    /// What reached `which` (`bus`, or a webhook's destination id), in order.
    pub fn received(&self, which: &str) -> Vec<DomainEvent> {
        self.lock().events.iter().filter(|(to, _)| to == which).map(|(_, event)| event.clone()).collect()
    }

    pub fn customers_deleted(&self) -> Vec<String> {
        self.lock().customers_deleted.clone()
    }

    pub fn subscriptions_cancelled(&self) -> Vec<String> {
        self.lock().subscriptions_cancelled.clone()
    }

    fn take(&self, which: &str, event: &DomainEvent) -> Result<(), DeliveryError> {
        let mut received = self.lock();
        if received.unconfigured.contains(which) {
            return Err(DeliveryError::NotConfigured);
        }
        if received.down.contains(which) {
            return Err(DeliveryError::Unavailable(format!("{which} is down (test)")));
        }
        received.events.push((which.to_owned(), event.clone()));
        Ok(())
    }
}

impl EventBus for MemoryDestinations {
    async fn publish(&self, event: &DomainEvent) -> Result<(), DeliveryError> {
        self.take("bus", event)
    }
}

impl Webhooks for MemoryDestinations {
    async fn post(&self, destination: &str, event: &DomainEvent) -> Result<(), DeliveryError> {
        self.take(destination, event)
    }
}

impl StripeErasure for MemoryDestinations {
    async fn erase_customer(
        &self,
        customers: &[String],
        subscriptions: &[String],
    ) -> Result<(), DeliveryError> {
        let mut received = self.lock();
        if received.down.contains("stripe") {
            return Err(DeliveryError::Unavailable("stripe is down (test)".into()));
        }
        received.subscriptions_cancelled.extend(subscriptions.iter().cloned());
        received.customers_deleted.extend(customers.iter().cloned());
        Ok(())
    }
}
