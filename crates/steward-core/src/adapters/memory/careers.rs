//! Careers: a CV check recorded on its application.

use super::*;
use crate::domain::careers::{CvCheck, CvFile, CvOutcome, CvRecorded, CvStore, CvVerdict};

impl CvStore for MemoryStore {
    async fn applicant_address(&self, profile_id: &ProfileId) -> Result<Option<String>, StoreError> {
        self.run("applicant_address", |table| Ok(profile_address(table, profile_id)))
    }

    async fn record_cv(&self, check: &CvCheck) -> Result<CvRecorded, StoreError> {
        let application = keys::submission(&check.profile_id, &check.application_id);
        self.run("record_cv", |table| {
            let Some(submission) = table.get_mut(&application) else {
                return Ok(CvRecorded::ApplicationMissing);
            };
            // As the DynamoDB store's condition: a later upload's result stays (at the same second,
            // the greater key's); a verified file is never displaced by a rejected one, and always
            // displaces a rejection (which keeps no file).
            let kept = submission.get("cv").and_then(Value::as_object).is_some_and(|cv| {
                let at = number(cv, "uploaded_at").unwrap_or(0);
                let key = cv.get("key").and_then(Value::as_str).unwrap_or_default();
                let later = at > check.uploaded_at || (at == check.uploaded_at && key > check.key.as_str());
                let verified = cv.get("status").and_then(Value::as_str) == Some("verified");
                match check.outcome {
                    CvOutcome::Rejected { .. } => later || verified,
                    CvOutcome::Verified { .. } => later && verified,
                }
            });
            if kept {
                return Ok(CvRecorded::Superseded);
            }
            let earlier = submission.get("cv").and_then(Value::as_object).and_then(|cv| {
                Some(CvFile {
                    key: cv.get("key")?.as_str()?.to_owned(),
                    version_id: cv.get("version_id").and_then(Value::as_str).map(str::to_owned),
                })
            });
            submission.insert("cv".into(), cv_of(check).into());
            Ok(CvRecorded::replacing(earlier, check))
        })
    }

    async fn keep_verdict(
        &self,
        application_id: &str,
        key: &str,
        verdict: &CvVerdict,
        until: i64,
    ) -> Result<(), StoreError> {
        let kept = keys::cv_verdict(application_id, key);
        self.run("keep_verdict", |table| {
            let mut item = stamped("cv_verdict");
            item.insert("verdict".into(), serde_json::to_value(verdict).unwrap_or_default());
            item.insert(keys::TTL.into(), until.into());
            table.insert(kept, item);
            Ok(())
        })
    }

    async fn cv_verdict(&self, application_id: &str, key: &str) -> Result<CvVerdict, StoreError> {
        let kept = keys::cv_verdict(application_id, key);
        self.run("cv_verdict", |table| {
            Ok(table
                .get(&kept)
                .and_then(|item| serde_json::from_value(item.get("verdict")?.clone()).ok())
                .unwrap_or(CvVerdict::Checking))
        })
    }
}

fn cv_of(check: &CvCheck) -> Item {
    let mut cv = Item::new();
    cv.insert("key".into(), check.key.clone().into());
    cv.insert("uploaded_at".into(), check.uploaded_at.into());
    cv.insert("checked_at".into(), check.checked_at.rfc3339().into());
    if let Some(version) = &check.version_id {
        cv.insert("version_id".into(), version.clone().into());
    }
    if let Some(name) = &check.file_name {
        cv.insert("file_name".into(), name.clone().into());
    }
    match &check.outcome {
        CvOutcome::Verified { cv_type, size, sha256 } => {
            cv.insert("status".into(), "verified".into());
            cv.insert("media_type".into(), cv_type.media_type().into());
            cv.insert("size".into(), (*size).into());
            cv.insert("sha256".into(), sha256.clone().into());
        }
        CvOutcome::Rejected { reason } => {
            cv.insert("status".into(), "rejected".into());
            cv.insert("reason".into(), reason.clone().into());
        }
    }
    cv
}
