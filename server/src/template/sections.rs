//! Reading the sections of a template document: version, resources, outputs, and
//! `parameter_groups` errors. Every problem is collected with its path.

use serde_json::{Map, Value};

use super::error::{TemplateError, TemplateErrorKind, join};
use super::version::{CfnVersion, HotVersion, TemplateVersion};
use super::*;

/// Whether `conditions`/`condition:` exist in `version` (HOT 2016-10-14+, AWS CFN).
pub(super) fn conditions_allowed(version: TemplateVersion) -> bool {
    version.hot_since(HotVersion::V2016_10_14)
        || version == TemplateVersion::Cfn(CfnVersion::Aws2010_09_09)
}

pub(super) fn parse_version(doc: &Map<String, Value>) -> Result<TemplateVersion, TemplateError> {
    let cfn = ["AWSTemplateFormatVersion", "HeatTemplateFormatVersion"];
    let present: Vec<&str> = ["heat_template_version"]
        .into_iter()
        .chain(cfn)
        .filter(|k| doc.contains_key(*k))
        .collect();
    match present.as_slice() {
        [] => Err(TemplateError::new(
            TemplateErrorKind::InvalidVersion,
            "Template version was not provided",
        )),
        [_, _, ..] => Err(TemplateError::new(
            TemplateErrorKind::InvalidVersion,
            "Ambiguous versions",
        )),
        ["heat_template_version"] => {
            let value = match doc.get("heat_template_version") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            HotVersion::parse(&value).map(TemplateVersion::Hot).ok_or_else(|| {
                TemplateError::new(
                    TemplateErrorKind::InvalidVersion,
                    format!(
                        "\"heat_template_version: {value}\". \"heat_template_version\" should be one of: {}",
                        HotVersion::valid_values()
                    ),
                )
            })
        }
        [key, ..] => {
            let value = doc.get(*key).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            match (*key, value.as_deref()) {
                ("AWSTemplateFormatVersion", Some("2010-09-09")) => {
                    Ok(TemplateVersion::Cfn(CfnVersion::Aws2010_09_09))
                }
                ("HeatTemplateFormatVersion", Some("2012-12-12")) => {
                    Ok(TemplateVersion::Cfn(CfnVersion::Heat2012_12_12))
                }
                (key, value) => {
                    let valid = if key == "AWSTemplateFormatVersion" {
                        "2010-09-09"
                    } else {
                        "2012-12-12"
                    };
                    Err(TemplateError::new(
                        TemplateErrorKind::InvalidVersion,
                        format!(
                            "\"{key}: {}\". \"{key}\" should be one of: {valid}",
                            value.unwrap_or_default()
                        ),
                    ))
                }
            }
        }
    }
}

/// `Parameter Groups error: parameter_groups.<label>: …`, Heat's exact text (its path
/// is made of the group's label), pointing at the group in the template.
pub(super) fn group_error(pointer: &str, heat_path: &[&str], message: &str) -> TemplateError {
    TemplateError::new(
        TemplateErrorKind::Validation,
        format!("Parameter Groups error: {}: {message}", heat_path.join(".")),
    )
    .pointing_at(pointer)
}

pub(super) fn parse_resources(
    section: &Value,
    template: &mut Template,
    errors: &mut Vec<TemplateError>,
) {
    let map = match section {
        Value::Null => return,
        Value::Object(m) => m,
        _ => {
            errors.push(TemplateError::at(
                "resources",
                "must be a mapping of resource names to definitions",
            ));
            return;
        }
    };
    for (name, def) in map {
        let path = join("resources", name);
        match parse_resource(name, def, &path, template.version) {
            Ok(r) => {
                template.resources.insert(name.clone(), r);
            }
            Err(mut found) => {
                errors.append(&mut found);
                template.invalid_resources.push(name.clone());
            }
        }
    }
}

pub(super) fn parse_resource(
    name: &str,
    def: &Value,
    path: &str,
    version: TemplateVersion,
) -> Result<ResourceDefinition, Vec<TemplateError>> {
    let Some(def) = def.as_object() else {
        return Err(vec![TemplateError::at(
            path,
            "Each resource must contain a type key.",
        )]);
    };
    let mut errors = vec![];
    let invalid: Vec<&str> = def
        .keys()
        .map(String::as_str)
        .filter(|k| {
            !(RESOURCE_KEYS.contains(k)
                || (conditions_allowed(version) && RESOURCE_KEYS_2016.contains(k)))
        })
        .collect();
    if !invalid.is_empty() {
        errors.push(TemplateError::at(
            path,
            format!(
                "Invalid keyword(s) inside a resource definition: {}",
                invalid.join(", ")
            ),
        ));
    }
    let resource_type = match def.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(_) => {
            errors.push(TemplateError::at(
                join(path, "type"),
                "Resource type must be a string",
            ));
            String::new()
        }
        None => {
            errors.push(TemplateError::at(
                path,
                "Each resource must contain a type key.",
            ));
            String::new()
        }
    };
    let properties = match def.get("properties") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => {
            errors.push(TemplateError::at(
                join(path, "properties"),
                "\"properties\" must be a map",
            ));
            Value::Null
        }
    };
    let metadata = match def.get("metadata") {
        None | Some(Value::Null) => Value::Null,
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => {
            errors.push(TemplateError::at(
                join(path, "metadata"),
                "\"metadata\" must be a map",
            ));
            Value::Null
        }
    };
    let shape_error = || {
        TemplateError::at(
            join(path, "depends_on"),
            "must be a resource name or a list of resource names",
        )
    };
    let depends_on = match def.get("depends_on") {
        None | Some(Value::Null) => vec![],
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => match items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
        {
            Some(list) => list,
            None => {
                errors.push(shape_error());
                vec![]
            }
        },
        Some(_) => {
            errors.push(shape_error());
            vec![]
        }
    };
    let (mut deletion_policy, mut deletion_policy_call) = (DeletionPolicy::Delete, None);
    let policy_path = join(path, "deletion_policy");
    match def.get("deletion_policy") {
        None => {}
        Some(Value::String(p)) => match DeletionPolicy::parse(p, version) {
            Ok(p) => deletion_policy = p,
            Err(e) => errors.push(TemplateError::at(&policy_path, e)),
        },
        Some(call) if functions::contains_call(call, version) && call.is_object() => {
            deletion_policy_call = Some(call.clone());
        }
        Some(_) => {
            let key = match version {
                TemplateVersion::Hot(_) => "deletion_policy",
                TemplateVersion::Cfn(_) => "DeletionPolicy",
            };
            errors.push(TemplateError::at(
                &policy_path,
                format!("Resource {name} {key} type must be string"),
            ));
        }
    }
    // An adopted resource (`external_id`) is never deleted.
    if conditions_allowed(version) && def.get("external_id").is_some_and(|v| !v.is_null()) {
        deletion_policy = DeletionPolicy::Retain;
        deletion_policy_call = None;
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ResourceDefinition {
        name: name.to_string(),
        resource_type,
        properties,
        metadata,
        depends_on,
        condition: def.get("condition").cloned(),
        deletion_policy,
        deletion_policy_call,
        update_policy: def.get("update_policy").cloned().unwrap_or(Value::Null),
    })
}

pub(super) fn parse_outputs(
    section: &Value,
    template: &mut Template,
    errors: &mut Vec<TemplateError>,
) {
    let map = match section {
        Value::Null => return,
        Value::Object(m) => m,
        _ => {
            errors.push(TemplateError::at(
                "outputs",
                "must be a mapping of output names to definitions",
            ));
            return;
        }
    };
    for (name, def) in map {
        let path = join("outputs", name);
        let Some(def) = def.as_object() else {
            errors.push(TemplateError::at(
                &path,
                "Each output definition must contain a value key.",
            ));
            continue;
        };
        let mut ok = true;
        for key in def.keys() {
            let allowed = key == "description"
                || key == "value"
                || (key == "condition" && conditions_allowed(template.version));
            if !allowed {
                ok = false;
                errors.push(TemplateError::at(
                    &path,
                    format!("\"{key}\" is not a valid keyword inside a output definition"),
                ));
            }
        }
        let Some(value) = def.get("value").cloned() else {
            errors.push(TemplateError::at(
                &path,
                "Each output definition must contain a value key.",
            ));
            continue;
        };
        if !ok {
            continue;
        }
        let description = def
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("No description given")
            .to_string();
        template.outputs.insert(
            name.clone(),
            OutputDefinition {
                description,
                value,
                condition: def.get("condition").cloned(),
            },
        );
    }
}
