//! The pre-signed CFN endpoints on our own listener: `PUT /v1/waitcondition/<ARN>` (AWS
//! wait condition handles: `cfn-signal`, `curl -X PUT`) and `POST /v1/signal/<ARN>`. The
//! EC2 signature is checked here (`auth/cfn_urls.rs`); the request may only signal the
//! resource its key belongs to. Answers in the CFN API's XML.

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::ApiState;
use crate::auth::cfn_urls::{self, CfnAuthError, CfnEndpoint};
use crate::engine::EngineError;

pub(super) fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    xml(
        status,
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>"
        ),
    )
}

pub(super) fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The CFN API's answer to a refused signature or key.
pub(super) fn auth_error(e: CfnAuthError) -> Response {
    let code = match e {
        CfnAuthError::BadSignature => "SignatureDoesNotMatch",
        CfnAuthError::Forbidden => "AccessDenied",
    };
    error(StatusCode::FORBIDDEN, code, &e.to_string())
}

/// The decoded `key=value` pairs of a query string or form body, in order.
pub(super) fn parse_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(kv), String::new()),
        })
        .collect()
}

async fn handle(
    state: ApiState,
    endpoint: CfnEndpoint,
    uri: OriginalUri,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let path = decode(uri.path());
    let params = parse_params(&query.unwrap_or_default());
    let services = state.engine.services();
    let target = match cfn_urls::verify(
        &services.store,
        &services.temp_urls,
        endpoint,
        host,
        &path,
        &params,
    )
    .await
    {
        Ok(t) => t,
        Err(e) => return auth_error(e),
    };
    // cfn-signal sends no Content-Type; the body is JSON (or empty).
    let details: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterValue",
                    "The request body is not JSON.",
                );
            }
        }
    };
    let stack = match services.store.stack(&target.stack_id).await {
        Ok(Some(s)) if s.deleted_at.is_none() => s,
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "ValidationError",
                "The Stack could not be found.",
            );
        }
    };
    match state
        .engine
        .signal_resource(&stack, &target.resource, details)
        .await
    {
        Ok(()) => xml(
            StatusCode::OK,
            format!("<resource>{}</resource>", target.resource),
        ),
        Err(EngineError::Store(e)) => {
            tracing::error!(error = %e, "a CFN signal could not be stored");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "internal error",
            )
        }
        Err(e) => error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            &e.to_string(),
        ),
    }
}

/// `PUT /v1/waitcondition/<ARN>`.
pub async fn waitcondition(
    State(state): State<ApiState>,
    uri: OriginalUri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, CfnEndpoint::WaitCondition, uri, query, headers, body).await
}

/// `POST /v1/signal/<ARN>`.
pub async fn signal(
    State(state): State<ApiState>,
    uri: OriginalUri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, CfnEndpoint::Signal, uri, query, headers, body).await
}
