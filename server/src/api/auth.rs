//! Authentication of the native API: `X-Auth-Token` is the admin token, or a per-resource
//! credential — a resource token (`udr1.…`, wait condition handles) or a stack user's
//! token from `/v3/auth/tokens` (`udk1.…`, the HEAT transports) — that may only act on its
//! own resource: signal it, read its metadata, and for a server read its deployments.
//! Anything else is 401; a resource credential outside its scope is 403 and changes nothing.
//! Project users (`auth/users.rs`) are admitted by `project_users`.

mod project_users;

use axum::extract::{OriginalUri, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, ApiState};
use crate::auth::users::Caller;
use crate::auth::{admin_token, resource_credentials, stack_users};
use crate::store::CredentialRow;

pub(super) fn unauthorized() -> Response {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "HTTPUnauthorized",
        "The request you have made requires authentication.",
    )
    .into_response()
}

pub(super) fn forbidden() -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        "You are not authorized to complete this action.",
    )
    .into_response()
}

/// What a resource credential may do with a request.
#[derive(Debug, PartialEq, Eq)]
enum Scope {
    /// Within its scope.
    Allowed,
    /// Only if its resource's physical id is this server id
    /// (`GET /software_deployments/metadata/<server id>`).
    IfServer(String),
    /// Outside it.
    Denied,
}

/// Whether a resource credential may make this request: `POST …/resources/<its
/// resource>/signal` or `GET …/resources/<its resource>/metadata` of its own stack
/// (`/v1/<project>/stacks/<name>/<id>/…`), or its server's deployments.
fn scope(credential: &CredentialRow, method: &Method, path: &str) -> Scope {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let allowed = match segments.as_slice() {
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
        [
            "v1",
            project,
            "stacks",
            _name,
            id,
            "resources",
            resource,
            "metadata",
        ] => {
            method == Method::GET
                && *project == credential.project
                && *id == credential.stack_id
                && *resource == credential.resource_name
        }
        ["v1", project, "software_deployments", "metadata", server_id]
            if method == Method::GET && *project == credential.project =>
        {
            return Scope::IfServer((*server_id).to_string());
        }
        _ => false,
    };
    if allowed {
        Scope::Allowed
    } else {
        Scope::Denied
    }
}

/// `/v1/<project>/<rest>` split into the project and the rest (with its leading `/`).
fn split_path(path: &str) -> (&str, &str) {
    let tail = path.strip_prefix("/v1/").unwrap_or_default();
    match tail.find('/') {
        Some(i) => (&tail[..i], &tail[i..]),
        None => (tail, ""),
    }
}

/// Admits the admin token everywhere, a project user (token or `X-Auth-User`/`X-Auth-Key`)
/// within its project and role, and a resource credential within its scope; puts the
/// `Caller` into the request's extensions.
pub async fn require_admin_token(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (path, query) = match request.extensions().get::<OriginalUri>() {
        Some(u) => (u.path().to_string(), u.query().map(str::to_string)),
        None => (
            request.uri().path().to_string(),
            request.uri().query().map(str::to_string),
        ),
    };
    let (path_project, rest) = split_path(&path);
    if !presented.is_empty() && admin_token::matches(&state.admin_token, &presented) {
        request.extensions_mut().insert(Caller {
            project: path_project.to_string(),
            user: "admin".into(),
            roles: vec!["admin".into()],
            is_admin: true,
        });
        return next.run(request).await;
    }
    match project_users::authenticate(&state, request.headers(), &presented, path_project).await {
        Ok(Some(principal)) => {
            return match project_users::authorise(
                &principal,
                path_project,
                request.method(),
                rest,
                query.as_deref(),
            ) {
                Some(caller) => {
                    request.extensions_mut().insert(caller);
                    next.run(request).await
                }
                None => forbidden(),
            };
        }
        Ok(None) => {}
        Err(response) => return response,
    }
    if presented.is_empty() {
        return unauthorized();
    }
    let services = state.engine.services();
    let store = &services.store;
    let verified = if resource_credentials::is_resource_token(&presented) {
        resource_credentials::verify(store, &presented).await
    } else if stack_users::is_token(&presented) {
        stack_users::verify_token(store, &services.temp_urls, &presented)
            .await
            .map(|t| t.map(|t| t.user))
    } else {
        return unauthorized();
    };
    let credential = match verified {
        Ok(Some(c)) => c,
        Ok(None) => return unauthorized(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let allowed = match scope(&credential, request.method(), &path) {
        Scope::Allowed => true,
        Scope::Denied => false,
        Scope::IfServer(server_id) => {
            match store
                .resource(&credential.stack_id, &credential.resource_name)
                .await
            {
                Ok(row) => row.is_some_and(|r| r.physical_id == server_id),
                Err(e) => return ApiError::from(e).into_response(),
            }
        }
    };
    if !allowed {
        tracing::warn!(credential = %credential.id, method = %request.method(), path, "a resource credential was used outside its scope");
        return forbidden();
    }
    request.extensions_mut().insert(Caller {
        project: credential.project.clone(),
        user: credential.id.clone(),
        roles: vec!["heat_stack_user".into()],
        is_admin: false,
    });
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
        let get = Method::GET;
        let allowed = |m: &Method, p: &str| scope(&c, m, p) == Scope::Allowed;
        assert!(allowed(&post, "/v1/p/stacks/s/sid/resources/handle/signal"));
        assert!(allowed(
            &get,
            "/v1/p/stacks/s/sid/resources/handle/metadata"
        ));
        assert!(!allowed(&get, "/v1/p/stacks/s/sid/resources/handle/signal"));
        assert!(!allowed(
            &post,
            "/v1/p/stacks/s/sid/resources/handle/metadata"
        ));
        assert!(!allowed(&post, "/v1/p/stacks/s/sid/resources/other/signal"));
        assert!(!allowed(
            &get,
            "/v1/p/stacks/s/sid/resources/other/metadata"
        ));
        assert!(!allowed(
            &post,
            "/v1/p/stacks/s/other/resources/handle/signal"
        ));
        assert!(!allowed(
            &post,
            "/v1/q/stacks/s/sid/resources/handle/signal"
        ));
        assert!(!allowed(&get, "/v1/p/stacks"));
        assert_eq!(
            scope(&c, &get, "/v1/p/software_deployments/metadata/srv"),
            Scope::IfServer("srv".into())
        );
        assert_eq!(
            scope(&c, &get, "/v1/q/software_deployments/metadata/srv"),
            Scope::Denied
        );
    }
}
