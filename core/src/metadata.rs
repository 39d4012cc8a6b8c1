//! Wizard metadata for frontends: every step and field with its kind, limits, options, labels,
//! help texts and placeholders in one locale, read from the same tables the validator uses.

use crate::context::Locale;
use crate::rules::{Field, IntMax, Kind, STEPS};
use crate::texts::{FieldWords, NONE};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepMeta {
    pub id: &'static str,
    pub index: usize,
    pub title: &'static str,
    pub description: &'static str,
    pub skippable: bool,
    pub fields: Vec<FieldMeta>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldMeta {
    pub name: &'static str,
    pub kind: &'static str,
    pub required: bool,
    pub label: &'static str,
    pub help: &'static str,
    pub placeholder: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// `"reference_year"` when the maximum is the year of the reference date (`today`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_is: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_items: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended_max_items: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<OptionMeta>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "string | number"))]
    #[cfg_attr(feature = "openapi", schema(schema_with = string_or_number))]
    pub default: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub item_fields: Option<Vec<FieldMeta>>,
}

/// A field's default in the OpenAPI document: a string or a number.
#[cfg(feature = "openapi")]
fn string_or_number() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .build(),
    )
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptionMeta {
    pub value: &'static str,
    pub label: &'static str,
}

/// The steps with their fields' rules and words in `locale`.
pub fn steps(locale: Locale) -> Vec<StepMeta> {
    STEPS
        .iter()
        .map(|s| {
            let words = &crate::texts::STEPS[s.id.index()];
            StepMeta {
                id: s.name,
                index: s.id.index(),
                title: words.title.get(locale),
                description: words.description.get(locale),
                skippable: s.skippable,
                fields: fields(s.fields, |name| words.field(name), locale),
            }
        })
        .collect()
}

/// Fields with their words, found by name (`words`).
fn fields(
    list: &[Field],
    words: impl Fn(&str) -> Option<&'static FieldWords>,
    locale: Locale,
) -> Vec<FieldMeta> {
    list.iter()
        .map(|f| field(f, words(f.name), locale))
        .collect()
}

fn options(values: &[&'static str], words: Option<&FieldWords>, locale: Locale) -> Vec<OptionMeta> {
    values
        .iter()
        .map(|value| OptionMeta {
            value,
            label: words.map_or(NONE, |w| w.option(value)).get(locale),
        })
        .collect()
}

fn field(f: &Field, words: Option<&'static FieldWords>, locale: Locale) -> FieldMeta {
    let text = |pick: fn(&FieldWords) -> crate::texts::Tr| words.map_or(NONE, pick).get(locale);
    let mut m = FieldMeta {
        name: f.name,
        kind: f.kind.name(),
        required: f.required,
        label: text(|w| w.label),
        help: text(|w| w.help),
        placeholder: text(|w| w.placeholder),
        min_length: None,
        max_length: None,
        min: None,
        max: None,
        max_is: None,
        min_items: None,
        max_items: None,
        recommended_max_items: None,
        options: None,
        default: f.default.and_then(|d| crate::json::parse(d).ok()),
        item_fields: None,
    };
    match f.kind {
        Kind::Text { min, max, .. } | Kind::Multiline { min, max } => {
            m.min_length = (min > 0).then_some(min);
            m.max_length = Some(max);
        }
        Kind::Integer { min, max } => {
            m.min = Some(min);
            match max {
                IntMax::Fixed(v) => m.max = Some(v),
                IntMax::ReferenceYear => m.max_is = Some("reference_year"),
            }
        }
        Kind::Url => m.max_length = Some(crate::url::MAX_LEN),
        Kind::Enum(values) => m.options = Some(options(values, words, locale)),
        Kind::EnumSet {
            options: values,
            min,
            max,
        } => {
            m.options = Some(options(values, words, locale));
            m.min_items = Some(min);
            m.max_items = Some(max);
        }
        Kind::Country => {
            // By name as a reader sorts it (accents folded, as in slugs).
            let mut list: Vec<(String, OptionMeta)> = crate::reference::countries()
                .map(|(code, en, es)| {
                    let label = if locale == Locale::Es { es } else { en };
                    (
                        crate::slug::slugify(label),
                        OptionMeta { value: code, label },
                    )
                })
                .collect();
            list.sort_by(|a, b| a.0.cmp(&b.0));
            m.options = Some(list.into_iter().map(|(_, o)| o).collect());
        }
        Kind::Timezone => {
            let zones = crate::reference::timezones();
            m.options = Some(
                zones
                    .map(|tz| OptionMeta {
                        value: tz,
                        label: tz,
                    })
                    .collect(),
            );
        }
        Kind::EmailList { max } => {
            m.min_items = Some(0);
            m.max_items = Some(max);
        }
        Kind::List {
            item,
            min,
            max,
            warn_above,
            ..
        } => {
            m.min_items = Some(min);
            m.max_items = Some(max);
            m.recommended_max_items = warn_above;
            m.item_fields = Some(fields(
                item,
                |name| words.and_then(|w| w.item(name)),
                locale,
            ));
        }
        Kind::Number | Kind::MustBeTrue => {}
    }
    m
}
