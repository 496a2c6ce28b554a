//! Limits a person puts on how their data is used (restriction, objection), and withdrawing a
//! consent.

use super::rights::{RightsError, RightsStore};
use crate::domain::fields::FieldError;
use crate::domain::forms::catalogue::{Catalogue, LawfulBasis};

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

/// Withdraws a consent: only purposes whose lawful basis is consent can be withdrawn (the others
/// are objected to, or end with the contract).
pub async fn withdraw<S: RightsStore>(
    store: &S,
    catalogue: &Catalogue,
    profile_id: &str,
    purpose: &str,
) -> Result<(), RightsError> {
    let consent_based = catalogue
        .forms()
        .flat_map(|f| f.purposes.iter())
        .any(|p| p.id == purpose && p.basis == LawfulBasis::Consent);
    if !consent_based {
        return Err(RightsError::Invalid(vec![FieldError::new(
            "purpose",
            "not_consent_based",
            "is not a purpose you consented to; you can object to it instead",
        )]));
    }
    if !store.withdraw(profile_id, purpose).await? {
        return Err(RightsError::NotFound);
    }
    tracing::info!(profile_id, purpose, "consent withdrawn");
    Ok(())
}
