//! Parameter constraints: `length`, `range`, `modulo`, `allowed_values`, `allowed_pattern`
//! and `custom_constraint`, with Heat's default messages (each overridden by the
//! constraint's `description`).
//!
//! Messages about a hidden parameter never carry its value: `******` stands in for it.

use serde_json::{Map, Number, Value};

use super::custom_constraints;
use super::functions::json_text::python_dumps;
use super::parameters::ParamType;
use super::version::HotVersion;
use updraft_hooks::deployment::python_str;

/// What stands in for a hidden parameter's value in messages.
pub const MASK: &str = "******";

/// One constraint of a parameter.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// What is checked.
    pub kind: ConstraintKind,
    /// `description:`, used as the error message when set.
    pub description: Option<String>,
}

/// The constraint kinds of HOT parameters.
#[derive(Debug, Clone)]
pub enum ConstraintKind {
    /// `length: {min, max}` on strings, lists and maps.
    Length {
        /// Least length.
        min: Option<i64>,
        /// Greatest length.
        max: Option<i64>,
    },
    /// `range: {min, max}` on numbers.
    Range {
        /// Least value.
        min: Option<Number>,
        /// Greatest value.
        max: Option<Number>,
    },
    /// `modulo: {step, offset}` on numbers (2017-02-24+): `value % step == offset`.
    Modulo {
        /// The step (non-zero integer).
        step: Number,
        /// The offset (integer, smaller than step by absolute value, same sign).
        offset: Number,
    },
    /// `allowed_values: [..]`.
    AllowedValues(Vec<Value>),
    /// `allowed_pattern: regex`, matched like Python's `re.match` over the whole value.
    AllowedPattern {
        /// The pattern as written.
        pattern: String,
        /// The compiled pattern, anchored at the start.
        regex: regex::Regex,
    },
    /// `custom_constraint: name`.
    Custom(String),
}

impl ConstraintKind {
    /// Heat's class name, used in `… constraint invalid for <type>`.
    pub fn class_name(&self) -> &'static str {
        match self {
            ConstraintKind::Length { .. } => "Length",
            ConstraintKind::Range { .. } => "Range",
            ConstraintKind::Modulo { .. } => "Modulo",
            ConstraintKind::AllowedValues(_) => "AllowedValues",
            ConstraintKind::AllowedPattern { .. } => "AllowedPattern",
            ConstraintKind::Custom(_) => "CustomConstraint",
        }
    }

    /// Whether the constraint applies to parameters of `param_type` (Heat's `valid_types`).
    pub fn valid_for(&self, param_type: ParamType) -> bool {
        use ParamType::*;
        match self {
            ConstraintKind::Length { .. } => {
                matches!(param_type, String | CommaDelimitedList | Json)
            }
            ConstraintKind::Range { .. } | ConstraintKind::Modulo { .. } => param_type == Number,
            ConstraintKind::AllowedValues(_) | ConstraintKind::Custom(_) => {
                matches!(param_type, String | Number | Boolean | CommaDelimitedList)
            }
            ConstraintKind::AllowedPattern { .. } => param_type == String,
        }
    }
}

const CONSTRAINT_KEYS: &[&str] = &[
    "description",
    "length",
    "range",
    "modulo",
    "allowed_values",
    "allowed_pattern",
    "custom_constraint",
];

/// Parses one entry of a parameter's `constraints` list; errors are Heat's messages.
pub fn parse(def: &Value, version: HotVersion) -> Result<Constraint, String> {
    let map = check_dict(def, CONSTRAINT_KEYS, "parameter constraints")?;
    let description = match map.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(python_str(other)),
    };
    let kind = if version >= HotVersion::V2017_02_24
        && let Some(cdef) = map.get("modulo")
    {
        let cdef = check_dict(cdef, &["step", "offset"], "modulo constraint")?;
        let step = get_num(cdef, "step", "step/offset must be numeric")?;
        let offset = get_num(cdef, "offset", "step/offset must be numeric")?;
        let (Some(step), Some(offset)) = (step, offset) else {
            return Err(
                "A modulo constraint must have a step value and an offset value specified.".into(),
            );
        };
        for n in [&step, &offset] {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() != 0.0 {
                return Err("step/offset must be integer".into());
            }
        }
        let (s, o) = (
            step.as_f64().unwrap_or_default() as i64,
            offset.as_f64().unwrap_or_default() as i64,
        );
        if s == 0 {
            return Err("step cannot be 0.".into());
        }
        if o.abs() >= s.abs() {
            return Err("offset must be smaller (by absolute value) than step.".into());
        }
        if s * o < 0 {
            return Err("step and offset must be both positive or both negative.".into());
        }
        ConstraintKind::Modulo { step, offset }
    } else if let Some(cdef) = map.get("range") {
        let cdef = check_dict(cdef, &["min", "max"], "range constraint")?;
        let min = get_num(cdef, "min", "min/max must be numeric")?;
        let max = get_num(cdef, "max", "min/max must be numeric")?;
        if min.is_none() && max.is_none() {
            return Err(
                "A range constraint must have a min value and/or a max value specified.".into(),
            );
        }
        ConstraintKind::Range { min, max }
    } else if let Some(cdef) = map.get("length") {
        let cdef = check_dict(cdef, &["min", "max"], "length constraint")?;
        let min = get_num(cdef, "min", "min/max must be numeric")?;
        let max = get_num(cdef, "max", "min/max must be numeric")?;
        if min.is_none() && max.is_none() {
            return Err(
                "A length constraint must have a min value and/or a max value specified.".into(),
            );
        }
        let integral = |n: Option<Number>| match n {
            None => Ok(None),
            Some(n) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| "min/max length must be integral".to_string()),
        };
        ConstraintKind::Length {
            min: integral(min)?,
            max: integral(max)?,
        }
    } else if let Some(cdef) = map.get("allowed_values") {
        match cdef {
            Value::Array(items) => ConstraintKind::AllowedValues(items.clone()),
            _ => return Err("AllowedValues must be a list".into()),
        }
    } else if let Some(cdef) = map.get("allowed_pattern") {
        let Value::String(pattern) = cdef else {
            return Err("AllowedPattern must be a string".into());
        };
        let regex = compile_python_pattern(pattern)?;
        ConstraintKind::AllowedPattern {
            pattern: pattern.clone(),
            regex,
        }
    } else if let Some(cdef) = map.get("custom_constraint") {
        match cdef {
            Value::String(name) => ConstraintKind::Custom(name.clone()),
            other => ConstraintKind::Custom(python_str(other)),
        }
    } else {
        return Err("No constraint expressed".into());
    };
    Ok(Constraint { kind, description })
}

/// Heat's `_check_dict`: a mapping with only `allowed` keys.
fn check_dict<'v>(
    value: &'v Value,
    allowed: &[&str],
    entity: &str,
) -> Result<&'v Map<String, Value>, String> {
    let Some(map) = value.as_object() else {
        return Err(format!("Invalid {entity}, expected a mapping"));
    };
    if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("Invalid key '{key}' for {entity}"));
    }
    Ok(map)
}

/// Heat's `get_num`: absent/null is `None`; numbers and numeric strings are numbers.
fn get_num(map: &Map<String, Value>, key: &str, error: &str) -> Result<Option<Number>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.clone())),
        Some(Value::String(s)) => str_to_num(s).map(Some).ok_or_else(|| error.to_string()),
        Some(_) => Err(error.to_string()),
    }
}

/// Python's `int(s)`, else `float(s)`.
pub fn str_to_num(s: &str) -> Option<Number> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(Number::from(i));
    }
    t.parse::<f64>().ok().and_then(Number::from_f64)
}

/// Compiles a Python `re` pattern for a whole-value match: anchored at the start with
/// `\A`; the caller checks that the match ends at the end of the value, as Heat does
/// (`re.match(...)` and `match.end() == len(value)`), which keeps Python's leftmost-first
/// alternation semantics (`a|ab` does not accept `ab`).
pub fn compile_python_pattern(pattern: &str) -> Result<regex::Regex, String> {
    let translated = translate_python_pattern(pattern);
    regex::Regex::new(&format!(r"\A(?:{translated})")).map_err(|e| {
        let detail = e.to_string();
        let last = detail
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .trim()
            .trim_start_matches("error: ")
            .to_string();
        format!("Invalid allowed_pattern \"{pattern}\": {last}")
    })
}

/// The few spellings where Python's `re` and the `regex` crate differ: `\Z` (end of
/// text) and a `{` that does not start a counted repetition (a literal in Python).
fn translate_python_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() => {
                let next = chars[i + 1];
                if next == 'Z' && !in_class {
                    out.push_str(r"\z");
                } else {
                    out.push(c);
                    out.push(next);
                }
                i += 2;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // `[]…]` and `[^]…]`: a leading `]` is a literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '{' if !in_class => {
                let rest: String = chars[i..].iter().collect();
                match counted_repetition(&rest) {
                    Some((len, spelled)) => {
                        out.push_str(&spelled);
                        i += rest[..len].chars().count();
                        continue;
                    }
                    None => out.push_str(r"\{"),
                }
            }
            '}' if !in_class => out.push_str(r"\}"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// `{n}`, `{n,}`, `{,m}` or `{n,m}` at the start of `s`: its length in bytes and its
/// spelling for the regex crate (which needs the lower bound of `{,m}`).
fn counted_repetition(s: &str) -> Option<(usize, String)> {
    let end = s.find('}')?;
    let body = &s[1..end];
    let digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    let ok = match body.split_once(',') {
        None => !body.is_empty() && digits(body),
        Some((a, b)) => {
            digits(a) && digits(b) && !a.is_empty() || (a.is_empty() && !b.is_empty() && digits(b))
        }
    };
    if !ok {
        return None;
    }
    let spelled = if body.starts_with(',') {
        format!("{{0{body}}}")
    } else {
        s[..=end].to_string()
    };
    Some((end + 1, spelled))
}

/// How a value is named in messages: Python's `str()`, or the mask when hidden.
fn shown(value: &Value, hidden: bool) -> String {
    if hidden {
        MASK.to_string()
    } else {
        python_str(value)
    }
}

fn num_or_none(n: &Option<Number>) -> String {
    n.as_ref().map_or("None".to_string(), Number::to_string)
}

fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => str_to_num(s).and_then(|n| n.as_f64()),
        _ => None,
    }
}

/// Python's `%` (the result has the divisor's sign).
fn python_mod(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
        r + b
    } else {
        r
    }
}

fn length_of(value: &Value) -> usize {
    match value {
        Value::String(s) => s.chars().count(),
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        other => python_str(other).chars().count(),
    }
}

/// `to_schema_type` of an allowed value, for comparing with a coerced parameter value.
fn as_schema_type(value: &Value, param_type: ParamType) -> Option<Value> {
    match param_type {
        ParamType::String => Some(Value::String(python_str(value))),
        ParamType::Number => as_f64(value).map(Value::from),
        ParamType::Boolean => super::parameters::parse_bool(&python_str(value)).map(Value::Bool),
        _ => Some(value.clone()),
    }
}

impl Constraint {
    /// Checks a (coerced) value; the error is the description or Heat's message.
    pub fn check(&self, value: &Value, param_type: ParamType, hidden: bool) -> Result<(), String> {
        match self.violation(value, param_type, hidden) {
            None => Ok(()),
            Some(message) => Err(self.description.clone().unwrap_or(message)),
        }
    }

    fn violation(&self, value: &Value, param_type: ParamType, hidden: bool) -> Option<String> {
        match &self.kind {
            ConstraintKind::Range { min, max } => {
                let v = as_f64(value)?;
                let below = min.as_ref().and_then(Number::as_f64).is_some_and(|m| v < m);
                let above = max.as_ref().and_then(Number::as_f64).is_some_and(|m| v > m);
                (below || above).then(|| {
                    format!(
                        "{} is out of range (min: {}, max: {})",
                        shown(value, hidden),
                        num_or_none(min),
                        num_or_none(max)
                    )
                })
            }
            ConstraintKind::Length { min, max } => {
                let len = length_of(value) as i64;
                let bad = min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m);
                bad.then(|| {
                    let show = |n: &Option<i64>| n.map_or("None".to_string(), |n| n.to_string());
                    format!(
                        "length ({len}) is out of range (min: {}, max: {})",
                        show(min),
                        show(max)
                    )
                })
            }
            ConstraintKind::Modulo { step, offset } => {
                let v = as_f64(value)?;
                let (s, o) = (step.as_f64()?, offset.as_f64()?);
                (python_mod(v, s) != o).then(|| {
                    format!(
                        "{} is not a multiple of {step} with an offset of {offset}",
                        shown(value, hidden)
                    )
                })
            }
            ConstraintKind::AllowedValues(allowed) => {
                let ok = match value {
                    Value::Array(items) => items.iter().all(|i| allowed.contains(i)),
                    _ => {
                        let v = as_schema_type(value, param_type);
                        v.is_some() && allowed.iter().any(|a| as_schema_type(a, param_type) == v)
                    }
                };
                (!ok).then(|| {
                    let list = allowed
                        .iter()
                        .map(python_dumps)
                        .collect::<Vec<_>>()
                        .join(", ");
                    let v = if hidden {
                        format!("\"{MASK}\"")
                    } else {
                        python_dumps(value)
                    };
                    format!("{v} is not an allowed value [{list}]")
                })
            }
            ConstraintKind::AllowedPattern { pattern, regex } => {
                let text = python_str(value);
                let whole = regex.find(&text).is_some_and(|m| m.end() == text.len());
                (!whole).then(|| {
                    format!(
                        "\"{}\" does not match pattern \"{pattern}\"",
                        shown(value, hidden)
                    )
                })
            }
            ConstraintKind::Custom(name) => {
                let items: Vec<&Value> = match value {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                items.into_iter().find_map(|item| {
                    let text = python_str(item);
                    custom_constraints::check(name, &text).err().map(|reason| {
                        let v = if hidden {
                            MASK.to_string()
                        } else {
                            text.clone()
                        };
                        match reason {
                            // A reason that quotes a hidden value is left out.
                            Some(r) if !(hidden && r.contains(&text)) => {
                                format!("Error validating value '{v}': {r}")
                            }
                            _ => format!("Error validating value '{v}'"),
                        }
                    })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(def: Value) -> Constraint {
        parse(&def, HotVersion::V2021_04_16).unwrap()
    }

    fn err(def: Value) -> String {
        parse(&def, HotVersion::V2021_04_16).unwrap_err()
    }

    #[test]
    fn definitions_are_checked_with_heats_messages() {
        assert_eq!(
            err(json!({"range": {"mn": 1}})),
            "Invalid key 'mn' for range constraint"
        );
        assert_eq!(
            err(json!({"range": {}})),
            "A range constraint must have a min value and/or a max value specified."
        );
        assert_eq!(
            err(json!({"length": {"min": 1.5}})),
            "min/max length must be integral"
        );
        assert_eq!(
            err(json!({"range": {"min": "x"}})),
            "min/max must be numeric"
        );
        assert_eq!(
            err(json!({"modulo": {"step": 2}})),
            "A modulo constraint must have a step value and an offset value specified."
        );
        assert_eq!(
            err(json!({"modulo": {"step": 0, "offset": 0}})),
            "step cannot be 0."
        );
        assert_eq!(
            err(json!({"modulo": {"step": 2, "offset": 2}})),
            "offset must be smaller (by absolute value) than step."
        );
        assert_eq!(
            err(json!({"modulo": {"step": 3, "offset": -1}})),
            "step and offset must be both positive or both negative."
        );
        assert_eq!(
            err(json!({"allowed_values": "a"})),
            "AllowedValues must be a list"
        );
        assert_eq!(err(json!({"description": "x"})), "No constraint expressed");
        assert_eq!(
            err(json!({"foo": 1})),
            "Invalid key 'foo' for parameter constraints"
        );
        assert_eq!(
            err(json!(["x"])),
            "Invalid parameter constraints, expected a mapping"
        );
        assert!(err(json!({"allowed_pattern": "(?P=x)"})).starts_with("Invalid allowed_pattern"));
        // Before 2017-02-24 there is no modulo.
        assert_eq!(
            parse(
                &json!({"modulo": {"step": 2, "offset": 0}}),
                HotVersion::V2016_10_14
            )
            .unwrap_err(),
            "No constraint expressed"
        );
    }

    #[test]
    fn values_are_checked_with_heats_messages() {
        let s = ParamType::String;
        let n = ParamType::Number;
        let range = c(json!({"range": {"min": 1, "max": 10}}));
        assert!(range.check(&json!(5), n, false).is_ok());
        assert_eq!(
            range.check(&json!(11), n, false).unwrap_err(),
            "11 is out of range (min: 1, max: 10)"
        );
        let min_only = c(json!({"range": {"min": 1.5}}));
        assert_eq!(
            min_only.check(&json!(1), n, false).unwrap_err(),
            "1 is out of range (min: 1.5, max: None)"
        );
        let length = c(json!({"length": {"min": 2}}));
        assert_eq!(
            length.check(&json!("é"), s, false).unwrap_err(),
            "length (1) is out of range (min: 2, max: None)"
        );
        let modulo = c(json!({"modulo": {"step": 2, "offset": 1}}));
        assert!(modulo.check(&json!(7), n, false).is_ok());
        assert_eq!(
            modulo.check(&json!(8), n, false).unwrap_err(),
            "8 is not a multiple of 2 with an offset of 1"
        );
        let negative = c(json!({"modulo": {"step": -3, "offset": -1}}));
        assert!(negative.check(&json!(2), n, false).is_ok());
        let allowed = c(json!({"allowed_values": ["a", "b"]}));
        assert_eq!(
            allowed.check(&json!("c"), s, false).unwrap_err(),
            "\"c\" is not an allowed value [\"a\", \"b\"]"
        );
        assert!(
            allowed
                .check(&json!(["a", "b"]), ParamType::CommaDelimitedList, false)
                .is_ok()
        );
        let numbers = c(json!({"allowed_values": ["1", 2.0]}));
        assert!(numbers.check(&json!(1), n, false).is_ok());
        assert!(numbers.check(&json!(2), n, false).is_ok());
        let pattern = c(json!({"allowed_pattern": "[a-z]+", "description": "lower case only"}));
        assert!(pattern.check(&json!("abc"), s, false).is_ok());
        assert_eq!(
            pattern.check(&json!("abC"), s, false).unwrap_err(),
            "lower case only"
        );
        let alternation = c(json!({"allowed_pattern": "a|ab"}));
        assert_eq!(
            alternation.check(&json!("ab"), s, false).unwrap_err(),
            "\"ab\" does not match pattern \"a|ab\""
        );
        let braces = c(json!({"allowed_pattern": "x{a}\\d{2}\\Z"}));
        assert!(braces.check(&json!("x{a}12"), s, false).is_ok());
        let custom = c(json!({"custom_constraint": "ip_addr"}));
        assert!(custom.check(&json!("10.0.0.1"), s, false).is_ok());
        assert_eq!(
            custom.check(&json!("10.0.0"), s, false).unwrap_err(),
            "Error validating value '10.0.0': Invalid IP address"
        );
        let cloud = c(json!({"custom_constraint": "nova.flavor"}));
        assert!(cloud.check(&json!("m1.tiny"), s, false).is_ok());
    }

    #[test]
    fn hidden_values_are_masked() {
        let s = ParamType::String;
        let pattern = c(json!({"allowed_pattern": "[a-z]+"}));
        let e = pattern.check(&json!("S3cret"), s, true).unwrap_err();
        assert_eq!(e, "\"******\" does not match pattern \"[a-z]+\"");
        let allowed = c(json!({"allowed_values": ["a"]}));
        assert!(
            !allowed
                .check(&json!("S3cret"), s, true)
                .unwrap_err()
                .contains("S3cret")
        );
        let json_c = c(json!({"custom_constraint": "json_string"}));
        let e = json_c.check(&json!("S3cret"), s, true).unwrap_err();
        assert!(!e.contains("S3cret"), "{e}");
        let range = c(json!({"range": {"max": 1}}));
        assert!(
            !range
                .check(&json!(12345), ParamType::Number, true)
                .unwrap_err()
                .contains("12345")
        );
    }
}
