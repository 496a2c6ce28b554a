//! The privacy center's pages: plain HTML forms that work without JavaScript. Every value shown
//! is escaped; the session is the browser's HttpOnly cookie, never in a URL or a page.

use steward_core::http::page::{escape, layout};
use steward_core::t;

/// A page with one button, for links in mail: opening it uses nothing, the button does. `about`
/// says what the button acts on (whose center, which address), before anyone presses it.
pub fn confirm_link(title: &str, about: Option<&str>, action: &str, token: &str, button: &str) -> String {
    let about = about.map(|text| format!("<p>{}</p>", escape(text))).unwrap_or_default();
    layout(
        title,
        &format!(
            r#"<h1>{title}</h1>{about}<form method="post" action="{action}"><input type="hidden" name="token" value="{token}"><button type="submit">{button}</button></form>"#,
            title = escape(title),
            action = escape(&steward_core::i18n::form_action(action)),
            token = escape(token),
            button = escape(button),
        ),
    )
}

/// A sign-in link's page: whose privacy center it opens, and the button that opens it.
pub fn sign_in_link(token: &str, whose: Option<&str>) -> String {
    let about = whose.map(|address| t!("sign-in-link-whose", address = address));
    confirm_link(
        &t!("sign-in-link-title"),
        about.as_deref(),
        "/privacy/session",
        token,
        &t!("sign-in-link-button"),
    )
}

pub fn signed_out(everywhere: bool) -> String {
    let detail = if everywhere { t!("signed-out-everywhere") } else { t!("signed-out-here") };
    layout(
        &t!("signed-out-title"),
        &format!(
            "<h1>{}</h1><p>{}</p><p>{}</p>",
            escape(&t!("signed-out-heading")),
            escape(&detail),
            escape(&t!("signed-out-come-back"))
        ),
    )
}

/// The confirmation step before erasure; `cancels_subscription` says a running subscription ends with it.
pub fn confirm_erasure(cancels_subscription: bool) -> String {
    let subscription = if cancels_subscription {
        format!("<p><strong>{}</strong></p>", escape(&t!("center-delete-subscription")))
    } else {
        String::new()
    };
    layout(
        &t!("erasure-title"),
        &format!(
            r#"<h1>{}</h1><p>{}</p>{subscription}<form method="post" action="/me"><input type="hidden" name="_method" value="DELETE"><label><input type="checkbox" name="confirm" value="yes" required> {}</label><button type="submit">{}</button></form><p><a href="/me">{}</a></p>"#,
            escape(&t!("erasure-heading")),
            escape(&t!("erasure-explain")),
            escape(&t!("erasure-understand")),
            escape(&t!("erasure-button")),
            escape(&t!("erasure-back")),
        ),
    )
}

pub fn erased() -> String {
    let title = t!("erased-title");
    layout(&title, &format!("<h1>{}</h1><p>{}</p>", escape(&title), escape(&t!("erased-body"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasure_asks_for_a_confirmation_first() {
        let page = confirm_erasure(false);
        assert!(page.contains(r#"name="_method" value="DELETE""#));
        assert!(page.contains(r#"name="confirm" value="yes" required"#));
        assert!(!page.contains("subscription"));
        assert!(confirm_erasure(true).contains("Your running subscription will be cancelled at once"));
    }
}
