//! The teams' side: what came in on a form, an event's attendees with their payment state, a
//! job's applicants with their CV's verdict. Read by `steward-admin` (and written out as a table,
//! CSV or JSON); each listing is recorded in the audit log by its caller.

use std::collections::BTreeMap;
use std::future::Future;

use serde::Serialize;

use crate::domain::ids::FormId;
use crate::domain::ports::StoreError;

/// One submission as a team reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxRow {
    pub submission_id: String,
    pub person_id: String,
    pub form: String,
    pub received_at: String,
    /// The fields as stored (a list, such as interests, joined with commas).
    pub fields: BTreeMap<String, String>,
    /// A registration's payment state (`succeeded`, `pending`, ...), if it started paying.
    pub payment: Option<String>,
    /// An application's CV verdict (`verified`, `rejected`, `waiting`), if it is an application.
    pub cv: Option<String>,
    /// A verified CV's object, for a short-lived link to it.
    #[serde(skip)]
    pub cv_file: Option<VerifiedCv>,
    /// Its person restricted the use of their data: kept, and shown to no team.
    #[serde(skip)]
    pub restricted: bool,
    /// Its person objects to the use of their data on legitimate interests and for marketing.
    #[serde(skip)]
    pub objected: bool,
}

/// What a team may see of a listing: never a person who restricted the use of their data, and,
/// for marketing, never one who objects. Answers the rows, and how many were held back.
pub fn usable(rows: Vec<InboxRow>, for_marketing: bool) -> (Vec<InboxRow>, usize) {
    let before = rows.len();
    let kept: Vec<InboxRow> =
        rows.into_iter().filter(|row| !(row.restricted || (for_marketing && row.objected))).collect();
    let held_back = before - kept.len();
    (kept, held_back)
}

/// Where a verified CV is kept, and the name it was uploaded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCv {
    pub key: String,
    pub version_id: Option<String>,
    pub file_name: String,
}

pub trait InboxStore {
    /// Every live submission of the form, newest first. `progress` hears how many items were read
    /// so far (the listing reads the table page by page).
    fn submissions_of(
        &self,
        form: &FormId,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> impl Future<Output = Result<Vec<InboxRow>, StoreError>> + Send;
}

/// The standard fields first, in the order forms ask for them; then the form's own.
const STANDARD: [&str; 9] =
    ["name", "email", "phone", "job_title", "company", "country", "state", "interests", "message"];

/// The fields of a listing in reading order: the standard ones as forms ask for them, then the
/// form's own, and a long message last.
pub fn field_order(rows: &[InboxRow]) -> Vec<String> {
    let mut order: Vec<String> = STANDARD.iter().map(|f| (*f).to_owned()).collect();
    let mut own: Vec<String> = rows
        .iter()
        .flat_map(|row| row.fields.keys())
        .filter(|name| !STANDARD.contains(&name.as_str()))
        .cloned()
        .collect();
    own.sort();
    own.dedup();
    let message = order.pop();
    order.extend(own);
    order.extend(message);
    order
}

/// The columns of a listing: the row's own, then each field in the order the form lists them.
pub fn columns(rows: &[InboxRow], field_order: &[String]) -> Vec<String> {
    let mut columns: Vec<String> =
        ["received_at", "submission_id", "person_id"].iter().map(|c| (*c).to_owned()).collect();
    for field in field_order {
        if rows.iter().any(|row| row.fields.contains_key(field)) {
            columns.push(field.clone());
        }
    }
    if rows.iter().any(|row| row.payment.is_some()) {
        columns.push("payment".into());
    }
    if rows.iter().any(|row| row.cv.is_some()) {
        columns.push("cv".into());
    }
    columns
}

/// One row's value of a column.
pub fn cell<'a>(row: &'a InboxRow, column: &str) -> &'a str {
    match column {
        "received_at" => &row.received_at,
        "submission_id" => &row.submission_id,
        "person_id" => &row.person_id,
        "payment" => row.payment.as_deref().unwrap_or(""),
        "cv" => row.cv.as_deref().unwrap_or(""),
        field => row.fields.get(field).map_or("", String::as_str),
    }
}

/// A listing as CSV that is safe to open: every cell a spreadsheet would run as a formula (a name
/// or message typed as `=HYPERLINK(...)`) is made text ([`crate::domain::privacy::export::safe_cell`]).
pub fn to_csv(rows: &[InboxRow], columns: &[String], extra: &[(&str, Vec<String>)]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> =
        columns.iter().map(String::as_str).chain(extra.iter().map(|(name, _)| *name)).collect();
    let _ = writer.write_record(&header);
    for (n, row) in rows.iter().enumerate() {
        let cells = columns
            .iter()
            .map(|column| cell(row, column))
            .chain(extra.iter().map(|(_, values)| values.get(n).map_or("", String::as_str)))
            .map(crate::domain::privacy::export::safe_cell);
        let cells: Vec<String> = cells.map(|c| c.into_owned()).collect();
        let _ = writer.write_record(&cells);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_team_sees_a_restricted_person_and_marketing_no_objecting_one() {
        let row = |id: &str, restricted: bool, objected: bool| InboxRow {
            submission_id: id.into(),
            person_id: id.into(),
            form: "newsletter".into(),
            received_at: "2026-12-07T10:00:00Z".into(),
            fields: BTreeMap::new(),
            payment: None,
            cv: None,
            cv_file: None,
            restricted,
            objected,
        };
        let rows =
            || vec![row("free", false, false), row("restricted", true, false), row("objects", false, true)];
        let (sales, held) = usable(rows(), false);
        assert_eq!(sales.iter().map(|r| r.submission_id.as_str()).collect::<Vec<_>>(), ["free", "objects"]);
        assert_eq!(held, 1);
        let (marketing, held) = usable(rows(), true);
        assert_eq!(marketing.iter().map(|r| r.submission_id.as_str()).collect::<Vec<_>>(), ["free"]);
        assert_eq!(held, 2);
    }

    #[test]
    fn a_listing_in_csv_runs_nothing_in_a_spreadsheet_and_keeps_every_value_in_its_cell() {
        let row = InboxRow {
            submission_id: "s1".into(),
            person_id: "p1".into(),
            form: "contact-us".into(),
            received_at: "2026-12-07T10:00:00Z".into(),
            fields: BTreeMap::from([
                ("name".to_owned(), "=HYPERLINK(\"https://evil.example\",\"click\")".to_owned()),
                ("message".to_owned(), "Hello, \"you\"\nsecond line".to_owned()),
                ("phone".to_owned(), "+442079460958".to_owned()),
            ]),
            payment: Some("succeeded".into()),
            cv: None,
            cv_file: None,
            restricted: false,
            objected: false,
        };
        let columns = columns(std::slice::from_ref(&row), &["name".into(), "phone".into(), "message".into()]);
        assert_eq!(
            columns,
            ["received_at", "submission_id", "person_id", "name", "phone", "message", "payment"]
        );
        let csv = to_csv(&[row], &columns, &[("cv_link", vec!["https://x.example/cv".into()])]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[3], "'=HYPERLINK(\"https://evil.example\",\"click\")");
        assert_eq!(&record[4], "'+442079460958");
        assert_eq!(&record[5], "Hello, \"you\"\nsecond line");
        assert_eq!(&record[7], "https://x.example/cv");
    }
}
