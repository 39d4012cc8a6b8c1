//! Normalization, applied before every check: NFC; single-line text trimmed with whitespace runs
//! collapsed; multi-line text trimmed with CRLF → LF; e-mails trimmed and lower-cased; country
//! upper-cased; website given a scheme, host lower-cased, trailing `/` dropped; time zones in
//! their canonical spelling; integer and number strings turned into numbers. Values that do not
//! fit their field are left untouched for validation to report. Normalizing twice changes nothing.

use crate::rules::{Field, Kind, StepId};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

/// The wizard normalized, in place: the values left alone are not copied.
pub fn wizard(mut input: Value) -> Value {
    if let Value::Object(obj) = &mut input {
        for (k, v) in obj.iter_mut() {
            if let Some(id) = StepId::parse(k) {
                step_in_place(id, v);
            }
        }
    }
    input
}

pub fn step(id: StepId, mut input: Value) -> Value {
    step_in_place(id, &mut input);
    input
}

fn step_in_place(id: StepId, v: &mut Value) {
    if let Value::Object(obj) = v {
        fields(id.spec().fields, obj);
    }
}

fn fields(fields: &[Field], obj: &mut Map<String, Value>) {
    for (k, v) in obj.iter_mut() {
        if let Some(f) = fields.iter().find(|f| f.name == k) {
            field(&f.kind, v);
        }
    }
}

/// Normalizes one field's value in place; the lists item by item.
fn field(kind: &Kind, v: &mut Value) {
    match (kind, &mut *v) {
        (Kind::EmailList { .. }, Value::Array(items)) => {
            for item in items {
                if let Value::String(s) = item {
                    *s = crate::email::normalize(s);
                }
            }
        }
        (Kind::List { item, .. }, Value::Array(items)) => {
            for it in items {
                if let Value::Object(obj) = it {
                    fields(item, obj);
                }
            }
        }
        _ => {
            if let Cow::Owned(n) = value(kind, v) {
                *v = n;
            }
        }
    }
}

/// The normalized form of one field's value (a list's value is returned as it is).
pub fn value<'a>(kind: &Kind, v: &'a Value) -> Cow<'a, Value> {
    let changed = match (kind, v) {
        (Kind::Text { .. }, Value::String(s)) if crate::text::is_single_line_normal(s) => {
            return Cow::Borrowed(v)
        }
        (Kind::Text { .. }, Value::String(s)) => Value::String(crate::text::single_line(s)),
        (Kind::Multiline { .. }, Value::String(s)) if crate::text::is_multiline_normal(s) => {
            return Cow::Borrowed(v)
        }
        (Kind::Multiline { .. }, Value::String(s)) => Value::String(crate::text::multiline(s)),
        (Kind::Integer { .. }, Value::String(s)) => match parse_integer(s) {
            Some(i) => Value::Number(i.into()),
            None => return Cow::Borrowed(v),
        },
        (Kind::Integer { .. }, Value::Number(n)) if !n.is_i64() && !n.is_u64() => {
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Number((f as i64).into()),
                _ => return Cow::Borrowed(v),
            }
        }
        (Kind::Number, Value::String(s)) => match parse_number(s) {
            Some(n) => n,
            None => return Cow::Borrowed(v),
        },
        (Kind::Country, Value::String(s)) => Value::String(s.trim().to_ascii_uppercase()),
        (Kind::Url, Value::String(s)) => Value::String(crate::url::normalize(s)),
        (Kind::Timezone, Value::String(s)) => {
            let t = s.trim();
            Value::String(
                crate::reference::canonical_timezone(t)
                    .unwrap_or(t)
                    .to_owned(),
            )
        }
        // Lists (e-mail lists and lists of objects) are normalized item by item, in place by
        // `field`, and by the validator as it checks each item.
        _ => return Cow::Borrowed(v),
    };
    Cow::Owned(changed)
}

/// `"42"`, `" -7 "`, `"+3"`: an optional sign and ASCII digits, fitting an i64.
pub fn parse_integer(s: &str) -> Option<i64> {
    if !is_integer_syntax(s) {
        return None;
    }
    s.trim().parse().ok()
}

/// Whether `s` is an optional sign and ASCII digits (with spaces around): an integer string,
/// which [`parse_integer`] reads and, when it does not fit an i64, validation reports as out of
/// range.
pub fn is_integer_syntax(s: &str) -> bool {
    let t = s.trim();
    let digits = crate::text::strip_sign(t);
    !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())
}

/// A decimal number string (`"1.5"`, `"-2"`, `"3e2"`), finite. No `inf`, `NaN` or hex.
fn parse_number(s: &str) -> Option<Value> {
    let t = s.trim();
    if let Some(i) = parse_integer(t) {
        return Some(Value::Number(i.into()));
    }
    let body = crate::text::strip_sign(t);
    let (mantissa, exponent) = match crate::text::find_ascii(body, b"eE") {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |p: &str| p.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = (!int.is_empty() || !frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = crate::text::strip_sign(e);
        !e.is_empty() && digits(e)
    });
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    // Rewritten in JSON's number syntax and read by core's JSON reader, so a number typed as
    // text becomes exactly the number the same digits give in JSON (serde_json's conversion).
    let int = int.trim_start_matches('0');
    let sign = if t.starts_with('-') { "-" } else { "" };
    let int = if int.is_empty() { "0" } else { int };
    let dot = if frac.is_empty() { "" } else { "." };
    let (e, exponent) = exponent.map_or(("", ""), |x| ("e", x));
    let json = [sign, int, dot, frac, e, exponent].concat();
    let n = crate::json::parse(&json).ok()?.as_f64()?;
    Number::from_f64(n).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_from_strings() {
        assert_eq!(parse_integer(" 42 "), Some(42));
        assert_eq!(parse_integer("+3"), Some(3));
        assert_eq!(parse_integer("-0"), Some(0));
        assert_eq!(parse_integer("4.2"), None);
        assert_eq!(parse_integer("99999999999999999999"), None);
        for edge in [
            "9223372036854775807",
            "-9223372036854775808",
            "-9223372036854775809",
            "9223372036854775808",
            "+0",
            "-007",
            "00000000000000000000000042",
        ] {
            assert_eq!(
                parse_integer(edge),
                edge.strip_prefix('+').unwrap_or(edge).parse().ok(),
                "{edge}"
            );
        }
        assert!(is_integer_syntax("99999999999999999999"));
        assert_eq!(parse_number("1.5"), Some(json!(1.5)));
        assert_eq!(parse_number(".5"), Some(json!(0.5)));
        assert_eq!(parse_number("3e2"), Some(json!(300.0)));
        assert_eq!(parse_number("+007.50"), Some(json!(7.5)));
        assert_eq!(parse_number("5."), Some(json!(5.0)));
        assert_eq!(parse_number("-0.25e-2"), Some(json!(-0.0025)));
        for bad in ["", "inf", "NaN", "1e400", "0x10", "1.2.3", "e5", "1e", "."] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn step_normalization() {
        let v = json!({"company_name": "  Cafe\u{0301}  Niño ", "country": " mx ", "website": "Acme.COM/",
                       "employee_count": "42", "extra": " x "});
        let n = step(StepId::Company, v);
        assert_eq!(n["company_name"], "Caf\u{e9} Niño");
        assert_eq!(n["country"], "MX");
        assert_eq!(n["website"], "https://acme.com");
        assert_eq!(n["employee_count"], 42);
        assert_eq!(n["extra"], " x ");
    }
}
