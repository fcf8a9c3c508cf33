//! HTTP: the Heat-compatible native API under `/v1/{project}`, and the capability URLs
//! under `/temp_url/v1`. Handlers parse, authorise and call the engine; nothing else.

mod abandon;
mod actions;
mod auth;
mod cfn_api;
mod cfn_signal;
mod error;
mod events;
mod format;
mod identity;
mod query;
mod request_conventions;
mod resource_types;
mod resources;
mod service_info;
mod snapshots;
mod software_configs;
mod software_deployments;
mod stack_list;
mod stack_updates;
mod stacks;
mod temp_url;
mod template_versions;
mod validate;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{delete, get, post, put};
use tower_http::limit::RequestBodyLimitLayer;

pub use error::ApiError;

use crate::engine::Engine;

/// Heat's `max_json_body_size`.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// State shared by the handlers.
#[derive(Clone)]
pub struct ApiState {
    /// The engine.
    pub engine: Engine,
    /// The admin token every `/v1` request must carry.
    pub admin_token: Arc<String>,
    /// Users' tokens and the password brute-force limit.
    pub identity: Arc<crate::auth::users::Identity>,
}

/// The whole HTTP application.
pub fn router(state: ApiState) -> Router {
    let v1 = Router::new()
        .route("/stacks", get(stack_list::list).post(stacks::create))
        .route("/stacks/detail", get(stack_list::detail))
        .route("/stacks/preview", post(stack_updates::preview_create))
        .route(
            "/stacks/{stack}",
            get(stacks::redirect)
                .put(stacks::redirect)
                .patch(stacks::redirect)
                .delete(stacks::redirect)
                .post(stacks::redirect),
        )
        .route(
            "/stacks/{stack}/{id}",
            get(stacks::show)
                .put(stacks::update)
                .patch(stack_updates::patch)
                .delete(stacks::delete)
                .post(stacks::post_redirect),
        )
        .route(
            "/stacks/{stack}/{id}/preview",
            put(stack_updates::preview_put).patch(stack_updates::preview_patch),
        )
        .route("/stacks/{stack}/{id}/outputs", get(stacks::outputs))
        .route("/stacks/{stack}/{id}/outputs/{key}", get(stacks::output))
        .route("/stacks/{stack}/{id}/template", get(stacks::template))
        .route("/stacks/{stack}/{id}/environment", get(stacks::environment))
        .route("/stacks/{stack}/{id}/files", get(stacks::files))
        .route("/stacks/{stack}/{id}/resources", get(resources::list))
        .route(
            "/stacks/{stack}/{id}/resources/{resource}",
            get(resources::show).patch(actions::mark_unhealthy),
        )
        .route("/stacks/{stack}/{id}/actions", post(actions::action))
        .route(
            "/stacks/{stack}/{id}/resources/{resource}/metadata",
            get(resources::metadata),
        )
        .route(
            "/stacks/{stack}/{id}/resources/{resource}/signal",
            post(resources::signal),
        )
        .route("/stacks/{stack}/{id}/events", get(events::list))
        // Snapshots.
        .route(
            "/stacks/{stack}/{id}/snapshots",
            get(snapshots::list).post(snapshots::create),
        )
        .route(
            "/stacks/{stack}/{id}/snapshots/{snapshot}",
            get(snapshots::show).delete(snapshots::delete),
        )
        .route(
            "/stacks/{stack}/{id}/snapshots/{snapshot}/restore",
            post(snapshots::restore),
        )
        // Abandon and export (behind `--enable-stack-abandon`).
        .route("/stacks/{stack}/{id}/abandon", delete(abandon::abandon))
        .route("/stacks/{stack}/{id}/export", get(abandon::export))
        .route("/validate", post(validate::validate))
        .route("/resource_types", get(resource_types::list))
        .route("/resource_types/{type}", get(resource_types::show))
        .route("/template_versions", get(template_versions::list))
        .route(
            "/template_versions/{version}/functions",
            get(template_versions::functions),
        )
        .route("/build_info", get(service_info::build_info))
        .route("/services", get(service_info::services))
        .route(
            "/software_configs",
            get(software_configs::list).post(software_configs::create),
        )
        .route(
            "/software_configs/{config_id}",
            get(software_configs::show).delete(software_configs::delete),
        )
        .route(
            "/software_deployments",
            get(software_deployments::list).post(software_deployments::create),
        )
        .route(
            "/software_deployments/{deployment_id}",
            get(software_deployments::show)
                .put(software_deployments::update)
                .delete(software_deployments::delete),
        )
        .route(
            "/software_deployments/metadata/{server_id}",
            get(software_deployments::server_metadata),
        )
        .route(
            "/stacks/{stack}/{id}/resources/{resource}/events",
            get(events::list_for_resource),
        )
        .route(
            "/stacks/{stack}/{id}/resources/{resource}/events/{event}",
            get(events::show),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin_token,
        ));
    Router::new()
        .route("/", get(versions))
        .nest("/v1/{project}", v1)
        .route("/v1", get(cfn_api::query_api).post(cfn_api::query_api))
        .route("/v1/", get(cfn_api::query_api).post(cfn_api::query_api))
        .route("/v3", get(identity::version))
        .route("/v3/", get(identity::version))
        .route(
            "/v3/auth/tokens",
            post(identity::issue_token)
                .get(identity::validate_token)
                .delete(identity::revoke_token),
        )
        .route("/v1/waitcondition/{*arn}", put(cfn_signal::waitcondition))
        .route("/v1/signal/{*arn}", post(cfn_signal::signal))
        .route("/temp_url/v1/metadata/{server_id}", get(temp_url::metadata))
        .route("/temp_url/v1/signal/{deployment_id}", put(temp_url::signal))
        .route(
            "/temp_url/v1/alarm/{resource_id}",
            post(temp_url::alarm).put(temp_url::alarm),
        )
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(request_conventions::apply))
        .with_state(state)
}

async fn versions(headers: axum::http::HeaderMap) -> (StatusCode, axum::Json<serde_json::Value>) {
    let base = format::base_url(&headers);
    (
        StatusCode::MULTIPLE_CHOICES,
        axum::Json(serde_json::json!({"versions": [{
            "id": "v1.0", "status": "CURRENT",
            "links": [{"rel": "self", "href": format!("{base}/v1/")}],
        }]})),
    )
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "HTTPNotFound",
        "The resource could not be found.",
    )
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod shape_tests;
