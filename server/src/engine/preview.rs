//! Previews: what an update would do to each resource (`PUT|PATCH …/preview`), and the
//! stack a create would build (`POST /stacks/preview`). Validated exactly as the real
//! action; nothing is written.
//!
//! An update preview classifies each resource by converge's rules ([`classify`]): the new
//! properties are resolved against the stored stack, compared with the stored ones, and the
//! type's `update_kind` decides between in place and replacement. Like Heat's preview, it
//! looks at each resource alone: a dependent whose input changes only because a dependency
//! is replaced during the update is not foreseen.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::converge::{Step, resolve_properties, step};
use super::graph;
use super::patch::{Patch, merged_request};
use super::stack_view::StackView;
use super::{Engine, EngineError, StackRequest, identity, prepare, stored_definition, validate};
use crate::resources::{Registry, StackIdentity};
use crate::store::{ResourceRow, StackRow, now_timestamp};
use crate::template::{Template, functions, parameters};

/// What an update does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// New in the template: created.
    Added,
    /// Gone from the template: deleted.
    Deleted,
    /// Created anew, the stored one deleted at the end.
    Replaced,
    /// Updated in place.
    Updated,
    /// Left alone.
    Unchanged,
}

/// How converge would treat resource `name` of `template`, stored as `current`, with the
/// stack seen as `view` (parameters plus the stored resources).
pub fn classify(
    registry: &Registry,
    template: &Template,
    view: &StackView,
    name: &str,
    current: Option<&ResourceRow>,
) -> Change {
    let (Some(row), Some(def)) = (current, template.resources.get(name)) else {
        return if current.is_some() {
            Change::Deleted
        } else {
            Change::Added
        };
    };
    let Some(rtype) = registry.get(&def.resource_type) else {
        return Change::Replaced;
    };
    let props = resolve_properties(rtype.as_ref(), def, template, view).ok();
    match step(rtype.as_ref(), def, Some(row), props.as_ref()) {
        Step::Resume if row.action == "UPDATE" => Change::Updated,
        Step::Resume | Step::Create | Step::Replace => Change::Replaced,
        Step::Nothing => Change::Unchanged,
        Step::Update => Change::Updated,
    }
}

/// Every resource of `template` (in template order), then every stored one it no longer
/// has, with what the update does to it.
pub fn classify_all(
    registry: &Registry,
    template: &Template,
    view: &StackView,
    rows: &[ResourceRow],
) -> Vec<(String, Change)> {
    let by_name: HashMap<&str, &ResourceRow> = rows.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut out: Vec<(String, Change)> = template
        .resources
        .keys()
        .map(|name| {
            let current = by_name.get(name.as_str()).copied();
            (
                name.clone(),
                classify(registry, template, view, name, current),
            )
        })
        .collect();
    out.extend(
        rows.iter()
            .filter(|r| !template.resources.contains_key(&r.name))
            .map(|r| (r.name.clone(), Change::Deleted)),
    );
    out
}

/// One resource of a preview.
#[derive(Debug, Clone)]
pub struct PreviewResource {
    /// Logical name.
    pub name: String,
    /// Type.
    pub resource_type: String,
    /// The stored row when the resource is shown as it is now (Heat shows updated and
    /// deleted resources so); `None` for the resource as the template defines it, not
    /// created yet (`INIT_COMPLETE`, no physical id).
    pub stored: Option<ResourceRow>,
    /// The resources that depend on it.
    pub required_by: Vec<String>,
    /// Its metadata.
    pub metadata: Value,
    /// Its attributes (every attribute null when not created).
    pub attributes: Map<String, Value>,
    /// Its properties, resolved where possible (create preview only).
    pub properties: Option<Map<String, Value>>,
}

/// What an update would do, resource by resource.
#[derive(Debug, Clone, Default)]
pub struct UpdatePreview {
    /// Created.
    pub added: Vec<PreviewResource>,
    /// Deleted.
    pub deleted: Vec<PreviewResource>,
    /// Replaced.
    pub replaced: Vec<PreviewResource>,
    /// Updated in place.
    pub updated: Vec<PreviewResource>,
    /// Left alone.
    pub unchanged: Vec<PreviewResource>,
}

/// The stack a create would build.
#[derive(Debug, Clone)]
pub struct CreatePreview {
    /// Stack name.
    pub name: String,
    /// Project.
    pub project: String,
    /// The template's description.
    pub description: String,
    /// Parameters as a stack shows them (hidden ones masked).
    pub parameters: Map<String, Value>,
    /// Whether failure would leave the stack as is.
    pub disable_rollback: bool,
    /// Action timeout.
    pub timeout_mins: Option<i64>,
    /// Outputs, resolved against resources that do not exist yet.
    pub outputs: Vec<Value>,
    /// The resources, in template order.
    pub resources: Vec<PreviewResource>,
    /// When the preview was made (Heat shows it as the creation time).
    pub created_at: String,
}

/// The stack id a preview shows for a stack that is not stored (Heat's `str(None)`).
pub const PREVIEW_STACK_ID: &str = "None";

fn dependents_of(template: Option<&Template>) -> HashMap<String, Vec<String>> {
    template
        .map(|t| graph::dependents(&graph::dependencies(t)))
        .unwrap_or_default()
}

/// A resource as `template` defines it, before it exists.
fn fresh(
    registry: &Registry,
    template: &Template,
    view: &StackView,
    name: &str,
    required_by: &HashMap<String, Vec<String>>,
) -> PreviewResource {
    let def = template.resources.get(name);
    let rtype = def.and_then(|d| registry.get(&d.resource_type));
    let metadata = def
        .and_then(|d| {
            functions::resolve(
                &d.metadata,
                template.version,
                view,
                &format!("resources.{name}.metadata"),
            )
            .ok()
        })
        .filter(|m| !m.is_null())
        .unwrap_or_else(|| json!({}));
    PreviewResource {
        name: name.to_string(),
        resource_type: def.map(|d| d.resource_type.clone()).unwrap_or_default(),
        stored: None,
        required_by: required_by.get(name).cloned().unwrap_or_default(),
        metadata,
        attributes: rtype
            .iter()
            .flat_map(|t| t.attributes().iter())
            .map(|a| (a.to_string(), Value::Null))
            .collect(),
        properties: None,
    }
}

impl Engine {
    /// A resource as it is stored, with what the API shows of it.
    async fn stored_resource(
        &self,
        row: &ResourceRow,
        required_by: &HashMap<String, Vec<String>>,
    ) -> Result<PreviewResource, EngineError> {
        let metadata = if row.physical_id.is_empty() {
            None
        } else {
            self.services
                .store
                .metadata(&row.physical_id)
                .await?
                .map(|m| m.document)
        };
        Ok(PreviewResource {
            name: row.name.clone(),
            resource_type: row.resource_type.clone(),
            stored: Some(row.clone()),
            required_by: required_by.get(&row.name).cloned().unwrap_or_default(),
            metadata: metadata.unwrap_or_else(|| json!({})),
            attributes: row.attributes.clone(),
            properties: None,
        })
    }

    /// What updating `stack` to `request` (a `PUT`) would do; the same 400s as the update.
    pub async fn preview_update(
        &self,
        stack: &StackRow,
        request: StackRequest,
    ) -> Result<UpdatePreview, EngineError> {
        let prepared = prepare(&self.services, &request)?;
        self.check_resource_limit(prepared.template.resources.len())?;
        if let Ok((_, old_values)) = stored_definition(stack) {
            validate::check_immutable(&prepared.template, &old_values, &prepared.params)?;
        }
        let rows = self.services.store.stack_resources(&stack.id).await?;
        let template = &prepared.template;
        let view = StackView::new(identity(stack), prepared.params.clone(), template, &rows)
            .with_files(&request.files);
        let registry = &self.services.registry;
        let new_required_by = dependents_of(Some(template));
        let old_required_by = dependents_of(Template::parse(&stack.template).ok().as_ref());
        let by_name: HashMap<&str, &ResourceRow> =
            rows.iter().map(|r| (r.name.as_str(), r)).collect();
        let mut preview = UpdatePreview::default();
        for (name, change) in classify_all(registry, template, &view, &rows) {
            let stored = by_name.get(name.as_str()).copied();
            // As Heat: updated and deleted resources are shown as stored, the others as the
            // new template defines them.
            let entry = match (change, stored) {
                (Change::Updated | Change::Deleted, Some(row)) => {
                    self.stored_resource(row, &old_required_by).await?
                }
                _ => fresh(registry, template, &view, &name, &new_required_by),
            };
            match change {
                Change::Added => preview.added.push(entry),
                Change::Deleted => preview.deleted.push(entry),
                Change::Replaced => preview.replaced.push(entry),
                Change::Updated => preview.updated.push(entry),
                Change::Unchanged => preview.unchanged.push(entry),
            }
        }
        Ok(preview)
    }

    /// What a `PATCH` of `stack` would do.
    pub async fn preview_patch(
        &self,
        stack: &StackRow,
        patch: Patch,
    ) -> Result<UpdatePreview, EngineError> {
        let request = merged_request(stack, patch)?;
        self.preview_update(stack, request).await
    }

    /// The stack creating `request` as `name` would build; the same errors as the create.
    pub async fn preview_create(
        &self,
        project: &str,
        name: &str,
        request: StackRequest,
    ) -> Result<CreatePreview, EngineError> {
        check_name(name)?;
        let prepared = prepare(&self.services, &request)?;
        self.check_resource_limit(prepared.template.resources.len())?;
        if self
            .services
            .store
            .stack_by_name(project, name)
            .await?
            .is_some()
        {
            return Err(EngineError::Conflict(
                "StackExists",
                format!("The Stack ({name}) already exists."),
            ));
        }
        let template = &prepared.template;
        let ident = StackIdentity {
            id: PREVIEW_STACK_ID.into(),
            name: name.to_string(),
            project: project.to_string(),
        };
        let view = StackView::new(ident, prepared.params.clone(), template, &[])
            .with_files(&request.files);
        let registry = &self.services.registry;
        let required_by = dependents_of(Some(template));
        let resources = template
            .resources
            .iter()
            .map(|(rname, def)| {
                let mut entry = fresh(registry, template, &view, rname, &required_by);
                entry.properties = registry
                    .get(&def.resource_type)
                    .map(|rtype| preview_properties(rtype.as_ref(), def, template, &view));
                entry
            })
            .collect();
        let mut parameters = Map::new();
        parameters.insert("OS::stack_id".into(), json!(PREVIEW_STACK_ID));
        parameters.insert("OS::stack_name".into(), json!(name));
        parameters.insert("OS::project_id".into(), json!(project));
        for (pname, decl) in &template.parameters {
            if let Some(v) = prepared.params.get(pname) {
                parameters.insert(pname.clone(), parameters::display_value(decl, v));
            }
        }
        let outputs = template
            .outputs
            .iter()
            .map(|(key, def)| {
                let path = format!("outputs.{key}.value");
                match functions::resolve(&def.value, template.version, &view, &path) {
                    Ok(value) => json!({"output_key": key, "description": def.description, "output_value": value}),
                    Err(e) => json!({
                        "output_key": key, "description": def.description,
                        "output_value": null, "output_error": e.to_string(),
                    }),
                }
            })
            .collect();
        Ok(CreatePreview {
            name: name.to_string(),
            project: project.to_string(),
            // As a stack shows it: HOT `description`, CFN `Description`, else Heat's default.
            description: request
                .template
                .get("description")
                .or_else(|| request.template.get("Description"))
                .and_then(Value::as_str)
                .unwrap_or("No description")
                .to_string(),
            parameters,
            disable_rollback: request.disable_rollback,
            timeout_mins: request.timeout_mins,
            outputs,
            resources,
            created_at: now_timestamp(),
        })
    }
}

/// Heat's stack name rule, checked as create checks it.
fn check_name(name: &str) -> Result<(), EngineError> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(EngineError::BadRequest(
            "StackValidationFailed",
            format!(
                "Invalid stack name {name} must contain only alphanumeric or \"_-.\" characters, must start with alpha and must be 255 characters or less."
            ),
        ))
    }
}

/// Every property of the type's schema, resolved against a stack whose resources do not
/// exist yet; what cannot be resolved is null (as Heat's preview shows it).
fn preview_properties(
    rtype: &dyn crate::resources::ResourceType,
    def: &crate::template::ResourceDefinition,
    template: &Template,
    view: &StackView,
) -> Map<String, Value> {
    let resolved = resolve_properties(rtype, def, template, view).unwrap_or_else(|_| {
        let path = format!("resources.{}.properties", def.name);
        functions::resolve(&def.properties, template.version, view, &path)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    });
    rtype
        .properties_schema()
        .iter()
        .map(|s| {
            (
                s.name.to_string(),
                resolved.get(s.name).cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[cfg(test)]
#[path = "preview_tests.rs"]
mod tests;
