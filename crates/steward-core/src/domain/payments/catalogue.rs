//! What is sold and for how much: `payments.toml`, shipped with each build. The browser sends only
//! the grant it received with its registration; everything else is decided here.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::fields::FieldError;
use crate::i18n::Lang;
use crate::t;

/// An event's title in the request's language.
pub fn event_title(id: &str, event: &PaidEvent) -> String {
    Lang::current().catalogue(&format!("event-{id}-title"), &event.title)
}

/// A plan's title in the request's language.
pub fn plan_title(id: &str, plan: &CloudPlan) -> String {
    Lang::current().catalogue(&format!("plan-{id}-title"), &plan.title)
}

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
    /// The first day (UTC): sales close as it begins.
    pub starts: EventDay,
    pub ends: EventDay,
}

/// A calendar day of an event, written `YYYY-MM-DD` in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventDay(time::Date);

impl<'de> Deserialize<'de> for EventDay {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        time::Date::parse(&text, time::macros::format_description!("[year]-[month]-[day]"))
            .map(EventDay)
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a YYYY-MM-DD day")))
    }
}

impl EventDay {
    /// Midnight UTC at its start, in epoch seconds.
    pub fn begins_at(self) -> i64 {
        self.0.midnight().assume_utc().unix_timestamp()
    }

    /// `10 November 2027`: the page's and the receipt's words for it, in the request's language.
    pub fn in_words(self) -> String {
        crate::i18n::date_in_words(self.0)
    }
}

impl PaidEvent {
    /// Whether it can still be bought at `now` (epoch seconds): until its first day begins.
    pub fn on_sale(&self, now: i64) -> bool {
        now < self.starts.begins_at()
    }

    /// Its days in words: `10 November 2027`, or `14–16 September 2027`.
    pub fn dates(&self) -> String {
        let (starts, ends) = (self.starts.0, self.ends.0);
        if starts == ends {
            self.starts.in_words()
        } else if (starts.year(), starts.month()) == (ends.year(), ends.month()) {
            t!("dates-within-month", first = starts.day(), last = self.ends.in_words())
        } else {
            format!("{} – {}", self.starts.in_words(), self.ends.in_words())
        }
    }
}

/// An amount in a currency's minor unit, as people of the request's language read it: `£150.00`,
/// `US$499.00`, `€20.00` (in German `150,00 £`), or the ISO code for a currency without a symbol
/// of its own here.
pub fn money(minor: i64, currency: &str) -> String {
    let code = currency.to_ascii_uppercase();
    // Stripe's zero-decimal currencies among those a company would plausibly price in.
    let decimals = if matches!(code.as_str(), "JPY" | "KRW" | "VND" | "CLP" | "ISK") { 0 } else { 2 };
    let amount = if decimals == 0 {
        minor.to_string()
    } else {
        format!("{}{}{:02}", minor / 100, t!("decimal-separator"), (minor % 100).abs())
    };
    let symbol = match code.as_str() {
        "GBP" => "£".to_owned(),
        "EUR" => "€".to_owned(),
        "USD" => "US$".to_owned(),
        "JPY" => "¥".to_owned(),
        "INR" => "₹".to_owned(),
        _ => format!("{code} "),
    };
    t!("money", symbol = symbol, amount = amount).trim().to_owned()
}

/// A plan's price with its interval, as people read it: `US$29.00 a month`.
pub fn per_interval(price: String, interval: &str) -> String {
    t!("price-per-interval", price = price, interval = interval)
}

/// What an event's page says before anyone types: whether it can be bought, and how many seats
/// are left (seats held by checkouts not yet paid count as taken until they lapse).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventAvailability {
    pub id: String,
    pub title: String,
    /// Its days in words: `14–16 September 2027`.
    pub dates: String,
    /// Its price in words: `US$499.00`.
    pub price: String,
    /// Not started yet: sales close as its first day begins.
    pub on_sale: bool,
    pub seats_left: u32,
    pub sold_out: bool,
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
            if event.price < 50
                || event.currency.len() != 3
                || event.capacity == 0
                || event.ends < event.starts
            {
                return Err(format!(
                    "payment catalogue: event {id} needs a price of at least 50, a currency, seats, and an end no earlier than its start"
                ));
            }
        }
        for (id, plan) in &catalogue.plans {
            if !plan.stripe_price_id.starts_with("price_")
                || !matches!(plan.interval.as_str(), "month" | "year")
                || plan.amount <= 0
                || plan.currency.len() != 3
            {
                return Err(format!(
                    "payment catalogue: plan {id} needs a Stripe price id, a month or year interval, an amount and a currency"
                ));
            }
        }
        Ok(catalogue)
    }

    /// What a paid form's field names, if it is on sale at `now`: the grant's item and the words
    /// the page uses for it. Anything else is refused naming the field, before anything is stored.
    pub fn offer(&self, field: &str, id: &str, now: i64) -> Result<Offer, FieldError> {
        let item = format!("{field}:{}", id.trim());
        let refused = |message: &str| Err(FieldError::new(field, "not_on_sale", message));
        match self.item(&item) {
            Some(Purchase::Event { event, .. }) if !event.on_sale(now) => refused(&t!("error-sales-closed")),
            Some(purchase) => Ok(Offer { label: purchase.label(), item }),
            None if field == "event" => refused(&t!("error-no-such-event")),
            None => refused(&t!("error-no-such-plan")),
        }
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

/// Something a paid form can be answered with: the grant's item and how the page names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub item: String,
    pub label: String,
}

#[derive(Debug, Clone, Copy)]
pub enum Purchase<'a> {
    Event { id: &'a str, event: &'a PaidEvent },
    Plan { id: &'a str, plan: &'a CloudPlan },
}

impl Purchase<'_> {
    /// What is charged, as people read it: `£150.00`, or `US$29.00 a month` for a plan.
    pub fn price(&self) -> String {
        match self {
            Purchase::Event { event, .. } => money(event.price, &event.currency),
            Purchase::Plan { plan, .. } => per_interval(money(plan.amount, &plan.currency), &plan.interval),
        }
    }

    /// What is bought, in the words of the pages and the receipt: the event with its dates, or
    /// the plan, each with its price.
    pub fn label(&self) -> String {
        format!("{} ({})", self.what(), self.price())
    }

    /// What is bought, without its price: the event with its dates, or the plan.
    pub fn what(&self) -> String {
        match self {
            Purchase::Event { id, event } => format!("{}, {}", event_title(id, event), event.dates()),
            Purchase::Plan { id, plan } => plan_title(id, plan),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event and plan on sale is named in every language Steward ships, and a German page
    /// writes its dates and prices as German readers do.
    #[test]
    fn what_is_sold_speaks_every_language() {
        let catalogue = PaymentCatalogue::load(BUILT_IN).unwrap();
        for lang in Lang::ALL.into_iter().filter(|lang| *lang != Lang::En) {
            for id in catalogue.events.keys() {
                assert!(lang.has(&format!("event-{id}-title")), "{lang} names event {id}");
            }
            for id in catalogue.plans.keys() {
                assert!(lang.has(&format!("plan-{id}-title")), "{lang} names plan {id}");
            }
        }
        let workshop = catalogue.item("event:identity-workshop").unwrap();
        let wso2con = catalogue.item("event:wso2con-2027").unwrap();
        let starter = catalogue.item("plan:cloud-starter").unwrap();
        assert_eq!(wso2con.label(), "WSO2Con 2027, 14–16 September 2027 (US$499.00)");
        assert_eq!(starter.price(), "US$29.00 a month");
        crate::i18n::within(Lang::De, || {
            assert_eq!(
                workshop.label(),
                "Workshop zu Identitäts- und Zugriffsverwaltung, 10. November 2027 (150,00\u{a0}£)"
            );
            assert_eq!(wso2con.what(), "WSO2Con 2027, 14.–16. September 2027");
            assert_eq!(starter.price(), "29,00\u{a0}US$ pro Monat");
        });
    }
}
