//! Validating one form submission against its catalogue definition. Every failing field is
//! reported at once; fields the form does not declare are dropped here and never reach the store.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::fields::{self, Country, Email, FieldError, PhoneNumber, State};
use crate::domain::forms::catalogue::{FieldKind, FormDefinition};
use crate::t;

/// Raw input from any content type: each field name with the values sent for it, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormInput {
    pub values: BTreeMap<String, Vec<String>>,
    /// Fields whose JSON value was not a string, number, boolean or array of those.
    pub wrong_type: BTreeSet<String>,
}

impl FormInput {
    pub fn push(&mut self, name: &str, value: String) {
        self.values.entry(name.to_owned()).or_default().push(value);
    }

    /// The single value of a field; blank counts as absent.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(|v| v.iter().map(|s| s.as_str()).find(|s| !s.trim().is_empty()))
    }
}

/// A submission that satisfies its form: the only way the domain sees submitted data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidForm {
    pub email: Email,
    pub name: Option<String>,
    pub phone: Option<PhoneNumber>,
    pub job_title: Option<String>,
    pub company: Option<String>,
    pub country: Option<Country>,
    pub state: Option<State>,
    pub message: Option<String>,
    /// Interest topics the person opted in to; empty unless they ticked them.
    pub topics: BTreeSet<String>,
    /// The form's own fields (event, product, position, ...), by name.
    pub custom: BTreeMap<String, String>,
}

impl ValidForm {
    /// A field's value as text, by its name in the catalogue (the address as typed, a phone in
    /// E.164, a country or state by its code); `None` when the form did not get it.
    pub fn value_of(&self, name: &str) -> Option<String> {
        match name {
            "email" => Some(self.email.as_str().to_owned()),
            "name" => self.name.clone(),
            "phone" => self.phone.as_ref().map(|p| p.as_e164().to_owned()),
            "job_title" => self.job_title.clone(),
            "company" => self.company.clone(),
            "country" => self.country.map(|c| c.code().to_owned()),
            "state" => self.state.as_ref().map(|s| s.code().to_owned()),
            "message" => self.message.clone(),
            "interests" => {
                (!self.topics.is_empty()).then(|| self.topics.iter().cloned().collect::<Vec<_>>().join(","))
            }
            custom => self.custom.get(custom).cloned(),
        }
    }
}

pub(crate) const NAME_MAX: usize = 200;
pub(crate) const JOB_TITLE_MAX: usize = 128;
pub(crate) const COMPANY_MAX: usize = 200;
const MESSAGE_MAX: usize = 5000;

pub fn validate(form: &FormDefinition, input: &FormInput) -> Result<ValidForm, Vec<FieldError>> {
    let mut errors = Vec::new();

    for spec in &form.fields {
        let given =
            input.values.get(&spec.name).map_or(0, |v| v.iter().filter(|s| !s.trim().is_empty()).count());
        if input.wrong_type.contains(&spec.name) {
            keep(
                &mut errors,
                Err::<(), _>(FieldError::new(&spec.name, "invalid_type", t!("error-invalid-type"))),
            );
        } else if given == 0 && spec.required && spec.kind != FieldKind::State {
            keep(&mut errors, Err::<(), _>(FieldError::new(&spec.name, "required", t!("error-required"))));
        } else if given > 1 && spec.kind != FieldKind::Interests {
            keep(
                &mut errors,
                Err::<(), _>(FieldError::new(&spec.name, "multiple_values", t!("error-multiple-values"))),
            );
        }
    }
    let single = |name: &str| -> Option<&str> {
        let spec = form.field(name)?;
        if input.wrong_type.contains(name)
            || input.values.get(name).is_some_and(|v| v.len() > 1 && spec.kind != FieldKind::Interests)
        {
            return None;
        }
        input.first(name)
    };

    let email = single("email").and_then(|raw| keep(&mut errors, Email::parse("email", raw)));
    let name = single("name").and_then(|raw| keep(&mut errors, fields::text("name", raw, NAME_MAX, false)));
    let job_title = single("job_title")
        .and_then(|raw| keep(&mut errors, fields::text("job_title", raw, JOB_TITLE_MAX, false)));
    let company =
        single("company").and_then(|raw| keep(&mut errors, fields::text("company", raw, COMPANY_MAX, false)));
    let message =
        single("message").and_then(|raw| keep(&mut errors, fields::text("message", raw, MESSAGE_MAX, true)));
    let country = single("country").and_then(|raw| keep(&mut errors, Country::parse("country", raw)));
    let phone = single("phone").and_then(|raw| keep(&mut errors, PhoneNumber::parse("phone", raw, country)));

    let state = match (form.field("state"), single("state"), country) {
        (None, _, _) => None,
        (Some(_), Some(raw), Some(country)) => keep(&mut errors, State::parse("state", raw, country)),
        (Some(_), Some(_), None) => {
            if single("country").is_none() {
                keep(&mut errors, Err(FieldError::new("state", "invalid_state", t!("error-invalid-state"))))
            } else {
                None // the country's own error is reported
            }
        }
        (Some(spec), None, Some(country)) if spec.required && country.has_subdivisions() => keep(
            &mut errors,
            Err(FieldError::new(
                "state",
                "required",
                t!("error-state-required-for", country = country.code()),
            )),
        ),
        (Some(_), None, _) => None,
    };

    let mut topics = BTreeSet::new();
    if form.field("interests").is_some() && !input.wrong_type.contains("interests") {
        for raw in input.values.get("interests").into_iter().flatten() {
            for topic in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if form.topics.iter().any(|t| t == topic) {
                    topics.insert(topic.to_owned());
                } else {
                    errors.push(FieldError::new(
                        "interests",
                        "unknown_topic",
                        t!(
                            "error-unknown-topic",
                            topic = truncate(topic),
                            topics = form
                                .topics
                                .iter()
                                .map(|t| form.topic_words(t))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
    }

    let mut custom = BTreeMap::new();
    for spec in &form.fields {
        let Some(raw) = single(&spec.name) else {
            continue;
        };
        let value = match &spec.kind {
            FieldKind::Text { max_len } => fields::text(&spec.name, raw, *max_len, true),
            FieldKind::Choice { options } => {
                let value = raw.trim();
                if options.iter().any(|o| o == value) {
                    Ok(value.to_owned())
                } else {
                    Err(FieldError::new(
                        &spec.name,
                        "unknown_option",
                        t!("error-unknown-option", options = options.join(", ")),
                    ))
                }
            }
            // Checked above and kept on the profile. Named one by one so that a new kind cannot be
            // left out of validation (and silently not stored) without the compiler saying so.
            FieldKind::Name
            | FieldKind::Email
            | FieldKind::Phone
            | FieldKind::JobTitle
            | FieldKind::Company
            | FieldKind::Country
            | FieldKind::State
            | FieldKind::Interests
            | FieldKind::Message => continue,
        };
        if let Some(value) = keep(&mut errors, value) {
            custom.insert(spec.name.clone(), value);
        }
    }

    match email {
        Some(email) if errors.is_empty() => {
            Ok(ValidForm { email, name, phone, job_title, company, country, state, message, topics, custom })
        }
        _ => {
            errors.sort_by_key(|e| field_order(form, &e.field));
            errors.dedup_by(|a, b| a.field == b.field && a.code == b.code);
            Err(errors)
        }
    }
}

fn keep<T>(errors: &mut Vec<FieldError>, result: Result<T, FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

fn field_order(form: &FormDefinition, name: &str) -> usize {
    form.fields.iter().position(|f| f.name == name).unwrap_or(usize::MAX)
}

/// Echoes at most a few characters of a bad value back, so an error never reflects a large input.
fn truncate(value: &str) -> String {
    value.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_config;
    use crate::domain::forms::catalogue::{Catalogue, BUILT_IN};

    fn catalogue() -> Catalogue {
        Catalogue::load(BUILT_IN, &test_config()).unwrap()
    }

    fn input(pairs: &[(&str, &str)]) -> FormInput {
        let mut input = FormInput::default();
        for (k, v) in pairs {
            input.push(k, (*v).to_owned());
        }
        input
    }

    fn codes(result: Result<ValidForm, Vec<FieldError>>) -> Vec<(String, &'static str)> {
        result.unwrap_err().into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn a_complete_event_registration_is_valid_and_normalised() {
        let c = catalogue();
        let form = c.form("event-registration").unwrap();
        let valid = validate(
            form,
            &input(&[
                ("name", "Zoë Ñúñez"),
                ("email", "Zoe@Example.com"),
                ("phone", "(415) 555-2671"),
                ("job_title", "CTO"),
                ("company", "Acme"),
                ("country", "us"),
                ("state", "ca"),
                ("event", "wso2con-2027"),
                ("interests", "events"),
                ("interests", "identity"),
                ("unknown", "dropped"),
            ]),
        )
        .unwrap();
        assert_eq!(valid.name.as_deref(), Some("Zoë Ñúñez"));
        assert_eq!(valid.phone.unwrap().as_e164(), "+14155552671");
        assert_eq!(valid.state.unwrap().code(), "US-CA");
        assert_eq!(valid.topics, BTreeSet::from(["events".to_owned(), "identity".to_owned()]));
        assert_eq!(valid.custom.len(), 1, "only declared custom fields are kept");
    }

    #[test]
    fn every_failing_field_is_reported_in_form_order() {
        let c = catalogue();
        let form = c.form("event-registration").unwrap();
        let errors = codes(validate(form, &input(&[("email", "nope"), ("phone", "12"), ("country", "XX")])));
        assert_eq!(
            errors,
            vec![
                ("name".to_owned(), "required"),
                ("email".to_owned(), "invalid_email"),
                ("phone".to_owned(), "invalid_phone"),
                ("job_title".to_owned(), "required"),
                ("company".to_owned(), "required"),
                ("country".to_owned(), "invalid_country"),
                ("event".to_owned(), "required"),
            ]
        );
    }

    #[test]
    fn state_is_required_only_where_the_country_has_subdivisions() {
        let c = catalogue();
        let form = c.form("event-registration").unwrap();
        let base = [
            ("name", "A"),
            ("email", "a@example.com"),
            ("phone", "+14155552671"),
            ("job_title", "t"),
            ("company", "c"),
            ("event", "e"),
        ];
        let mut us = base.to_vec();
        us.push(("country", "US"));
        assert_eq!(codes(validate(form, &input(&us))), vec![("state".to_owned(), "required")]);
        let mut aq = base.to_vec();
        aq.push(("country", "AQ"));
        assert!(validate(form, &input(&aq)).is_ok(), "Antarctica has no subdivisions");
    }

    #[test]
    fn topics_are_opt_in_and_limited_to_the_form() {
        let c = catalogue();
        let form = c.form("newsletter").unwrap();
        assert_eq!(
            codes(validate(form, &input(&[("email", "a@example.com")]))),
            vec![("interests".to_owned(), "required")]
        );
        assert_eq!(
            codes(validate(form, &input(&[("email", "a@example.com"), ("interests", "cloud,spam")]))),
            vec![("interests".to_owned(), "unknown_topic")]
        );
        let contact = c.form("contact-us").unwrap();
        let valid = validate(
            contact,
            &input(&[("name", "A"), ("email", "a@example.com"), ("message", "hi"), ("interests", "cloud")]),
        )
        .unwrap();
        assert!(valid.topics.is_empty(), "a form without interests records no marketing consent");
    }

    #[test]
    fn repeated_and_wrongly_typed_fields_are_refused() {
        let c = catalogue();
        let form = c.form("contact-us").unwrap();
        let mut both = input(&[("name", "A"), ("name", "B"), ("email", "a@example.com"), ("message", "m")]);
        both.wrong_type.insert("message".to_owned());
        assert_eq!(
            codes(validate(form, &both)),
            vec![("name".to_owned(), "multiple_values"), ("message".to_owned(), "invalid_type")]
        );
    }

    #[test]
    fn choices_must_be_listed_options() {
        let c = catalogue();
        let form = c.form("survey").unwrap();
        assert_eq!(
            codes(validate(form, &input(&[("name", "A"), ("email", "a@example.com"), ("rating", "6")]))),
            vec![("rating".to_owned(), "unknown_option")]
        );
    }
}
