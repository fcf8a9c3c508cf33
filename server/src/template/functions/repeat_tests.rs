//! `repeat`, by version.

use super::super::test_support::{Case, FixedContext, LATEST, check_cases, hot};
use crate::template::version::HotVersion::{self, *};
use serde_json::json;

#[test]
fn product_of_lists_replacing_keys_and_values() {
    let mut ctx = FixedContext::default();
    ctx.params.insert("ports".into(), json!(["80", "443"]));
    check_cases(
        LATEST,
        &ctx,
        &[
            (
                json!({"repeat": {"template": {"port_%p%": "%p%/%proto%"}, "for_each": {"%p%": {"get_param": "ports"}, "%proto%": ["tcp", "udp"]}}}),
                Ok(json!([
                    {"port_80": "80/tcp"}, {"port_80": "80/udp"},
                    {"port_443": "443/tcp"}, {"port_443": "443/udp"}
                ])),
            ),
            (
                json!({"repeat": {"template": ["<x>", 1, null], "for_each": {"<x>": ["a"]}}}),
                Ok(json!([["a", 1, null]])),
            ),
            (
                json!({"repeat": {"template": "x", "for_each": {"x": null}}}),
                Ok(json!([])),
            ),
            // Variables are replaced one after the other, so a value can be re-scanned.
            (
                json!({"repeat": {"template": "A", "for_each": {"A": ["B"], "B": ["c"]}}}),
                Ok(json!(["c"])),
            ),
            (
                json!({"repeat": {"template": "x", "for_each": {"x": [1]}}}),
                Err("outputs.o.repeat: replace() argument 2 must be str, not int"),
            ),
            (
                json!({"repeat": {"template": "x"}}),
                Err(
                    r#"outputs.o.repeat: '"repeat" syntax should be repeat:\n              template: This is %var%\n              for_each:\n                %var%: [\'a\', \'b\', \'c\']'"#,
                ),
            ),
            (
                json!({"repeat": {"template": "x", "for_each": ["x"]}}),
                Err("outputs.o.repeat: The \"for_each\" argument to \"repeat\" must contain a map"),
            ),
            (
                json!({"repeat": {"template": "x", "for_each": {}}}),
                Err("outputs.o.repeat: not enough values to unpack (expected 2, got 0)"),
            ),
            (
                json!({"repeat": ["x"]}),
                Err("outputs.o.repeat: Arguments to \"repeat\" must be a map"),
            ),
        ],
    );
}

#[test]
fn maps_from_2016_10_14_and_permutations_from_2017_09_01() {
    let ctx = FixedContext::default();
    let over_map = json!({"repeat": {"template": "k=K", "for_each": {"K": {"a": 1, "b": 2}}}});
    let zipped = json!({"repeat": {"template": "A-B", "for_each": {"A": ["1", "2"], "B": ["x", "y"]}, "permutations": false}});
    let cases: &[(HotVersion, &[Case<'_>])] = &[
        (
            V2016_04_08,
            &[
                (
                    over_map.clone(),
                    Err(
                        "outputs.o.repeat: The values of the \"for_each\" argument to \"repeat\" must be lists",
                    ),
                ),
                // `permutations` is ignored before 2017-09-01.
                (zipped.clone(), Ok(json!(["1-x", "1-y", "2-x", "2-y"]))),
            ],
        ),
        (
            V2016_10_14,
            &[
                (over_map.clone(), Ok(json!(["k=a", "k=b"]))),
                (
                    json!({"repeat": {"template": "A", "for_each": {"A": "abc"}}}),
                    Err(
                        "outputs.o.repeat: The values of the \"for_each\" argument to \"repeat\" must be lists or maps",
                    ),
                ),
            ],
        ),
        (
            V2017_09_01,
            &[
                (over_map.clone(), Ok(json!(["k=a", "k=b"]))),
                (zipped.clone(), Ok(json!(["1-x", "2-y"]))),
                (
                    json!({"repeat": {"template": "A-B", "for_each": {"A": ["1"], "B": ["x", "y"]}, "permutations": false}}),
                    Err(
                        "outputs.o.repeat: For repeat, the length of for_each values should be equal if no nested loop.",
                    ),
                ),
                (
                    json!({"repeat": {"template": "K", "for_each": {"K": {"a": 1}}, "permutations": false}}),
                    Err(
                        "outputs.o.repeat: The values of the \"for_each\" argument to \"repeat\" must be lists",
                    ),
                ),
                (
                    json!({"repeat": {"template": "K", "for_each": {"K": ["a"]}, "permutations": "no"}}),
                    Err(
                        "outputs.o.repeat: \"permutations\" should be boolean type for repeat function.",
                    ),
                ),
            ],
        ),
        (
            V2014_10_16,
            &[(
                json!({"repeat": {"template": "A", "for_each": {"A": ["a"]}}}),
                Ok(json!({"repeat": {"template": "A", "for_each": {"A": ["a"]}}})),
            )],
        ),
    ];
    for (version, cases) in cases {
        check_cases(hot(*version), &ctx, cases);
    }
}
