//! The privacy center's writes: corrections, limits, withdrawals, pending requests and address
//! changes, each with its history entry.

use super::mail::mail_log_item;
use super::*;
use crate::domain::fields::Email;
use crate::domain::mail::preferences::ChangeSource;
use crate::domain::privacy::correction::{Correction, CorrectionStore, EmailChanged};
use crate::domain::privacy::limits::{Limit, LimitStore};
use crate::domain::privacy::rights::{CurrentProfile, PendingRequest, RequestKind, RightsStore};

/// One entry of a person's profile history: what changed, never the values.
fn history_item(profile_id: &ProfileId, at: &Timestamp, change: String) -> (ItemKey, Item) {
    let key = (keys::profile_partition(profile_id), format!("HISTORY#{}#{}", at.rfc3339(), random_suffix(8)));
    let mut item = stamped("profile_change");
    item.insert("at".into(), at.rfc3339().into());
    item.insert("change".into(), change.into());
    (key, item)
}

fn request_key(kind: RequestKind, profile_id: &ProfileId, nonce: &str) -> ItemKey {
    (keys::profile_partition(profile_id), format!("{}#{nonce}", kind.as_str()))
}

/// A pending request that has not expired (TTL deletes within days: the expiry is checked here).
fn live_request(item: &Item, profile_id: &ProfileId, now: i64) -> Option<PendingRequest> {
    if number(item, keys::TTL).is_none_or(|expires| expires <= now) {
        return None;
    }
    Some(PendingRequest {
        profile_id: profile_id.to_owned(),
        address: text(item, "address")?,
        format: text(item, "format"),
    })
}

impl MemoryStore {
    /// Changes a profile and writes a history entry together; `false` when the profile is gone.
    fn update_with_history(
        &self,
        operation: &'static str,
        profile_id: &ProfileId,
        change: String,
        update: impl FnOnce(&mut Item, &Timestamp),
    ) -> Result<bool, StoreError> {
        let now = self.now();
        self.run(operation, |table| {
            let Some(profile) = profile_key(table, profile_id).and_then(|key| table.get_mut(&key)) else {
                return Ok(false);
            };
            update(profile, &now);
            let (key, history) = history_item(profile_id, &now, change);
            table.insert(key, history);
            Ok(true)
        })
    }
}

impl RightsStore for MemoryStore {
    async fn current_profile(&self, profile_id: &ProfileId) -> Result<Option<CurrentProfile>, StoreError> {
        self.run("current_profile", |table| {
            Ok(profile_key(table, profile_id).and_then(|key| table.get(&key)).map(|profile| CurrentProfile {
                email: text(profile, "email").unwrap_or_default(),
                country: text(profile, "country"),
            }))
        })
    }

    async fn save_request(
        &self,
        kind: RequestKind,
        nonce: &str,
        request: &PendingRequest,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.run("save_request", |table| {
            let mut item = stamped(&kind.as_str().to_lowercase());
            item.insert("address".into(), request.address.clone().into());
            if let Some(format) = &request.format {
                item.insert("format".into(), format.clone().into());
            }
            item.insert(keys::TTL.into(), expires_at.into());
            table.insert(request_key(kind, &request.profile_id, nonce), item);
            Ok(())
        })
    }

    async fn take_request(
        &self,
        kind: RequestKind,
        profile_id: &ProfileId,
        nonce: &str,
        now: i64,
    ) -> Result<Option<PendingRequest>, StoreError> {
        self.run("take_request", |table| {
            let key = request_key(kind, profile_id, nonce);
            let usable =
                table.get(&key).is_some_and(|item| number(item, keys::TTL).is_some_and(|at| at > now));
            // Used up the first time, even if it turns out to be unreadable.
            Ok(if usable {
                table.remove(&key).and_then(|item| live_request(&item, profile_id, now))
            } else {
                None
            })
        })
    }

    async fn drop_requests(&self, profile_id: &ProfileId, kinds: &[RequestKind]) -> Result<(), StoreError> {
        self.run("drop_requests", |table| {
            let partition = keys::profile_partition(profile_id);
            table.retain(|(pk, sk), _| {
                *pk != partition || !kinds.iter().any(|kind| sk.starts_with(&format!("{}#", kind.as_str())))
            });
            Ok(())
        })
    }

    async fn find_request(
        &self,
        kind: RequestKind,
        profile_id: &ProfileId,
        nonce: &str,
        now: i64,
    ) -> Result<Option<PendingRequest>, StoreError> {
        self.run("find_request", |table| {
            Ok(table
                .get(&request_key(kind, profile_id, nonce))
                .and_then(|item| live_request(item, profile_id, now)))
        })
    }
}

impl CorrectionStore for MemoryStore {
    async fn correct(&self, profile_id: &ProfileId, correction: &Correction) -> Result<bool, StoreError> {
        let changed: Vec<&str> =
            correction.set.iter().map(|(a, _)| *a).chain(correction.remove.iter().copied()).collect();
        self.update_with_history(
            "correct",
            profile_id,
            format!("corrected {}", changed.join(", ")),
            |profile, now| {
                profile.insert("updated_at".into(), now.rfc3339().into());
                let mut provenance = profile.remove("provenance").unwrap_or_else(|| serde_json::json!({}));
                for (attribute, value) in &correction.set {
                    profile.insert((*attribute).to_owned(), value.clone().into());
                    provenance[*attribute] =
                        serde_json::json!({"source": "privacy-center", "at": now.rfc3339()});
                }
                for attribute in &correction.remove {
                    profile.remove(*attribute);
                    if let Some(map) = provenance.as_object_mut() {
                        map.remove(*attribute);
                    }
                }
                if provenance.as_object().is_some_and(|m| !m.is_empty()) {
                    profile.insert("provenance".into(), provenance);
                }
            },
        )
    }

    async fn submission_exists(
        &self,
        profile_id: &ProfileId,
        submission_id: &str,
    ) -> Result<bool, StoreError> {
        let key = keys::submission(profile_id, submission_id);
        self.run("submission_exists", |table| Ok(table.contains_key(&key)))
    }

    async fn delete_submission(
        &self,
        profile_id: &ProfileId,
        submission_id: &str,
    ) -> Result<bool, StoreError> {
        let key = keys::submission(profile_id, submission_id);
        let now = self.now();
        self.run("delete_submission", |table| {
            if table.remove(&key).is_none() {
                return Ok(false);
            }
            // The profile values this submission filled in go with it (their provenance names it).
            if let Some(profile) = profile_key(table, profile_id).and_then(|key| table.get_mut(&key)) {
                let filled: Vec<String> = profile
                    .get("provenance")
                    .and_then(|p| p.as_object())
                    .map(|sources| {
                        sources
                            .iter()
                            .filter(|(_, source)| source["submission_id"] == submission_id)
                            .map(|(field, _)| field.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                for field in filled {
                    profile.remove(&field);
                    if let Some(sources) = profile.get_mut("provenance").and_then(|p| p.as_object_mut()) {
                        sources.remove(&field);
                    }
                }
            }
            let (history_key, history) = history_item(profile_id, &now, "deleted a submission".to_owned());
            table.insert(history_key, history);
            Ok(true)
        })
    }

    async fn change_email(
        &self,
        profile_id: &ProfileId,
        new_email: &Email,
    ) -> Result<EmailChanged, StoreError> {
        let new_key = keys::profile_by_email(&self.email_pseudonym(new_email.normalized()));
        let now = self.now();
        self.run("change_email", |table| {
            let Some(old_key) = profile_key(table, profile_id) else { return Ok(EmailChanged::Used) };
            if new_key == old_key {
                return Ok(EmailChanged::Changed);
            }
            if table.contains_key(&new_key) {
                return Ok(EmailChanged::Taken);
            }
            // Never out from under an erasure that has begun.
            if table.get(&old_key).is_some_and(|profile| profile.contains_key("erasing_since")) {
                return Ok(EmailChanged::Used);
            }
            let Some(mut profile) = table.remove(&old_key) else { return Ok(EmailChanged::Used) };
            profile.insert("email".into(), new_email.as_str().into());
            profile.insert("updated_at".into(), now.rfc3339().into());
            profile.insert("email_changed_at".into(), now.rfc3339().into());
            // Bounces and complaints were about the old address.
            profile.remove("suppressed");
            table.insert(new_key.clone(), profile);
            let (key, history) = history_item(profile_id, &now, "changed email address".into());
            table.insert(key, history);
            Ok(EmailChanged::Changed)
        })
    }
}

impl LimitStore for MemoryStore {
    async fn set_limit(&self, profile_id: &ProfileId, limit: Limit, on: bool) -> Result<bool, StoreError> {
        let attribute = limit.attribute();
        let change = format!("{} {}", if on { "set" } else { "lifted" }, attribute.trim_end_matches("ed"));
        self.update_with_history("set_limit", profile_id, change, |profile, now| {
            if on {
                // Set once: the time it was first asked for stays.
                profile.entry(attribute).or_insert_with(|| now.rfc3339().into());
            } else {
                profile.remove(attribute);
            }
        })
    }

    async fn withdraw(&self, profile_id: &ProfileId, purpose: &str) -> Result<bool, StoreError> {
        let now = self.now();
        self.run("withdraw", |table| {
            let Some(profile) = profile_key(table, profile_id).and_then(|key| table.get_mut(&key)) else {
                return Ok(false);
            };
            let mut withdrawn = strings(profile, "withdrawn_consents");
            withdrawn.insert(purpose.to_owned());
            set_strings(profile, "withdrawn_consents", withdrawn);
            let mut log = None;
            if purpose == "marketing" {
                // Consent to marketing ends every subscription, confirmed or pending.
                profile.insert("unsubscribed_all".into(), true.into());
                profile.insert("preferences_changed_at".into(), now.rfc3339().into());
                profile.remove("marketing_topics");
                profile.remove("pending_topics");
                log = Some(mail_log_item(
                    profile_id,
                    &now,
                    ChangeSource::Preferences,
                    "consent to marketing withdrawn".into(),
                    "-",
                ));
            } else {
                profile.insert("updated_at".into(), now.rfc3339().into());
            }
            let history = history_item(profile_id, &now, format!("withdrew consent: {purpose}"));
            table.extend(log.into_iter().chain([history]));
            Ok(true)
        })
    }
}
