//! Authentication of the native API: `X-Auth-Token` is the admin token, or a per-resource
//! credential that may only act on its own resource (signal it). Anything else is 401;
//! a resource credential outside its scope is 403 and changes nothing.

use axum::extract::{OriginalUri, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, ApiState};
use crate::auth::{admin_token, resource_credentials};
use crate::store::CredentialRow;

fn unauthorized() -> Response {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "HTTPUnauthorized",
        "The request you have made requires authentication.",
    )
    .into_response()
}

fn forbidden() -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        "You are not authorized to complete this action.",
    )
    .into_response()
}

/// Whether a resource credential may make this request: `POST
/// /v1/<project>/stacks/<name>/<id>/resources/<its resource>/signal` of its own stack.
fn in_scope(credential: &CredentialRow, method: &Method, path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        [
            "v1",
            project,
            "stacks",
            _name,
            id,
            "resources",
            resource,
            "signal",
        ] => {
            method == Method::POST
                && *project == credential.project
                && *id == credential.stack_id
                && *resource == credential.resource_name
        }
        _ => false,
    }
}

/// Admits the admin token everywhere and a resource credential within its scope.
pub async fn require_admin_token(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if presented.is_empty() {
        return unauthorized();
    }
    if admin_token::matches(&state.admin_token, &presented) {
        return next.run(request).await;
    }
    if !resource_credentials::is_resource_token(&presented) {
        return unauthorized();
    }
    let store = &state.engine.services().store;
    let credential = match resource_credentials::verify(store, &presented).await {
        Ok(Some(c)) => c,
        Ok(None) => return unauthorized(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.path().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    if !in_scope(&credential, request.method(), &path) {
        tracing::warn!(credential = %credential.id, method = %request.method(), path, "a resource credential was used outside its scope");
        return forbidden();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_credential_reaches_only_its_own_signal() {
        let c = CredentialRow {
            id: "c".into(),
            project: "p".into(),
            stack_id: "sid".into(),
            resource_name: "handle".into(),
            secret_hash: String::new(),
            revoked: false,
            disabled: false,
        };
        let post = Method::POST;
        assert!(in_scope(
            &c,
            &post,
            "/v1/p/stacks/s/sid/resources/handle/signal"
        ));
        assert!(!in_scope(
            &c,
            &Method::GET,
            "/v1/p/stacks/s/sid/resources/handle/signal"
        ));
        assert!(!in_scope(
            &c,
            &post,
            "/v1/p/stacks/s/sid/resources/other/signal"
        ));
        assert!(!in_scope(
            &c,
            &post,
            "/v1/p/stacks/s/other/resources/handle/signal"
        ));
        assert!(!in_scope(
            &c,
            &post,
            "/v1/q/stacks/s/sid/resources/handle/signal"
        ));
        assert!(!in_scope(&c, &Method::GET, "/v1/p/stacks"));
    }
}
