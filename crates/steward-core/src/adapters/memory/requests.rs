//! The register of data-protection requests: the `REQUEST` partition, as the DynamoDB store
//! keeps it (a JSON document and its version per request).

use super::*;
use crate::domain::privacy::requests::{PrivacyRequest, RequestStore};

impl RequestStore for MemoryStore {
    async fn save_request(&self, request: &PrivacyRequest) -> Result<bool, StoreError> {
        let document = serde_json::to_string(request).map_err(|e| StoreError::Unexpected(Box::new(e)))?;
        self.run("save_request", |table| {
            let key = keys::request_of(request);
            let stored = table.get(&key).and_then(|item| item.get("version")).and_then(|v| v.as_i64());
            let fits = if request.version <= 1 {
                stored.is_none()
            } else {
                stored == Some(i64::from(request.version) - 1)
            };
            if !fits {
                return Ok(false);
            }
            let mut item = stamped("request");
            item.insert("document".into(), document.clone().into());
            item.insert("version".into(), i64::from(request.version).into());
            table.insert(key, item);
            Ok(true)
        })
    }

    async fn request(&self, id: &str) -> Result<Option<PrivacyRequest>, StoreError> {
        self.run("request", |table| Ok(table.get(&keys::request(id)).and_then(document_of)))
    }

    async fn self_service_requests(&self, year: i32) -> Result<Vec<PrivacyRequest>, StoreError> {
        self.run("self_service_requests", |table| {
            Ok((1..=12)
                .flat_map(|month| {
                    let pk = keys::self_service_requests(&format!("{year:04}-{month:02}"));
                    partition(table, &pk).filter_map(|(_, item)| document_of(item)).collect::<Vec<_>>()
                })
                .collect())
        })
    }

    async fn requests(&self) -> Result<Vec<PrivacyRequest>, StoreError> {
        self.run("requests", |table| {
            Ok(partition(table, keys::REQUEST).filter_map(|(_, item)| document_of(item)).collect())
        })
    }
}

fn document_of(item: &Item) -> Option<PrivacyRequest> {
    serde_json::from_str(item.get("document")?.as_str()?).ok()
}
