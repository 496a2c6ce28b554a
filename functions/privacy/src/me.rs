//! The privacy center itself (`/me`): seeing everything held, correcting it (a new address once
//! it is confirmed from there), limiting its use, withdrawing a consent, erasing it all.

use lambda_http::{Body, Request, Response};
use steward_core::domain::destinations::{self, DeliveryStore as _};
use steward_core::domain::fields::Email;
use steward_core::domain::fields::FieldError;
use steward_core::domain::ids::ProfileId;
use steward_core::domain::payments::PaymentStatus;
use steward_core::domain::privacy::access::{sign_out, PrivacyStore as _};
use steward_core::domain::privacy::correction::{
    confirm_email_change, correct, delete_submission, undo_email_change,
};
use steward_core::domain::privacy::erasure::{erase, ErasureReason};
use steward_core::domain::privacy::export::{request_export_to, revoke_export_link, ExportFormat};
use steward_core::domain::privacy::limits::{set_limit, withdraw, Limit};
use steward_core::domain::privacy::receipts::consent_receipts;
use steward_core::domain::privacy::rights::{cancel_request, RequestKind, RightsError};
use steward_core::http::problem::Problem;
use steward_core::http::respond;

use crate::export::{export, Reader, LAMBDA_RESPONSE_LIMIT, RESPONSE_ENVELOPE};
use crate::handler::{done, missing_token, query, token_of, App, SessionCookie, Signed};
use crate::problems::{erasure_problem, privacy_problem, rights_problem, store_problem};
use crate::{center, pages};
use steward_core::domain::privacy::requests as register;
use steward_core::t;

pub async fn me(app: &App, method: &str, path: &str, signed: Signed<'_>) -> Result<Response<Body>, Problem> {
    let overridden = signed.form.first("_method").map(str::to_ascii_uppercase);
    let method = match (method, path, overridden.as_deref()) {
        ("POST", "/me", Some(m @ ("PATCH" | "DELETE"))) => m,
        ("POST", "/me", _) => {
            return Err(Problem::new(405, "method_not_allowed", t!("problem-use-patch-or-delete")))
        }
        _ => method,
    };
    let profile_id = &signed.profile_id;
    match (method, path) {
        ("GET" | "HEAD", "/me") => {
            let data = fit_for_one_response(everything(app, profile_id).await?);
            if method == "GET" {
                // Seeing everything held is the right of access, answered (one record a day).
                record(app, register::RequestKind::Access, profile_id, "shown in the privacy center").await;
            }
            if signed.page {
                let notice = query(signed.request, "done");
                let page = center::page(&app.words(), &data, notice.as_deref(), None, &[]);
                return Ok(respond::html(200, page));
            }
            Ok(respond::json(200, &data))
        }
        ("GET" | "HEAD", "/me/consents") => {
            let data = everything(app, profile_id).await?;
            let receipts = consent_receipts(&data, &app.catalogue, &app.config);
            let mut response = respond::json(200, &serde_json::json!({ "receipts": receipts }));
            response.headers_mut().insert(
                "content-disposition",
                lambda_http::http::HeaderValue::from_static("attachment; filename=\"consent-receipts.json\""),
            );
            Ok(response)
        }
        ("GET" | "HEAD", "/me/delete") => {
            let data = everything(app, profile_id).await?;
            let cancels_subscription = data["erasure_cancels_subscription"].as_bool().unwrap_or(false);
            Ok(respond::html(200, pages::confirm_erasure(cancels_subscription)))
        }
        ("GET" | "HEAD", "/me/export") => {
            let format = ExportFormat::parse(query(signed.request, "format").as_deref())
                .map_err(|e| Problem::validation(vec![e]))?;
            let exported = export(app, profile_id, format, Reader::Person).await?;
            if method == "GET" {
                record(app, register::RequestKind::Portability, profile_id, "exported in the privacy center")
                    .await;
            }
            Ok(exported)
        }
        ("POST", "/me/export") => {
            let to = Email::parse("to", signed.form.first("to").unwrap_or_default());
            let format = ExportFormat::parse(signed.form.first("format"));
            let (to, format) = match (to, format) {
                (Ok(to), Ok(format)) => (to, format),
                (to, format) => {
                    return Err(Problem::validation(to.err().into_iter().chain(format.err()).collect()));
                }
            };
            request_export_to(&app.store, &app.config, profile_id, &to, format, app.clock.now())
                .await
                .map_err(rights_problem)?;
            Ok(finished(&signed, 202, "export_confirmation_sent", &t!("me-result-export-confirmation-sent")))
        }
        ("POST", "/me/submissions/delete") => {
            let submission = signed.form.first("submission").unwrap_or_default();
            delete_submission(&app.store, &app.cvs, profile_id, submission).await.map_err(rights_problem)?;
            record(
                app,
                register::RequestKind::Erasure,
                profile_id,
                "one submission deleted in the privacy center",
            )
            .await;
            Ok(finished(&signed, 200, "submission_deleted", &t!("me-result-submission-deleted")))
        }
        ("POST", "/me/requests/cancel") => {
            let Some(kind) = RequestKind::cancellable(signed.form.first("request").unwrap_or_default())
            else {
                return Err(Problem::validation(vec![FieldError::new(
                    "request",
                    "invalid",
                    t!("error-not-cancellable-kind"),
                )]));
            };
            let id = signed.form.first("id").unwrap_or_default();
            cancel_request(&app.store, profile_id, kind, id, app.clock.now())
                .await
                .map_err(rights_problem)?;
            Ok(finished(&signed, 200, "request_cancelled", &t!("me-result-request-cancelled")))
        }
        ("POST", "/me/export/revoke") => {
            let link = signed.form.first("link").unwrap_or_default();
            revoke_export_link(&app.store, profile_id, link, app.clock.now())
                .await
                .map_err(rights_problem)?;
            Ok(finished(&signed, 200, "export_link_revoked", &t!("me-result-export-link-revoked")))
        }
        ("PATCH", "/me") => {
            let corrected =
                match correct(&app.store, &app.config, profile_id, &signed.form, app.clock.now()).await {
                    Ok(corrected) => corrected,
                    // A page shows the errors beside the fields, keeping what the person typed.
                    Err(RightsError::Invalid(errors)) if signed.page => {
                        let data = everything(app, profile_id).await?;
                        let page = center::page(&app.words(), &data, None, Some(&signed.form), &errors);
                        return Ok(respond::html(422, page));
                    }
                    Err(err) => return Err(rights_problem(err)),
                };
            record(app, register::RequestKind::Rectification, profile_id, "corrected in the privacy center")
                .await;
            if signed.page {
                let done =
                    if corrected.email_confirmation_sent { "email_confirmation_sent" } else { "corrected" };
                return Ok(respond::see_other(&format!("/me?done={done}")));
            }
            Ok(respond::json(
                200,
                &serde_json::json!({
                    "fields_changed": corrected.fields_changed,
                    "email_confirmation_sent": corrected.email_confirmation_sent,
                }),
            ))
        }
        ("POST", "/me/restrict" | "/me/object") => {
            let limit = if path == "/me/restrict" { Limit::Restrict } else { Limit::Object };
            let lift = matches!(signed.form.first("lift"), Some("true" | "yes" | "1"));
            if !set_limit(&app.store, profile_id, limit, !lift, app.clock.timestamp())
                .await
                .map_err(store_problem)?
            {
                return Err(Problem::not_found("person"));
            }
            if !lift {
                let kind = match limit {
                    Limit::Restrict => register::RequestKind::Restriction,
                    Limit::Object => register::RequestKind::Objection,
                };
                record(app, kind, profile_id, "done in the privacy center").await;
            }
            let code = format!("{}{}", if lift { "lifted_" } else { "" }, limit.attribute());
            Ok(finished(&signed, 200, &code, "Done."))
        }
        ("POST", "/me/withdraw") => {
            let purpose = signed.form.first("purpose").ok_or_else(|| {
                Problem::validation(vec![FieldError::new("purpose", "required", t!("error-required"))])
            })?;
            withdraw(&app.store, &app.catalogue, profile_id, purpose, app.clock.timestamp())
                .await
                .map_err(rights_problem)?;
            record(app, register::RequestKind::OptOut, profile_id, "consent withdrawn in the privacy center")
                .await;
            Ok(finished(&signed, 200, "withdrawn", &t!("me-result-withdrawn")))
        }
        ("DELETE", "/me") => {
            if signed.page && signed.form.first("confirm") != Some("yes") {
                return Err(Problem::validation(vec![FieldError::new(
                    "confirm",
                    "required",
                    t!("error-confirm-erasure"),
                )]));
            }
            let report = erase(
                &app.store,
                &app.cvs,
                Some(&app.config.links),
                profile_id,
                ErasureReason::Request,
                app.clock.now(),
            )
            .await
            .map_err(erasure_problem)?;
            if report.is_some() {
                record(app, register::RequestKind::Erasure, profile_id, "erased in the privacy center").await;
            }
            if signed.page {
                // Erasure ended every session (they lived with the data); the browser forgets its own.
                return Ok(signed_out_of(&app.session_cookie, respond::html(200, pages::erased())));
            }
            Ok(respond::json(
                200,
                &serde_json::json!({
                    "erased": true,
                    // Nothing held any more: asked before, or finished now.
                    "already_erased": report.is_none(),
                    "report": report,
                }),
            ))
        }
        ("POST", "/me/sign-out") => {
            let everywhere = matches!(signed.form.first("everywhere"), Some("yes" | "true" | "1"));
            sign_out(&app.store, &signed.session, everywhere).await.map_err(privacy_problem)?;
            if signed.page {
                return Ok(signed_out_of(
                    &app.session_cookie,
                    respond::html(200, pages::signed_out(everywhere)),
                ));
            }
            let result = if everywhere { "signed_out_everywhere" } else { "signed_out" };
            Ok(respond::json(200, &serde_json::json!({ "result": result })))
        }
        _ => Err(Problem::new(405, "method_not_allowed", t!("problem-method-not-allowed"))),
    }
}

/// The answer to erasing again, once everything is gone.
pub fn erased_already() -> Response<Body> {
    respond::json(200, &serde_json::json!({ "erased": true, "already_erased": true, "report": null }))
}

/// The response, with the browser told to forget its session cookie.
fn signed_out_of(session_cookie: &SessionCookie, mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert("set-cookie", session_cookie.set("", 0));
    response
}

/// The new address's confirmation link, behind a button.
pub async fn email_confirmation_page(request: &Request) -> Result<Response<Body>, Problem> {
    let token = query(request, "token").ok_or_else(missing_token)?;
    Ok(respond::html(
        200,
        pages::confirm_link(
            &t!("email-confirm-title"),
            None,
            "/privacy/email/confirm",
            &token,
            &t!("email-confirm-button"),
        ),
    ))
}

/// Confirmed from the new address: the profile moves to it.
pub async fn confirm_email(
    app: &App,
    request: &Request,
    json_client: bool,
) -> Result<Response<Body>, Problem> {
    let token = token_of(request).await?;
    confirm_email_change(&app.store, &app.config, &token, app.clock.now()).await.map_err(rights_problem)?;
    Ok(done(json_client, &t!("email-changed-title"), &t!("email-changed-body")))
}

/// The old address's way back after a change, behind a button.
pub async fn email_undo_page(request: &Request) -> Result<Response<Body>, Problem> {
    let token = query(request, "token").ok_or_else(missing_token)?;
    Ok(respond::html(
        200,
        pages::confirm_link(
            &t!("email-undo-title"),
            Some(&t!("email-undo-explain")),
            "/privacy/email/undo",
            &token,
            &t!("email-undo-button"),
        ),
    ))
}

/// Followed from the old address: the profile returns to it.
pub async fn undo_email(app: &App, request: &Request, json_client: bool) -> Result<Response<Body>, Problem> {
    let token = token_of(request).await?;
    let address =
        undo_email_change(&app.store, &app.config, &token, app.clock.now()).await.map_err(rights_problem)?;
    let masked = steward_core::domain::fields::masked_address(&address).unwrap_or_default();
    Ok(done(json_client, &t!("email-undone-title"), &t!("email-undone-body", address = masked)))
}

/// After a change: a redirect back to the privacy center for pages, JSON for API clients.
fn finished(signed: &Signed<'_>, status: u16, code: &str, message: &str) -> Response<Body> {
    if signed.page {
        return respond::see_other(&format!("/me?done={code}"));
    }
    respond::json(status, &serde_json::json!({ "result": code, "message": message }))
}

pub async fn everything(app: &App, profile_id: &ProfileId) -> Result<serde_json::Value, Problem> {
    let mut data = app
        .store
        .everything(profile_id)
        .await
        .map_err(store_problem)?
        .ok_or_else(|| Problem::not_found("person"))?;
    // Where their data went: each destination that received it (or is owed it), and what.
    let recipients = app.store.recipients(profile_id).await.map_err(store_problem)?;
    let descriptions = app.catalogue.destinations().map(|d| (d.id.clone(), d.description.clone())).collect();
    data["shared_with"] = destinations::shown_to_person(&descriptions, &recipients).into();
    // Erasing ends a running subscription: the person is told before they confirm.
    data["erasure_cancels_subscription"] = data["payments"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|payment| {
            payment.get("subscription_id").is_some()
                && payment["status"].as_str().and_then(PaymentStatus::parse).is_some_and(|s| s.is_running())
        })
        .into();
    Ok(data)
}

/// Values longer than this are shortened in the privacy center when everything would not fit
/// one response; the export always has them whole.
const ABBREVIATED_CHARS: usize = 1_000;

/// What the privacy center shows: everything held, with long values shortened (and
/// `abbreviated` saying so, and where to get them whole) when it would not fit one response.
fn fit_for_one_response(mut data: serde_json::Value) -> serde_json::Value {
    let size = serde_json::to_string(&data).map_or(usize::MAX, |s| s.len());
    // Half the limit: the page renders the same data as HTML, which is larger than its JSON.
    if size + RESPONSE_ENVELOPE <= LAMBDA_RESPONSE_LIMIT / 2 {
        return data;
    }
    fn shorten(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) if text.chars().count() > ABBREVIATED_CHARS => {
                let kept: String = text.chars().take(ABBREVIATED_CHARS).collect();
                let total = text.chars().count();
                *text = t!("me-abbreviated-value", kept = kept, total = total);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(shorten),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(shorten),
            _ => {}
        }
    }
    shorten(&mut data);
    data["abbreviated"] = serde_json::json!({
        "detail": t!("me-abbreviated", limit = ABBREVIATED_CHARS),
        "export": "/me/export",
    });
    // Still too large (a very long history of short values): each list shows its first entries
    // and says how many more the export has.
    let size = serde_json::to_string(&data).map_or(usize::MAX, |s| s.len());
    if size + RESPONSE_ENVELOPE > LAMBDA_RESPONSE_LIMIT / 2 {
        let mut omitted = serde_json::Map::new();
        if let Some(fields) = data.as_object_mut() {
            for (name, value) in fields.iter_mut() {
                if let Some(items) = value.as_array_mut().filter(|items| items.len() > LISTED_ENTRIES) {
                    omitted.insert(name.clone(), (items.len() - LISTED_ENTRIES).into());
                    items.truncate(LISTED_ENTRIES);
                }
            }
        }
        data["abbreviated"]["omitted"] = omitted.into();
    }
    data
}

/// How many entries of each list the privacy center shows when everything would not fit.
const LISTED_ENTRIES: usize = 100;

/// Records a request the person made and was answered here, in the register the privacy team
/// keeps. What they asked for is done already: a failure to record is logged, not theirs to see.
pub async fn record(app: &App, kind: register::RequestKind, profile_id: &ProfileId, outcome: &str) {
    // Answered at once, so the deadline's law matters little; the GDPR's is the stricter.
    let law = register::Law::Gdpr;
    if let Err(err) = register::record_self_service(
        &app.store,
        &app.config.hash_key,
        kind,
        profile_id,
        law,
        outcome,
        app.clock.timestamp(),
    )
    .await
    {
        tracing::error!(error = %steward_core::telemetry::error_chain(&err), kind = kind.slug(), "a self-service request was not recorded in the register");
    }
}
