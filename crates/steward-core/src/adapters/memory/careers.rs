//! Careers: a CV check recorded on its application.

use super::*;
use crate::domain::careers::{CvCheck, CvFile, CvOutcome, CvRecorded, CvStore, CvVerdict};

impl CvStore for MemoryStore {
    async fn record_cv(&self, check: &CvCheck) -> Result<CvRecorded, StoreError> {
        let application = keys::submission(&check.profile_id, &check.application_id);
        self.run("record_cv", |table| {
            let Some(submission) = table.get_mut(&application) else {
                return Ok(CvRecorded::ApplicationMissing);
            };
            // As the DynamoDB store's condition: a later upload's result stays (at the same second,
            // the greater key's); a verified file is never displaced by a rejected one.
            let kept = submission.get("cv").and_then(Value::as_object).is_some_and(|cv| {
                let at = number(cv, "uploaded_at").unwrap_or(0);
                let key = cv.get("key").and_then(Value::as_str).unwrap_or_default();
                let later = at > check.uploaded_at || (at == check.uploaded_at && key > check.key.as_str());
                let verified = cv.get("status").and_then(Value::as_str) == Some("verified");
                later || (verified && matches!(check.outcome, CvOutcome::Rejected { .. }))
            });
            if kept {
                if let CvOutcome::Rejected { reason } = &check.outcome {
                    // Its applicant still reads why, though the application keeps another file.
                    let rejected = serde_json::json!({"key": check.key, "reason": reason});
                    submission.insert("cv_rejected".into(), rejected);
                }
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

    async fn cv_verdict(
        &self,
        profile_id: &ProfileId,
        application_id: &str,
        key: &str,
    ) -> Result<CvVerdict, StoreError> {
        let application = keys::submission(profile_id, application_id);
        self.run("cv_verdict", |table| {
            let Some(submission) = table.get(&application) else { return Ok(CvVerdict::Checking) };
            let text = |value: Option<&Value>, name: &str| {
                value.and_then(|v| v.get(name)).and_then(Value::as_str).unwrap_or_default().to_owned()
            };
            let (kept, rejected) = (submission.get("cv"), submission.get("cv_rejected"));
            Ok(if kept.is_some() && text(kept, "key") == key {
                match text(kept, "status").as_str() {
                    "verified" => CvVerdict::Accepted,
                    _ => CvVerdict::Rejected { reason: text(kept, "reason"), earlier_kept: false },
                }
            } else if rejected.is_some() && text(rejected, "key") == key {
                CvVerdict::Rejected {
                    reason: text(rejected, "reason"),
                    earlier_kept: text(kept, "status") == "verified",
                }
            } else {
                CvVerdict::Checking
            })
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
