//! `GET /build_info` and `GET /services` (admin): what is running.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{ApiError, ApiState};
use crate::store::now_millis;

/// `GET /build_info`: `{"api": {"revision"}, "engine": {"revision"}}`, both this build's
/// version (API and engine are one binary).
#[utoipa::path(get, path = "/build_info", tag = "service", responses((status = 200, description = "Revisions", body = crate::api::openapi::schemas::BuildInfo), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn build_info() -> Json<Value> {
    let revision = concat!("updraft ", env!("CARGO_PKG_VERSION"));
    Json(json!({"api": {"revision": revision}, "engine": {"revision": revision}}))
}

/// `GET /services`: every server process that reported in, `up` while its reports are
/// recent (within two report intervals, at least 10 s), as Heat's `service-list`.
#[utoipa::path(get, path = "/services", tag = "service", responses((status = 200, description = "Engine processes (admins)", body = crate::api::openapi::schemas::ServiceList), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 403, description = "Not allowed", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn services(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let rows = state.engine.services().store.services().await?;
    let now = now_millis();
    let list: Vec<Value> = rows
        .iter()
        .map(|s| {
            let fresh_ms = (2 * s.report_interval * 1000).max(10_000);
            let status = if now - s.updated_millis <= fresh_ms {
                "up"
            } else {
                "down"
            };
            json!({
                "id": s.engine_id,
                "binary": "heat-engine",
                "engine_id": s.engine_id,
                "host": s.node_id,
                "hostname": s.hostname,
                "topic": "engine",
                "report_interval": s.report_interval,
                "created_at": s.created_at,
                "updated_at": s.updated_at,
                "deleted_at": null,
                "status": status,
            })
        })
        .collect();
    Ok(Json(json!({"services": list})))
}
