//! Unicode Normalization Form C (UAX #15) and the combining-mark property, over tables generated
//! from one Unicode version (`data/unicode.rs`). The same small code runs natively and in the
//! browser bundle, so both sides normalize identically — the browser's own `normalize()` may
//! follow another Unicode version — and the bundle carries no large normalization library.

use crate::data::unicode::{
    COMBINING_CLASSES, DECOMPOSITION_CHARS, DECOMPOSITION_COUNT, DECOMPOSITION_FIRSTS,
    DECOMPOSITION_SECONDS, LOWERCASE, MARKS, NFC_QC_MAYBE,
};
use std::sync::OnceLock;

pub use crate::data::unicode::UNICODE_VERSION;

const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const L_COUNT: u32 = 19;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const N_COUNT: u32 = V_COUNT * T_COUNT;
const S_COUNT: u32 = L_COUNT * N_COUNT;

/// The index of the (first, last, …) range holding `cp`, in a sorted table of ranges.
fn find_range<T>(table: &[T], cp: u32, bounds: impl Fn(&T) -> (u32, u32)) -> Option<usize> {
    table
        .binary_search_by(|r| {
            let (lo, hi) = bounds(r);
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .ok()
}

/// The LEB128 varints of a generated table (see `data/unicode.rs`).
struct Varints(&'static [u8]);

impl Iterator for Varints {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let mut value = 0;
        let mut shift = 0;
        loop {
            let (&byte, rest) = self.0.split_first()?;
            self.0 = rest;
            value |= u32::from(byte & 0x7F) << shift;
            if byte < 0x80 {
                return Some(value);
            }
            shift += 7;
        }
    }
}

/// Runs of code points `(first, last, value)` from (gap, length - 1[, value]) triples.
fn runs(table: &'static [u8], with_value: bool) -> Vec<(u32, u32, u8)> {
    let mut fields = Varints(table);
    let mut out = Vec::new();
    let mut next = 0;
    while let (Some(gap), Some(len)) = (fields.next(), fields.next()) {
        let value = if with_value {
            fields.next().unwrap_or(0)
        } else {
            1
        };
        let first = next + gap;
        out.push((first, first + len, value as u8));
        next = first + len + 1;
    }
    out
}

/// A zigzag-coded difference (0, -1, 1, -2, … as 0, 1, 2, 3, …) back to its signed value.
fn unzigzag(z: u32) -> i32 {
    if z & 1 == 0 {
        (z >> 1) as i32
    } else {
        -((z >> 1) as i32) - 1
    }
}

/// The tables, decoded once from their generated form (`data/unicode.rs`) on first use.
struct Tables {
    /// The decompositions, sorted by char, in the packed form of [`unpack`].
    decompositions: Vec<u64>,
    /// The primary composites keyed by their pair: `(first, second, composite)`, sorted.
    compositions: Vec<(u32, u32, char)>,
    /// Runs `(first, last, class)` of canonical combining classes other than 0.
    combining_classes: Vec<(u32, u32, u8)>,
    /// Runs of general category M.
    marks: Vec<(u32, u32, u8)>,
    /// Runs of NFC_Quick_Check=Maybe.
    nfc_maybe: Vec<(u32, u32, u8)>,
    /// Lowercase runs `(first, count, stride, delta)`.
    lowercase: Vec<(u32, u32, u32, i32)>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let decompositions = decode_decompositions();
        let mut compositions: Vec<(u32, u32, char)> = decompositions
            .iter()
            .map(|&e| unpack(e))
            .filter(|&(_, _, second, recomposes)| recomposes && second != 0)
            .filter_map(|(c, first, second, _)| Some((first, second, char::from_u32(c)?)))
            .collect();
        compositions.sort();
        Tables {
            decompositions,
            compositions,
            combining_classes: runs(COMBINING_CLASSES, true),
            marks: runs(MARKS, false),
            nfc_maybe: runs(NFC_QC_MAYBE, false),
            lowercase: decode_lowercase(),
        }
    })
}

fn decode_decompositions() -> Vec<u64> {
    let mut out = Vec::with_capacity(DECOMPOSITION_COUNT);
    let (mut c, mut first) = (0u32, 0u32);
    let (mut chars, mut firsts, mut seconds) = (
        Varints(DECOMPOSITION_CHARS),
        Varints(DECOMPOSITION_FIRSTS),
        Varints(DECOMPOSITION_SECONDS),
    );
    while let (Some(delta), Some(f), Some(second)) = (chars.next(), firsts.next(), seconds.next()) {
        c += delta;
        first = first.wrapping_add_signed(unzigzag(f >> 1));
        let recomposes = u64::from(f & 1) << 63;
        out.push(recomposes | u64::from(c) << 42 | u64::from(first) << 21 | u64::from(second));
    }
    out
}

fn decode_lowercase() -> Vec<(u32, u32, u32, i32)> {
    let mut fields = Varints(LOWERCASE);
    let mut out = Vec::new();
    let mut start = 0;
    while let (Some(gap), Some(count), Some(zigzag)) = (fields.next(), fields.next(), fields.next())
    {
        start += gap;
        out.push((start, count >> 1, 1 + (count & 1), unzigzag(zigzag)));
    }
    out
}

fn in_runs(runs: &[(u32, u32, u8)], cp: u32) -> Option<u8> {
    find_range(runs, cp, |&(lo, hi, _)| (lo, hi)).map(|i| runs[i].2)
}

/// The canonical combining class of `c` (0 for starters).
pub fn combining_class(c: char) -> u8 {
    let cp = u32::from(c);
    if cp < 0x300 {
        return 0;
    }
    in_runs(&tables().combining_classes, cp).unwrap_or(0)
}

/// Lowercase by the same Unicode version as the rest of this module, character by character:
/// simple mappings plus U+0130 → "i\u{307}" (as std's `to_lowercase`, without its final-sigma
/// rule, which only matters for display). Used to compare titles case-insensitively.
pub fn lowercase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\u{130}' {
            out.push_str("i\u{307}");
        } else {
            out.push(lowercase_char(c));
        }
    }
    out
}

fn lowercase_char(c: char) -> char {
    let cp = u32::from(c);
    if cp < 0x80 {
        return c.to_ascii_lowercase();
    }
    let runs = &tables().lowercase;
    let run = runs.partition_point(|r| r.0 <= cp);
    let Some(&(start, count, stride, delta)) = run.checked_sub(1).and_then(|i| runs.get(i)) else {
        return c;
    };
    let offset = cp - start;
    if offset % stride == 0 && offset / stride < count {
        char::from_u32(cp.wrapping_add_signed(delta)).unwrap_or(c)
    } else {
        c
    }
}

/// General category M (Mn, Mc, Me).
pub fn is_combining_mark(c: char) -> bool {
    let cp = u32::from(c);
    cp >= 0x300 && in_runs(&tables().marks, cp).is_some()
}

fn decompose(c: char, out: &mut Vec<char>) {
    let cp = u32::from(c);
    if (S_BASE..S_BASE + S_COUNT).contains(&cp) {
        let s = cp - S_BASE;
        let t = s % T_COUNT;
        let jamo = [
            L_BASE + s / N_COUNT,
            V_BASE + (s % N_COUNT) / T_COUNT,
            T_BASE + t,
        ];
        // The trailing consonant only when there is one (t = 0 is none).
        for &j in &jamo[..if t != 0 { 3 } else { 2 }] {
            if let Some(c) = char::from_u32(j) {
                out.push(c);
            }
        }
        return;
    }
    let table = &tables().decompositions;
    match table.binary_search_by_key(&cp, |&e| unpack(e).0) {
        Ok(i) => {
            let (_, first, second, _) = unpack(table[i]);
            for part in [first, second] {
                if part != 0 {
                    if let Some(p) = char::from_u32(part) {
                        decompose(p, out);
                    }
                }
            }
        }
        Err(_) => out.push(c),
    }
}

/// The first character of `c`'s full canonical decomposition, when it has one (`ǻ` → `a`).
pub fn decomposition_base(c: char) -> Option<char> {
    let mut parts = Vec::new();
    decompose(c, &mut parts);
    (parts != [c]).then(|| parts.first().copied()).flatten()
}

/// (char, first, second, recomposes) of a packed decomposition entry.
fn unpack(e: u64) -> (u32, u32, u32, bool) {
    let bits = |shift: u32| ((e >> shift) & 0x1F_FFFF) as u32;
    (bits(42), bits(21), bits(0), e >> 63 == 1)
}

fn compose(a: char, b: char) -> Option<char> {
    let (a, b) = (u32::from(a), u32::from(b));
    if (L_BASE..L_BASE + L_COUNT).contains(&a) && (V_BASE..V_BASE + V_COUNT).contains(&b) {
        return char::from_u32(S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT);
    }
    if (S_BASE..S_BASE + S_COUNT).contains(&a)
        && (a - S_BASE) % T_COUNT == 0
        && (T_BASE + 1..T_BASE + T_COUNT).contains(&b)
    {
        return char::from_u32(a + (b - T_BASE));
    }
    let table = &tables().compositions;
    table
        .binary_search_by_key(&(a, b), |&(x, y, _)| (x, y))
        .ok()
        .map(|i| table[i].2)
}

/// The NFC quick check of UAX #15, with "maybe" counted as "no": true when `s` is certainly in
/// NFC already (every character is a starter that neither decomposes for good nor may combine
/// with the one before it). Most text, accented Spanish included, passes and is not copied twice.
fn is_quick_nfc(s: &str) -> bool {
    s.chars().all(|c| {
        let cp = u32::from(c);
        if cp < 0x300 {
            return true;
        }
        if combining_class(c) != 0 || in_runs(&tables().nfc_maybe, cp).is_some() {
            return false;
        }
        let table = &tables().decompositions;
        match table.binary_search_by_key(&cp, |&e| unpack(e).0) {
            Ok(i) => unpack(table[i]).3,
            Err(_) => true,
        }
    })
}

/// `s` in Normalization Form C.
pub fn nfc(s: &str) -> String {
    if s.is_ascii() || is_quick_nfc(s) {
        return s.to_owned();
    }
    // Canonical decomposition, then canonical ordering of each run of non-starters.
    let mut chars: Vec<char> = Vec::with_capacity(s.len());
    for c in s.chars() {
        decompose(c, &mut chars);
    }
    let mut start = 0;
    while start < chars.len() {
        if combining_class(chars[start]) == 0 {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < chars.len() && combining_class(chars[end]) != 0 {
            end += 1;
        }
        chars[start..end].sort_by_key(|c| combining_class(*c));
        start = end;
    }
    // Canonical composition.
    let mut out = String::with_capacity(s.len());
    let mut starter: Option<char> = None;
    let mut pending: Vec<char> = Vec::new();
    let mut last_class: Option<u8> = None;
    for c in chars {
        let class = combining_class(c);
        let Some(k) = starter else {
            if class == 0 {
                starter = Some(c);
            } else {
                out.push(c);
            }
            continue;
        };
        let blocked = matches!(last_class, Some(l) if l >= class);
        if !blocked {
            if let Some(composed) = compose(k, c) {
                starter = Some(composed);
                continue;
            }
        }
        if class == 0 {
            out.push(k);
            push_all(&mut out, &pending);
            pending.clear();
            starter = Some(c);
            last_class = None;
        } else {
            last_class = Some(class);
            pending.push(c);
        }
    }
    if let Some(k) = starter {
        out.push(k);
    }
    push_all(&mut out, &pending);
    out
}

fn push_all(out: &mut String, chars: &[char]) {
    for &c in chars {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_and_reorders() {
        assert_eq!(nfc("e\u{0301}"), "é");
        assert_eq!(nfc("n\u{0303}o"), "ño");
        assert_eq!(nfc("a\u{0323}\u{0302}"), "\u{1EAD}"); // ậ
        assert_eq!(nfc("a\u{0302}\u{0323}"), "\u{1EAD}"); // reordered by class
        assert_eq!(nfc("\u{1100}\u{1161}\u{11A8}"), "각");
        assert_eq!(nfc("\u{212B}"), "Å"); // singleton decomposition
        assert_eq!(nfc("\u{0301}a"), "\u{0301}a"); // leading non-starter
        assert_eq!(nfc("Café"), "Café");
    }

    #[test]
    fn nfc_maybe_lists_the_seconds_of_every_composition() {
        let t = tables();
        let mut seconds: Vec<u32> = t.compositions.iter().map(|c| c.1).collect();
        seconds.extend(V_BASE..V_BASE + V_COUNT);
        seconds.extend(T_BASE + 1..T_BASE + T_COUNT);
        seconds.sort_unstable();
        seconds.dedup();
        let listed: Vec<u32> = t
            .nfc_maybe
            .iter()
            .flat_map(|&(lo, hi, _)| lo..=hi)
            .collect();
        assert_eq!(listed, seconds);
    }

    #[test]
    fn marks() {
        assert!(
            is_combining_mark('\u{0301}')
                && is_combining_mark('\u{094D}')
                && !is_combining_mark('a')
        );
        assert_eq!(combining_class('\u{0301}'), 230);
        assert_eq!(combining_class('a'), 0);
    }
}
