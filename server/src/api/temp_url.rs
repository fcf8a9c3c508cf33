//! Capability URLs: metadata for POLL_TEMP_URL servers (GET/HEAD, ETag, Last-Modified once
//! a change has settled, long-poll with `If-None-Match` + `Prefer: wait=N`) and signals for
//! TEMP_URL_SIGNAL deployments (PUT) and alarms for resources such as scaling policies
//! (POST). A wrong or missing signature is a 403 and changes nothing.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::stacks::json_body;
use super::{ApiError, ApiState};
use crate::auth::temp_url::{ALARM_PREFIX, METADATA_PREFIX, SIGNAL_PREFIX};
use crate::store::MetadataRow;

/// Longest long-poll a client may ask for.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// The signature query parameter.
#[derive(Debug, Deserialize)]
pub struct Signature {
    temp_url_sig: Option<String>,
}

fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        "The temp URL signature is missing or invalid.",
    )
}

fn check(state: &ApiState, method: &str, path: &str, sig: &Signature) -> Result<(), ApiError> {
    match &sig.temp_url_sig {
        Some(s) if state.engine.services().temp_urls.verify(method, path, s) => Ok(()),
        _ => Err(forbidden()),
    }
}

fn etag(row: &MetadataRow) -> String {
    format!(
        "\"{}-{}\"",
        row.version,
        &row.server_id[..row.server_id.len().min(8)]
    )
}

/// `Prefer: wait=N` (RFC 7240), capped.
fn requested_wait(headers: &HeaderMap) -> Option<Duration> {
    let prefer = headers.get("prefer")?.to_str().ok()?;
    prefer
        .split(',')
        .filter_map(|p| p.trim().strip_prefix("wait="))
        .filter_map(|n| n.trim().parse::<u64>().ok())
        .map(|n| Duration::from_secs(n).min(MAX_WAIT))
        .next()
}

fn document_response(row: &MetadataRow, long_poll: bool) -> Response {
    let mut response = (StatusCode::OK, axum::Json(row.document.clone())).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag(row)) {
        h.insert(header::ETAG, v);
    }
    if let Some(v) = last_modified(row, std::time::SystemTime::now()) {
        h.insert(header::LAST_MODIFIED, v);
    }
    if long_poll {
        h.insert("preference-applied", HeaderValue::from_static("wait"));
    }
    response
}

/// How long after the second a document changed in it is served without `Last-Modified`.
///
/// The stock request collector HEADs first and fetches only when `Last-Modified` is newer
/// than the one it last fetched. The header has whole seconds, so a change made in the
/// second the client already saw would never be fetched. Until that second is over (and
/// one more, for another node's clock) no date is given, and a client always fetches.
const LAST_MODIFIED_SETTLE: Duration = Duration::from_secs(2);

fn last_modified(row: &MetadataRow, now: std::time::SystemTime) -> Option<HeaderValue> {
    let t = chrono::DateTime::parse_from_rfc3339(&row.updated_at).ok()?;
    // Stored timestamps have whole seconds; the header names that second.
    let second: std::time::SystemTime = t.with_timezone(&chrono::Utc).into();
    if now < second + LAST_MODIFIED_SETTLE {
        return None;
    }
    HeaderValue::from_str(&httpdate::fmt_http_date(second)).ok()
}

/// `GET|HEAD /temp_url/v1/metadata/{server_id}?temp_url_sig=…`.
pub async fn metadata(
    State(state): State<ApiState>,
    Path(server_id): Path<String>,
    Query(sig): Query<Signature>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // HEAD (the stock request collector's first call) is served by this GET route.
    check(
        &state,
        "GET",
        &format!("{METADATA_PREFIX}{server_id}"),
        &sig,
    )?;
    let services = state.engine.services();
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The server's metadata could not be found.",
        )
    };
    // Subscribe before reading, so a change between the read and the wait is not missed.
    let mut changes = services.notifier.watch_metadata(&server_id);
    let row = services
        .store
        .metadata(&server_id)
        .await?
        .ok_or_else(not_found)?;
    let client_tag = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Preference-Applied tells a long-polling client that this server honours `wait`, so it
    // may poll again at once, whether this answer waited or not.
    let wait = requested_wait(&headers);
    let Some(client_tag) = client_tag.filter(|t| *t == etag(&row)) else {
        return Ok(document_response(&row, wait.is_some()));
    };
    if let Some(wait) = wait {
        changes.mark_unchanged();
        if let Ok(Ok(())) = tokio::time::timeout(wait, changes.changed()).await {
            let row = services
                .store
                .metadata(&server_id)
                .await?
                .ok_or_else(not_found)?;
            if etag(&row) != client_tag {
                return Ok(document_response(&row, true));
            }
        }
    }
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(v) = HeaderValue::from_str(&client_tag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    if wait.is_some() {
        response
            .headers_mut()
            .insert("preference-applied", HeaderValue::from_static("wait"));
    }
    Ok(response)
}

/// `PUT /temp_url/v1/signal/{deployment_id}?temp_url_sig=…`: 201, as Swift answers a PUT.
pub async fn signal(
    State(state): State<ApiState>,
    Path(deployment_id): Path<String>,
    Query(sig): Query<Signature>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    check(
        &state,
        "PUT",
        &format!("{SIGNAL_PREFIX}{deployment_id}"),
        &sig,
    )?;
    let body = json_body(&body)?;
    state
        .engine
        .signal_deployment(&deployment_id, Value::Object(body))
        .await?;
    Ok(StatusCode::CREATED)
}

/// `POST /temp_url/v1/alarm/{resource_id}?temp_url_sig=…`: the resource with that physical
/// id is signalled as by the native API (200 `null`; 404 once it is gone). `PUT` with a
/// PUT-signed URL does the same: a TEMP_URL_SIGNAL wait condition handle's `alarm_url`,
/// where a client PUTs its signal as it would to a Swift object.
pub async fn alarm(
    State(state): State<ApiState>,
    method: axum::http::Method,
    Path(resource_id): Path<String>,
    Query(sig): Query<Signature>,
    body: Bytes,
) -> Result<axum::Json<Value>, ApiError> {
    check(
        &state,
        method.as_str(),
        &format!("{ALARM_PREFIX}{resource_id}"),
        &sig,
    )?;
    let body = json_body(&body)?;
    let store = &state.engine.services().store;
    let gone = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The resource could not be found.",
        )
    };
    let row = store
        .resource_by_physical_id(&resource_id)
        .await?
        .ok_or_else(gone)?;
    let stack = store
        .stack(&row.stack_id)
        .await?
        .filter(|s| s.deleted_at.is_none())
        .ok_or_else(gone)?;
    state
        .engine
        .signal_resource(&stack, &row.name, Value::Object(body))
        .await?;
    Ok(axum::Json(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(updated_at: &str) -> MetadataRow {
        MetadataRow {
            server_id: "s".into(),
            project: "p".into(),
            document: Value::Null,
            version: 1,
            updated_at: updated_at.into(),
        }
    }

    fn at(rfc3339: &str) -> std::time::SystemTime {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .expect("test time")
            .with_timezone(&chrono::Utc)
            .into()
    }

    #[test]
    fn last_modified_waits_until_its_second_cannot_change_again() {
        let changed = row("2026-12-02T07:08:10Z");
        // The same second and the next: another change could still carry this date.
        assert_eq!(
            last_modified(&changed, at("2026-12-02T07:08:10.900Z")),
            None
        );
        assert_eq!(
            last_modified(&changed, at("2026-12-02T07:08:11.999Z")),
            None
        );
        assert_eq!(
            last_modified(&changed, at("2026-12-02T07:08:12Z")),
            Some(HeaderValue::from_static("Wed, 02 Dec 2026 07:08:10 GMT"))
        );
        assert_eq!(
            last_modified(&row("not a time"), at("2026-12-02T08:00:00Z")),
            None
        );
    }
}
