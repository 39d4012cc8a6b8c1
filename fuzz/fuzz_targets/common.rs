// Shared by the fuzz targets: how bytes become a call of the rules, and the checks on the answer.
use onboarding_core::{Context, Date, Locale, StepId};

/// The first byte picks the locale and what to call (the wizard, or one of the six steps); the
/// rest is the JSON input, as the CLI and the npm package's JSON entry points would receive it.
pub fn split(data: &[u8]) -> Option<(Context, Option<StepId>, serde_json::Value)> {
    let (&selector, json) = data.split_first()?;
    // Core's reader (the npm package's) must read every text as serde_json (the server's) does.
    let input = std::str::from_utf8(json).ok().map(onboarding_core::json::parse);
    let serde = serde_json::from_slice::<serde_json::Value>(json);
    if let Some(ours) = &input {
        match (ours, &serde) {
            (Ok(a), Ok(b)) => assert!(
                a == b && onboarding_core::to_json(a) == serde_json::to_string(b).unwrap(),
                "core and serde_json read {json:?} differently"
            ),
            (Err(_), Err(_)) => {}
            _ => panic!("core {ours:?}, serde_json {serde:?} for {json:?}"),
        }
    }
    let input = serde.ok()?;
    let locale = if selector & 0x80 == 0 { Locale::Es } else { Locale::En };
    let step = match (selector & 0x7f) % 7 {
        0 => None,
        n => Some(StepId::ALL[usize::from(n - 1)]),
    };
    let today = Date::parse("2026-11-27").expect("a date");
    let ctx = Context::new(locale, today, Some("self@example.com"));
    Some((ctx, step, input))
}

/// Every answer is JSON that parses back.
pub fn assert_json(text: &str) {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        panic!("output is not JSON ({e}): {text}");
    }
}
