//! `Ref`, `Fn::Base64`, `Fn::GetAZs` and `Fn::FindInMap`, in HOT 2013-05-23 and CFN.

use super::super::test_support::{AWS, FixedContext, FixedScope, check_cases, hot};
use crate::template::functions::dependencies;
use crate::template::functions::table::Context;
use crate::template::functions::{resolve_in, validate_in};
use crate::template::version::HotVersion;
use serde_json::json;

fn context() -> FixedContext {
    let mut ctx = FixedContext::default();
    ctx.refs.insert("srv".into(), "abc-123".into());
    ctx.params.insert("size".into(), json!("m1.small"));
    ctx.mappings.insert(
        "Region".into(),
        json!({"us-east-1": {"AMI": "ami-1"}, "eu": {"AMI": "ami-2"}}),
    );
    ctx
}

#[test]
fn ref_is_a_resource_or_a_parameter() {
    let ctx = context();
    for version in [AWS, hot(HotVersion::V2013_05_23)] {
        check_cases(
            version,
            &ctx,
            &[
                (json!({"Ref": "srv"}), Ok(json!("abc-123"))),
                (json!({"Ref": "size"}), Ok(json!("m1.small"))),
                (
                    json!({"Ref": "nope"}),
                    Err("The specified reference \"nope\" (in outputs.o.Ref) is incorrect."),
                ),
                (json!({"Fn::Base64": "#!/bin/sh"}), Ok(json!("#!/bin/sh"))),
                (
                    json!({"Fn::Base64": ["x"]}),
                    Err("outputs.o.Fn::Base64: \"Fn::Base64\" argument must be a string"),
                ),
                (json!({"Fn::GetAZs": ""}), Ok(json!(["nova"]))),
            ],
        );
    }
    let mut deps = Vec::new();
    dependencies(
        &json!({"a": {"Ref": "srv"}, "b": {"Fn::GetAtt": ["db", "x"]}}),
        AWS,
        &mut deps,
    );
    assert_eq!(deps, ["srv", "db"]);
}

#[test]
fn ref_in_aws_conditions_is_parameters_only() {
    let ctx = context();
    let scope = FixedScope(&ctx, AWS);
    let cond = |v| validate_in(&v, Context::Condition, &scope, "conditions.c");
    assert!(cond(json!({"Ref": "size"})).is_ok());
    assert_eq!(
        cond(json!({"Ref": "srv"})).unwrap_err().to_string(),
        "The specified reference \"srv\" (in conditions.c.Ref) is incorrect."
    );
    let value = resolve_in(
        &json!({"Ref": "size"}),
        AWS,
        Context::Condition,
        &ctx,
        "conditions.c",
    );
    assert_eq!(value.unwrap(), json!("m1.small"));
}

#[test]
fn find_in_map() {
    let ctx = context();
    check_cases(
        AWS,
        &ctx,
        &[
            (
                json!({"Fn::FindInMap": ["Region", "eu", "AMI"]}),
                Ok(json!("ami-2")),
            ),
            (
                json!({"Fn::FindInMap": ["Region", "eu"]}),
                Err("outputs.o.Fn::FindInMap: 'not enough values to unpack (expected 3, got 2)'"),
            ),
            (
                json!({"Fn::FindInMap": ["Nope", "eu", "AMI"]}),
                Err("outputs.o.Fn::FindInMap: The mapping \"Nope\" is not in the Mappings section"),
            ),
            (
                json!({"Fn::FindInMap": ["Region", "asia", "AMI"]}),
                Err("outputs.o.Fn::FindInMap: The key \"asia\" is not in mapping \"Region\""),
            ),
        ],
    );
    let top = FixedContext::default();
    check_cases(
        AWS,
        &top,
        &[(
            json!({"Fn::FindInMap": ["Region", "eu", "AMI"]}),
            Err("outputs.o.Fn::FindInMap: The mapping \"Region\" is not in the Mappings section"),
        )],
    );
}
