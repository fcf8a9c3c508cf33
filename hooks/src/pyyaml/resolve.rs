//! PyYAML's YAML 1.1 scalar rules, as Heat's loader applies them.
//!
//! Plain scalars are resolved by PyYAML's implicit resolvers, tried in its order (bool, float,
//! int, merge, null, timestamp, value); everything else is a string. Heat constructs timestamps
//! as strings, so the timestamp resolver needs no code here: whatever it matches stays text.
//! The constructors follow PyYAML's `construct_yaml_int` / `construct_yaml_float` rules, which
//! also serve explicit `!!int` / `!!float` tags.

/// A constructed scalar.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar {
    Null,
    Bool(bool),
    Int(i128),
    /// An integer beyond `i128` (Python keeps it exact; we keep the nearest float).
    BigInt(f64),
    Float(f64),
    Str(String),
    /// The merge key `<<`.
    Merge,
    /// PyYAML's `=` (`tag:yaml.org,2002:value`): a string as a key, an error anywhere else.
    ValueKey,
}

/// The tag PyYAML's implicit resolvers give a plain scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Implicit {
    Bool,
    Float,
    Int,
    Merge,
    Null,
    Value,
    Str,
}

/// Resolves a plain scalar's text as PyYAML's `Resolver` does.
pub(super) fn resolve_plain(text: &str) -> Implicit {
    if is_bool(text) {
        Implicit::Bool
    } else if is_float(text.as_bytes()) {
        Implicit::Float
    } else if is_int(text.as_bytes()) {
        Implicit::Int
    } else if text == "<<" {
        Implicit::Merge
    } else if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        Implicit::Null
    } else if text == "=" {
        Implicit::Value
    } else {
        Implicit::Str
    }
}

/// Constructs a plain scalar.
pub(super) fn construct_plain(text: &str) -> Result<Scalar, String> {
    match resolve_plain(text) {
        Implicit::Bool => construct_bool(text),
        Implicit::Float => construct_float(text),
        Implicit::Int => construct_int(text),
        Implicit::Merge => Ok(Scalar::Merge),
        Implicit::Null => Ok(Scalar::Null),
        Implicit::Value => Ok(Scalar::ValueKey),
        Implicit::Str => Ok(Scalar::Str(text.to_string())),
    }
}

fn is_bool(text: &str) -> bool {
    matches!(
        text,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// A cursor over ASCII bytes for the resolver patterns.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a [u8]) -> Self {
        Cursor { s, i: 0 }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += usize::from(hit);
        hit
    }
    fn eat_if(&mut self, f: impl Fn(u8) -> bool) -> bool {
        let hit = self.peek().is_some_and(f);
        self.i += usize::from(hit);
        hit
    }
    /// Consumes `[allowed]*`; returns how many bytes.
    fn eat_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.eat_if(&f) {}
        self.i - start
    }
    fn sign(&mut self) {
        let _ = self.eat(b'-') || self.eat(b'+');
    }
    fn done(&self) -> bool {
        self.i == self.s.len()
    }
    /// `(:[0-5]?[0-9])+`
    fn sexagesimal_tail(&mut self) -> bool {
        let mut any = false;
        while self.eat(b':') {
            let two = matches!(self.s.get(self.i..self.i + 2), Some([a, b]) if (b'0'..=b'5').contains(a) && b.is_ascii_digit());
            if two {
                self.i += 2;
            } else if !self.eat_if(|c| c.is_ascii_digit()) {
                return false;
            }
            any = true;
        }
        any
    }
}

fn digit_or_us(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

/// `[eE][-+][0-9]+` (optional as a whole; false if started but malformed).
fn exponent(c: &mut Cursor) -> bool {
    if c.eat(b'e') || c.eat(b'E') {
        return (c.eat(b'-') || c.eat(b'+')) && c.eat_while(|b| b.is_ascii_digit()) > 0;
    }
    true
}

/// PyYAML's float pattern.
fn is_float(s: &[u8]) -> bool {
    // [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?
    let alt1 = || {
        let mut c = Cursor::new(s);
        c.sign();
        c.eat_if(|b| b.is_ascii_digit())
            && {
                c.eat_while(digit_or_us);
                c.eat(b'.')
            }
            && {
                c.eat_while(digit_or_us);
                exponent(&mut c)
            }
            && c.done()
    };
    // \.[0-9][0-9_]*([eE][-+][0-9]+)?
    let alt2 = || {
        let mut c = Cursor::new(s);
        c.eat(b'.')
            && c.eat_if(|b| b.is_ascii_digit())
            && {
                c.eat_while(digit_or_us);
                exponent(&mut c)
            }
            && c.done()
    };
    // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    let alt3 = || {
        let mut c = Cursor::new(s);
        c.sign();
        c.eat_if(|b| b.is_ascii_digit())
            && {
                c.eat_while(digit_or_us);
                c.sexagesimal_tail()
            }
            && c.eat(b'.')
            && {
                c.eat_while(digit_or_us);
                c.done()
            }
    };
    // [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
    let special = || {
        let unsigned = s.strip_prefix(b"-").or(s.strip_prefix(b"+")).unwrap_or(s);
        matches!(unsigned, b".inf" | b".Inf" | b".INF") || matches!(s, b".nan" | b".NaN" | b".NAN")
    };
    alt1() || alt2() || alt3() || special()
}

/// PyYAML's int pattern.
fn is_int(s: &[u8]) -> bool {
    let unsigned = s.strip_prefix(b"-").or(s.strip_prefix(b"+")).unwrap_or(s);
    // 0b[0-1_]+
    if let Some(rest) = unsigned.strip_prefix(b"0b") {
        return !rest.is_empty() && rest.iter().all(|&c| matches!(c, b'0' | b'1' | b'_'));
    }
    // 0x[0-9a-fA-F_]+
    if let Some(rest) = unsigned.strip_prefix(b"0x") {
        return !rest.is_empty() && rest.iter().all(|&c| c.is_ascii_hexdigit() || c == b'_');
    }
    match unsigned {
        [] => false,
        // 0 | 0[0-7_]+
        [b'0', rest @ ..] => rest.iter().all(|&c| matches!(c, b'0'..=b'7' | b'_')),
        // [1-9][0-9_]* (:[0-5]?[0-9])*
        [b'1'..=b'9', ..] => {
            let mut c = Cursor::new(unsigned);
            c.i = 1;
            c.eat_while(digit_or_us);
            c.done() || (c.sexagesimal_tail() && c.done())
        }
        _ => false,
    }
}

/// `construct_yaml_bool`: the lower-cased text must be one of PyYAML's six words.
pub(super) fn construct_bool(text: &str) -> Result<Scalar, String> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(Scalar::Bool(true)),
        "no" | "false" | "off" => Ok(Scalar::Bool(false)),
        _ => Err(format!("invalid boolean {text:?}")),
    }
}

/// `construct_yaml_int`: underscores dropped; `0b`, `0x`, leading-zero octal, `a:b:c` base 60.
pub(super) fn construct_int(text: &str) -> Result<Scalar, String> {
    let invalid = || format!("invalid integer {text:?}");
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        Some(_) => (false, cleaned.as_str()),
        None => return Err(invalid()),
    };
    let magnitude = if body == "0" {
        BigUint::Small(0)
    } else if let Some(bin) = body.strip_prefix("0b") {
        parse_radix(bin, 2).ok_or_else(invalid)?
    } else if let Some(hex) = body.strip_prefix("0x") {
        parse_radix(hex, 16).ok_or_else(invalid)?
    } else if body.starts_with('0') {
        parse_radix(body, 8).ok_or_else(invalid)?
    } else if body.contains(':') {
        let mut total = BigUint::Small(0);
        for part in body.split(':') {
            let digit = parse_radix(part, 10).ok_or_else(invalid)?;
            total = total.mul_add(60, &digit);
        }
        total
    } else {
        parse_radix(body, 10).ok_or_else(invalid)?
    };
    Ok(match magnitude {
        BigUint::Small(m) => {
            let m = i128::try_from(m).map_or(i128::MAX, |m| m);
            Scalar::Int(if negative { -m } else { m })
        }
        BigUint::Big(f) => Scalar::BigInt(if negative { -f } else { f }),
    })
}

/// An unsigned integer that degrades to a float past `u128`.
#[derive(Debug, Clone, Copy)]
enum BigUint {
    Small(u128),
    Big(f64),
}

impl BigUint {
    fn as_f64(self) -> f64 {
        match self {
            BigUint::Small(v) => v as f64,
            BigUint::Big(v) => v,
        }
    }
    /// `self * radix + digit`
    fn mul_add(self, radix: u32, digit: &BigUint) -> BigUint {
        match (self, digit) {
            (BigUint::Small(a), BigUint::Small(d)) => a
                .checked_mul(u128::from(radix))
                .and_then(|v| v.checked_add(*d))
                .filter(|v| i128::try_from(*v).is_ok())
                .map_or_else(
                    || BigUint::Big(a as f64 * f64::from(radix) + *d as f64),
                    BigUint::Small,
                ),
            _ => BigUint::Big(self.as_f64() * f64::from(radix) + digit.as_f64()),
        }
    }
}

/// Python's `int(text, radix)` for the texts PyYAML passes (surrounding blanks allowed).
fn parse_radix(text: &str, radix: u32) -> Option<BigUint> {
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if text.is_empty() {
        return None;
    }
    let mut value = BigUint::Small(0);
    for c in text.chars() {
        let d = c.to_digit(radix)?;
        value = value.mul_add(radix, &BigUint::Small(u128::from(d)));
    }
    Some(value)
}

/// `construct_yaml_float`: underscores dropped, `.inf` / `.nan`, `a:b.c` base 60.
pub(super) fn construct_float(text: &str) -> Result<Scalar, String> {
    let invalid = || format!("invalid float {text:?}");
    let cleaned: String = text
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_lowercase();
    let (sign, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (-1.0, &cleaned[1..]),
        Some(b'+') => (1.0, &cleaned[1..]),
        Some(_) => (1.0, cleaned.as_str()),
        None => return Err(invalid()),
    };
    let value = if body == ".inf" {
        f64::INFINITY
    } else if body == ".nan" {
        return Ok(Scalar::Float(f64::NAN));
    } else if body.contains(':') {
        let mut total = 0.0;
        for part in body.split(':') {
            total = total * 60.0 + py_float(part).ok_or_else(invalid)?;
        }
        total
    } else {
        py_float(body).ok_or_else(invalid)?
    };
    Ok(Scalar::Float(sign * value))
}

/// Python's `float(text)` for the texts PyYAML passes.
fn py_float(text: &str) -> Option<f64> {
    text.trim_matches(|c: char| c.is_ascii_whitespace())
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_resolution_follows_pyyaml() {
        use Implicit::*;
        let cases = [
            ("yes", Bool),
            ("Off", Bool),
            ("y", Str),
            ("n", Str),
            ("yES", Str),
            ("1.5", Float),
            ("1.", Float),
            (".5", Float),
            ("1e3", Str),
            ("1.0e3", Str),
            ("1.0e+3", Float),
            ("1:30.5", Float),
            ("-.inf", Float),
            (".NaN", Float),
            ("+.nan", Str),
            ("0755", Int),
            ("0789", Str),
            ("0x1F", Int),
            ("0b101", Int),
            ("0o755", Str),
            ("1_000", Int),
            ("1:30", Int),
            ("1:60", Str),
            ("0:30", Str),
            ("<<", Merge),
            ("~", Null),
            ("", Null),
            ("=", Value),
            ("2018-08-31", Str),
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), want, "{text:?}");
        }
    }

    #[test]
    fn constructors_follow_pyyaml() {
        assert_eq!(construct_plain("0755"), Ok(Scalar::Int(493)));
        assert_eq!(construct_plain("-0x1F"), Ok(Scalar::Int(-31)));
        assert_eq!(construct_plain("190:20:30"), Ok(Scalar::Int(685_230)));
        assert_eq!(construct_plain("1_2.3_4"), Ok(Scalar::Float(12.34)));
        assert_eq!(construct_plain("1:30.5"), Ok(Scalar::Float(90.5)));
        assert_eq!(
            construct_plain("-.inf"),
            Ok(Scalar::Float(f64::NEG_INFINITY))
        );
        assert!(construct_plain("0b_").is_err());
        assert_eq!(construct_int(" 12"), Ok(Scalar::Int(12)));
        assert!(matches!(
            construct_plain("0x1_0000_0000_0000_0000_0000_0000_0000_0000"),
            Ok(Scalar::BigInt(_))
        ));
    }
}
