//! What a validation depends on besides the input: the locale of the messages, the reference
//! date (rules never read a clock) and the user's own e-mail address, when known.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Es,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Es, Locale::En];

    pub fn parse(s: &str) -> Option<Locale> {
        match s {
            "es" => Some(Locale::Es),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Es => "es",
            Locale::En => "en",
        }
    }
}

/// A calendar date (proleptic Gregorian), parsed strictly from `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let year = i32::try_from(num(0..4)?).ok()?;
        let month = u8::try_from(num(5..7)?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        Date::new(year, month, day)
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's civil_from_days).
    pub fn from_unix_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    pub fn year(self) -> i32 {
        self.year
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// The validation context. Build it with [`Context::new`] or [`Context::from_json`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub locale: Locale,
    pub today: Date,
    /// Lower-cased and trimmed, like the invitation addresses it is compared with.
    pub self_email: Option<String>,
}

impl Context {
    pub fn new(locale: Locale, today: Date, self_email: Option<&str>) -> Context {
        let self_email = self_email
            .map(crate::email::normalize)
            .filter(|e| !e.is_empty());
        Context {
            locale,
            today,
            self_email,
        }
    }

    /// Reads `{ "locale"?: "es"|"en", "today"?: "YYYY-MM-DD", "self_email"?: string }`.
    /// `today` falls back to `default_today`, which the caller takes from its own clock.
    pub fn from_json(
        value: &serde_json::Value,
        default_today: Date,
    ) -> Result<Context, ContextError> {
        let obj = match value {
            serde_json::Value::Null => return Ok(Context::new(Locale::Es, default_today, None)),
            serde_json::Value::Object(obj) => obj,
            _ => return Err(ContextError::NotAnObject),
        };
        let mut locale = Locale::Es;
        let mut today = default_today;
        let mut self_email = None;
        for (key, v) in obj {
            let text = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s.as_str(),
                _ => return Err(ContextError::NotAString(key.clone())),
            };
            match key.as_str() {
                "locale" => {
                    locale =
                        Locale::parse(text).ok_or_else(|| ContextError::Locale(text.to_owned()))?
                }
                "today" => {
                    today = Date::parse(text).ok_or_else(|| ContextError::Today(text.to_owned()))?
                }
                "self_email" => self_email = Some(text),
                _ => return Err(ContextError::UnknownField(key.clone())),
            }
        }
        Ok(Context::new(locale, today, self_email))
    }
}

/// Why a context was refused. Contexts come from code, not from end users, so these are
/// programming errors: the CLI exits 2 and the npm package throws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextError {
    NotAnObject,
    NotAString(String),
    Locale(String),
    Today(String),
    UnknownField(String),
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextError::NotAnObject => write!(f, "context must be an object"),
            ContextError::NotAString(k) => write!(f, "context field `{k}` must be a string"),
            ContextError::Locale(v) => {
                write!(f, "unsupported locale {v:?}: expected \"es\" or \"en\"")
            }
            ContextError::Today(v) => {
                write!(f, "invalid today {v:?}: expected a date as YYYY-MM-DD")
            }
            ContextError::UnknownField(k) => {
                write!(
                    f,
                    "unknown context field `{k}`: expected locale, today or self_email"
                )
            }
        }
    }
}

impl std::error::Error for ContextError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strict_dates() {
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-00",
            "+024-01-01",
            "2024-01-01 ",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_from_days() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(19_782).to_string(), "2024-02-29");
        assert_eq!(Date::from_unix_days(-1).to_string(), "1969-12-31");
    }

    #[test]
    fn context_errors_are_clear() {
        let d = Date::parse("2026-01-01").unwrap_or_else(|| unreachable!());
        let err = Context::from_json(&serde_json::json!({"locale": "fr"}), d).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported locale \"fr\": expected \"es\" or \"en\""
        );
        let err = Context::from_json(&serde_json::json!({"lang": "es"}), d).unwrap_err();
        assert!(err.to_string().contains("unknown context field `lang`"));
        let ok = Context::from_json(&serde_json::json!({"self_email": " Ana@X.com "}), d)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.self_email.as_deref(), Some("ana@x.com"));
    }
}
