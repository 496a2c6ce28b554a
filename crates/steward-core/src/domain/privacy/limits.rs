//! Limits a person puts on how their data is used (restriction, objection), and withdrawing a
//! consent.

use std::future::Future;

use super::rights::RightsError;
use crate::domain::destinations::{self, DeliveryStore, EventType};
use crate::domain::fields::FieldError;
use crate::domain::forms::catalogue::{Catalogue, LawfulBasis};
use crate::domain::ids::ProfileId;
use crate::domain::ports::StoreError;
use crate::t;
use crate::time::Timestamp;

/// A limit a person puts on how their data is used, or lifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Article 18: kept, but not used (no mail of any kind it could trigger, no campaigns).
    Restrict,
    /// Article 21: no processing on legitimate interests, and no marketing.
    Object,
}

impl Limit {
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Restrict => "restricted",
            Self::Object => "objected",
        }
    }
}

/// What limits and withdrawals need of the store.
pub trait LimitStore {
    /// Sets or lifts a limit, and logs it.
    fn set_limit(
        &self,
        profile_id: &ProfileId,
        limit: Limit,
        on: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Records that a consent-based purpose was withdrawn; withdrawing `marketing` also ends every
    /// subscription.
    fn withdraw(
        &self,
        profile_id: &ProfileId,
        purpose: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Withdraws a consent: only purposes whose lawful basis is consent can be withdrawn (the others
/// are objected to, or end with the contract).
pub async fn withdraw<S: LimitStore + DeliveryStore>(
    store: &S,
    catalogue: &Catalogue,
    profile_id: &ProfileId,
    purpose: &str,
    now: Timestamp,
) -> Result<(), RightsError> {
    let consent_based = catalogue
        .forms()
        .flat_map(|f| f.purposes.iter())
        .any(|p| p.id == purpose && p.basis == LawfulBasis::Consent);
    if !consent_based {
        return Err(RightsError::Invalid(vec![FieldError::new(
            "purpose",
            "not_consent_based",
            t!("error-not-consent-based"),
        )]));
    }
    if !store.withdraw(profile_id, purpose).await? {
        return Err(RightsError::NotFound);
    }
    tracing::info!(profile_id = %profile_id, purpose, "consent withdrawn");
    // Every destination that received their data learns it, to stop using it for that purpose.
    let event = destinations::consent_event(profile_id, purpose, false, None, now);
    destinations::announce(store, profile_id, None, event, now.epoch_seconds()).await?;
    Ok(())
}

/// Sets or lifts a limit, and tells every destination that received the person's data (with the
/// same event id at each). `Ok(false)` when the person is not held.
pub async fn set_limit<S: LimitStore + DeliveryStore>(
    store: &S,
    profile_id: &ProfileId,
    limit: Limit,
    on: bool,
    now: Timestamp,
) -> Result<bool, StoreError> {
    if !store.set_limit(profile_id, limit, on).await? {
        return Ok(false);
    }
    tracing::info!(profile_id = %profile_id, limit = limit.attribute(), on, "processing limit changed");
    let kind = match limit {
        Limit::Restrict => EventType::PersonRestricted,
        Limit::Object => EventType::PersonObjected,
    };
    let event = destinations::limit_event(kind, profile_id, on, now);
    destinations::announce(store, profile_id, None, event, now.epoch_seconds()).await?;
    Ok(true)
}
