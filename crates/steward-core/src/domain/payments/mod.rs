//! Paid events and the WSO2 Cloud subscription. Card data never touches Steward: the browser
//! tokenises with Stripe Elements, and Steward works only with Stripe ids, amounts and statuses.
//!
//! What is sold and for how much is decided here, from `payments.toml`; the browser sends only
//! the grant it received with its registration.

mod catalogue;
mod checkout;
mod ports;
mod status;
mod webhook;

pub use catalogue::{
    money, per_interval, CloudPlan, EventAvailability, EventDay, Offer, PaidEvent, PaymentCatalogue,
    Purchase, BUILT_IN,
};
pub use checkout::{
    event_availability, start_payment, PaymentError, PaymentRequest, PaymentStarted, PAYMENT_STARTS_PER_IP,
    PAYMENT_STARTS_PER_PERSON, SEAT_HOLD_MAX_SECONDS, SEAT_HOLD_SECONDS,
};
pub use ports::{Created, IntentRequest, PaymentProvider, PaymentStore, ProviderError, SubscriptionRequest};
pub use status::{
    InvoiceStatus, PaymentKind, PaymentRecord, PaymentRef, PaymentStatus, PaymentUpdate, RecordedPayment,
    SeatHold,
};
pub use webhook::{
    apply_event, interpret, receive_event, Received, StripeEvent, StripeEventData, WebhookOutcome,
    EVENT_SEEN_FOR_SECONDS,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_keep_the_ranks_and_names_already_stored() {
        // Every payment's version holds a rank, and every item a name: changing either would
        // reorder or orphan what is stored.
        let stored: Vec<(&str, i64)> =
            PaymentStatus::ALL.iter().map(|s| (s.as_str(), s.version(0))).collect();
        assert_eq!(
            stored,
            [
                ("pending", 0),
                ("incomplete", 1),
                ("failed", 2),
                ("requires_action", 3),
                ("succeeded", 4),
                ("active", 5),
                ("past_due", 6),
                ("unpaid", 7),
                ("refunded", 8),
                ("canceled", 9),
                ("processing", 1),
            ]
        );
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(PaymentStatus::parse("settled"), None);
        assert_eq!(PaymentKind::parse("event"), Some(PaymentKind::Event));
        assert_eq!(PaymentKind::parse("gift"), None);
    }

    #[test]
    fn the_shipped_catalogue_loads_and_names_items_by_kind() {
        let catalogue = PaymentCatalogue::load(BUILT_IN).unwrap();
        assert!(matches!(catalogue.item("event:wso2con-2027"), Some(Purchase::Event { .. })));
        assert!(matches!(catalogue.item("plan:cloud-starter"), Some(Purchase::Plan { .. })));
        assert!(catalogue.item("event:cloud-starter").is_none());
        assert!(catalogue.item("wso2con-2027").is_none());
    }

    #[test]
    fn a_late_event_never_moves_a_payment_backwards() {
        assert!(PaymentStatus::Succeeded.version(100) > PaymentStatus::Failed.version(100));
        assert!(PaymentStatus::Failed.version(101) > PaymentStatus::Succeeded.version(100));
        assert!(PaymentStatus::Refunded.version(100) > PaymentStatus::Succeeded.version(100));
        assert!(PaymentStatus::PastDue.version(100) > PaymentStatus::Active.version(100));
        // Processing comes after the attempt and before its outcome, which wins within a second;
        // the ranks recorded before it existed are unchanged.
        assert!(PaymentStatus::Processing.version(101) > PaymentStatus::RequiresAction.version(100));
        assert!(PaymentStatus::Succeeded.version(100) > PaymentStatus::Processing.version(100));
        assert!(PaymentStatus::Failed.version(100) > PaymentStatus::Processing.version(100));
        assert_eq!(PaymentStatus::Succeeded.version(100), 100 * 100 + 4, "as recorded before");
    }

    fn sample(name: &str) -> StripeEvent {
        let path = format!("{}/../../events/stripe-webhook/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_sample_webhooks_mean_what_stripe_means() {
        let status = |name: &str| match interpret(&sample(name)) {
            Some((id, PaymentUpdate::Status { status, .. })) => (id[..3].to_owned(), status),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(status("payment_intent.succeeded"), ("pi_".into(), PaymentStatus::Succeeded));
        assert_eq!(status("payment_intent.payment_failed"), ("pi_".into(), PaymentStatus::Failed));
        assert_eq!(status("charge.refunded"), ("pi_".into(), PaymentStatus::Refunded));
        assert_eq!(status("customer.subscription.updated"), ("sub".into(), PaymentStatus::Active));
        assert_eq!(status("customer.subscription.deleted"), ("sub".into(), PaymentStatus::Canceled));
        assert!(
            matches!(interpret(&sample("invoice.paid")), Some((id, PaymentUpdate::Invoice { status: InvoiceStatus::Paid, .. })) if id.starts_with("sub_"))
        );
        assert!(matches!(
            interpret(&sample("invoice.payment_failed")),
            Some((_, PaymentUpdate::Invoice { status: InvoiceStatus::PaymentFailed, .. }))
        ));
        assert!(matches!(
            interpret(&sample("charge.dispute.created")),
            Some((_, PaymentUpdate::Dispute { .. }))
        ));
        let mut failed = sample("payment_intent.payment_failed");
        assert!(
            matches!(interpret(&failed), Some((_, PaymentUpdate::Status { failure_code: Some(code), .. })) if code == "generic_decline")
        );
        failed.event_type = "balance.available".into();
        assert!(interpret(&failed).is_none());
    }

    #[test]
    fn prices_below_stripes_minimum_are_refused() {
        let text = "[events.x]\ntitle='x'\nprice=10\ncurrency='usd'\ncapacity=1\nstarts='a'\nends='b'\n";
        assert!(PaymentCatalogue::load(text).is_err());
    }
}
