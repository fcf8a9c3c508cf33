//! Tests of template parsing and validation.

use super::*;

struct AnyType;
impl TypeLookup for AnyType {
    fn type_exists(&self, t: &str) -> bool {
        t.starts_with("OS::")
    }
    fn check_attribute(&self, _: &str, _: &Value, a: &str) -> Result<(), String> {
        if a == "bad" {
            Err("The Referenced Attribute (r bad) is incorrect.".into())
        } else {
            Ok(())
        }
    }
}

#[test]
fn parses_sections_and_dependencies() {
    let t = Template::parse_text(
        "heat_template_version: rocky\nparameters:\n  p: {type: string, default: x}\nresources:\n  a: {type: OS::Heat::Value, properties: {value: {get_param: p}}}\n  b:\n    type: OS::Heat::Value\n    depends_on: a\n    properties: {value: {get_attr: [a, value]}}\noutputs:\n  o: {value: {get_attr: [b, value]}}\n",
    )
    .unwrap();
    assert_eq!(t.version, TemplateVersion::Hot(HotVersion::V2018_08_31));
    assert_eq!(t.dependencies("b"), vec!["a".to_string()]);
    t.validate(&AnyType).unwrap();
    assert_eq!(t.outputs["o"].description, "No description given");
}

#[test]
fn errors_name_their_place() {
    let e = Template::parse_text("resources: {}").unwrap_err();
    assert_eq!(e.to_string(), "Template version was not provided");
    let e = Template::parse_text("heat_template_version: 2013-05-23\nfoo: 1\n").unwrap_err();
    assert_eq!(e.to_string(), "The template section is invalid: foo");
    let t = Template::parse_text(
        "heat_template_version: 2013-05-23\nresources:\n  r: {type: Nope::X}\n",
    )
    .unwrap();
    assert_eq!(
        t.validate(&AnyType).unwrap_err().to_string(),
        "resources.r: The Resource Type (Nope::X) could not be found."
    );
    let t = Template::parse_text("heat_template_version: 2013-05-23\nresources:\n  r: {type: OS::X, properties: {a: {get_atr: [r, x]}}}\n").unwrap();
    let e = t.validate(&AnyType).unwrap_err().to_string();
    assert!(
        e.starts_with("resources.r.properties.a: Unknown function \"get_atr\""),
        "{e}"
    );
    // `get_input` is a StructuredDeployment's data, not a call.
    let t = Template::parse_text("heat_template_version: 2013-05-23\nresources:\n  r: {type: OS::X, properties: {a: {get_input: port}}}\n").unwrap();
    t.validate(&AnyType).unwrap();
    let t = Template::parse_text("heat_template_version: 2013-05-23\nresources:\n  r: {type: OS::X, properties: {a: {get_attr: [r, bad]}}}\n").unwrap();
    assert_eq!(
        t.validate(&AnyType).unwrap_err().to_string(),
        "resources.r.properties.a.get_attr: The Referenced Attribute (r bad) is incorrect."
    );
    let e = Template::parse_text(
        "heat_template_version: 2013-05-23\nresources:\n  r: {type: OS::X, propertes: {}}\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "resources.r: Invalid keyword(s) inside a resource definition: propertes"
    );
}

#[test]
fn deletion_policies_by_version() {
    let parse = |version: &str, policy: &str| {
        Template::parse_text(&format!(
            "heat_template_version: {version}\nresources:\n  r:\n    type: OS::X\n    deletion_policy: {policy}\n"
        ))
    };
    let policy = |t: Template| t.resources["r"].deletion_policy();
    assert_eq!(
        policy(parse("2013-05-23", "Retain").unwrap()),
        DeletionPolicy::Retain
    );
    assert_eq!(
        policy(parse("2013-05-23", "Snapshot").unwrap()),
        DeletionPolicy::Snapshot
    );
    assert_eq!(
        policy(parse("2016-10-14", "retain").unwrap()),
        DeletionPolicy::Retain
    );
    assert_eq!(
        policy(parse("2018-08-31", "delete").unwrap()),
        DeletionPolicy::Delete
    );
    let e = parse("2016-04-08", "retain").unwrap_err();
    assert_eq!(
        e.to_string(),
        "resources.r.deletion_policy: Invalid deletion policy \"retain\""
    );
    let e = parse("2018-08-31", "Keep").unwrap_err();
    assert_eq!(
        e.to_string(),
        "resources.r.deletion_policy: Invalid deletion policy \"Keep\""
    );
    let e = parse("2018-08-31", "[Retain]").unwrap_err();
    assert_eq!(
        e.to_string(),
        "resources.r.deletion_policy: Resource r deletion_policy type must be string"
    );
    let t = parse("2018-08-31", "{get_param: p}").unwrap();
    assert_eq!(t.resources["r"].deletion_policy(), DeletionPolicy::Delete);
    assert_eq!(
        t.resources["r"].deletion_policy_call,
        Some(serde_json::json!({"get_param": "p"}))
    );
    let t =
        Template::parse_text("heat_template_version: 2013-05-23\nresources:\n  r: {type: OS::X}\n")
            .unwrap();
    assert_eq!(t.resources["r"].deletion_policy(), DeletionPolicy::Delete);
    let t = Template::parse_text(
        "heat_template_version: 2018-08-31\nresources:\n  r: {type: OS::X, external_id: abc}\n",
    )
    .unwrap();
    assert_eq!(t.resources["r"].deletion_policy(), DeletionPolicy::Retain);
    let cfn = Template::parse_text(
        "HeatTemplateFormatVersion: '2012-12-12'\nResources:\n  R: {Type: OS::X, DeletionPolicy: Retain}\n",
    )
    .unwrap();
    assert_eq!(cfn.resources["R"].deletion_policy(), DeletionPolicy::Retain);
    let e = Template::parse_text(
        "HeatTemplateFormatVersion: '2012-12-12'\nResources:\n  R: {Type: OS::X, DeletionPolicy: retain}\n",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("Invalid deletion policy \"retain\""),
        "{e}"
    );
}
