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
mod openapi;
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
use axum::routing::{get, post, put};
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

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

/// The native API under `/v1/{project}`: each route comes with its OpenAPI description
/// from the handler's `#[utoipa::path]` (`api/openapi/`).
pub(crate) fn v1_routes() -> OpenApiRouter<ApiState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(stack_list::list, stacks::create))
        .routes(routes!(stack_list::detail))
        .routes(routes!(stack_updates::preview_create))
        .routes(routes!(stacks::redirect))
        .routes(routes!(
            stacks::show,
            stacks::update,
            stack_updates::patch,
            stacks::delete,
            stacks::post_redirect
        ))
        .routes(routes!(
            stack_updates::preview_put,
            stack_updates::preview_patch
        ))
        .routes(routes!(stacks::outputs))
        .routes(routes!(stacks::output))
        .routes(routes!(stacks::template))
        .routes(routes!(stacks::environment))
        .routes(routes!(stacks::files))
        .routes(routes!(actions::action))
        .routes(routes!(abandon::abandon))
        .routes(routes!(abandon::export))
        .routes(routes!(snapshots::list, snapshots::create))
        .routes(routes!(snapshots::show, snapshots::delete))
        .routes(routes!(snapshots::restore))
        .routes(routes!(resources::list))
        .routes(routes!(resources::show, actions::mark_unhealthy))
        .routes(routes!(resources::metadata))
        .routes(routes!(resources::signal))
        .routes(routes!(events::list))
        .routes(routes!(events::list_for_resource))
        .routes(routes!(events::show))
        .routes(routes!(validate::validate))
        .routes(routes!(resource_types::list))
        .routes(routes!(resource_types::show))
        .routes(routes!(resource_types::template))
        .routes(routes!(template_versions::list))
        .routes(routes!(template_versions::functions))
        .routes(routes!(service_info::build_info))
        .routes(routes!(service_info::services))
        .routes(routes!(software_configs::list, software_configs::create))
        .routes(routes!(software_configs::show, software_configs::delete))
        .routes(routes!(
            software_deployments::list,
            software_deployments::create
        ))
        .routes(routes!(
            software_deployments::show,
            software_deployments::update,
            software_deployments::delete
        ))
        .routes(routes!(software_deployments::server_metadata));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).nest("/v1/{project}", v1)
}

/// The whole HTTP application.
pub fn router(state: ApiState) -> Router {
    let (v1, _) = v1_routes().split_for_parts();
    let v1 = v1.layer(middleware::from_fn_with_state(
        state.clone(),
        auth::require_admin_token,
    ));
    let document = Arc::new(openapi::document_text());
    Router::new()
        .route("/", get(versions))
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        document.as_str().to_owned(),
                    )
                }
            }),
        )
        .merge(v1)
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
