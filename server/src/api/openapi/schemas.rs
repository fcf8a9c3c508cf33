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

/// A software deployment.
#[derive(ToSchema)]
pub struct SoftwareDeployment {
    /// UUID.
    pub id: String,
    /// The server it deploys to.
    pub server_id: String,
    /// The (derived) config.
    pub config_id: String,
    /// Input values.
    pub input_values: Option<BTreeMap<String, Value>>,
    /// Output values the server signalled.
    pub output_values: Option<BTreeMap<String, Value>>,
    /// `CREATE`, `UPDATE`, …
    pub action: String,
    /// `IN_PROGRESS`, `COMPLETE`, `FAILED`.
    pub status: String,
    /// Why.
    pub status_reason: Option<String>,
    /// Created.
    pub creation_time: String,
    /// Updated.
    pub updated_time: Option<String>,
}

/// `GET /software_deployments`.
#[derive(ToSchema)]
pub struct SoftwareDeploymentList {
    /// The deployments.
    pub software_deployments: Vec<SoftwareDeployment>,
}

/// `POST`/`GET`/`PUT /software_deployments[/{id}]`.
#[derive(ToSchema)]
pub struct SoftwareDeploymentShow {
    /// The deployment.
    pub software_deployment: SoftwareDeployment,
}

/// A stack snapshot.
#[derive(ToSchema)]
pub struct Snapshot {
    /// UUID.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// The stack.
    pub stack_id: String,
    /// What a restore goes back to.
    pub data: Option<Value>,
    /// `SNAPSHOT`.
    pub action: String,
    /// `COMPLETE`, `FAILED`.
    pub status: String,
    /// Why.
    pub status_reason: String,
    /// Taken.
    pub creation_time: String,
}

/// `GET …/snapshots`.
#[derive(ToSchema)]
pub struct SnapshotList {
    /// The stack's snapshots.
    pub snapshots: Vec<Snapshot>,
}

/// `GET …/snapshots/{id}`.
#[derive(ToSchema)]
pub struct SnapshotShow {
    /// The snapshot.
    pub snapshot: Snapshot,
}

/// `PUT`/`PATCH …/preview`: what an update would do.
#[derive(ToSchema)]
pub struct UpdatePreview {
    /// `added`, `deleted`, `replaced`, `unchanged`, `updated`: resource lists.
    pub resource_changes: BTreeMap<String, Vec<Value>>,
}

/// `POST /stacks/preview`.
#[derive(ToSchema)]
pub struct CreatePreview {
    /// The stack as it would be, with its resources.
    pub stack: Value,
}

/// A template: a map with a version key, or its YAML/JSON text (never null).
fn template_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .min_properties(Some(1)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1)),
            )
            .build(),
    )
}

/// The body of a stack create (and, without `stack_name`, of an update).
#[derive(ToSchema)]
pub struct StackCreateRequest {
    /// `[a-zA-Z][a-zA-Z0-9_.-]{0,254}`.
    #[schema(pattern = "^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$")]
    pub stack_name: String,
    /// The template: a map, or YAML/JSON text.
    #[schema(schema_with = template_schema)]
    pub template: Value,
    /// Parameter values.
    pub parameters: Option<BTreeMap<String, Value>>,
    /// The environment: a map or text.
    pub environment: Option<Value>,
    /// Files by name (`get_file`, provider templates, environment files).
    pub files: Option<BTreeMap<String, String>>,
    /// Environment files (names in `files`), merged in order.
    pub environment_files: Option<Vec<String>>,
    /// Action timeout.
    pub timeout_mins: Option<i64>,
    /// Whether a failure is left as is (default true).
    pub disable_rollback: Option<bool>,
    /// Tags, comma-separated.
    pub tags: Option<String>,
    /// Abandon data to adopt (needs `--enable-stack-adopt`).
    pub adopt_stack_data: Option<Value>,
}

/// The body of a stack update (`PUT`: full; `PATCH`: only what changes).
#[derive(ToSchema)]
pub struct StackUpdateRequest {
    /// The template (`PATCH`: absent keeps the current one).
    pub template: Option<Value>,
    /// Parameter values (`PATCH`: merged).
    pub parameters: Option<BTreeMap<String, Value>>,
    /// Parameters to reset (`PATCH`).
    pub clear_parameters: Option<Vec<String>>,
    /// The environment.
    pub environment: Option<Value>,
    /// Files.
    pub files: Option<BTreeMap<String, String>>,
    /// Environment files.
    pub environment_files: Option<Vec<String>>,
    /// Action timeout.
    pub timeout_mins: Option<i64>,
    /// Rollback setting.
    pub disable_rollback: Option<bool>,
    /// Tags, comma-separated.
    pub tags: Option<String>,
}

/// The body of `POST /validate`.
#[derive(ToSchema)]
pub struct ValidateRequest {
    /// The template.
    #[schema(schema_with = template_schema)]
    pub template: Value,
    /// The environment.
    pub environment: Option<Value>,
    /// Files.
    pub files: Option<BTreeMap<String, String>>,
    /// Environment files.
    pub environment_files: Option<Vec<String>>,
}

/// The body of `POST /software_configs`.
#[derive(ToSchema)]
pub struct SoftwareConfigRequest {
    /// Name.
    pub name: Option<String>,
    /// Hook group (default `Heat::Ungrouped`).
    pub group: Option<String>,
    /// The config: text or a map.
    pub config: Option<Value>,
    /// Input schema.
    pub inputs: Option<Vec<ConfigInput>>,
    /// Output schema.
    pub outputs: Option<Vec<ConfigOutput>>,
    /// Options.
    pub options: Option<BTreeMap<String, Value>>,
}

/// One input of a software config.
#[derive(ToSchema)]
pub struct ConfigInput {
    /// Its name.
    #[schema(min_length = 1)]
    pub name: String,
    /// `String` (default), `Number`, `CommaDelimitedList`, `Json`, `Boolean`.
    #[schema(rename = "type")]
    pub kind: Option<String>,
    /// Default value.
    pub default: Option<Value>,
    /// Description.
    pub description: Option<String>,
    /// A value (derived configs).
    pub value: Option<Value>,
    /// Whether a change replaces the deployment.
    pub replace_on_change: Option<bool>,
}

/// One output of a software config.
#[derive(ToSchema)]
pub struct ConfigOutput {
    /// Its name.
    #[schema(min_length = 1)]
    pub name: String,
    /// Its type.
    #[schema(rename = "type")]
    pub kind: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Whether a value fails the deployment.
    pub error_output: Option<bool>,
}

/// The body of `POST /software_deployments`.
#[derive(ToSchema)]
pub struct SoftwareDeploymentCreateRequest {
    /// The config to deploy (of this project).
    #[schema(min_length = 1)]
    pub config_id: String,
    /// The server.
    #[schema(min_length = 1)]
    pub server_id: String,
    /// Input values.
    pub input_values: Option<BTreeMap<String, Value>>,
    /// Action (default `INIT`).
    pub action: Option<String>,
    /// Status (default `COMPLETE`).
    pub status: Option<String>,
    /// Why.
    pub status_reason: Option<String>,
    /// Stack users' project.
    pub stack_user_project_id: Option<String>,
}

/// The body of `POST /software_deployments` (`PUT`: any of them).
#[derive(ToSchema)]
pub struct SoftwareDeploymentRequest {
    /// The config to deploy.
    pub config_id: Option<String>,
    /// The server.
    pub server_id: Option<String>,
    /// Input values.
    pub input_values: Option<BTreeMap<String, Value>>,
    /// Output values (`PUT`).
    pub output_values: Option<BTreeMap<String, Value>>,
    /// Action.
    pub action: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Why.
    pub status_reason: Option<String>,
    /// Stack users' project.
    pub stack_user_project_id: Option<String>,
}

/// The body of `POST …/actions`: exactly one key.
#[derive(ToSchema)]
#[schema(min_properties = 1, max_properties = 1)]
pub struct ActionRequest {
    /// `{"suspend": null}`.
    pub suspend: Option<Value>,
    /// `{"resume": null}`.
    pub resume: Option<Value>,
    /// `{"check": null}`.
    pub check: Option<Value>,
    /// Cancel and roll back.
    pub cancel_update: Option<Value>,
    /// Cancel, no rollback.
    pub cancel_without_rollback: Option<Value>,
}

/// The body of `PATCH …/resources/{name}`.
#[derive(ToSchema)]
pub struct MarkUnhealthyRequest {
    /// Whether the resource is unhealthy.
    pub mark_unhealthy: bool,
    /// Why.
    pub resource_status_reason: Option<String>,
}

/// The body of `POST …/snapshots`.
#[derive(ToSchema)]
pub struct SnapshotRequest {
    /// Name.
    pub name: Option<String>,
}

/// `sort_dir`.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SortDir {
    /// Oldest (or smallest) first.
    Asc,
    /// Newest (or largest) first.
    Desc,
}
