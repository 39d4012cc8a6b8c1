//! The rules in the browser: a thin wasm-bindgen adapter over `onboarding-core`. Every export
//! converts in (JS value or JSON text → `serde_json::Value`, context), calls core, and converts
//! out (core's JSON text, parsed by the JS engine for the object API). Errors in the caller's
//! use of the API (bad JSON, bad context, unknown step) are thrown as `Error`s by one helper,
//! [`into_error`]; problems in the wizard's data are never errors, they are the report.
//!
//! The TypeScript declarations (`types.d.ts`) are generated from core's types and rule tables by
//! `wasm/tests/dts.rs`, which also fails when the committed file is stale.

#![cfg(target_arch = "wasm32")]

use onboarding_core::{self as core, Context, ContextError, Date, Locale, StepId};
use serde_json::Value;
use wasm_bindgen::prelude::*;

/// A small free-list allocator instead of std's dlmalloc: 2.3 KB gzip less (decision 54).
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../types.d.ts");

/// The one conversion of this crate's errors into a thrown JS `Error`. Messages are joined from
/// pieces, never `format!`ted: the package leaves `core::fmt` out (decision 57).
fn into_error(pieces: &[&str]) -> JsError {
    JsError::new(&[&["onboarding-rules: "], pieces].concat().concat())
}

fn parse_json(text: &str) -> Result<Value, JsError> {
    core::json::parse(text).map_err(|e| into_error(&["invalid JSON: ", &e.message()]))
}

/// A JS value as JSON, the way `JSON.stringify` sees it (so `validateWizard(x)` and
/// `validateWizardJson(JSON.stringify(x))` always agree); `undefined` is `null`.
fn from_js(value: &JsValue) -> Result<Value, JsError> {
    if value.is_undefined() {
        return Ok(Value::Null);
    }
    let text = js_sys::JSON::stringify(value).map_err(|e| {
        let reason = String::from(js_sys::Error::from(e).message());
        into_error(&["input cannot be read as JSON: ", &reason])
    })?;
    match text.as_string() {
        Some(t) => parse_json(&t),
        None => Ok(Value::Null),
    }
}

/// Core's JSON text as a JS value.
fn to_js(json: &str) -> Result<JsValue, JsError> {
    js_sys::JSON::parse(json).map_err(|_| into_error(&["internal error: unparsable output"]))
}

/// The caller's local date, the default reference date.
fn local_today() -> Date {
    let now = js_sys::Date::new_0();
    let (y, m, d) = (now.get_full_year(), now.get_month() + 1, now.get_date());
    Date::new(y as i32, m as u8, d as u8).unwrap_or_else(|| Date::from_unix_days(0))
}

/// The context as JSON (one `JSON.stringify`), read by the same `Context::from_json` as the
/// native side, instead of key by key through `Object.keys` and `Reflect.get`. (Measured A/B
/// in Node: no difference in speed beyond the noise; one code path fewer.)
fn context(ctx: &JsValue) -> Result<Context, JsError> {
    if !(ctx.is_undefined() || ctx.is_null()) && (!ctx.is_object() || js_sys::Array::is_array(ctx))
    {
        return Err(into_error(&[&ContextError::Invalid(
            "expected an object".into(),
        )
        .message()]));
    }
    let value =
        from_js(ctx).map_err(|_| into_error(&["invalid context: cannot be read as JSON"]))?;
    Context::from_json(&value, local_today).map_err(|e| into_error(&[&e.message()]))
}

fn step_id(step: &str) -> Result<StepId, JsError> {
    StepId::parse(step).ok_or_else(|| {
        let names: Vec<&str> = StepId::ALL.iter().map(|s| s.name()).collect();
        into_error(&[
            "unknown step \"",
            step,
            "\": expected one of ",
            &names.join(", "),
        ])
    })
}

/// Validates a whole wizard; returns the report.
#[wasm_bindgen(js_name = validateWizard, unchecked_return_type = "Report")]
pub fn validate_wizard(
    #[wasm_bindgen(unchecked_param_type = "WizardDraft")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ContextInput")] ctx: Option<JsValue>,
) -> Result<JsValue, JsError> {
    let ctx = context(&ctx.unwrap_or(JsValue::UNDEFINED))?;
    to_js(&core::to_json(&core::validate_wizard(
        &from_js(&input)?,
        &ctx,
    )))
}

/// Validates one step's object; returns the report.
#[wasm_bindgen(js_name = validateStep, unchecked_return_type = "Report")]
pub fn validate_step(
    #[wasm_bindgen(unchecked_param_type = "StepId")] step: &str,
    #[wasm_bindgen(unchecked_param_type = "StepDraft")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ContextInput")] ctx: Option<JsValue>,
) -> Result<JsValue, JsError> {
    let step = step_id(step)?;
    let ctx = context(&ctx.unwrap_or(JsValue::UNDEFINED))?;
    to_js(&core::to_json(&core::validate_step(
        step,
        &from_js(&input)?,
        &ctx,
    )))
}

/// The fast path and the parity contract: JSON text in, the report as JSON text out, byte for
/// byte what `onboarding-rules validate` prints (without its final newline).
#[wasm_bindgen(js_name = validateWizardJson)]
pub fn validate_wizard_json(
    json: &str,
    #[wasm_bindgen(unchecked_param_type = "ContextInput")] ctx: Option<JsValue>,
) -> Result<String, JsError> {
    let ctx = context(&ctx.unwrap_or(JsValue::UNDEFINED))?;
    Ok(core::to_json(&core::validate_wizard(
        &parse_json(json)?,
        &ctx,
    )))
}

/// `validateWizardJson` for one step (`onboarding-rules validate --step`).
#[wasm_bindgen(js_name = validateStepJson)]
pub fn validate_step_json(
    #[wasm_bindgen(unchecked_param_type = "StepId")] step: &str,
    json: &str,
    #[wasm_bindgen(unchecked_param_type = "ContextInput")] ctx: Option<JsValue>,
) -> Result<String, JsError> {
    let step = step_id(step)?;
    let ctx = context(&ctx.unwrap_or(JsValue::UNDEFINED))?;
    Ok(core::to_json(&core::validate_step(
        step,
        &parse_json(json)?,
        &ctx,
    )))
}

/// The wizard in normalized form (what the server stores).
#[wasm_bindgen(unchecked_return_type = "WizardDraft")]
pub fn normalize(
    #[wasm_bindgen(unchecked_param_type = "WizardDraft")] input: JsValue,
) -> Result<JsValue, JsError> {
    to_js(&core::to_json(&core::normalize_wizard(&from_js(&input)?)))
}

/// The slug (whenever the company name is valid) and, for a valid wizard, the records the server
/// would create; always with the report.
#[wasm_bindgen(unchecked_return_type = "Preview")]
pub fn preview(
    #[wasm_bindgen(unchecked_param_type = "WizardDraft")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ContextInput")] ctx: Option<JsValue>,
) -> Result<JsValue, JsError> {
    let ctx = context(&ctx.unwrap_or(JsValue::UNDEFINED))?;
    to_js(&core::to_json(&core::preview(&from_js(&input)?, &ctx)))
}

/// The wizard's steps and fields with labels, help texts and options in `locale` (default `es`).
#[wasm_bindgen(unchecked_return_type = "StepMeta[]")]
pub fn steps(
    #[wasm_bindgen(unchecked_param_type = "Locale")] locale: Option<String>,
) -> Result<JsValue, JsError> {
    let locale = match locale.as_deref() {
        None => Locale::Es,
        Some(l) => Locale::parse(l).ok_or_else(|| {
            into_error(&["unsupported locale \"", l, "\": expected \"es\" or \"en\""])
        })?,
    };
    to_js(&core::to_json(&core::metadata::steps(locale)))
}

/// The JSON Schema (draft 2020-12) of the wizard input.
#[wasm_bindgen(unchecked_return_type = "JsonSchema")]
pub fn schema() -> Result<JsValue, JsError> {
    // Built at compile time by build.rs from the same function; see there.
    to_js(include_str!(concat!(env!("OUT_DIR"), "/schema.json")))
}

/// The rule set's version; the server reports it too, so a stale client can be detected.
#[wasm_bindgen(js_name = rulesVersion)]
pub fn rules_version() -> String {
    core::RULES_VERSION.to_owned()
}
