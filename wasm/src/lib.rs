//! The rules in the browser: a thin wasm-bindgen adapter over `onboarding-core`. Every export
//! takes text (JSON, a step name, the context as JSON, the caller's local date) and returns text:
//! core's JSON, or an error message behind a NUL byte (JSON never starts with one). The public
//! API, with its objects and thrown `Error`s, is `npm/api.js`, which does `JSON.stringify` and
//! `JSON.parse` on the JS side. So no JS value crosses into the module and the package carries no
//! externref table or JS imports (decision 58). Problems in the wizard's data are never errors,
//! they are the report.
//!
//! The TypeScript declarations (`types.d.ts`) are generated from core's types and rule tables by
//! `wasm/tests/dts.rs`, which also fails when the committed file is stale.

#![cfg(target_arch = "wasm32")]

use onboarding_core::{self as core, Context, Date, StepId};
use serde_json::Value;
use wasm_bindgen::prelude::*;

/// A small free-list allocator instead of std's dlmalloc: 2.3 KB gzip less (decision 54).
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../types.d.ts");

/// The one way this crate reports a misuse: the message behind a NUL byte, which `api.js` turns
/// into a thrown `Error` starting with `onboarding-rules: `.
fn error(message: &str) -> String {
    ["\0", message].concat()
}

/// The JSON text `api.js` passes (a wizard, a step's object, or the context).
fn parse(text: &str) -> Result<Value, String> {
    core::json::parse(text).map_err(|e| error(&["invalid JSON: ", &e.message()].concat()))
}

/// The context from its JSON (`null` when the caller gave none); `today` is the caller's local
/// date, the default reference date.
fn context(ctx: &str, today: &str) -> Result<Context, String> {
    let value = parse(ctx).map_err(|_| error("invalid context: cannot be read as JSON"))?;
    let local = || Date::parse(today).unwrap_or_else(|| Date::from_unix_days(0));
    Context::from_json(&value, local).map_err(|e| error(&e.message()))
}

/// A step by its name; an unknown one is a misuse.
fn step_id(name: &str) -> Result<StepId, String> {
    StepId::parse(name).ok_or_else(|| {
        let names = StepId::ALL.map(StepId::name).join(", ");
        error(&["unknown step \"", name, "\": expected one of ", &names].concat())
    })
}

fn either(result: Result<String, String>) -> String {
    result.unwrap_or_else(|e| e)
}

// The functions behind `call`. Their comments are plain `//`: wasm-bindgen copies doc comments
// of exports into the glue, which the package would carry for nobody (the API is `api.js`).

// Validates the wizard: the report as JSON, byte for byte what `onboarding-rules validate`
// prints (without its final newline).
fn validate_wizard(json: &str, ctx: &str, today: &str) -> String {
    either((|| {
        let ctx = context(ctx, today)?;
        Ok(core::to_json(&core::validate_wizard(&parse(json)?, &ctx)))
    })())
}

// Validates one step's object (`onboarding-rules validate --step`).
fn validate_step(step: &str, json: &str, ctx: &str, today: &str) -> String {
    either((|| {
        let step = step_id(step)?;
        let ctx = context(ctx, today)?;
        Ok(core::to_json(&core::validate_step(
            step,
            &parse(json)?,
            &ctx,
        )))
    })())
}

// A Standard Schema check in one call: the report of the wizard (`step` empty) or of one step's
// object and, when it is valid, its normalized form: `{"report":…,"value":…}` (`value` null when
// it is not valid). The input is parsed once, and the two answers cross the boundary together.
fn check(step: &str, json: &str, ctx: &str, today: &str) -> String {
    either((|| {
        let step = match step {
            "" => None,
            name => Some(step_id(name)?),
        };
        let ctx = context(ctx, today)?;
        let input = parse(json)?;
        let report = match step {
            None => core::validate_wizard(&input, &ctx),
            Some(id) => core::validate_step(id, &input, &ctx),
        };
        let value = if report.valid {
            core::to_json(&match step {
                None => core::normalize_wizard(input),
                Some(id) => core::normalize_step(id, input),
            })
        } else {
            "null".to_owned()
        };
        Ok([
            "{\"report\":",
            &core::to_json(&report),
            ",\"value\":",
            &value,
            "}",
        ]
        .concat())
    })())
}

// The wizard in normalized form (what the server stores).
fn normalize(json: &str) -> String {
    either(parse(json).map(|input| core::to_json(&core::normalize_wizard(input))))
}

// The slug and, for a valid wizard, the records the server would create, with the report.
fn preview(json: &str, ctx: &str, today: &str) -> String {
    either((|| {
        let ctx = context(ctx, today)?;
        Ok(core::to_json(&core::preview(&parse(json)?, &ctx)))
    })())
}

// The module's one export (decision 65): `op` picks the function, `a`–`d` are its text
// arguments in order (empty when it takes fewer). One export instead of seven: wasm-bindgen
// writes the string passing once, not per function. The operations, as `api.js` numbers them:
// 0 validateWizard(json, ctx, today), 1 validateStep(step, json, ctx, today), 2 normalize(json),
// 3 preview(json, ctx, today), 5 the time zones, 6 rulesVersion(), 7 a Standard Schema check
// (step or '', json, ctx, today: the report and the normalized value). The static data per rule
// version ships beside the module as JavaScript modules (and JSON), so the module does not carry
// it: the steps' metadata (`steps.es.js`, `steps.en.js`, without the time-zone options, which
// the module holds anyway; `constraints(step)` reads the fields' limits from it: op 4 was
// `limits(step)`) and the JSON Schemas (`schema.js`; the entries carry the input's and the
// output's for Standard JSON Schema). `ctx` is the context as JSON (`null` for none), `today`
// the caller's local date.
#[wasm_bindgen]
pub fn call(op: u32, a: &str, b: &str, c: &str, d: &str) -> String {
    match op {
        0 => validate_wizard(a, b, c),
        1 => validate_step(a, b, c, d),
        2 => normalize(a),
        3 => preview(a, b, c),
        7 => check(a, b, c, d),
        // The time zones the rules accept, one per line: `loadSteps` fills the time-zone field's
        // options from them, so `steps.<locale>.js` does not carry the list a second time.
        5 => core::reference::timezones().collect::<Vec<_>>().join("\n"),
        // The rule set's version; the server reports it too, so a stale client can be detected.
        6 => core::RULES_VERSION.to_owned(),
        _ => error("unknown operation"),
    }
}
