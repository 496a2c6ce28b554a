//! The register of data-protection requests: most urgent first (overdue, then due within a
//! week), a request received by mail entered with its date, each request's page with its
//! deadline, history and the actions that answer it (export, erasure, restriction, taken on the
//! person's behalf and closing it), and the yearly report as CSV. Privacy team only.

use lambda_http::{Body, Request, Response};
use steward_core::domain::fields::Email;
use steward_core::domain::privacy::access::PrivacyStore as _;
use steward_core::domain::privacy::erasure::{erase, ErasureReason};
use steward_core::domain::privacy::export::everything_held;
use steward_core::domain::privacy::limits::{set_limit, Limit};
use steward_core::domain::privacy::requests::{
    self, by_urgency, report_csv, well_formed_id, year_csv, yearly_report, Change, Law, NewRequest,
    PrivacyRequest, RequestError, RequestKind, RequestStore as _, Urgency,
};
use steward_core::domain::staff::{Group, StaffMember};
use steward_core::http::page::escape;
use steward_core::http::respond;

use crate::handler::{audit, read_form, require, App, ConsoleError, Outcome};
use crate::pages::{csv, download, page, Page};

impl From<RequestError> for ConsoleError {
    fn from(err: RequestError) -> Self {
        match err {
            RequestError::Invalid { field, message } => Self::Invalid { field, message },
            RequestError::NotFound => Self::NotFound,
            RequestError::Stale => Self::Stale,
            RequestError::Closed => {
                Self::Invalid { field: "action", message: "the request is closed already".into() }
            }
            RequestError::Unverified => Self::Invalid {
                field: "action",
                message: "verify the requester's identity first: only then is anything done on their behalf"
                    .into(),
            },
            RequestError::Store(err) => err.into(),
        }
    }
}

fn urgency_class(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Overdue => "overdue",
        Urgency::DueSoon => "due-soon",
        _ => "",
    }
}

fn urgency_words(request: &PrivacyRequest, today: time::Date) -> String {
    let left = (request.deadline() - today).whole_days();
    match request.urgency(today) {
        Urgency::Overdue => format!("overdue by {} days", -left),
        Urgency::DueSoon | Urgency::OnTime => format!("{left} days left"),
        Urgency::Closed => request.state.label().to_owned(),
    }
}

fn new_request_form(today: time::Date) -> String {
    let kinds: String = RequestKind::ALL
        .iter()
        .map(|k| format!(r#"<option value="{}">{}</option>"#, k.slug(), escape(k.label())))
        .collect();
    format!(
        r#"<h2 id="new">Enter a request received by mail</h2><form method="post" action="/console/requests">
<label for="kind">What they ask</label><select id="kind" name="kind">{kinds}</select>
<label for="law">Their law (sets the deadline)</label><select id="law" name="law"><option value="gdpr">{}</option><option value="ccpa">{}</option></select>
<label for="email">The address they wrote from</label><input type="email" id="email" name="email" required>
<label for="received">Received on</label><input type="date" id="received" name="received" value="{today}" max="{today}" required>
<label for="note">Note (optional: how it came, a ticket)</label><input type="text" id="note" name="note" maxlength="500">
<button type="submit">Enter the request</button></form>"#,
        escape(Law::Gdpr.label()),
        escape(Law::Ccpa.label())
    )
}

pub async fn list(app: &App, staff: &StaffMember) -> Outcome {
    require(staff, Group::Privacy)?;
    let today = app.clock.timestamp().date();
    let mut all = app.store.requests().await?;
    by_urgency(&mut all, today);
    audit(app, staff, "view-requests", None, &[("rows", all.len() as u64)]).await?;
    let rows: String = all
        .iter()
        .map(|r| {
            format!(
                r#"<tr class="{}"><td><a href="/console/requests/{id}">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                urgency_class(r.urgency(today)),
                escape(r.kind.label()),
                escape(r.received.to_string().as_str()),
                escape(r.deadline().to_string().as_str()),
                escape(&urgency_words(r, today)),
                escape(r.state.label()),
                if r.verified { "verified" } else { "not verified" },
                id = escape(&r.id),
            )
        })
        .collect();
    let year = today.year();
    let rows =
        if rows.is_empty() { r#"<tr><td colspan="7">No requests yet.</td></tr>"#.to_owned() } else { rows };
    let table = crate::pages::scrolling(
        "Requests",
        &format!(
            r#"<table><caption>Requests</caption><thead><tr><th scope="col">Request</th><th scope="col">Kind</th><th scope="col">Received</th><th scope="col">Deadline</th><th scope="col">Time</th><th scope="col">State</th><th scope="col">Identity</th></tr></thead><tbody>{rows}</tbody></table>"#
        ),
    );
    let body = format!(
        r#"<p>Requests received by mail: overdue first, then those due within a week; closed ones last. Those people make in the privacy center are answered there at once, and counted in the reports.</p>{table}
<h2>Reports</h2><ul><li><a href="/console/requests/report.csv?year={year}">This year's report (counts by kind and outcome, median days to answer), as CSV</a></li><li><a href="/console/requests/year.csv?year={year}">Every request of this year with its dates, as CSV</a></li><li><a href="/console/requests/report.csv?year={last}">Last year's report</a></li></ul>{}"#,
        new_request_form(today),
        last = year - 1,
    );
    Ok(page(Page { title: "Register of requests", staff: Some(staff), body: &body }))
}

pub async fn enter(app: &App, staff: &StaffMember, request: &Request) -> Outcome {
    require(staff, Group::Privacy)?;
    let form = read_form(request).await?;
    let invalid =
        |field: &'static str, message: &str| ConsoleError::Invalid { field, message: message.to_owned() };
    let kind = form
        .first("kind")
        .and_then(RequestKind::parse)
        .ok_or_else(|| invalid("kind", "choose what they ask"))?;
    let law = form.first("law").and_then(Law::parse).ok_or_else(|| invalid("law", "choose their law"))?;
    let email = Email::parse("email", form.first("email").unwrap_or_default())
        .map_err(|e| invalid("email", &e.message))?;
    let received = form
        .first("received")
        .and_then(|d| time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok())
        .ok_or_else(|| invalid("received", "the day it was received, as yyyy-mm-dd"))?;
    let new = NewRequest { kind, law, email, received, note: form.first("note").map(str::to_owned) };
    let entered = requests::enter(&app.store, new, &staff.email, app.clock.timestamp()).await?;
    audit(app, staff, "enter-request", Some(&entered.id), &[]).await?;
    Ok(respond::see_other(&format!("/console/requests/{}", entered.id)))
}

async fn load(app: &App, id: &str) -> Result<PrivacyRequest, ConsoleError> {
    if !well_formed_id(id) {
        return Err(ConsoleError::NotFound);
    }
    app.store.request(id).await?.ok_or(ConsoleError::NotFound)
}

pub async fn show(app: &App, staff: &StaffMember, id: &str) -> Outcome {
    require(staff, Group::Privacy)?;
    let request = load(app, id).await?;
    audit(app, staff, "view-request", Some(&request.id), &[]).await?;
    let today = app.clock.timestamp().date();
    let history: String = request
        .history
        .iter()
        .map(|e| format!("<li>{} · {}: {}</li>", escape(&e.at), escape(&e.by), escape(&e.what)))
        .collect();
    let who = match (&request.email, &request.profile) {
        (_, Some(profile)) => {
            format!(r#"<a href="/console/people/{p}">person {p}</a>"#, p = escape(profile.as_str()))
        }
        (Some(email), None) => escape(email),
        (None, None) => "not kept (erased)".to_owned(),
    };
    let version = request.version;
    let button = |action: &str, words: &str| {
        format!(
            r#"<form class="inline" method="post" action="/console/requests/{id}"><input type="hidden" name="version" value="{version}"><button type="submit" name="action" value="{action}">{words}</button></form>"#,
            id = escape(&request.id)
        )
    };
    let with_text = |action: &str, field: &str, label: &str, words: &str| {
        format!(
            r#"<form method="post" action="/console/requests/{id}"><input type="hidden" name="version" value="{version}"><input type="hidden" name="action" value="{action}"><label for="{action}-{field}">{label}</label><input type="text" id="{action}-{field}" name="{field}" maxlength="500" required><button type="submit">{words}</button></form>"#,
            id = escape(&request.id)
        )
    };
    let actions = if request.state.is_closed() {
        String::new()
    } else {
        let mut actions = String::from("<h2>Answer it</h2>");
        if !request.verified {
            actions.push_str("<p>Their identity is not verified: an address in a mail is evidence of who wrote, not proof. Ask them to prove it (a reply from the address on record, or a sign-in to the privacy center), then mark it verified.</p>");
            actions.push_str(&button("ask-identity", "Asked them to prove who they are"));
            actions.push_str(&button("verify", "Identity verified"));
        } else if request.profile.is_some() {
            let act = match request.kind {
                RequestKind::Access | RequestKind::Portability => {
                    button("export", "Export their data (downloads it; closes the request)")
                }
                RequestKind::Erasure => button("erase", "Erase them everywhere (closes the request)"),
                RequestKind::Restriction => {
                    button("restrict", "Restrict the use of their data (closes the request)")
                }
                _ => String::new(),
            };
            actions.push_str(&act);
        } else {
            actions.push_str(
                "<p>Steward holds nothing under their address: answer that, and close the request.</p>",
            );
        }
        if request.extension_reason.is_none() && today <= request.law.deadline(request.received, false) {
            actions.push_str(&with_text(
                "extend",
                "reason",
                "Extend the deadline: the reason (told to the requester)",
                "Extend",
            ));
        }
        actions.push_str(&with_text("done", "outcome", "Done: what was done", "Close as done"));
        actions.push_str(&with_text(
            "refuse",
            "reason",
            "Refuse: the reason (told to the requester)",
            "Refuse",
        ));
        actions
    };
    let body = format!(
        r#"<dl><dt>Kind</dt><dd>{}</dd><dt>Channel</dt><dd>{}</dd><dt>Requester</dt><dd>{who} ({})</dd><dt>Received</dt><dd>{}</dd><dt>Law</dt><dd>{}</dd><dt>Deadline</dt><dd>{} ({})</dd><dt>State</dt><dd>{}</dd>{}{}</dl><h2>History</h2><ul>{history}</ul>{actions}"#,
        escape(request.kind.label()),
        match request.channel {
            requests::Channel::SelfService => "the privacy center (self-service)",
            requests::Channel::Mail => "by mail",
        },
        if request.verified { "identity verified" } else { "identity not verified" },
        request.received,
        escape(request.law.label()),
        request.deadline(),
        escape(&urgency_words(&request, today)),
        escape(request.state.label()),
        request
            .extension_reason
            .as_deref()
            .map(|r| format!("<dt>Extended because</dt><dd>{}</dd>", escape(r)))
            .unwrap_or_default(),
        request
            .outcome
            .as_deref()
            .map(|o| format!("<dt>Outcome</dt><dd>{}</dd>", escape(o)))
            .unwrap_or_default(),
    );
    Ok(page(Page { title: &format!("Request {}", request.id), staff: Some(staff), body: &body }))
}

pub async fn act(app: &App, staff: &StaffMember, id: &str, http: &Request) -> Outcome {
    require(staff, Group::Privacy)?;
    let request = load(app, id).await?;
    let form = read_form(http).await?;
    let version: u32 = form.first("version").and_then(|v| v.parse().ok()).ok_or(ConsoleError::Stale)?;
    let field = |name: &str| form.first(name).unwrap_or_default().to_owned();
    let now = app.clock.timestamp();
    let back = respond::see_other(&format!("/console/requests/{}", request.id));
    let action = form.first("action").unwrap_or_default().to_owned();
    let change = match action.as_str() {
        "verify" => {
            let email = request.email.as_deref().and_then(|e| Email::parse("email", e).ok());
            let profile = match email {
                Some(email) => app.store.profile_by_email(&email).await?.map(|k| k.profile_id),
                None => None,
            };
            Change::Verified(profile)
        }
        "ask-identity" => Change::AskedForIdentity,
        "extend" => Change::Extend(field("reason")),
        "done" => Change::Done(field("outcome")),
        "refuse" => Change::Refuse(field("reason")),
        "export" | "erase" | "restrict" => return on_behalf(app, staff, request, version, &action).await,
        _ => return Err(ConsoleError::Invalid { field: "action", message: "no such action".into() }),
    };
    if request.version != version {
        return Err(ConsoleError::Stale);
    }
    let changed = requests::change(&app.store, &request.id, version, change, &staff.email, now).await?;
    audit(app, staff, &format!("request-{action}"), Some(&changed.id), &[]).await?;
    Ok(back)
}

/// An action on the person's behalf: only for a verified requester who is held, and it closes
/// the request with what it did.
async fn on_behalf(
    app: &App,
    staff: &StaffMember,
    request: PrivacyRequest,
    version: u32,
    action: &str,
) -> Outcome {
    if request.version != version {
        return Err(ConsoleError::Stale);
    }
    if request.state.is_closed() {
        return Err(RequestError::Closed.into());
    }
    let Some(profile) = request.profile.clone().filter(|_| request.verified) else {
        return Err(RequestError::Unverified.into());
    };
    let now = app.clock.timestamp();
    // Only the action the request asks for.
    let started: &'static str = match (action, request.kind) {
        ("export", RequestKind::Access | RequestKind::Portability) => "export",
        ("erase", RequestKind::Erasure) => "erasure",
        ("restrict", RequestKind::Restriction) => "restriction",
        _ => {
            return Err(ConsoleError::Invalid {
                field: "action",
                message: format!("a request of this kind is not answered by {action}"),
            })
        }
    };
    // Recorded first: a colleague acting from the same page meanwhile is refused (stale), and an
    // action cut short shows in the request's history.
    let version =
        requests::change(&app.store, &request.id, version, Change::Started(started), &staff.email, now)
            .await?
            .version;
    let (outcome, download): (String, Option<Response<Body>>) = match action {
        "export" => {
            let held = everything_held(&app.store, &profile).await?;
            let Some(held) = held else {
                return Err(ConsoleError::Invalid {
                    field: "action",
                    message: "Steward holds nothing about them any more".into(),
                });
            };
            let response = download(
                &format!("{}-export.json", request.id),
                "application/json",
                serde_json::to_string_pretty(&held).unwrap_or_default(),
            );
            ("their data was exported, to be sent to them".to_owned(), Some(response))
        }
        "erase" => {
            let report = erase(
                &app.store,
                &app.cvs,
                Some(&app.config.links),
                &profile,
                ErasureReason::Operator,
                now.epoch_seconds(),
            )
            .await
            .map_err(|e| ConsoleError::Unavailable(steward_core::telemetry::error_chain(&e)))?;
            let outcome = match report {
                Some(report) => format!(
                    "erased: {} items and {} CV versions deleted, {} payment records kept without anything identifying; every recipient told",
                    report.items_deleted, report.cv_versions_deleted, report.payments_retained
                ),
                None => "nothing was held any more: erased already".to_owned(),
            };
            (outcome, None)
        }
        "restrict" => {
            if !set_limit(&app.store, &profile, Limit::Restrict, true, now).await? {
                return Err(ConsoleError::Invalid {
                    field: "action",
                    message: "Steward holds nothing about them any more".into(),
                });
            }
            ("the use of their data is restricted; every recipient told".to_owned(), None)
        }
        _ => return Err(ConsoleError::NotFound),
    };
    // The request names the action; an erasure's record names no one (the person is gone).
    audit(app, staff, action, (action != "erase").then_some(profile.as_str()), &[]).await?;
    let closed =
        requests::change(&app.store, &request.id, version, Change::Done(outcome), &staff.email, now).await?;
    audit(app, staff, &format!("request-{action}"), Some(&closed.id), &[]).await?;
    Ok(download.unwrap_or_else(|| respond::see_other(&format!("/console/requests/{}", closed.id))))
}

pub async fn report(app: &App, staff: &StaffMember, year: Option<&str>, every_request: bool) -> Outcome {
    require(staff, Group::Privacy)?;
    let year: i32 =
        match year {
            Some(year) => year.parse().ok().filter(|y| (2000..=9999).contains(y)).ok_or_else(|| {
                ConsoleError::Invalid { field: "year", message: "a year, such as 2027".into() }
            })?,
            None => app.clock.timestamp().date().year(),
        };
    // Every request of the year: the team's, and those the privacy center answered.
    let mut all = app.store.requests().await?;
    all.extend(app.store.self_service_requests(year).await?);
    audit(
        app,
        staff,
        if every_request { "download-requests-of-year" } else { "download-requests-report" },
        Some(&year.to_string()),
        &[],
    )
    .await?;
    Ok(if every_request {
        csv(&format!("requests-{year}.csv"), year_csv(&all, year))
    } else {
        csv(&format!("requests-report-{year}.csv"), report_csv(&yearly_report(&all, year), year))
    })
}

/// The register as JSON, for the API (behind the HTTP API's JWT authorizer).
pub async fn api_list(app: &App, staff: &StaffMember) -> Outcome {
    require(staff, Group::Privacy)?;
    let today = app.clock.timestamp().date();
    let mut all = app.store.requests().await?;
    by_urgency(&mut all, today);
    audit(app, staff, "view-requests", None, &[("rows", all.len() as u64)]).await?;
    let listed: Vec<serde_json::Value> = all
        .iter()
        .map(|r| {
            let mut json = serde_json::to_value(r).unwrap_or_default();
            json["deadline"] = r.deadline().to_string().into();
            json["overdue"] = (r.urgency(today) == Urgency::Overdue).into();
            json
        })
        .collect();
    Ok(respond::json(200, &serde_json::json!({ "requests": listed })))
}
