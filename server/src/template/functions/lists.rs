//! List functions: `filter: [values, list]`, `list_concat` / `list_concat_unique:
//! [list, ...]` and `contains: [value, sequence]`, with Python's equality.

use serde_json::Value;

use super::json_text::python_dumps_unsorted;
use super::{EvalContext, Function, ValidationScope, is_call, python};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// `filter`.
pub struct Filter;

/// `list_concat`, or with `unique` `list_concat_unique`.
pub struct ListConcat {
    /// Keep only the first of equal items.
    pub unique: bool,
}

/// `contains` (also a condition function).
pub struct Contains;

/// `[values, list]`, or Heat's message.
fn filter_parts(args: &Value, version: TemplateVersion) -> Result<(&Value, &Value), String> {
    let items = args
        .as_array()
        .filter(|_| !is_call(args, version))
        .ok_or("Argument to \"filter\" must be a list")?;
    match items.as_slice() {
        [values, list] => Ok((values, list)),
        _ => Err(format!(
            "\"filter\" expected 2 arguments of the form [values, sequence] but got {} arguments instead",
            items.len()
        )),
    }
}

impl Function for Filter {
    fn name(&self) -> &'static str {
        "filter"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        filter_parts(args, scope.version())
            .map(|_| ())
            .map_err(|m| TemplateError::at(path, m))
    }

    fn evaluate(
        &self,
        args: Value,
        version: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: &str| TemplateError::at(path, m);
        let (values, list) = filter_parts(&args, version).map_err(|m| err(&m))?;
        if !python::truthy(list) {
            return Ok(list.clone());
        }
        let Value::Array(list) = list else {
            return Err(err("\"filter\" only works with lists"));
        };
        if !python::truthy(values) {
            return Ok(Value::Array(list.clone()));
        }
        let Value::Array(values) = values else {
            return Err(err("\"filter\" filters a list of values"));
        };
        Ok(Value::Array(
            list.iter()
                .filter(|i| !python::contains(values, i))
                .cloned()
                .collect(),
        ))
    }
}

impl Function for ListConcat {
    fn name(&self) -> &'static str {
        if self.unique {
            "list_concat_unique"
        } else {
            "list_concat"
        }
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let name = self.name();
        let Value::Array(lists) = &args else {
            return Err(TemplateError::at(
                path,
                format!(
                    "Incorrect arguments to \"{name}\" should be: \"{name}\" : [ [ <value 1>, <value 2> ], [ <value 3>, <value 4> ] ]"
                ),
            ));
        };
        let mut out: Vec<Value> = Vec::new();
        for list in lists {
            match list {
                Value::Null => {}
                Value::Array(items) => out.extend(items.iter().cloned()),
                other => {
                    return Err(TemplateError::at(
                        path,
                        format!(
                            "Incorrect arguments: Items to concat must be lists. {} contains an item that is not a list: {}",
                            python_dumps_unsorted(&args),
                            python_dumps_unsorted(other)
                        ),
                    ));
                }
            }
        }
        if self.unique {
            let mut unique: Vec<Value> = Vec::with_capacity(out.len());
            for item in out {
                if !python::contains(&unique, &item) {
                    unique.push(item);
                }
            }
            out = unique;
        }
        Ok(Value::Array(out))
    }
}

/// `[value, sequence]`, or Heat's message.
fn contains_parts(args: &Value, version: TemplateVersion) -> Result<(&Value, &Value), String> {
    let items = args
        .as_array()
        .filter(|a| !a.is_empty() && !is_call(args, version))
        .ok_or(
            "Incorrect arguments to \"contains\" should be: \"contains\" : [ \"value1\", [ \"value1\", \"value2\"]]",
        )?;
    match items.as_slice() {
        [value, sequence] => Ok((value, sequence)),
        _ => {
            Err("Arguments to \"contains\" must be of the form: [value1, [value1, value2]]".into())
        }
    }
}

impl Function for Contains {
    fn name(&self) -> &'static str {
        "contains"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        contains_parts(args, scope.version())
            .map(|_| ())
            .map_err(|m| TemplateError::at(path, m))
    }

    fn evaluate(
        &self,
        args: Value,
        version: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let (value, sequence) = contains_parts(&args, version).map_err(err)?;
        match (sequence, value) {
            (Value::Array(items), _) => Ok(Value::Bool(python::contains(items, value))),
            (Value::String(text), Value::String(part)) => {
                Ok(Value::Bool(text.contains(part.as_str())))
            }
            (Value::String(_), other) => Err(err(format!(
                "'in <string>' requires string as left operand, not {}",
                python::type_name(other)
            ))),
            _ => Err(err(
                "Second argument to \"contains\" should be a sequence.".into()
            )),
        }
    }
}

#[cfg(test)]
#[path = "lists_tests.rs"]
mod tests;
