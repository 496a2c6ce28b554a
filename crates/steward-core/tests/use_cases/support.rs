//! One world per test: the configuration and catalogues Steward ships with, and every port in
//! memory, on one clock.

use steward_core::adapters::memory::{
    MemoryClock, MemoryCvObjects, MemoryDestinations, MemoryMail, MemoryPaymentProvider, MemoryStore,
};
use steward_core::config::Config;
use steward_core::domain::destinations::dispatch::{self as deliveries, Reach, RetrySchedule};
use steward_core::domain::forms::catalogue::{self, Catalogue};
use steward_core::domain::forms::submit::{submit_form, ClientInfo, Receipt, SubmitCommand, SubmitOutcome};
use steward_core::domain::forms::validation::FormInput;
use steward_core::domain::ids::IdempotencyKey;
use steward_core::domain::mail::outbox::{dispatch, DispatchReport, Pace, Sender};
use steward_core::domain::mail::Templates;
use steward_core::domain::payments::PaymentCatalogue;
use steward_core::domain::ports::Clock;
use steward_core::token::{Claims, Purpose};

pub fn config() -> Config {
    Config::from_lookup(|name| {
        Some(
            match name {
                "TABLE_NAME" => "steward-test",
                "ALLOWED_ORIGINS" => "https://www.example.com",
                "SITE_URL" => "https://www.example.com",
                "POLICY_VERSION" => "2018-03-23",
                "HASH_KEY" => "0123456789abcdef0123456789abcdef",
                "TOKEN_KEYS_PRIVACY_CENTER" => "t1:test-privacy-center-key-0123456789abcdef",
                "TOKEN_KEYS_CV_UPLOAD" => "t1:test-cv-upload-key-0123456789abcdef",
                "TOKEN_KEYS_PAYMENT" => "t1:test-payment-key-0123456789abcdef",
                "TOKEN_KEYS_CONSENT" => "t1:test-consent-key-0123456789abcdef",
                "TOKEN_KEYS_MAIL_LINKS" => "t1:test-mail-links-key-0123456789abcdef",
                "PUBLIC_API_URL" => "https://api.example.com",
                _ => return None,
            }
            .to_owned(),
        )
    })
    .expect("the test configuration is valid")
}

pub struct World {
    pub config: Config,
    pub catalogue: Catalogue,
    pub payments: PaymentCatalogue,
    pub clock: MemoryClock,
    pub store: MemoryStore,
    pub mail: MemoryMail,
    pub cvs: MemoryCvObjects,
    pub provider: MemoryPaymentProvider,
    /// The event bus, webhook receivers and Stripe's erasure, as deliveries reach them.
    pub destinations: MemoryDestinations,
    /// Cloudflare Turnstile, off: the proof of work alone (the tests of Turnstile give their own).
    pub humans: steward_core::domain::forms::proof::NoHumanCheck,
}

impl World {
    pub fn new() -> Self {
        let config = config();
        let clock = MemoryClock::default();
        Self {
            catalogue: Catalogue::load(catalogue::BUILT_IN, &config).expect("the built-in form catalogue"),
            payments: PaymentCatalogue::load(steward_core::domain::payments::BUILT_IN)
                .expect("the built-in payment catalogue"),
            store: MemoryStore::with_clock(config.hash_key.clone(), clock.clone()),
            clock,
            mail: MemoryMail::new(),
            cvs: MemoryCvObjects::new(),
            provider: MemoryPaymentProvider::new(),
            destinations: MemoryDestinations::new(),
            config,
            humans: steward_core::domain::forms::proof::NoHumanCheck,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Submits a form as a browser at `source_ip` would, with an idempotency key if given.
    pub async fn submit_from(
        &self,
        form: &str,
        fields: &[(&str, &str)],
        source_ip: &str,
        idempotency_key: Option<&str>,
    ) -> Result<SubmitOutcome, steward_core::domain::forms::submit::SubmitError> {
        let client = ClientInfo {
            source_ip: source_ip.to_owned(),
            user_agent: Some("Mozilla/5.0 (test)".into()),
            accept_language: Some("en-GB".into()),
            referer: None,
            received_at: self.clock.timestamp(),
            global_privacy_control: false,
        };
        self.submit_as(form, fields, client, idempotency_key).await
    }

    /// Submits a form as a browser that says `client` about itself.
    pub async fn submit_as(
        &self,
        form: &str,
        fields: &[(&str, &str)],
        client: ClientInfo,
        idempotency_key: Option<&str>,
    ) -> Result<SubmitOutcome, steward_core::domain::forms::submit::SubmitError> {
        let mut input = FormInput::default();
        for (name, value) in fields {
            input.push(name, (*value).to_owned());
        }
        let form = self.catalogue.form(form).expect("a form of the catalogue");
        let command = SubmitCommand {
            form,
            input,
            client,
            idempotency_key: idempotency_key.map(|key| IdempotencyKey::parse("key", key).expect("a key")),
        };
        submit_form(&self.store, &self.humans, &self.config, &self.catalogue, command).await
    }

    /// Submits a form that must be stored, and answers its receipt.
    pub async fn submit(&self, form: &str, fields: &[(&str, &str)]) -> Receipt {
        match self.submit_from(form, fields, "192.0.2.10", None).await.expect("the submission is stored") {
            SubmitOutcome::Stored(receipt) => receipt,
            other => panic!("{form} was not stored: {other:?}"),
        }
    }

    /// Starts paying with a grant, from one browser.
    pub async fn start_payment(
        &self,
        grant: &Claims,
    ) -> Result<steward_core::domain::payments::PaymentStarted, steward_core::domain::payments::PaymentError>
    {
        self.start_payment_from(grant, "192.0.2.10").await
    }

    /// Starts paying with a grant, from `source_ip`.
    pub async fn start_payment_from(
        &self,
        grant: &Claims,
        source_ip: &str,
    ) -> Result<steward_core::domain::payments::PaymentStarted, steward_core::domain::payments::PaymentError>
    {
        let request = steward_core::domain::payments::PaymentRequest { grant, source_ip };
        steward_core::domain::payments::start_payment(
            &self.store,
            &self.provider,
            &self.payments,
            &self.config.hash_key,
            request,
            &self.clock,
        )
        .await
    }

    /// The grant a registration gets to pay for `item` (`event:<id>` or `plan:<id>`).
    pub fn grant(&self, receipt: &Receipt, item: &str) -> Claims {
        let expires_at = self.now() + 86_400;
        let token = self.config.token_keys.sign_for_item(
            Purpose::Payment,
            receipt.submission_id.as_str(),
            &receipt.profile_id,
            Some(item),
            Some(expires_at),
        );
        self.config.token_keys.verify(&token, Purpose::Payment, self.now()).expect("a valid grant")
    }

    /// One run of the mail dispatcher, at the clock's time.
    /// One run of the deliveries dispatcher, as the schedule runs it.
    pub async fn deliver(&self) -> deliveries::DispatchReport {
        let reach = Reach {
            bus: &self.destinations,
            webhooks: &self.destinations,
            stripe: &self.destinations,
            catalogue: &self.catalogue,
            links: &self.config.links,
        };
        deliveries::dispatch(&self.store, &reach, &self.clock, &RetrySchedule::standard(), 1000)
            .await
            .expect("the memory store answers")
    }

    pub async fn dispatch(&self) -> DispatchReport {
        self.dispatch_from(&Sender {
            name: "WSO2".into(),
            address: "no-reply@example.com".into(),
            policy_url: "https://www.example.com/privacy-policy".into(),
            site_url: "https://www.example.com".into(),
            unsubscribe_mailto: None,
        })
        .await
    }

    /// One run of the mail dispatcher deployed with these settings.
    pub async fn dispatch_from(&self, sender: &Sender) -> DispatchReport {
        let pace = Pace { batch: 100, per_second: 10_000, retry_base_seconds: 60 };
        dispatch(&self.store, &self.mail, &Templates::default(), sender, &self.clock, pace)
            .await
            .expect("the dispatcher runs")
    }

    /// The subjects of the mail sent to an address, in order.
    pub fn subjects_sent_to(&self, address: &str) -> Vec<String> {
        self.mail
            .sent_to(address)
            .iter()
            .filter_map(|mail| {
                mail.raw.lines().find_map(|line| line.strip_prefix("Subject: ")).map(str::to_owned)
            })
            .collect()
    }
}

/// An address of its own for each person of a test.
pub fn email(label: &str) -> String {
    format!("{label}@example.com")
}

/// A confirmation click on a link naming these topics.
pub fn confirm(topics: &[&str]) -> steward_core::domain::mail::preferences::PreferenceChange {
    steward_core::domain::mail::preferences::PreferenceChange::Confirm {
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        click: steward_core::domain::mail::preferences::ClickEvidence {
            source_ip: "198.51.100.7".into(),
            user_agent: Some("use-case test".into()),
            policy_version: "2018-03-23".into(),
        },
    }
}
