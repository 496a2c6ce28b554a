//! Validated values, each made once from raw input at the boundary. Holding one means it is valid.

use crate::domain::subdivisions;
use crate::t;
use serde::Serialize;

/// Why one field was refused: a stable machine code, the field's label and a sentence for people,
/// both in the request's language (`{label} {message}` reads as one: "Email is required").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub label: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), code, label: label(field), message: message.into() }
    }
}

/// Free text as the person typed it: surrounding white space trimmed, nothing else changed
/// (Unicode kept exactly), bounded in length, and free of control characters (line breaks are
/// allowed only where `multiline` says so).
pub fn text(field: &str, raw: &str, max_chars: usize, multiline: bool) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.chars().count() > max_chars {
        return Err(FieldError::new(field, "too_long", t!("error-too-long-chars", max = max_chars)));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| (c.is_control() && !allowed(c)) || is_invisible_format(c)) {
        return Err(FieldError::new(field, "control_characters", t!("error-control-characters")));
    }
    Ok(value.to_owned())
}

/// Bidirectional overrides and similar format characters that can disguise text; zero-width
/// joiners stay allowed because scripts and emoji need them.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// An email address, by one written rule (`docs/data-model.md`, "Addresses"):
/// - the part before the `@` is ASCII (SES cannot send to anything else, and Unicode case
///   folding would make two mailboxes one: the Kelvin sign folds to `k`); it is kept as typed and
///   compared in ASCII lower case;
/// - the domain goes through IDNA (UTS #46, STD3 rules) to its ASCII form, which is lower case
///   and what mail is sent to;
/// - no control, zero-width or direction-changing character anywhere, at most 254 characters,
///   an RFC 5322 addr-spec with a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email {
    as_typed: String,
    normalized: String,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new(field, "invalid_email", t!("error-invalid-email"));
        let value = raw.trim();
        if value.len() > Self::MAX_LEN {
            return Err(FieldError::new(field, "too_long", t!("error-email-too-long")));
        }
        if value.chars().any(|c| c.is_control() || is_invisible_format(c) || is_zero_width(c)) {
            return Err(invalid());
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        if !local.is_ascii() {
            return Err(FieldError::new(field, "unsupported_email", t!("error-unsupported-email")));
        }
        let domain = idna::domain_to_ascii_strict(domain).map_err(|_| invalid())?;
        let address = format!("{local}@{domain}");
        let options = email_address::Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            allow_long_local_parts: false,
        };
        if address.len() > Self::MAX_LEN
            || email_address::EmailAddress::parse_with_options(&address, options).is_err()
        {
            return Err(invalid());
        }
        let normalized = format!("{}@{domain}", local.to_ascii_lowercase());
        Ok(Self { as_typed: address, normalized })
    }

    /// The address as typed, with its domain in the ASCII form mail is sent to.
    pub fn as_str(&self) -> &str {
        &self.as_typed
    }

    /// The key that identifies a person: the address in ASCII lower case.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// The key of a stored address (one a profile or a mail notification holds), by the same rule
/// as [`Email::normalized`]; an address the rule refuses keys as its trimmed ASCII lower case, as
/// everything stored before the rule did.
pub fn address_key(stored: &str) -> String {
    Email::parse("email", stored).map_or_else(|_| stored.trim().to_ascii_lowercase(), |e| e.normalized)
}

/// Characters that show nothing: an address holding one looks like another address.
fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}')
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country(rust_iso3166::CountryCode);

impl Country {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 2 {
            if let Some(country) = rust_iso3166::from_alpha2(&code) {
                return Ok(Self(country));
            }
        }
        Err(FieldError::new(field, "invalid_country", t!("error-invalid-country")))
    }

    pub fn code(&self) -> &'static str {
        self.0.alpha2
    }

    /// Its English short name: `United Kingdom of Great Britain and Northern Ireland`.
    pub fn name(&self) -> &'static str {
        self.0.name
    }

    /// Its name in the request's language: `Deutschland` on a German page.
    pub fn name_here(&self) -> String {
        crate::i18n::Lang::current().catalogue(&format!("country-{}", self.code()), self.name())
    }

    pub fn has_subdivisions(&self) -> bool {
        subdivisions::first_of(self.code()).is_some()
    }
}

/// An ISO 3166-2 subdivision code (`US-CA`) belonging to a given country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State(&'static str);

impl State {
    /// Accepts the full code (`US-CA`) or the part after the hyphen (`CA`), in any case.
    pub fn parse(field: &str, raw: &str, country: Country) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        let full = if code.contains('-') { code } else { format!("{}-{code}", country.code()) };
        match subdivisions::find(&full) {
            Some((code, _)) if subdivisions::belongs_to(code, country.code()) => Ok(Self(code)),
            _ => Err(FieldError::new(
                field,
                "invalid_state",
                t!(
                    "error-invalid-state-of",
                    country = country.code(),
                    example = example_subdivision(country)
                ),
            )),
        }
    }

    pub fn code(&self) -> &'static str {
        self.0
    }

    /// Its name: `California`.
    pub fn name(&self) -> &'static str {
        subdivisions::find(self.0).map_or(self.0, |(_, name)| name)
    }
}

/// How pages and messages name a field: by the label people see on the forms (`job_title` is
/// "Job title", `interests` is "Topics"), never by its name in the API.
/// The fields whose labels are messages (`field-job-title`), in every language.
pub(crate) const KNOWN_LABELS: [&str; 28] = [
    "name",
    "email",
    "phone",
    "job_title",
    "company",
    "country",
    "state",
    "message",
    "interests",
    "event",
    "plan",
    "position",
    "product",
    "rating",
    "feedback",
    "cv",
    "to",
    "format",
    "purpose",
    "confirm",
    "token",
    "key",
    "content_type",
    "request",
    "submission",
    "link",
    "altcha",
    "id",
];

pub fn label(field: &str) -> String {
    // The standard fields' labels, in the request's language (the site's forms use the same).
    let id = match field {
        "full_name" => "field-name".to_owned(),
        "cvs" => "field-cv".to_owned(),
        known if KNOWN_LABELS.contains(&known) => format!("field-{}", known.replace('_', "-")),
        _ => String::new(),
    };
    let known = if id.is_empty() { String::new() } else { crate::i18n::Lang::current().text(&id, None) };
    if !known.is_empty() {
        return known;
    }
    let spaced = field.trim_start_matches('_').replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn example_subdivision(country: Country) -> &'static str {
    subdivisions::first_of(country.code()).unwrap_or("XX-YY")
}

/// A phone number in E.164 form (`+442071234567`). National numbers are read in the context of
/// the country given on the same form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(field: &str, raw: &str, country: Option<Country>) -> Result<Self, FieldError> {
        let value = raw.trim();
        let invalid = || FieldError::new(field, "invalid_phone", t!("error-invalid-phone"));
        if value.len() > 40 || value.chars().any(char::is_control) {
            return Err(invalid());
        }
        let region = country.and_then(|c| c.code().parse::<phonenumber::country::Id>().ok());
        let number = phonenumber::parse(region, value).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    pub fn as_e164(&self) -> &str {
        &self.0
    }
}

/// An address as a page shows whom it acts on, without handing it to whoever opens the page (a
/// link scanner, a forwarded mail): its first character and its domain, `a•••@example.com`.
pub fn masked_address(email: &str) -> Option<String> {
    let (local, domain) = email.split_once('@')?;
    let first: String = local.chars().take(1).collect();
    Some(format!("{first}•••@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every country a form accepts has its name in every language Steward ships.
    #[test]
    fn every_country_is_named_in_every_language() {
        use crate::i18n::Lang;
        for lang in Lang::ALL.into_iter().filter(|lang| *lang != Lang::En) {
            let missing: Vec<&str> = rust_iso3166::ALL_ALPHA2
                .iter()
                .copied()
                .filter(|code| !lang.has(&format!("country-{code}")))
                .collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?} (run tools/country_names.py)");
        }
        let germany = Country::parse("country", "DE").unwrap();
        assert_eq!(germany.name_here(), "Germany");
        assert_eq!(crate::i18n::within(Lang::De, || germany.name_here()), "Deutschland");
    }

    #[test]
    fn emails_keep_the_case_typed_before_the_at_but_key_in_lower_case() {
        let email = Email::parse("email", "  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace@example.com", "a domain has no case");
        assert_eq!(email.normalized(), "ada.lovelace@example.com");
    }

    #[test]
    fn addresses_are_one_person_by_one_written_rule() {
        // The Kelvin sign lower-cases to `k` in Unicode: two mailboxes would become one.
        let kelvin = Email::parse("email", "\u{212A}im@example.com").unwrap_err();
        assert_eq!(kelvin.code, "unsupported_email");
        assert_eq!(Email::parse("email", "jos\u{e9}@example.com").unwrap_err().code, "unsupported_email");
        // An internationalised domain is mailed in its ASCII form.
        let idn = Email::parse("email", "Ana@B\u{FC}cher.Example").unwrap();
        assert_eq!(idn.as_str(), "Ana@xn--bcher-kva.example");
        assert_eq!(idn.normalized(), "ana@xn--bcher-kva.example");
        assert_eq!(
            Email::parse("email", "ana@xn--bcher-kva.example").unwrap().normalized(),
            idn.normalized(),
            "typed either way, one person"
        );
        for disguised in [
            "an\u{200B}a@example.com",
            "ana@exa\u{200D}mple.com",
            "ana@example.com\u{202E}",
            "ana@exam_ple.com",
        ] {
            assert_eq!(Email::parse("email", disguised).unwrap_err().code, "invalid_email", "{disguised:?}");
        }
    }

    #[test]
    fn malformed_or_disguised_emails_are_refused() {
        for bad in [
            "",
            "plain",
            "a@b",
            "a@@example.com",
            "Ada <ada@example.com>",
            "a@[127.0.0.1]",
            "a\n@example.com",
            "a b@example.com",
        ] {
            assert_eq!(Email::parse("email", bad).unwrap_err().code, "invalid_email", "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse("email", &long).unwrap_err().code, "too_long");
    }

    #[test]
    fn phones_become_e164_using_the_form_country() {
        let gb = Country::parse("country", "gb").unwrap();
        assert_eq!(
            PhoneNumber::parse("phone", "020 7946 0958", Some(gb)).unwrap().as_e164(),
            "+442079460958"
        );
        assert_eq!(PhoneNumber::parse("phone", "+1 (415) 555-2671", None).unwrap().as_e164(), "+14155552671");
        assert_eq!(PhoneNumber::parse("phone", "12345", None).unwrap_err().code, "invalid_phone");
        assert_eq!(PhoneNumber::parse("phone", "not a phone", Some(gb)).unwrap_err().code, "invalid_phone");
    }

    #[test]
    fn countries_and_states_follow_iso_3166() {
        let us = Country::parse("country", "us").unwrap();
        assert_eq!(us.code(), "US");
        assert!(us.has_subdivisions());
        assert_eq!(State::parse("state", "ca", us).unwrap().code(), "US-CA");
        assert_eq!(State::parse("state", "US-NY", us).unwrap().code(), "US-NY");
        assert_eq!(State::parse("state", "GB-LND", us).unwrap_err().code, "invalid_state");
        assert_eq!(State::parse("state", "ZZ", us).unwrap_err().code, "invalid_state");
        for bad in ["XX", "USA", "U", "", "1"] {
            assert_eq!(Country::parse("country", bad).unwrap_err().code, "invalid_country", "{bad:?}");
        }
    }

    #[test]
    fn text_is_kept_as_typed_but_bounded_and_clean() {
        assert_eq!(text("name", "  Zoë Ñúñez 王小明 ", 200, false).unwrap(), "Zoë Ñúñez 王小明");
        assert_eq!(text("name", "a\u{0007}b", 200, false).unwrap_err().code, "control_characters");
        assert_eq!(text("name", "a\nb", 200, false).unwrap_err().code, "control_characters");
        assert_eq!(text("message", "line one\r\nline two", 200, true).unwrap(), "line one\r\nline two");
        assert_eq!(text("name", "evil\u{202E}txt", 200, false).unwrap_err().code, "control_characters");
        assert_eq!(text("name", &"é".repeat(201), 200, false).unwrap_err().code, "too_long");
        assert!(text("name", &"é".repeat(200), 200, false).is_ok());
    }
}
