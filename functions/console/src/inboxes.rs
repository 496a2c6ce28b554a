//! The teams' inboxes: each form's submissions (newest first, filtered, searched by address,
//! as CSV safe to open), an event's attendees with their payment state, a job's applicants with
//! their CV's verdict and a link to the CV that works for five minutes. Each view and download
//! is in the audit log under the staff member's name.

use std::collections::BTreeMap;
use std::time::Duration;

use lambda_http::{Body, Request, Response};
use steward_core::domain::forms::inbox::{self, InboxRow, InboxStore as _};
use steward_core::domain::ids::FormId;
use steward_core::domain::staff::{Group, StaffMember};
use steward_core::http::page::escape;
use steward_core::http::respond;

use crate::handler::{audit, query, require, App, ConsoleError, Outcome};
use crate::pages::{csv, page, table, text, Cell, Page};

/// What a path segment escapes: everything but RFC 3986's unreserved characters.
const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// How long a recruiter's CV link works.
const CV_LINK: Duration = Duration::from_secs(300);

/// A form's rows a team may see (never a person who restricted the use of their data; for
/// marketing, never one who objects), and how many were held back.
async fn rows_of(
    app: &App,
    form: &FormId,
    for_marketing: bool,
) -> Result<(Vec<InboxRow>, usize), ConsoleError> {
    Ok(inbox::usable(app.store.submissions_of(form, &|_| {}).await?, for_marketing))
}

fn held_back(count: usize) -> String {
    match count {
        0 => String::new(),
        1 => "<p class=\"hint\">1 submission is held back: its person restricted the use of their data, or objects to it.</p>".to_owned(),
        n => format!("<p class=\"hint\">{n} submissions are held back: their people restricted the use of their data, or object to it.</p>"),
    }
}

/// The filters of a listing: `q` anywhere in a row, `email` in its address.
fn filtered(rows: Vec<InboxRow>, request: &Request) -> (Vec<InboxRow>, String, String) {
    let q = query(request, "q").unwrap_or_default().trim().to_lowercase();
    let email = query(request, "email").unwrap_or_default().trim().to_lowercase();
    let rows = rows
        .into_iter()
        .filter(|row| {
            email.is_empty() || row.fields.get("email").is_some_and(|e| e.to_lowercase().contains(&email))
        })
        .filter(|row| q.is_empty() || row.fields.values().any(|v| v.to_lowercase().contains(&q)))
        .collect();
    (rows, q, email)
}

fn search_form(action: &str, q: &str, email: &str) -> String {
    format!(
        r#"<form method="get" action="{action}"><label for="email">Search by address</label><input type="search" id="email" name="email" value="{}"><label for="q">Filter (any field)</label><input type="search" id="q" name="q" value="{}"><button type="submit">Show</button><button type="submit" name="format" value="csv" class="secondary">Download as CSV</button></form>"#,
        escape(email),
        escape(q)
    )
}

fn listing(rows: &[InboxRow], caption: &str, extra: &[(&str, Vec<Cell>)]) -> String {
    let columns = inbox::columns(rows, &inbox::field_order(rows));
    let mut header: Vec<&str> = columns.iter().map(String::as_str).collect();
    header.extend(extra.iter().map(|(name, _)| *name));
    let lines: Vec<Vec<Cell>> = rows
        .iter()
        .enumerate()
        .map(|(n, row)| {
            let mut cells: Vec<Cell> = columns
                .iter()
                .map(|column| {
                    if column == "person_id" {
                        Cell::Link {
                            href: format!("/console/people/{}", row.person_id),
                            text: row.person_id.clone(),
                        }
                    } else {
                        text(inbox::cell(row, column))
                    }
                })
                .collect();
            for (_, values) in extra {
                cells.push(values.get(n).cloned().unwrap_or_else(|| text("")));
            }
            cells
        })
        .collect();
    format!("<p>{} in all, newest first.</p>{}", rows.len(), table(caption, &header, &lines))
}

fn wants_csv(request: &Request) -> bool {
    query(request, "format").as_deref() == Some("csv")
}

pub async fn submissions(app: &App, staff: &StaffMember, form: &str, request: &Request) -> Outcome {
    let definition = app.catalogue.form(form).ok_or(ConsoleError::NotFound)?;
    if !staff.may_read(&definition.teams) {
        return Err(ConsoleError::Forbidden);
    }
    let marketing = definition.teams.contains(&Group::Marketing);
    let (rows, held) = rows_of(app, &definition.id, marketing).await?;
    let (rows, q, email) = filtered(rows, request);
    let as_csv = wants_csv(request);
    let action = if as_csv { "download-submissions" } else { "view-submissions" };
    audit(app, staff, action, Some(definition.id.as_str()), &[("rows", rows.len() as u64)]).await?;
    if as_csv {
        let columns = inbox::columns(&rows, &inbox::field_order(&rows));
        return Ok(csv(&format!("{}.csv", definition.id.as_str()), inbox::to_csv(&rows, &columns, &[])));
    }
    let body = format!(
        "{}{}{}",
        held_back(held),
        search_form(&format!("/console/forms/{}", escape(definition.id.as_str())), &q, &email),
        listing(&rows, &format!("Submissions of {}", definition.title), &[])
    );
    Ok(page(Page { title: &definition.title, staff: Some(staff), body: &body }))
}

const EVENTS_FORM: &str = "event-registration";

/// Every event: those sold here and any other a registration names, each with its count.
pub async fn events(app: &App, staff: &StaffMember) -> Outcome {
    require(staff, Group::Events)?;
    let form = FormId::parse(EVENTS_FORM).ok_or(ConsoleError::NotFound)?;
    let mut counts: BTreeMap<String, usize> = app.payments.events.keys().map(|id| (id.clone(), 0)).collect();
    for row in rows_of(app, &form, false).await?.0 {
        if let Some(event) = row.fields.get("event") {
            *counts.entry(event.clone()).or_default() += 1;
        }
    }
    audit(app, staff, "view-events", None, &[("events", counts.len() as u64)]).await?;
    let items: String = counts
        .iter()
        .map(|(id, count)| {
            let title = app.payments.events.get(id).map(|e| e.title.clone()).unwrap_or_else(|| id.clone());
            format!(
                r#"<li><a href="/console/events/{}">{}</a> ({count} registered)</li>"#,
                percent_encoding::utf8_percent_encode(id, PATH_SEGMENT),
                escape(&title)
            )
        })
        .collect();
    let body = format!("<ul>{items}</ul>");
    Ok(page(Page { title: "Events", staff: Some(staff), body: &body }))
}

pub async fn attendees(app: &App, staff: &StaffMember, event: &str, request: &Request) -> Outcome {
    require(staff, Group::Events)?;
    let form = FormId::parse(EVENTS_FORM).ok_or(ConsoleError::NotFound)?;
    let (rows, held) = rows_of(app, &form, false).await?;
    let rows: Vec<InboxRow> = rows
        .into_iter()
        .filter(|row| row.fields.get("event").map(String::as_str) == Some(event))
        .map(|row| InboxRow { payment: Some(row.payment.unwrap_or_else(|| "not started".into())), ..row })
        .collect();
    let (rows, q, email) = filtered(rows, request);
    let as_csv = wants_csv(request);
    let action = if as_csv { "download-attendees" } else { "view-attendees" };
    audit(app, staff, action, Some(event), &[("rows", rows.len() as u64)]).await?;
    if as_csv {
        let columns = inbox::columns(&rows, &inbox::field_order(&rows));
        return Ok(csv(&format!("attendees-{}.csv", safe_name(event)), inbox::to_csv(&rows, &columns, &[])));
    }
    let mut paid: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        *paid.entry(row.payment.clone().unwrap_or_default()).or_default() += 1;
    }
    let summary: Vec<String> =
        paid.iter().map(|(state, count)| format!("{count} {}", escape(state))).collect();
    let title = app.payments.events.get(event).map(|e| e.title.clone()).unwrap_or_else(|| event.to_owned());
    let body = format!(
        "{}<p>Payment: {}.</p>{}{}",
        held_back(held),
        if summary.is_empty() { "no registrations yet".to_owned() } else { summary.join(", ") },
        search_form(
            &format!(
                "/console/events/{}",
                escape(&percent_encoding::utf8_percent_encode(event, PATH_SEGMENT).to_string())
            ),
            &q,
            &email
        ),
        listing(&rows, &format!("Attendees of {title}"), &[])
    );
    Ok(page(Page { title: &format!("Attendees: {title}"), staff: Some(staff), body: &body }))
}

fn safe_name(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).take(60).collect()
}

pub async fn applicants(app: &App, staff: &StaffMember, request: &Request) -> Outcome {
    require(staff, Group::Recruiting)?;
    let form = FormId::parse("careers").ok_or(ConsoleError::NotFound)?;
    // What the recruiter typed, as the audit log keeps it: one line, at most 60 characters.
    let position: String = query(request, "position")
        .unwrap_or_default()
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect();
    let (rows, held) = rows_of(app, &form, false).await?;
    let rows: Vec<InboxRow> = rows
        .into_iter()
        .filter(|row| {
            position.is_empty()
                || row.fields.get("position").is_some_and(|p| p.to_lowercase().contains(&position))
        })
        .collect();
    let (rows, q, email) = filtered(rows, request);
    let as_csv = wants_csv(request);
    let action = if as_csv { "download-applicants" } else { "view-applicants" };
    // What the recruiter typed is not kept: it could be anything.
    audit(app, staff, action, None, &[("rows", rows.len() as u64)]).await?;
    if as_csv {
        let columns = inbox::columns(&rows, &inbox::field_order(&rows));
        return Ok(csv("applicants.csv", inbox::to_csv(&rows, &columns, &[])));
    }
    // A CV link is made when asked for (a button, audited), never ahead in a page.
    let links: Vec<Cell> = rows
        .iter()
        .map(|row| match &row.cv_file {
            Some(_) => Cell::Html(format!(
                r#"<form class="inline" method="post" action="/console/applicants/{}/cv"><button type="submit" class="secondary">Download CV</button></form>"#,
                escape(&row.submission_id)
            )),
            None => text(""),
        })
        .collect();
    let body = format!(
        r#"{}<form method="get" action="/console/applicants"><label for="position">Position</label><input type="search" id="position" name="position" value="{}"><label for="email">Search by address</label><input type="search" id="email" name="email" value="{}"><label for="q">Filter (any field)</label><input type="search" id="q" name="q" value="{}"><button type="submit">Show</button><button type="submit" name="format" value="csv" class="secondary">Download as CSV</button></form>{}"#,
        held_back(held),
        escape(&position),
        escape(&email),
        escape(&q),
        listing(&rows, "Applicants", &[("CV", links)])
    );
    Ok(page(Page { title: "Applicants", staff: Some(staff), body: &body }))
}

/// A verified CV, by a link that works for five minutes: the button's answer sends the browser
/// on to it. Only a CV that passed its checks is ever linked.
pub async fn cv_link(app: &App, staff: &StaffMember, application: &str) -> Outcome {
    require(staff, Group::Recruiting)?;
    let form = FormId::parse("careers").ok_or(ConsoleError::NotFound)?;
    let row = rows_of(app, &form, false)
        .await?
        .0
        .into_iter()
        .find(|row| row.submission_id == application)
        .ok_or(ConsoleError::NotFound)?;
    let cv = row.cv_file.ok_or(ConsoleError::NotFound)?;
    let link = app
        .cvs
        .download_link(&cv.key, cv.version_id.as_deref(), &cv.file_name, CV_LINK)
        .await
        .map_err(|e| ConsoleError::Unavailable(e.to_string()))?;
    audit(app, staff, "download-cv", Some(application), &[]).await?;
    Ok(see_other_anywhere(&link))
}

/// 303 to a presigned S3 address (the only off-site redirect the console makes).
fn see_other_anywhere(location: &str) -> Response<Body> {
    respond::see_other(location)
}
