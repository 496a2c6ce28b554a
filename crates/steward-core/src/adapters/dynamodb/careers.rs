//! Careers: a CV check recorded on its application.

use super::*;

impl CvStore for DynamoStore {
    async fn applicant_address(&self, profile_id: &ProfileId) -> Result<Option<String>, StoreError> {
        self.profile_address(profile_id).await
    }

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
        let rejected = matches!(check.outcome, CvOutcome::Rejected { .. });
        // A later upload's result stays (at the same second, the greater key's, so that two
        // uploads' checks agree whichever runs last); a verified file is never displaced by a
        // rejected one, and always displaces a rejection (which keeps no file).
        let later = "cv.uploaded_at < :t OR (cv.uploaded_at = :t AND cv.#key <= :key)";
        let condition = if rejected {
            format!("attribute_exists(pk) AND (attribute_not_exists(cv) OR (({later}) AND cv.#status <> :verified))")
        } else {
            format!(
                "attribute_exists(pk) AND (attribute_not_exists(cv) OR cv.#status <> :verified OR {later})"
            )
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(&sk))
            .update_expression("SET cv = :cv")
            .condition_expression(condition)
            .expression_attribute_names("#key", "key")
            .expression_attribute_values(":key", s(&check.key));
        update = update
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":verified", s("verified"));
        let result = update
            .expression_attribute_values(":cv", AttributeValue::M(cv))
            .expression_attribute_values(":t", n(check.uploaded_at))
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                let earlier =
                    output.attributes().and_then(|old| old.get("cv")).and_then(|cv| cv.as_m().ok()).and_then(
                        |cv| {
                            Some(CvFile {
                                key: cv.get("key")?.as_s().ok()?.clone(),
                                version_id: cv.get("version_id").and_then(|v| v.as_s().ok()).cloned(),
                            })
                        },
                    );
                Ok(CvRecorded::replacing(earlier, check))
            }
            Err(err) if err.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(if self.get((pk, sk)).await?.is_some() {
                    CvRecorded::Superseded
                } else {
                    CvRecorded::ApplicationMissing
                })
            }
            Err(err) => Err(classify(err)),
        }
    }

    async fn keep_verdict(
        &self,
        application_id: &str,
        key: &str,
        verdict: &CvVerdict,
        until: i64,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::cv_verdict(application_id, key);
        let mut item = super::key(pk, sk);
        stamp(&mut item, "cv_verdict");
        let json = serde_json::to_string(verdict).map_err(|e| StoreError::Unexpected(Box::new(e)))?;
        item.insert("verdict".into(), s(json));
        item.insert(keys::TTL.into(), n(until));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(classify)?;
        Ok(())
    }

    async fn cv_verdict(&self, application_id: &str, key: &str) -> Result<CvVerdict, StoreError> {
        let kept = self.get(keys::cv_verdict(application_id, key)).await?;
        Ok(kept
            .and_then(|item| item.get("verdict")?.as_s().ok().cloned())
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or(CvVerdict::Checking))
    }
}
