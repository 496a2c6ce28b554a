//! What is sold and for how much: `payments.toml`, shipped with each build. The browser sends only
//! the grant it received with its registration; everything else is decided here.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The catalogue shipped with this build.
pub const BUILT_IN: &str = include_str!("../../../payments.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaidEvent {
    pub title: String,
    /// In the currency's minor unit (cents).
    pub price: i64,
    pub currency: String,
    pub capacity: u32,
    pub starts: String,
    pub ends: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudPlan {
    pub title: String,
    pub stripe_price_id: String,
    pub interval: String,
    /// What the Stripe price charges, for display; Stripe's price is the one that counts.
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentCatalogue {
    #[serde(default)]
    pub events: BTreeMap<String, PaidEvent>,
    #[serde(default)]
    pub plans: BTreeMap<String, CloudPlan>,
}

impl PaymentCatalogue {
    pub fn load(text: &str) -> Result<Self, String> {
        let catalogue: Self = toml::from_str(text).map_err(|e| format!("payment catalogue: {e}"))?;
        for (id, event) in &catalogue.events {
            if event.price < 50 || event.currency.len() != 3 || event.capacity == 0 {
                return Err(format!(
                    "payment catalogue: event {id} needs a price of at least 50, a currency and seats"
                ));
            }
        }
        for (id, plan) in &catalogue.plans {
            if !plan.stripe_price_id.starts_with("price_")
                || !matches!(plan.interval.as_str(), "month" | "year")
            {
                return Err(format!(
                    "payment catalogue: plan {id} needs a Stripe price id and a month or year interval"
                ));
            }
        }
        Ok(catalogue)
    }

    /// What a grant's item names: `event:<id>` or `plan:<id>`.
    pub fn item(&self, item: &str) -> Option<Purchase<'_>> {
        match item.split_once(':')? {
            ("event", id) => self.events.get_key_value(id).map(|(id, e)| Purchase::Event { id, event: e }),
            ("plan", id) => self.plans.get_key_value(id).map(|(id, p)| Purchase::Plan { id, plan: p }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Purchase<'a> {
    Event { id: &'a str, event: &'a PaidEvent },
    Plan { id: &'a str, plan: &'a CloudPlan },
}
