//! `yaql: {expression, data}` — a yaql query over `$.data` (HOT 2016-10-14 and later).
//!
//! As Heat's `Yaql` function: the arguments must be a map with `expression` and optionally
//! `data` (default `{}`); an expression written as a string is parsed at validation time;
//! evaluation sees `{"data": data}` under Heat's default budgets (see `template::yaql`).

use serde_json::{Map, Value};

use super::{EvalContext, Function, ValidationScope};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;
use crate::template::yaql;

/// `yaql`.
pub struct Yaql;

const SYNTAX: &str = "\"yaql\" syntax should be yaql:\n  expression: $.data.var1.sum()\n  data:\n    var1: [3, 2, 1]";

fn parts<'a>(args: &'a Value, path: &str) -> Result<(&'a Value, Option<&'a Value>), TemplateError> {
    let map: &Map<String, Value> = args
        .as_object()
        .ok_or_else(|| TemplateError::at(path, "Arguments to \"yaql\" must be a map."))?;
    let expression = map.get("expression");
    match expression {
        Some(e) if map.keys().all(|k| k == "expression" || k == "data") => Ok((e, map.get("data"))),
        _ => Err(TemplateError::at(path, SYNTAX)),
    }
}

fn parse(expression: &Value, path: &str) -> Result<String, TemplateError> {
    let Value::String(text) = expression else {
        return Err(TemplateError::at(
            path,
            "The \"expression\" argument to yaql must contain a string.",
        ));
    };
    yaql::parse(text).map_err(|e| TemplateError::at(path, format!("Bad expression {e}.")))?;
    Ok(text.clone())
}

impl Function for Yaql {
    fn name(&self) -> &'static str {
        "yaql"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        let (expression, _) = parts(args, path)?;
        if !super::contains_call(expression, scope.version()) {
            parse(expression, path)?;
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
        let (expression, data) = parts(&args, path)?;
        let text = parse(expression, path)?;
        let empty = Value::Object(Map::new());
        yaql::evaluate(&text, data.unwrap_or(&empty))
            .map_err(|e| TemplateError::at(path, e.message))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{FixedContext, eval};

    #[test]
    fn evaluates_over_data() {
        let mut ctx = FixedContext::default();
        ctx.params.insert(
            "roles".into(),
            json!([{"n": "a", "c": 1}, {"n": "b", "c": 0}]),
        );
        let out = eval(
            json!({"yaql": {
                "expression": "$.data.roles.where($.c > 0).select($.n)",
                "data": {"roles": {"get_param": "roles"}}
            }}),
            &ctx,
        )
        .unwrap();
        assert_eq!(out, json!(["a"]));
        let out = eval(json!({"yaql": {"expression": "$.data"}}), &ctx).unwrap();
        assert_eq!(out, json!({}));
    }

    #[test]
    fn is_data_before_2016_10_14() {
        use crate::template::version::HotVersion;
        let call = json!({"yaql": {"expression": "$"}});
        let ctx = FixedContext::default();
        let out = super::super::resolve(&call, HotVersion::V2016_04_08, &ctx, "o").unwrap();
        assert_eq!(out, call);
    }

    #[test]
    fn bad_shapes_and_expressions_are_errors() {
        let ctx = FixedContext::default();
        let err = eval(json!({"yaql": ["$"]}), &ctx).unwrap_err();
        assert!(err.message.contains("must be a map"), "{err}");
        let err = eval(json!({"yaql": {"expression": "$", "extra": 1}}), &ctx).unwrap_err();
        assert!(err.message.contains("syntax should be"), "{err}");
        let err = eval(json!({"yaql": {"expression": "$.x("}}), &ctx).unwrap_err();
        assert!(err.message.starts_with("Bad expression"), "{err}");
        let err = eval(json!({"yaql": {"expression": "$.data.x"}}), &ctx).unwrap_err();
        assert!(err.message.contains("KeyError"), "{err}");
        assert_eq!(err.path, "outputs.o.yaql");
    }
}
