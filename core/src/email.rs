//! E-mail addresses, checked by a small hand-written grammar instead of a regex (which would
//! not fit the browser bundle): the RFC 5321 dot-atom local part and an LDH host name with an
//! alphabetic (or punycode) top-level label. Quoted local parts, IP-literal domains and
//! non-ASCII addresses are refused; see docs/decisions.md.

pub const MAX_LEN: usize = 254;
const MAX_LOCAL: usize = 64;

/// Trimmed and lower-cased (the domain is case-insensitive; we also fold the local part,
/// as every mainstream provider does, so that duplicates are caught).
pub fn normalize(s: &str) -> String {
    // Only ASCII letters are folded: a non-ASCII address is invalid anyway, and full Unicode case
    // mapping tables would weigh on the browser bundle for nothing.
    crate::text::nfc(s.trim()).to_ascii_lowercase()
}

pub fn is_valid(addr: &str) -> bool {
    if addr.len() > MAX_LEN || !addr.is_ascii() {
        return false;
    }
    let Some((local, domain)) = addr.split_once('@') else {
        return false;
    };
    is_local_part(local) && is_domain(domain)
}

fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&c)
}

fn is_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext))
}

/// A host name of at least two labels: letters, digits and inner hyphens, each label at most
/// 63 long, the whole at most 253; the last label alphabetic (a TLD), or punycode (`xn--`).
pub fn is_domain(domain: &str) -> bool {
    if domain.is_empty() || domain.len() > 253 || !domain.is_ascii() {
        return false;
    }
    let (mut count, mut tld) = (0, "");
    for label in domain.split('.') {
        if !is_ldh_label(label) {
            return false;
        }
        (count, tld) = (count + 1, label);
    }
    if count < 2 {
        return false;
    }
    (tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic()))
        || (tld.len() > 4 && tld[..4].eq_ignore_ascii_case("xn--"))
}

fn is_ldh_label(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for a in [
            "ana@acme.com",
            "a.b+tag@sub.acme.co.uk",
            "x_y-z@a-b.io",
            "o'brien@acme.ie",
            "me@xn--80ak6aa92e.com",
        ] {
            assert!(is_valid(a), "{a}");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        let long_local = format!("{}@acme.com", "a".repeat(65));
        for a in [
            "",
            "ana",
            "ana@",
            "@acme.com",
            "ana@acme",
            "ana@@acme.com",
            "a b@acme.com",
            ".ana@acme.com",
            "ana.@acme.com",
            "a..b@acme.com",
            "ana@-acme.com",
            "ana@acme-.com",
            "ana@acme..com",
            "ana@127.0.0.1",
            "ana@[127.0.0.1]",
            "\"ana\"@acme.com",
            "añá@acme.com",
            "ana@acme.c",
            long_local.as_str(),
        ] {
            assert!(!is_valid(a), "{a}");
        }
    }
}
