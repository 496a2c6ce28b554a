//! The stack's EventBridge bus (feature `destinations`): each domain event is one entry, its
//! `detail-type` the event's type and its detail the event as every destination receives it.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::domain::destinations::dispatch::{DeliveryError, EventBus};
use crate::domain::destinations::DomainEvent;

/// Every entry's `source`: rules match Steward's events by it.
pub const SOURCE: &str = "steward";

pub struct EventBridgeBus {
    pub client: aws_sdk_eventbridge::Client,
    pub bus_name: String,
}

impl EventBus for EventBridgeBus {
    async fn publish(&self, event: &DomainEvent) -> Result<(), DeliveryError> {
        let detail = serde_json::to_string(event).map_err(|e| DeliveryError::Unavailable(e.to_string()))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(SOURCE)
            .detail_type(event.kind.as_str())
            .detail(detail)
            .build();
        let output = self.client.put_events().entries(entry).send().await.map_err(|e| {
            DeliveryError::Unavailable(aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string())
        })?;
        // PutEvents answers 200 with a failed entry when it did not take one.
        match output.entries().first().and_then(|entry| entry.error_code()) {
            None if output.failed_entry_count() == 0 => Ok(()),
            code => Err(DeliveryError::Unavailable(format!(
                "the bus refused the event: {}",
                code.unwrap_or("unknown")
            ))),
        }
    }
}
