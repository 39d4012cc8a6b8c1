//! `RULES_VERSION` must change whenever the rules do. The fingerprint is a hash of everything the
//! rules expose (metadata in both locales, the schema, every message of every code); when it
//! moves, bump `RULES_VERSION` and record both in `core/tests/rules_fingerprint.txt`.

use onboarding_core::report::{Param, Params};
use onboarding_core::{messages, metadata, schema, Code, Locale, RULES_VERSION};

/// FNV-1a, 64 bits: stable across platforms and releases, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn fingerprint() -> String {
    let mut all = String::new();
    for locale in Locale::ALL {
        all += &serde_json::to_string(&metadata::steps(locale)).unwrap();
        for &code in Code::ALL {
            let params = Params(vec![
                ("min", Param::Int(1)),
                ("max", Param::Int(2)),
                ("expected", Param::Str("string".into())),
                ("allowed", Param::List(vec!["a", "b"])),
                ("characters", Param::Str("#".into())),
            ]);
            all += &format!(
                "{}|{:?}|{}\n",
                code.as_str(),
                code.severity(),
                messages::render(code, &params, locale)
            );
        }
    }
    all += &serde_json::to_string(&schema::schema())
        .unwrap()
        .replace(RULES_VERSION, "");
    format!("{:016x}", fnv1a(all.as_bytes()))
}

#[test]
fn rules_version_changes_with_the_rules() {
    let path = crate::helpers::repo_root().join("core/tests/rules_fingerprint.txt");
    let recorded = std::fs::read_to_string(&path).unwrap_or_default();
    let current = format!("{RULES_VERSION} {}\n", fingerprint());
    if std::env::var_os("UPDATE_RULES_FINGERPRINT").is_some() {
        std::fs::write(&path, &current).unwrap();
        return;
    }
    let recorded_version = recorded.split(' ').next().unwrap_or("");
    assert!(
        recorded == current,
        "rules fingerprint changed: recorded {recorded:?}, now {current:?}.\n{}",
        if recorded_version == RULES_VERSION {
            "Bump RULES_VERSION in core/src/lib.rs, then run with UPDATE_RULES_FINGERPRINT=1."
        } else {
            "RULES_VERSION changed: record it with UPDATE_RULES_FINGERPRINT=1."
        }
    );
}

/// Letters and digits (`text::is_letter`, `is_letter_or_digit`) come from std's character
/// classes, so a toolchain with another Unicode version changes what the rules accept — and a
/// server and a package built by different toolchains could disagree. When this fails, bump
/// `RULES_VERSION` and build both with the same toolchain.
#[test]
fn std_unicode_version_is_the_one_the_rules_were_released_with() {
    assert_eq!(char::UNICODE_VERSION, (17, 0, 0));
}
