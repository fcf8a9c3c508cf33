//! `str_split: [delimiter, string, (index)]` and CFN's `Fn::Split: [delimiter, string]`, with
//! Python's `str.split`.

use serde_json::Value;

use super::{EvalContext, Function, ValidationScope, is_call, python};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// `str_split`.
pub struct StrSplit;

/// `Fn::Split`.
pub struct FnSplit;

const STR_SPLIT_EXAMPLE: &str = "\"str_split\" : [ \",\", \"apples,pears\", <index>]";
const FN_SPLIT_SHAPE: &str =
    "Incorrect arguments to \"Fn::Split\" should be: \"Fn::Split\" : [ \",\", \"str1,str2\"]]";

/// Python's `text.split(delimiter)`; a null delimiter splits on runs of whitespace.
fn python_split(text: &str, delimiter: &Value) -> Result<Vec<Value>, String> {
    let parts: Vec<&str> = match delimiter {
        Value::Null => text.split_whitespace().collect(),
        Value::String(d) if d.is_empty() => return Err("empty separator".into()),
        Value::String(d) => text.split(d.as_str()).collect(),
        other => {
            return Err(format!(
                "must be str or None, not {}",
                python::type_name(other)
            ));
        }
    };
    Ok(parts
        .into_iter()
        .map(|p| Value::String(p.to_string()))
        .collect())
}

/// Python's `int(value)`, or the message of the error it raises (`None` for `ValueError`).
fn python_int(value: &Value) -> Result<i64, Option<String>> {
    match value {
        Value::Bool(b) => Ok(i64::from(*b)),
        #[allow(clippy::cast_possible_truncation)]
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
            .ok_or(None),
        Value::String(s) => s.trim().replace('_', "").parse().map_err(|_| None),
        other => Err(Some(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            python::type_name(other)
        ))),
    }
}

impl Function for StrSplit {
    fn name(&self) -> &'static str {
        "str_split"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        if args.is_string() || (args.is_object() && !is_call(args, scope.version())) {
            return Err(TemplateError::at(
                path,
                format!("Incorrect arguments to \"str_split\" should be: {STR_SPLIT_EXAMPLE}"),
            ));
        }
        Ok(())
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let Some([delimiter, text, rest @ ..]) = args.as_array().map(Vec::as_slice) else {
            return Err(err(format!(
                "Incorrect arguments to \"str_split\" should be: {STR_SPLIT_EXAMPLE}"
            )));
        };
        let text = match text {
            Value::Null => return Ok(Value::Null),
            Value::String(s) => s,
            other => {
                return Err(err(format!(
                    "'{}' object has no attribute 'split'",
                    python::type_name(other)
                )));
            }
        };
        let mut parts = python_split(text, delimiter).map_err(err)?;
        let Some(index) = rest.first() else {
            return Ok(Value::Array(parts));
        };
        let index = python_int(index).map_err(|e| {
            err(e.unwrap_or_else(|| {
                format!("Incorrect index to \"str_split\" should be: {STR_SPLIT_EXAMPLE}")
            }))
        })?;
        let len = i64::try_from(parts.len()).unwrap_or(i64::MAX);
        let position = if index < 0 { index + len } else { index };
        match usize::try_from(position) {
            Ok(i) if position < len => Ok(parts.swap_remove(i)),
            _ => Err(err(format!(
                "Incorrect index to \"str_split\" should be between 0 and {}",
                len - 1
            ))),
        }
    }
}

impl Function for FnSplit {
    fn name(&self) -> &'static str {
        "Fn::Split"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        match args.as_array().map(Vec::as_slice) {
            Some([delimiter, _]) if is_call(delimiter, scope.version()) => Err(TemplateError::at(
                path,
                "Delimiter for Fn::Split must be string",
            )),
            Some([_, _]) => Ok(()),
            _ => Err(TemplateError::at(path, FN_SPLIT_SHAPE)),
        }
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let Some([delimiter, text]) = args.as_array().map(Vec::as_slice) else {
            return Err(err(FN_SPLIT_SHAPE.into()));
        };
        if !delimiter.is_string() {
            return Err(err("Delimiter for Fn::Split must be string".into()));
        }
        let Value::String(text) = text else {
            return Err(err(format!(
                "String to split must be string; got {}",
                python::type_repr(text)
            )));
        };
        python_split(text, delimiter).map(Value::Array).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{AWS, FixedContext, LATEST, check_cases, hot};
    use crate::template::version::HotVersion;
    use serde_json::json;

    #[test]
    fn str_split_with_and_without_index() {
        let ctx = FixedContext::default();
        let shape = "outputs.o.str_split: Incorrect arguments to \"str_split\" should be: \"str_split\" : [ \",\", \"apples,pears\", <index>]";
        check_cases(
            LATEST,
            &ctx,
            &[
                (
                    json!({"str_split": [",", "a,b,,c"]}),
                    Ok(json!(["a", "b", "", "c"])),
                ),
                (json!({"str_split": [",", "a,b", 1]}), Ok(json!("b"))),
                (json!({"str_split": [",", "a,b", "0"]}), Ok(json!("a"))),
                (json!({"str_split": [",", "a,b", -1]}), Ok(json!("b"))),
                (
                    json!({"str_split": [null, " a  b "]}),
                    Ok(json!(["a", "b"])),
                ),
                (json!({"str_split": [",", null]}), Ok(json!(null))),
                (
                    json!({"str_split": [",", "a,b", 2]}),
                    Err(
                        "outputs.o.str_split: Incorrect index to \"str_split\" should be between 0 and 1",
                    ),
                ),
                (
                    json!({"str_split": [",", "a,b", "x"]}),
                    Err(
                        "outputs.o.str_split: Incorrect index to \"str_split\" should be: \"str_split\" : [ \",\", \"apples,pears\", <index>]",
                    ),
                ),
                (json!({"str_split": "a,b"}), Err(shape)),
                (json!({"str_split": [","]}), Err(shape)),
                (
                    json!({"str_split": ["", "ab"]}),
                    Err("outputs.o.str_split: empty separator"),
                ),
            ],
        );
        check_cases(
            hot(HotVersion::V2015_04_30),
            &ctx,
            &[(
                json!({"str_split": [",", "a"]}),
                Ok(json!({"str_split": [",", "a"]})),
            )],
        );
    }

    #[test]
    fn cfn_split() {
        let ctx = FixedContext::default();
        check_cases(
            AWS,
            &ctx,
            &[
                (json!({"Fn::Split": [",", "a,b"]}), Ok(json!(["a", "b"]))),
                (
                    json!({"Fn::Split": [",", ["a"]]}),
                    Err("outputs.o.Fn::Split: String to split must be string; got <class 'list'>"),
                ),
                (
                    json!({"Fn::Split": [1, "a"]}),
                    Err("outputs.o.Fn::Split: Delimiter for Fn::Split must be string"),
                ),
                (
                    json!({"Fn::Split": [",", "a", 1]}),
                    Err(
                        "outputs.o.Fn::Split: Incorrect arguments to \"Fn::Split\" should be: \"Fn::Split\" : [ \",\", \"str1,str2\"]]",
                    ),
                ),
            ],
        );
    }
}
