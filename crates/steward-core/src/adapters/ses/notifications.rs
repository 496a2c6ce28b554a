//! What SES says back about mail it sent, as SNS delivers it: a permanent bounce or a complaint
//! means the address gets no marketing mail again. Both SES formats are read: event publishing
//! (`eventType`) and identity notifications (`notificationType`).

use serde::Deserialize;

use crate::domain::mail::preferences::ChangeSource;

/// SNS's envelope around the SES notification.
#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Message")]
    message: String,
}

#[derive(Deserialize)]
struct SesNotification {
    #[serde(rename = "eventType", alias = "notificationType")]
    kind: String,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
}

#[derive(Deserialize)]
struct Bounce {
    #[serde(rename = "bounceType")]
    bounce_type: String,
    #[serde(rename = "bouncedRecipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Complaint {
    #[serde(rename = "complainedRecipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(rename = "emailAddress")]
    email: String,
}

/// Who to suppress, and why; nothing for transient bounces, deliveries and the like.
pub fn suppressions(body: &str) -> Vec<(String, ChangeSource, String)> {
    let inner =
        serde_json::from_str::<SnsEnvelope>(body).map(|e| e.message).unwrap_or_else(|_| body.to_owned());
    let Ok(notification) = serde_json::from_str::<SesNotification>(&inner) else { return Vec::new() };
    match (notification.kind.as_str(), notification.bounce, notification.complaint) {
        ("Bounce", Some(bounce), _) if bounce.bounce_type == "Permanent" => bounce
            .recipients
            .into_iter()
            .map(|r| (r.email, ChangeSource::Bounce, "permanent bounce".to_owned()))
            .collect(),
        ("Complaint", _, Some(complaint)) => complaint
            .recipients
            .into_iter()
            .map(|r| (r.email, ChangeSource::Complaint, "complaint".to_owned()))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sns(message: serde_json::Value) -> String {
        serde_json::json!({"Type": "Notification", "MessageId": "m", "Message": message.to_string()})
            .to_string()
    }

    #[test]
    fn permanent_bounces_and_complaints_suppress_and_nothing_else_does() {
        let bounce = sns(serde_json::json!({"eventType": "Bounce", "bounce": {"bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "gone@example.com"}]}, "mail": {}}));
        assert_eq!(suppressions(&bounce)[0].0, "gone@example.com");
        let complaint = sns(serde_json::json!({"notificationType": "Complaint", "complaint": {
            "complainedRecipients": [{"emailAddress": "angry@example.com"}]}}));
        assert_eq!(suppressions(&complaint)[0].1, ChangeSource::Complaint);
        let transient = sns(serde_json::json!({"eventType": "Bounce", "bounce": {"bounceType": "Transient",
            "bouncedRecipients": [{"emailAddress": "full@example.com"}]}}));
        assert!(suppressions(&transient).is_empty());
        assert!(suppressions("not json").is_empty());
        assert!(suppressions(&sns(serde_json::json!({"eventType": "Delivery"}))).is_empty());
    }
}
