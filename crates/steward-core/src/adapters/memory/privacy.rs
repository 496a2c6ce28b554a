//! Privacy: the sign-in links of the privacy center and everything held about a person.

use super::*;
use crate::domain::fields::Email;
use crate::domain::mail::outbox::{OutboxMessage, OutboxStore};
use crate::domain::privacy::access::{
    controller, supervisory_authority, KnownAddress, PrivacyStore, Session, SignInLink,
    DATA_PROTECTION_OFFICER, RECIPIENTS,
};
use crate::domain::privacy::rights::RequestKind;

/// Attributes that are keys or bookkeeping, left out of what a person reads about themselves (the
/// DynamoDB store's list; `pk` and `sk` are never attributes here).
const INTERNAL: [&str; 8] = [
    "gsi1pk",
    "v",
    "status_version",
    "invoice_version",
    "dispute_version",
    "last_submission_id",
    "type",
    "held_submissions",
];

/// An item as JSON, for people reading their own data, with when it goes if it has an expiry.
fn item_json(item: &Item) -> Value {
    let mut json: Item = item
        .iter()
        .filter(|(name, _)| !INTERNAL.contains(&name.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(expires) = number(item, keys::TTL) {
        json.insert("retained_until".into(), timestamp(expires).rfc3339().into());
    }
    Value::Object(json)
}

impl PrivacyStore for MemoryStore {
    async fn profile_by_email(&self, email: &Email) -> Result<Option<KnownAddress>, StoreError> {
        let key = keys::profile_by_email(&self.email_pseudonym(email.normalized()));
        self.run("profile_by_email", |table| {
            Ok(table.get(&key).and_then(|p| {
                Some(KnownAddress {
                    profile_id: ProfileId::from_stored(text(p, "profile_id")?),
                    email: text(p, "email")?,
                })
            }))
        })
    }

    async fn issue_sign_in(
        &self,
        address: &Email,
        link: &SignInLink,
        mail: Option<&OutboxMessage>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let profile_key = keys::profile_by_email(&self.email_pseudonym(address.normalized()));
        let held = self.run("issue_sign_in", |table| {
            // Only while the address is still the link's person's (an erasure may have run since
            // the lookup); a link to no one only while no one holds the address, as the
            // DynamoDB store's condition says.
            let holder = table.get(&profile_key).and_then(|p| text(p, "profile_id"));
            let holds = match mail {
                Some(_) => holder.as_deref() == Some(link.profile_id.as_str()),
                None => holder.is_none(),
            };
            if !holds {
                return Ok(false);
            }
            let mut item = stamped("sign_in");
            item.insert("valid_until".into(), link.valid_until.into());
            item.insert("issued_at".into(), link.issued_at.into());
            item.insert(keys::TTL.into(), link.token_expires_at.into());
            table.insert(keys::sign_in(&link.profile_id, &link.nonce), item);
            Ok(true)
        })?;
        if let Some(message) = mail.filter(|_| held) {
            self.enqueue(message, now).await?;
        }
        Ok(held)
    }

    async fn extend_sign_in(&self, profile_id: &ProfileId, until: i64, now: i64) -> Result<(), StoreError> {
        self.run("extend_sign_in", |table| {
            // The newest link by when it was issued (as the DynamoDB store does).
            let newest = partition(table, &keys::profile_partition(profile_id))
                .filter(|((_, sk), _)| sk.starts_with(keys::SIGN_IN_PREFIX))
                .max_by_key(|(_, link)| number(link, "issued_at").unwrap_or(0))
                .map(|(key, _)| key.clone());
            if let Some(link) = newest.and_then(|key| table.get_mut(&key)) {
                let token_expires_at = number(link, keys::TTL).unwrap_or(now);
                let until = until.min(token_expires_at);
                if token_expires_at > now && number(link, "valid_until").is_none_or(|valid| valid < until) {
                    link.insert("valid_until".into(), until.into());
                }
            }
            Ok(())
        })
    }

    async fn consume_sign_in(&self, nonce: &str, session: &Session, now: i64) -> Result<bool, StoreError> {
        self.run("consume_sign_in", |table| {
            let profile_id = &session.profile_id;
            let key = keys::sign_in(profile_id, nonce);
            let usable =
                table.get(&key).and_then(|link| number(link, "valid_until")).is_some_and(|until| until > now);
            if usable {
                // Signed in: the person's other links die with this one.
                remove_kept(table, profile_id, keys::SIGN_IN_PREFIX);
                let mut kept = stamped("session");
                kept.insert(keys::TTL.into(), session.expires_at.into());
                table.insert(keys::session(profile_id, &session.id), kept);
            }
            Ok(usable)
        })
    }

    async fn session_open(
        &self,
        profile_id: &ProfileId,
        session_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.run("session_open", |table| {
            let kept = table.get(&keys::session(profile_id, session_id));
            Ok(kept.and_then(|item| number(item, keys::TTL)).is_some_and(|expires_at| expires_at > now))
        })
    }

    async fn end_sessions(&self, profile_id: &ProfileId, only: Option<&str>) -> Result<(), StoreError> {
        self.run("end_sessions", |table| {
            match only {
                Some(id) => {
                    table.remove(&keys::session(profile_id, id));
                }
                None => {
                    remove_kept(table, profile_id, keys::SIGN_IN_PREFIX);
                    remove_kept(table, profile_id, keys::SESSION_PREFIX);
                }
            }
            Ok(())
        })
    }

    async fn address_of(&self, profile_id: &ProfileId) -> Result<Option<String>, StoreError> {
        self.run("address_of", |table| Ok(profile_address(table, profile_id)))
    }

    async fn everything(&self, profile_id: &ProfileId) -> Result<Option<Value>, StoreError> {
        self.run("everything", |table| {
            let Some(profile) = profile_key(table, profile_id).and_then(|key| table.get(&key)) else {
                return Ok(None);
            };
            let partition_pk = keys::profile_partition(profile_id);
            let items: Vec<(&ItemKey, &Item)> = partition(table, &partition_pk).collect();
            let of_kind = |prefix: &str| -> Vec<Value> {
                items
                    .iter()
                    .filter(|((_, sk), _)| sk.starts_with(prefix))
                    .map(|(_, item)| item_json(item))
                    .collect()
            };
            // The profile is kept as long as the longest-kept submission or payment record.
            let profile_until = items
                .iter()
                .filter(|((_, sk), _)| sk.starts_with("SUBMISSION#") || sk.starts_with("PAYMENT#"))
                .filter_map(|(_, item)| number(item, keys::TTL))
                .max();
            let mut profile_json = item_json(profile);
            if let Some(until) = profile_until {
                profile_json["retained_until"] = timestamp(until).rfc3339().into();
            }
            let country = text(profile, "country");
            let controller = controller(country.as_deref());
            // Each with its kind and id, for the person to see and cancel.
            let pending: Vec<Value> = RequestKind::PENDING
                .into_iter()
                .flat_map(|kind| {
                    let prefix = format!("{}#", kind.as_str());
                    items
                        .iter()
                        .filter_map(|((_, sk), item)| {
                            let id = sk.strip_prefix(&prefix)?;
                            let mut request = item_json(item);
                            request["request"] = kind.shown_as().into();
                            request["request_id"] = id.into();
                            request["cancellable"] = RequestKind::CANCELLABLE.contains(&kind).into();
                            if let Some(until) = number(item, keys::TTL) {
                                request["retained_until"] = timestamp(until).rfc3339().into();
                            }
                            Some(request)
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            // Live download links of exports sent to someone, each with its id to revoke it.
            let export_links: Vec<Value> = items
                .iter()
                .filter_map(|((_, sk), item)| {
                    let id = sk.strip_prefix("EXPORTLINK#")?;
                    let mut json = item_json(item);
                    json["link_id"] = id.into();
                    json["works_until"] = number(item, keys::TTL).map(|at| timestamp(at).rfc3339()).into();
                    Some(json)
                })
                .collect();
            Ok(Some(serde_json::json!({
                "profile": profile_json,
                "submissions": of_kind("SUBMISSION#"),
                "payments": of_kind("PAYMENT#"),
                "mail_preference_history": of_kind("MAILLOG#"),
                "profile_history": of_kind("HISTORY#"),
                "pending_requests": pending,
                "export_links": export_links,
                "billing": of_kind("BILLING"),
                "data_controller": controller,
                "data_protection_officer": DATA_PROTECTION_OFFICER,
                "supervisory_authority": supervisory_authority(controller),
                "recipients": RECIPIENTS,
            })))
        })
    }
}

/// Deletes a person's items of one kind (sign-in links, sessions).
fn remove_kept(table: &mut Table, profile_id: &ProfileId, prefix: &str) {
    let kept: Vec<_> = partition(table, &keys::profile_partition(profile_id))
        .filter(|((_, sk), _)| sk.starts_with(prefix))
        .map(|(key, _)| key.clone())
        .collect();
    for key in kept {
        table.remove(&key);
    }
}
