//! The template language: loading, versions, sections, parameters and intrinsic functions.
//!
//! Architecture invariant: nothing here does IO; callers hand in text and a view of the
//! stack ([`functions::EvalContext`]) and get values or [`TemplateError`]s naming a path.

pub mod cfn;
pub mod conditions;
pub mod constraints;
pub mod custom_constraints;
pub mod environment;
pub mod error;
pub mod functions;
pub mod loader;
pub mod locate;
pub mod parameters;
#[cfg(test)]
pub(crate) mod python_reference;
pub mod registry;
mod sections;
pub mod version;
pub mod yaql;

use indexmap::IndexMap;
use serde_json::{Map, Value};

pub use error::{TemplateError, TemplateErrorKind, TemplateErrors};
use error::{index, join};
use parameters::ParameterDecl;
use sections::{group_error, parse_outputs, parse_resources, parse_version};
use version::{HotVersion, TemplateVersion};

/// Pseudo-parameters every stack has.
pub const PSEUDO_PARAMETERS: &[&str] = &[
    "OS::stack_id",
    "OS::stack_name",
    "OS::project_id",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::Region",
];

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
    /// `condition:` (HOT 2016-10-14+): the resource exists only when it holds.
    pub condition: Option<Value>,
    /// `deletion_policy:` when written as a literal (validated while parsing); see
    /// [`ResourceDefinition::deletion_policy`].
    deletion_policy: DeletionPolicy,
    /// `deletion_policy:` when written as a function call (e.g. `{get_param: policy}`), left
    /// for whoever resolves it: resolve it against the stack, then check the result with
    /// [`DeletionPolicy::parse`] (this definition's [`Template::version`]).
    pub deletion_policy_call: Option<Value>,
    /// `update_policy:` as written (may hold function calls; groups interpret it).
    pub update_policy: Value,
}

impl ResourceDefinition {
    /// What deleting this resource does to its physical resource: `deletion_policy:` as
    /// written (validated while parsing: `Delete`, `Retain`, `Snapshot`, and from HOT
    /// 2016-10-14 also `delete`, `retain`, `snapshot`), `Retain` when `external_id` is given
    /// (the resource was adopted, as in Heat), else `Delete`.
    ///
    /// Honouring it belongs to the engine's delete path (which is not wired to it yet): on
    /// `Retain`, the resource's row and events go as usual but the type's `delete` is not
    /// called. When the policy was written as a function call this returns `Delete`; see
    /// [`ResourceDefinition::deletion_policy_call`].
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.deletion_policy
    }
}

/// A resource's `deletion_policy` (CFN `DeletionPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeletionPolicy {
    /// Delete the physical resource (the default).
    #[default]
    Delete,
    /// Keep the physical resource; only the stack forgets it.
    Retain,
    /// Snapshot, then delete (only for types that can snapshot; Heat rejects it for others
    /// with `"Snapshot" deletion policy not supported`).
    Snapshot,
}

impl DeletionPolicy {
    /// Heat's policy names for `version`: capitalised always, lower-case aliases from HOT
    /// 2016-10-14. The error is Heat's message.
    pub fn parse(value: &str, version: TemplateVersion) -> Result<Self, String> {
        let aliases = version.hot_since(HotVersion::V2016_10_14);
        match value {
            "Delete" => Ok(DeletionPolicy::Delete),
            "Retain" => Ok(DeletionPolicy::Retain),
            "Snapshot" => Ok(DeletionPolicy::Snapshot),
            "delete" if aliases => Ok(DeletionPolicy::Delete),
            "retain" if aliases => Ok(DeletionPolicy::Retain),
            "snapshot" if aliases => Ok(DeletionPolicy::Snapshot),
            _ => Err(format!("Invalid deletion policy \"{value}\"")),
        }
    }

    /// The name Heat shows (`Delete`, `Retain`, `Snapshot`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionPolicy::Delete => "Delete",
            DeletionPolicy::Retain => "Retain",
            DeletionPolicy::Snapshot => "Snapshot",
        }
    }
}

/// One output as declared in `outputs`.
#[derive(Debug, Clone)]
pub struct OutputDefinition {
    /// Description (`No description given` when absent, as Heat shows it).
    pub description: String,
    /// The value expression.
    pub value: Value,
    /// `condition:` (HOT 2016-10-14+): when false the output is listed with a null value.
    pub condition: Option<Value>,
}

/// A parsed HOT template.
#[derive(Debug, Clone)]
pub struct Template {
    /// `heat_template_version`, or one of the CFN formats.
    pub version: TemplateVersion,
    /// `description` (`""` when absent).
    pub description: String,
    /// Declared parameters in template order.
    pub parameters: IndexMap<String, ParameterDecl>,
    /// Resources in template order.
    pub resources: IndexMap<String, ResourceDefinition>,
    /// Outputs in template order.
    pub outputs: IndexMap<String, OutputDefinition>,
    /// `parameter_groups` as written (null when absent).
    pub parameter_groups: Value,
    /// Parameters declared too badly to use; they still exist for references.
    pub invalid_parameters: Vec<String>,
    /// Resources defined too badly to use; they still exist for references.
    pub invalid_resources: Vec<String>,
    /// The `conditions` section (HOT 2016-10-14+, CFN `Conditions`).
    pub conditions: IndexMap<String, Value>,
    /// CFN `Mappings` (for `Fn::FindInMap`).
    pub mappings: Map<String, Value>,
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
    /// Parses template text (YAML or JSON); the first problem is the error.
    pub fn parse_text(text: &str) -> Result<Self, TemplateError> {
        let raw = loader::load_document(text).map_err(|e| {
            TemplateError::new(TemplateErrorKind::Parse, e.message).at_position(e.line, e.column)
        })?;
        Self::parse(&raw)
    }

    /// Parses a loaded template document; the first problem is the error.
    pub fn parse(raw: &Value) -> Result<Self, TemplateError> {
        let (template, errors) = Self::parse_collecting(raw);
        match (template, errors.into_iter().next()) {
            (Some(t), None) => Ok(t),
            (_, Some(e)) => Err(e),
            (None, None) => Err(TemplateError::new(
                TemplateErrorKind::Parse,
                "The template could not be read.",
            )),
        }
    }

    /// Parses a loaded template document as far as it can be read, collecting every
    /// problem. `None` only when nothing can be checked further (not a mapping, bad version).
    pub fn parse_collecting(raw: &Value) -> (Option<Self>, Vec<TemplateError>) {
        let Some(doc) = raw.as_object() else {
            return (
                None,
                vec![TemplateError::new(
                    TemplateErrorKind::Parse,
                    "The template is not a JSON object or YAML mapping.",
                )],
            );
        };
        let version = match parse_version(doc) {
            Ok(v) => v,
            Err(e) => return (None, vec![e]),
        };
        let mut errors = Vec::new();
        // CFN templates are read through a translation to the HOT shape.
        let translated;
        let (doc, mappings) = match version {
            TemplateVersion::Cfn(cfn_version) => {
                translated = cfn::translate(doc, cfn_version, &mut errors);
                (&translated.document, translated.mappings.clone())
            }
            TemplateVersion::Hot(_) => (doc, Map::new()),
        };
        // Parameter keys and constraints of CFN templates are those of the oldest HOT.
        let hot_version = version.hot().unwrap_or(HotVersion::V2013_05_23);
        for key in doc.keys().filter(|_| version.hot().is_some()) {
            let allowed = SECTIONS.contains(&key.as_str())
                || (key == "conditions" && version.hot_since(HotVersion::V2016_10_14));
            if !allowed {
                errors.push(
                    TemplateError::new(
                        TemplateErrorKind::InvalidSection,
                        format!("The template section is invalid: {key}"),
                    )
                    .pointing_at(key.clone()),
                );
            }
        }
        let description = match doc.get("description") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                errors.push(TemplateError::at("description", "must be a string"));
                String::new()
            }
        };
        let declarations = parameters::parse_declarations(
            doc.get("parameters").unwrap_or(&Value::Null),
            hot_version,
        );
        errors.extend(declarations.errors);
        let parameter_groups = doc.get("parameter_groups").cloned().unwrap_or(Value::Null);
        let mut template = Template {
            version,
            description,
            parameters: declarations.decls,
            resources: IndexMap::new(),
            outputs: IndexMap::new(),
            parameter_groups,
            invalid_parameters: declarations.invalid,
            invalid_resources: vec![],
            conditions: IndexMap::new(),
            mappings,
        };
        match doc.get("conditions") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                template.conditions = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            }
            Some(_) => errors.push(TemplateError::at(
                "conditions",
                "must be a mapping of condition names to conditions",
            )),
        }
        errors.extend(template.parameter_group_errors());
        parse_resources(
            doc.get("resources").unwrap_or(&Value::Null),
            &mut template,
            &mut errors,
        );
        parse_outputs(
            doc.get("outputs").unwrap_or(&Value::Null),
            &mut template,
            &mut errors,
        );
        (Some(template), errors)
    }

    /// Heat's `parameter_groups` rules: a list of groups, each with a `parameters` list;
    /// each parameter in at most one group, and declared.
    fn parameter_group_errors(&self) -> Vec<TemplateError> {
        let groups = match &self.parameter_groups {
            Value::Null => return vec![],
            Value::Array(g) if g.is_empty() => return vec![],
            Value::Array(g) => g,
            Value::Object(m) if m.is_empty() => return vec![],
            Value::String(s) if s.is_empty() => return vec![],
            _ => {
                return vec![group_error(
                    "parameter_groups",
                    &["parameter_groups"],
                    "The parameter_groups should be a list.",
                )];
            }
        };
        let mut errors = vec![];
        let mut grouped: Vec<&Value> = vec![];
        for (i, group) in groups.iter().enumerate() {
            let pointer = index("parameter_groups", i);
            let label = group
                .get("label")
                .map(updraft_hooks::deployment::python_str)
                .unwrap_or_default();
            let path = ["parameter_groups", label.as_str()];
            let params = match group.get("parameters") {
                None | Some(Value::Null) => {
                    errors.push(group_error(
                        &pointer,
                        &path,
                        "The parameters must be provided for each parameter group.",
                    ));
                    continue;
                }
                Some(Value::Array(p)) => p,
                Some(_) => {
                    errors.push(group_error(
                        &join(&pointer, "parameters"),
                        &path,
                        "The parameters of parameter group should be a list.",
                    ));
                    continue;
                }
            };
            for (j, param) in params.iter().enumerate() {
                let name = updraft_hooks::deployment::python_str(param);
                let ppointer = index(&join(&pointer, "parameters"), j);
                if grouped.contains(&param) {
                    errors.push(group_error(
                        &ppointer,
                        &path,
                        &format!(
                            "The {name} parameter must be assigned to one parameter group only."
                        ),
                    ));
                } else {
                    grouped.push(param);
                }
                let exists = param.as_str().is_some_and(|n| {
                    self.parameters.contains_key(n)
                        || self.invalid_parameters.iter().any(|p| p == n)
                        || PSEUDO_PARAMETERS.contains(&n)
                });
                if !exists {
                    errors.push(group_error(
                        &ppointer,
                        &path,
                        &format!(
                            "The grouped parameter {name} does not reference a valid parameter."
                        ),
                    ));
                }
            }
        }
        errors
    }

    /// Checks references, functions and resource types; returns the first problem.
    pub fn validate(&self, types: &dyn TypeLookup) -> Result<(), TemplateError> {
        let mut errors: Vec<TemplateError> = self
            .resources
            .keys()
            .flat_map(|name| self.validate_resource(name, types))
            .collect();
        errors.extend(self.validate_outputs(types));
        errors.into_iter().next().map_or(Ok(()), Err)
    }

    /// Every problem with one resource's type, `depends_on`, and the functions and
    /// references in its properties (each top-level property on its own) and metadata.
    pub fn validate_resource(&self, name: &str, types: &dyn TypeLookup) -> Vec<TemplateError> {
        let Some(def) = self.resources.get(name) else {
            return vec![];
        };
        let scope = Scope {
            template: self,
            types,
        };
        let path = join("resources", name);
        let mut errors = vec![];
        if !types.type_exists(&def.resource_type) {
            errors.push(
                TemplateError::at(
                    &path,
                    format!(
                        "The Resource Type ({}) could not be found.",
                        def.resource_type
                    ),
                )
                .pointing_at(join(&path, "type")),
            );
        }
        for (i, dep) in def.depends_on.iter().enumerate() {
            if !functions::ValidationScope::has_resource(&scope, dep) {
                let dpath = join(&path, "depends_on");
                errors.push(functions_invalid_reference(dep, &dpath).pointing_at(index(&dpath, i)));
            }
        }
        if let Some(c) = &def.condition
            && let Err(e) =
                functions::ValidationScope::check_condition(&scope, c, &join(&path, "condition"))
        {
            errors.push(e);
        }
        for (section, value) in [("properties", &def.properties), ("metadata", &def.metadata)] {
            let spath = join(&path, section);
            match value {
                Value::Object(map) => {
                    for (key, v) in map {
                        if let Err(e) = functions::validate(v, &scope, &join(&spath, key)) {
                            errors.push(e);
                        }
                    }
                }
                other => {
                    if let Err(e) = functions::validate(other, &scope, &spath) {
                        errors.push(e);
                    }
                }
            }
        }
        errors
    }

    /// Every problem with the functions and references in the outputs.
    pub fn validate_outputs(&self, types: &dyn TypeLookup) -> Vec<TemplateError> {
        let scope = Scope {
            template: self,
            types,
        };
        let mut errors = Vec::new();
        for (name, output) in &self.outputs {
            let path = join("outputs", name);
            if let Some(c) = &output.condition
                && let Err(e) = functions::ValidationScope::check_condition(
                    &scope,
                    c,
                    &join(&path, "condition"),
                )
            {
                errors.push(e);
            }
            if let Err(e) = functions::validate(&output.value, &scope, &join(&path, "value")) {
                errors.push(e);
            }
        }
        errors
    }

    /// The template as the conditions make it: resources whose condition is false removed,
    /// outputs whose condition is false kept with a null value. Every condition is evaluated,
    /// so errors in unused ones are reported too.
    pub fn apply_conditions(
        &self,
        ctx: &dyn functions::EvalContext,
    ) -> Result<Template, TemplateError> {
        let mut evaluator =
            conditions::ConditionEvaluator::new(&self.conditions, self.version, ctx);
        for name in self.conditions.keys() {
            evaluator.named(name, &join("conditions", name))?;
        }
        let mut out = self.clone();
        for (name, def) in &self.resources {
            if let Some(c) = &def.condition
                && !evaluator.expression(c, &join(&join("resources", name), "condition"))?
            {
                out.resources.shift_remove(name);
            }
        }
        for (name, def) in &self.outputs {
            if let Some(c) = &def.condition
                && !evaluator.expression(c, &join(&join("outputs", name), "condition"))?
                && let Some(o) = out.outputs.get_mut(name)
            {
                o.value = Value::Null;
            }
        }
        Ok(out)
    }

    /// Resolves every resource type through the environment's registry (aliases, globs,
    /// per-resource overrides). A provider template's type becomes the template's name
    /// (its key in the files map), which the type registry knows as a template resource.
    pub fn apply_registry(&mut self, registry: &registry::ResourceRegistry) -> Vec<TemplateError> {
        let mut errors = Vec::new();
        for (name, def) in self.resources.iter_mut() {
            let path = join("resources", name);
            match registry.resolve(name, &def.resource_type) {
                Ok(registry::ResolvedType::Builtin(t) | registry::ResolvedType::Template(t)) => {
                    def.resource_type = t
                }
                Err(message) => errors.push(TemplateError::at(path, message)),
            }
        }
        // Resources whose type could not be resolved are reported once, here; references to
        // them stay valid so they cause no follow-on errors.
        for e in &errors {
            if let Some(name) = e.path.strip_prefix("resources.") {
                self.resources.shift_remove(name);
                self.invalid_resources.push(name.to_string());
            }
        }
        errors
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
        // `Ref` names parameters too; only resources are dependencies.
        out.retain(|d| d != name && self.resources.contains_key(d) && seen.insert(d.clone()));
        out
    }
}

fn functions_invalid_reference(name: &str, path: &str) -> TemplateError {
    TemplateError::new(
        TemplateErrorKind::InvalidReference,
        format!("The specified reference \"{name}\" (in {path}) is incorrect."),
    )
}

struct Scope<'a> {
    template: &'a Template,
    types: &'a dyn TypeLookup,
}

impl functions::ValidationScope for Scope<'_> {
    fn version(&self) -> version::TemplateVersion {
        self.template.version
    }
    fn has_param(&self, name: &str) -> bool {
        self.template.parameters.contains_key(name)
            || self.template.invalid_parameters.iter().any(|p| p == name)
            || PSEUDO_PARAMETERS.contains(&name)
    }
    fn has_resource(&self, name: &str) -> bool {
        self.template.resources.contains_key(name)
            || self.template.invalid_resources.iter().any(|r| r == name)
    }
    fn check_condition(&self, condition: &Value, path: &str) -> Result<(), TemplateError> {
        match condition {
            Value::Bool(_) | Value::Object(_) => Ok(()),
            Value::String(name) if self.template.conditions.contains_key(name) => Ok(()),
            Value::String(name) => Err(TemplateError::at(
                path,
                format!("Invalid condition \"{name}\""),
            )),
            other => Err(TemplateError::at(
                path,
                format!("Invalid condition {other}"),
            )),
        }
    }
    fn check_attribute(&self, resource: &str, attribute: &str) -> Result<(), String> {
        if self
            .template
            .invalid_resources
            .iter()
            .any(|r| r == resource)
        {
            // Already reported where the resource is defined.
            return Ok(());
        }
        let Some(def) = self.template.resources.get(resource) else {
            return Err(format!(
                "The Referenced Attribute ({resource} {attribute}) is incorrect."
            ));
        };
        // Heat names the resource, not its type, in this message.
        self.types
            .check_attribute(&def.resource_type, &def.properties, attribute)
            .map_err(|_| format!("The Referenced Attribute ({resource} {attribute}) is incorrect."))
    }
}

#[cfg(test)]
mod tests;
