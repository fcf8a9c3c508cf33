//! The CFN-compatible query API on our own listener, `GET|POST /v1/?Action=…`: what
//! in-guest agents use of it, `DescribeStackResource` (os-collect-config's `cfn` collector
//! for POLL_SERVER_CFN, cfn-init, cfn-hup). Requests are EC2 v2-signed with a resource's
//! access key and checked here (no Keystone, constant-time compare); a key may describe
//! only its own resource. Answers in XML unless the query says `ContentType=JSON`, as Heat.
//!
//! Unlike Heat 27 under its shipped policy (reference heat-wire-captures.md, finding 1),
//! a server's own key *is* allowed to read its metadata.

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ApiState;
use super::cfn_signal::{auth_error, decode, error, parse_params, xml};
use crate::auth::cfn_urls::{self, stack_arn};
use crate::store::{CredentialRow, StackRow};

/// Escapes text for an XML element, as Heat's serialiser does (`>` becomes `&gt;`).
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `GET|POST /v1/` (and `/v1`): dispatches on `Action`.
pub async fn query_api(
    State(state): State<ApiState>,
    method: Method,
    uri: OriginalUri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = parse_params(&query.unwrap_or_default());
    // AWS query clients may send the parameters as a form body instead.
    if method == Method::POST && !body.is_empty() {
        params.extend(parse_params(&String::from_utf8_lossy(&body)));
    }
    let json_wanted = param(&params, "ContentType") == Some("JSON");
    let action = param(&params, "Action").unwrap_or_default().to_string();
    if action != "DescribeStackResource" {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &xml_text(&format!(
                "The action or operation requested is invalid: {action:?}; this server serves DescribeStackResource"
            )),
        );
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let services = state.engine.services();
    let credential = match cfn_urls::verify_signature(
        &services.store,
        &services.temp_urls,
        method.as_str(),
        host,
        &decode(uri.path()),
        &params,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return auth_error(e),
    };
    describe_stack_resource(&state, &credential, &params, json_wanted).await
}

/// Whether `name` (a stack name, id or ARN) names `stack`.
fn names_stack(name: &str, stack: &StackRow) -> bool {
    name == stack.name
        || name == stack.id
        || name == stack_arn(&stack.project, &stack.name, &stack.id)
}

async fn describe_stack_resource(
    state: &ApiState,
    credential: &CredentialRow,
    params: &[(String, String)],
    json_wanted: bool,
) -> Response {
    let denied = || {
        error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "User is not authorized to perform action",
        )
    };
    let store = &state.engine.services().store;
    let (Some(stack_name), Some(logical)) = (
        param(params, "StackName"),
        param(params, "LogicalResourceId"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            "DescribeStackResource needs StackName and LogicalResourceId",
        );
    };
    let stack = match store.stack(&credential.stack_id).await {
        Ok(Some(s)) if s.deleted_at.is_none() => s,
        Ok(_) => return denied(),
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    // A key reads its own resource of its own stack, nothing else.
    if !names_stack(stack_name, &stack) || logical != credential.resource_name {
        tracing::warn!(access_key = %credential.id, "an access key asked for another resource");
        return denied();
    }
    let row = match store.resource(&stack.id, logical).await {
        Ok(Some(r)) => r,
        Ok(None) => return denied(),
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let metadata = if row.physical_id.is_empty() {
        None
    } else {
        match store.metadata(&row.physical_id).await {
            Ok(m) => m.map(|m| m.document),
            Err(e) => return super::ApiError::from(e).into_response(),
        }
    }
    .unwrap_or_else(|| json!({}));
    let fields: Vec<(&str, Value)> = vec![
        ("Description", json!("")),
        (
            "LastUpdatedTimestamp",
            json!(
                row.updated_at
                    .clone()
                    .unwrap_or_else(|| row.created_at.clone())
            ),
        ),
        ("LogicalResourceId", json!(row.name)),
        ("Metadata", metadata),
        ("PhysicalResourceId", json!(row.physical_id)),
        ("ResourceStatusReason", json!(row.status_reason)),
        ("ResourceType", json!(row.resource_type)),
        (
            "StackId",
            json!(stack_arn(&stack.project, &stack.name, &stack.id)),
        ),
        ("StackName", json!(stack.name)),
        (
            "ResourceStatus",
            json!(format!("{}_{}", row.action, row.status)),
        ),
    ];
    if json_wanted {
        let detail: serde_json::Map<String, Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        return (
            StatusCode::OK,
            axum::Json(json!({"DescribeStackResourceResponse": {"DescribeStackResourceResult": {"StackResourceDetail": detail}}})),
        )
            .into_response();
    }
    let mut out = String::from(
        "<DescribeStackResourceResponse><DescribeStackResourceResult><StackResourceDetail>",
    );
    for (key, value) in fields {
        // Metadata is JSON text inside its element; the others are plain strings.
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        out.push_str(&format!("<{key}>{}</{key}>", xml_text(&text)));
    }
    out.push_str(
        "</StackResourceDetail></DescribeStackResourceResult></DescribeStackResourceResponse>",
    );
    xml(StatusCode::OK, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_escapes_as_heat() {
        assert_eq!(
            xml_text("echo a > \"$b\" && <c>"),
            "echo a &gt; \"$b\" &amp;&amp; &lt;c&gt;"
        );
    }
}
