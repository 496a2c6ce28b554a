//! Mail: messages rendered from templates into raw MIME for SES v2, and the outbox that sends
//! them once SES accepts them. Transactional mail (confirmations, privacy links, receipts) and
//! marketing mail are distinct kinds: only marketing mail is suppressed by unsubscribing,
//! objecting, restriction or erasure, and only marketing mail carries List-Unsubscribe.

pub mod campaign;
pub mod confirmation;
pub mod outbox;
pub mod preferences;
pub mod recipients;

use mail_builder::headers::address::Address;
use mail_builder::MessageBuilder;
use minijinja::Environment;
use serde::Serialize;

use crate::i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    Transactional,
    Marketing,
}

/// RFC 8058 one-click unsubscribe: the HTTPS URL a mail provider POSTs to, and a mailbox beside
/// it when the deployment has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub url: String,
    pub mailto: Option<String>,
}

/// A rendered message, ready for MIME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub unsubscribe: Option<Unsubscribe>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("template {0} failed: {1}")]
    Template(&'static str, String),
    #[error("the message could not be encoded: {0}")]
    Mime(#[from] std::io::Error),
}

impl Mail {
    /// The raw MIME message: multipart/alternative (text and HTML). `List-Unsubscribe` and
    /// `List-Unsubscribe-Post` are written each on one line, unfolded, as mail providers parse them
    /// most reliably (the MIME builder would fold long values). `sent_at` (epoch seconds) is its
    /// `Date`.
    pub fn to_mime(
        &self,
        from_name: &str,
        from_address: &str,
        message_id: &str,
        sent_at: i64,
    ) -> Result<Vec<u8>, MailError> {
        let body = MessageBuilder::new()
            .from(Address::new_address(Some(from_name), from_address))
            .to(self.to.as_str())
            .subject(self.subject.as_str())
            .message_id(message_id)
            .date(mail_builder::headers::date::Date::new(sent_at))
            .text_body(self.text.as_str())
            .html_body(self.html.as_str())
            .write_to_vec()?;
        let mut raw = Vec::with_capacity(body.len() + 512);
        if let Some(unsubscribe) = &self.unsubscribe {
            let header = match &unsubscribe.mailto {
                Some(mailto) => format!("List-Unsubscribe: <{}>, <{mailto}>\r\n", unsubscribe.url),
                None => format!("List-Unsubscribe: <{}>\r\n", unsubscribe.url),
            };
            raw.extend_from_slice(header.as_bytes());
            raw.extend_from_slice(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
        }
        raw.extend_from_slice(&body);
        Ok(raw)
    }
}

/// The mail templates, compiled into the binary; HTML templates escape every value.
pub struct Templates {
    env: Environment<'static>,
}

/// Each built-in template's text and HTML versions in every language (`templates/<language>/`),
/// included in every binary that sends mail.
macro_rules! template {
    ($name:literal) => {
        (
            $name,
            [
                (
                    Lang::En,
                    include_str!(concat!("../../../templates/en/", $name, ".txt")),
                    include_str!(concat!("../../../templates/en/", $name, ".html")),
                ),
                (
                    Lang::De,
                    include_str!(concat!("../../../templates/de/", $name, ".txt")),
                    include_str!(concat!("../../../templates/de/", $name, ".html")),
                ),
            ],
        )
    };
}

type Translations = [(Lang, &'static str, &'static str); 2];

const BUILT_IN_TEMPLATES: [(&str, Translations); 13] = [
    template!("confirm_subscription"),
    template!("campaign"),
    template!("privacy_link"),
    template!("email_change"),
    template!("email_changed"),
    template!("export_confirm"),
    template!("export_ready"),
    template!("erasure_confirmation"),
    template!("payment_receipt"),
    template!("delivery"),
    template!("cv_verdict"),
    template!("team_notification"),
    template!("request_digest"),
];

/// The name of a built-in template, as the renderer wants it, if there is one by that name.
pub fn built_in_template(name: &str) -> Option<&'static str> {
    BUILT_IN_TEMPLATES.iter().map(|(known, _)| *known).find(|known| *known == name)
}

impl Default for Templates {
    fn default() -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        for (name, source) in BUILT_IN_TEMPLATES.iter().flat_map(|(name, languages)| {
            languages.iter().flat_map(move |(lang, text, html)| {
                [(format!("{lang}/{name}.txt"), *text), (format!("{lang}/{name}.html"), *html)]
            })
        }) {
            env.add_template_owned(name, source).expect("the built-in mail templates parse");
        }
        Self { env }
    }
}

impl Templates {
    /// Renders `<language>/<template>.txt` and `.html` with the same values.
    pub fn render(
        &self,
        lang: Lang,
        template: &'static str,
        values: &serde_json::Value,
    ) -> Result<(String, String), MailError> {
        let render = |suffix: &str| {
            self.env
                .get_template(&format!("{lang}/{template}.{suffix}"))
                .and_then(|t| t.render(values))
                .map_err(|e| MailError::Template(template, e.to_string()))
        };
        Ok((render("txt")?, render("html")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy's "third party offerings": Steward's mail offers no third party's product or
    /// site. Every link in a message is one Steward fills in (its own API, the company's site and
    /// policy, a link the catalogue names), never one written into a template.
    #[test]
    fn no_mail_of_steward_offers_a_third_party_link() {
        for (name, languages) in BUILT_IN_TEMPLATES {
            for (lang, text, html) in languages {
                for source in [text, html] {
                    let literal = ["http://", "https://", "www."].iter().find(|link| source.contains(*link));
                    assert!(literal.is_none(), "{lang}/{name} writes a link of its own: {literal:?}");
                }
            }
        }
    }

    #[test]
    fn every_built_in_template_renders_in_text_and_html_and_the_outbox_knows_it() {
        let templates = Templates::default();
        for (name, _) in BUILT_IN_TEMPLATES {
            let values = serde_json::json!({"organisation": "WSO2", "link_url": "https://x.example/l", "policy_url": "https://x.example/p"});
            for lang in Lang::ALL {
                let (text, html) = templates.render(lang, name, &values).unwrap();
                assert!(text.contains("WSO2") && html.contains("WSO2"), "{lang}/{name}");
                assert!(
                    html.contains(&format!(r#"<html lang="{lang}">"#)),
                    "{lang}/{name} says its language"
                );
            }
            assert_eq!(built_in_template(name), Some(name));
        }
        assert_eq!(built_in_template("nope"), None);
    }

    #[test]
    fn html_templates_escape_and_text_templates_do_not() {
        let (text, html) = Templates::default()
            .render(
                Lang::En,
                "export_confirm",
                &serde_json::json!({"recipient": "<b>Zoë</b>", "organisation": "WSO2", "hours": 24,
                                    "link_url": "https://x/confirm?token=a.b", "policy_url": "https://x/privacy"}),
            )
            .unwrap();
        assert!(text.contains("<b>Zoë</b>"));
        assert!(html.contains("&lt;b&gt;Zoë&lt;"), "{html}");
        assert!(!html.contains("<b>"));
        assert!(html.contains("confirm?token=a.b"));
    }

    #[test]
    fn list_unsubscribe_headers_are_single_unfolded_lines() {
        let long = format!("https://api.example.com/unsubscribe?token={}", "x".repeat(300));
        let mail = Mail {
            kind: MailKind::Marketing,
            to: "zoe@example.com".into(),
            subject: "News".into(),
            text: "Hi".into(),
            html: "<p>Hi</p>".into(),
            unsubscribe: Some(Unsubscribe {
                url: long.clone(),
                mailto: Some("mailto:unsubscribe@example.com?subject=unsubscribe".into()),
            }),
        };
        let raw = String::from_utf8(
            mail.to_mime("WSO2", "news@example.com", "abc@example.com", 1_700_000_000).unwrap(),
        )
        .unwrap();
        let header = raw.lines().find(|l| l.starts_with("List-Unsubscribe:")).unwrap();
        assert_eq!(
            header,
            format!("List-Unsubscribe: <{long}>, <mailto:unsubscribe@example.com?subject=unsubscribe>")
        );
        assert!(raw.lines().any(|l| l == "List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("multipart/alternative"));
    }
}
