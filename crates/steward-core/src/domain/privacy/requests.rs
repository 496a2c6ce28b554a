//! The register of data-protection requests: every request the company must answer by law,
//! whether a person made it themselves in the privacy center (recorded as it is answered) or the
//! privacy team received it by mail (entered in the staff console). Each has its kind, who asked
//! and whether that is verified, when it came, the legal deadline by the requester's law, its
//! state and its outcome; a yearly report counts them as the CCPA's record-keeping asks.
//!
//! Deadlines: under the GDPR (Art. 12(3)) one month from receipt, extendable by two more with a
//! reason; a month ends on the same date of the next month, or on its last day when it has no such
//! date, and a period ending on a Saturday or Sunday ends on the Monday after (Regulation
//! 1182/71, Art. 3, as the EDPB's guidelines on the right of access read it). Under the CCPA
//! (Cal. Code Regs. tit. 11, § 7021) 45 calendar days, extendable once by 45 more.

use std::future::Future;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, Weekday};

use crate::domain::fields::Email;
use crate::domain::ids::ProfileId;
use crate::domain::ports::StoreError;

/// Days before its deadline from which a request is shown first and raised by the digest.
pub const DUE_SOON_DAYS: i64 = 7;
/// How long a request's record is kept after it was answered: the CCPA asks for 24 months.
pub const KEPT_DAYS: i64 = 2 * 365 + 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// To see what is held (GDPR Art. 15, CCPA "to know").
    Access,
    /// To receive it in a portable form (Art. 20).
    Portability,
    /// To correct it (Art. 16, CCPA "to correct").
    Rectification,
    /// To erase it (Art. 17, CCPA "to delete").
    Erasure,
    /// To restrict its use (Art. 18).
    Restriction,
    /// To object to its use (Art. 21).
    Objection,
    /// To withdraw a consent or opt out of marketing, sale or sharing.
    OptOut,
}

impl RequestKind {
    pub const ALL: [Self; 7] = [
        Self::Access,
        Self::Portability,
        Self::Rectification,
        Self::Erasure,
        Self::Restriction,
        Self::Objection,
        Self::OptOut,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Portability => "portability",
            Self::Rectification => "rectification",
            Self::Erasure => "erasure",
            Self::Restriction => "restriction",
            Self::Objection => "objection",
            Self::OptOut => "opt-out",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Access => "Access (see what is held)",
            Self::Portability => "Portability (a copy to take away)",
            Self::Rectification => "Rectification (correct)",
            Self::Erasure => "Erasure (delete)",
            Self::Restriction => "Restriction of processing",
            Self::Objection => "Objection to processing",
            Self::OptOut => "Opt-out or withdrawal of consent",
        }
    }
}

/// The law whose deadlines a request is answered by: the requester's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Law {
    Gdpr,
    Ccpa,
}

impl Law {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Gdpr => "gdpr",
            Self::Ccpa => "ccpa",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        [Self::Gdpr, Self::Ccpa].into_iter().find(|law| law.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Gdpr => "GDPR (one month, extendable by two)",
            Self::Ccpa => "CCPA (45 days, extendable by 45)",
        }
    }

    /// A Californian's requests are answered by the CCPA; everyone else's by the GDPR, the
    /// stricter clock (a month is at most 31 days).
    pub fn of_region(country: Option<&str>, region: Option<&str>) -> Self {
        if country == Some("US") && region.is_some_and(|r| r.eq_ignore_ascii_case("US-CA") || r == "CA") {
            Self::Ccpa
        } else {
            Self::Gdpr
        }
    }

    /// The last day to answer a request received on `received`, with or without the extension.
    pub fn deadline(self, received: Date, extended: bool) -> Date {
        match self {
            Self::Gdpr => next_working_day(add_months(received, if extended { 3 } else { 1 })),
            Self::Ccpa => received + Duration::days(if extended { 90 } else { 45 }),
        }
    }
}

/// The same date `months` later, or the last day of that month when it has no such date.
pub fn add_months(date: Date, months: u8) -> Date {
    let index = date.month() as i32 - 1 + i32::from(months);
    let year = date.year() + index / 12;
    let month = Month::try_from((index % 12 + 1) as u8).unwrap_or(Month::December);
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(date)
}

fn next_working_day(date: Date) -> Date {
    match date.weekday() {
        Weekday::Saturday => date + Duration::days(2),
        Weekday::Sunday => date + Duration::days(1),
        _ => date,
    }
}

/// How it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// The person, signed in to the privacy center with a link sent to their address.
    SelfService,
    /// By mail (or post, or phone), entered by the privacy team.
    Mail,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestState {
    Open,
    /// The team asked the requester to prove who they are.
    WaitingForIdentity,
    /// The deadline was extended, with a recorded reason.
    Extended,
    Done,
    /// Refused, with a recorded reason.
    Refused,
}

impl RequestState {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::WaitingForIdentity => "waiting-for-identity",
            Self::Extended => "extended",
            Self::Done => "done",
            Self::Refused => "refused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::WaitingForIdentity => "Waiting for identity",
            Self::Extended => "Extended",
            Self::Done => "Done",
            Self::Refused => "Refused",
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(self, Self::Done | Self::Refused)
    }
}

/// One step in a request's life: what changed, when, by whom (a staff member's address, or
/// `person` for self-service), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEvent {
    /// RFC 3339, UTC.
    pub at: String,
    pub by: String,
    pub what: String,
}

/// One request in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyRequest {
    /// `req-<yyyymmdd>-<12 hex>`: sorts by the day it was received.
    pub id: String,
    pub kind: RequestKind,
    pub channel: Channel,
    pub law: Law,
    /// The day it was received (in UTC).
    pub received: Date,
    /// The address the requester gave: evidence of who asked, not proof. Dropped once an
    /// erasure is done, so the register does not keep what was erased.
    pub email: Option<String>,
    /// The person it was verified to be: set only when the requester proved they hold the
    /// address (a privacy-center sign-in, or the team's check).
    pub profile: Option<ProfileId>,
    pub verified: bool,
    pub state: RequestState,
    /// Why the deadline was extended.
    pub extension_reason: Option<String>,
    /// What was done, or why it was refused.
    pub outcome: Option<String>,
    /// The day it was answered (done or refused).
    pub closed: Option<Date>,
    pub history: Vec<RequestEvent>,
    /// Bumped by each change: a change made from a stale page is refused.
    pub version: u32,
}

/// How urgent an unanswered request is on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    Overdue,
    DueSoon,
    OnTime,
    Closed,
}

impl PrivacyRequest {
    pub fn deadline(&self) -> Date {
        self.law
            .deadline(self.received, self.state == RequestState::Extended || self.extension_reason.is_some())
    }

    pub fn urgency(&self, today: Date) -> Urgency {
        if self.state.is_closed() {
            return Urgency::Closed;
        }
        let left = (self.deadline() - today).whole_days();
        if left < 0 {
            Urgency::Overdue
        } else if left <= DUE_SOON_DAYS {
            Urgency::DueSoon
        } else {
            Urgency::OnTime
        }
    }

    /// Days from receipt to answer, for a closed request.
    pub fn days_to_answer(&self) -> Option<i64> {
        self.closed.map(|closed| (closed - self.received).whole_days())
    }
}

/// The register, most urgent first: overdue, then due within a week, each by deadline; then the
/// rest open; then the closed ones, newest first.
pub fn by_urgency(requests: &mut [PrivacyRequest], today: Date) {
    requests.sort_by(|a, b| {
        let (ua, ub) = (a.urgency(today), b.urgency(today));
        ua.cmp(&ub).then_with(|| {
            if ua == Urgency::Closed {
                b.received.cmp(&a.received).then_with(|| b.id.cmp(&a.id))
            } else {
                a.deadline().cmp(&b.deadline()).then_with(|| a.id.cmp(&b.id))
            }
        })
    });
}

pub trait RequestStore {
    /// Saves a request: a new one (`version` 1) only if its id is free, a changed one only if
    /// the stored version is the one before (`Ok(false)` when it is not).
    fn save_request(&self, request: &PrivacyRequest)
        -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// A request received by mail (the team's work: the ones with pages and actions).
    fn request(&self, id: &str) -> impl Future<Output = Result<Option<PrivacyRequest>, StoreError>> + Send;
    /// Every request received by mail that is kept, in id order: the team's register, small
    /// whatever the privacy center's traffic.
    fn requests(&self) -> impl Future<Output = Result<Vec<PrivacyRequest>, StoreError>> + Send;
    /// The requests answered in the privacy center in a year (kept by month: at a hundred visits
    /// a second they are many, and only the yearly report reads them).
    fn self_service_requests(
        &self,
        year: i32,
    ) -> impl Future<Output = Result<Vec<PrivacyRequest>, StoreError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("no such request")]
    NotFound,
    #[error("the request was changed meanwhile; reload it")]
    Stale,
    #[error("the request is closed already")]
    Closed,
    #[error("the requester's identity is not verified")]
    Unverified,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: &str) -> RequestError {
    RequestError::Invalid { field, message: message.to_owned() }
}

/// A reason or outcome as recorded: trimmed, one to 500 characters, no control characters.
pub fn recorded_text(field: &'static str, text: &str) -> Result<String, RequestError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(field, "say why: it is recorded with the request"));
    }
    if text.chars().count() > 500 {
        return Err(invalid(field, "at most 500 characters"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(invalid(field, "no control characters"));
    }
    Ok(text.to_owned())
}

/// A new request's id: the day it was received, then 12 random hex digits.
pub fn new_id(received: Date) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("req-{:04}{:02}{:02}-{}", received.year(), received.month() as u8, received.day(), &random[..12])
}

pub fn well_formed_id(id: &str) -> bool {
    // ASCII first: the slices below are of bytes that must each be a character.
    id.is_ascii()
        && id.len() == 25
        && id.starts_with("req-")
        && id[4..12].bytes().all(|b| b.is_ascii_digit())
        && id.as_bytes()[12] == b'-'
        && id[13..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A request received by mail, as the privacy team enters it.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub kind: RequestKind,
    pub law: Law,
    pub email: Email,
    pub received: Date,
    pub note: Option<String>,
}

/// Enters a request received by mail. Its identity is unverified until the team checks it.
pub async fn enter<S: RequestStore>(
    store: &S,
    new: NewRequest,
    by: &str,
    now: crate::time::Timestamp,
) -> Result<PrivacyRequest, RequestError> {
    let today = now.date();
    if new.received > today {
        return Err(invalid("received", "cannot be in the future"));
    }
    if (today - new.received).whole_days() > KEPT_DAYS {
        return Err(invalid("received", "is older than the register keeps (24 months)"));
    }
    let note =
        new.note.as_deref().filter(|n| !n.trim().is_empty()).map(|n| recorded_text("note", n)).transpose()?;
    let mut what = format!("received by mail: {}", new.kind.slug());
    if let Some(note) = &note {
        what.push_str(&format!(" ({note})"));
    }
    let request = PrivacyRequest {
        id: new_id(new.received),
        kind: new.kind,
        channel: Channel::Mail,
        law: new.law,
        received: new.received,
        email: Some(new.email.as_str().to_owned()),
        profile: None,
        verified: false,
        state: RequestState::Open,
        extension_reason: None,
        outcome: None,
        closed: None,
        history: vec![RequestEvent { at: now.rfc3339(), by: by.to_owned(), what }],
        version: 1,
    };
    if !store.save_request(&request).await? {
        return Err(RequestError::Stale);
    }
    Ok(request)
}

/// Records a request a person made and was answered in the privacy center, there and then.
pub async fn record_self_service<S: RequestStore>(
    store: &S,
    key: &crate::secret::SecretKey,
    kind: RequestKind,
    profile: &ProfileId,
    law: Law,
    outcome: &str,
    now: crate::time::Timestamp,
) -> Result<(), StoreError> {
    let today = now.date();
    // One record a person, kind, answer and day: downloading an export in two formats, or
    // correcting twice, is one request answered, not two (deleting one submission and then
    // everything are two). Keyed: an erasure's record cannot be linked back to the profile id.
    let digest =
        key.pseudonym("self-service-request", &format!("{profile}|{}|{outcome}|{today}", kind.slug()));
    let request = PrivacyRequest {
        id: format!("req-{:04}{:02}{:02}-{}", today.year(), today.month() as u8, today.day(), &digest[..12]),
        kind,
        channel: Channel::SelfService,
        law,
        received: today,
        // The profile id says who; the address is theirs to change, and is not copied here.
        email: None,
        profile: (kind != RequestKind::Erasure).then(|| profile.clone()),
        verified: true,
        state: RequestState::Done,
        extension_reason: None,
        outcome: Some(outcome.to_owned()),
        closed: Some(today),
        history: vec![RequestEvent { at: now.rfc3339(), by: "person".into(), what: outcome.to_owned() }],
        version: 1,
    };
    store.save_request(&request).await.map(|_| ())
}

/// A change the privacy team makes to a request.
#[derive(Debug, Clone)]
pub enum Change {
    /// The requester proved who they are: they are this person (or held nothing: `None`).
    Verified(Option<ProfileId>),
    /// The team asked the requester to prove who they are.
    AskedForIdentity,
    /// The deadline is extended, for this reason.
    Extend(String),
    /// Answered: what was done.
    Done(String),
    /// Refused, for this reason.
    Refuse(String),
    /// An action on the person's behalf (export, erasure, restriction) is being taken: recorded
    /// first, so that a colleague's page is stale meanwhile and an action cut short shows.
    Started(&'static str),
}

/// Applies a change made from the request's page at `version`.
pub async fn change<S: RequestStore>(
    store: &S,
    id: &str,
    version: u32,
    change: Change,
    by: &str,
    now: crate::time::Timestamp,
) -> Result<PrivacyRequest, RequestError> {
    let mut request = store.request(id).await?.ok_or(RequestError::NotFound)?;
    if request.version != version {
        return Err(RequestError::Stale);
    }
    if request.state.is_closed() {
        return Err(RequestError::Closed);
    }
    let what = match change {
        Change::Verified(profile) => {
            request.verified = true;
            request.profile = profile;
            if request.state == RequestState::WaitingForIdentity {
                request.state = if request.extension_reason.is_some() {
                    RequestState::Extended
                } else {
                    RequestState::Open
                };
            }
            "identity verified".to_owned()
        }
        Change::AskedForIdentity => {
            request.state = RequestState::WaitingForIdentity;
            "asked the requester to prove who they are".to_owned()
        }
        Change::Extend(reason) => {
            if request.extension_reason.is_some() {
                return Err(invalid("reason", "the deadline was extended already: it can be extended once"));
            }
            if now.date() > request.law.deadline(request.received, false) {
                return Err(invalid(
                    "reason",
                    "the deadline has passed: an extension is told to the requester within the first period",
                ));
            }
            let reason = recorded_text("reason", &reason)?;
            if request.state != RequestState::WaitingForIdentity {
                request.state = RequestState::Extended;
            }
            request.extension_reason = Some(reason.clone());
            format!("deadline extended to {}: {reason}", request.law.deadline(request.received, true))
        }
        Change::Done(outcome) => {
            let outcome = recorded_text("outcome", &outcome)?;
            close(&mut request, RequestState::Done, &outcome, now);
            format!("done: {outcome}")
        }
        Change::Refuse(reason) => {
            let reason = recorded_text("reason", &reason)?;
            close(&mut request, RequestState::Refused, &reason, now);
            format!("refused: {reason}")
        }
        Change::Started(action) => format!("{action} started"),
    };
    request.history.push(RequestEvent { at: now.rfc3339(), by: by.to_owned(), what });
    request.version += 1;
    if !store.save_request(&request).await? {
        return Err(RequestError::Stale);
    }
    Ok(request)
}

fn close(request: &mut PrivacyRequest, state: RequestState, outcome: &str, now: crate::time::Timestamp) {
    request.state = state;
    request.outcome = Some(outcome.to_owned());
    request.closed = Some(now.date());
    if request.kind == RequestKind::Erasure && state == RequestState::Done {
        // What was erased is not kept here either: the dates and the outcome prove the answer.
        // What the team wrote along the way (a note, a reason) may name them: each step keeps
        // what it was, and when, not the words.
        request.email = None;
        request.profile = None;
        for event in &mut request.history {
            if let Some((what, _)) = event.what.split_once(':') {
                event.what = what.to_owned();
            }
        }
    }
}

/// One line of the yearly report: one kind of request, or (`kind` none) all of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportLine {
    pub kind: Option<RequestKind>,
    pub received: usize,
    pub done: usize,
    pub refused: usize,
    pub open: usize,
    /// The median days from receipt to answer of those answered; none when none was.
    pub median_days_to_answer: Option<f64>,
}

impl ReportLine {
    fn of(kind: Option<RequestKind>, requests: &[&PrivacyRequest]) -> Self {
        let count = |state: RequestState| requests.iter().filter(|r| r.state == state).count();
        let mut days: Vec<i64> = requests.iter().filter_map(|r| r.days_to_answer()).collect();
        days.sort_unstable();
        let median_days_to_answer = match days.len() {
            0 => None,
            n if n % 2 == 1 => Some(days[n / 2] as f64),
            n => Some((days[n / 2 - 1] + days[n / 2]) as f64 / 2.0),
        };
        let (done, refused) = (count(RequestState::Done), count(RequestState::Refused));
        Self {
            kind,
            received: requests.len(),
            done,
            refused,
            open: requests.len() - done - refused,
            median_days_to_answer,
        }
    }
}

/// The year's requests (received in `year`) by kind and outcome, as the CCPA's record-keeping
/// (Cal. Code Regs. tit. 11, § 7102) asks: how many were received, complied with, denied, and
/// the median days to answer; a line per kind, then one for all.
pub fn yearly_report(requests: &[PrivacyRequest], year: i32) -> Vec<ReportLine> {
    let of_year: Vec<&PrivacyRequest> = requests.iter().filter(|r| r.received.year() == year).collect();
    let mut lines: Vec<ReportLine> = RequestKind::ALL
        .into_iter()
        .map(|kind| {
            let of_kind: Vec<&PrivacyRequest> = of_year.iter().copied().filter(|r| r.kind == kind).collect();
            ReportLine::of(Some(kind), &of_kind)
        })
        .collect();
    lines.push(ReportLine::of(None, &of_year));
    lines
}

/// The yearly report as CSV.
pub fn report_csv(lines: &[ReportLine], year: i32) -> String {
    let mut out = String::from("year,kind,received,complied,refused,still_open,median_days_to_answer\r\n");
    for line in lines {
        out.push_str(&format!(
            "{year},{},{},{},{},{},{}\r\n",
            line.kind.map_or("all", RequestKind::slug),
            line.received,
            line.done,
            line.refused,
            line.open,
            line.median_days_to_answer.map(|m| format!("{m:.1}")).unwrap_or_default()
        ));
    }
    out
}

/// Every request of the year with its dates, for the regulator: one line each.
pub fn year_csv(requests: &[PrivacyRequest], year: i32) -> String {
    let mut out = String::from(
        "id,kind,channel,law,received,deadline,extended,state,answered,days_to_answer,verified\r\n",
    );
    for r in requests.iter().filter(|r| r.received.year() == year) {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\r\n",
            r.id,
            r.kind.slug(),
            match r.channel {
                Channel::SelfService => "self-service",
                Channel::Mail => "mail",
            },
            r.law.slug(),
            r.received,
            r.deadline(),
            r.extension_reason.is_some(),
            r.state.slug(),
            r.closed.map(|d| d.to_string()).unwrap_or_default(),
            r.days_to_answer().map(|d| d.to_string()).unwrap_or_default(),
            r.verified
        ));
    }
    out
}

/// What the daily digest says: the requests overdue and those due within a week.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digest {
    pub overdue: Vec<(String, RequestKind, Date)>,
    pub due_soon: Vec<(String, RequestKind, Date)>,
}

pub fn digest(requests: &[PrivacyRequest], today: Date) -> Digest {
    let mut sorted = requests.to_vec();
    by_urgency(&mut sorted, today);
    let mut digest = Digest::default();
    for request in sorted {
        let line = (request.id.clone(), request.kind, request.deadline());
        match request.urgency(today) {
            Urgency::Overdue => digest.overdue.push(line),
            Urgency::DueSoon => digest.due_soon.push(line),
            _ => {}
        }
    }
    digest
}

/// Mails the privacy team the requests overdue or due within a week (once a day: the message's
/// id is the day's), and says how many there are, for the alarm. Nothing is sent when none is.
pub async fn send_digest<S: RequestStore + crate::domain::mail::outbox::OutboxStore>(
    store: &S,
    links: &crate::config::MailLinks,
    to: &str,
    now: crate::time::Timestamp,
) -> Result<Digest, StoreError> {
    let today = now.date();
    let digest = digest(&store.requests().await?, today);
    if digest.overdue.is_empty() && digest.due_soon.is_empty() {
        return Ok(digest);
    }
    let lines = |requests: &[(String, RequestKind, Date)]| -> Vec<serde_json::Value> {
        requests
            .iter()
            .map(|(id, kind, deadline)| {
                serde_json::json!({"id": id, "kind": kind.label(), "deadline": deadline.to_string()})
            })
            .collect()
    };
    let message = crate::domain::mail::outbox::OutboxMessage::transactional(
        links,
        format!("request-digest-{today}"),
        to,
        // Mail about no one person: the outbox needs an id, and no person has this one.
        &ProfileId::from_stored("staff-digest".to_owned()),
        format!(
            "Data-protection requests: {} overdue, {} due within a week",
            digest.overdue.len(),
            digest.due_soon.len()
        ),
        "request_digest",
        serde_json::json!({
            "today": today.to_string(),
            "overdue": lines(&digest.overdue),
            "due_soon": lines(&digest.due_soon),
            "console_url": format!("{}/console/requests", links.public_api_url.trim_end_matches('/')),
        }),
    );
    store.enqueue(&message, now.epoch_seconds()).await?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_gdpr_month_ends_on_the_same_date_or_the_months_last_day_and_never_on_a_weekend() {
        // 2027-01-15 + 1 month = 2027-02-15, a Monday.
        assert_eq!(Law::Gdpr.deadline(date!(2027 - 01 - 15), false), date!(2027 - 02 - 15));
        // 2027-01-31: February has no 31st; its last day, the 28th, is a Sunday: Monday 1 March.
        assert_eq!(Law::Gdpr.deadline(date!(2027 - 01 - 31), false), date!(2027 - 03 - 01));
        // A leap year: 2028-01-31 ends on Tuesday 29 February.
        assert_eq!(Law::Gdpr.deadline(date!(2028 - 01 - 31), false), date!(2028 - 02 - 29));
        // Across the year's end, extended: 2026-11-30 + 3 months = 2027-02-28 (Sunday) → 1 March.
        assert_eq!(Law::Gdpr.deadline(date!(2026 - 11 - 30), true), date!(2027 - 03 - 01));
        // 2026-12-07 + 1 month = 2027-01-07, a Thursday.
        assert_eq!(Law::Gdpr.deadline(date!(2026 - 12 - 07), false), date!(2027 - 01 - 07));
        // A Saturday deadline moves to Monday: 2027-03-13 is a Saturday.
        assert_eq!(Law::Gdpr.deadline(date!(2027 - 02 - 13), false), date!(2027 - 03 - 15));
    }

    #[test]
    fn a_ccpa_deadline_is_45_calendar_days_and_45_more_when_extended() {
        assert_eq!(Law::Ccpa.deadline(date!(2026 - 12 - 20), false), date!(2027 - 02 - 03));
        assert_eq!(Law::Ccpa.deadline(date!(2026 - 12 - 20), true), date!(2027 - 03 - 20));
    }

    #[test]
    fn a_californians_law_is_the_ccpa_everyone_elses_the_gdpr() {
        assert_eq!(Law::of_region(Some("US"), Some("US-CA")), Law::Ccpa);
        assert_eq!(Law::of_region(Some("US"), Some("US-NY")), Law::Gdpr);
        assert_eq!(Law::of_region(Some("DE"), None), Law::Gdpr);
        assert_eq!(Law::of_region(None, None), Law::Gdpr);
    }

    #[test]
    fn ids_sort_by_day_and_are_checked() {
        let id = new_id(date!(2027 - 01 - 05));
        assert!(id.starts_with("req-20270105-"), "{id}");
        assert!(well_formed_id(&id));
        assert!(!well_formed_id("req-20270105-XYZ"));
        assert!(!well_formed_id("../etc/passwd"));
        assert!(!well_formed_id("req-1234567\u{e9}aaaaaaaaaaaa"), "not ASCII, and never a panic");
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let request = |days: i64| PrivacyRequest {
            id: new_id(date!(2027 - 01 - 01)),
            kind: RequestKind::Access,
            channel: Channel::Mail,
            law: Law::Gdpr,
            received: date!(2027 - 01 - 01),
            email: None,
            profile: None,
            verified: true,
            state: RequestState::Done,
            extension_reason: None,
            outcome: Some("sent".into()),
            closed: Some(date!(2027 - 01 - 01) + Duration::days(days)),
            history: vec![],
            version: 2,
        };
        let lines = yearly_report(&[request(2), request(10), request(4), request(30)], 2027);
        assert_eq!(lines[0].received, 4);
        assert_eq!(lines[0].median_days_to_answer, Some(7.0));
        assert_eq!(yearly_report(&[request(2)], 2026)[0].received, 0);
    }
}
