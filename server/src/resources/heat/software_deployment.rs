//! `OS::Heat::SoftwareDeployment`: applies a config to a server and waits for its signal.
//!
//! For each triggered action a new *derived config* is built (reference heat-server.md
//! §2.3): the source config with every input resolved, followed by the `deploy_*` inputs.
//! It is published in the server's metadata; the agent runs it and signals back; the
//! signal rules below decide COMPLETE or FAILED.

use std::time::Duration;
use updraft_hooks::python_json::truthy;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use updraft_hooks::deployment::python_str;

use super::deployment_rules;
use crate::auth::stack_users;
use crate::engine::server_metadata;
use crate::engine::services::Services;
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::{ConfigRow, DeploymentRow, ResourceRow, now_timestamp};
use crate::template::TemplateError;
use crate::template::error::join;

/// `OS::Heat::SoftwareDeployment`.
pub struct SoftwareDeployment;

const ACTIONS: &[&str] = &["CREATE", "UPDATE", "DELETE", "SUSPEND", "RESUME"];
const TRANSPORTS: &[&str] = &[
    "CFN_SIGNAL",
    "TEMP_URL_SIGNAL",
    "HEAT_SIGNAL",
    "ZAQAR_SIGNAL",
    "NO_SIGNAL",
];

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("config", PropType::String).update_allowed(),
    PropertySchema::new("server", PropType::String).required(),
    PropertySchema::new("input_values", PropType::Map)
        .default("{}")
        .update_allowed(),
    PropertySchema::new("actions", PropType::List)
        .default("[\"CREATE\", \"UPDATE\"]")
        .update_allowed()
        .allowed(ACTIONS),
    PropertySchema::new("name", PropType::String).update_allowed(),
    // No schema default: the server's `--default-deployment-signal-transport` applies
    // (Heat's CFN_SIGNAL unless configured).
    PropertySchema::new("signal_transport", PropType::String).allowed(TRANSPORTS),
];

/// Attributes every deployment has; declared outputs come on top.
const ATTRIBUTES: &[&str] = &["deploy_stdout", "deploy_stderr", "deploy_status_code"];

fn deploy_input(name: &str, description: &str, value: Value) -> Value {
    json!({"name": name, "description": description, "type": "String", "value": value})
}

/// What the derived config needs besides the source config.
struct DeployInfo<'a> {
    server_id: &'a str,
    action: &'a str,
    stack_id: String,
    resource_name: &'a str,
    transport: &'a str,
    /// The transport's own inputs (`deploy_signal_id`/`_verb`, or the `deploy_auth_url`
    /// family), in Heat's order.
    signal_inputs: Vec<Value>,
}

/// The inputs of a URL transport: `deploy_signal_id` and `deploy_signal_verb`.
fn url_signal_inputs(url: String, verb: &str) -> Vec<Value> {
    vec![
        deploy_input(
            "deploy_signal_id",
            "ID of signal to use for signaling output values",
            json!(url),
        ),
        deploy_input(
            "deploy_signal_verb",
            "HTTP verb to use for signaling output values",
            json!(verb),
        ),
    ]
}

/// HEAT_SIGNAL's inputs: a stack user of this deployment, made once and kept (by id; its
/// password is derived from the server key) so every action hands out the same one.
async fn heat_signal_inputs(
    ctx: &ResourceContext<'_>,
    data: &mut Map<String, Value>,
    username: &str,
) -> Result<Vec<Value>, ResourceError> {
    let services = ctx.services;
    let user = ctx.stack_user(data).await?;
    Ok(vec![
        deploy_input(
            "deploy_auth_url",
            "URL for API authentication",
            json!(format!("{}/v3/", services.temp_urls.base())),
        ),
        deploy_input(
            "deploy_username",
            "Username for API authentication",
            json!(username),
        ),
        deploy_input(
            "deploy_user_id",
            "User ID for API authentication",
            json!(user.user_id),
        ),
        deploy_input(
            "deploy_password",
            "Password for API authentication",
            json!(user.password),
        ),
        deploy_input(
            "deploy_project_id",
            "ID of project for API authentication",
            json!(ctx.stack.project),
        ),
        deploy_input(
            "deploy_region_name",
            "Region name for API authentication",
            json!(stack_users::REGION),
        ),
    ])
}

/// The deployment's pre-signed CFN signal URL (`POST /v1/signal/<ARN>`): made once and kept
/// in the resource's data, so every action of the deployment signals the same URL, as Heat.
async fn cfn_signal_url(
    ctx: &ResourceContext<'_>,
    data: &mut Map<String, Value>,
) -> Result<String, ResourceError> {
    if let Some(url) = data.get("cfn_signal_url").and_then(Value::as_str) {
        return Ok(url.to_string());
    }
    let url = crate::auth::cfn_urls::presigned_url(
        &ctx.services.store,
        &ctx.services.temp_urls,
        crate::auth::cfn_urls::CfnEndpoint::Signal,
        &ctx.stack.project,
        &ctx.stack.name,
        &ctx.stack.id,
        ctx.name,
    )
    .await?;
    data.insert("cfn_signal_url".into(), json!(url));
    Ok(url)
}

/// The derived inputs in Heat's order: declared, undeclared `input_values`, then `deploy_*`.
fn derived_inputs(
    source_inputs: &Value,
    input_values: &Map<String, Value>,
    info: &DeployInfo<'_>,
) -> Vec<Value> {
    let mut out = Vec::new();
    let declared = source_inputs.as_array().cloned().unwrap_or_default();
    let mut declared_names = Vec::new();
    for input in declared {
        let Value::Object(mut m) = input else {
            continue;
        };
        let name = m
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let value = input_values
            .get(&name)
            .cloned()
            .or_else(|| m.get("default").cloned())
            .unwrap_or(Value::Null);
        m.insert("value".into(), value);
        declared_names.push(name);
        out.push(Value::Object(m));
    }
    for (name, value) in input_values {
        if !declared_names.contains(name) {
            out.push(json!({"name": name, "type": "String", "value": value}));
        }
    }
    out.push(deploy_input(
        "deploy_server_id",
        "ID of the server being deployed to",
        json!(info.server_id),
    ));
    out.push(deploy_input(
        "deploy_action",
        "Name of the current action being deployed",
        json!(info.action),
    ));
    out.push(deploy_input(
        "deploy_stack_id",
        "ID of the stack this deployment belongs to",
        json!(info.stack_id),
    ));
    out.push(deploy_input(
        "deploy_resource_name",
        "Name of this deployment resource in the stack",
        json!(info.resource_name),
    ));
    out.push(deploy_input(
        "deploy_signal_transport",
        "How the server should signal to heat with the deployment output values.",
        json!(info.transport),
    ));
    out.extend(info.signal_inputs.iter().cloned());
    out
}

/// The result of applying a signal body to a deployment.
#[derive(Debug, PartialEq)]
pub struct SignalVerdict {
    /// `COMPLETE` or `FAILED`.
    pub status: &'static str,
    /// Heat's status reason.
    pub reason: String,
    /// New output values.
    pub output_values: Map<String, Value>,
    /// Event reason after `Signal: `.
    pub event_reason: String,
}

/// Heat's signal rules: a non-zero `deploy_status_code` or any present `error_output`
/// output fails the deployment; declared outputs and the three `deploy_*` values are kept.
pub fn evaluate_signal(
    deployment_id: &str,
    outputs: &Value,
    previous: &Map<String, Value>,
    body: &Map<String, Value>,
) -> SignalVerdict {
    let mut values = previous.clone();
    let mut failed = false;
    let mut reasons: Vec<String> = Vec::new();
    let mut event_reason = format!("deployment {deployment_id} succeeded");
    let code = body
        .get("deploy_status_code")
        .filter(|c| truthy(c))
        .map(python_str);
    if let Some(code) = code.filter(|c| c != "0") {
        failed = true;
        reasons.push(format!(
            "deploy_status_code : Deployment exited with non-zero status code: {code}"
        ));
        event_reason = format!("deployment {deployment_id} failed ({code})");
    }
    for output in outputs.as_array().into_iter().flatten() {
        let Some(name) = output.get("name").and_then(Value::as_str) else {
            continue;
        };
        if let Some(v) = body.get(name) {
            values.insert(name.to_string(), v.clone());
            if output.get("error_output").and_then(Value::as_bool) == Some(true) {
                failed = true;
                reasons.push(format!("{name} : {}", python_str(v)));
                event_reason = format!("deployment {deployment_id} failed");
            }
        }
    }
    for key in ATTRIBUTES {
        values.insert(
            (*key).to_string(),
            body.get(*key).cloned().unwrap_or(Value::Null),
        );
    }
    SignalVerdict {
        status: if failed { "FAILED" } else { "COMPLETE" },
        reason: if failed {
            reasons.join(", ")
        } else {
            "Outputs received".into()
        },
        output_values: values,
        event_reason,
    }
}

/// Applies a signal to deployment `deployment_id`. Returns the event reason, or `None` when
/// the deployment was not waiting (late or duplicate signals are ignored, as in Heat).
pub async fn apply_signal(
    services: &Services,
    deployment_id: &str,
    body: &Value,
) -> Result<Option<String>, ResourceError> {
    let Some(row) = services.store.deployment(deployment_id).await? else {
        return Err(ResourceError::Failed(format!(
            "Deployment {deployment_id} not found"
        )));
    };
    if row.status != "IN_PROGRESS" {
        return Ok(None);
    }
    let outputs = services
        .store
        .config(&row.config_id)
        .await?
        .map(|c| c.outputs)
        .unwrap_or(Value::Null);
    let empty = Map::new();
    let body = body.as_object().unwrap_or(&empty);
    let verdict = evaluate_signal(deployment_id, &outputs, &row.output_values, body);
    let applied = services
        .store
        .complete_deployment(
            deployment_id,
            verdict.status,
            &verdict.reason,
            &verdict.output_values,
        )
        .await?;
    services.notifier.deployment_signalled(deployment_id);
    Ok(applied.then_some(verdict.event_reason))
}

impl SoftwareDeployment {
    /// Builds and publishes the derived config for `action`, then waits for the signal.
    /// Returns the attributes and the new derived config id.
    async fn deploy(
        &self,
        ctx: &ResourceContext<'_>,
        deployment_id: &str,
        action: &str,
        props: &Map<String, Value>,
        data: &mut Map<String, Value>,
    ) -> Result<Map<String, Value>, ResourceError> {
        let store = &ctx.services.store;
        let server_id = props
            .get("server")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(pending) = ctx
            .resuming
            .as_ref()
            .and_then(|r| r.data.get("pending_config_id"))
            .and_then(Value::as_str)
        {
            match store.deployment(deployment_id).await? {
                Some(row) if row.config_id == pending && row.action == action => {
                    // This action's derived config is out already: only its signal is missing.
                    data.insert("derived_config_id".into(), json!(pending));
                    // The server may have stopped before publishing it: publish (again).
                    server_metadata::publish(ctx.services, server_id).await?;
                    return self.settle(ctx, deployment_id).await;
                }
                // An earlier action's config, still in use: the normal path replaces it.
                Some(row) if row.config_id == pending => {}
                // Stored but never published: drop it and deploy afresh.
                _ => store.delete_config(pending).await?,
            }
        }
        let source = match props
            .get("config")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(id) => Some(store.config(id).await?.ok_or_else(|| {
                ResourceError::Failed(format!("Software config with id {id} not found"))
            })?),
            None => None,
        };
        let transport = signal_transport(ctx, props);
        let physical_name = match data.get("physical_name").and_then(Value::as_str) {
            Some(n) => n.to_string(),
            None => {
                let n = ctx.physical_name();
                data.insert("physical_name".into(), json!(n));
                n
            }
        };
        let signal_inputs = match transport {
            "NO_SIGNAL" => Vec::new(),
            "CFN_SIGNAL" => url_signal_inputs(cfn_signal_url(ctx, data).await?, "POST"),
            "HEAT_SIGNAL" => heat_signal_inputs(ctx, data, &physical_name).await?,
            _ => url_signal_inputs(ctx.services.temp_urls.signal_url(deployment_id), "PUT"),
        };
        let info = DeployInfo {
            server_id,
            action,
            stack_id: format!("{}/{}", ctx.stack.name, ctx.stack.id),
            resource_name: ctx.name,
            transport,
            signal_inputs,
        };
        let empty = Map::new();
        let input_values = props
            .get("input_values")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let name = props
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| source.as_ref().map(|s| s.name.clone()))
            .unwrap_or(physical_name);
        let inputs = derived_inputs(
            source.as_ref().map_or(&Value::Null, |s| &s.inputs),
            input_values,
            &info,
        );
        let config = deployment_rules::derive_config(
            props,
            source.as_ref().map_or(json!({}), |s| s.config.clone()),
            &inputs,
        )?;
        let derived = ConfigRow {
            id: uuid::Uuid::new_v4().to_string(),
            project: ctx.stack.project.clone(),
            name,
            group: source
                .as_ref()
                .map_or("Heat::Ungrouped".into(), |s| s.group.clone()),
            config,
            inputs: Value::Array(inputs),
            outputs: source.as_ref().map_or(json!([]), |s| s.outputs.clone()),
            options: source.as_ref().map_or(json!({}), |s| s.options.clone()),
            created_at: now_timestamp(),
        };
        // The intent first: a server that stops from here on finds this derived config on
        // restart and waits for its signal instead of deploying the action a second time.
        data.insert("pending_config_id".into(), json!(derived.id));
        ctx.set_data(data).await?;
        store.insert_config(&derived).await?;
        let previous = store.deployment(deployment_id).await?;
        let (status, reason) = if transport == "NO_SIGNAL" {
            ("COMPLETE", "Not waiting for outputs signal")
        } else {
            ("IN_PROGRESS", "Deploy data available")
        };
        store
            .put_deployment(&DeploymentRow {
                id: deployment_id.to_string(),
                project: ctx.stack.project.clone(),
                server_id: server_id.to_string(),
                config_id: derived.id.clone(),
                input_values: input_values.clone(),
                output_values: previous
                    .as_ref()
                    .map(|p| p.output_values.clone())
                    .unwrap_or_default(),
                action: action.to_string(),
                status: status.to_string(),
                status_reason: reason.to_string(),
                created_at: previous
                    .as_ref()
                    .map_or_else(now_timestamp, |p| p.created_at.clone()),
                updated_at: previous.as_ref().map(|_| now_timestamp()),
            })
            .await?;
        if let Some(old) = previous.filter(|p| p.config_id != derived.id) {
            store.delete_config(&old.config_id).await?;
        }
        data.insert("derived_config_id".into(), json!(derived.id));
        server_metadata::publish(ctx.services, server_id).await?;
        self.settle(ctx, deployment_id).await
    }

    /// Waits for the deployment's signal and turns it into attributes or a failure.
    async fn settle(
        &self,
        ctx: &ResourceContext<'_>,
        deployment_id: &str,
    ) -> Result<Map<String, Value>, ResourceError> {
        let store = &ctx.services.store;
        let row = wait_for_signal(ctx.services, deployment_id).await?;
        if row.status == "FAILED" {
            // The outputs of a failed run (deploy_stderr above all) stay readable.
            store
                .set_resource_attributes(&ctx.stack.id, ctx.name, &row.output_values)
                .await?;
            return Err(ResourceError::Failed(format!(
                "Deployment to server failed: {}",
                row.status_reason
            )));
        }
        Ok(row.output_values)
    }
}

async fn wait_for_signal(
    services: &Services,
    deployment_id: &str,
) -> Result<DeploymentRow, ResourceError> {
    loop {
        let row = services
            .store
            .deployment(deployment_id)
            .await?
            .ok_or_else(|| {
                ResourceError::Failed(format!("Deployment {deployment_id} disappeared"))
            })?;
        if row.status != "IN_PROGRESS" {
            return Ok(row);
        }
        // Woken by the signal; the timeout re-reads the row in case a wake-up was missed.
        crate::engine::scheduler::idle_while(
            services
                .notifier
                .wait_deployment(deployment_id, Duration::from_secs(2)),
        )
        .await;
    }
}

/// The deployment's `signal_transport`, or the server's default.
fn signal_transport<'a>(ctx: &'a ResourceContext<'_>, props: &'a Map<String, Value>) -> &'a str {
    props
        .get("signal_transport")
        .and_then(Value::as_str)
        .unwrap_or(&ctx.services.transports.deployment_signal)
}

#[async_trait]
impl ResourceType for SoftwareDeployment {
    fn type_name(&self) -> &'static str {
        "OS::Heat::SoftwareDeployment"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        ATTRIBUTES
    }
    /// Any declared output of the config is an attribute; the config is usually only known
    /// at run time, so every name is accepted (unknown ones resolve to null).
    fn check_attribute(&self, _properties: &Value, _attribute: &str) -> bool {
        true
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        match props.get("signal_transport").and_then(Value::as_str) {
            Some("ZAQAR_SIGNAL") => Err(TemplateError::at(
                join(path, "signal_transport"),
                "ZAQAR_SIGNAL needs Zaqar, which Updraft does not provide; use CFN_SIGNAL, TEMP_URL_SIGNAL, HEAT_SIGNAL or NO_SIGNAL",
            )),
            _ => Ok(()),
        }
    }
    async fn replaces_on_update(
        &self,
        services: &Services,
        current: &ResourceRow,
        new: &Map<String, Value>,
    ) -> Result<bool, ResourceError> {
        deployment_rules::replace_on_change(&services.store, current, new).await
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        // Resuming an interrupted create keeps its deployment id and intent.
        let deployment_id = match ctx.resumed_physical_id() {
            Some(id) => id.to_string(),
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                ctx.set_physical_id(&id).await?;
                id
            }
        };
        let mut data = ctx
            .resuming
            .as_ref()
            .map(|r| r.data.clone())
            .unwrap_or_default();
        let acts = deployment_rules::acts_on(&ctx.services.store, props, "CREATE").await?;
        let attributes = if acts {
            self.deploy(ctx, &deployment_id, "CREATE", props, &mut data)
                .await?
        } else {
            Map::new()
        };
        Ok(ResourceOutcome {
            physical_id: deployment_id,
            reference_id: None,
            attributes,
            data,
        })
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut data = current.data.clone();
        let acts = deployment_rules::acts_on(&ctx.services.store, props, "UPDATE").await?;
        let attributes = if acts {
            self.deploy(ctx, &current.physical_id, "UPDATE", props, &mut data)
                .await?
        } else {
            current.attributes.clone()
        };
        Ok(ResourceOutcome {
            physical_id: current.physical_id.clone(),
            reference_id: None,
            attributes,
            data,
        })
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        let store = &ctx.services.store;
        let id = &current.physical_id;
        if id.is_empty() {
            return Ok(());
        }
        let props = current.properties.as_object().cloned().unwrap_or_default();
        let server_id = props
            .get("server")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let server_alive = store.metadata(&server_id).await?.is_some();
        if server_alive
            && store.deployment(id).await?.is_some()
            && deployment_rules::acts_on(store, &props, "DELETE").await?
        {
            let mut data = current.data.clone();
            self.deploy(ctx, id, "DELETE", &props, &mut data).await?;
        }
        if let Some(row) = store.deployment(id).await? {
            store.delete_deployment(id).await?;
            store.delete_config(&row.config_id).await?;
        }
        // Its CFN signal URL stops working.
        store.revoke_credentials(&ctx.stack.id, ctx.name).await?;
        server_metadata::publish(ctx.services, &server_id).await?;
        Ok(())
    }
    async fn signal(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        body: Value,
    ) -> Result<String, ResourceError> {
        // The resource records its physical id a moment before the deployment row exists;
        // a signal in between finds nothing to apply to yet (Heat: not yet created).
        if ctx
            .services
            .store
            .deployment(&current.physical_id)
            .await?
            .is_none()
        {
            return Err(ResourceError::Raised {
                heat_type: "ResourceNotAvailable",
                message: format!("The Resource ({}) is not available.", current.name),
            });
        }
        let reason = apply_signal(ctx.services, &current.physical_id, &body).await?;
        Ok(reason.unwrap_or_else(|| {
            format!(
                "deployment {} is not waiting for a signal",
                current.physical_id
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_rules_match_heat() {
        let outputs = json!([{"name": "result", "error_output": false}, {"name": "errout", "error_output": true}]);
        let body = json!({"deploy_stdout": "out", "deploy_status_code": 3, "result": "r", "errout": "bad thing", "junk": 1});
        let v = evaluate_signal("d1", &outputs, &Map::new(), body.as_object().unwrap());
        assert_eq!(v.status, "FAILED");
        assert_eq!(
            v.reason,
            "deploy_status_code : Deployment exited with non-zero status code: 3, errout : bad thing"
        );
        assert_eq!(v.event_reason, "deployment d1 failed");
        assert_eq!(
            Value::Object(v.output_values),
            json!({"result": "r", "errout": "bad thing", "deploy_stdout": "out", "deploy_stderr": null, "deploy_status_code": 3})
        );
        let ok = evaluate_signal(
            "d1",
            &outputs,
            &Map::new(),
            json!({"deploy_status_code": "0", "result": "r"})
                .as_object()
                .unwrap(),
        );
        assert_eq!(
            (ok.status, ok.reason.as_str()),
            ("COMPLETE", "Outputs received")
        );
        assert_eq!(ok.event_reason, "deployment d1 succeeded");
        let code = evaluate_signal(
            "d1",
            &json!([]),
            &Map::new(),
            json!({"deploy_status_code": 2}).as_object().unwrap(),
        );
        assert_eq!(code.event_reason, "deployment d1 failed (2)");
    }

    #[test]
    fn derived_inputs_follow_heat_order() {
        let declared = json!([
            {"name": "foo", "description": "", "type": "String", "default": ""},
            {"name": "bar", "description": "", "type": "String", "default": "dflt"}
        ]);
        let values = json!({"foo": "world", "extra": 42});
        let info = DeployInfo {
            server_id: "srv",
            action: "CREATE",
            stack_id: "s1/id".into(),
            resource_name: "dep",
            transport: "TEMP_URL_SIGNAL",
            signal_inputs: url_signal_inputs("http://x/sig".into(), "PUT"),
        };
        let inputs = derived_inputs(&declared, values.as_object().unwrap(), &info);
        let names: Vec<&str> = inputs.iter().map(|i| i["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "foo",
                "bar",
                "extra",
                "deploy_server_id",
                "deploy_action",
                "deploy_stack_id",
                "deploy_resource_name",
                "deploy_signal_transport",
                "deploy_signal_id",
                "deploy_signal_verb"
            ]
        );
        assert_eq!(
            inputs[0],
            json!({"name": "foo", "description": "", "type": "String", "default": "", "value": "world"})
        );
        assert_eq!(inputs[1]["value"], json!("dflt"));
        assert_eq!(
            inputs[2],
            json!({"name": "extra", "type": "String", "value": 42})
        );
        assert_eq!(inputs[9]["value"], json!("PUT"));
    }
}
