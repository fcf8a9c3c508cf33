//! The template language: loading, versions, sections, parameters and intrinsic functions.
//!
//! Architecture invariant: nothing here does IO; callers hand in text and a view of the
//! stack ([`functions::EvalContext`]) and get values or [`TemplateError`]s naming a path.

pub mod environment;
pub mod error;
pub mod functions;
pub mod loader;
pub mod parameters;
pub mod pyrepr;
#[cfg(test)]
pub(crate) mod python_reference;
pub mod version;
pub mod yaql;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use error::join;
pub use error::{TemplateError, TemplateErrorKind};
use parameters::ParameterDecl;
use version::HotVersion;

/// Pseudo-parameters every stack has.
pub const PSEUDO_PARAMETERS: &[&str] = &["OS::stack_id", "OS::stack_name", "OS::project_id"];

/// One resource as declared in `resources`.
#[derive(Debug, Clone)]
pub struct ResourceDefinition {
    /// Logical name.
    pub name: String,
    /// `type:` as written.
    pub resource_type: String,
    /// `properties:` (a map, possibly holding function calls).
    pub properties: Value,
    /// `metadata:` (a map or null).
    pub metadata: Value,
    /// Explicit `depends_on`.
    pub depends_on: Vec<String>,
}

/// One output as declared in `outputs`.
#[derive(Debug, Clone)]
pub struct OutputDefinition {
    /// Description (`No description given` when absent, as Heat shows it).
    pub description: String,
    /// The value expression.
    pub value: Value,
}

/// A parsed HOT template.
#[derive(Debug, Clone)]
pub struct Template {
    /// `heat_template_version`.
    pub version: HotVersion,
    /// `description` (`""` when absent).
    pub description: String,
    /// Declared parameters in template order.
    pub parameters: IndexMap<String, ParameterDecl>,
    /// Resources in template order.
    pub resources: IndexMap<String, ResourceDefinition>,
    /// Outputs in template order.
    pub outputs: IndexMap<String, OutputDefinition>,
}

/// What template validation needs to know about resource types.
pub trait TypeLookup {
    /// Whether the type is registered.
    fn type_exists(&self, resource_type: &str) -> bool;
    /// Whether a resource of this type (with these unresolved properties) has `attribute`.
    fn check_attribute(
        &self,
        resource_type: &str,
        properties: &Value,
        attribute: &str,
    ) -> Result<(), String>;
}

const SECTIONS: &[&str] = &[
    "heat_template_version",
    "description",
    "parameter_groups",
    "parameters",
    "resources",
    "outputs",
];
const RESOURCE_KEYS: &[&str] = &[
    "type",
    "properties",
    "metadata",
    "depends_on",
    "update_policy",
    "deletion_policy",
    "description",
];
const RESOURCE_KEYS_2016: &[&str] = &["external_id", "condition"];

impl Template {
    /// Parses template text (YAML or JSON).
    pub fn parse_text(text: &str) -> Result<Self, TemplateError> {
        let raw = loader::load_document(text)
            .map_err(|e| TemplateError::new(TemplateErrorKind::Parse, e.message))?;
        Self::parse(&raw)
    }

    /// Parses a loaded template document.
    pub fn parse(raw: &Value) -> Result<Self, TemplateError> {
        let Some(doc) = raw.as_object() else {
            return Err(TemplateError::new(
                TemplateErrorKind::Parse,
                "The template is not a JSON object or YAML mapping.",
            ));
        };
        let version = parse_version(doc)?;
        for key in doc.keys() {
            let allowed = SECTIONS.contains(&key.as_str())
                || (key == "conditions" && version >= HotVersion::V2016_10_14);
            if !allowed {
                return Err(TemplateError::new(
                    TemplateErrorKind::InvalidSection,
                    format!("The template section is invalid: {key}"),
                ));
            }
            if key == "conditions" {
                return Err(TemplateError::at(
                    "conditions",
                    "the conditions section is not supported by this version of Updraft yet",
                ));
            }
        }
        let description = match doc.get("description") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(TemplateError::at("description", "must be a string")),
        };
        let parameters =
            parameters::parse_declarations(doc.get("parameters").unwrap_or(&Value::Null))?;
        let resources = parse_resources(doc.get("resources").unwrap_or(&Value::Null), version)?;
        let outputs = parse_outputs(doc.get("outputs").unwrap_or(&Value::Null), version)?;
        Ok(Template {
            version,
            description,
            parameters,
            resources,
            outputs,
        })
    }

    /// Checks references, functions and resource types; returns the first problem.
    pub fn validate(&self, types: &dyn TypeLookup) -> Result<(), TemplateError> {
        let scope = Scope {
            template: self,
            types,
        };
        for (name, def) in &self.resources {
            let path = join("resources", name);
            if !types.type_exists(&def.resource_type) {
                return Err(TemplateError::at(
                    &path,
                    format!(
                        "The Resource Type ({}) could not be found.",
                        def.resource_type
                    ),
                ));
            }
            for dep in &def.depends_on {
                if !self.resources.contains_key(dep) {
                    return Err(functions_invalid_reference(dep, &join(&path, "depends_on")));
                }
            }
            functions::validate(&def.properties, &scope, &join(&path, "properties"))?;
            functions::validate(&def.metadata, &scope, &join(&path, "metadata"))?;
        }
        for (name, output) in &self.outputs {
            functions::validate(
                &output.value,
                &scope,
                &join(&join("outputs", name), "value"),
            )?;
        }
        Ok(())
    }

    /// The resources each resource depends on (explicit and through functions), deduplicated.
    pub fn dependencies(&self, name: &str) -> Vec<String> {
        let Some(def) = self.resources.get(name) else {
            return vec![];
        };
        let mut out = def.depends_on.clone();
        functions::dependencies(&def.properties, self.version, &mut out);
        functions::dependencies(&def.metadata, self.version, &mut out);
        let mut seen = std::collections::HashSet::new();
        out.retain(|d| d != name && seen.insert(d.clone()));
        out
    }
}

fn functions_invalid_reference(name: &str, path: &str) -> TemplateError {
    TemplateError::new(
        TemplateErrorKind::InvalidReference,
        format!("The specified reference \"{name}\" (in {path}) is incorrect."),
    )
}

fn parse_version(doc: &Map<String, Value>) -> Result<HotVersion, TemplateError> {
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
            HotVersion::parse(&value).ok_or_else(|| {
                TemplateError::new(
                    TemplateErrorKind::InvalidVersion,
                    format!(
                        "\"heat_template_version: {value}\". \"heat_template_version\" should be one of: {}",
                        HotVersion::valid_values()
                    ),
                )
            })
        }
        [key, ..] => Err(TemplateError::new(
            TemplateErrorKind::InvalidVersion,
            format!(
                "{key} (CloudFormation-format) templates are not supported by this version of Updraft yet"
            ),
        )),
    }
}

fn parse_resources(
    section: &Value,
    version: HotVersion,
) -> Result<IndexMap<String, ResourceDefinition>, TemplateError> {
    let mut out = IndexMap::new();
    let map = match section {
        Value::Null => return Ok(out),
        Value::Object(m) => m,
        _ => {
            return Err(TemplateError::at(
                "resources",
                "must be a mapping of resource names to definitions",
            ));
        }
    };
    for (name, def) in map {
        let path = join("resources", name);
        let Some(def) = def.as_object() else {
            return Err(TemplateError::at(
                &path,
                "Each resource must contain a type key.",
            ));
        };
        let invalid: Vec<&str> = def
            .keys()
            .map(String::as_str)
            .filter(|k| {
                !(RESOURCE_KEYS.contains(k)
                    || (version >= HotVersion::V2016_10_14 && RESOURCE_KEYS_2016.contains(k)))
            })
            .collect();
        if !invalid.is_empty() {
            return Err(TemplateError::at(
                &path,
                format!(
                    "Invalid keyword(s) inside a resource definition: {}",
                    invalid.join(", ")
                ),
            ));
        }
        let resource_type = match def.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(_) => {
                return Err(TemplateError::at(
                    join(&path, "type"),
                    "Resource type must be a string",
                ));
            }
            None => {
                return Err(TemplateError::at(
                    &path,
                    "Each resource must contain a type key.",
                ));
            }
        };
        let properties = match def.get("properties") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => {
                return Err(TemplateError::at(
                    join(&path, "properties"),
                    "\"properties\" must be a map",
                ));
            }
        };
        let metadata = match def.get("metadata") {
            None | Some(Value::Null) => Value::Null,
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => {
                return Err(TemplateError::at(
                    join(&path, "metadata"),
                    "\"metadata\" must be a map",
                ));
            }
        };
        let depends_on = match def.get("depends_on") {
            None | Some(Value::Null) => vec![],
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    TemplateError::at(
                        join(&path, "depends_on"),
                        "must be a resource name or a list of resource names",
                    )
                })?,
            Some(_) => {
                return Err(TemplateError::at(
                    join(&path, "depends_on"),
                    "must be a resource name or a list of resource names",
                ));
            }
        };
        out.insert(
            name.clone(),
            ResourceDefinition {
                name: name.clone(),
                resource_type,
                properties,
                metadata,
                depends_on,
            },
        );
    }
    Ok(out)
}

fn parse_outputs(
    section: &Value,
    version: HotVersion,
) -> Result<IndexMap<String, OutputDefinition>, TemplateError> {
    let mut out = IndexMap::new();
    let map = match section {
        Value::Null => return Ok(out),
        Value::Object(m) => m,
        _ => {
            return Err(TemplateError::at(
                "outputs",
                "must be a mapping of output names to definitions",
            ));
        }
    };
    for (name, def) in map {
        let path = join("outputs", name);
        let Some(def) = def.as_object() else {
            return Err(TemplateError::at(
                &path,
                "Each output definition must contain a value key.",
            ));
        };
        for key in def.keys() {
            let ok = key == "description"
                || key == "value"
                || (key == "condition" && version >= HotVersion::V2016_10_14);
            if !ok {
                return Err(TemplateError::at(
                    &path,
                    format!("\"{key}\" is not a valid keyword inside a output definition"),
                ));
            }
        }
        let value = def.get("value").cloned().ok_or_else(|| {
            TemplateError::at(&path, "Each output definition must contain a value key.")
        })?;
        let description = def
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("No description given")
            .to_string();
        out.insert(name.clone(), OutputDefinition { description, value });
    }
    Ok(out)
}

struct Scope<'a> {
    template: &'a Template,
    types: &'a dyn TypeLookup,
}

impl functions::ValidationScope for Scope<'_> {
    fn version(&self) -> HotVersion {
        self.template.version
    }
    fn has_param(&self, name: &str) -> bool {
        self.template.parameters.contains_key(name) || PSEUDO_PARAMETERS.contains(&name)
    }
    fn has_resource(&self, name: &str) -> bool {
        self.template.resources.contains_key(name)
    }
    fn check_attribute(&self, resource: &str, attribute: &str) -> Result<(), String> {
        let Some(def) = self.template.resources.get(resource) else {
            return Err(format!(
                "The Referenced Attribute ({resource} {attribute}) is incorrect."
            ));
        };
        self.types
            .check_attribute(&def.resource_type, &def.properties, attribute)
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(t.version, HotVersion::V2018_08_31);
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
}
