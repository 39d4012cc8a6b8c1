//! Property tests: normalization is idempotent, validation never panics on arbitrary JSON, and
//! every valid wizard gets a well-formed slug.

use crate::helpers::{ctx, valid_wizard};
use onboarding_core::{self as core, slug, StepId};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Strings that stress normalization: whitespace of every kind, controls, combining marks,
/// other scripts, emoji, near-valid URLs, e-mails and numbers.
fn tricky_string() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\u{00A0}",
        "\u{2028}",
        "\u{3000}",
        "\u{0000}",
        "\u{0007}",
        "\u{007F}",
        "\u{0085}",
        "\u{200B}",
        "\u{0301}",
        "\u{0303}",
        "e",
        "E",
        "n",
        "Ñ",
        "ß",
        "İ",
        "ﬁ",
        "Ω",
        "Å",
        "李",
        "ك",
        "क्",
        "😀",
        "👨‍👩‍👧",
        "a",
        "Z",
        "0",
        "9",
        "-",
        ".",
        "/",
        ":",
        "://",
        "@",
        "%",
        "%2",
        "?",
        "#",
        "&",
        "'",
        "’",
        "http",
        "https://",
        "acme.com",
        "XN--",
        "1e3",
        "+",
        "42",
        "4.2",
        "NaN",
        "America/Mexico_City",
        "mx",
    ]);
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|i| json!(i)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        tricky_string().prop_map(Value::String),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// The valid wizard with one field of one step (or one nested field) replaced by `value`.
fn perturbed() -> impl Strategy<Value = Value> {
    let base = valid_wizard();
    let mut slots: Vec<(String, String)> = Vec::new();
    for step in StepId::ALL {
        for f in step.spec().fields {
            slots.push((step.name().to_owned(), f.name.to_owned()));
        }
    }
    (
        prop::sample::select(slots),
        prop_oneof![3 => scalar(), 1 => any_json()],
        any::<bool>(),
    )
        .prop_map(move |((step, field), value, nested)| {
            let mut w = base.clone();
            if nested && step == "objectives" {
                w["objectives"]["objectives"][0]["key_results"][0]["target"] = value;
            } else {
                w[step.as_str()][field.as_str()] = value;
            }
            w
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn normalize_is_idempotent(w in perturbed()) {
        let once = core::normalize_wizard(w.clone());
        prop_assert_eq!(core::normalize_wizard(once.clone()), once);
    }

    #[test]
    fn normalize_is_idempotent_on_arbitrary_json(v in any_json()) {
        let once = core::normalize_wizard(v.clone());
        prop_assert_eq!(core::normalize_wizard(once.clone()), once.clone());
        for step in StepId::ALL {
            let s = core::normalize_step(step, v.clone());
            prop_assert_eq!(core::normalize_step(step, s.clone()), s);
        }
    }

    #[test]
    fn validation_never_panics_and_reports_consistently(v in any_json()) {
        let report = core::validate_wizard(&v, &ctx());
        prop_assert_eq!(report.valid, report.errors().next().is_none());
        for step in StepId::ALL {
            let r = core::validate_step(step, &v, &ctx());
            prop_assert_eq!(r.valid, r.errors().next().is_none());
        }
        let preview = core::preview(&v, &ctx());
        prop_assert_eq!(preview.records.is_some(), preview.report.valid);
    }

    #[test]
    fn perturbed_wizards_validate_the_same_after_normalization(w in perturbed()) {
        let direct = core::validate_wizard(&w, &ctx());
        let normalized = core::validate_wizard(&core::normalize_wizard(w.clone()), &ctx());
        prop_assert_eq!(direct, normalized);
    }

    #[test]
    fn every_valid_wizard_has_a_well_formed_slug(name in tricky_string(), extra in "[\\p{L}\\p{N} &'.,()+/_-]{0,130}") {
        for candidate in [name.clone(), extra.clone(), format!("{name}{extra}")] {
            let mut w = valid_wizard();
            w["company"]["company_name"] = Value::String(candidate);
            let preview = core::preview(&w, &ctx());
            if let Some(records) = &preview.records {
                let s = &records.organization.slug;
                prop_assert!(slug::is_valid(s) && s.len() <= 60, "{:?}", s);
                prop_assert_eq!(preview.slug.as_ref(), Some(s));
            }
        }
    }

    #[test]
    fn slugify_is_total_and_idempotent(s in any::<String>()) {
        let slug = slug::slugify(&s);
        prop_assert!(slug::is_valid(&slug), "{:?} -> {:?}", s, slug);
        prop_assert_eq!(slug::slugify(&slug), slug);
    }
}
