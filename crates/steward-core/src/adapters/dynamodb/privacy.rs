//! Privacy: the sign-in links of the privacy center and everything held about a person.

use super::*;

impl PrivacyStore for DynamoStore {
    async fn profile_by_email(&self, email: &Email) -> Result<Option<KnownAddress>, StoreError> {
        let key = keys::profile_by_email(&self.email_pseudonym(email.normalized()));
        let profile = self.get(key).await?;
        Ok(profile.and_then(|p| {
            let text = |name: &str| p.get(name).and_then(|v| v.as_s().ok()).cloned();
            Some(KnownAddress {
                profile_id: ProfileId::from_stored(text("profile_id")?),
                email: text("email")?,
            })
        }))
    }

    async fn save_sign_in(
        &self,
        nonce: &str,
        profile_id: &ProfileId,
        expires_at: i64,
    ) -> Result<(), StoreError> {
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

    async fn everything(&self, profile_id: &ProfileId) -> Result<Option<serde_json::Value>, StoreError> {
        let Some((_, profile)) = self.profile(profile_id).await? else { return Ok(None) };
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
        // Live download links of exports sent to someone, each with its id to revoke it.
        let export_links: Vec<serde_json::Value> = items
            .iter()
            .filter_map(|item| {
                let id = item.get(keys::SK)?.as_s().ok()?.strip_prefix("EXPORTLINK#")?;
                let mut json = item_json(item);
                json["link_id"] = id.into();
                json["works_until"] = item
                    .get(keys::TTL)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    .map(|at| crate::time::Timestamp::from_epoch_seconds(at).rfc3339())
                    .into();
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
            "data_controller": controller(country),
            "data_protection_officer": DATA_PROTECTION_OFFICER,
            "supervisory_authority": supervisory_authority(controller(country)),
            "recipients": RECIPIENTS,
        })))
    }
}
