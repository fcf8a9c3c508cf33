//! `OS::Heat::SoftwareDeploymentGroup` and `OS::Heat::StructuredDeploymentGroup` (and their
//! hidden deprecated names `OS::Heat::SoftwareDeployments`, `OS::Heat::StructuredDeployments`):
//! one deployment per entry of `servers: {name: server id}`, as a nested stack whose
//! members are named by the keys. Each member is an ordinary (Structured)Deployment with the
//! group's other properties and `server` set, so it signals and publishes as any deployment
//! (its `deploy_stack_id` is the nested stack's). Batching is ResourceGroup's
//! ([`converge_members`]); attributes are maps over members
//! ([`AttributeForm::DeploymentGroup`]).

use std::sync::LazyLock;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::group_members::{self, AttributeForm, FORM_KEY, MEMBERS_KEY};
use super::resource_group::{Membership, converge_members};
use super::software_deployment::SoftwareDeployment;
use super::structured_deployment::STRUCTURED_PROPERTIES;
use crate::engine::nested;
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{
    ResourceContext, ResourceError, ResourceOutcome, ResourceType, UpdateKind, default_update_kind,
};
use crate::store::ResourceRow;
use crate::template::TemplateError;

/// One of the deployment group types.
pub struct DeploymentGroup {
    name: &'static str,
    structured: bool,
}

impl DeploymentGroup {
    /// `OS::Heat::SoftwareDeploymentGroup`.
    pub const SOFTWARE: DeploymentGroup = DeploymentGroup {
        name: "OS::Heat::SoftwareDeploymentGroup",
        structured: false,
    };
    /// `OS::Heat::SoftwareDeployments`, the hidden deprecated name.
    pub const SOFTWARE_DEPRECATED: DeploymentGroup = DeploymentGroup {
        name: "OS::Heat::SoftwareDeployments",
        structured: false,
    };
    /// `OS::Heat::StructuredDeploymentGroup`.
    pub const STRUCTURED: DeploymentGroup = DeploymentGroup {
        name: "OS::Heat::StructuredDeploymentGroup",
        structured: true,
    };
    /// `OS::Heat::StructuredDeployments`, the hidden deprecated name.
    pub const STRUCTURED_DEPRECATED: DeploymentGroup = DeploymentGroup {
        name: "OS::Heat::StructuredDeployments",
        structured: true,
    };

    fn member_type(&self) -> &'static str {
        if self.structured {
            "OS::Heat::StructuredDeployment"
        } else {
            "OS::Heat::SoftwareDeployment"
        }
    }
}

const SERVERS: PropertySchema = PropertySchema::new("servers", PropType::Map)
    .required()
    .update_allowed();

/// `servers` and a member's properties but `server`.
fn group_schema(extra: &[PropertySchema]) -> Vec<PropertySchema> {
    std::iter::once(SERVERS)
        .chain(
            SoftwareDeployment
                .properties_schema()
                .iter()
                .filter(|s| s.name != "server")
                .copied(),
        )
        .chain(extra.iter().copied())
        .collect()
}

static SOFTWARE_SCHEMA: LazyLock<Vec<PropertySchema>> = LazyLock::new(|| group_schema(&[]));
static STRUCTURED_SCHEMA: LazyLock<Vec<PropertySchema>> =
    LazyLock::new(|| group_schema(STRUCTURED_PROPERTIES));

/// The member names: the keys of `servers`, in their order.
fn member_names(props: &Map<String, Value>) -> Vec<String> {
    props
        .get("servers")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The nested template: a `member_type` per name, with the group's properties but
/// `servers`, and `server` set to that name's server.
fn member_template(member_type: &str, props: &Map<String, Value>, names: &[String]) -> Value {
    let empty = Map::new();
    let servers = props
        .get("servers")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut shared = props.clone();
    shared.remove("servers");
    let mut resources = Map::new();
    for name in names {
        let mut properties = shared.clone();
        properties.insert(
            "server".into(),
            servers.get(name).cloned().unwrap_or(Value::Null),
        );
        resources.insert(
            name.clone(),
            json!({"type": member_type, "properties": properties}),
        );
    }
    json!({"heat_template_version": "2015-04-30", "resources": resources})
}

impl DeploymentGroup {
    async fn converge(
        &self,
        ctx: &ResourceContext<'_>,
        current: Option<&ResourceRow>,
        props: &Map<String, Value>,
        creating: bool,
    ) -> Result<ResourceOutcome, ResourceError> {
        let names = member_names(props);
        let member_type = self.member_type();
        let build = move |p: &Map<String, Value>, n: &[String]| member_template(member_type, p, n);
        // As Heat, the members' definition always counts as changed: a rolling update
        // moves them in batches whatever property changed.
        let membership = Membership {
            names: &names,
            redefined: true,
            template: &build,
        };
        let state = converge_members(ctx, current, props, creating, membership).await?;
        let members = group_members::from_rows(&state.rows);
        let mut data = Map::new();
        data.insert(MEMBERS_KEY.into(), json!(members));
        data.insert(
            FORM_KEY.into(),
            json!(AttributeForm::DeploymentGroup.recorded_as()),
        );
        Ok(ResourceOutcome {
            physical_id: state.stack.id.clone(),
            reference_id: None,
            attributes: Map::new(),
            data,
        })
    }
}

#[async_trait]
impl ResourceType for DeploymentGroup {
    fn type_name(&self) -> &'static str {
        self.name
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        if self.structured {
            &STRUCTURED_SCHEMA
        } else {
            &SOFTWARE_SCHEMA
        }
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["deploy_stdouts", "deploy_stderrs", "deploy_status_codes"]
    }
    /// Any member attribute (declared outputs included) can be asked for, as a map.
    fn check_attribute(&self, _properties: &Value, _attribute: &str) -> bool {
        true
    }
    fn update_kind(&self, changed: &[String], _: &Value, _: &Map<String, Value>) -> UpdateKind {
        default_update_kind(self.properties_schema(), changed)
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        SoftwareDeployment.validate(props, path)
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        // Resuming an interrupted create carries on with the recorded nested stack.
        let resuming = ctx.resuming.clone();
        self.converge(ctx, resuming.as_ref(), props, true).await
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        self.converge(ctx, Some(current), props, false).await
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        nested::delete(ctx, current).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::heat::group_members::GroupMember;
    use crate::resources::heat::test_support::Harness;

    #[test]
    fn members_are_the_servers_keys_with_the_shared_properties() {
        let props = Harness::validate(
            &DeploymentGroup::STRUCTURED,
            "grp",
            json!({"servers": {"web": "s1", "db": "s2"}, "config": "c1",
                "input_values": {"x": 1}, "input_key": "ref"}),
        )
        .unwrap();
        let names = member_names(&props);
        assert_eq!(names, ["web", "db"]);
        let t = member_template("OS::Heat::StructuredDeployment", &props, &names);
        let db = &t["resources"]["db"];
        assert_eq!(db["type"], json!("OS::Heat::StructuredDeployment"));
        assert_eq!(db["properties"]["server"], json!("s2"));
        assert_eq!(db["properties"]["input_key"], json!("ref"));
        assert_eq!(db["properties"]["input_values"], json!({"x": 1}));
        assert_eq!(db["properties"].get("servers"), None);
        // The member's own schema accepts exactly what the group passes on.
        let member = crate::resources::Registry::builtin()
            .get("OS::Heat::StructuredDeployment")
            .unwrap();
        Harness::validate(member.as_ref(), "db", db["properties"].clone()).unwrap();
        let sd = member_template(
            "OS::Heat::SoftwareDeployment",
            &Harness::validate(
                &DeploymentGroup::SOFTWARE,
                "grp",
                json!({"servers": {"a": "s"}}),
            )
            .unwrap(),
            &["a".into()],
        );
        let member = crate::resources::Registry::builtin()
            .get("OS::Heat::SoftwareDeployment")
            .unwrap();
        Harness::validate(
            member.as_ref(),
            "a",
            sd["resources"]["a"]["properties"].clone(),
        )
        .unwrap();
    }

    #[test]
    fn the_deprecated_names_still_work() {
        let registry = crate::resources::Registry::builtin();
        for (name, structured) in [
            ("OS::Heat::SoftwareDeployments", false),
            ("OS::Heat::StructuredDeployments", true),
        ] {
            let t = registry.get(name).unwrap();
            let has_input_key = t.properties_schema().iter().any(|s| s.name == "input_key");
            assert_eq!(has_input_key, structured, "{name}");
        }
    }

    #[test]
    fn updates_replace_only_for_fixed_properties() {
        let g = DeploymentGroup::SOFTWARE;
        let old = Value::Null;
        let new = Map::new();
        assert_eq!(
            g.update_kind(&["servers".into(), "input_values".into()], &old, &new),
            UpdateKind::InPlace
        );
        assert_eq!(
            g.update_kind(&["signal_transport".into()], &old, &new),
            UpdateKind::Replace
        );
        assert_eq!(
            DeploymentGroup::STRUCTURED.update_kind(&["input_key".into()], &old, &new),
            UpdateKind::Replace
        );
    }

    #[test]
    fn attributes_are_maps_over_members() {
        let members: Vec<GroupMember> = ["a", "b"]
            .iter()
            .map(|n| GroupMember {
                name: n.to_string(),
                reference: format!("id-{n}"),
                attributes: json!({"deploy_stdout": format!("out {n}"), "deploy_status_code": 0,
                    "result": {"k": n}})
                .as_object()
                .cloned()
                .unwrap(),
            })
            .collect();
        let at = |key: &str, path: &[Value]| {
            group_members::attribute_in(
                AttributeForm::DeploymentGroup,
                &members,
                &Map::new(),
                key,
                path,
            )
        };
        assert_eq!(
            at("deploy_stdouts", &[]),
            json!({"a": "out a", "b": "out b"})
        );
        assert_eq!(at("deploy_status_codes", &[]), json!({"a": 0, "b": 0}));
        assert_eq!(at("deploy_stderrs", &[]), json!({"a": null, "b": null}));
        assert_eq!(at("result", &[json!("b"), json!("k")]), json!("b"));
    }
}
