//! ISO 3166-2 subdivisions (`US-CA` is California), as one sorted text of `code<TAB>name` lines.
//!
//! rust_iso3166 stays the source: a test below checks this table against it line by line, and
//! writes it again when told to (`STEWARD_WRITE_SUBDIVISIONS=1`), so an update of that crate
//! reaches the table in the same change. The binaries do not carry the crate's own tables: each of
//! its 5,000 subdivisions is a struct of six string references in two maps, and every reference
//! in a position-independent executable is a relocation that the loader applies at every cold
//! start: about 66,000 of them in each function that validates an address, measured
//! (BENCHMARKS.md, "Issue 24, measured").

use std::cmp::Ordering;

const TABLE: &str = include_str!("subdivisions.tsv");

/// The subdivision whose code is `code` (upper case, `US-CA`): its code and its English name.
pub fn find(code: &str) -> Option<(&'static str, &'static str)> {
    entry_at(lower_bound(code)).filter(|(found, _)| *found == code)
}

/// A subdivision of the country `alpha2` (its first by code), if the country has any.
pub fn first_of(alpha2: &str) -> Option<&'static str> {
    entry_at(lower_bound(&format!("{alpha2}-"))).map(|(code, _)| code).filter(|code| belongs_to(code, alpha2))
}

/// Whether the subdivision `code` is one of the country `alpha2`'s: ISO 3166-2 writes each code
/// under its country's (`US-CA`).
pub fn belongs_to(code: &str, alpha2: &str) -> bool {
    code.split_once('-').is_some_and(|(country, _)| country == alpha2)
}

/// The byte offset of the first line whose code is not less than `key` (the table's length if
/// none is). Each step reads the line around the middle, so nothing is parsed ahead of time.
fn lower_bound(key: &str) -> usize {
    let bytes = TABLE.as_bytes();
    // Both bounds are always at the start of a line (or the end of the table).
    let (mut low, mut high) = (0, bytes.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let start = bytes[..middle].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let end = bytes[start..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| start + i);
        match code_of(&TABLE[start..end]).cmp(key) {
            Ordering::Less => low = (end + 1).min(bytes.len()),
            Ordering::Equal | Ordering::Greater => high = start,
        }
    }
    low
}

fn code_of(line: &str) -> &str {
    line.split_once('\t').map_or(line, |(code, _)| code)
}

fn entry_at(offset: usize) -> Option<(&'static str, &'static str)> {
    let rest = TABLE.get(offset..)?;
    rest.split('\n').next().and_then(|line| line.split_once('\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table is rust_iso3166's subdivisions, each once, sorted by code; with
    /// `STEWARD_WRITE_SUBDIVISIONS=1` this test writes it from the crate first.
    #[test]
    fn the_table_is_rust_iso3166s() {
        let mut lines: Vec<String> = rust_iso3166::iso3166_2::SUBDIVISION_MAP
            .entries()
            .map(|(code, subdivision)| {
                assert_eq!(*code, subdivision.code);
                assert!(
                    belongs_to(code, subdivision.country_code),
                    "{code} is written under its country's code"
                );
                assert!(!subdivision.name.contains(['\t', '\n']), "{code}'s name fits on one line");
                format!("{code}\t{}\n", subdivision.name)
            })
            .collect();
        lines.sort();
        let expected = lines.concat();
        if std::env::var_os("STEWARD_WRITE_SUBDIVISIONS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/domain/subdivisions.tsv");
            std::fs::write(path, &expected).expect("the table written");
            return;
        }
        assert!(
            TABLE == expected,
            "the table is not rust_iso3166's: run STEWARD_WRITE_SUBDIVISIONS=1 cargo test"
        );
    }

    #[test]
    fn every_subdivision_is_found_by_its_code_and_nothing_else_is() {
        for (code, subdivision) in rust_iso3166::iso3166_2::SUBDIVISION_MAP.entries() {
            assert_eq!(find(code), Some((subdivision.code, subdivision.name)));
        }
        for absent in ["", "-", "US", "US-", "US-ZZ", "ZZ-CA", "us-ca", "\u{10FFFF}", "US-CA\tCalifornia"] {
            assert_eq!(find(absent), None, "{absent:?}");
        }
        assert_eq!(find("US-CA"), Some(("US-CA", "California")));
        assert_eq!(find("GB-EDH"), Some(("GB-EDH", "Edinburgh, City of")));
    }

    #[test]
    fn a_country_has_subdivisions_exactly_when_the_crate_gives_it_some() {
        for country in rust_iso3166::ALL {
            let theirs = country.subdivisions().unwrap_or_default();
            let first = theirs.iter().map(|s| s.code).min();
            assert_eq!(first_of(country.alpha2), first, "{}", country.alpha2);
        }
        assert_eq!(first_of("ZZ"), None);
        assert_eq!(first_of(""), None);
    }
}
