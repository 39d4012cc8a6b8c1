//! Website URLs: `http`/`https` only, a host name with a dot (or an IPv4 address), an optional
//! port, and a path/query/fragment without spaces. No regex and no IDNA tables: internationalized
//! host names must be given in punycode (`xn--…`). See docs/decisions.md.

pub const MAX_LEN: usize = 2048;

/// `acme.com` → `https://acme.com`; the scheme and host are lower-cased and trailing slashes of
/// the path are dropped. Anything is accepted here; [`is_valid`] judges the result.
pub fn normalize(input: &str) -> String {
    // Dropping trailing slashes can expose trailing whitespace (`host \r\n//`), and trimming it
    // more slashes: repeat until nothing changes, so normalizing is idempotent. Each pass only
    // removes characters after the first, so this ends (found by the `normalize` fuzz target).
    let mut out = normalize_once(input);
    loop {
        let again = normalize_once(&out);
        if again == out {
            return out;
        }
        out = again;
    }
}

fn normalize_once(input: &str) -> String {
    let t = crate::text::nfc(input.trim());
    if t.is_empty() {
        return t;
    }
    let separator = t.as_bytes().windows(3).position(|w| w == b"://");
    let (scheme, rest) = match separator.map(|i| (&t[..i], &t[i + 3..])) {
        Some((s, rest)) if is_scheme(s) => (s.to_ascii_lowercase(), rest),
        _ => ("https".to_owned(), t.as_str()),
    };
    let authority_end = crate::text::find_ascii(rest, b"/?#").unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let path_end = crate::text::find_ascii(tail, b"?#").unwrap_or(tail.len());
    let (path, suffix) = tail.split_at(path_end);
    let mut out = String::with_capacity(t.len() + 8);
    out.push_str(&scheme);
    out.push_str("://");
    match authority.rsplit_once('@') {
        Some((user, host)) => {
            out.push_str(user);
            out.push('@');
            out.push_str(&host.to_ascii_lowercase());
        }
        None => out.push_str(&authority.to_ascii_lowercase()),
    }
    out.push_str(path.trim_end_matches('/'));
    out.push_str(suffix);
    out
}

fn is_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.')
}

/// Judges a normalized URL (see [`normalize`]).
pub fn is_valid(url: &str) -> bool {
    if url.len() > MAX_LEN || url.chars().any(is_refused_char) {
        return false;
    }
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        r
    } else {
        return false;
    };
    let authority_end = crate::text::find_ascii(rest, b"/?#").unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    if authority.as_bytes().contains(&b'@') {
        return false;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(p) = port {
        let ok = !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|c| c.is_ascii_digit())
            && crate::text::small_number(p) <= 65_535;
        if !ok {
            return false;
        }
    }
    (crate::email::is_domain(host) || is_ipv4(host)) && has_valid_escapes(tail)
}

/// Whitespace, control characters and the ASCII characters RFC 3986 never allows unescaped.
fn is_refused_char(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}')
}

fn has_valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

fn is_ipv4(host: &str) -> bool {
    let mut count = 0;
    for p in host.split('.') {
        count += 1;
        let octet = !p.is_empty()
            && p.len() <= 3
            && p.bytes().all(|c| c.is_ascii_digit())
            && (p.len() == 1 || !p.starts_with('0'))
            && crate::text::small_number(p) <= 255;
        if !octet {
            return false;
        }
    }
    count == 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_is_idempotent_when_slashes_hide_whitespace() {
        for input in [
            "Caaa*aaa\r\n/////",
            "acme.com/a \r\n//",
            "acme.com/a/ \t/ //",
        ] {
            let once = normalize(input);
            assert_eq!(normalize(&once), once, "{input:?}");
        }
        assert_eq!(normalize("acme.com/a/ \t/ //"), "https://acme.com/a");
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize("acme.com"), "https://acme.com");
        assert_eq!(
            normalize("  HTTP://WWW.Acme.COM/About/ "),
            "http://www.acme.com/About"
        );
        assert_eq!(normalize("https://acme.com/?q=1"), "https://acme.com?q=1");
        assert_eq!(normalize("https://acme.com//"), "https://acme.com");
        for s in [
            "acme.com",
            "HTTP://A.COM/x/",
            "ftp://a.com/",
            "//a.com",
            "a.com:80/x?y#z",
        ] {
            let once = normalize(s);
            assert_eq!(normalize(&once), once, "{s}");
        }
    }

    #[test]
    fn judges() {
        for ok in [
            "https://acme.com",
            "http://a.b-c.de/x_(y)?q=%20#f",
            "https://142.42.1.1:8080",
            "https://xn--d1acpjx3f.xn--p1ai",
        ] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "ftp://acme.com",
            "https://acme",
            "https://acme..com",
            "https://a.com/a b",
            "https://u:p@acme.com",
            "https://acme.com:99999",
            "https://acme.com:",
            "https://-a.com",
            "https://1.2.3",
            "https://256.1.1.1",
            "https://a.com/%zz",
            "https://a.com/%2",
            "https://ejemplo.españa",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
