//! What anyone's requests can make Steward send one address: a few mails of one kind a day,
//! counted per recipient (not per request, nor per requester), and one a day of each kind the
//! address has not asked for itself (a form or a session can name any address). Past the limit
//! nothing is sent and the answer does not change, so a flood neither reaches the inbox nor
//! tells the flooder anything, and the owner is never refused.

use crate::domain::fields::address_key;
use crate::domain::ports::{FixedWindow, RateLimiter, StoreError};
use crate::secret::SecretKey;
use crate::time::Timestamp;

/// Why Steward mails an address, as far as its daily limit goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailPurpose {
    /// A privacy-center sign-in link: asked for by whoever typed the address.
    SignIn,
    /// The double opt-in mail a form owes: anyone can type the address.
    Confirmation,
    /// The double opt-in mail for topics chosen through the preference link mailed to the
    /// address: its owner asked.
    ChosenTopicsConfirmation,
    /// The confirmation of a new address: a session names it, its owner has not asked.
    EmailChange,
    /// The confirmation, to the person's own address, of an export to someone else.
    ExportConfirmation,
    /// An export's download link, to the person it was sent to, who has not asked.
    ExportLink,
    /// What a form gives by mail (a product's download link): asked for by whoever typed the
    /// address.
    Delivery,
    /// What became of an uploaded CV, to its applicant: anyone can type an address into the
    /// careers form, so the address has not necessarily asked.
    CvVerdict,
}

impl MailPurpose {
    pub const ALL: [MailPurpose; 8] = [
        MailPurpose::SignIn,
        MailPurpose::Confirmation,
        MailPurpose::ChosenTopicsConfirmation,
        MailPurpose::EmailChange,
        MailPurpose::ExportConfirmation,
        MailPurpose::ExportLink,
        MailPurpose::Delivery,
        MailPurpose::CvVerdict,
    ];

    /// The rate-limit scope counting it, keyed like the address's other limits.
    pub fn scope(self) -> &'static str {
        match self {
            MailPurpose::SignIn => "mail-sign-in",
            MailPurpose::Confirmation => "confirm-mail",
            MailPurpose::ChosenTopicsConfirmation => "mail-chosen-topics",
            MailPurpose::EmailChange => "mail-email-change",
            MailPurpose::ExportConfirmation => "mail-export",
            MailPurpose::ExportLink => "mail-export-link",
            MailPurpose::Delivery => "mail-delivery",
            MailPurpose::CvVerdict => "mail-cv-verdict",
        }
    }

    /// How many an address may be sent in a day.
    pub const fn per_day(self) -> u32 {
        match self {
            // A person signing in on a few devices, or whose mail was slow, asks again.
            MailPurpose::SignIn => 5,
            MailPurpose::ExportConfirmation
            | MailPurpose::ChosenTopicsConfirmation
            | MailPurpose::Delivery
            // An applicant replacing a refused file hears of each of the first few.
            | MailPurpose::CvVerdict => 3,
            // Mail the address has not asked for: once a day.
            MailPurpose::Confirmation | MailPurpose::EmailChange | MailPurpose::ExportLink => 1,
        }
    }
}

/// Counts the mail `message_id` of `purpose` to `address` against its day; `false` once the
/// day's are used up. The same message asked for again (a retried request whose first answer
/// was lost) counts once.
pub async fn may_mail<S: RateLimiter>(
    store: &S,
    hash_key: &SecretKey,
    purpose: MailPurpose,
    address: &str,
    message_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let day =
        FixedWindow::containing(Timestamp::from_epoch_seconds(now), std::time::Duration::from_secs(86_400));
    let subject = hash_key.pseudonym("rate-email", &address_key(address));
    // A message id can name its person: the counter keeps a keyed hash of it, shortened.
    let event = hash_key.pseudonym("mail-event", message_id);
    let event = event.get(..16).unwrap_or(&event);
    let limit = purpose.per_day();
    Ok(store.hit_once(purpose.scope(), &subject, event, limit, day).await? <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasure_takes_every_purposes_counter_along() {
        for purpose in MailPurpose::ALL {
            assert!(
                crate::domain::privacy::erasure::EMAIL_RATE_SCOPES.contains(&purpose.scope()),
                "{purpose:?}"
            );
        }
    }
}
