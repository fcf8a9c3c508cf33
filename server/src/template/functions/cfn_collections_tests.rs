//! `Fn::Select` and `Fn::MemberListToMap`.

use super::super::test_support::{AWS, FixedContext, check_cases, hot};
use crate::template::version::HotVersion;
use serde_json::json;

#[test]
fn select_from_lists_maps_and_json_text() {
    let ctx = FixedContext::default();
    for version in [AWS, hot(HotVersion::V2015_04_30)] {
        check_cases(
            version,
            &ctx,
            &[
                (json!({"Fn::Select": [1, ["a", "b"]]}), Ok(json!("b"))),
                (json!({"Fn::Select": ["1", ["a", "b"]]}), Ok(json!("b"))),
                (json!({"Fn::Select": [-1, ["a", "b"]]}), Ok(json!("b"))),
                (json!({"Fn::Select": [5, ["a", "b"]]}), Ok(json!(""))),
                (json!({"Fn::Select": ["k", {"k": 1}]}), Ok(json!(1))),
                (json!({"Fn::Select": ["z", {"k": 1}]}), Ok(json!(""))),
                (json!({"Fn::Select": [0, "[\"x\"]"]}), Ok(json!("x"))),
                (json!({"Fn::Select": [0, ""]}), Ok(json!(""))),
                (json!({"Fn::Select": [0, null]}), Ok(json!(""))),
                (
                    json!({"Fn::Select": [0, {"k": 1}]}),
                    Err("outputs.o.Fn::Select: Index to \"Fn::Select\" must be a string"),
                ),
                (
                    json!({"Fn::Select": ["x", ["a"]]}),
                    Err("outputs.o.Fn::Select: Index to \"Fn::Select\" must be an integer"),
                ),
                (
                    json!({"Fn::Select": [0, 5]}),
                    Err("outputs.o.Fn::Select: Arguments to Fn::Select not fully resolved"),
                ),
                (
                    json!({"Fn::Select": [0]}),
                    Err(
                        "outputs.o.Fn::Select: Arguments to \"Fn::Select\" must be of the form [index, collection]",
                    ),
                ),
            ],
        );
    }
}

#[test]
fn member_list_to_map() {
    let ctx = FixedContext::default();
    check_cases(
        AWS,
        &ctx,
        &[
            (
                json!({"Fn::MemberListToMap": ["Name", "Value", [
                    ".member.1.Name=b", ".member.1.Value=2",
                    ".member.0.Name=a", ".member.0.Value=1=one",
                    ".member.2.Name=c", "other=x"
                ]]}),
                Ok(json!({"a": "1=one", "b": "2"})),
            ),
            (
                json!({"Fn::MemberListToMap": ["Name", "Value", ["novalue"]]}),
                Err(
                    "outputs.o.Fn::MemberListToMap: dictionary update sequence element #0 has length 1; 2 is required",
                ),
            ),
            (
                json!({"Fn::MemberListToMap": ["Name", "Value", [1]]}),
                Err("outputs.o.Fn::MemberListToMap: Member list items must be strings"),
            ),
            (
                json!({"Fn::MemberListToMap": ["Name", "Value", 1]}),
                Err("outputs.o.Fn::MemberListToMap: Member list must be a list"),
            ),
            (
                json!({"Fn::MemberListToMap": [1, "Value", []]}),
                Err("outputs.o.Fn::MemberListToMap: Fn::MemberListToMap Key Name must be a string"),
            ),
            (
                json!({"Fn::MemberListToMap": ["Name", "Value"]}),
                Err(
                    "outputs.o.Fn::MemberListToMap: Wrong Arguments try: \"\n            {'Fn::MemberListToMap': ['Name', 'Value',\n                                     ['.member.0.Name=key',\n                                      '.member.0.Value=door']]}\n            \"",
                ),
            ),
        ],
    );
}
