//! Careers: a CV check recorded on its application.

use super::*;

impl CvStore for DynamoStore {
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
        // rejected one.
        let later = "cv.uploaded_at < :t OR (cv.uploaded_at = :t AND cv.#key <= :key)";
        let condition = if rejected {
            format!("attribute_exists(pk) AND (attribute_not_exists(cv) OR (({later}) AND cv.#status <> :verified))")
        } else {
            format!("attribute_exists(pk) AND (attribute_not_exists(cv) OR {later})")
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
        if rejected {
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":verified", s("verified"));
        }
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
                let held = if let CvOutcome::Rejected { reason } = &check.outcome {
                    // Its applicant still reads why, though the application keeps another file.
                    self.note_rejection(&pk, &sk, &check.key, reason).await?
                } else {
                    self.get((pk, sk)).await?.is_some()
                };
                Ok(if held { CvRecorded::Superseded } else { CvRecorded::ApplicationMissing })
            }
            Err(err) => Err(classify(err)),
        }
    }

    async fn cv_verdict(
        &self,
        profile_id: &ProfileId,
        application_id: &str,
        key: &str,
    ) -> Result<CvVerdict, StoreError> {
        let Some(application) = self.get(keys::submission(profile_id, application_id)).await? else {
            return Ok(CvVerdict::Checking);
        };
        let map = |name: &str| application.get(name).and_then(|v| v.as_m().ok());
        let text = |map: &HashMap<String, AttributeValue>, name: &str| {
            map.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
        };
        let kept = map("cv");
        if let Some(cv) = kept.filter(|cv| text(cv, "key") == key) {
            return Ok(match text(cv, "status").as_str() {
                "verified" => CvVerdict::Accepted,
                _ => CvVerdict::Rejected { reason: text(cv, "reason"), earlier_kept: false },
            });
        }
        Ok(match map("cv_rejected").filter(|rejected| text(rejected, "key") == key) {
            Some(rejected) => CvVerdict::Rejected {
                reason: text(rejected, "reason"),
                earlier_kept: kept.is_some_and(|cv| text(cv, "status") == "verified"),
            },
            None => CvVerdict::Checking,
        })
    }
}

impl DynamoStore {
    /// Keeps a rejected upload's reason on its application (which keeps another file); `false`
    /// when there is no such application.
    async fn note_rejection(&self, pk: &str, sk: &str, key: &str, reason: &str) -> Result<bool, StoreError> {
        let rejected = HashMap::from([("key".to_owned(), s(key)), ("reason".to_owned(), s(reason))]);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression("SET cv_rejected = :rejected")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":rejected", AttributeValue::M(rejected))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(classify(err)),
        }
    }
}
