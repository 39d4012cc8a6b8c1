//! Look-ups in the embedded reference data: ISO 3166-1 countries and IANA time zones
//! (generated from Debian's iso-codes and tzdata; see docs/reference-data.md). The tables are
//! single strings, indexed here.

use crate::context::Locale;
use crate::data::{countries, timezones};
use std::sync::OnceLock;

pub use crate::data::timezones::TZDATA_VERSION;

fn country_index(code: &str) -> Option<usize> {
    if code.len() != 2 {
        return None;
    }
    let codes = countries::CODES.as_bytes();
    let (mut lo, mut hi) = (0, codes.len() / 2);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match codes[2 * mid..2 * mid + 2].cmp(code.as_bytes()) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}

/// A known alpha-2 code (already upper-case).
pub fn is_country(code: &str) -> bool {
    country_index(code).is_some()
}

pub fn country_name(code: &str, locale: Locale) -> Option<&'static str> {
    let (_, en, es) = countries().nth(country_index(code)?)?;
    Some(if locale == Locale::Es { es } else { en })
}

/// (code, English name, Spanish name), sorted by code.
pub fn countries() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    let codes = countries::CODES;
    countries::NAMES
        .split_terminator('\n')
        .enumerate()
        .map(move |(i, line)| {
            let (en, es) = line.split_once('\t').unwrap_or((line, line));
            (&codes[2 * i..2 * i + 2], en, es)
        })
}

/// The names as a slice, decoded once from the table's runs of one directory each.
fn timezone_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Vec::new();
        for run in timezones::NAMES.split_terminator('\n') {
            // The last parts hold no `/`: the directory ends at the run's last one.
            let end = run.bytes().rposition(|b| b == b'/').map_or(0, |i| i + 1);
            let (directory, parts) = run.split_at(end);
            for part in parts.split(',') {
                names.push([directory, part].concat());
            }
        }
        names
    })
}

/// The canonical spelling of a tz database name, matched case-insensitively.
pub fn canonical_timezone(name: &str) -> Option<&'static str> {
    if !name.is_ascii() {
        return None;
    }
    let names = timezone_names();
    let (mut lo, mut hi) = (0, names.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let candidate = names[mid].as_str();
        match cmp_ignoring_ascii_case(candidate, name) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(candidate),
        }
    }
    None
}

/// `a` and `b` compared byte by byte with ASCII letters folded to lower case (as comparing their
/// `to_ascii_lowercase()` forms, without building them).
fn cmp_ignoring_ascii_case(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    for i in 0..a.len().min(b.len()) {
        let (x, y) = (a[i].to_ascii_lowercase(), b[i].to_ascii_lowercase());
        if x != y {
            return x.cmp(&y);
        }
    }
    a.len().cmp(&b.len())
}

/// Every name, in the order of the table.
pub fn timezones() -> impl Iterator<Item = &'static str> {
    timezone_names().iter().map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        let codes: Vec<_> = countries().map(|c| c.0).collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        let zones: Vec<_> = timezones().collect();
        assert!(zones.len() > 500);
        assert!(zones
            .windows(2)
            .all(|w| w[0].to_ascii_lowercase() < w[1].to_ascii_lowercase()));
    }

    #[test]
    fn lookups() {
        assert!(
            is_country("MX")
                && is_country("AD")
                && is_country("ZW")
                && !is_country("XX")
                && !is_country("mx")
        );
        assert_eq!(country_name("ES", Locale::Es), Some("España"));
        assert_eq!(country_name("ES", Locale::En), Some("Spain"));
        assert_eq!(
            canonical_timezone("america/mexico_city"),
            Some("America/Mexico_City")
        );
        assert_eq!(canonical_timezone("UTC"), Some("UTC"));
        assert_eq!(canonical_timezone("Africa/Abidjan"), Some("Africa/Abidjan"));
        assert_eq!(canonical_timezone("Mars/Olympus"), None);
    }
}
