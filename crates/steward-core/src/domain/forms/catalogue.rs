//! The form catalogue (`forms.toml`): every form the site has, its fields, purposes with their
//! lawful basis, retention and thank-you page. Loaded and checked once at cold start.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::domain::ids::FormId;
use crate::i18n::Lang;

/// The catalogue shipped with this build.
pub const BUILT_IN: &str = include_str!("../../../forms.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LawfulBasis {
    Consent,
    Contract,
    LegitimateInterests,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: String,
    pub basis: LawfulBasis,
    pub description: String,
}

/// What a field holds, which decides how it is validated and whether it lands on the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Name,
    Email,
    Phone,
    JobTitle,
    Company,
    Country,
    State,
    Interests,
    Message,
    Text { max_len: usize },
    Choice { options: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub name: String,
    pub kind: FieldKind,
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct FormDefinition {
    pub id: FormId,
    pub title: String,
    pub thank_you_url: String,
    /// The company site, whose pages have a copy per language.
    site_url: String,
    pub retention_days: u32,
    pub purposes: Vec<Purpose>,
    pub topics: Vec<String>,
    pub fields: Vec<FieldSpec>,
    /// Applicants may upload a CV after submitting (careers); the answer carries the grant.
    pub cv_upload: bool,
    /// `event` or `plan`: the field that names what is paid for; when it names something in the
    /// payment catalogue, the answer carries the grant to pay for it (`POST /payments`).
    pub payment: Option<String>,
    /// What the form gives by mail, if anything (a download link).
    pub delivers: Option<Delivery>,
    /// Purposes based on legitimate interests that a person may opt out of, and does by sending
    /// Global Privacy Control (`Sec-GPC: 1`): not needed to do what they asked.
    pub opt_out_purposes: Vec<String>,
    /// SHA-256 (hex) of what the person is shown and agrees to on this form in English: its
    /// title, each purpose with its basis and wording, and each topic's label. A consent keeps the
    /// digest of the notice in the language it was shown in ([`Self::notice_digest_here`]), so the
    /// exact notice is known even after the catalogue changes (git holds each version).
    pub notice_digest: String,
    /// The catalogue's labels of this form's topics (English), for its notice in any language.
    topic_labels: BTreeMap<String, String>,
    /// Where its submissions go (ids of the catalogue's destinations).
    pub destinations: Vec<String>,
    /// The staff console's groups whose people read its submissions.
    pub teams: Vec<crate::domain::staff::Group>,
}

impl FormDefinition {
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Where a plain form post goes after success: the thank-you page in the request's language
    /// (the site's `/de/thanks/…` for German), or the catalogue's page.
    pub fn thank_you_url_here(&self) -> String {
        Lang::current().site_page_in(&self.thank_you_url, &self.site_url)
    }

    /// The digest of the notice as the request's language shows it: the English one is
    /// [`Self::notice_digest`]; another language's has the same shape with its own words.
    pub fn notice_digest_here(&self) -> String {
        if Lang::current() == Lang::En {
            return self.notice_digest.clone();
        }
        let purposes: Vec<Purpose> = self
            .purposes
            .iter()
            .map(|purpose| Purpose { description: self.purpose_words(purpose), ..purpose.clone() })
            .collect();
        let labels: BTreeMap<String, String> = self
            .topics
            .iter()
            .filter_map(|topic| topic_words(&self.topic_labels, topic).map(|words| (topic.clone(), words)))
            .collect();
        notice_digest(&self.title_words(), &purposes, &self.topics, &labels)
    }

    /// One of its topics, in the request's language (its id, if the catalogue names it not).
    pub fn topic_words(&self, topic: &str) -> String {
        topic_words(&self.topic_labels, topic).unwrap_or_else(|| topic.to_owned())
    }

    /// Its title in the request's language.
    pub fn title_words(&self) -> String {
        Lang::current().catalogue(&format!("form-{}-title", self.id.as_str()), &self.title)
    }

    /// Why it asks, for one of its purposes, in the request's language.
    pub fn purpose_words(&self, purpose: &Purpose) -> String {
        Lang::current()
            .catalogue(&format!("form-{}-purpose-{}", self.id.as_str(), purpose.id), &purpose.description)
    }
}

/// A topic's words in the request's language (`None` for a topic the catalogue does not name).
pub fn topic_words(topics: &BTreeMap<String, String>, topic: &str) -> Option<String> {
    topics.get(topic).map(|english| Lang::current().catalogue(&format!("topic-{topic}"), english))
}

/// Where a destination's deliveries go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DestinationKind {
    /// A notification mail to the team's addresses (through the outbox and SES).
    Mail,
    /// The stack's EventBridge bus: teams route events with rules of their own.
    Eventbridge,
    /// An HTTPS endpoint, signed as Standard Webhooks says; its URL is the deployment's.
    Webhook,
}

/// One destination of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub id: String,
    pub kind: DestinationKind,
    /// Who it is, as the person sees it in the privacy center.
    pub description: String,
    /// A mail destination's addresses.
    pub to: Vec<String>,
    /// The purposes it serves: it receives a submission only if the submission is processed for
    /// one of them.
    pub purposes: BTreeSet<String>,
    /// The fields it may receive (of those a form has).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub honeypot_field: String,
    pub topics: BTreeMap<String, String>,
    forms: BTreeMap<FormId, FormDefinition>,
    destinations: BTreeMap<String, Destination>,
}

#[derive(Debug, thiserror::Error)]
#[error("form catalogue: {0}")]
pub struct CatalogueError(String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    honeypot_field: String,
    topics: BTreeMap<String, String>,
    forms: BTreeMap<FormId, RawForm>,
    #[serde(default)]
    destinations: BTreeMap<String, RawDestination>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDestination {
    kind: DestinationKind,
    description: String,
    #[serde(default)]
    to: Vec<String>,
    purposes: BTreeSet<String>,
    fields: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    title: String,
    thank_you_url: String,
    retention_days: u32,
    purposes: Vec<Purpose>,
    #[serde(default)]
    topics: Vec<String>,
    fields: Vec<RawField>,
    #[serde(default)]
    cv_upload: bool,
    payment: Option<String>,
    #[serde(default)]
    opt_out_purposes: Vec<String>,
    delivers: Option<Delivery>,
    #[serde(default)]
    destinations: Vec<String>,
    #[serde(default)]
    teams: Vec<crate::domain::staff::Group>,
}

/// What a form gives by mail: a link per option of one of its choice fields (a product's
/// download), sent to the address typed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub field: String,
    pub links: BTreeMap<String, DeliveredLink>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveredLink {
    pub label: String,
    pub url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    #[serde(default)]
    required: bool,
    kind: Option<String>,
    max_len: Option<usize>,
    #[serde(default)]
    options: Vec<String>,
}

/// Longest custom text field a form may declare.
const MAX_CUSTOM_TEXT: usize = 5000;

/// Most destinations one form may name: each is a write in the submission's own transaction.
const MAX_DESTINATIONS_PER_FORM: usize = 20;

/// The interest topics of the built-in catalogue, by id, with their labels.
pub fn built_in_topics() -> BTreeMap<String, String> {
    #[derive(Deserialize)]
    struct TopicsOnly {
        topics: BTreeMap<String, String>,
    }
    toml::from_str::<TopicsOnly>(BUILT_IN).map(|t| t.topics).unwrap_or_default()
}

/// The destinations of the built-in catalogue, by id, with their descriptions (for an operator's
/// export, which has no deployment configuration to load the whole catalogue with).
pub fn built_in_destinations() -> BTreeMap<String, String> {
    #[derive(Deserialize)]
    struct Described {
        description: String,
    }
    #[derive(Deserialize)]
    struct DestinationsOnly {
        #[serde(default)]
        destinations: BTreeMap<String, Described>,
    }
    toml::from_str::<DestinationsOnly>(BUILT_IN)
        .map(|d| d.destinations.into_iter().map(|(id, d)| (id, d.description)).collect())
        .unwrap_or_default()
}

/// The console groups each built-in form is given to, read without a deployment's configuration
/// (the operator's command lists what a team may see, as the console does).
pub fn built_in_teams() -> BTreeMap<String, Vec<crate::domain::staff::Group>> {
    #[derive(Deserialize)]
    struct Teams {
        #[serde(default)]
        teams: Vec<crate::domain::staff::Group>,
    }
    #[derive(Deserialize)]
    struct FormsOnly {
        #[serde(default)]
        forms: BTreeMap<String, Teams>,
    }
    toml::from_str::<FormsOnly>(BUILT_IN)
        .map(|f| f.forms.into_iter().map(|(id, f)| (id, f.teams)).collect())
        .unwrap_or_default()
}

impl Catalogue {
    pub fn forms(&self) -> impl Iterator<Item = &FormDefinition> {
        self.forms.values()
    }

    pub fn form(&self, id: &str) -> Option<&FormDefinition> {
        FormId::parse(id).and_then(|id| self.forms.get(&id))
    }

    pub fn destination(&self, id: &str) -> Option<&Destination> {
        self.destinations.get(id)
    }

    pub fn destinations(&self) -> impl Iterator<Item = &Destination> {
        self.destinations.values()
    }

    /// Parses and checks a catalogue against the deployment's configuration: every thank-you URL
    /// must land on an allowed origin, every topic must exist, every form needs a required email.
    pub fn load(text: &str, config: &Config) -> Result<Self, CatalogueError> {
        let raw: RawCatalogue = toml::from_str(text).map_err(|e| CatalogueError(e.to_string()))?;
        let destinations = destinations(raw.destinations)?;
        let mut forms = BTreeMap::new();
        for (id, form) in raw.forms {
            let context = |msg: String| CatalogueError(format!("form {}: {msg}", id.as_str()));
            let fields =
                form.fields.into_iter().map(field_spec).collect::<Result<Vec<_>, _>>().map_err(context)?;
            let names: BTreeSet<_> = fields.iter().map(|f| f.name.as_str()).collect();
            if names.len() != fields.len() {
                return Err(context("a field is listed twice".into()));
            }
            if names.contains(raw.honeypot_field.as_str()) {
                return Err(context("a field has the honeypot's name".into()));
            }
            if !fields.iter().any(|f| f.kind == FieldKind::Email && f.required) {
                return Err(context("needs a required email field".into()));
            }
            if fields.iter().any(|f| f.kind == FieldKind::State) && !names.contains("country") {
                return Err(context("a state field needs a country field".into()));
            }
            let offers_interests = names.contains("interests");
            if offers_interests == form.topics.is_empty() {
                return Err(context("an interests field and a topics list go together".into()));
            }
            if let Some(unknown) = form.topics.iter().find(|t| !raw.topics.contains_key(*t)) {
                return Err(context(format!("topic {unknown:?} is not in [topics]")));
            }
            if offers_interests && !form.purposes.iter().any(|p| p.basis == LawfulBasis::Consent) {
                return Err(context("offering interests needs a purpose based on consent".into()));
            }
            if let Some(field) = &form.payment {
                if !matches!(field.as_str(), "event" | "plan") || !names.contains(field.as_str()) {
                    return Err(context(format!(
                        "payment = {field:?} needs a field of that name, event or plan"
                    )));
                }
            }
            if form.purposes.is_empty() || form.retention_days == 0 {
                return Err(context("needs purposes and a retention period".into()));
            }
            for purpose in &form.opt_out_purposes {
                if !form
                    .purposes
                    .iter()
                    .any(|p| &p.id == purpose && p.basis == LawfulBasis::LegitimateInterests)
                {
                    return Err(context(format!(
                        "opt_out_purposes names {purpose:?}, which is not a legitimate-interests purpose of the form"
                    )));
                }
            }
            if let Some(delivery) = &form.delivers {
                let options = fields
                    .iter()
                    .find(|f| f.name == delivery.field)
                    .and_then(|f| match &f.kind {
                        FieldKind::Choice { options } => {
                            Some(options.iter().cloned().collect::<BTreeSet<_>>())
                        }
                        _ => None,
                    })
                    .ok_or_else(|| {
                        context(format!("delivers names {:?}, which is not a choice field", delivery.field))
                    })?;
                let linked: BTreeSet<String> = delivery.links.keys().cloned().collect();
                if linked != options || delivery.links.values().any(|l| !l.url.starts_with("https://")) {
                    return Err(context(
                        "delivers needs an https link for each option of its field, and no other".into(),
                    ));
                }
            }
            // Each destination once, and few: a submission's deliveries are written in its own
            // transaction (at most 100 writes, with the profile, the submission and a mail).
            let listed: BTreeSet<&String> = form.destinations.iter().collect();
            if listed.len() != form.destinations.len() {
                return Err(context("destinations lists a destination twice".into()));
            }
            if form.destinations.len() > MAX_DESTINATIONS_PER_FORM {
                return Err(context(format!(
                    "destinations lists {} destinations; a form has at most {MAX_DESTINATIONS_PER_FORM}",
                    form.destinations.len()
                )));
            }
            for id in &form.destinations {
                let destination = destinations
                    .get(id)
                    .ok_or_else(|| context(format!("destination {id:?} is not in [destinations]")))?;
                if !form.purposes.iter().any(|p| destination.purposes.contains(&p.id)) {
                    return Err(context(format!("destination {id:?} serves none of the form's purposes")));
                }
            }
            let notice_digest = notice_digest(&form.title, &form.purposes, &form.topics, &raw.topics);
            let topic_labels = form
                .topics
                .iter()
                .filter_map(|topic| raw.topics.get(topic).map(|label| (topic.clone(), label.clone())))
                .collect();
            let thank_you_url = form.thank_you_url.replace("{site}", &config.site_url);
            let origin = crate::config::Origin::parse(&thank_you_url).map_err(context)?;
            if !config.is_allowed_origin(origin.as_str()) && origin.as_str() != config.site_url {
                return Err(context(format!("thank_you_url {thank_you_url:?} is not on an allowed origin")));
            }
            forms.insert(
                id.clone(),
                FormDefinition {
                    id,
                    title: form.title,
                    thank_you_url,
                    site_url: config.site_url.clone(),
                    retention_days: form.retention_days,
                    purposes: form.purposes,
                    topics: form.topics,
                    fields,
                    cv_upload: form.cv_upload,
                    payment: form.payment,
                    delivers: form.delivers,
                    opt_out_purposes: form.opt_out_purposes,
                    notice_digest,
                    topic_labels,
                    destinations: form.destinations,
                    teams: form.teams,
                },
            );
        }
        Ok(Self { honeypot_field: raw.honeypot_field, topics: raw.topics, forms, destinations })
    }
}

/// The catalogue's destinations, checked: a mail destination has addresses and only it does, every
/// destination serves a purpose and receives some field.
fn destinations(
    raw: BTreeMap<String, RawDestination>,
) -> Result<BTreeMap<String, Destination>, CatalogueError> {
    raw.into_iter()
        .map(|(id, destination)| {
            let context = |msg: &str| CatalogueError(format!("destination {id}: {msg}"));
            if id.is_empty()
                || id.len() > 40
                || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(context("its id must be lowercase letters, digits and dashes"));
            }
            if id == "stripe" {
                return Err(context("the id stripe is Steward's own (erasure at Stripe)"));
            }
            if destination.purposes.is_empty() || destination.fields.is_empty() {
                return Err(context("needs purposes and fields"));
            }
            let is_mail = destination.kind == DestinationKind::Mail;
            if is_mail == destination.to.is_empty() {
                return Err(context("a mail destination needs `to` addresses, and only it has them"));
            }
            if let Some(bad) =
                destination.to.iter().find(|to| crate::domain::fields::Email::parse("to", to).is_err())
            {
                return Err(context(&format!("{bad:?} is not an email address")));
            }
            Ok((
                id.clone(),
                Destination {
                    id,
                    kind: destination.kind,
                    description: destination.description,
                    to: destination.to,
                    purposes: destination.purposes,
                    fields: destination.fields,
                },
            ))
        })
        .collect()
}

/// The digest of a form's notice: what a person reads before agreeing, in a canonical form.
fn notice_digest(
    title: &str,
    purposes: &[Purpose],
    topics: &[String],
    labels: &BTreeMap<String, String>,
) -> String {
    use sha2::Digest;
    let canonical = serde_json::json!({
        "title": title,
        "purposes": purposes
            .iter()
            .map(|p| serde_json::json!({"id": p.id, "basis": p.basis, "description": p.description}))
            .collect::<Vec<_>>(),
        "topics": topics.iter().map(|t| serde_json::json!({"id": t, "label": labels.get(t)})).collect::<Vec<_>>(),
    });
    hex::encode(sha2::Sha256::digest(canonical.to_string().as_bytes()))
}

fn field_spec(raw: RawField) -> Result<FieldSpec, String> {
    let standard = match raw.name.as_str() {
        "name" => Some(FieldKind::Name),
        "email" => Some(FieldKind::Email),
        "phone" => Some(FieldKind::Phone),
        "job_title" => Some(FieldKind::JobTitle),
        "company" => Some(FieldKind::Company),
        "country" => Some(FieldKind::Country),
        "state" => Some(FieldKind::State),
        "interests" => Some(FieldKind::Interests),
        "message" => Some(FieldKind::Message),
        _ => None,
    };
    let kind = match (standard, raw.kind.as_deref()) {
        (Some(kind), None) => kind,
        (Some(_), Some(_)) => return Err(format!("field {:?} is standard and takes no kind", raw.name)),
        (None, Some("text")) => {
            FieldKind::Text { max_len: raw.max_len.unwrap_or(500).clamp(1, MAX_CUSTOM_TEXT) }
        }
        (None, Some("choice")) if !raw.options.is_empty() => FieldKind::Choice { options: raw.options },
        (None, _) => {
            return Err(format!(
                "custom field {:?} needs kind = \"text\" or kind = \"choice\" with options",
                raw.name
            ))
        }
    };
    if raw.name.starts_with('_') || FormId::parse(&raw.name.replace('_', "-")).is_none() {
        return Err(format!("field name {:?} must be lower-case letters, digits, - or _", raw.name));
    }
    Ok(FieldSpec { name: raw.name, kind, required: raw.required })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_config;

    /// Every form is given to a team of the console, and the operator's reading of the teams
    /// (without a configuration) is the catalogue's.
    #[test]
    fn every_form_is_given_to_a_console_team() {
        let catalogue = Catalogue::load(BUILT_IN, &test_config()).unwrap();
        let teams = built_in_teams();
        for form in catalogue.forms.values() {
            assert!(!form.teams.is_empty(), "{} is given to no team", form.id.as_str());
            assert_eq!(teams[form.id.as_str()], form.teams);
        }
    }

    /// Every title, purpose and topic the catalogue shows a visitor is translated into every
    /// language Steward ships (the catalogue itself is the English).
    #[test]
    fn every_form_speaks_every_language() {
        let catalogue = Catalogue::load(BUILT_IN, &test_config()).unwrap();
        let mut ids: Vec<String> = catalogue.topics.keys().map(|topic| format!("topic-{topic}")).collect();
        for form in catalogue.forms.values() {
            ids.push(format!("form-{}-title", form.id.as_str()));
            ids.extend(form.purposes.iter().map(|p| format!("form-{}-purpose-{}", form.id.as_str(), p.id)));
        }
        ids.extend(catalogue.destinations().map(|d| format!("destination-{}-description", d.id)));
        assert_eq!(built_in_destinations().len(), catalogue.destinations().count());
        for lang in Lang::ALL.into_iter().filter(|lang| *lang != Lang::En) {
            let missing: Vec<&String> = ids.iter().filter(|id| !lang.has(id)).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        }
    }

    #[test]
    fn a_destination_is_declared_once_serves_the_forms_that_name_it_and_mail_has_addresses() {
        let config = test_config();
        let broken = |from: &str, to: &str| {
            assert!(BUILT_IN.contains(from), "{from}");
            Catalogue::load(&BUILT_IN.replacen(from, to, 1), &config).unwrap_err().to_string()
        };
        let unknown =
            broken(r#"destinations = ["sales", "crm", "event-bus"]"#, r#"destinations = ["nobody"]"#);
        assert!(unknown.contains("\"nobody\" is not in [destinations]"), "{unknown}");
        let serves_none = broken(r#"destinations = ["event-bus"]"#, r#"destinations = ["recruiting"]"#);
        assert!(serves_none.contains("serves none of the form's purposes"), "{serves_none}");
        let twice =
            broken(r#"destinations = ["sales", "crm", "event-bus"]"#, r#"destinations = ["crm", "crm"]"#);
        assert!(twice.contains("lists a destination twice"), "{twice}");
        let many: Vec<String> = (0..21).map(|n| format!("\"d{n}\"")).collect();
        let too_many = broken(
            r#"destinations = ["sales", "crm", "event-bus"]"#,
            &format!("destinations = [{}]", many.join(", ")),
        );
        assert!(too_many.contains("at most 20"), "{too_many}");
        let no_addresses = broken(r#"to = ["sales@wso2.com"]"#, "to = []");
        assert!(no_addresses.contains("needs `to` addresses"), "{no_addresses}");
        let bad_address = broken(r#"to = ["sales@wso2.com"]"#, r#"to = ["sales at wso2"]"#);
        assert!(bad_address.contains("is not an email address"), "{bad_address}");
        let catalogue = Catalogue::load(BUILT_IN, &config).unwrap();
        assert_eq!(catalogue.form("contact-us").unwrap().destinations, ["sales", "crm", "event-bus"]);
        assert_eq!(catalogue.destination("crm").unwrap().kind, DestinationKind::Webhook);
    }

    #[test]
    fn the_shipped_catalogue_loads_with_every_form_the_site_has() {
        let catalogue = Catalogue::load(BUILT_IN, &test_config()).expect("forms.toml is valid");
        for form in [
            "registration",
            "event-registration",
            "product-download",
            "contact-us",
            "careers",
            "newsletter",
            "survey",
        ] {
            assert!(catalogue.form(form).is_some(), "{form} is missing");
        }
        let event = catalogue.form("event-registration").unwrap();
        for field in ["name", "email", "phone", "job_title", "company", "country", "state"] {
            assert!(event.field(field).unwrap().required, "event registration requires {field}");
        }
        assert_eq!(
            catalogue.form("contact-us").unwrap().thank_you_url,
            "https://www.example.com/thanks/contact"
        );
    }

    #[test]
    fn a_thank_you_url_off_the_allowed_origins_is_refused() {
        let text = BUILT_IN.replace("{site}/thanks/contact", "https://evil.example.net/");
        let err = Catalogue::load(&text, &test_config()).unwrap_err();
        assert!(err.to_string().contains("contact-us"), "{err}");
    }

    #[test]
    fn a_form_without_a_required_email_is_refused() {
        let text = r#"
            honeypot_field = "website"
            [topics]
            [forms.x]
            title = "x"
            thank_you_url = "{site}/x"
            retention_days = 1
            purposes = [{ id = "p", basis = "contract", description = "d" }]
            fields = [{ name = "name", required = true }]
        "#;
        assert!(Catalogue::load(text, &test_config()).is_err());
    }
}
