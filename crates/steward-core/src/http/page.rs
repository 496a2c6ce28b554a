//! Steward's own small HTML pages: one layout and one stylesheet for all of them. Every value
//! is escaped; no page has a script.

use std::sync::OnceLock;

use super::problem::Problem;
use crate::i18n::{Lang, Visit};
use crate::t;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Who Steward's pages speak for, set once per cold start by each function that serves pages.
static IDENTITY: OnceLock<Identity> = OnceLock::new();

struct Identity {
    organisation: String,
    policy_url: String,
    site_url: String,
}

/// Names the organisation in every page's header and links its privacy policy and the privacy
/// center's sign-in page (on the company site) in the footer. Called once per cold start, it also
/// readies what every page uses (the stylesheet's hash, the English words) during init, so that a
/// function's first page costs what the others do.
pub fn set_identity(organisation: &str, policy_url: &str, site_url: &str) {
    let _ = IDENTITY.set(Identity {
        organisation: organisation.to_owned(),
        policy_url: policy_url.to_owned(),
        site_url: site_url.trim_end_matches('/').to_owned(),
    });
    let _ = style_source();
    crate::i18n::prepare(Lang::En);
}

/// Where a person asks for a privacy-center sign-in link: the company site's page for it, in the
/// request's language.
pub fn sign_in_page_url() -> String {
    format!("{}/privacy-center", site_here())
}

/// The company site in the request's language.
fn site_here() -> String {
    Lang::current().site_in(IDENTITY.get().map(|identity| identity.site_url.as_str()).unwrap_or_default())
}

/// The one stylesheet of Steward's pages: readable type, visible focus, errors beside their
/// fields, usable on a phone. It is inline, and allowed by its hash alone (no `unsafe-inline`).
pub const STYLE: &str = "body{font:1.05rem/1.55 system-ui,sans-serif;color:#1b1b1b;margin:0}header,main,footer{max-width:42rem;margin:0 auto;padding:1rem}header{border-bottom:1px solid #c4c4c4;font-weight:700;font-size:1.15rem}footer{border-top:1px solid #c4c4c4;margin-top:2rem;color:#4a4a4a;font-size:.95rem}h1{font-size:1.55rem;line-height:1.25}h2{font-size:1.2rem;margin-top:2rem}a{color:#0b57d0}li{margin:.3rem 0}dt{font-weight:600}dd{margin:0 0 .4rem 1rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}input[type=text],input[type=email],input[type=tel],input[type=password],input[type=date],input[type=search],select,textarea{font:inherit;width:100%;max-width:100%;box-sizing:border-box;padding:.45rem .55rem;border:1px solid #767676;border-radius:.35rem}fieldset{border:1px solid #c4c4c4;border-radius:.4rem}fieldset label,label.check{font-weight:400}button{font:inherit;padding:.55rem 1.1rem;margin:.8rem .5rem 0 0;border-radius:.4rem;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}button.secondary{background:#fff;color:#0b57d0}:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}[aria-invalid=true]{border:2px solid #b3261e}.field-error{color:#b3261e;margin:.2rem 0 0}.notice{background:#e6f4ea;color:#146c2e;padding:.6rem .9rem;border-radius:.4rem}.alert{background:#fdecea;color:#b3261e;padding:.6rem .9rem;border-radius:.4rem}textarea{display:block;min-height:6rem}legend{font-weight:600}.hint{color:#4a4a4a;font-weight:400;font-size:.95rem}form.inline{display:inline}h3{font-size:1.05rem;margin:1.2rem 0 .3rem}section>ul{padding-left:1.2rem}div.scroll{overflow-x:auto;margin:.8rem 0}table{border-collapse:collapse}th,td{border:1px solid #c4c4c4;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}tr.overdue td{background:#fdecea}tr.due-soon td{background:#fff4d6}nav.console a{margin-right:.8rem}pre{white-space:pre-wrap;word-break:break-word}";

/// The `style-src` source that allows [`STYLE`] and nothing else.
pub fn style_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        use base64::Engine;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(STYLE.as_bytes());
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
    })
}

/// Steward's page layout, in the request's language: the organisation's name, the page, a link
/// to the privacy policy and the privacy center, and the switch to the other languages (on a page
/// that can be fetched again).
pub fn layout(title: &str, body: &str) -> String {
    let visit = Visit::current().unwrap_or_default();
    let (organisation, policy) = match IDENTITY.get() {
        Some(identity) => (
            escape(&identity.organisation),
            format!(
                r#"<p><a href="{}">{}</a> · <a href="{}/privacy-center">{}</a></p>"#,
                escape(&Lang::current().site_page_in(&identity.policy_url, &identity.site_url)),
                escape(&t!("page-privacy-policy")),
                escape(&site_here()),
                escape(&t!("page-your-data")),
            ),
        ),
        None => ("Steward".to_owned(), String::new()),
    };
    let switch: String = Lang::ALL
        .into_iter()
        .filter(|lang| *lang != visit.lang)
        .filter_map(|lang| {
            visit.switch_to(lang).map(|href| {
                format!(
                    r#"<a href="{}" hreflang="{code}" lang="{code}">{}</a>"#,
                    escape(&href),
                    lang.own_name(),
                    code = lang.code()
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let switch = if switch.is_empty() {
        String::new()
    } else {
        format!(r#"<nav aria-label="{}"><p>{switch}</p></nav>"#, escape(&t!("page-language")))
    };
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {organisation}</title>
<style>{STYLE}</style>
</head><body><header>{organisation}</header><main>
{body}
</main><footer>{policy}{switch}</footer></body></html>"#,
        lang = visit.lang.code(),
        title = escape(title),
    )
}

/// Where an error page leads, and its words: back to the form, to the privacy center, or to ask
/// for a new sign-in link. Never the page that failed.
#[derive(Debug, Clone, Copy)]
pub struct Back<'a> {
    pub href: &'a str,
    pub words: &'a str,
}

/// A readable page for a failed form post: what went wrong, field by field, and a way back.
pub fn problem_page(problem: &Problem, form_title: &str, back: Option<Back<'_>>) -> String {
    let items: String = problem
        .errors
        .iter()
        .map(|e| {
            format!(
                "<li><strong>{}</strong> {}</li>",
                escape(&crate::domain::fields::label(&e.field)),
                escape(&e.message)
            )
        })
        .collect();
    let list = if items.is_empty() { String::new() } else { format!("<ul>{items}</ul>") };
    let detail = problem.detail.as_deref().map(|d| format!("<p>{}</p>", escape(d))).unwrap_or_default();
    let back = back
        .map(|back| format!(r#"<p><a href="{}">{}</a></p>"#, escape(back.href), escape(back.words)))
        .unwrap_or_default();
    // "Error:" first in the title: the first thing a screen reader says on the new page.
    layout(
        &t!("page-error-title", problem = problem.title.as_str(), form = form_title),
        &format!(
            r#"<h1>{title}</h1>
<div role="alert" class="alert">{detail}{list}</div>
{back}"#,
            title = escape(&problem.title),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::FieldError;

    #[test]
    fn pages_escape_everything_they_show() {
        let problem =
            Problem::validation(vec![FieldError::new("job_title", "too_long", "<script>x</script>")]);
        let page = problem_page(
            &problem,
            "Contact <us>",
            Some(Back { href: "https://www.example.com/a?b=\"c\"", words: "Go back to the form" }),
        );
        assert!(page.contains("Job title"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("Contact &lt;us&gt;"));
        assert!(page.contains("b=&quot;c&quot;"));
    }
}
