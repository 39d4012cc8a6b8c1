#![no_main]
//! normalize never panics, answers JSON, and is idempotent.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((_, step, input)) = common::split(data) else { return };
    let normalize = |v: &serde_json::Value| match step {
        Some(step) => onboarding_core::normalize_step(step, v.clone()),
        None => onboarding_core::normalize_wizard(v.clone()),
    };
    let once = normalize(&input);
    common::assert_json(&onboarding_core::to_json(&once));
    assert_eq!(normalize(&once), once, "normalize is not idempotent");
});
