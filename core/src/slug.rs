//! The organization slug: lower-case ASCII, Latin diacritics transliterated by a generated table,
//! every other run of non-alphanumerics turned into one `-`, at most 60 characters, `org` if
//! nothing is left. The server alone appends `-2`, `-3`… when a slug is taken.

use crate::data::translit::LATIN_TRANSLIT;

pub const MAX_LEN: usize = 60;
pub const FALLBACK: &str = "org";

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
        } else if let Ok(i) = LATIN_TRANSLIT.binary_search_by(|(k, _)| k.cmp(&c)) {
            LATIN_TRANSLIT[i].1
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
    fn table_is_sorted() {
        assert!(LATIN_TRANSLIT.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(LATIN_TRANSLIT.iter().all(|(_, t)| is_valid(t)));
    }
}
