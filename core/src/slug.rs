//! The organization slug: lower-case ASCII, Latin diacritics transliterated by a generated table,
//! every other run of non-alphanumerics turned into one `-`, at most 60 characters, `org` if
//! nothing is left. The server alone appends `-2`, `-3`… when a slug is taken.

use crate::data::translit::LATIN_TRANSLIT;

pub const MAX_LEN: usize = 60;
pub const FALLBACK: &str = "org";

/// The ASCII transliteration of a Latin letter with a diacritic (a two-byte slot per code point).
fn transliteration(c: char) -> Option<&'static str> {
    let cp = u32::from(c);
    let (first, slots) = LATIN_TRANSLIT
        .iter()
        .rev()
        .find(|&&(first, _)| first <= cp)?;
    let i = usize::try_from(cp - first).ok()? * 2;
    let t = slots.get(i..i + 2)?.trim_end();
    (!t.is_empty()).then_some(t)
}

pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(MAX_LEN + 4));
    let mut pending_dash = false;
    for c in crate::text::nfc(name).chars() {
        if out.len() > MAX_LEN {
            break;
        }
        let mut ascii = [0; 4];
        let piece: &str = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase().encode_utf8(&mut ascii)
        } else if let Some(t) = transliteration(c) {
            t
        } else {
            pending_dash = true;
            continue;
        };
        if pending_dash && !out.is_empty() {
            out.push('-');
        }
        pending_dash = false;
        out.push_str(piece);
    }
    out.truncate(MAX_LEN);
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        FALLBACK.to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// `^[a-z0-9]+(-[a-z0-9]+)*$`, at most [`MAX_LEN`] long.
pub fn is_valid(slug: &str) -> bool {
    slug.len() <= MAX_LEN
        && !slug.is_empty()
        && slug.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(slugify("Café Niño & Co."), "cafe-nino-co");
        assert_eq!(slugify("Straße Ærø Œuvre Çà"), "strasse-aero-oeuvre-ca");
        assert_eq!(slugify("東京"), "org");
        assert_eq!(slugify("---"), "org");
        assert_eq!(slugify("  ACME   Inc "), "acme-inc");
        assert_eq!(slugify("Cafe\u{0301}"), "cafe");
        let long = slugify(&"ab ".repeat(40));
        assert!(long.len() <= MAX_LEN && is_valid(&long), "{long}");
        assert!(is_valid(&slugify(&format!("{}ß", "a".repeat(59)))));
    }

    #[test]
    fn table_is_sorted_and_ascii() {
        assert!(LATIN_TRANSLIT.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(LATIN_TRANSLIT
            .iter()
            .all(|(_, t)| t.bytes().all(|b| b == b' ' || b.is_ascii_lowercase())));
        let mapped = (0..0x2000)
            .filter_map(char::from_u32)
            .filter_map(transliteration);
        assert_eq!(mapped.count(), 518);
        assert_eq!(transliteration('Þ'), Some("th"));
        assert_eq!(transliteration('ẞ'), None);
        assert_eq!(transliteration('ỳ'), Some("y"));
        assert_eq!(transliteration('ɐ'), None);
    }
}
