//! Look-ups in the embedded reference data: ISO 3166-1 countries and IANA time zones
//! (generated from Debian's iso-codes and tzdata; see docs/reference-data.md).

use crate::context::Locale;
use crate::data::{countries::COUNTRIES, timezones::TIMEZONES};

pub use crate::data::timezones::TZDATA_VERSION;

/// A known alpha-2 code (already upper-case).
pub fn is_country(code: &str) -> bool {
    COUNTRIES
        .binary_search_by(|(c, _, _)| (*c).cmp(code))
        .is_ok()
}

pub fn country_name(code: &str, locale: Locale) -> Option<&'static str> {
    let i = COUNTRIES
        .binary_search_by(|(c, _, _)| (*c).cmp(code))
        .ok()?;
    let (_, en, es) = COUNTRIES[i];
    Some(match locale {
        Locale::Es => es,
        Locale::En => en,
    })
}

pub fn countries() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    COUNTRIES.iter().copied()
}

/// The canonical spelling of a tz database name, matched case-insensitively.
pub fn canonical_timezone(name: &str) -> Option<&'static str> {
    if !name.is_ascii() {
        return None;
    }
    let key = name.as_bytes();
    TIMEZONES
        .binary_search_by(|tz| {
            let a = tz.bytes().map(|b| b.to_ascii_lowercase());
            let b = key.iter().map(|b| b.to_ascii_lowercase());
            a.cmp(b)
        })
        .ok()
        .map(|i| TIMEZONES[i])
}

pub fn timezones() -> &'static [&'static str] {
    TIMEZONES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(TIMEZONES
            .windows(2)
            .all(|w| w[0].to_ascii_lowercase() < w[1].to_ascii_lowercase()));
    }

    #[test]
    fn lookups() {
        assert!(is_country("MX") && !is_country("XX") && !is_country("mx"));
        assert_eq!(country_name("ES", Locale::Es), Some("España"));
        assert_eq!(
            canonical_timezone("america/mexico_city"),
            Some("America/Mexico_City")
        );
        assert_eq!(canonical_timezone("UTC"), Some("UTC"));
        assert_eq!(canonical_timezone("Mars/Olympus"), None);
    }
}
