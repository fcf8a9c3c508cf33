//! `if: [condition, value_if_true, value_if_false]` (HOT 2016-10-14+), and from 2021-04-16
//! `if: [condition, value_if_true]`, whose false branch removes the enclosing item.
//!
//! `if` is a macro: only the chosen branch is resolved, so it is handled by the walker
//! rather than as an ordinary [`super::Function`].

use serde_json::Value;

use super::EvalContext;
use crate::template::error::TemplateError;
use crate::template::version::{CfnVersion, HotVersion, TemplateVersion};

/// The arguments of an `if` call in `value`, if it is one in `version`: `if` in HOT
/// 2016-10-14+, `Fn::If` in AWS CFN templates.
pub fn as_if_call(value: &Value, version: TemplateVersion) -> Option<&Value> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    if version.hot_since(HotVersion::V2016_10_14) {
        map.get("if")
    } else if version == TemplateVersion::Cfn(CfnVersion::Aws2010_09_09) {
        map.get("Fn::If")
    } else {
        None
    }
}

/// An `if` split into its parts.
pub struct Branches<'a> {
    /// The condition.
    pub condition: Value,
    /// One or two branch values.
    pub values: &'a [Value],
}

/// Checks the shape of `if` arguments.
pub fn branches<'a>(
    args: &'a Value,
    version: TemplateVersion,
    path: &str,
) -> Result<Branches<'a>, TemplateError> {
    let two_allowed = version.hot_since(HotVersion::V2021_04_16);
    let shape = if two_allowed {
        "Arguments to \"if\" must be of the form: [condition_name, value_if_true, value_if_false] or [condition_name, value_if_true]"
    } else {
        "Arguments to \"if\" must be of the form: [condition_name, value_if_true, value_if_false]"
    };
    let items = args
        .as_array()
        .ok_or_else(|| TemplateError::at(path, shape))?;
    match items.split_first() {
        Some((condition, values)) if values.len() == 2 || (two_allowed && values.len() == 1) => {
            Ok(Branches {
                condition: condition.clone(),
                values,
            })
        }
        _ => Err(TemplateError::at(path, shape)),
    }
}

/// The branch an `if` picks; `None` when a two-argument `if` is false.
pub fn choose<'a>(
    args: &'a Value,
    version: TemplateVersion,
    ctx: &dyn EvalContext,
    path: &str,
) -> Result<Option<&'a Value>, TemplateError> {
    let b = branches(args, version, path)?;
    let chosen = ctx.condition(&b.condition, path)?;
    Ok(match (chosen, b.values) {
        (true, [t, ..]) => Some(t),
        (false, [_, f]) => Some(f),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, eval};
    use serde_json::json;

    #[test]
    fn picks_a_branch_and_elides_absent_values() {
        let ctx = FixedContext::default();
        assert_eq!(
            eval(json!({"if": [true, "a", "b"]}), &ctx).unwrap(),
            json!("a")
        );
        assert_eq!(
            eval(json!({"if": [false, "a", "b"]}), &ctx).unwrap(),
            json!("b")
        );
        assert_eq!(
            eval(json!({"m": {"keep": 1, "drop": {"if": [false, 2]}}, "l": [1, {"if": [false, 2]}, {"if": [true, 3]}]}), &ctx).unwrap(),
            json!({"m": {"keep": 1}, "l": [1, 3]})
        );
        assert_eq!(
            eval(json!({"if": [false, "a"]}), &ctx).unwrap(),
            json!(null)
        );
        let e = eval(json!({"if": ["nope", "a", "b"]}), &ctx).unwrap_err();
        assert_eq!(e.to_string(), "outputs.o.if: Invalid condition \"nope\"");
        let e = eval(json!({"if": [true]}), &ctx).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("outputs.o.if: Arguments to \"if\""),
            "{e}"
        );
    }
}
