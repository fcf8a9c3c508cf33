//! `str_replace` and its variants, by version.

use super::super::test_support::{AWS, FixedContext, LATEST, check_cases, hot};
use crate::template::version::HotVersion;
use serde_json::json;

#[test]
fn replacement_order_and_values() {
    let ctx = FixedContext::default();
    check_cases(
        LATEST,
        &ctx,
        &[
            (
                json!({"str_replace": {"template": "$var $var2 x", "params": {"$var": "a$var2", "$var2": "b"}}}),
                Ok(json!("a$var2 b x")),
            ),
            // Heat splits on the longest key everywhere first, not left to right.
            (
                json!({"str_replace": {"template": "abcd", "params": {"bcd": "X", "ab": "Y"}}}),
                Ok(json!("aX")),
            ),
            (
                json!({"str_replace": {"template": "n=N b=B m=M z=Z f=F", "params": {"N": 3, "B": true, "M": {"k": [1]}, "Z": null, "F": 1.5}}}),
                Ok(json!("n=3 b=True m={\"k\": [1]} z= f=1.5")),
            ),
            (
                json!({"str_replace": {"template": "x", "params": {"a": "b"}, "extra": 1}}),
                Ok(json!("x")),
            ),
            (
                json!({"str_replace": {"template": "x"}}),
                Err(
                    r#"outputs.o.str_replace: '"str_replace" syntax should be str_replace:\n              template: This is var1 template var2\n              params:\n                var1: a\n                var2: string'"#,
                ),
            ),
            (
                json!({"str_replace": ["x"]}),
                Err("outputs.o.str_replace: Arguments to \"str_replace\" must be a map"),
            ),
            (
                json!({"str_replace": {"template": "x", "params": [1]}}),
                Err("outputs.o.str_replace: \"str_replace\" parameters must be a mapping"),
            ),
            (
                json!({"str_replace": {"template": 1, "params": {}}}),
                Err("outputs.o.str_replace: \"str_replace\" template must be a string"),
            ),
            (
                json!({"str_replace": {"template": "x", "params": {"": "y"}}}),
                Err("outputs.o.str_replace: empty separator"),
            ),
        ],
    );
}

#[test]
fn before_2015_10_15_params_are_scalars() {
    let ctx = FixedContext::default();
    check_cases(
        hot(HotVersion::V2015_04_30),
        &ctx,
        &[
            (
                json!({"str_replace": {"template": "a", "params": {"a": 1}}}),
                Ok(json!("1")),
            ),
            (
                json!({"str_replace": {"template": "a", "params": {"a": [1]}}}),
                Err(
                    "outputs.o.str_replace: \"str_replace\" params must be strings or numbers, param a is not valid",
                ),
            ),
        ],
    );
}

#[test]
fn strict_and_very_strict() {
    let ctx = FixedContext::default();
    check_cases(
        LATEST,
        &ctx,
        &[
            (
                json!({"str_replace_strict": {"template": "a b", "params": {"a": "1", "b": ""}}}),
                Ok(json!("1 ")),
            ),
            (
                json!({"str_replace_strict": {"template": "ab", "params": {"ab": "1", "a": "2", "zz": "3", "q": "4"}}}),
                Err(
                    "outputs.o.str_replace_strict: The following params were not found in the template: zz,a,q",
                ),
            ),
            (
                json!({"str_replace_vstrict": {"template": "a b", "params": {"a": "1", "b": ""}}}),
                Err(
                    "outputs.o.str_replace_vstrict: str_replace_vstrict has an undefined or empty value for param b, must be a defined non-empty value",
                ),
            ),
            (
                json!({"str_replace_vstrict": {"template": "a", "params": {"a": []}}}),
                Err(
                    "outputs.o.str_replace_vstrict: str_replace_vstrict has an undefined or empty value for param a, must be a defined non-empty value",
                ),
            ),
            (
                json!({"str_replace_vstrict": {"template": "a", "params": {"a": 0}}}),
                Ok(json!("0")),
            ),
        ],
    );
    check_cases(
        hot(HotVersion::V2017_02_24),
        &ctx,
        &[(
            json!({"str_replace_vstrict": {"template": "a", "params": {"a": "x"}}}),
            Ok(json!({"str_replace_vstrict": {"template": "a", "params": {"a": "x"}}})),
        )],
    );
}

#[test]
fn cfn_replace_takes_params_then_template() {
    let ctx = FixedContext::default();
    let shape = r#"outputs.o.Fn::Replace: Incorrect arguments to "Fn::Replace" should be: {"Fn::Replace": [ {"$var1": "foo", "%var2%": "bar"}, "$var1 is %var2%"]}"#;
    for version in [AWS, hot(HotVersion::V2013_05_23)] {
        check_cases(
            version,
            &ctx,
            &[
                (
                    json!({"Fn::Replace": [{"$a": "x", "%b%": 2}, "$a is %b%"]}),
                    Ok(json!("x is 2")),
                ),
                (json!({"Fn::Replace": [{"a": "x"}]}), Err(shape)),
                (
                    json!({"Fn::Replace": [{"a": {}}, "a"]}),
                    Err(
                        "outputs.o.Fn::Replace: \"Fn::Replace\" params must be strings or numbers, param a is not valid",
                    ),
                ),
            ],
        );
    }
}
