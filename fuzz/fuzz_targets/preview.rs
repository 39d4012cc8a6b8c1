#![no_main]
//! preview never panics, answers JSON, has records exactly when its report is valid, and its
//! slug is lower-case ASCII, dashes inside, at most 60 characters.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((ctx, _, input)) = common::split(data) else { return };
    let preview = onboarding_core::preview(&input, &ctx);
    common::assert_json(&onboarding_core::to_json(&preview));
    assert_eq!(preview.records.is_some(), preview.report.valid);
    if let Some(slug) = &preview.slug {
        let ok = !slug.is_empty()
            && slug.len() <= 60
            && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !slug.starts_with('-')
            && !slug.ends_with('-');
        assert!(ok, "bad slug {slug:?}");
    }
});
