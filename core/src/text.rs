//! Text normalization (NFC, whitespace, line endings) and the character classes the rules use.
//! Lengths everywhere are counts of Unicode scalar values of the normalized text.

pub use crate::nfc::nfc;

/// Whether [`single_line`] would return `s` unchanged, decided cheaply for plain ASCII text
/// (the common case), so that callers can skip the copy.
pub fn is_single_line_normal(s: &str) -> bool {
    let b = s.as_bytes();
    s.is_ascii()
        && !b.first().is_some_and(|c| c.is_ascii_whitespace())
        && !b.last().is_some_and(|c| c.is_ascii_whitespace())
        && !b.windows(2).any(|w| w[0] == b' ' && w[1] == b' ')
        && !b
            .iter()
            .any(|&c| c.is_ascii_whitespace() && c != b' ' || c == 0x0b)
}

/// Whether [`multiline`] would return `s` unchanged (plain ASCII text only).
pub fn is_multiline_normal(s: &str) -> bool {
    let b = s.as_bytes();
    s.is_ascii()
        && !b.contains(&b'\r')
        && !b
            .first()
            .is_some_and(|c| c.is_ascii_whitespace() || *c == 0x0b)
        && !b
            .last()
            .is_some_and(|c| c.is_ascii_whitespace() || *c == 0x0b)
}

/// Single-line text: NFC, trimmed, every run of whitespace (tabs and line breaks included)
/// collapsed to one space. Control characters other than whitespace are kept, so that
/// validation can report them instead of silently dropping them.
pub fn single_line(s: &str) -> String {
    let composed = nfc(s);
    let mut out = String::with_capacity(composed.len());
    let mut pending_space = false;
    for c in composed.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Multi-line text: NFC, CRLF and lone CR turned into LF, trimmed at both ends.
pub fn multiline(s: &str) -> String {
    let composed = nfc(s);
    // CRLF → LF, then lone CR → LF.
    let unified = if composed.contains('\r') {
        let mut out = String::with_capacity(composed.len());
        let mut chars = composed.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\r' {
                chars.next_if_eq(&'\n');
                out.push('\n');
            } else {
                out.push(c);
            }
        }
        out
    } else {
        composed
    };
    let trimmed = unified.trim();
    if trimmed.len() == unified.len() {
        unified
    } else {
        trimmed.to_owned()
    }
}

/// Control characters are refused in every text field; multi-line text may keep `\n` and `\t`.
pub fn is_forbidden_control(c: char, multiline: bool) -> bool {
    c.is_control() && !(multiline && (c == '\n' || c == '\t'))
}

/// A letter of any script, including the combining marks some scripts write letters with.
pub fn is_letter(c: char) -> bool {
    c.is_alphabetic() || crate::nfc::is_combining_mark(c)
}

pub fn is_letter_or_digit(c: char) -> bool {
    is_letter(c) || c.is_numeric()
}

/// The value of up to 9 ASCII digits, which the caller has checked (dates, ports, IPv4 octets).
pub fn small_number(digits: &str) -> u32 {
    let mut n: u32 = 0;
    for c in digits.bytes().take(9) {
        n = n * 10 + u32::from(c.wrapping_sub(b'0') % 10);
    }
    n
}

/// The index of the first byte of `s` that is in `set` (ASCII delimiters).
pub fn find_ascii(s: &str, set: &[u8]) -> Option<usize> {
    s.bytes().position(|b| set.contains(&b))
}

/// `s` without one leading `+` or `-`.
pub fn strip_sign(s: &str) -> &str {
    match s.as_bytes().first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    }
}

pub fn char_count(s: &str) -> usize {
    s.chars().count()
}

/// How a character is shown in a message: printable ones as themselves, others as `U+XXXX`.
pub fn display_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() || crate::nfc::is_combining_mark(c) {
        // As `format!("U+{:04X}")` would write it: at least four upper-case hex digits.
        let cp = u32::from(c);
        let digits = (4..6)
            .rev()
            .find(|&i| cp >> (4 * i) != 0)
            .map_or(4, |i| i + 1);
        let hex = (0..digits)
            .rev()
            .map(|i| char::from(b"0123456789ABCDEF"[((cp >> (4 * i)) & 0xF) as usize]));
        "U+".chars().chain(hex).collect()
    } else {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_unified_as_replace_would() {
        for s in [
            "a\r\r\nb",
            "\n\r\n\r",
            "x\r",
            "\r\n\r\n",
            "é\r😀\r\n\n",
            "no cr\n",
        ] {
            let expected = s.replace("\r\n", "\n").replace('\r', "\n");
            assert_eq!(
                multiline(&format!("x{s}x")),
                format!("x{expected}x"),
                "{s:?}"
            );
        }
    }

    #[test]
    fn code_points_shown_as_format_would() {
        for c in (0..0x11_0000).filter_map(char::from_u32) {
            let shown = display_char(c);
            if shown.starts_with("U+") && shown != "U+" {
                assert_eq!(shown, format!("U+{:04X}", u32::from(c)));
            }
        }
        assert_eq!(display_char('\u{1}'), "U+0001");
        assert_eq!(display_char('\u{E0100}'), "U+E0100");
        assert_eq!(display_char('a'), "a");
    }

    #[test]
    fn single_line_collapses_and_trims() {
        assert_eq!(
            single_line("  Ana \t\n  María\u{00A0}López  "),
            "Ana María López"
        );
        assert_eq!(single_line("Jose\u{0301}"), "José");
        assert_eq!(single_line(""), "");
        assert_eq!(single_line("a\u{0007}b"), "a\u{0007}b");
    }

    #[test]
    fn fast_paths_agree_with_the_full_normalization() {
        for s in [
            "Ana",
            "Ana María",
            " Ana",
            "Ana ",
            "A  B",
            "A\tB",
            "A\u{000B}B",
            "A\u{000C}B",
            "a\nb",
            "a\r\nb",
            "",
            "\u{000B}x",
            "x\u{001C}",
        ] {
            if is_single_line_normal(s) {
                assert_eq!(single_line(s), s, "{s:?}");
            }
            if is_multiline_normal(s) {
                assert_eq!(multiline(s), s, "{s:?}");
            }
        }
        assert!(!is_single_line_normal("Ana María") && is_single_line_normal("Ana Maria"));
    }

    #[test]
    fn small_numbers_and_joined_text() {
        for (digits, n) in [
            ("0", 0),
            ("007", 7),
            ("255", 255),
            ("65535", 65_535),
            ("999999999", 999_999_999),
        ] {
            assert_eq!(small_number(digits), n, "{digits}");
        }
    }

    #[test]
    fn display_char_writes_code_points_as_format_would() {
        for c in [
            '\u{0}',
            '\t',
            '\u{301}',
            '\u{2028}',
            '\u{11F42}',
            '\u{85}',
            '\u{3000}',
        ] {
            assert_eq!(display_char(c), format!("U+{:04X}", u32::from(c)));
        }
        assert_eq!(display_char('ñ'), "ñ");
    }

    #[test]
    fn multiline_unifies_line_endings() {
        assert_eq!(multiline("\r\n one\r\ntwo\rthree \n"), "one\ntwo\nthree");
    }

    #[test]
    fn letters_of_any_script() {
        for c in ['a', 'ñ', 'Ж', '李', 'ك', 'क', '\u{094D}'] {
            assert!(is_letter(c), "{c}");
        }
        for c in ['1', '-', '😀', ' '] {
            assert!(!is_letter(c), "{c}");
        }
    }
}
