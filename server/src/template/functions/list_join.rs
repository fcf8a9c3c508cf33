//! `list_join: [delimiter, list, list...]`.

use serde_json::Value;

use super::json_text::python_dumps;
use super::{EvalContext, Function, ValidationScope};
use crate::template::error::TemplateError;
use crate::template::version::HotVersion;

/// `list_join`.
pub struct ListJoin;

const SHAPE: &str = "Arguments to \"list_join\" must be a list [delimiter, list, ...]";

impl Function for ListJoin {
    fn name(&self) -> &'static str {
        "list_join"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        match args.as_array() {
            Some(items) if items.len() >= 2 => Ok(()),
            _ if super::contains_call(args, scope.version()) => Ok(()),
            _ => Err(TemplateError::at(path, SHAPE)),
        }
    }

    fn evaluate(
        &self,
        args: Value,
        version: HotVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let items = args
            .as_array()
            .filter(|a| a.len() >= 2)
            .ok_or_else(|| TemplateError::at(path, SHAPE))?;
        let delimiter = match &items[0] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            _ => {
                return Err(TemplateError::at(
                    path,
                    "The \"list_join\" delimiter must be a string",
                ));
            }
        };
        let multi = version >= HotVersion::V2015_10_15;
        if items.len() > 2 && !multi {
            return Err(TemplateError::at(path, SHAPE));
        }
        let mut parts = Vec::new();
        for list in &items[1..] {
            let list = match list {
                Value::Array(l) => l,
                Value::Null => continue,
                _ => {
                    return Err(TemplateError::at(
                        path,
                        "\"list_join\" arguments after the delimiter must be lists",
                    ));
                }
            };
            for item in list {
                parts.push(match item {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    Value::Object(_) | Value::Array(_) if multi => python_dumps(item),
                    other if multi => updraft_hooks::deployment::python_str(other),
                    _ => return Err(TemplateError::at(path, "Items to join must be strings")),
                });
            }
        }
        Ok(Value::String(parts.join(&delimiter)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, eval};
    use serde_json::json;

    #[test]
    fn joins_multiple_lists_and_encodes_maps() {
        let ctx = FixedContext::default();
        assert_eq!(
            eval(json!({"list_join": [", ", ["a", "b"], ["c"]]}), &ctx).unwrap(),
            json!("a, b, c")
        );
        assert_eq!(
            eval(json!({"list_join": ["-", [{"k": 1}, null, 2]]}), &ctx).unwrap(),
            json!("{\"k\": 1}--2")
        );
        assert!(eval(json!({"list_join": ["-"]}), &ctx).is_err());
    }
}
