//! The register of data-protection requests: the `REQUEST` partition, one item per request
//! holding it as a JSON document, with its version for optimistic changes.

use super::*;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::ports::StoreError;
use crate::domain::privacy::requests::{PrivacyRequest, RequestStore, KEPT_DAYS};

impl RequestStore for DynamoStore {
    async fn save_request(&self, request: &PrivacyRequest) -> Result<bool, StoreError> {
        let (pk, sk) = keys::request_of(request);
        let mut item = key(pk, sk);
        stamp(&mut item, "request");
        let document = serde_json::to_string(request).map_err(|e| StoreError::Unexpected(Box::new(e)))?;
        item.insert("document".into(), s(document));
        item.insert("version".into(), n(request.version));
        // Kept 24 months from its answer; an open request is never dropped.
        if let Some(closed) = request.closed {
            let closed = time::OffsetDateTime::new_utc(closed, time::Time::MIDNIGHT).unix_timestamp();
            item.insert(keys::TTL.into(), n(closed + KEPT_DAYS * 86_400));
        }
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let put = if request.version <= 1 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :before")
                .expression_attribute_values(":before", n(request.version - 1))
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(classify(err)),
        }
    }

    async fn request(&self, id: &str) -> Result<Option<PrivacyRequest>, StoreError> {
        Ok(self.get(keys::request(id)).await?.as_ref().and_then(document_of))
    }

    async fn requests(&self) -> Result<Vec<PrivacyRequest>, StoreError> {
        let items = self.partition(keys::REQUEST, None).await?;
        Ok(items.iter().filter_map(document_of).collect())
    }

    async fn self_service_requests(&self, year: i32) -> Result<Vec<PrivacyRequest>, StoreError> {
        let mut requests = Vec::new();
        for month in 1..=12 {
            let items =
                self.partition(&keys::self_service_requests(&format!("{year:04}-{month:02}")), None).await?;
            requests.extend(items.iter().filter_map(document_of));
        }
        Ok(requests)
    }
}

fn document_of(item: &std::collections::HashMap<String, AttributeValue>) -> Option<PrivacyRequest> {
    let document = item.get("document")?.as_s().ok()?;
    match serde_json::from_str(document) {
        Ok(request) => Some(request),
        Err(err) => {
            tracing::warn!(error = %err, "a request of the register does not read");
            None
        }
    }
}
