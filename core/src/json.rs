//! Reading JSON: [`parse`] reads text into the `serde_json::Value` that `serde_json::from_str`
//! gives (same numbers, through serde_json's conversion and table rather than `str::parse`;
//! same strings; same nesting limit), with the line and column where it stops. Writing is
//! serde's (`crate::to_json`). Why a reader of our own: serde's deserializer is the larger half
//! of what serde_json would add to the npm package (decision 56); `core/tests/it/json.rs` and
//! the fuzz targets compare this reader with serde_json's on every input they have.

use serde_json::{Map, Number, Value};
use std::sync::OnceLock;

/// Why a text is not JSON, with the line and column (of bytes, from 1) where reading stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub reason: &'static str,
    pub line: usize,
    pub column: usize,
}

impl ParseError {
    /// The message (also its `Display`).
    pub fn message(&self) -> String {
        let mut line = itoa::Buffer::new();
        let mut column = itoa::Buffer::new();
        [
            self.reason,
            " at line ",
            line.format(self.line),
            " column ",
            column.format(self.column),
        ]
        .concat()
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// Nesting deeper than this is refused, as serde_json refuses it.
const MAX_DEPTH: usize = 127;

/// Reads JSON text into the `Value` that `serde_json::from_str` gives for it: the same numbers
/// (`u64`, then `i64`, then `f64` by serde_json's own rounding), strings (a lone surrogate
/// escape is an error), last-wins duplicate keys, nesting limit and trailing-character rule.
/// The npm package's only JSON reader (`core/tests/it/json.rs` and the fuzz targets compare it
/// with serde_json's); the server reads request bodies with serde_json itself.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser {
        src: text,
        at: 0,
        depth: 0,
    };
    let value = p.value().and_then(|value| {
        p.skip_whitespace();
        if p.at < p.text().len() {
            Err(Fail("trailing characters"))
        } else {
            Ok(value)
        }
    });
    value.map_err(|Fail(reason)| {
        let read = &p.text()[..p.at.min(p.text().len())];
        ParseError {
            reason,
            line: read.iter().filter(|&&b| b == b'\n').count() + 1,
            column: read.len() - read.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1),
        }
    })
}

/// Why reading stopped, inside the parser (where: `at`, which stays there; [`parse`] adds line
/// and column): one word, so results stay the size of a `Value`.
struct Fail(&'static str);

struct Parser<'t> {
    src: &'t str,
    at: usize,
    depth: usize,
}

impl<'t> Parser<'t> {
    fn text(&self) -> &'t [u8] {
        self.src.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.text().get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `b` after optional whitespace, or fails with `reason`.
    fn expect(&mut self, b: u8, reason: &'static str) -> Result<(), Fail> {
        self.skip_whitespace();
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(Fail(if self.peek().is_none() {
                "EOF while parsing"
            } else {
                reason
            }))
        }
    }

    fn value(&mut self) -> Result<Value, Fail> {
        self.skip_whitespace();
        let Some(b) = self.peek() else {
            return Err(Fail("EOF while parsing a value"));
        };
        match b {
            b'n' => self.ident(b"null", Value::Null),
            b't' => self.ident(b"true", Value::Bool(true)),
            b'f' => self.ident(b"false", Value::Bool(false)),
            b'"' => Ok(Value::String(self.string()?)),
            b'-' | b'0'..=b'9' => self.number(),
            b'[' | b'{' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(Fail("recursion limit exceeded"));
                }
                self.at += 1;
                let value = if b == b'[' {
                    self.array()
                } else {
                    self.object()
                }?;
                self.depth -= 1;
                Ok(value)
            }
            _ => Err(Fail("expected value")),
        }
    }

    fn ident(&mut self, word: &[u8], value: Value) -> Result<Value, Fail> {
        if self.text()[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(Fail("expected ident"))
        }
    }

    /// After `[`.
    fn array(&mut self) -> Result<Value, Fail> {
        let mut items = Vec::new();
        if !self.closes_at_once(b']') {
            loop {
                items.push(self.value()?);
                if self.after_item(b']', "expected `,` or `]`", "EOF while parsing a list")? {
                    break;
                }
            }
        }
        Ok(Value::Array(items))
    }

    /// After `{`.
    fn object(&mut self) -> Result<Value, Fail> {
        let mut map = Map::new();
        if !self.closes_at_once(b'}') {
            loop {
                self.skip_whitespace();
                match self.peek() {
                    Some(b'"') => {}
                    Some(_) => return Err(Fail("key must be a string")),
                    None => return Err(Fail("EOF while parsing an object")),
                }
                let key = self.string()?;
                self.expect(b':', "expected `:`")?;
                map.insert(key, self.value()?);
                if self.after_item(b'}', "expected `,` or `}`", "EOF while parsing an object")? {
                    break;
                }
            }
        }
        Ok(Value::Object(map))
    }

    /// Consumes `close` if the array or object is empty.
    fn closes_at_once(&mut self, close: u8) -> bool {
        self.skip_whitespace();
        let closes = self.peek() == Some(close);
        if closes {
            self.at += 1;
        }
        closes
    }

    /// After an element or member: `true` at the closing `close`, `false` at a comma.
    fn after_item(
        &mut self,
        close: u8,
        expected: &'static str,
        eof: &'static str,
    ) -> Result<bool, Fail> {
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                Ok(false)
            }
            Some(b) if b == close => {
                self.at += 1;
                Ok(true)
            }
            Some(_) => Err(Fail(expected)),
            None => Err(Fail(eof)),
        }
    }

    /// At `"`: the string's contents, unescaped.
    fn string(&mut self) -> Result<String, Fail> {
        self.at += 1;
        let mut out = String::new();
        let mut start = self.at;
        loop {
            // Skip to the next byte that needs a look (a tight loop: most bytes need none).
            let rest = &self.text()[self.at..];
            let Some(n) = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            else {
                self.at = self.text().len();
                return Err(Fail("EOF while parsing a string"));
            };
            self.at += n;
            let b = rest[n];
            if b < 0x20 {
                return Err(Fail(
                    "control character (\\u0000-\\u001F) found while parsing a string",
                ));
            }
            // `start` and `at` are next to ASCII bytes: char boundaries.
            let piece = &self.src[start..self.at];
            self.at += 1;
            if b == b'"' {
                // Most strings have no escape: one allocation of the right size.
                return Ok(if out.is_empty() {
                    piece.to_owned()
                } else {
                    out + piece
                });
            }
            out.push_str(piece);
            self.escape(&mut out)?;
            start = self.at;
        }
    }

    /// After `\`.
    fn escape(&mut self, out: &mut String) -> Result<(), Fail> {
        let Some(b) = self.peek() else {
            return Err(Fail("EOF while parsing a string"));
        };
        self.at += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = match high {
                    0xD800..=0xDBFF => {
                        if !self.text()[self.at..].starts_with(b"\\u") {
                            return Err(Fail("unexpected end of hex escape"));
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Fail("lone leading surrogate in hex escape"));
                        }
                        0x1_0000 + ((high - 0xD800) << 10 | (low - 0xDC00))
                    }
                    0xDC00..=0xDFFF => return Err(Fail("lone leading surrogate in hex escape")),
                    _ => high,
                };
                char::from_u32(code).ok_or(Fail("invalid unicode code point"))?
            }
            _ => return Err(Fail("invalid escape")),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, Fail> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(b) => char::from(b).to_digit(16),
                None => return Err(Fail("EOF while parsing a string")),
            };
            n = n * 16 + digit.ok_or(Fail("invalid escape"))?;
            self.at += 1;
        }
        Ok(n)
    }

    /// serde_json's number grammar and conversion (its `parse_integer` … `f64_from_parts`,
    /// without `float_roundtrip`): an integer that fits is a `u64` (or, negative, an `i64`);
    /// anything else is `significand × 10^exponent` in `f64`, the significand cut at `u64`.
    fn number(&mut self) -> Result<Value, Fail> {
        let positive = self.peek() != Some(b'-');
        if !positive {
            self.at += 1;
        }
        let mut significand: u64 = 0;
        let mut exponent: i32 = 0;
        let mut overflowed = false;
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(Fail("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    self.at += 1;
                    match push_digit(significand, d) {
                        Some(s) if !overflowed => significand = s,
                        _ => {
                            overflowed = true;
                            exponent += 1;
                        }
                    }
                }
            }
            None => return Err(Fail("EOF while parsing a value")),
            Some(_) => return Err(Fail("invalid number")),
        }
        let mut float = overflowed;
        if self.peek() == Some(b'.') {
            self.at += 1;
            float = true;
            // As serde_json's parse_decimal: fraction digits are taken while they fit (even
            // after the integer part overflowed), and all skipped after the first that does not.
            let (mut digits, mut fraction_overflowed) = (0, false);
            while let Some(d @ b'0'..=b'9') = self.peek() {
                self.at += 1;
                digits += 1;
                if !fraction_overflowed {
                    match push_digit(significand, d) {
                        Some(s) => {
                            significand = s;
                            exponent -= 1;
                        }
                        None => fraction_overflowed = true,
                    }
                }
            }
            if digits == 0 {
                return Err(Fail(if self.peek().is_some() {
                    "invalid number"
                } else {
                    "EOF while parsing a value"
                }));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            float = true;
            let positive_exp = match self.peek() {
                Some(b'-') => {
                    self.at += 1;
                    false
                }
                Some(b'+') => {
                    self.at += 1;
                    true
                }
                _ => true,
            };
            let mut exp: i32 = match self.peek() {
                Some(d @ b'0'..=b'9') => i32::from(d - b'0'),
                None => return Err(Fail("EOF while parsing a value")),
                Some(_) => return Err(Fail("invalid number")),
            };
            self.at += 1;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                self.at += 1;
                let digit = i32::from(d - b'0');
                match exp.checked_mul(10).and_then(|e| e.checked_add(digit)) {
                    Some(e) => exp = e,
                    None => {
                        // serde_json's parse_exponent_overflow.
                        if significand != 0 && positive_exp {
                            return Err(Fail("number out of range"));
                        }
                        while let Some(b'0'..=b'9') = self.peek() {
                            self.at += 1;
                        }
                        return Ok(float_value(if positive { 0.0 } else { -0.0 }));
                    }
                }
            }
            exponent = if positive_exp {
                exponent.saturating_add(exp)
            } else {
                exponent.saturating_sub(exp)
            };
        }
        if !float {
            if positive {
                return Ok(Value::Number(significand.into()));
            }
            // As serde_json: below i64::MIN, and `-0`, become floats.
            let negative = (significand as i64).wrapping_neg();
            return Ok(if negative < 0 {
                Value::Number(negative.into())
            } else {
                float_value(-(significand as f64))
            });
        }
        let f = f64_from_parts(significand, exponent).ok_or(Fail("number out of range"))?;
        Ok(float_value(if positive { f } else { -f }))
    }
}

/// `significand * 10 + digit`, or `None` when it would not fit in a `u64`.
fn push_digit(significand: u64, digit: u8) -> Option<u64> {
    significand
        .checked_mul(10)
        .and_then(|s| s.checked_add(u64::from(digit - b'0')))
}

fn float_value(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// serde_json's `f64_from_parts` (without `float_roundtrip`): `None` when out of range.
fn f64_from_parts(significand: u64, mut exponent: i32) -> Option<f64> {
    let mut f = significand as f64;
    loop {
        match pow10_table().get(exponent.unsigned_abs() as usize) {
            Some(&pow) => {
                if exponent >= 0 {
                    f *= pow;
                    if f.is_infinite() {
                        return None;
                    }
                } else {
                    f /= pow;
                }
                return Some(f);
            }
            None => {
                if f == 0.0 {
                    return Some(f);
                }
                if exponent >= 0 {
                    return None;
                }
                f /= 1e308;
                exponent += 308;
            }
        }
    }
}

/// 10⁰ … 10³⁰⁸, each the nearest `f64` (serde_json's table), computed once at first use rather
/// than written out as a table.
fn pow10_table() -> &'static [f64] {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // 10^k exactly, as little-endian 32-bit limbs, multiplied up one power at a time.
        let mut limbs: Vec<u32> = vec![1];
        let mut table = Vec::with_capacity(309);
        for _ in 0..309 {
            table.push(nearest_f64(&limbs));
            let mut carry = 0u64;
            for limb in &mut limbs {
                let v = u64::from(*limb) * 10 + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry > 0 {
                limbs.push(carry as u32);
            }
        }
        table
    })
}

/// The `f64` nearest to the integer `limbs` (little-endian, top limb non-zero, below 2^1024),
/// ties to even.
fn nearest_f64(limbs: &[u32]) -> f64 {
    let top = limbs.len() - 1;
    let bits = top * 32 + (32 - limbs[top].leading_zeros() as usize);
    // The 64 bits below the top bit's position and whether anything lower is set.
    let mut high: u64 = 0;
    let mut sticky = false;
    for i in (0..bits).rev() {
        let bit = (limbs[i / 32] >> (i % 32)) & 1 == 1;
        if i + 64 >= bits {
            high = high << 1 | u64::from(bit);
        } else if bit {
            sticky = true;
            break;
        }
    }
    if bits <= 64 {
        return high as f64;
    }
    let mut mantissa = high >> 11;
    let round = high >> 10 & 1 == 1;
    sticky |= high & 0x3FF != 0;
    let mut exponent = bits - 1;
    if round && (sticky || mantissa & 1 == 1) {
        mantissa += 1;
        if mantissa == 1 << 53 {
            mantissa >>= 1;
            exponent += 1;
        }
    }
    f64::from_bits(((exponent + 1023) as u64) << 52 | (mantissa & ((1 << 52) - 1)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn powers_of_ten_are_the_nearest_doubles() {
        let table = super::pow10_table();
        assert_eq!(table.len(), 309);
        for (k, &p) in table.iter().enumerate() {
            let expected: f64 = format!("1e{k}").parse().unwrap();
            assert_eq!(p.to_bits(), expected.to_bits(), "10^{k}");
        }
        // Around 2^85 a double's step is 2^33: halfway cases go to the even neighbour.
        let p85 = 2f64.powi(85);
        let nearest = |limbs: &[u32]| super::nearest_f64(limbs);
        assert_eq!(nearest(&[1, 0, 0x0020_0000]), p85);
        assert_eq!(nearest(&[0, 1, 0x0020_0000]), p85);
        assert_eq!(nearest(&[1, 1, 0x0020_0000]), p85 + 2f64.powi(33));
        assert_eq!(nearest(&[0, 3, 0x0020_0000]), p85 + 2f64.powi(34));
        assert_eq!(nearest(&[7]), 7.0);
    }
}
