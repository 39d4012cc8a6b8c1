#![no_main]
//! validate (the wizard or a step) never panics, and its report is JSON that says `valid`
//! exactly when it has no error.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((ctx, step, input)) = common::split(data) else { return };
    let report = match step {
        Some(step) => onboarding_core::validate_step(step, &input, &ctx),
        None => onboarding_core::validate_wizard(&input, &ctx),
    };
    let text = onboarding_core::to_json(&report);
    common::assert_json(&text);
    let errors = report.issues.iter().any(|i| i.severity == onboarding_core::Severity::Error);
    assert_eq!(report.valid, !errors, "{text}");
});
