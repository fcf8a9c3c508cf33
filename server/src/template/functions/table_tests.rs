//! The table against §1.3 of the Heat reference, version by version.

use super::*;
use crate::template::functions::test_support::{
    AWS, FixedContext, FixedScope, LATEST, check_cases, hot,
};
use crate::template::functions::{resolve_in, validate, validate_in};
use crate::template::version::HotVersion::{self, *};
use serde_json::json;

const HEAT: TemplateVersion = TemplateVersion::Cfn(CfnVersion::Heat2012_12_12);

fn removed_names(version: TemplateVersion) -> Vec<&'static str> {
    let col = column(version);
    ROWS.iter()
        .filter(|(_, cells)| matches!(cells[col], Cell::Removed))
        .map(|(n, _)| *n)
        .collect()
}

#[test]
fn functions_per_version_match_heat() {
    let base = [
        "get_param",
        "get_resource",
        "get_file",
        "resource_facade",
        "get_attr",
        "list_join",
        "str_replace",
    ];
    let cfn_2013 = [
        "Fn::Select",
        "Ref",
        "Fn::GetAZs",
        "Fn::Join",
        "Fn::Split",
        "Fn::Replace",
        "Fn::Base64",
        "Fn::MemberListToMap",
        "Fn::ResourceFacade",
    ];
    let added: &[(HotVersion, &[&str])] = &[
        (V2013_05_23, &[]),
        (V2014_10_16, &[]),
        (V2015_04_30, &["repeat", "digest"]),
        (V2015_10_15, &["str_split"]),
        (V2016_04_08, &["map_merge"]),
        (V2016_10_14, &["map_replace", "yaql", "if"]),
        (V2017_02_24, &["filter", "str_replace_strict"]),
        (
            V2017_09_01,
            &[
                "make_url",
                "list_concat",
                "list_concat_unique",
                "str_replace_vstrict",
                "contains",
            ],
        ),
        (V2018_03_02, &[]),
        (V2018_08_31, &[]),
        (V2021_04_16, &[]),
    ];
    let mut expected: Vec<&str> = base.to_vec();
    for (version, names) in added {
        expected.extend_from_slice(names);
        let mut want = expected.clone();
        let mut removed: Vec<&str> = cfn_2013.to_vec();
        match version {
            V2013_05_23 => {
                want.extend_from_slice(&cfn_2013);
                removed.clear();
            }
            V2014_10_16 | V2015_04_30 => {
                want.push("Fn::Select");
                removed.retain(|n| *n != "Fn::Select");
            }
            _ => {}
        }
        let mut got = function_names(hot(*version), Context::Value);
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "functions of {version}");
        let mut got = removed_names(hot(*version));
        got.sort_unstable();
        removed.sort_unstable();
        assert_eq!(got, removed, "removed in {version}");
    }
    let mut heat = cfn_2013.to_vec();
    heat.extend(["Fn::GetAtt", "Fn::FindInMap"]);
    let mut got = function_names(HEAT, Context::Value);
    got.sort_unstable();
    heat.sort_unstable();
    assert_eq!(got, heat);
    heat.push("Fn::If");
    heat.sort_unstable();
    let mut got = function_names(AWS, Context::Value);
    got.sort_unstable();
    assert_eq!(got, heat);
    assert!(removed_names(AWS).is_empty() && removed_names(HEAT).is_empty());
}

#[test]
fn condition_context() {
    let cond = |name, v| lookup(name, v, Context::Condition);
    assert!(matches!(
        cond("get_param", hot(V2016_10_14)),
        Availability::Function(_)
    ));
    assert!(matches!(
        cond("get_attr", hot(V2016_10_14)),
        Availability::Invalid
    ));
    assert!(matches!(
        cond("Ref", hot(V2016_10_14)),
        Availability::Removed
    ));
    assert!(matches!(
        cond("Ref", hot(V2015_10_15)),
        Availability::Invalid
    ));
    assert!(matches!(
        cond("contains", hot(V2016_10_14)),
        Availability::Absent
    ));
    assert!(matches!(
        cond("contains", hot(V2017_09_01)),
        Availability::Function(_)
    ));
    assert!(matches!(
        cond("yaql", hot(V2016_10_14)),
        Availability::Invalid
    ));
    assert!(matches!(cond("Ref", AWS), Availability::Function(_)));
    assert!(matches!(cond("Fn::GetAtt", AWS), Availability::Invalid));
    assert!(matches!(cond("Fn::GetAtt", HEAT), Availability::Invalid));
    assert!(matches!(cond("nope", AWS), Availability::Absent));
    let mut names = function_names(hot(V2017_09_01), Context::Condition);
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "and",
            "contains",
            "equals",
            "get_param",
            "not",
            "or",
            "yaql"
        ]
    );
}

#[test]
fn pending_functions_are_data_until_implemented() {
    assert!(matches!(
        lookup("if", LATEST, Context::Value),
        Availability::Absent
    ));
    assert!(matches!(
        lookup("equals", LATEST, Context::Condition),
        Availability::Absent
    ));
}

#[test]
fn removed_and_invalid_fail_validation_and_resolution() {
    let ctx = FixedContext::default();
    check_cases(
        hot(V2014_10_16),
        &ctx,
        &[
            (
                json!({"a": {"Fn::Base64": "x"}}),
                Err(
                    "outputs.o.a.Fn::Base64: The template version is invalid: The function Fn::Base64 is not supported in this version of HOT.",
                ),
            ),
            (json!({"Fn::Select": [0, ["x"]]}), Ok(json!("x"))),
            (
                json!({"Fn::GetAtt": ["r", "a"]}),
                Err(
                    "outputs.o: Unknown function \"Fn::GetAtt\" (not available in heat_template_version 2014-10-16)",
                ),
            ),
            (
                json!({"str_split": [",", "a"]}),
                Ok(json!({"str_split": [",", "a"]})),
            ),
        ],
    );
    check_cases(
        hot(V2015_10_15),
        &ctx,
        &[(
            json!({"Fn::Select": [0, ["x"]]}),
            Err(
                "outputs.o.Fn::Select: The template version is invalid: The function Fn::Select is not supported in this version of HOT.",
            ),
        )],
    );
    let scope = FixedScope(&ctx, LATEST);
    let e = validate_in(
        &json!({"get_attr": ["r", "a"]}),
        Context::Condition,
        &scope,
        "conditions.c",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "conditions.c.get_attr: The function \"get_attr\" is invalid in this context"
    );
    let e = resolve_in(
        &json!({"Ref": "x"}),
        LATEST,
        Context::Value,
        &ctx,
        "outputs.o",
    )
    .unwrap_err();
    assert!(e.message.contains("not supported"), "{e}");
    assert!(validate(&json!({"Ref": "x"}), &scope, "o").is_err());
}
