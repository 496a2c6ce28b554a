//! The console's page frame: Steward's layout (escaping, stylesheet, no script), with who is
//! signed in, what their groups open, and a sign-out button.

use lambda_http::{Body, Response};
use steward_core::domain::staff::{Group, StaffMember};
use steward_core::http::page::{escape, layout};
use steward_core::http::respond;

pub struct Page<'a> {
    pub title: &'a str,
    pub staff: Option<&'a StaffMember>,
    /// HTML, every value in it escaped by its writer.
    pub body: &'a str,
}

pub fn page(page: Page<'_>) -> Response<Body> {
    respond::html(200, frame(page))
}

pub fn frame(page: Page<'_>) -> String {
    let nav = match page.staff {
        Some(staff) => {
            let mut links = vec![r#"<a href="/console">Console</a>"#.to_owned()];
            if staff.is_in(Group::Events) {
                links.push(r#"<a href="/console/events">Events</a>"#.into());
            }
            if staff.is_in(Group::Recruiting) {
                links.push(r#"<a href="/console/applicants">Applicants</a>"#.into());
            }
            if staff.is_in(Group::Privacy) {
                links.push(r#"<a href="/console/requests">Requests</a>"#.into());
                links.push(r#"<a href="/console/people">People</a>"#.into());
                links.push(r#"<a href="/console/audit">Audit log</a>"#.into());
            }
            let groups: Vec<&str> = staff.groups.iter().map(|g| g.slug()).collect();
            format!(
                r#"<nav class="console" aria-label="Console"><p>{}</p></nav><div class="hint"><form class="inline" method="post" action="/console/sign-out">Signed in as {} ({}). <button type="submit" class="secondary">Sign out</button></form></div>"#,
                links.join(" "),
                escape(&staff.email),
                escape(&groups.join(", "))
            )
        }
        None => String::new(),
    };
    layout(page.title, &format!("{nav}<h1>{}</h1>{}", escape(page.title), page.body))
}

/// A table with a caption; cells are escaped here.
pub fn table(caption: &str, header: &[&str], rows: &[Vec<Cell>]) -> String {
    let head: String = header.iter().map(|h| format!(r#"<th scope="col">{}</th>"#, escape(h))).collect();
    let body: String = rows
        .iter()
        .map(|row| {
            let cells: String = row.iter().map(Cell::html).collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    let table = format!(
        "<table><caption>{}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
        escape(caption)
    );
    scrolling(caption, &table)
}

/// A wide table scrolls sideways inside a region a keyboard can reach (and scroll).
pub fn scrolling(label: &str, table: &str) -> String {
    format!(r#"<div class="scroll" role="region" aria-label="{}" tabindex="0">{table}</div>"#, escape(label))
}

/// One cell: text, or a link (both escaped).
#[derive(Clone)]
pub enum Cell {
    Text(String),
    Link {
        href: String,
        text: String,
    },
    /// Markup written by the console itself (a form with a button), every value escaped by it.
    Html(String),
}

impl Cell {
    fn html(&self) -> String {
        match self {
            Self::Text(text) => format!("<td>{}</td>", escape(text)),
            Self::Link { href, text } => {
                format!(r#"<td><a href="{}">{}</a></td>"#, escape(href), escape(text))
            }
            Self::Html(html) => format!("<td>{html}</td>"),
        }
    }
}

pub fn text(value: impl Into<String>) -> Cell {
    Cell::Text(value.into())
}

/// A CSV download.
pub fn csv(file_name: &str, body: String) -> Response<Body> {
    download(file_name, "text/csv; charset=utf-8", body)
}

/// A file to download (an attachment), with the pages' strict headers. `file_name` is the
/// console's own (never what someone typed).
pub fn download(file_name: &str, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = respond::html(200, String::new());
    *response.body_mut() = Body::Text(body);
    let headers = response.headers_mut();
    headers.insert("content-type", lambda_http::http::HeaderValue::from_static(content_type));
    if let Ok(value) =
        lambda_http::http::HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
    {
        headers.insert("content-disposition", value);
    }
    response
}
