//! `list_join: [delimiter, list]` (and from 2015-10-15 `[delimiter, list, list...]`), and
//! CFN's `Fn::Join`, which is the older form.

use serde_json::Value;

use super::json_text::python_dumps;
use super::{EvalContext, Function, ValidationScope, is_call, python};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// `list_join` / `Fn::Join`.
pub struct ListJoin {
    /// The function's key.
    pub name: &'static str,
    /// From 2015-10-15 (`JoinMultiple`): several lists; maps and lists are JSON-encoded.
    pub multi: bool,
}

impl ListJoin {
    fn shape_error(&self) -> String {
        let name = self.name;
        let more = if self.multi { " ..." } else { "" };
        format!(
            "Incorrect arguments to \"{name}\" should be: \"{name}\" : [ \" \", [ \"str1\", \"str2\"]{more}]"
        )
    }

    /// The delimiter and the lists.
    fn parts<'a>(
        &self,
        args: &'a Value,
        version: TemplateVersion,
    ) -> Result<(&'a Value, &'a [Value]), String> {
        let items = args
            .as_array()
            .filter(|_| !is_call(args, version))
            .ok_or_else(|| self.shape_error())?;
        match items.split_first() {
            Some((delimiter, lists)) if lists.len() == 1 || (self.multi && !lists.is_empty()) => {
                Ok((delimiter, lists))
            }
            _ => Err(self.shape_error()),
        }
    }

    fn item_text(&self, item: &Value) -> Result<String, String> {
        Ok(match item {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Object(_) | Value::Array(_) if self.multi => python_dumps(item),
            other if self.multi => {
                return Err(format!(
                    "Items to join must be string, map or list not {}",
                    python::short_repr(other)
                ));
            }
            other => {
                return Err(format!(
                    "Items to join must be strings not {}",
                    python::short_repr(other)
                ));
            }
        })
    }
}

impl Function for ListJoin {
    fn name(&self) -> &'static str {
        self.name
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        self.parts(args, scope.version())
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
        let name = self.name;
        let (delimiter, lists) = self.parts(&args, version).map_err(err)?;
        let mut items: Vec<&Value> = Vec::new();
        for list in lists {
            match list {
                Value::Array(l) => items.extend(l),
                // The single-list form takes null as empty; the multi-list one skips any
                // false value.
                Value::Null => {}
                other if self.multi && !python::truthy(other) => {}
                _ => return Err(err(format!("\"{name}\" must operate on a list"))),
            }
        }
        let Value::String(delimiter) = delimiter else {
            return Err(err(format!("\"{name}\" delimiter must be a string")));
        };
        let parts = items
            .into_iter()
            .map(|i| self.item_text(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        Ok(Value::String(parts.join(delimiter)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{AWS, FixedContext, LATEST, check_cases, hot};
    use crate::template::version::HotVersion;
    use serde_json::json;

    #[test]
    fn multi_list_join_encodes_maps_and_lists() {
        let ctx = FixedContext::default();
        check_cases(
            LATEST,
            &ctx,
            &[
                (
                    json!({"list_join": [", ", ["a", "b"], ["c"]]}),
                    Ok(json!("a, b, c")),
                ),
                (
                    json!({"list_join": ["-", [{"k": 1}, null, [2]], null, ""]}),
                    Ok(json!("{\"k\": 1}--[2]")),
                ),
                (
                    json!({"list_join": ["-", ["a", 2]]}),
                    Err("outputs.o.list_join: Items to join must be string, map or list not 2"),
                ),
                (
                    json!({"list_join": ["-"]}),
                    Err(
                        "outputs.o.list_join: Incorrect arguments to \"list_join\" should be: \"list_join\" : [ \" \", [ \"str1\", \"str2\"] ...]",
                    ),
                ),
                (
                    json!({"list_join": ["-", "abc"]}),
                    Err("outputs.o.list_join: \"list_join\" must operate on a list"),
                ),
                (
                    json!({"list_join": [1, ["a"]]}),
                    Err("outputs.o.list_join: \"list_join\" delimiter must be a string"),
                ),
            ],
        );
    }

    #[test]
    fn single_list_form_before_2015_10_15_and_in_cfn() {
        let ctx = FixedContext::default();
        check_cases(
            hot(HotVersion::V2015_04_30),
            &ctx,
            &[
                (
                    json!({"list_join": [",", ["a", null, "b"]]}),
                    Ok(json!("a,,b")),
                ),
                (json!({"list_join": [",", null]}), Ok(json!(""))),
                (
                    json!({"list_join": [",", ["a"], ["b"]]}),
                    Err(
                        "outputs.o.list_join: Incorrect arguments to \"list_join\" should be: \"list_join\" : [ \" \", [ \"str1\", \"str2\"]]",
                    ),
                ),
                (
                    json!({"list_join": [",", [{"a": 1}]]}),
                    Err("outputs.o.list_join: Items to join must be strings not {'a': 1}"),
                ),
            ],
        );
        check_cases(
            AWS,
            &ctx,
            &[(json!({"Fn::Join": [":", ["a", "b"]]}), Ok(json!("a:b")))],
        );
    }
}
