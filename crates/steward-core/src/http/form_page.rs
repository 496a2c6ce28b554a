//! The page a browser without JavaScript gets when a form it posted is refused: the form again,
//! with everything typed kept, each problem beside its field, and a button that sends it again.
//! A link back to the site's page would lose what was typed.

use std::collections::BTreeMap;

use super::page::{escape, layout, Back};
use super::problem::Problem;
use crate::domain::fields::label;
use crate::domain::forms::catalogue::{topic_words, FieldKind, FormDefinition};
use crate::domain::forms::validation::FormInput;
use crate::t;

/// The hidden field that carries a browser's submission id, so that sending again is one
/// submission however often it is sent.
const SUBMISSION_ID_FIELD: &str = "_submission_id";

/// What a field offers to choose from, as `(value, words)`, where the site shows a list the
/// catalogue alone cannot name (events and plans on sale, products).
pub type Choices = BTreeMap<String, Vec<(String, String)>>;

/// The refused form, to correct and send again to `action` (the API's own `/forms/{form}`):
/// its fields as the site shows them, the topics it offers by their words, and why it asks.
pub fn correction_page(
    problem: &Problem,
    form: &FormDefinition,
    topics: &BTreeMap<String, String>,
    choices: &Choices,
    typed: &FormInput,
    action: &str,
    back: Option<Back<'_>>,
) -> String {
    let offered: BTreeMap<String, String> = form
        .topics
        .iter()
        .map(|topic| (topic.clone(), topic_words(topics, topic).unwrap_or_else(|| label(topic))))
        .collect();
    let errors = &problem.errors;
    let count = match errors.len() {
        0 => String::new(),
        n => t!("form-page-correct-count", count = n),
    };
    // Problems with no field of the form's own (a header, an unknown field) are listed here.
    let elsewhere: String = errors
        .iter()
        .filter(|e| form.field(&e.field).is_none())
        .map(|e| format!("<li><strong>{}</strong> {}</li>", escape(&label(&e.field)), escape(&e.message)))
        .collect();
    let elsewhere = if elsewhere.is_empty() { String::new() } else { format!("<ul>{elsewhere}</ul>") };
    // A refusal with no field of its own (a closed sale, too many tries) says why in its detail.
    let detail = problem
        .detail
        .as_deref()
        .filter(|_| errors.is_empty())
        .map(|d| format!("<p>{}</p>", escape(d)))
        .unwrap_or_default();
    let fields: String = form
        .fields
        .iter()
        .map(|spec| {
            let offers = choices.get(&spec.name);
            field(spec.name.as_str(), &spec.kind, spec.required, &offered, offers, typed, problem)
        })
        .collect();
    // Why the form asks, as its notice says (the consent kept with the submission names it).
    let why: Vec<String> = form.purposes.iter().map(|purpose| form.purpose_words(purpose)).collect();
    let why = format!(r#"<p class="hint">{}</p>"#, escape(&t!("form-page-why", reasons = why.join(" "))));
    let submission_id = typed
        .values
        .get(SUBMISSION_ID_FIELD)
        .and_then(|values| values.first())
        .map(|id| format!(r#"<input type="hidden" name="{SUBMISSION_ID_FIELD}" value="{}">"#, escape(id)))
        .unwrap_or_default();
    let back = back
        .map(|back| {
            format!(r#"<p><a href="{}">{}</a></p>"#, escape(back.href), escape(&t!("form-page-start-again")))
        })
        .unwrap_or_default();
    layout(
        &t!("page-error-title", problem = problem.title.as_str(), form = form.title_words()),
        &format!(
            r#"<h1>{title}</h1>
<div role="alert" class="alert">{detail}<p>{count}</p>{elsewhere}</div>
<form method="post" action="{action}" novalidate>{submission_id}{fields}{why}<button type="submit">{send}</button></form>
{back}"#,
            title = escape(&form.title_words()),
            action = escape(action),
            send = escape(&t!("form-page-send-again")),
        ),
    )
}

/// One field as the site's form has it, with what was typed and its problem beside it.
fn field(
    name: &str,
    kind: &FieldKind,
    required: bool,
    topics: &BTreeMap<String, String>,
    offers: Option<&Vec<(String, String)>>,
    typed: &FormInput,
    problem: &Problem,
) -> String {
    let values: &[String] = typed.values.get(name).map(Vec::as_slice).unwrap_or_default();
    let first = values.first().map(String::as_str).unwrap_or_default();
    let error = problem.errors.iter().find(|e| e.field == name);
    let id = format!("f-{name}");
    let described = if error.is_some() {
        format!(r#" aria-invalid="true" aria-describedby="{id}-error""#)
    } else {
        String::new()
    };
    let message = error
        .map(|e| {
            format!(
                r#"<p class="field-error" id="{id}-error">{} {}</p>"#,
                escape(&label(name)),
                escape(&e.message)
            )
        })
        .unwrap_or_default();
    let optional = if required {
        String::new()
    } else {
        format!(r#" <span class="hint">{}</span>"#, escape(&t!("form-page-optional")))
    };
    let title = format!("{}{optional}", escape(&label(name)));
    let select = |options: Vec<(String, String)>| {
        let choices: String = std::iter::once((String::new(), t!("form-page-choose")))
            .chain(options)
            .map(|(value, words)| {
                let selected = if value == first { " selected" } else { "" };
                format!(r#"<option value="{}"{selected}>{}</option>"#, escape(&value), escape(&words))
            })
            .collect();
        format!(
            r#"<label for="{id}">{title}</label><select id="{id}" name="{name}"{described}>{choices}</select>{message}"#
        )
    };
    if let Some(offers) = offers {
        return select(offers.clone());
    }
    match kind {
        FieldKind::Interests => {
            let boxes: String = topics
                .iter()
                .map(|(topic, words)| {
                    let checked = if values.iter().any(|v| v == topic) { " checked" } else { "" };
                    format!(
                        r#"<label class="check"><input type="checkbox" name="{name}" value="{}"{checked}> {}</label>"#,
                        escape(topic),
                        escape(words)
                    )
                })
                .collect();
            format!(r#"<fieldset{described}><legend>{title}</legend>{boxes}</fieldset>{message}"#)
        }
        FieldKind::Choice { options } => select(options.iter().map(|o| (o.clone(), o.clone())).collect()),
        // A long answer gets room; a short one (a position, an event's id) a line.
        FieldKind::Message | FieldKind::Text { max_len: 201.. } => format!(
            r#"<label for="{id}">{title}</label><textarea id="{id}" name="{name}"{described}>{}</textarea>{message}"#,
            escape(first)
        ),
        _ => {
            let (kind, autocomplete) = match kind {
                FieldKind::Email => ("email", "email"),
                FieldKind::Phone => ("tel", "tel"),
                FieldKind::Name => ("text", "name"),
                FieldKind::JobTitle => ("text", "organization-title"),
                FieldKind::Company => ("text", "organization"),
                FieldKind::Country => ("text", "country"),
                _ => ("text", "off"),
            };
            let hint = match name {
                "country" => {
                    format!(r#" <span class="hint">{}</span>"#, escape(&t!("form-page-country-hint")))
                }
                "state" => format!(r#" <span class="hint">{}</span>"#, escape(&t!("form-page-state-hint"))),
                _ => String::new(),
            };
            format!(
                r#"<label for="{id}">{title}{hint}</label><input id="{id}" name="{name}" type="{kind}" value="{}" autocomplete="{autocomplete}"{described}>{message}"#,
                escape(first)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::FieldError;
    use crate::domain::forms::catalogue::{Catalogue, BUILT_IN};

    #[test]
    fn a_refused_form_comes_back_with_what_was_typed_and_each_problem_beside_its_field() {
        let config = crate::config::test_config();
        let catalogue = Catalogue::load(BUILT_IN, &config).unwrap();
        let form = catalogue.form("newsletter").unwrap();
        let mut typed = FormInput::default();
        typed.push("email", "zoë@<example".into());
        typed.push("name", "Zoë \"Z\" Ñúñez".into());
        typed.push("_submission_id", "abc123".into());
        let problem = Problem::validation(vec![
            FieldError::new("email", "invalid_email", "is not an email address"),
            FieldError::new("interests", "required", "is required"),
        ]);
        let page = correction_page(
            &problem,
            form,
            &catalogue.topics,
            &Choices::new(),
            &typed,
            "/forms/newsletter",
            None,
        );
        assert!(page.contains(r#"action="/forms/newsletter""#));
        assert!(page.contains(r#"value="zoë@&lt;example""#), "the typed address, escaped");
        assert!(page.contains(r#"value="Zoë &quot;Z&quot; Ñúñez""#), "the typed name");
        assert!(page.contains(r#"name="_submission_id" value="abc123""#), "sent again, it is one submission");
        assert!(page.contains(r#"<p class="field-error" id="f-email-error">Email is not an email address"#));
        assert!(
            page.contains(r#"<p class="field-error" id="f-interests-error">Topics is required"#),
            "named by its label"
        );
        assert!(page.contains(r#"aria-invalid="true" aria-describedby="f-email-error""#));
        assert!(page.contains("Identity and access management"), "topics by their words");
        assert!(page.contains("Please correct the 2 fields below"));
        assert!(!page.contains("<script"));
    }

    #[test]
    fn a_refused_form_offers_only_its_own_topics_and_names_what_it_sells() {
        let config = crate::config::test_config();
        let catalogue = Catalogue::load(BUILT_IN, &config).unwrap();
        let form = catalogue.form("event-registration").unwrap();
        let mut typed = FormInput::default();
        typed.push("event", "wso2con-2027".into());
        typed.push("interests", "events".into());
        let choices: Choices = [(
            "event".to_owned(),
            vec![("wso2con-2027".to_owned(), "WSO2Con 2027, 14–16 September 2027 (US$499.00)".to_owned())],
        )]
        .into();
        let problem = Problem::validation(vec![FieldError::new("email", "required", "is required")]);
        let page = correction_page(
            &problem,
            form,
            &catalogue.topics,
            &choices,
            &typed,
            "/forms/event-registration",
            None,
        );
        assert!(page.contains(
            r#"<option value="wso2con-2027" selected>WSO2Con 2027, 14–16 September 2027 (US$499.00)</option>"#
        ));
        assert!(page.contains(r#"name="interests" value="events" checked"#));
        assert!(!page.contains(r#"value="careers""#), "a topic the form does not offer is not offered");
        assert!(page.contains("Why we ask:"), "the form's notice");
    }
}
