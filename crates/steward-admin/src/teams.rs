//! The teams' listings: a form's submissions, an event's attendees with their payment state, a
//! job's applicants with their CV's verdict and a short-lived link to it. As a table to read, or
//! CSV (safe to open in a spreadsheet) or JSON for one. Each listing is in the audit log.

use std::io::Write as _;

use clap::ValueEnum;
use steward_core::domain::forms::inbox::{self, InboxRow, InboxStore};
use steward_core::domain::ids::FormId;
use steward_core::telemetry::error_chain;

use crate::context::{checked_ticket, Context, Record};
use crate::Done;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Listing {
    Table,
    Csv,
    Json,
}

async fn read(context: &Context, form: &str) -> Result<Vec<InboxRow>, String> {
    let form = FormId::parse(form).ok_or_else(|| format!("{form:?} is not a form id"))?;
    let store = context.store(false).await?;
    let progress = |read: u64| {
        let _ = write!(std::io::stderr(), "\rread {read} items of the table");
    };
    let rows = store
        .submissions_of(&form, &progress)
        .await
        .map_err(|e| format!("reading the submissions failed: {}", error_chain(&e)))?;
    eprintln!();
    // Never a person who restricted the use of their data: kept, and given to no team; and, on
    // a form given to marketing, never one who objects.
    let marketing = steward_core::domain::forms::catalogue::built_in_teams()
        .get(form.as_str())
        .is_some_and(|teams| teams.contains(&steward_core::domain::staff::Group::Marketing));
    let (rows, held) = inbox::usable(rows, marketing);
    if held > 0 {
        eprintln!("{held} held back: their people restricted the use of their data, or object to it");
    }
    Ok(rows)
}

fn render(rows: &[InboxRow], format: Listing, extra: &[(&str, Vec<String>)]) -> String {
    let columns = inbox::columns(rows, &inbox::field_order(rows));
    match format {
        Listing::Csv => inbox::to_csv(rows, &columns, extra),
        Listing::Json => {
            let listed: Vec<serde_json::Value> = rows
                .iter()
                .enumerate()
                .map(|(n, row)| {
                    let mut json = serde_json::to_value(row).unwrap_or_default();
                    for (name, values) in extra {
                        json[*name] = values.get(n).cloned().unwrap_or_default().into();
                    }
                    json
                })
                .collect();
            serde_json::to_string_pretty(&listed).unwrap_or_default()
        }
        Listing::Table => {
            // Each cell on one line and at most 40 characters: the CSV or JSON has them whole.
            let shown = |value: &str| -> String {
                let line: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
                if line.chars().count() > 40 {
                    format!("{}…", line.chars().take(39).collect::<String>())
                } else {
                    line
                }
            };
            let header: Vec<String> =
                columns.iter().cloned().chain(extra.iter().map(|(name, _)| (*name).to_owned())).collect();
            let mut lines: Vec<Vec<String>> = vec![header];
            for (n, row) in rows.iter().enumerate() {
                lines.push(
                    columns
                        .iter()
                        .map(|column| shown(inbox::cell(row, column)))
                        .chain(extra.iter().map(|(_, values)| values.get(n).cloned().unwrap_or_default()))
                        .collect(),
                );
            }
            let widths: Vec<usize> = (0..lines[0].len())
                .map(|c| lines.iter().map(|line| line[c].chars().count()).max().unwrap_or(0))
                .collect();
            let mut out: Vec<String> = lines
                .iter()
                .map(|line| {
                    line.iter()
                        .zip(&widths)
                        .map(|(cell, width)| format!("{cell:<width$}"))
                        .collect::<Vec<_>>()
                        .join("  ")
                        .trim_end()
                        .to_owned()
                })
                .collect();
            out.push(format!("{} in all", rows.len()));
            out.join("\n")
        }
    }
}

/// A form's submissions, newest first.
pub async fn submissions(
    context: &Context,
    form: &str,
    format: Listing,
    ticket: Option<String>,
) -> Result<Done, String> {
    let ticket = ticket.as_deref().map(checked_ticket).transpose()?;
    let rows = read(context, form).await?;
    context
        .audit(
            Record::new("list-submissions", "ok")
                .subject(Some(form))
                .ticket(ticket)
                .count("rows", rows.len() as u64),
        )
        .await?;
    Ok(Done::ok(render(&rows, format, &[])))
}

/// An event's attendees (its registrations), with each one's payment state.
pub async fn attendees(
    context: &Context,
    event: &str,
    format: Listing,
    ticket: Option<String>,
) -> Result<Done, String> {
    let ticket = ticket.as_deref().map(checked_ticket).transpose()?;
    let rows: Vec<InboxRow> = read(context, "event-registration")
        .await?
        .into_iter()
        .filter(|row| row.fields.get("event").map(String::as_str) == Some(event))
        .map(|row| InboxRow { payment: Some(row.payment.unwrap_or_else(|| "not started".into())), ..row })
        .collect();
    context
        .audit(
            Record::new("list-attendees", "ok")
                .subject(Some(event))
                .ticket(ticket)
                .count("rows", rows.len() as u64),
        )
        .await?;
    Ok(Done::ok(render(&rows, format, &[])))
}

/// Applications (for one position, when given), with each CV's verdict and, with `links`, a link
/// to each verified CV that works for `expires_in` seconds.
pub async fn applicants(
    context: &Context,
    position: Option<&str>,
    links: bool,
    expires_in: u64,
    format: Listing,
    ticket: Option<String>,
) -> Result<Done, String> {
    let ticket = ticket.as_deref().map(checked_ticket).transpose()?;
    let wanted = position.map(str::to_lowercase);
    let rows: Vec<InboxRow> = read(context, "careers")
        .await?
        .into_iter()
        .filter(|row| {
            wanted.as_deref().is_none_or(|wanted| {
                row.fields.get("position").is_some_and(|p| p.to_lowercase().contains(wanted))
            })
        })
        .collect();
    let mut extra = Vec::new();
    let mut signed = 0u64;
    if links {
        let bucket = context.bucket()?;
        let mut cv_links = Vec::with_capacity(rows.len());
        for row in &rows {
            let link = if row.cv.as_deref() == Some("verified") {
                crate::cv::newest_verified(
                    &context.s3,
                    &bucket,
                    &row.submission_id,
                    std::time::Duration::from_secs(expires_in),
                )
                .await?
                .unwrap_or_default()
            } else {
                String::new()
            };
            signed += u64::from(!link.is_empty());
            cv_links.push(link);
        }
        extra.push(("cv_link", cv_links));
    }
    let record = Record::new("list-applicants", "ok")
        .subject(position)
        .ticket(ticket)
        .count("rows", rows.len() as u64)
        .count("cv_links", signed);
    context.audit(record).await?;
    Ok(Done::ok(render(&rows, format, &extra)))
}
