//! A JSON Schema (draft 2020-12) of the wizard input, generated from the rule tables, and of its
//! output (what a valid input normalizes to). It states the shape (types, enums, lengths, list
//! sizes); rules a schema cannot express (character classes, cross-field rules, the reference
//! year) are named in `description`s and enforced by the validator alone.

use crate::rules::{Charset, Field, IntMax, Kind, STEPS};
use crate::texts::{FieldWords, NONE};
use serde_json::{json, Map, Value};

/// Which side of the normalization a schema describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// What the wizard accepts: numbers may come as text, country codes in either case.
    Input,
    /// What a valid input normalizes to: numbers as numbers, country codes in upper case.
    Output,
}

/// The schema of the wizard's input.
pub fn schema() -> Value {
    schema_of(Side::Input)
}

/// The schema of the wizard's input or of its normalized output.
pub fn schema_of(side: Side) -> Value {
    let mut properties = Map::new();
    for step in &STEPS {
        let words = &crate::texts::STEPS[step.id.index()];
        properties.insert(
            step.name.to_owned(),
            object(
                step.fields,
                |name| words.field(name),
                words.title.en(),
                words.description.en(),
                side,
            ),
        );
    }
    let (id, what) = match side {
        Side::Input => ("urn:onboarding:wizard", "Input"),
        Side::Output => ("urn:onboarding:wizard-output", "Normalized output"),
    };
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": id,
        "title": "Onboarding wizard",
        "description": format!("{what} of the onboarding wizard, rules version {}.", crate::RULES_VERSION),
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// An object of `fields`, with each field's words found by name (`words`).
fn object(
    fields: &[Field],
    words: impl Fn(&str) -> Option<&'static FieldWords>,
    title: &str,
    description: &str,
    side: Side,
) -> Value {
    let mut properties = Map::new();
    for f in fields {
        properties.insert(f.name.to_owned(), field(f, words(f.name), side));
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    json!({
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

const INTEGER_STRING: &str = r"^\s*[+-]?[0-9]+\s*$";
const NUMBER_STRING: &str = r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$";

fn field(f: &Field, words: Option<&'static FieldWords>, side: Side) -> Value {
    let label = words.map_or(NONE, |w| w.label).en();
    let mut s = match f.kind {
        Kind::Text { min, max, charset } => {
            let mut s = json!({"type": "string", "minLength": min, "maxLength": max});
            let note = match charset {
                Charset::Any => None,
                Charset::PersonName => Some("Letters of any script, spaces, ' - . only."),
                Charset::CompanyName => Some("At least one letter or digit; letters, digits, spaces and - _ . & ( ) ' , + / only."),
            };
            if let Some(n) = note {
                s["description"] = json!(n);
            }
            s
        }
        Kind::Multiline { min, max } => {
            json!({"type": "string", "minLength": min, "maxLength": max})
        }
        Kind::Enum(values) => json!({"enum": values}),
        Kind::EnumSet { options, min, max } => json!({
            "type": "array", "items": {"enum": options},
            "minItems": min, "maxItems": max, "uniqueItems": true,
        }),
        Kind::Integer { min, max } => {
            let mut int = json!({"type": "integer", "minimum": min});
            match max {
                IntMax::Fixed(m) => int["maximum"] = json!(m),
                IntMax::ReferenceYear => {
                    int["description"] = json!("At most the year of the reference date.")
                }
            }
            match side {
                Side::Input => {
                    json!({"anyOf": [int, {"type": "string", "pattern": INTEGER_STRING}]})
                }
                Side::Output => int,
            }
        }
        Kind::Number => match side {
            Side::Input => {
                json!({"anyOf": [{"type": "number"}, {"type": "string", "pattern": NUMBER_STRING}]})
            }
            Side::Output => json!({"type": "number"}),
        },
        Kind::Country => match side {
            Side::Input => json!({
                "type": "string", "pattern": r"^\s*[A-Za-z]{2}\s*$",
                "description": "ISO 3166-1 alpha-2 code, case-insensitive.",
            }),
            Side::Output => json!({
                "type": "string", "pattern": "^[A-Z]{2}$",
                "description": "ISO 3166-1 alpha-2 code.",
            }),
        },
        Kind::Url => json!({
            "type": "string", "maxLength": crate::url::MAX_LEN,
            "description": "http or https URL; a bare host name gets https://.",
        }),
        Kind::Timezone => {
            json!({"type": "string", "description": "An IANA tz database name, e.g. America/Mexico_City."})
        }
        Kind::MustBeTrue => json!({"const": true}),
        Kind::EmailList { max } => json!({
            "type": "array", "items": {"type": "string", "maxLength": crate::email::MAX_LEN, "format": "email"},
            "maxItems": max,
        }),
        Kind::List { item, min, max, .. } => json!({
            "type": "array",
            "items": object(
                item,
                |name| words.and_then(|w| w.item(name)),
                label,
                words.map_or(NONE, |w| w.help).en(),
                side,
            ),
            "minItems": min, "maxItems": max,
        }),
    };
    if let Value::Object(obj) = &mut s {
        obj.insert("title".to_owned(), json!(label));
        if let Some(d) = f.default {
            obj.insert(
                "default".to_owned(),
                crate::json::parse(d).unwrap_or(Value::Null),
            );
        }
    }
    if f.required {
        s
    } else {
        json!({"anyOf": [s, {"type": "null"}]})
    }
}
