//! The report both the npm package and the server return: `valid`, `rules_version` and the
//! issues in a deterministic order (step, field, list index), each with a stable code, a
//! severity, a localized message and its parameters.

use crate::context::Locale;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
}

/// A parameter value of an issue (interpolated into its message, and given to clients).
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Int(i64),
    Num(f64),
    Str(std::borrow::Cow<'static, str>),
    List(Vec<&'static str>),
    /// The values of an enum's options (`allowed` of `invalid_enum`), without copying them.
    Options(&'static [crate::rules::Opt]),
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Int(i) => s.serialize_i64(*i),
            Param::Num(n) => s.serialize_f64(*n),
            Param::Str(v) => s.serialize_str(v),
            Param::List(l) => l.serialize(s),
            Param::Options(o) => s.collect_seq(o.iter().map(|o| o.value)),
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

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

/// Where an issue sorts: step, field, item, sub-field, sub-item, sub-sub-field. Indexes of list
/// items are stored plus one, so that an issue about a whole list sorts before its items'.
pub type SortKey = [u32; 6];

/// An issue before localization.
#[derive(Clone, Debug, PartialEq)]
pub struct RawIssue {
    pub key: SortKey,
    pub path: String,
    pub code: Code,
    pub params: Params,
}

/// Collects issues while the rules run, then sorts and localizes them.
#[derive(Clone, Debug, Default)]
pub struct Issues {
    issues: Vec<RawIssue>,
    errors: usize,
}

impl Issues {
    pub fn push(
        &mut self,
        key: SortKey,
        path: String,
        code: Code,
        params: Vec<(&'static str, Param)>,
    ) {
        if code.severity() == Severity::Error {
            self.errors += 1;
        }
        self.issues.push(RawIssue {
            key,
            path,
            code,
            params: Params(params),
        });
    }

    /// How many errors so far: compare before and after checking a part to see if it passed.
    pub fn error_count(&self) -> usize {
        self.errors
    }

    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    pub fn has_errors_under(&self, path: &str) -> bool {
        self.issues.iter().any(|i| {
            i.code.severity() == Severity::Error
                && i.path.starts_with(path)
                && matches!(
                    i.path.as_bytes().get(path.len()),
                    None | Some(b'.') | Some(b'[')
                )
        })
    }

    pub fn report(mut self, locale: Locale) -> Report {
        // Stable: issues with one key keep the order the rules found them in.
        if !self.issues.is_sorted_by_key(|i| i.key) {
            self.issues = crate::order::sorted_by(self.issues, |a, b| a.key.cmp(&b.key));
        }
        let mut issues: Vec<Issue> = Vec::with_capacity(self.issues.len());
        for raw in self.issues {
            issues.push(Issue {
                message: crate::messages::render(raw.code, &raw.params, locale),
                severity: raw.code.severity(),
                path: raw.path,
                code: raw.code,
                params: raw.params,
            });
        }
        Report {
            valid: !issues.iter().any(|i| i.severity == Severity::Error),
            rules_version: crate::RULES_VERSION,
            issues,
        }
    }
}
