//! Where a payment stands, and what is recorded of it: kinds, statuses and their ranks, the record
//! a checkout starts and the changes Stripe's events make.

use serde::{Deserialize, Serialize};

use crate::domain::ids::ProfileId;
use crate::time::Timestamp;

/// What a registration pays for: a seat at an event, or a WSO2 Cloud subscription. Stored by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentKind {
    Event,
    Cloud,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Cloud => "cloud",
        }
    }

    /// A stored kind; `None` for one no version of Steward writes (the store reports it).
    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Event, Self::Cloud].into_iter().find(|kind| kind.as_str() == stored)
    }
}

/// A Cloud invoice's outcome, as Stripe's `invoice.paid` and `invoice.payment_failed` say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    Paid,
    PaymentFailed,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::PaymentFailed => "payment_failed",
        }
    }
}

/// Where a payment stands. Ranked (`version`): within one second, a later state wins over an
/// earlier one. Stored by name (`as_str`), never by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Incomplete,
    Failed,
    RequiresAction,
    Succeeded,
    Active,
    PastDue,
    Unpaid,
    Refunded,
    Canceled,
    /// Money on its way: a bank debit can take days to succeed or fail.
    Processing,
}

impl PaymentStatus {
    /// Still running: a subscription that charges, or a payment not settled yet. Its person is
    /// still needed (to be told, to be charged); a payment that is over is not.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            Self::Pending
                | Self::Incomplete
                | Self::RequiresAction
                | Self::Processing
                | Self::Active
                | Self::PastDue
                | Self::Unpaid
        )
    }

    pub const ALL: [Self; 11] = [
        Self::Pending,
        Self::Incomplete,
        Self::Failed,
        Self::RequiresAction,
        Self::Succeeded,
        Self::Active,
        Self::PastDue,
        Self::Unpaid,
        Self::Refunded,
        Self::Canceled,
        Self::Processing,
    ];

    /// A stored status; `None` for one no version of Steward writes (the store reports it).
    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == stored)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Incomplete => "incomplete",
            Self::Failed => "failed",
            Self::RequiresAction => "requires_action",
            Self::Succeeded => "succeeded",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Unpaid => "unpaid",
            Self::Refunded => "refunded",
            Self::Canceled => "canceled",
            Self::Processing => "processing",
        }
    }

    /// Stripe's subscription statuses, as Steward records them.
    pub fn from_subscription(status: &str) -> Option<Self> {
        Some(match status {
            "incomplete" => Self::Incomplete,
            // The first payment never came within Stripe's 23 hours: over, nothing runs.
            "incomplete_expired" => Self::Failed,
            "active" | "trialing" => Self::Active,
            "past_due" => Self::PastDue,
            "unpaid" | "paused" => Self::Unpaid,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    /// A version that orders updates by the Stripe event's time, then by how far along the
    /// state is: an event that arrives late can never move a payment backwards.
    pub fn version(self, event_created: i64) -> i64 {
        event_created * 100 + self.rank()
    }

    /// How far along a state is. The numbers are stored inside every payment's version, so they
    /// are written out here and never derived from the variants' order: a new state takes a rank
    /// without moving any other. Processing shares Incomplete's rank (a subscription's state,
    /// never on the same record), below every outcome: a failure or success in the same second
    /// wins over it.
    fn rank(self) -> i64 {
        match self {
            Self::Pending => 0,
            Self::Incomplete | Self::Processing => 1,
            Self::Failed => 2,
            Self::RequiresAction => 3,
            Self::Succeeded => 4,
            Self::Active => 5,
            Self::PastDue => 6,
            Self::Unpaid => 7,
            Self::Refunded => 8,
            Self::Canceled => 9,
        }
    }
}

/// A registration's payment, as stored: ids, amounts, statuses and times, never card details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub profile_id: ProfileId,
    pub registration_id: String,
    pub kind: PaymentKind,
    pub item: String,
    pub amount: i64,
    pub currency: String,
    pub stripe_customer_id: String,
    pub payment_intent_id: Option<String>,
    pub subscription_id: Option<String>,
    pub status: PaymentStatus,
    pub started_at: Timestamp,
    /// The language the person pays in: their receipt is written in it.
    pub lang: crate::i18n::Lang,
}

/// A change a Stripe event makes to a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentUpdate {
    Status { status: PaymentStatus, failure_code: Option<String> },
    Invoice { invoice_id: String, status: InvoiceStatus, amount: i64 },
    Dispute { dispute_id: String, status: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatHold {
    Held,
    AlreadyHeld,
    SoldOut,
}

/// A stored payment's kind, item and current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPayment {
    pub kind: PaymentKind,
    pub item: String,
    /// What it charges, in the currency's minor unit, as recorded when it started.
    pub amount: i64,
    pub currency: String,
    pub status: PaymentStatus,
    /// Whether its receipt is owed already (once per registration, whatever events follow).
    pub receipt_owed: bool,
    /// When the registration first started paying (its checkout's hold counts from then).
    pub started_at: Option<crate::time::Timestamp>,
    /// The language of its last checkout (English for a record from before languages).
    pub lang: crate::i18n::Lang,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRef {
    pub profile_id: ProfileId,
    pub registration_id: String,
}
