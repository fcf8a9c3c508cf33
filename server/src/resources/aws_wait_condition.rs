//! `AWS::CloudFormation::WaitConditionHandle` (and `OS::Heat::UpdateWaitConditionHandle`,
//! replaced on every stack update) and `AWS::CloudFormation::WaitCondition`.
//!
//! The handle's reference (`get_resource`/`Ref`) is a pre-signed `PUT /v1/waitcondition/<ARN>`
//! URL — what `cfn-signal` and a plain `curl -X PUT` are given. Signals must have exactly
//! `Status` (SUCCESS or FAILURE), `Reason`, `UniqueId` and `Data`; a null body is ignored.
//! They are kept as the native handle keeps its own, so one wait serves both.

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::auth::cfn_urls::{self, CfnEndpoint};
use crate::resources::heat::wait_condition::{clear_signals, wait_for_signals};
use crate::resources::heat::wait_condition_handle::record_signal;
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType, UpdateKind};
use crate::store::ResourceRow;

/// `AWS::CloudFormation::WaitConditionHandle`, or with `replace_on_update` the
/// `OS::Heat::UpdateWaitConditionHandle`.
pub struct AwsWaitConditionHandle {
    /// The type name.
    pub name: &'static str,
    /// Replaced on every stack update (a fresh URL, no old signals).
    pub replace_on_update: bool,
}

/// Reads an AWS signal body into the stored form (`status`, `reason`, `data` by id).
fn normalise(body: &Value) -> Result<Option<(String, Value)>, &'static str> {
    let signal = match body {
        Value::Null => return Ok(None),
        Value::Object(m) => m,
        _ => return Err("Metadata format invalid"),
    };
    let keys = ["Status", "Reason", "UniqueId", "Data"];
    if signal.len() != keys.len() || !keys.iter().all(|k| signal.contains_key(*k)) {
        return Err("Metadata format invalid");
    }
    let status = signal["Status"].as_str().unwrap_or_default();
    if status != "SUCCESS" && status != "FAILURE" {
        return Err("Metadata format invalid");
    }
    let id = match &signal["UniqueId"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(Some((
        id,
        json!({"status": status, "reason": signal["Reason"], "data": signal["Data"]}),
    )))
}

#[async_trait]
impl ResourceType for AwsWaitConditionHandle {
    fn type_name(&self) -> &'static str {
        self.name
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        &[]
    }
    fn attributes(&self) -> &'static [&'static str] {
        &[]
    }
    fn always_update(&self) -> bool {
        self.replace_on_update
    }
    fn update_kind(&self, _: &[String], _: &Value, _: &Map<String, Value>) -> UpdateKind {
        UpdateKind::Replace
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        _props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let store = &ctx.services.store;
        // A resumed create issues a fresh key; an interrupted attempt's key goes.
        store.revoke_credentials(&ctx.stack.id, ctx.name).await?;
        let url = cfn_urls::presigned_url(
            store,
            &ctx.services.temp_urls,
            CfnEndpoint::WaitCondition,
            &ctx.stack.project,
            &ctx.stack.name,
            &ctx.stack.id,
            ctx.name,
        )
        .await?;
        Ok(ResourceOutcome {
            physical_id: ctx.physical_name(),
            reference_id: Some(url),
            ..Default::default()
        })
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        _current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        ctx.services
            .store
            .revoke_credentials(&ctx.stack.id, ctx.name)
            .await?;
        Ok(())
    }
    async fn signal(
        &self,
        ctx: &ResourceContext<'_>,
        _current: &ResourceRow,
        body: Value,
    ) -> Result<String, ResourceError> {
        record_signal(ctx, |_| normalise(&body)).await
    }
}

/// `AWS::CloudFormation::WaitCondition`.
pub struct AwsWaitCondition;

const WAIT_SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("Handle", PropType::String)
        .required()
        .update_allowed(),
    PropertySchema::new("Timeout", PropType::Integer)
        .required()
        .range(Some(1), Some(43200))
        .update_allowed(),
    PropertySchema::new("Count", PropType::Integer)
        .default("1")
        .range(Some(1), None)
        .update_allowed(),
];

/// The handle a `Handle` URL names: `…/resources/<name>?…` of this stack.
fn handle_name(ctx: &ResourceContext<'_>, url: &str) -> Result<String, ResourceError> {
    let path = url.split('?').next().unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let invalid = || ResourceError::Failed(format!("WaitCondition invalid Handle {url}"));
    let (front, name) = decoded.rsplit_once("/resources/").ok_or_else(invalid)?;
    if !front.ends_with(&format!("/{}", ctx.stack.id)) || name.is_empty() || name.contains('/') {
        return Err(invalid());
    }
    Ok(name.to_string())
}

async fn aws_wait(
    ctx: &ResourceContext<'_>,
    props: &Map<String, Value>,
) -> Result<ResourceOutcome, ResourceError> {
    let url = props
        .get("Handle")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let handle = handle_name(ctx, url)?;
    let count = props.get("Count").and_then(Value::as_u64).unwrap_or(1) as usize;
    let timeout = props.get("Timeout").and_then(Value::as_f64).unwrap_or(1.0);
    let data = wait_for_signals(ctx, &handle, count, timeout).await?;
    let mut attributes = Map::new();
    attributes.insert("Data".into(), json!(Value::Object(data).to_string()));
    Ok(ResourceOutcome {
        physical_id: ctx.physical_name(),
        attributes,
        ..Default::default()
    })
}

#[async_trait]
impl ResourceType for AwsWaitCondition {
    fn type_name(&self) -> &'static str {
        "AWS::CloudFormation::WaitCondition"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        WAIT_SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["Data"]
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        aws_wait(ctx, props).await
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut outcome = aws_wait(ctx, props).await?;
        outcome.physical_id = current.physical_id.clone();
        Ok(outcome)
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        let url = current
            .properties
            .get("Handle")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match handle_name(ctx, url) {
            Ok(name) => clear_signals(ctx, &name).await,
            Err(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_signals_need_exactly_heats_keys() {
        let ok = json!({"Status": "SUCCESS", "Reason": "r", "UniqueId": "i1", "Data": "d"});
        let (id, entry) = normalise(&ok).unwrap().unwrap();
        assert_eq!(id, "i1");
        assert_eq!(
            entry,
            json!({"status": "SUCCESS", "reason": "r", "data": "d"})
        );
        assert_eq!(normalise(&Value::Null), Ok(None));
        assert!(normalise(&json!({"Status": "SUCCESS"})).is_err());
        assert!(
            normalise(&json!({"Status": "DONE", "Reason": "r", "UniqueId": "i", "Data": ""}))
                .is_err()
        );
    }
}
