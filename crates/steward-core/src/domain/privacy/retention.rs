//! Retention: what has outlived its purpose goes. DynamoDB's TTL deletes expired items within
//! days, S3's lifecycle expires CVs; the sweep makes both exact. It deletes every item whose
//! `expires_at` has passed (submissions, payment records, tokens, counters, mail), the CVs of
//! expired applications, and then the profiles that nothing is kept for any more. It also gives
//! back the seats of checkouts that lapsed unpaid.

use std::collections::BTreeSet;
use std::future::Future;
use std::ops::ControlFlow;

use crate::domain::ids::ProfileId;
use crate::domain::mail::outbox::OutboxStore;
use crate::domain::ports::StoreError;
use crate::domain::privacy::erasure::{erase, CvObjects, ErasureError, ErasureReason, ErasureStore, ItemKey};

/// An item whose retention ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredItem {
    pub key: ItemKey,
    /// The item's `type` (submission, payment, sign_in, rate_counter, ...), for the counts.
    pub kind: String,
    /// The person it belonged to, when it was in a person's partition.
    pub profile_id: Option<ProfileId>,
    /// Its id, when it was a submission (its CVs are under `cv/<id>/`).
    pub application_id: Option<String>,
}

/// One page of the sweep's scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiredPage {
    pub items: Vec<ExpiredItem>,
    /// Profiles whose every form's retention has ended (or that predate the per-form dates):
    /// candidates for removal if nothing is kept for them any more. DynamoDB's TTL removes
    /// submissions by itself, so a profile is found by its own dates, not by the sweep having
    /// deleted something of it.
    pub lapsed_profiles: Vec<ProfileId>,
    /// Seats held by checkouts that lapsed unpaid: (event, registration).
    pub lapsed_holds: Vec<(String, String)>,
}

pub trait RetentionStore {
    /// One page of items whose `expires_at` is before `now` and of lapsed profiles, and the
    /// cursor of the next page.
    fn expired(
        &self,
        now: i64,
        cursor: Option<String>,
    ) -> impl Future<Output = Result<(ExpiredPage, Option<String>), StoreError>> + Send;
    /// Whether the person is still needed: a submission is kept, or a payment is still running
    /// (a subscription, or money on its way). A payment that is over needs only its stripped
    /// record, which erasure keeps with its own retention.
    fn still_needed(&self, profile_id: &ProfileId) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Where an unfinished pass over the table stands, if one does.
    fn sweep_position(&self) -> impl Future<Output = Result<Option<SweepPosition>, StoreError>> + Send;
    /// Keeps where the pass stands for the next run, or (`None`) says it is over.
    fn save_sweep_position(
        &self,
        position: Option<&SweepPosition>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Gives back a seat whose checkout lapsed before `now`, unless it was resumed or paid since.
    /// Says whether it did.
    fn release_lapsed_hold(
        &self,
        event: &str,
        registration: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Where a pass over the table stands between runs: the next page's cursor, and when the pass
/// began (how long a whole pass takes is what an operator watches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepPosition {
    pub cursor: String,
    pub pass_started_at: i64,
}

/// How long a large export is kept for its link (which works for 15 minutes).
pub const EXPORT_KEPT_SECONDS: i64 = 3600;

/// What one sweep removed, by kind; no personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    pub items: std::collections::BTreeMap<String, usize>,
    pub cv_versions: usize,
    pub profiles: usize,
    /// Seats given back from checkouts that lapsed unpaid.
    pub seat_holds: usize,
    /// Versions of large exports deleted once their link's life was over.
    pub export_versions: usize,
    /// CV deletions that failed this time; the next sweep tries again (the bucket's lifecycle is
    /// the second net).
    pub cv_failures: usize,
    /// Stopped before the end by its caller (an operator's Ctrl-C, or the run's time running
    /// out); the next sweep carries on.
    pub stopped: bool,
    /// Carried on from where an earlier run of the pass stopped.
    pub resumed: bool,
    /// How long the whole pass took, from the run that began it to this one, when this run
    /// finished it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass_seconds: Option<i64>,
    /// Where a stopped run stopped (a table key, so never logged).
    #[serde(skip)]
    pub next_cursor: Option<String>,
}

/// The scheduled sweep: carries on the pass an earlier run left unfinished (from its saved
/// position, not from the start, so that a table larger than one run's time is still swept to
/// its end), stops when `progress` says the run's time is nearly out, and keeps where it stopped.
pub async fn sweep_on<S, C>(
    store: &S,
    cvs: &C,
    now: i64,
    progress: impl FnMut(&SweepReport) -> ControlFlow<()>,
) -> Result<SweepReport, ErasureError>
where
    S: RetentionStore + ErasureStore + OutboxStore + crate::domain::destinations::DeliveryStore,
    C: CvObjects,
{
    let position = store.sweep_position().await?;
    let pass_started_at = position.as_ref().map_or(now, |p| p.pass_started_at);
    // Kept after every page: a run killed mid-page loses that page's place only.
    let mut report =
        sweep_from(store, cvs, now, position.map(|p| p.cursor), Some(pass_started_at), progress).await?;
    if report.next_cursor.take().is_none() {
        store.save_sweep_position(None).await?;
        report.pass_seconds = Some(now - pass_started_at);
        tracing::info!(pass_seconds = now - pass_started_at, "retention pass complete");
    }
    Ok(report)
}

/// Removes what has expired, page by page, so that a run stopped by its time limit has finished
/// whole pages and the next run carries on.
///
/// `progress` is told after each page and stops the sweep by answering `Break` (the report says
/// so); a later sweep carries on, since whatever is still expired is found again.
pub async fn sweep<S, C>(
    store: &S,
    cvs: &C,
    now: i64,
    progress: impl FnMut(&SweepReport) -> ControlFlow<()>,
) -> Result<SweepReport, ErasureError>
where
    S: RetentionStore + ErasureStore + OutboxStore + crate::domain::destinations::DeliveryStore,
    C: CvObjects,
{
    sweep_from(store, cvs, now, None, None, progress).await
}

/// A sweep from `cursor` (the start of the table when `None`).
async fn sweep_from<S, C>(
    store: &S,
    cvs: &C,
    now: i64,
    mut cursor: Option<String>,
    keep_position: Option<i64>,
    mut progress: impl FnMut(&SweepReport) -> ControlFlow<()>,
) -> Result<SweepReport, ErasureError>
where
    S: RetentionStore + ErasureStore + OutboxStore + crate::domain::destinations::DeliveryStore,
    C: CvObjects,
{
    let mut report = SweepReport { resumed: cursor.is_some(), ..SweepReport::default() };
    loop {
        let (page, next) = store.expired(now, cursor).await?;
        let mut candidates: BTreeSet<ProfileId> = page.lapsed_profiles.into_iter().collect();
        let mut keys: Vec<ItemKey> = Vec::with_capacity(page.items.len());
        for item in page.items {
            if let Some(application) = &item.application_id {
                match cvs.delete_application(application).await {
                    Ok(count) => report.cv_versions += count,
                    Err(err) => {
                        // The application stays until its CVs are gone, so that the next run
                        // finds it again and retries (DynamoDB's TTL and the bucket's lifecycle
                        // are the nets behind this).
                        report.cv_failures += 1;
                        tracing::warn!(error = %err, "an expired application's CVs could not be deleted; next run retries");
                        continue;
                    }
                }
            }
            *report.items.entry(item.kind.clone()).or_default() += 1;
            if let Some(profile) = &item.profile_id {
                candidates.insert(profile.clone());
            }
            keys.push(item.key);
        }
        for chunk in keys.chunks(25) {
            store.delete_items(chunk).await?;
        }
        for (event, registration) in &page.lapsed_holds {
            if store.release_lapsed_hold(event, registration, now).await? {
                report.seat_holds += 1;
            }
        }
        for profile in candidates {
            if store.still_needed(&profile).await? {
                continue;
            }
            // Nothing is kept for them any more, so neither is their profile, their mail history
            // or their pending requests; a payment that is over stays as erasure keeps it, bare.
            // No mail: they did not ask, their data simply aged out.
            match erase(store, cvs, None, &profile, ErasureReason::Retention, now).await {
                Ok(Some(_)) => report.profiles += 1,
                Ok(None) => {}
                Err(ErasureError::Cv(err)) => {
                    report.cv_failures += 1;
                    tracing::warn!(error = %err, "a lapsed profile's CVs could not be deleted; next run retries");
                }
                Err(err) => return Err(err),
            }
        }
        if let (Some(pass_started_at), Some(cursor)) = (keep_position, &next) {
            store
                .save_sweep_position(Some(&SweepPosition { cursor: cursor.clone(), pass_started_at }))
                .await?;
        }
        // Stopped only if there is more to do: a stop asked for during the last page is an end.
        if progress(&report).is_break() && next.is_some() {
            report.stopped = true;
            report.next_cursor = next;
            break;
        }
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    // Exports too large for one response wait for their link, which works for minutes: an hour
    // on, whatever is left goes (the bucket's lifecycle rule is the net behind this).
    match cvs.delete_exports_before(now - EXPORT_KEPT_SECONDS).await {
        Ok(count) => report.export_versions += count,
        Err(err) => {
            report.cv_failures += 1;
            tracing::warn!(error = %err, "old exports could not be deleted; next run retries");
        }
    }
    tracing::info!(
        items = ?report.items,
        cv_versions = report.cv_versions,
        cv_failures = report.cv_failures,
        profiles = report.profiles,
        seat_holds = report.seat_holds,
        export_versions = report.export_versions,
        "retention sweep"
    );
    Ok(report)
}
