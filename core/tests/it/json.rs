//! `core::to_json` (our writer) against `serde_json::to_string` (the `Serialize` derives the
//! server also uses): byte for byte, over every vector's report, preview and normalized input,
//! the fixtures, the metadata in both locales, the schema, and strings and numbers at the edges.

use crate::helpers::{ctx, read_json, valid_wizard};
use onboarding_core::{self as core, Context, Date, Locale, ToJson};
use serde::Serialize;
use serde_json::json;

#[track_caller]
fn same<T: ToJson + Serialize + ?Sized>(what: &str, value: &T) {
    let ours = core::to_json(value);
    let serde = serde_json::to_string(value).unwrap();
    assert_eq!(ours, serde, "{what}");
}

#[test]
fn every_vector_writes_as_serde_json_would() {
    let cases = crate::vectors::load();
    assert!(cases.len() >= 200, "{} vectors", cases.len());
    for c in &cases {
        let what = format!("{} / {}", c.file, c.name);
        let report = match c.step {
            Some(step) => core::validate_step(step, &c.input, &c.context),
            None => core::validate_wizard(&c.input, &c.context),
        };
        same(&what, &report);
        same(&what, &core::preview(&c.input, &c.context));
        same(&what, &core::normalize_wizard(&c.input));
        same(&what, &c.input);
    }
}

#[test]
fn fixtures_metadata_and_schema_write_as_serde_json_would() {
    let invalid = read_json("tests/fixtures/invalid_wizard.json");
    for locale in [Locale::Es, Locale::En] {
        let ctx = Context::new(locale, Date::parse("2026-11-27").unwrap(), None);
        for input in [valid_wizard(), invalid.clone()] {
            same("report", &core::validate_wizard(&input, &ctx));
            same("preview", &core::preview(&input, &ctx));
        }
        same("steps", &core::metadata::steps(locale));
    }
    same("schema", &core::schema::schema());
}

#[test]
fn strings_and_numbers_at_the_edges() {
    let every_control: String = (0u8..0x20).map(char::from).collect();
    let value = json!({
        "controls": every_control,
        "quotes": "\"\\/ \u{7f} \u{80} \u{2028} 😀 ñ",
        "empty": "",
        "ints": [0, -1, i64::MIN, i64::MAX, u64::MAX],
        "floats": [0.1, -0.0, 1e300, 5e-324, 1.7976931348623157e308, 123456789.125, 1e21, 1e-7, 2.5],
        "nested": [[], {}, [{}], {"": null, "a": [true, false]}],
    });
    same("edges", &value);
    let mut wizard = valid_wizard();
    wizard["objectives"]["objectives"][0]["key_results"][0]["baseline"] = json!(0.1);
    wizard["objectives"]["objectives"][0]["key_results"][0]["target"] = json!(1e21);
    let preview = core::preview(&wizard, &ctx());
    assert!(preview.records.is_some(), "{:?}", preview.report);
    same("floats in records", &preview);
    // A non-finite float (only reachable in a hand-built value) is null, as serde_json writes it.
    same("nan", &[f64::NAN, f64::INFINITY, 1.5][..]);
}
