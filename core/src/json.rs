//! The one JSON writer of core's outputs ([`crate::to_json`]), used by the CLI, the server and
//! the npm package alike. It writes exactly what `serde_json::to_string` writes for the same
//! value (same escapes, integers, shortest round-trip floats through the same `zmij`, `null` for
//! a non-finite float), which `core/tests/it/json.rs` checks over every vector; the `Serialize`
//! derives stay for the server's own responses. Why not serde: in the npm package, serde's
//! serializer and the derived impls were ~9 KB of wasm, and the report's serialization a
//! quarter of a `validateStep` call (decision 55).

use crate::metadata::{FieldMeta, OptionMeta, StepMeta};
use crate::report::{Code, Issue, Param, Params, Report, Severity};
use crate::transform::{
    Invitation, KeyResult, Membership, Objective, Organization, Preferences, Preview, Profile,
    Records,
};
use serde_json::Value;

/// A value core can write as JSON.
pub trait ToJson {
    fn write_json(&self, out: &mut String);
}

/// Starts a member or an element: a comma unless it is the first in its object or array.
fn separate(out: &mut String) {
    if !matches!(out.as_bytes().last(), Some(b'{' | b'[') | None) {
        out.push(',');
    }
}

/// `"name":` (names are Rust identifiers: nothing to escape).
fn key(out: &mut String, name: &str) {
    separate(out);
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
}

fn member(out: &mut String, name: &str, value: &dyn ToJson) {
    key(out, name);
    value.write_json(out);
}

/// A member left out when `None` (serde's `skip_serializing_if = "Option::is_none"`).
fn optional<T: ToJson>(out: &mut String, name: &str, value: &Option<T>) {
    if let Some(v) = value {
        member(out, name, v);
    }
}

fn string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'\n' => 'n',
            b'\r' => 'r',
            b'\t' => 't',
            0x08 => 'b',
            0x0C => 'f',
            0x00..=0x1F => 'u',
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push('\\');
        out.push(short);
        if short == 'u' {
            out.push_str("00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

impl ToJson for str {
    fn write_json(&self, out: &mut String) {
        string(out, self);
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut String) {
        string(out, self);
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl ToJson for i64 {
    fn write_json(&self, out: &mut String) {
        out.push_str(itoa::Buffer::new().format(*self));
    }
}

impl ToJson for u64 {
    fn write_json(&self, out: &mut String) {
        out.push_str(itoa::Buffer::new().format(*self));
    }
}

impl ToJson for usize {
    fn write_json(&self, out: &mut String) {
        out.push_str(itoa::Buffer::new().format(*self));
    }
}

impl ToJson for f64 {
    fn write_json(&self, out: &mut String) {
        if self.is_finite() {
            out.push_str(zmij::Buffer::new().format_finite(*self));
        } else {
            out.push_str("null");
        }
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out);
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn write_json(&self, out: &mut String) {
        match self {
            Some(v) => v.write_json(out),
            None => out.push_str("null"),
        }
    }
}

impl<T: ToJson> ToJson for [T] {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for item in self {
            separate(out);
            item.write_json(out);
        }
        out.push(']');
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, out: &mut String) {
        self.as_slice().write_json(out);
    }
}

impl ToJson for Value {
    fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => b.write_json(out),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => u.write_json(out),
                (None, Some(i), _) => i.write_json(out),
                (None, None, f) => f.unwrap_or(f64::NAN).write_json(out),
            },
            Value::String(s) => string(out, s),
            Value::Array(items) => items.write_json(out),
            Value::Object(map) => {
                out.push('{');
                for (k, v) in map {
                    separate(out);
                    string(out, k);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// `impl ToJson` for a struct whose members are its fields, in order, all written.
macro_rules! objects {
    ($($ty:ty { $($field:ident),* })*) => {$(
        impl ToJson for $ty {
            fn write_json(&self, out: &mut String) {
                out.push('{');
                $(member(out, stringify!($field), &self.$field);)*
                out.push('}');
            }
        }
    )*};
}

objects! {
    Report { valid, rules_version, issues }
    Issue { path, code, severity, message, params }
    Preview { slug, records, report }
    Records { organization, membership, profile, objectives, invitations }
    Organization {
        name, slug, industry, size, employee_count, country, website, description, founded_year,
        okr_maturity, challenges, goals, timezone, okr_cycle, language
    }
    Membership { role }
    Profile {
        full_name, job_title, department, team_size, experience_with_okr, primary_goal,
        urgency_level, preferences, setup_demo, additional_notes
    }
    Preferences {
        language, communication_style, notification_frequency, focus_areas, ai_assistance_level,
        timezone, okr_cycle
    }
    Objective { position, title, description, key_results }
    KeyResult { position, title, metric_type, baseline, target, unit }
    Invitation { email, role }
    StepMeta { id, index, title, description, skippable, fields }
    OptionMeta { value, label }
}

impl ToJson for FieldMeta {
    fn write_json(&self, out: &mut String) {
        out.push('{');
        member(out, "name", &self.name);
        member(out, "kind", &self.kind);
        member(out, "required", &self.required);
        member(out, "label", &self.label);
        member(out, "help", &self.help);
        member(out, "placeholder", &self.placeholder);
        optional(out, "min_length", &self.min_length);
        optional(out, "max_length", &self.max_length);
        optional(out, "min", &self.min);
        optional(out, "max", &self.max);
        optional(out, "max_is", &self.max_is);
        optional(out, "min_items", &self.min_items);
        optional(out, "max_items", &self.max_items);
        optional(out, "recommended_max_items", &self.recommended_max_items);
        optional(out, "options", &self.options);
        optional(out, "default", &self.default);
        optional(out, "item_fields", &self.item_fields);
        out.push('}');
    }
}

impl ToJson for Code {
    fn write_json(&self, out: &mut String) {
        string(out, self.as_str());
    }
}

impl ToJson for Severity {
    fn write_json(&self, out: &mut String) {
        string(
            out,
            match self {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
        );
    }
}

impl ToJson for Param {
    fn write_json(&self, out: &mut String) {
        match self {
            Param::Int(i) => i.write_json(out),
            Param::Num(n) => n.write_json(out),
            Param::Str(s) => string(out, s),
            Param::List(items) => items.write_json(out),
            Param::Options(options) => {
                out.push('[');
                for o in options.iter() {
                    separate(out);
                    string(out, o.value);
                }
                out.push(']');
            }
        }
    }
}

impl ToJson for Params {
    fn write_json(&self, out: &mut String) {
        out.push('{');
        for (name, value) in &self.0 {
            member(out, name, value);
        }
        out.push('}');
    }
}
