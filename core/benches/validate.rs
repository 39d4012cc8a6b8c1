//! `make bench`: full-wizard validation natively. Budget: under 20 µs per validation (BENCHMARKS.md).

use criterion::{criterion_group, criterion_main, Criterion};
use onboarding_core::{self as core, Context, Date, Locale};
use std::hint::black_box;

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON")
}

fn bench(c: &mut Criterion) {
    let ctx = Context::new(
        Locale::Es,
        Date::parse("2026-11-27").expect("date"),
        Some("owner@acme.com"),
    );
    let valid = fixture("valid_wizard.json");
    let invalid = fixture("invalid_wizard.json");
    assert!(core::validate_wizard(&valid, &ctx).valid);
    assert!(core::validate_wizard(&invalid, &ctx).issues.len() > 30);
    let valid_text = valid.to_string();

    c.bench_function("validate_wizard/valid", |b| {
        b.iter(|| core::validate_wizard(black_box(&valid), &ctx))
    });
    c.bench_function("validate_wizard/invalid", |b| {
        b.iter(|| core::validate_wizard(black_box(&invalid), &ctx))
    });
    c.bench_function(
        "validate_wizard_json/valid (parse + validate + serialize)",
        |b| {
            b.iter(|| {
                let v: serde_json::Value =
                    serde_json::from_str(black_box(&valid_text)).expect("json");
                core::to_json(&core::validate_wizard(&v, &ctx))
            })
        },
    );
    // What the npm module's `validateStep` / `validateWizard` do inside the module, natively:
    // the floor the module's time is compared with (BENCHMARKS.md, issue 34).
    let company_text = valid["company"].to_string();
    c.bench_function(
        "module work/company step (json::parse + validate + to_json)",
        |b| {
            b.iter(|| {
                let v = core::json::parse(black_box(&company_text)).expect("json");
                core::to_json(&core::validate_step(core::StepId::Company, &v, &ctx))
            })
        },
    );
    c.bench_function(
        "module work/wizard valid (json::parse + validate + to_json)",
        |b| {
            b.iter(|| {
                let v = core::json::parse(black_box(&valid_text)).expect("json");
                core::to_json(&core::validate_wizard(&v, &ctx))
            })
        },
    );
    c.bench_function("json::parse/wizard valid", |b| {
        b.iter(|| core::json::parse(black_box(&valid_text)).expect("json"))
    });
    c.bench_function("preview/valid", |b| {
        b.iter(|| core::preview(black_box(&valid), &ctx))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
