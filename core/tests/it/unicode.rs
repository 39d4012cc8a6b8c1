//! Our NFC against the `unicode-normalization` crate: every character, and random strings of
//! bases and marks. The tables follow one Unicode version (`nfc::UNICODE_VERSION`); characters
//! assigned later are the only allowed differences, and they are listed here.

use onboarding_core::nfc;
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

fn reference(s: &str) -> String {
    s.nfc().collect()
}

/// Code points unassigned in our tables' Unicode version: the only ones allowed to differ from
/// the newer reference.
fn newer_than_our_tables(c: char) -> bool {
    static RANGES: std::sync::OnceLock<Vec<(u32, u32)>> = std::sync::OnceLock::new();
    let ranges = RANGES.get_or_init(|| {
        include_str!("unassigned.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (a, b) = l.split_once("..").unwrap();
                (
                    u32::from_str_radix(a, 16).unwrap(),
                    u32::from_str_radix(b, 16).unwrap(),
                )
            })
            .collect()
    });
    let cp = u32::from(c);
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp))
}

/// Every code point through `ours` and `reference`; differences are allowed only for code
/// points our tables' Unicode version had not assigned yet.
fn assert_every_character_agrees(
    ours: impl Fn(&str) -> String,
    reference: impl Fn(char) -> String,
) {
    let differences: Vec<String> = (0..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|&c| ours(&c.to_string()) != reference(c) && !newer_than_our_tables(c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect();
    assert!(
        differences.is_empty(),
        "{} differ: {:?}",
        differences.len(),
        &differences[..differences.len().min(20)]
    );
}

/// The generated tables (NFC, combining marks, lower case) follow the Unicode version of std's
/// `char` classes, which the rules use for letters, digits, spaces and controls: one version for
/// every character property. A toolchain upgrade that moves std fails here until the tables are
/// regenerated (`target/venv/bin/python tools/gen_reference_data.py`) and `RULES_VERSION` bumped.
#[test]
fn tables_follow_std_unicode_version() {
    let (major, minor, update) = char::UNICODE_VERSION;
    assert_eq!(nfc::UNICODE_VERSION, format!("{major}.{minor}.{update}"));
}

#[test]
fn every_character_matches_the_reference() {
    assert_every_character_agrees(nfc::nfc, |c| reference(&c.to_string()));
}

#[test]
fn lowercase_matches_std_for_every_character_of_our_version() {
    assert_every_character_agrees(nfc::lowercase, |c| c.to_lowercase().collect());
    // Whole strings too; std's one contextual rule (final sigma) is the allowed difference.
    assert_eq!(
        nfc::lowercase("ÁRBOL İstanbul ǅ ΣΊΣΥΦΟΣ"),
        "árbol i\u{307}stanbul ǆ σίσυφοσ"
    );
}

fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            'a', 'e', 'n', 'o', 'A', 'E', 'u', 'i', 'ω', 'α', 'ι', 'Å', 'ł', 'अ', 'क', 'ก', 'ᄀ',
            '가', 'ᅡ', 'ᆨ', ' ', 'Z', 'ç'
        ]),
        (0x0300u32..0x0370).prop_filter_map("char", char::from_u32),
        (0x0590u32..0x0600).prop_filter_map("char", char::from_u32),
        (0x0900u32..0x0A00).prop_filter_map("char", char::from_u32),
        (0x1DC0u32..0x1E00).prop_filter_map("char", char::from_u32),
        (0x1E00u32..0x2000).prop_filter_map("char", char::from_u32),
        (0x1100u32..0x1200).prop_filter_map("char", char::from_u32),
        (0xAC00u32..0xAC40).prop_filter_map("char", char::from_u32),
        (0x3099u32..0x309B).prop_filter_map("char", char::from_u32),
        (0x3040u32..0x3100).prop_filter_map("char", char::from_u32),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, .. ProptestConfig::default() })]

    #[test]
    fn strings_of_bases_and_marks_match_the_reference(chars in prop::collection::vec(interesting_char(), 0..12)) {
        let s: String = chars.into_iter().filter(|&c| !newer_than_our_tables(c)).collect();
        prop_assert_eq!(nfc::nfc(&s), reference(&s), "{:?}", s.chars().map(|c| format!("U+{:04X}", u32::from(c))).collect::<Vec<_>>());
        let once = nfc::nfc(&s);
        prop_assert_eq!(nfc::nfc(&once), once.clone());
    }
}

#[test]
fn combining_classes_match_the_reference() {
    let differences: Vec<String> = (0..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|&c| {
            nfc::combining_class(c) != unicode_normalization::char::canonical_combining_class(c)
                && !newer_than_our_tables(c)
        })
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect();
    assert!(
        differences.is_empty(),
        "{} differ: {:?}",
        differences.len(),
        differences
    );
}
