//! CloudFormation-format templates (`AWSTemplateFormatVersion: 2010-09-09` and
//! `HeatTemplateFormatVersion: 2012-12-12`), read by translating their sections into the
//! HOT shape the rest of the template code understands. The template keeps its CFN version,
//! so the function table gives it the CFN functions (`Ref`, `Fn::GetAtt`, `Fn::Join`, …).

use serde_json::{Map, Value, json};

use super::error::{TemplateError, TemplateErrorKind, join};
use super::version::CfnVersion;

const SECTIONS: &[&str] = &[
    "Description",
    "Parameters",
    "Mappings",
    "Resources",
    "Outputs",
];
const RESOURCE_KEYS: &[&str] = &[
    "Type",
    "Properties",
    "Metadata",
    "DependsOn",
    "DeletionPolicy",
    "UpdatePolicy",
    "Description",
];
const OUTPUT_KEYS: &[&str] = &["Value", "Description"];
const PARAMETER_KEYS: &[&str] = &[
    "Type",
    "Default",
    "NoEcho",
    "AllowedValues",
    "AllowedPattern",
    "MaxLength",
    "MinLength",
    "MaxValue",
    "MinValue",
    "Description",
    "ConstraintDescription",
    "Label",
];

/// Translates one entry of a section, appending problems to the errors.
type SectionTranslator<'a> = dyn Fn(&str, &Value, &mut Vec<TemplateError>) -> Option<Value> + 'a;

/// A CFN template in HOT shape, and its `Mappings`.
pub struct Translated {
    /// The HOT-shaped document (`description`, `parameters`, `resources`, `outputs`, `conditions`).
    pub document: Map<String, Value>,
    /// The `Mappings` section, for `Fn::FindInMap`.
    pub mappings: Map<String, Value>,
}

fn with_conditions(version: CfnVersion) -> bool {
    version == CfnVersion::Aws2010_09_09
}

fn parameter(name: &str, decl: &Value, errors: &mut Vec<TemplateError>) -> Option<Value> {
    let path = join("Parameters", name);
    let Some(decl) = decl.as_object() else {
        errors.push(TemplateError::at(
            path,
            "the parameter declaration must be a mapping",
        ));
        return None;
    };
    for key in decl.keys() {
        if !PARAMETER_KEYS.contains(&key.as_str()) {
            errors.push(TemplateError::at(
                &path,
                format!("Invalid key '{key}' for parameter ({name})"),
            ));
        }
    }
    let cfn_type = decl.get("Type").and_then(Value::as_str).unwrap_or("String");
    let hot_type = match cfn_type {
        "String" => "string",
        "Number" => "number",
        "CommaDelimitedList" => "comma_delimited_list",
        "Json" => "json",
        "Boolean" => "boolean",
        other => {
            errors.push(TemplateError::at(
                join(&path, "Type"),
                format!("Invalid type ({other}); expected one of String, Number, CommaDelimitedList, Json, Boolean"),
            ));
            return None;
        }
    };
    let mut out = Map::new();
    out.insert("type".into(), json!(hot_type));
    if let Some(d) = decl.get("Default") {
        out.insert("default".into(), d.clone());
    }
    if let Some(d) = decl.get("Description") {
        out.insert("description".into(), d.clone());
    }
    if let Some(l) = decl.get("Label") {
        out.insert("label".into(), l.clone());
    }
    let no_echo = match decl.get("NoEcho") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    if no_echo {
        out.insert("hidden".into(), json!(true));
    }
    let description = decl.get("ConstraintDescription").cloned();
    let constraint = |mut c: Map<String, Value>| {
        if let Some(d) = &description {
            c.insert("description".into(), d.clone());
        }
        Value::Object(c)
    };
    let mut constraints = Vec::new();
    if let Some(v) = decl.get("AllowedValues") {
        constraints.push(constraint(Map::from_iter([(
            "allowed_values".to_string(),
            v.clone(),
        )])));
    }
    if let Some(v) = decl.get("AllowedPattern") {
        constraints.push(constraint(Map::from_iter([(
            "allowed_pattern".to_string(),
            v.clone(),
        )])));
    }
    for (kind, min, max) in [
        ("length", "MinLength", "MaxLength"),
        ("range", "MinValue", "MaxValue"),
    ] {
        let mut bounds = Map::new();
        for (key, bound) in [(min, "min"), (max, "max")] {
            if let Some(v) = decl.get(key) {
                // CFN writes bounds as strings ("1"); HOT wants numbers.
                let number = match v {
                    Value::String(s) => s.trim().parse::<f64>().ok().map(|f| {
                        if f.fract() == 0.0 {
                            json!(f as i64)
                        } else {
                            json!(f)
                        }
                    }),
                    Value::Number(_) => Some(v.clone()),
                    _ => None,
                };
                match number {
                    Some(n) => {
                        bounds.insert(bound.into(), n);
                    }
                    None => errors.push(TemplateError::at(
                        join(&path, key),
                        format!("{key} must be a number, not {v}"),
                    )),
                }
            }
        }
        if !bounds.is_empty() {
            constraints.push(constraint(Map::from_iter([(
                kind.to_string(),
                Value::Object(bounds),
            )])));
        }
    }
    if !constraints.is_empty() {
        out.insert("constraints".into(), Value::Array(constraints));
    }
    Some(Value::Object(out))
}

fn resource(
    name: &str,
    def: &Value,
    version: CfnVersion,
    errors: &mut Vec<TemplateError>,
) -> Option<Value> {
    let path = join("Resources", name);
    let Some(def) = def.as_object() else {
        errors.push(TemplateError::at(
            path,
            "Each resource must contain a Type key.",
        ));
        return None;
    };
    let invalid: Vec<&str> = def
        .keys()
        .map(String::as_str)
        .filter(|k| !(RESOURCE_KEYS.contains(k) || (*k == "Condition" && with_conditions(version))))
        .collect();
    if !invalid.is_empty() {
        errors.push(TemplateError::at(
            &path,
            format!(
                "Invalid keyword(s) inside a resource definition: {}",
                invalid.join(", ")
            ),
        ));
        return None;
    }
    let mut out = Map::new();
    for (cfn, hot) in [
        ("Type", "type"),
        ("Properties", "properties"),
        ("Metadata", "metadata"),
        ("DependsOn", "depends_on"),
        ("DeletionPolicy", "deletion_policy"),
        ("UpdatePolicy", "update_policy"),
        ("Description", "description"),
        ("Condition", "condition"),
    ] {
        if let Some(v) = def.get(cfn) {
            out.insert(hot.into(), v.clone());
        }
    }
    Some(Value::Object(out))
}

fn output(
    name: &str,
    def: &Value,
    version: CfnVersion,
    errors: &mut Vec<TemplateError>,
) -> Option<Value> {
    let path = join("Outputs", name);
    let Some(def) = def.as_object() else {
        errors.push(TemplateError::at(
            path,
            "Each output definition must contain a Value key.",
        ));
        return None;
    };
    for key in def.keys() {
        if !(OUTPUT_KEYS.contains(&key.as_str())
            || (key == "Condition" && with_conditions(version)))
        {
            errors.push(TemplateError::at(
                &path,
                format!("\"{key}\" is not a valid keyword inside a output definition"),
            ));
            return None;
        }
    }
    let Some(value) = def.get("Value") else {
        errors.push(TemplateError::at(
            path,
            "Each output definition must contain a Value key.",
        ));
        return None;
    };
    let mut out = Map::new();
    out.insert("value".into(), value.clone());
    if let Some(d) = def.get("Description") {
        out.insert("description".into(), d.clone());
    }
    if let Some(c) = def.get("Condition") {
        out.insert("condition".into(), c.clone());
    }
    Some(Value::Object(out))
}

fn section<'a>(
    doc: &'a Map<String, Value>,
    key: &str,
    errors: &mut Vec<TemplateError>,
) -> Option<&'a Map<String, Value>> {
    match doc.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            errors.push(TemplateError::at(key, "must be a mapping"));
            None
        }
    }
}

/// Translates a CFN document; problems are appended to `errors`.
pub fn translate(
    doc: &Map<String, Value>,
    version: CfnVersion,
    errors: &mut Vec<TemplateError>,
) -> Translated {
    let version_key = match version {
        CfnVersion::Aws2010_09_09 => "AWSTemplateFormatVersion",
        CfnVersion::Heat2012_12_12 => "HeatTemplateFormatVersion",
    };
    for key in doc.keys() {
        let ok = key == version_key
            || SECTIONS.contains(&key.as_str())
            || (key == "Conditions" && with_conditions(version));
        if !ok {
            errors.push(TemplateError::new(
                TemplateErrorKind::InvalidSection,
                format!("The template section is invalid: {key}"),
            ));
        }
    }
    let mut out = Map::new();
    if let Some(d) = doc.get("Description") {
        out.insert("description".into(), d.clone());
    }
    let mut translate_map =
        |cfn: &str, hot: &str, f: &SectionTranslator, errors: &mut Vec<TemplateError>| {
            if let Some(m) = section(doc, cfn, errors) {
                let mut converted = Map::new();
                for (name, def) in m {
                    if let Some(v) = f(name, def, errors) {
                        converted.insert(name.clone(), v);
                    }
                }
                out.insert(hot.into(), Value::Object(converted));
            }
        };
    translate_map("Parameters", "parameters", &parameter, errors);
    translate_map(
        "Resources",
        "resources",
        &|n, d, e| resource(n, d, version, e),
        errors,
    );
    translate_map(
        "Outputs",
        "outputs",
        &|n, d, e| output(n, d, version, e),
        errors,
    );
    if let Some(c) = section(doc, "Conditions", errors) {
        out.insert("conditions".into(), Value::Object(c.clone()));
    }
    let mappings = section(doc, "Mappings", errors)
        .cloned()
        .unwrap_or_default();
    Translated {
        document: out,
        mappings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_translate_to_hot_shape() {
        let doc = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "d",
            "Parameters": {"Size": {"Type": "Number", "Default": "2", "MinValue": "1", "MaxValue": "5", "ConstraintDescription": "1..5", "NoEcho": "true"}},
            "Mappings": {"M": {"k": {"v": 1}}},
            "Conditions": {"Big": {"Fn::Equals": [{"Ref": "Size"}, "5"]}},
            "Resources": {"R": {"Type": "OS::Heat::Value", "Properties": {"value": 1}, "DependsOn": "S", "Condition": "Big"}},
            "Outputs": {"O": {"Value": {"Ref": "R"}, "Description": "o"}}
        });
        let mut errors = vec![];
        let t = translate(
            doc.as_object().unwrap(),
            CfnVersion::Aws2010_09_09,
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            Value::Object(t.document),
            json!({
                "description": "d",
                "parameters": {"Size": {"type": "number", "default": "2", "hidden": true,
                    "constraints": [{"range": {"min": 1, "max": 5}, "description": "1..5"}]}},
                "resources": {"R": {"type": "OS::Heat::Value", "properties": {"value": 1}, "depends_on": "S", "condition": "Big"}},
                "outputs": {"O": {"value": {"Ref": "R"}, "description": "o"}},
                "conditions": {"Big": {"Fn::Equals": [{"Ref": "Size"}, "5"]}}
            })
        );
        assert_eq!(Value::Object(t.mappings), json!({"M": {"k": {"v": 1}}}));
    }

    #[test]
    fn heat_2012_has_no_conditions() {
        let doc = json!({"HeatTemplateFormatVersion": "2012-12-12", "Conditions": {}, "Resources": {"R": {"Type": "T", "Condition": "x"}}});
        let mut errors = vec![];
        translate(
            doc.as_object().unwrap(),
            CfnVersion::Heat2012_12_12,
            &mut errors,
        );
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "The template section is invalid: Conditions",
                "Resources.R: Invalid keyword(s) inside a resource definition: Condition"
            ]
        );
    }
}
