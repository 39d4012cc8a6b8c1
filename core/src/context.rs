//! What a validation depends on besides the input: the locale of the messages, the reference
//! date (rules never read a clock) and the user's own e-mail address, when known.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
                .then(|| crate::text::small_number(part))
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

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil); the inverse of
    /// [`Date::from_unix_days`].
    pub fn unix_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
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

    /// Reads a [`ContextInput`] (`null` is the default context). `today` falls back to
    /// `default_today`, which the caller takes from its own clock. Read by hand rather than by
    /// serde's derive (see the crate docs), with messages that name the field.
    pub fn from_json(
        value: &serde_json::Value,
        default_today: impl FnOnce() -> Date,
    ) -> Result<Context, ContextError> {
        let obj = match value {
            serde_json::Value::Null => return Ok(Context::new(Locale::Es, default_today(), None)),
            serde_json::Value::Object(obj) => obj,
            _ => return Err(ContextError::Invalid("expected an object".to_owned())),
        };
        let mut input = ContextInput::default();
        for (key, v) in obj {
            match v {
                serde_json::Value::Null => {}
                serde_json::Value::String(s) => input.set(key, s)?,
                _ => return Err(ContextError::not_a_string(key)),
            }
        }
        input.into_context(default_today)
    }
}

impl ContextInput {
    /// Sets one field by name, as read from JSON or a JS object.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ContextError> {
        match key {
            "locale" => {
                self.locale = Some(Locale::parse(value).ok_or_else(|| {
                    ContextError::Invalid(
                        ["unknown locale `", value, "`, expected `es` or `en`"].concat(),
                    )
                })?)
            }
            "today" => self.today = Some(value.to_owned()),
            "self_email" => self.self_email = Some(value.to_owned()),
            _ => {
                return Err(ContextError::Invalid(
                    [
                        "unknown field `",
                        key,
                        "`, expected one of `locale`, `today`, `self_email`",
                    ]
                    .concat(),
                ))
            }
        }
        Ok(())
    }

    /// The context; `default_today` (the caller's clock) is read only when `today` is absent.
    pub fn into_context(
        self,
        default_today: impl FnOnce() -> Date,
    ) -> Result<Context, ContextError> {
        let today = match self.today.as_deref() {
            None => default_today(),
            Some(t) => Date::parse(t).ok_or_else(|| ContextError::Today(t.to_owned()))?,
        };
        Ok(Context::new(
            self.locale.unwrap_or_default(),
            today,
            self.self_email.as_deref(),
        ))
    }
}

/// The context as JSON: `{ locale?: "es" | "en", today?: "YYYY-MM-DD", self_email?: string }`.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContextInput {
    #[cfg_attr(feature = "ts", ts(optional))]
    pub locale: Option<Locale>,
    /// The reference date, `YYYY-MM-DD`.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub today: Option<String>,
    /// The user's own address: inviting it is `cannot_invite_self`.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub self_email: Option<String>,
}

/// Why a context was refused. Contexts come from code, not from end users, so these are
/// programming errors: the CLI exits 2 and the npm package throws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextError {
    Invalid(String),
    Today(String),
}

impl ContextError {
    pub fn not_a_string(key: &str) -> ContextError {
        ContextError::Invalid(["`", key, "` must be a string"].concat())
    }

    /// The message (also its `Display`).
    pub fn message(&self) -> String {
        match self {
            ContextError::Invalid(e) => ["invalid context: ", e].concat(),
            ContextError::Today(v) => [
                "invalid context: today \"",
                v,
                "\" is not a date as YYYY-MM-DD",
            ]
            .concat(),
        }
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ContextError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_days_round_trips() {
        assert_eq!(Date::parse("1970-01-01").unwrap().unix_days(), 0);
        assert_eq!(Date::parse("2026-11-27").unwrap().unix_days(), 20_784);
        for days in (-800_000..3_000_000).step_by(997) {
            assert_eq!(Date::from_unix_days(days).unix_days(), days);
        }
    }

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
        let d = Date::parse("2026-01-01").unwrap();
        let err = |v: serde_json::Value| Context::from_json(&v, || d).unwrap_err().to_string();
        assert_eq!(
            err(serde_json::json!({"locale": "fr"})),
            "invalid context: unknown locale `fr`, expected `es` or `en`"
        );
        assert!(err(serde_json::json!({"lang": "es"})).contains("unknown field `lang`"));
        assert!(err(serde_json::json!({"today": "27/11/2026"})).contains("YYYY-MM-DD"));
        assert!(err(serde_json::json!("es")).starts_with("invalid context"));
        let ok =
            Context::from_json(&serde_json::json!({"self_email": " Ana@X.com "}), || d).unwrap();
        assert_eq!(ok.self_email.as_deref(), Some("ana@x.com"));
        assert_eq!(
            Context::from_json(&serde_json::Value::Null, || d)
                .unwrap()
                .locale,
            Locale::Es
        );
    }
}
