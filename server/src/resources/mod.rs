//! Resource types: the [`ResourceType`] trait, the registry, and one module per type.

pub mod aws_wait_condition;
pub mod heat;
pub mod properties;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::engine::services::Services;
use crate::store::{ResourceRow, StoreError};
use properties::PropertySchema;

/// Which stack a resource belongs to.
#[derive(Debug, Clone)]
pub struct StackIdentity {
    /// Stack UUID.
    pub id: String,
    /// Stack name.
    pub name: String,
    /// Owning project.
    pub project: String,
}

/// What a resource handler can use while it acts.
pub struct ResourceContext<'a> {
    /// Store, URLs, notifications.
    pub services: &'a Services,
    /// The stack.
    pub stack: &'a StackIdentity,
    /// Logical resource name.
    pub name: &'a str,
    /// The stored row when this action was interrupted (the server stopped mid-action):
    /// handlers use its physical id and data to pick up their persisted intent instead of
    /// starting over, so nothing is created twice.
    pub resuming: Option<ResourceRow>,
    /// The resource's resolved `update_policy` (groups: `batch_create`, `rolling_update`);
    /// null when none.
    pub update_policy: Value,
    /// When a stack is adopted and this resource owns a nested stack, the nested stack's
    /// abandon data (`{resources: …, template: …}`): the nested stack is adopted from it
    /// rather than created anew (Heat's `handle_adopt` of stack resources).
    pub adopting: Option<Map<String, Value>>,
}

impl<'a> ResourceContext<'a> {
    /// `<stack>-<resource>-<short id>`, Heat's physical resource name.
    pub fn physical_name(&self) -> String {
        use rand::RngExt;
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
        let mut rng = rand::rng();
        let short: String = (0..12)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        format!("{}-{}-{}", self.stack.name, self.name, short)
    }

    /// A context for resource `name` of `stack`.
    pub fn new(services: &'a Services, stack: &'a StackIdentity, name: &'a str) -> Self {
        ResourceContext {
            services,
            stack,
            name,
            resuming: None,
            update_policy: Value::Null,
            adopting: None,
        }
    }

    /// The physical id an interrupted attempt of this action recorded, if any.
    pub fn resumed_physical_id(&self) -> Option<&str> {
        self.resuming
            .as_ref()
            .map(|r| r.physical_id.as_str())
            .filter(|id| !id.is_empty())
    }

    /// Persists private data before the action finishes (an intent to resume from).
    pub async fn set_data(&self, data: &Map<String, Value>) -> Result<(), StoreError> {
        self.services
            .store
            .set_resource_data(&self.stack.id, self.name, data)
            .await
    }

    /// Records the physical id before the action finishes, so signals can find the
    /// resource while it is still in progress (Heat loses such early signals).
    pub async fn set_physical_id(&self, physical_id: &str) -> Result<(), StoreError> {
        self.services
            .store
            .set_resource_physical_id(&self.stack.id, self.name, physical_id)
            .await
    }

    /// This resource's stack user (the HEAT transports): made on first use and remembered
    /// by id in `data`, persisted before it is handed out, so every action and a resumed
    /// one give out the same user (its password is derived again, never stored).
    pub async fn stack_user(
        &self,
        data: &mut Map<String, Value>,
    ) -> Result<crate::auth::stack_users::StackUser, StoreError> {
        use crate::auth::stack_users;
        const USER_ID: &str = "heat_user_id";
        let urls = &self.services.temp_urls;
        if let Some(id) = data.get(USER_ID).and_then(Value::as_str) {
            return Ok(stack_users::existing(urls, id));
        }
        let user = stack_users::issue(
            &self.services.store,
            urls,
            &self.stack.project,
            &self.stack.id,
            self.name,
        )
        .await?;
        data.insert(USER_ID.into(), Value::String(user.user_id.clone()));
        self.set_data(data).await?;
        Ok(user)
    }
}

/// What a completed action leaves behind.
#[derive(Debug, Clone, Default)]
pub struct ResourceOutcome {
    /// Physical resource id (`""` when the type has none).
    pub physical_id: String,
    /// Reference id for `get_resource` when it is not the physical id.
    pub reference_id: Option<String>,
    /// Attributes to persist.
    pub attributes: Map<String, Value>,
    /// Private data to persist.
    pub data: Map<String, Value>,
}

/// Why a resource action failed.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// A failure with a user-facing reason (Heat's `Error`).
    #[error("{0}")]
    Failed(String),
    /// A failure Heat reports under another exception class name (e.g. `TestResource`'s
    /// `ValueError: resources.x: Test Resource failed x`).
    #[error("{message}")]
    Raised {
        /// Heat's (Python) exception class name.
        heat_type: &'static str,
        /// The message.
        message: String,
    },
    /// The resource's nested stack failed; the nested stack's status reason
    /// (`Resource CREATE failed: ValueError: resources.oops: …`).
    #[error("{0}")]
    Nested(String),
    /// The type does not take signals.
    #[error("signal is not supported for resource.")]
    SignalNotSupported,
    /// A signal that is deliberately ignored (Heat's `NoActionRequired`: a scaling group in
    /// cooldown or already scaling); no event is recorded, the message is only logged.
    #[error("{0}")]
    NoActionRequired(String),
    /// A signal refused because the stack has an action in progress (409).
    #[error("{0}")]
    ActionInProgress(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ResourceError {
    /// Heat's exception class name, used in status reasons (`Error: resources.x: …`).
    pub fn heat_type(&self) -> &'static str {
        match self {
            ResourceError::Failed(_) | ResourceError::Nested(_) => "Error",
            ResourceError::Raised { heat_type, .. } => heat_type,
            ResourceError::SignalNotSupported => "ResourceActionNotSupported",
            ResourceError::NoActionRequired(_) => "NoActionRequired",
            ResourceError::ActionInProgress(_) => "ActionInProgress",
            ResourceError::Store(_) => "InternalError",
        }
    }
}

/// How a resource whose properties changed is brought to its new properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    /// Nothing is done; the resource keeps its state (`OS::Heat::None`).
    Unchanged,
    /// [`ResourceType::update`] in place.
    InPlace,
    /// A new resource is created and the old one deleted.
    Replace,
}

/// Heat's default rule: in place when every changed property is `update_allowed`.
pub fn default_update_kind(schema: &[PropertySchema], changed: &[String]) -> UpdateKind {
    let in_place = changed
        .iter()
        .all(|k| schema.iter().any(|s| s.name == k && s.update_allowed));
    if in_place {
        UpdateKind::InPlace
    } else {
        UpdateKind::Replace
    }
}

/// One resource type.
#[async_trait]
pub trait ResourceType: Send + Sync {
    /// `OS::Heat::…`
    fn type_name(&self) -> &'static str;
    /// Property schema.
    fn properties_schema(&self) -> &'static [PropertySchema];
    /// Whether properties outside [`properties_schema`](Self::properties_schema) are
    /// accepted (kept as given) instead of reported as unknown. Honoured by
    /// [`properties::validate_for`] and [`properties::validate_all_for`].
    fn accepts_any_properties(&self) -> bool {
        false
    }
    /// How to carry out an update whose `changed` property names are not empty (`old`: the
    /// stored properties, `new`: the validated new ones). Heat's `update_allowed` rule unless
    /// the type knows better (`needs_replace_with_prop_diff`, `_needs_update`).
    fn update_kind(&self, changed: &[String], old: &Value, new: &Map<String, Value>) -> UpdateKind {
        let _ = (old, new);
        default_update_kind(self.properties_schema(), changed)
    }
    /// Whether an update that [`update_kind`](Self::update_kind) allowed in place must
    /// replace the resource after all, judged from stored state (Heat's `handle_update`
    /// raising `UpdateReplace`, e.g. a deployment's `replace_on_change` inputs). Asked by
    /// converge just before updating; previews, like Heat's, do not ask.
    async fn replaces_on_update(
        &self,
        services: &Services,
        current: &ResourceRow,
        new: &Map<String, Value>,
    ) -> Result<bool, ResourceError> {
        let _ = (services, current, new);
        Ok(false)
    }
    /// Attribute names (besides `show`).
    fn attributes(&self) -> &'static [&'static str];
    /// Whether `attribute` can be asked of a resource with these (unresolved) properties.
    fn check_attribute(&self, _properties: &Value, attribute: &str) -> bool {
        attribute == "show" || self.attributes().contains(&attribute)
    }
    /// Type-specific checks on (possibly partly unresolved) properties; `path` is
    /// `resources.<name>.properties`.
    fn validate(
        &self,
        _properties: &Map<String, Value>,
        _path: &str,
    ) -> Result<(), crate::template::TemplateError> {
        Ok(())
    }
    /// Checks that need the rest of the stack request (the files map, the environment):
    /// a provider template's parameters, a nested template. Called by validation once the
    /// properties passed their schema and [`validate`](Self::validate).
    fn validate_nested(&self, _inputs: &StackInputs<'_>) -> Vec<crate::template::TemplateError> {
        Vec::new()
    }
    /// Whether a stack update acts on this resource even when its properties are unchanged
    /// (Heat's nested-stack resources: the nested stack decides what changed, e.g. a provider
    /// template edited in the files map).
    fn always_update(&self) -> bool {
        false
    }
    /// Creates the physical resource.
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError>;
    /// Updates in place (only called when every changed property is `update_allowed`).
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let _ = current;
        self.create(ctx, props).await
    }
    /// Deletes the physical resource.
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError>;
    /// Whether the type checks its physical resource (Heat's `handle_check`); others get
    /// `CHECK_COMPLETE` with "CHECK not supported for <type>".
    fn supports_check(&self) -> bool {
        false
    }
    /// Verifies the physical resource (stack check).
    async fn check(
        &self,
        _ctx: &ResourceContext<'_>,
        _current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        Ok(())
    }
    /// Suspends the physical resource (default: nothing to do, as Heat).
    async fn suspend(
        &self,
        _ctx: &ResourceContext<'_>,
        _current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        Ok(())
    }
    /// Resumes the physical resource (default: nothing to do, as Heat).
    async fn resume(
        &self,
        _ctx: &ResourceContext<'_>,
        _current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        Ok(())
    }
    /// Handles a signal; returns the event reason after `Signal: `, or `""` for Heat's
    /// generic reason from the signal's details (`alarm state changed from …`, `Unknown`).
    async fn signal(
        &self,
        _ctx: &ResourceContext<'_>,
        _current: &ResourceRow,
        _body: Value,
    ) -> Result<String, ResourceError> {
        Err(ResourceError::SignalNotSupported)
    }
}

/// What [`ResourceType::validate_nested`] sees of the stack request being validated.
pub struct StackInputs<'a> {
    /// The registered types (to validate nested templates).
    pub registry: &'a Registry,
    /// The resource's logical name.
    pub name: &'a str,
    /// `resources.<name>.properties`.
    pub path: &'a str,
    /// The properties as validated; values holding function calls are still unresolved.
    pub properties: &'a Map<String, Value>,
    /// The template version (to tell unresolved function calls).
    pub version: crate::template::version::TemplateVersion,
    /// The request's files map.
    pub files: &'a Value,
    /// The stack's environment in its stored form.
    pub environment: &'a Value,
    /// Where this check is in the tree of nested templates.
    pub nesting: crate::engine::validate::Nesting<'a>,
}

/// The registered resource types.
#[derive(Clone)]
pub struct Registry {
    types: HashMap<&'static str, Arc<dyn ResourceType>>,
}

impl Registry {
    /// Every built-in type.
    pub fn builtin() -> Self {
        let list: Vec<Arc<dyn ResourceType>> = vec![
            Arc::new(heat::value::Value),
            Arc::new(heat::none::NoneResource),
            Arc::new(heat::test_resource::TestResource),
            Arc::new(heat::delay::Delay),
            Arc::new(heat::random_string::RandomString),
            Arc::new(heat::software_config::SoftwareConfig),
            Arc::new(heat::software_deployment::SoftwareDeployment),
            Arc::new(heat::structured_config::StructuredConfig),
            Arc::new(heat::software_component::SoftwareComponent),
            Arc::new(heat::cloud_config::CloudConfig),
            Arc::new(heat::multipart_mime::MultipartMime),
            Arc::new(heat::structured_deployment::StructuredDeployment),
            Arc::new(heat::software_deployment_group::DeploymentGroup::SOFTWARE),
            Arc::new(heat::software_deployment_group::DeploymentGroup::STRUCTURED),
            // Heat's hidden deprecated names: they still work.
            Arc::new(heat::software_deployment_group::DeploymentGroup::SOFTWARE_DEPRECATED),
            Arc::new(heat::software_deployment_group::DeploymentGroup::STRUCTURED_DEPRECATED),
            Arc::new(heat::deployed_server::DeployedServer),
            Arc::new(heat::resource_group::ResourceGroup),
            Arc::new(heat::resource_chain::ResourceChain),
            Arc::new(heat::stack::HeatStack),
            Arc::new(heat::cfn_stack::CfnStack),
            Arc::new(heat::autoscaling_group::AutoScalingGroup),
            Arc::new(heat::scaling_policy::ScalingPolicy),
            Arc::new(heat::wait_condition_handle::WaitConditionHandle),
            Arc::new(heat::wait_condition::WaitCondition),
            Arc::new(aws_wait_condition::AwsWaitConditionHandle {
                name: "AWS::CloudFormation::WaitConditionHandle",
                replace_on_update: false,
            }),
            Arc::new(aws_wait_condition::AwsWaitConditionHandle {
                name: "OS::Heat::UpdateWaitConditionHandle",
                replace_on_update: true,
            }),
            Arc::new(aws_wait_condition::AwsWaitCondition),
        ];
        Registry {
            types: list.into_iter().map(|t| (t.type_name(), t)).collect(),
        }
    }

    /// The types `GET /resource_types` lists, by name: Heat hides its deprecated
    /// `OS::Heat::SoftwareDeployments` and `OS::Heat::StructuredDeployments`.
    pub fn listed(&self) -> Vec<Arc<dyn ResourceType>> {
        const HIDDEN: &[&str] = &[
            "OS::Heat::SoftwareDeployments",
            "OS::Heat::StructuredDeployments",
        ];
        let mut types: Vec<Arc<dyn ResourceType>> = self
            .types
            .values()
            .filter(|t| !HIDDEN.contains(&t.type_name()))
            .cloned()
            .collect();
        types.sort_by_key(|t| t.type_name());
        types
    }

    /// The type named `name`; a provider template name (`x.yaml`, `file:///x.template`, a
    /// registry target) is a [`heat::template_resource::TemplateResource`].
    pub fn get(&self, name: &str) -> Option<Arc<dyn ResourceType>> {
        if crate::template::registry::is_template(name) {
            return Some(Arc::new(heat::template_resource::TemplateResource::new(
                name,
            )));
        }
        self.types.get(name).cloned()
    }
}

impl crate::template::TypeLookup for Registry {
    fn type_exists(&self, resource_type: &str) -> bool {
        self.get(resource_type).is_some()
    }
    fn check_attribute(
        &self,
        resource_type: &str,
        properties: &Value,
        attribute: &str,
    ) -> Result<(), String> {
        match self.get(resource_type) {
            Some(t) if t.check_attribute(properties, attribute) => Ok(()),
            _ => Err(format!(
                "The Referenced Attribute ({resource_type} {attribute}) is incorrect."
            )),
        }
    }
}
