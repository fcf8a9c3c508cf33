//! The response shapes of the native API (reference heat-server.md §3.3) as OpenAPI
//! schemas. Handlers build their JSON with `serde_json`; these types describe it, and
//! `api/shape_tests.rs` and the schemathesis run hold the two together.

#![allow(dead_code)] // described, never constructed

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;

/// A link: `{"href", "rel"}` (`self`, `stack`, `resource`, `nested`, `next`, …).
#[derive(ToSchema)]
pub struct Link {
    /// The URL.
    pub href: String,
    /// Its relation.
    pub rel: String,
}

/// Heat's error body.
#[derive(ToSchema)]
pub struct ErrorBody {
    /// HTTP status code.
    pub code: u16,
    /// webob's title (`Not Found`).
    pub title: String,
    /// webob's stock explanation.
    pub explanation: String,
    /// The error itself.
    pub error: ErrorDetail,
}

/// `error` of [`ErrorBody`].
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// Heat's exception class name (`EntityNotFound`).
    #[schema(rename = "type")]
    pub error_type: String,
    /// What went wrong, for people.
    pub message: String,
    /// Always null.
    pub traceback: Option<String>,
}

/// webob's body for 202 and 302 replies.
#[derive(ToSchema)]
pub struct WebobBody {
    /// Text.
    pub message: String,
    /// `202 Accepted`, `302 Found`.
    pub code: String,
    /// Title.
    pub title: String,
}

/// A stack in a list.
#[derive(ToSchema)]
pub struct StackSummary {
    /// UUID.
    pub id: String,
    /// `self`.
    pub links: Vec<Link>,
    /// Name.
    pub stack_name: String,
    /// Empty in lists.
    pub description: String,
    /// `ACTION_STATUS`.
    pub stack_status: String,
    /// Why.
    pub stack_status_reason: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub creation_time: String,
    /// Last update.
    pub updated_time: Option<String>,
    /// When deleted.
    pub deletion_time: Option<String>,
    /// The creating user's name.
    pub stack_owner: Option<String>,
    /// The owning stack of a nested stack.
    pub parent: Option<String>,
    /// The project stack users live in.
    pub stack_user_project_id: String,
    /// Tags, null when none.
    pub tags: Option<Vec<String>>,
    /// The owning project (`global_tenant` listings).
    pub project: Option<String>,
}

/// `GET /stacks`.
#[derive(ToSchema)]
pub struct StackList {
    /// One page.
    pub stacks: Vec<StackSummary>,
    /// `next` when the page is full.
    pub links: Option<Vec<Link>>,
    /// With `with_count=true`: how many match.
    pub count: Option<u64>,
}

/// A stack output.
#[derive(ToSchema)]
pub struct Output {
    /// Its key.
    pub output_key: String,
    /// Its description (`No description given`).
    pub description: String,
    /// Its value (any JSON).
    pub output_value: Option<Value>,
    /// Why it could not be resolved.
    pub output_error: Option<String>,
}

/// A stack in full.
#[derive(ToSchema)]
pub struct StackDetail {
    /// Name.
    pub stack_name: String,
    /// UUID.
    pub id: String,
    /// `self`.
    pub links: Vec<Link>,
    /// Created.
    pub creation_time: String,
    /// Updated.
    pub updated_time: Option<String>,
    /// Deleted.
    pub deletion_time: Option<String>,
    /// Always empty.
    pub notification_topics: Vec<String>,
    /// Parameter values (hidden ones as `******`), with `OS::stack_id` and friends.
    pub parameters: BTreeMap<String, Value>,
    /// The template's description.
    pub description: String,
    /// The same.
    pub template_description: String,
    /// Always empty.
    pub capabilities: Vec<Value>,
    /// Whether a failure is left as is.
    pub disable_rollback: bool,
    /// Action timeout.
    pub timeout_mins: Option<i64>,
    /// Creating user.
    pub stack_owner: Option<String>,
    /// Owning stack.
    pub parent: Option<String>,
    /// Stack users' project.
    pub stack_user_project_id: String,
    /// Tags (empty when none).
    pub tags: Vec<String>,
    /// `ACTION_STATUS`.
    pub stack_status: String,
    /// Why.
    pub stack_status_reason: String,
    /// Resolved outputs (absent with `resolve_outputs=false`).
    pub outputs: Option<Vec<Output>>,
}

/// `GET /stacks/{name}/{id}`.
#[derive(ToSchema)]
pub struct StackShow {
    /// The stack.
    pub stack: StackDetail,
}

/// `GET /stacks/detail`.
#[derive(ToSchema)]
pub struct StackDetailList {
    /// One page.
    pub stacks: Vec<StackDetail>,
    /// `next` when the page is full.
    pub links: Option<Vec<Link>>,
    /// With `with_count=true`.
    pub count: Option<u64>,
}

/// `{"id", "links"}` of a created stack.
#[derive(ToSchema)]
pub struct StackRef {
    /// UUID.
    pub id: String,
    /// `self`.
    pub links: Vec<Link>,
}

/// `POST /stacks`: 201.
#[derive(ToSchema)]
pub struct StackCreated {
    /// The new stack.
    pub stack: StackRef,
}

/// `GET …/outputs`.
#[derive(ToSchema)]
pub struct OutputList {
    /// Keys and descriptions, unresolved.
    pub outputs: Vec<OutputKey>,
}

/// An output's key and description.
#[derive(ToSchema)]
pub struct OutputKey {
    /// Key.
    pub output_key: String,
    /// Description.
    pub description: String,
}

/// `GET …/outputs/{key}`.
#[derive(ToSchema)]
pub struct OutputShow {
    /// The resolved output.
    pub output: Output,
}

/// A resource.
#[derive(ToSchema)]
pub struct Resource {
    /// Name.
    pub resource_name: String,
    /// The same.
    pub logical_resource_id: String,
    /// Physical id, `""` if none.
    pub physical_resource_id: String,
    /// Type.
    pub resource_type: String,
    /// `ACTION_STATUS`.
    pub resource_status: String,
    /// Why.
    pub resource_status_reason: String,
    /// Created.
    pub creation_time: String,
    /// Updated.
    pub updated_time: String,
    /// Resources depending on it.
    pub required_by: Vec<String>,
    /// `self`, `stack`, `nested`.
    pub links: Vec<Link>,
    /// In nested listings: the owning resource.
    pub parent_resource: Option<String>,
    /// With detail: the template's description.
    pub description: Option<String>,
    /// With detail: attribute values.
    pub attributes: Option<BTreeMap<String, Value>>,
}

/// `GET …/resources`.
#[derive(ToSchema)]
pub struct ResourceList {
    /// The resources.
    pub resources: Vec<Resource>,
}

/// `GET …/resources/{name}`.
#[derive(ToSchema)]
pub struct ResourceShow {
    /// The resource.
    pub resource: Resource,
}

/// `GET …/metadata`.
#[derive(ToSchema)]
pub struct MetadataShow {
    /// The metadata document.
    pub metadata: BTreeMap<String, Value>,
}

/// An event.
#[derive(ToSchema)]
pub struct Event {
    /// UUID.
    pub id: String,
    /// `self`, `resource`, `stack`, `root_stack`.
    pub links: Vec<Link>,
    /// When.
    pub event_time: String,
    /// The resource (the stack's name for stack events).
    pub logical_resource_id: String,
    /// The same.
    pub resource_name: String,
    /// Physical id (the stack id for stack events).
    pub physical_resource_id: String,
    /// `ACTION_STATUS`.
    pub resource_status: String,
    /// Why.
    pub resource_status_reason: String,
    /// Detail only: type.
    pub resource_type: Option<String>,
    /// Detail only: properties.
    pub resource_properties: Option<Value>,
}

/// `GET …/events`.
#[derive(ToSchema)]
pub struct EventList {
    /// Newest first unless `sort_dir=asc`.
    pub events: Vec<Event>,
}

/// `GET …/events/{id}`.
#[derive(ToSchema)]
pub struct EventShow {
    /// The event.
    pub event: Event,
}

/// A software config.
#[derive(ToSchema)]
pub struct SoftwareConfig {
    /// UUID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Hook group.
    pub group: String,
    /// Created.
    pub creation_time: String,
    /// The config (a string or a map).
    pub config: Option<Value>,
    /// Input schema.
    pub inputs: Option<Vec<Value>>,
    /// Output schema.
    pub outputs: Option<Vec<Value>>,
    /// Options.
    pub options: Option<Value>,
    /// Owning project (admins).
    pub project: Option<String>,
}

/// `GET /software_configs`.
#[derive(ToSchema)]
pub struct SoftwareConfigList {
    /// Summaries.
    pub software_configs: Vec<SoftwareConfig>,
}

/// `POST`/`GET /software_configs[/{id}]`.
#[derive(ToSchema)]
pub struct SoftwareConfigShow {
    /// The config.
    pub software_config: SoftwareConfig,
}

/// `GET /software_deployments/metadata/{server_id}`.
#[derive(ToSchema)]
pub struct ServerMetadata {
    /// The derived configs of the server's deployments, by name.
    pub metadata: Vec<Value>,
}

/// `POST /validate`.
#[derive(ToSchema)]
pub struct Validation {
    /// The template's description.
    #[schema(rename = "Description")]
    pub description: String,
    /// Parameters by name.
    #[schema(rename = "Parameters")]
    pub parameters: BTreeMap<String, Value>,
    /// Parameter groups.
    #[schema(rename = "ParameterGroups")]
    pub parameter_groups: Option<Vec<Value>>,
    /// The environment.
    #[schema(rename = "Environment")]
    pub environment: Option<Value>,
}

/// `GET /resource_types`: names, or `{resource_type, description}` with descriptions.
#[derive(ToSchema)]
pub struct ResourceTypeList {
    /// The types.
    pub resource_types: Vec<Value>,
}

/// `GET /resource_types/{type}`.
#[derive(ToSchema)]
pub struct ResourceTypeSchema {
    /// The type.
    pub resource_type: String,
    /// Properties by name.
    pub properties: BTreeMap<String, Value>,
    /// Attributes by name.
    pub attributes: BTreeMap<String, Value>,
    /// `{status, message, version, previous_status}`.
    pub support_status: Value,
    /// Description.
    pub description: String,
}

/// A template version.
#[derive(ToSchema)]
pub struct TemplateVersion {
    /// `heat_template_version.2018-08-31`.
    pub version: String,
    /// `hot` or `cfn`.
    #[schema(rename = "type")]
    pub kind: String,
    /// Release-name aliases.
    pub aliases: Vec<String>,
}

/// `GET /template_versions`.
#[derive(ToSchema)]
pub struct TemplateVersionList {
    /// Every version.
    pub template_versions: Vec<TemplateVersion>,
}

/// A function of a template version.
#[derive(ToSchema)]
pub struct TemplateFunction {
    /// Its name.
    pub functions: String,
    /// What it does.
    pub description: String,
}

/// `GET /template_versions/{version}/functions`.
#[derive(ToSchema)]
pub struct TemplateFunctionList {
    /// The functions.
    pub template_functions: Vec<TemplateFunction>,
}

/// A revision.
#[derive(ToSchema)]
pub struct Revision {
    /// The build.
    pub revision: String,
}

/// `GET /build_info`.
#[derive(ToSchema)]
pub struct BuildInfo {
    /// The API's.
    pub api: Revision,
    /// The engine's.
    pub engine: Revision,
}

/// An engine process.
#[derive(ToSchema)]
pub struct Service {
    /// Process id.
    pub id: String,
    /// `heat-engine`.
    pub binary: String,
    /// The same as id.
    pub engine_id: String,
    /// The node.
    pub host: String,
    /// The machine.
    pub hostname: String,
    /// `engine`.
    pub topic: String,
    /// Seconds between reports.
    pub report_interval: i64,
    /// First report.
    pub created_at: String,
    /// Last report.
    pub updated_at: String,
    /// Always null.
    pub deleted_at: Option<String>,
    /// `up` or `down`.
    pub status: String,
}

/// `GET /services`.
#[derive(ToSchema)]
pub struct ServiceList {
    /// The processes.
    pub services: Vec<Service>,
}
