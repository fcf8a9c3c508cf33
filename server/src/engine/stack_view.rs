//! A stack as function evaluation sees it: parameters and the persisted state of resources.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::resources::StackIdentity;
use crate::resources::heat::group_members::{self, AttributeForm, GroupMember};
use crate::store::ResourceRow;
use crate::template::Template;
use crate::template::TemplateError;
use crate::template::conditions::ConditionEvaluator;
use crate::template::functions::{self, EvalContext};
use crate::template::version::TemplateVersion;

/// What evaluation knows of one resource.
#[derive(Debug, Clone, Default)]
pub struct ResourceState {
    /// Reference id for `get_resource` (the logical name until created).
    pub reference: String,
    /// Persisted attributes.
    pub attributes: Map<String, Value>,
    /// Whether attributes can be read: any action but INIT and DELETE, whatever its status,
    /// as in Heat (a failed deployment still shows its `deploy_stderr`).
    pub ready: bool,
    /// A group's members (ResourceGroup, ResourceChain, …), answering group attributes.
    pub members: Option<Arc<Vec<GroupMember>>>,
    /// Which attribute forms the group answers.
    pub group_form: AttributeForm,
}

impl ResourceState {
    /// The state a stored row gives.
    pub fn from_row(row: &ResourceRow) -> Self {
        let reference = row
            .reference_id
            .clone()
            .or_else(|| (!row.physical_id.is_empty()).then(|| row.physical_id.clone()))
            .unwrap_or_else(|| row.name.clone());
        ResourceState {
            reference,
            attributes: row.attributes.clone(),
            ready: row.action != "INIT" && row.action != "DELETE",
            members: group_members::recorded(&row.data).map(Arc::new),
            group_form: AttributeForm::recorded(&row.data),
        }
    }
}

/// Evaluation context over one stack.
#[derive(Debug, Clone)]
pub struct StackView {
    /// The stack.
    pub stack: StackIdentity,
    /// Resolved parameter values.
    pub params: Map<String, Value>,
    /// Resource states by name (every template resource has an entry).
    pub resources: HashMap<String, ResourceState>,
    /// The template's `conditions`, for `if`.
    conditions: indexmap::IndexMap<String, Value>,
    /// The template version, for `if`.
    version: TemplateVersion,
    /// CFN `Mappings`, for `Fn::FindInMap`.
    mappings: Map<String, Value>,
    /// The stack's `files` map (`get_file`).
    pub files: Map<String, Value>,
}

impl StackView {
    /// A view of `template` with the given stored rows.
    pub fn new(
        stack: StackIdentity,
        params: Map<String, Value>,
        template: &Template,
        rows: &[ResourceRow],
    ) -> Self {
        let mut resources: HashMap<String, ResourceState> = template
            .resources
            .keys()
            .map(|n| {
                (
                    n.clone(),
                    ResourceState {
                        reference: n.clone(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        for row in rows {
            if let Some(state) = resources.get_mut(&row.name) {
                *state = ResourceState::from_row(row);
            }
        }
        StackView {
            stack,
            params,
            resources,
            conditions: template.conditions.clone(),
            version: template.version,
            mappings: template.mappings.clone(),
            files: Map::new(),
        }
    }

    /// The same view with the stack's `files` map (a JSON object; anything else is empty).
    pub fn with_files(mut self, files: &Value) -> Self {
        self.files = files.as_object().cloned().unwrap_or_default();
        self
    }
}

impl EvalContext for StackView {
    fn param(&self, name: &str) -> Option<Value> {
        match name {
            "OS::stack_id" => Some(Value::String(self.stack.id.clone())),
            "OS::stack_name" => Some(Value::String(self.stack.name.clone())),
            "OS::project_id" => Some(Value::String(self.stack.project.clone())),
            "AWS::StackId" => Some(Value::String(format!(
                "arn:openstack:heat::{}:stacks/{}/{}",
                self.stack.project, self.stack.name, self.stack.id
            ))),
            "AWS::StackName" => Some(Value::String(self.stack.name.clone())),
            // Heat's default region name for CFN templates.
            "AWS::Region" => Some(Value::String("ap-southeast-1".into())),
            _ => self.params.get(name).cloned(),
        }
    }
    fn resource_reference(&self, name: &str) -> Option<String> {
        self.resources.get(name).map(|r| r.reference.clone())
    }
    fn resource_attribute(&self, name: &str, attribute: &str) -> Value {
        self.resource_attribute_at(name, attribute, &[])
    }
    fn resource_attribute_at(&self, name: &str, attribute: &str, path: &[Value]) -> Value {
        match self.resources.get(name) {
            Some(r) if r.ready => match &r.members {
                Some(members) => group_members::attribute_in(
                    r.group_form,
                    members,
                    &r.attributes,
                    attribute,
                    path,
                ),
                None => functions::select_attribute(
                    r.attributes.get(attribute).unwrap_or(&Value::Null),
                    path,
                ),
            },
            _ => Value::Null,
        }
    }
    fn condition(&self, expression: &Value, path: &str) -> Result<bool, TemplateError> {
        ConditionEvaluator::new(&self.conditions, self.version, self).expression(expression, path)
    }
    fn resource_attributes(&self, name: &str) -> Value {
        match self.resources.get(name) {
            Some(r) if r.ready => Value::Object(r.attributes.clone()),
            _ => Value::Null,
        }
    }
    fn mapping(&self, name: &str) -> Option<Value> {
        self.mappings.get(name).cloned()
    }
    fn file(&self, key: &str) -> Option<String> {
        self.files.get(key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn get_file_reads_the_stack_files() {
        let template = Template::parse_text("heat_template_version: 2013-05-23\n").unwrap();
        let stack = StackIdentity {
            id: "id".into(),
            name: "s".into(),
            project: "p".into(),
        };
        let view = StackView::new(stack, Map::new(), &template, &[])
            .with_files(&json!({"file:///a.sh": "echo hi\n"}));
        let value = functions::resolve(
            &json!({"get_file": "file:///a.sh"}),
            template.version,
            &view,
            "outputs.o",
        );
        assert_eq!(value.unwrap(), json!("echo hi\n"));
    }
}
