//! Steward's own small HTML pages (errors for plain form posts). Every value is escaped.

use super::problem::Problem;

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

/// Steward's page layout: readable type, visible focus, usable on a phone, no script.
pub fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:1.05rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}h1{{font-size:1.5rem}}li{{margin:.3rem 0}}a{{color:#0b57d0}}button{{font:inherit;padding:.5rem 1rem;border-radius:.4rem;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}}button.secondary{{background:#fff;color:#0b57d0}}:focus-visible{{outline:3px solid #f9ab00;outline-offset:2px}}fieldset{{border:1px solid #ccc;border-radius:.4rem}}label{{display:block;margin:.3rem 0}}</style>
</head><body><main>
{body}
</main></body></html>"#,
        title = escape(title),
    )
}

/// A readable page for a failed form post: what went wrong, field by field, and a way back.
pub fn problem_page(problem: &Problem, form_title: &str, back: Option<&str>) -> String {
    let items: String = problem
        .errors
        .iter()
        .map(|e| format!("<li><strong>{}</strong> {}</li>", escape(&label(&e.field)), escape(&e.message)))
        .collect();
    let list = if items.is_empty() { String::new() } else { format!("<ul>{items}</ul>") };
    let detail = problem.detail.as_deref().map(|d| format!("<p>{}</p>", escape(d))).unwrap_or_default();
    let back = back
        .map(|href| format!(r#"<p><a href="{}">Go back to the form</a></p>"#, escape(href)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – {form}</title>
<style>body{{font:1.05rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}h1{{font-size:1.5rem}}li{{margin:.3rem 0}}a{{color:#0b57d0}}</style>
</head><body><main>
<h1>{title}</h1>
<div role="alert">{detail}{list}</div>
{back}
</main></body></html>"#,
        title = escape(&problem.title),
        form = escape(form_title),
    )
}

/// `job_title` reads as "Job title".
fn label(field: &str) -> String {
    let spaced = field.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::FieldError;

    #[test]
    fn pages_escape_everything_they_show() {
        let problem =
            Problem::validation(vec![FieldError::new("job_title", "too_long", "<script>x</script>")]);
        let page = problem_page(&problem, "Contact <us>", Some("https://www.example.com/a?b=\"c\""));
        assert!(page.contains("Job title"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("Contact &lt;us&gt;"));
        assert!(page.contains("b=&quot;c&quot;"));
    }
}
