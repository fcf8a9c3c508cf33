//! `filter`, `list_concat(_unique)` and `contains`, by version.

use super::super::test_support::{FixedContext, LATEST, check_cases, hot};
use crate::template::version::HotVersion;
use serde_json::json;

#[test]
fn filter() {
    let ctx = FixedContext::default();
    check_cases(
        LATEST,
        &ctx,
        &[
            (
                json!({"filter": [[1, "a"], [1, 1.0, true, "a", "b", null]]}),
                Ok(json!(["b", null])),
            ),
            (json!({"filter": [null, [1, 2]]}), Ok(json!([1, 2]))),
            (json!({"filter": [[1], null]}), Ok(json!(null))),
            (json!({"filter": [[1], ""]}), Ok(json!(""))),
            (
                json!({"filter": [[1], "abc"]}),
                Err("outputs.o.filter: \"filter\" only works with lists"),
            ),
            (
                json!({"filter": ["a", ["a"]]}),
                Err("outputs.o.filter: \"filter\" filters a list of values"),
            ),
            (
                json!({"filter": [[1]]}),
                Err(
                    "outputs.o.filter: \"filter\" expected 2 arguments of the form [values, sequence] but got 1 arguments instead",
                ),
            ),
            (
                json!({"filter": {"a": 1}}),
                Err("outputs.o.filter: Argument to \"filter\" must be a list"),
            ),
        ],
    );
    check_cases(
        hot(HotVersion::V2016_10_14),
        &ctx,
        &[(
            json!({"filter": [[1], [1]]}),
            Ok(json!({"filter": [[1], [1]]})),
        )],
    );
}

#[test]
fn list_concat_and_unique() {
    let ctx = FixedContext::default();
    check_cases(
        LATEST,
        &ctx,
        &[
            (
                json!({"list_concat": [[1, 2], null, [2, {"a": 1}]]}),
                Ok(json!([1, 2, 2, {"a": 1}])),
            ),
            (
                json!({"list_concat_unique": [[1, 2], [2.0, true, {"a": 1}], [{"a": 1}, "x"]]}),
                Ok(json!([1, 2, {"a": 1}, "x"])),
            ),
            (
                json!({"list_concat": [[1], "ab"]}),
                Err(
                    "outputs.o.list_concat: Incorrect arguments: Items to concat must be lists. [[1], \"ab\"] contains an item that is not a list: \"ab\"",
                ),
            ),
            (
                json!({"list_concat": "ab"}),
                Err(
                    "outputs.o.list_concat: Incorrect arguments to \"list_concat\" should be: \"list_concat\" : [ [ <value 1>, <value 2> ], [ <value 3>, <value 4> ] ]",
                ),
            ),
        ],
    );
    check_cases(
        hot(HotVersion::V2017_02_24),
        &ctx,
        &[(
            json!({"list_concat": [[1]]}),
            Ok(json!({"list_concat": [[1]]})),
        )],
    );
}

#[test]
fn contains() {
    let ctx = FixedContext::default();
    check_cases(
        LATEST,
        &ctx,
        &[
            (json!({"contains": ["a", ["a", "b"]]}), Ok(json!(true))),
            (json!({"contains": [1, [1.0]]}), Ok(json!(true))),
            (json!({"contains": ["c", ["a", "b"]]}), Ok(json!(false))),
            (json!({"contains": ["ell", "hello"]}), Ok(json!(true))),
            (
                json!({"contains": [1, "hello"]}),
                Err("outputs.o.contains: 'in <string>' requires string as left operand, not int"),
            ),
            (
                json!({"contains": ["a", {"a": 1}]}),
                Err("outputs.o.contains: Second argument to \"contains\" should be a sequence."),
            ),
            (
                json!({"contains": ["a"]}),
                Err(
                    "outputs.o.contains: Arguments to \"contains\" must be of the form: [value1, [value1, value2]]",
                ),
            ),
            (
                json!({"contains": "a"}),
                Err(
                    "outputs.o.contains: Incorrect arguments to \"contains\" should be: \"contains\" : [ \"value1\", [ \"value1\", \"value2\"]]",
                ),
            ),
        ],
    );
}
