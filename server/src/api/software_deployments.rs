//! The software-deployments API: `GET /software_deployments/metadata/{server_id}`, the
//! derived configs of every deployment to a server (what Heat's `deployments` metadata key
//! holds), readable by the admin and by that server's own stack user.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::{ApiError, ApiState};
use crate::engine::server_metadata::format_config;

/// `GET /v1/{project}/software_deployments/metadata/{server_id}`: `{"metadata": [...]}`,
/// sorted by config name as in the server's metadata.
pub async fn server_metadata(
    State(state): State<ApiState>,
    Path((project, server_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let configs = state
        .engine
        .services()
        .store
        .server_deployment_configs(&server_id)
        .await?;
    let metadata: Vec<Value> = configs
        .iter()
        .filter(|c| c.project == project)
        .map(format_config)
        .collect();
    Ok(Json(json!({"metadata": metadata})))
}
