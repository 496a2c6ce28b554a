//! Taking one's data along: the export (JSON or CSV, a link when it is larger than one response),
//! and sending it to someone else, confirmed from the person's own address.

use std::time::Duration;

use lambda_http::{Body, Request, Response};
use steward_core::domain::ids::ProfileId;
use steward_core::domain::privacy::export::{
    confirm_export_to, export_confirmation, export_csv, export_download, export_download_link, ExportFormat,
};
use steward_core::http::problem::Problem;
use steward_core::http::respond;
use steward_core::t;

use crate::handler::{done, missing_token, query, rfc3339, token_of, App};
use crate::me::everything;
use crate::pages;
use crate::problems::rights_problem;

/// How long the CV links in an export work.
const CV_LINK_MINUTES: u64 = 15;

/// The person's own confirmation link, behind a button.
pub async fn confirmation_page(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let token = query(request, "token").ok_or_else(missing_token)?;
    export_confirmation(&app.config, &token, app.clock.now()).map_err(rights_problem)?;
    Ok(respond::html(
        200,
        pages::confirm_link(
            &t!("export-confirm-title"),
            None,
            "/privacy/export/confirm",
            &token,
            &t!("export-confirm-button"),
        ),
    ))
}

/// Confirmed: the address they named gets a download link.
pub async fn confirm(app: &App, request: &Request, json_client: bool) -> Result<Response<Body>, Problem> {
    let token = token_of(request).await?;
    let (profile_id, _) =
        confirm_export_to(&app.store, &app.config, &token, app.clock.now()).await.map_err(rights_problem)?;
    crate::me::record(
        app,
        steward_core::domain::privacy::requests::RequestKind::Portability,
        &profile_id,
        "exported to an address they named, in the privacy center",
    )
    .await;
    Ok(done(json_client, &t!("export-sent-title"), &t!("export-sent-body")))
}

/// The recipient's link, behind a button: a link scanner must not download the data.
pub async fn download_page(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    // A page and a button: a link scanner opening the mail must not download the data.
    let token = query(request, "token").ok_or_else(missing_token)?;
    export_download_link(&app.config, &token, app.clock.now()).map_err(rights_problem)?;
    Ok(respond::html(
        200,
        pages::confirm_link(
            &t!("export-download-title"),
            None,
            "/privacy/export",
            &token,
            &t!("export-download-button"),
        ),
    ))
}

/// The recipient downloads the export.
pub async fn download(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let token = token_of(request).await?;
    let (profile_id, format) =
        export_download(&app.store, &app.config, &token, app.clock.now()).await.map_err(rights_problem)?;
    export(app, &profile_id, format, Reader::Nominee).await
}

/// Who reads an export: the person, or someone they sent it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Person,
    /// Gets everything held about the person, but not who else the person sent it to.
    Nominee,
}

/// The export: everything held, with each verified CV as a link that works for minutes.
pub async fn export(
    app: &App,
    profile_id: &ProfileId,
    format: ExportFormat,
    reader: Reader,
) -> Result<Response<Body>, Problem> {
    let mut data = everything(app, profile_id).await?;
    if reader == Reader::Nominee {
        if let Some(object) = data.as_object_mut() {
            object.remove("export_links");
        }
    }
    if let Some(submissions) = data.get_mut("submissions").and_then(|s| s.as_array_mut()) {
        for submission in submissions {
            let Some(cv) = submission.get_mut("cv") else { continue };
            if cv["status"] != "verified" {
                continue;
            }
            let (Some(key), version) = (cv["key"].as_str(), cv["version_id"].as_str()) else { continue };
            let file_name = cv["file_name"].as_str().unwrap_or("cv");
            let link = app
                .cvs
                .download_link(key, version, file_name, Duration::from_secs(CV_LINK_MINUTES * 60))
                .await
                .map_err(|err| {
                    tracing::error!(error = %err, "a CV link could not be signed");
                    Problem::unavailable(2)
                })?;
            cv["download_url"] = link.into();
            cv["download_url_expires_at"] = rfc3339(app.clock.now() + CV_LINK_MINUTES as i64 * 60).into();
        }
    }
    data["exported_at"] = app.clock.timestamp().rfc3339().into();
    let body = match format {
        ExportFormat::Json => serde_json::to_string_pretty(&data).unwrap_or_default(),
        ExportFormat::Csv => export_csv(&data),
    };
    if !fits_one_response(&body) {
        return export_by_link(app, profile_id, format, body).await;
    }
    let mut response = respond::json(200, &serde_json::Value::Null);
    *response.body_mut() = Body::Text(body);
    let headers = response.headers_mut();
    headers.insert("content-type", lambda_http::http::HeaderValue::from_static(format.content_type()));
    let disposition = format!("attachment; filename=\"my-data.{}\"", format.as_str());
    if let Ok(value) = disposition.parse() {
        headers.insert("content-disposition", value);
    }
    tracing::info!(profile_id = %profile_id, format = format.as_str(), "data exported");
    Ok(response)
}

/// Lambda's limit on a synchronous response: 6 MB, the body counted as the JSON string it
/// travels in (quotes and line breaks escaped), with room for the status and headers.
pub const LAMBDA_RESPONSE_LIMIT: usize = 6 * 1024 * 1024;
pub const RESPONSE_ENVELOPE: usize = 64 * 1024;

fn fits_one_response(body: &str) -> bool {
    let escaped = serde_json::to_string(body).map_or(usize::MAX, |s| s.len());
    escaped + RESPONSE_ENVELOPE <= LAMBDA_RESPONSE_LIMIT
}

/// An export too large for one response: kept in the private bucket for a day at most, and the
/// person sent on to a link that downloads it and works for minutes (303 for pages and JSON
/// clients alike; the link is in `Location` and in the body).
async fn export_by_link(
    app: &App,
    profile_id: &ProfileId,
    format: ExportFormat,
    body: String,
) -> Result<Response<Body>, Problem> {
    let unavailable = |err: steward_core::domain::privacy::erasure::CvObjectsError| {
        tracing::error!(error = %err, "a large export could not be kept for its link");
        Problem::unavailable(2)
    };
    let size = body.len();
    let key = app
        .cvs
        .put_export(profile_id, body.into_bytes(), format.content_type(), format.as_str())
        .await
        .map_err(unavailable)?;
    let file_name = format!("my-data.{}", format.as_str());
    let link = app
        .cvs
        .download_link(&key, None, &file_name, Duration::from_secs(CV_LINK_MINUTES * 60))
        .await
        .map_err(unavailable)?;
    tracing::info!(profile_id = %profile_id, format = format.as_str(), size, "data exported by link");
    let mut response = respond::json(
        303,
        &serde_json::json!({
            "download_url": link,
            "download_url_expires_at": rfc3339(app.clock.now() + CV_LINK_MINUTES as i64 * 60),
            "size_bytes": size,
        }),
    );
    if let Ok(location) = link.parse() {
        response.headers_mut().insert("location", location);
    }
    Ok(response)
}
