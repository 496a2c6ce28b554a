//! Building responses: JSON, problem+json, HTML pages and redirects, each with the same
//! protective headers. Nothing here sets a cookie.

use lambda_http::http::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use super::problem::{self, Problem};

/// A client that asks for JSON (fetch pages, API clients) gets JSON and status codes; a plain
/// HTML form post gets redirects and pages.
pub fn wants_json(headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let accept = header(ACCEPT);
    accept.contains("application/json")
        || accept.contains("application/problem+json")
        || (header(CONTENT_TYPE).starts_with("application/json") && !accept.contains("text/html"))
}

fn builder(status: u16) -> lambda_http::http::response::Builder {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("cache-control", "no-store")
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
}

pub fn json(status: u16, value: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_string(value).expect("response types serialize");
    builder(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .expect("static headers are valid")
}

pub fn problem(problem: &Problem) -> Response<Body> {
    let body = serde_json::to_string(problem).expect("problems serialize");
    let mut response = builder(problem.status)
        .header(CONTENT_TYPE, problem::CONTENT_TYPE)
        .body(Body::Text(body))
        .expect("static headers are valid");
    if let Some(seconds) = problem.retry_after_seconds {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    response
}

/// An HTML page. Its policy forbids scripts outright, any style but Steward's own stylesheet
/// (allowed by its hash), framing, and form posts off-site.
pub fn html(status: u16, page: String) -> Response<Body> {
    page_with_form_action(status, page, "'self'")
}

/// An HTML page whose form posts to Steward and may then be sent on to `site` (an origin the
/// configuration validated): browsers hold the redirect after a form post to `form-action` too,
/// so a refused form sent again from Steward's page could not reach the site's thank-you page.
pub fn html_sending_on_to(status: u16, page: String, site: &crate::config::Origin) -> Response<Body> {
    page_with_form_action(status, page, &format!("'self' {}", site.as_str()))
}

fn page_with_form_action(status: u16, page: String, form_action: &str) -> Response<Body> {
    let policy = format!(
        "default-src 'none'; style-src {}; img-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        super::page::style_source()
    );
    let mut response = builder(status)
        .header(CONTENT_TYPE, "text/html; charset=utf-8")
        .header("content-security-policy", policy)
        .header("x-frame-options", "DENY")
        .body(Body::Text(page))
        .expect("static headers are valid");
    // A page's own form posts then carry its real origin (which the function allows); its links
    // to other sites carry no referrer, so the tokens in its URL never leave Steward.
    response
        .headers_mut()
        .insert("referrer-policy", lambda_http::http::HeaderValue::from_static("same-origin"));
    response
}

/// 303 See Other: after a POST, the browser GETs `location`. Callers pass only server-decided
/// URLs (the catalogue's, checked against the allowed origins at cold start).
pub fn see_other(location: &str) -> Response<Body> {
    builder(303)
        .header("location", location)
        .body(Body::Empty)
        .unwrap_or_else(|_| problem(&Problem::internal()))
}

/// Problem as JSON or as an HTML page, whichever the client asked for.
pub fn problem_for(
    json_client: bool,
    problem: &Problem,
    page_title: &str,
    back: Option<super::page::Back<'_>>,
) -> Response<Body> {
    if json_client {
        return self::problem(problem);
    }
    let mut response = html(problem.status, super::page::problem_page(problem, page_title, back));
    if let Some(seconds) = problem.retry_after_seconds {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    #[test]
    fn json_is_chosen_by_accept_or_by_a_json_body() {
        let mut headers = HeaderMap::new();
        assert!(!wants_json(&headers));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(wants_json(&headers));
        headers.insert(ACCEPT, HeaderValue::from_static("text/html,application/xhtml+xml"));
        assert!(!wants_json(&headers));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        assert!(wants_json(&headers));
    }

    #[test]
    fn problems_carry_their_media_type_and_retry_after() {
        let response = problem(&Problem::unavailable(5));
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        assert_eq!(response.headers()["retry-after"], "5");
    }

    #[test]
    fn pages_carry_strict_headers_and_allow_only_their_own_stylesheet() {
        let response = html(200, super::super::page::layout("T", "<p>x</p>"));
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline") && !csp.contains("script-src"), "no script at all: {csp}");
        use base64::Engine;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(super::super::page::STYLE.as_bytes());
        let hash = base64::engine::general_purpose::STANDARD.encode(digest);
        assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "the stylesheet's own hash");
        assert_eq!(headers["referrer-policy"], "same-origin", "tokens in a page's URL never leave Steward");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers.get("set-cookie").is_none());
    }

    #[test]
    fn a_page_that_sends_on_to_the_site_allows_its_form_to_land_there_and_nowhere_else() {
        let site = crate::config::Origin::parse("https://www.example.com").unwrap();
        let response = html_sending_on_to(422, "<p>x</p>".into(), &site);
        let csp = response.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("form-action 'self' https://www.example.com;"), "{csp}");
    }
}
