//! Retention: what has outlived its purpose goes. DynamoDB's TTL deletes expired items within
//! days, S3's lifecycle expires CVs; the sweep makes both exact. It deletes every item whose
//! `expires_at` has passed (submissions, payment records, tokens, counters, mail), the CVs of
//! expired applications, and then the profiles that nothing is kept for any more.

use std::collections::BTreeSet;
use std::future::Future;

use super::erasure::{erase, CvObjects, ErasureError, ErasureReason, ErasureStore, ItemKey};
use crate::mail::outbox::OutboxStore;
use crate::store::StoreError;

/// An item whose retention ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredItem {
    pub key: ItemKey,
    /// The item's `type` (submission, payment, sign_in, rate_counter, ...), for the counts.
    pub kind: String,
    /// The person it belonged to, when it was in a person's partition.
    pub profile_id: Option<String>,
    /// Its id, when it was a submission (its CVs are under `cv/<id>/`).
    pub application_id: Option<String>,
}

pub trait RetentionStore {
    /// One page of items whose `expires_at` is before `now`, and the cursor of the next.
    fn expired(
        &self,
        now: i64,
        cursor: Option<String>,
    ) -> impl Future<Output = Result<(Vec<ExpiredItem>, Option<String>), StoreError>> + Send;
    /// Whether anything is still kept for the person (a submission or a payment record).
    fn holds_anything(&self, profile_id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What one sweep removed, by kind; no personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    pub items: std::collections::BTreeMap<String, usize>,
    pub cv_versions: usize,
    pub profiles: usize,
}

pub async fn sweep<S, C>(store: &S, cvs: &C, now: i64) -> Result<SweepReport, ErasureError>
where
    S: RetentionStore + ErasureStore + OutboxStore,
    C: CvObjects,
{
    let mut report = SweepReport::default();
    let mut touched = BTreeSet::new();
    let mut cursor = None;
    loop {
        let (page, next) = store.expired(now, cursor).await?;
        for item in &page {
            if let Some(application) = &item.application_id {
                report.cv_versions += cvs.delete_application(application).await?;
            }
            *report.items.entry(item.kind.clone()).or_default() += 1;
            if let Some(profile) = &item.profile_id {
                touched.insert(profile.clone());
            }
        }
        let keys: Vec<ItemKey> = page.into_iter().map(|i| i.key).collect();
        for chunk in keys.chunks(25) {
            store.delete_items(chunk).await?;
        }
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    for profile in touched {
        if !store.holds_anything(&profile).await? {
            // Nothing is kept for them any more, so neither is their profile, their mail history
            // or their pending requests. No mail: they did not ask, and their data simply aged out.
            if erase(store, cvs, None, &profile, ErasureReason::Retention, now).await?.is_some() {
                report.profiles += 1;
            }
        }
    }
    tracing::info!(
        items = ?report.items,
        cv_versions = report.cv_versions,
        profiles = report.profiles,
        "retention sweep"
    );
    Ok(report)
}
