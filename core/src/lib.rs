//! The onboarding wizard's rules: one source of truth for the browser (through `wasm`) and the
//! server. Untyped JSON goes in, a deterministic report (or normalized data, metadata, the JSON
//! Schema, the persisted records) comes out. No I/O, no clock: the reference date is an input.
//!
//! Layout: [`rules`] holds the steps and fields as data and [`texts`] their words; [`normalize`]
//! and [`validate`] walk the rules; [`transform`] turns a valid wizard into records;
//! [`messages`] localizes; [`metadata`] and [`schema`] export the tables for frontends.
//!
//! One constraint comes from the npm module, which is built without `core::fmt` (decision 57):
//! what validation, normalization and the transform run builds its text with `concat`, `join`
//! and `itoa` rather than `format!`, and the context and JSON are read by hand rather than by
//! serde's deserializer. The metadata, the schema, `Display` impls and tests use `format!`.

pub mod context;
mod data;
pub mod domains;
pub mod email;
pub mod issues;
pub mod json;
pub mod messages;
pub mod metadata;
pub mod nfc;
pub mod normalize;
pub mod reference;
pub mod report;
pub mod rules;
pub mod schema;
pub mod slug;
pub mod text;
pub mod texts;
pub mod transform;
pub mod url;
pub mod validate;

pub use context::{Context, ContextError, Date, Locale};
pub use report::{Code, Issue, Report, Severity};
pub use rules::StepId;
pub use transform::{Preview, Records};

/// Identifies the rule set. Bump it whenever a rule, limit, code or message changes; the
/// fingerprint test in `core/tests` fails until you do.
pub const RULES_VERSION: &str = "2026.12.07-1";

/// Validates a whole wizard (`{"welcome": {...}, "company": {...}, ...}`).
pub fn validate_wizard(input: &serde_json::Value, ctx: &Context) -> Report {
    validate::wizard(input, ctx).report(ctx.locale)
}

/// Validates one step's object. Cross-step rules (e.g. `team_larger_than_company`) need the whole
/// wizard and run only in [`validate_wizard`].
pub fn validate_step(step: StepId, input: &serde_json::Value, ctx: &Context) -> Report {
    validate::step(step, input, ctx).report(ctx.locale)
}

/// Returns the wizard in normalized form (see `normalize`), normalized in place; values that
/// cannot be normalized are left as they are, so validation still reports them.
pub fn normalize_wizard(input: serde_json::Value) -> serde_json::Value {
    normalize::wizard(input)
}

/// Normalizes one step's object.
pub fn normalize_step(step: StepId, input: serde_json::Value) -> serde_json::Value {
    normalize::step(step, input)
}

/// Validates the wizard and, when it is valid, transforms it into the records to persist.
/// The slug is previewed whenever the company name alone is valid.
pub fn preview(input: &serde_json::Value, ctx: &Context) -> Preview {
    transform::preview(input, ctx)
}

/// Serializes any of this crate's outputs (their `Serialize` derives) the one way the CLI, the
/// server and the npm package do.
pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Serializing these types cannot fail: no map has non-string keys, no type a custom error.
    serde_json::to_string(value).unwrap_or_default()
}
