//! The report both the npm package and the server return: `valid`, `rules_version` and the
//! issues in a deterministic order (step, field, list index), each with a stable code, a
//! severity, a localized message and its parameters.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($($variant:ident => $name:literal, $severity:ident;)*) => {
        /// Stable issue codes. Never rename one: clients switch on them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }
        }
    };
}

codes! {
    Required => "required", Error;
    InvalidType => "invalid_type", Error;
    TooShort => "too_short", Error;
    TooLong => "too_long", Error;
    InvalidCharacters => "invalid_characters", Error;
    NoLetterOrDigit => "no_letter_or_digit", Error;
    InvalidEnum => "invalid_enum", Error;
    NotInteger => "not_integer", Error;
    NotNumber => "not_number", Error;
    OutOfRange => "out_of_range", Error;
    InvalidEmail => "invalid_email", Error;
    InvalidUrl => "invalid_url", Error;
    InvalidCountry => "invalid_country", Error;
    InvalidTimezone => "invalid_timezone", Error;
    TooFewItems => "too_few_items", Error;
    TooManyItems => "too_many_items", Error;
    DuplicateItem => "duplicate_item", Error;
    MustBeTrue => "must_be_true", Error;
    TargetEqualsBaseline => "target_equals_baseline", Error;
    InvalidValue => "invalid_value", Error;
    UnknownField => "unknown_field", Error;
    CannotInviteSelf => "cannot_invite_self", Error;
    SizeMismatch => "size_mismatch", Warning;
    TeamLargerThanCompany => "team_larger_than_company", Warning;
    TooManyKeyResults => "too_many_key_results", Warning;
    PersonalEmailDomain => "personal_email_domain", Warning;
}

/// A parameter value of an issue (interpolated into its message, and given to clients).
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Int(i64),
    Num(f64),
    Str(std::borrow::Cow<'static, str>),
    List(Vec<&'static str>),
    /// The values of an enum's options (`allowed` of `invalid_enum`), without copying them.
    Options(&'static [&'static str]),
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Int(i) => s.serialize_i64(*i),
            Param::Num(n) => s.serialize_f64(*n),
            Param::Str(v) => s.serialize_str(v),
            Param::List(l) => l.serialize(s),
            Param::Options(o) => o.serialize(s),
        }
    }
}

/// Parameters in a fixed order (the order they are added in), serialized as a JSON object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params(pub Vec<(&'static str, Param)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// In the OpenAPI document: an object whose values are numbers, strings or lists of strings.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Params {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type,
        };
        let value = OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)));
        ObjectBuilder::new()
            .additional_properties(Some(AdditionalProperties::RefOr(value.into())))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Params {}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Issue {
    pub path: String,
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    #[cfg_attr(
        feature = "ts",
        ts(type = "Record<string, number | string | string[]>")
    )]
    pub params: Params,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub valid: bool,
    pub rules_version: &'static str,
    pub issues: Vec<Issue>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.severity == Severity::Error)
    }
}
