//! The privacy center's pages: plain HTML forms that work without JavaScript. Every value shown
//! is escaped; the session is the browser's HttpOnly cookie, never in a URL or a page.

use steward_core::http::page::{escape, layout};

/// A page with one button, for links in mail: opening it uses nothing, the button does. `about`
/// says what the button acts on (whose center, which address), before anyone presses it.
pub fn confirm_link(title: &str, about: Option<&str>, action: &str, token: &str, button: &str) -> String {
    let about = about.map(|text| format!("<p>{}</p>", escape(text))).unwrap_or_default();
    layout(
        title,
        &format!(
            r#"<h1>{title}</h1>{about}<form method="post" action="{action}"><input type="hidden" name="token" value="{token}"><button type="submit">{button}</button></form>"#,
            title = escape(title),
            action = escape(action),
            token = escape(token),
            button = escape(button),
        ),
    )
}

/// A sign-in link's page: whose privacy center it opens, and the button that opens it.
pub fn sign_in_link(token: &str, whose: Option<&str>) -> String {
    let about = whose.map(|address| {
        format!(
            "This link opens the privacy center of {address}. If that is not your address, close this page: someone else sent you their link."
        )
    });
    confirm_link("Open your privacy center", about.as_deref(), "/privacy/session", token, "Continue")
}

pub fn signed_out(everywhere: bool) -> String {
    let detail = if everywhere {
        "Every session of your privacy center has ended, on this device and any other."
    } else {
        "Your privacy center session on this device has ended."
    };
    layout(
        "Signed out",
        &format!(
            "<h1>You are signed out</h1><p>{detail}</p><p>To come back, ask for a new sign-in link.</p>"
        ),
    )
}

/// The confirmation step before erasure.
pub fn confirm_erasure() -> String {
    layout(
        "Delete your data",
        r#"<h1>Delete your data?</h1><p>This deletes your profile, your form submissions, your CVs and your mail preferences, now and for good. Payment records are kept without your name or address, as the law requires. We send one last message to confirm, then we forget your address.</p><form method="post" action="/me"><input type="hidden" name="_method" value="DELETE"><label><input type="checkbox" name="confirm" value="yes" required> I understand that this cannot be undone</label><button type="submit">Delete everything</button></form><p><a href="/me">No, take me back</a></p>"#,
    )
}

pub fn erased() -> String {
    layout(
        "Your data is deleted",
        "<h1>Your data is deleted</h1><p>We sent a last message to confirm it. You are welcome to register again whenever you like.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasure_asks_for_a_confirmation_first() {
        let page = confirm_erasure();
        assert!(page.contains(r#"name="_method" value="DELETE""#));
        assert!(page.contains(r#"name="confirm" value="yes" required"#));
    }
}
