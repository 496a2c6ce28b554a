//! Consent receipts: for each consent a person gave (a form's, and each confirmation from their
//! address), a record they can keep, in the fields of the Kantara Initiative's Consent Receipt
//! Specification v1.1 (the basis of ISO/IEC 27560's consent record), with what Steward adds: the
//! digest of the exact notice shown, the policy version, and the evidence of who gave it.
//!
//! Built from what the privacy center shows ([`super::access::PrivacyStore::everything`]), so a
//! receipt says nothing that the person's data does not.

use serde_json::{json, Value};

use crate::config::Config;
use crate::domain::forms::catalogue::Catalogue;
use crate::i18n::Lang;

/// The receipts of everything a person agreed to, oldest first.
pub fn consent_receipts(everything: &Value, catalogue: &Catalogue, config: &Config) -> Vec<Value> {
    let principal = everything["profile"]["email"].as_str().unwrap_or_default();
    let controller = json!([{
        "piiController": everything["data_controller"],
        "contact": "Data Protection Officer",
        "email": everything["data_protection_officer"],
        "onBehalf": false,
    }]);
    let jurisdiction = match everything["data_controller"].as_str() {
        Some("WSO2 UK Limited") => "GB",
        _ => "US",
    };
    let base = |id: String, at: &Value, method: String| {
        json!({
            "version": "KI-CR-v1.1.0",
            "jurisdiction": jurisdiction,
            // The specification's timestamp is seconds since the epoch; the time as written too.
            "consentTimestamp": epoch_seconds(at),
            "consentTime": at,
            "collectionMethod": method,
            "consentReceiptID": id,
            "language": "en",
            "piiPrincipalId": principal,
            "piiControllers": controller,
            "policyUrl": config.policy_url,
            "sensitive": false,
            "spiCat": [],
        })
    };
    let mut receipts = Vec::new();
    for submission in everything["submissions"].as_array().into_iter().flatten() {
        let consent = &submission["consent"];
        let Some(form_id) = consent["form"].as_str() else { continue };
        let form = catalogue.form(form_id);
        let fields: Vec<&str> = submission["fields"]
            .as_object()
            .map(|f| f.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let topics = consent["marketing_topics"].clone();
        // The language the notice was shown in: its wording is the one agreed to.
        let lang = consent["language"].as_str().and_then(Lang::from_code).unwrap_or_default();
        let ticked = topics.as_array().is_some_and(|t| !t.is_empty());
        let purposes: Vec<Value> = consent["purposes"]
            .as_array()
            .into_iter()
            .flatten()
            // Marketing is consented to only by ticking topics, and only given once the address
            // confirms them (a confirmation receipt of its own): a form without ticks gave none.
            .filter(|purpose| purpose["id"] != "marketing" || ticked)
            .map(|purpose| {
                let id = purpose["id"].as_str().unwrap_or_default();
                let basis = purpose["basis"].as_str().unwrap_or_default();
                let wording = form
                    .and_then(|f| f.purposes.iter().find(|p| p.id == id).map(|p| (f, p)))
                    .map(|(f, p)| crate::i18n::within(lang, || f.purpose_words(p)))
                    .unwrap_or_default();
                json!({
                    "purpose": wording,
                    "purposeId": id,
                    "lawfulBasis": basis,
                    "purposeCategory": [id],
                    // Consent is given by ticking, never pre-ticked; the other bases are not consent.
                    "consentType": if basis == "consent" { "EXPLICIT" } else { "NOT_CONSENT" },
                    "piiCategory": if id == "marketing" { vec!["email"] } else { fields.clone() },
                    "primaryPurpose": basis != "consent",
                    "termination": submission["retained_until"],
                    "thirdPartyDisclosure": false,
                    "status": if id == "marketing" { "asked: given once the address confirms" } else { "given" },
                })
            })
            .collect();
        // The form as its notice named it, in the language it was shown in.
        let title =
            form.map_or_else(|| form_id.to_owned(), |f| crate::i18n::within(lang, || f.title_words()));
        let mut receipt = base(
            format!("submission-{}", submission["submission_id"].as_str().unwrap_or_default()),
            &consent["given_at"],
            format!("web form: {title}"),
        );
        receipt["services"] = json!([{ "service": title, "purposes": purposes }]);
        receipt["language"] = lang.code().into();
        receipt["steward"] = json!({
            "form": form_id,
            "notice_sha256": consent["notice_sha256"],
            "policy_version": consent["policy_version"],
            "marketing_topics_ticked": topics,
            "global_privacy_control": consent["global_privacy_control"],
            "opted_out": consent["opted_out"],
            "source_ip": consent["source_ip"],
            "user_agent": consent["user_agent"],
        });
        receipts.push(receipt);
    }
    for change in everything["mail_preference_history"].as_array().into_iter().flatten() {
        if change["source"] != "confirmation" {
            continue;
        }
        let confirmed =
            change["change"].as_str().and_then(|c| c.strip_prefix("confirmed ")).unwrap_or_default();
        let topics: Vec<Value> = confirmed
            .split(',')
            .filter(|t| !t.is_empty())
            .map(|t| {
                json!({
                    "purpose": catalogue.topics.get(t).map_or_else(|| t.to_owned(), |label| format!("Marketing email about {label}")),
                    "purposeId": "marketing",
                    "lawfulBasis": "consent",
                    "purposeCategory": ["marketing", t],
                    "consentType": "EXPLICIT",
                    "piiCategory": ["email"],
                    "primaryPurpose": false,
                    "termination": "until withdrawn or unsubscribed",
                    "thirdPartyDisclosure": false,
                })
            })
            .collect();
        let mut receipt = base(
            format!("confirmation-{}", change["token_id"].as_str().unwrap_or_default()),
            &change["at"],
            "double opt-in: a confirmation link mailed to the address".to_owned(),
        );
        receipt["services"] = json!([{ "service": "Marketing email", "purposes": topics }]);
        receipt["steward"] = json!({
            "policy_version": change["policy_version"],
            "source_ip": change["source_ip"],
            "user_agent": change["user_agent"],
            "link_id": change["token_id"],
        });
        receipts.push(receipt);
    }
    receipts.sort_by_key(|receipt| receipt["consentTimestamp"].as_i64());
    receipts
}

/// Seconds since the epoch of an RFC 3339 time as Steward writes them.
fn epoch_seconds(at: &Value) -> Option<i64> {
    let text = at.as_str()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}
