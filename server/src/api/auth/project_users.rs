//! Project users on `/v1/{project}`: a user token (`udu1.…`) or Heat's password mode
//! (`X-Auth-User` + `X-Auth-Key`, optionally `X-Auth-Url`, which is ignored: we are the
//! identity service). A user acts only on its own project unless it has the admin role;
//! readers only read; admin-only endpoints (`/services`, `global_tenant=true`) need admin.

use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};

use super::super::{ApiError, ApiState, identity};
use crate::auth::users::{self, Attempt, Caller, Principal, Role, UserRef};

/// Why a user's request is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Another project's path.
    OtherProject,
    /// A reader writing.
    ReadOnly,
    /// An admin-only endpoint.
    AdminOnly,
}

/// Whether `role` of `own_project` may make this request to `/v1/<path_project>/<rest>`.
pub fn check(
    role: Role,
    own_project: &str,
    path_project: &str,
    method: &Method,
    rest: &str,
    query: Option<&str>,
) -> Result<(), Refusal> {
    if role == Role::Admin {
        return Ok(());
    }
    if path_project != own_project {
        return Err(Refusal::OtherProject);
    }
    let admin_only = rest.trim_matches('/') == "services"
        || query.is_some_and(|q| {
            q.split('&').any(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                k == "global_tenant"
                    && matches!(
                        v.to_ascii_lowercase().as_str(),
                        "true" | "1" | "yes" | "on" | "t" | "y"
                    )
            })
        });
    if admin_only {
        return Err(Refusal::AdminOnly);
    }
    if role == Role::Reader && !matches!(*method, Method::GET | Method::HEAD) {
        return Err(Refusal::ReadOnly);
    }
    Ok(())
}

/// The caller of a user-token or password-mode request, or the response refusing it:
/// `Ok(None)` when the request carries neither.
pub async fn authenticate(
    state: &ApiState,
    headers: &HeaderMap,
    token: &str,
    path_project: &str,
) -> Result<Option<Principal>, Response> {
    let store = &state.engine.services().store;
    if users::is_token(token) {
        return match users::verify_token(store, token).await {
            Ok(Some((p, _))) => Ok(Some(p)),
            Ok(None) => Err(super::unauthorized()),
            Err(e) => Err(ApiError::from(e).into_response()),
        };
    }
    if !token.is_empty() {
        return Ok(None);
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(name), Some(password)) = (header("x-auth-user"), header("x-auth-key")) else {
        return Ok(None);
    };
    // The path names the project (by id) the user belongs to; fall back to the name alone
    // for an admin user of another project.
    let in_project = match store.user_by_name(path_project, name).await {
        Ok(found) => found.is_some(),
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    let who = UserRef::Name(name, in_project.then_some(path_project));
    match users::authenticate(store, &state.identity, who, password).await {
        Ok(Attempt::Authenticated(p)) => Ok(Some(*p)),
        Ok(Attempt::Failed) => {
            tracing::info!(user = name, "X-Auth-User authentication failed");
            Err(super::unauthorized())
        }
        Ok(Attempt::LockedOut) => {
            tracing::warn!(
                user = name,
                "X-Auth-User authentication refused: locked out"
            );
            Err(identity::locked_out())
        }
        Err(users::IdentityError::Store(e)) => Err(ApiError::from(e).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "X-Auth-User authentication failed");
            Err(super::unauthorized())
        }
    }
}

/// The caller, or `None` (403) when `principal` may not make this request.
pub fn authorise(
    principal: &Principal,
    path_project: &str,
    method: &Method,
    rest: &str,
    query: Option<&str>,
) -> Option<Caller> {
    match check(
        principal.role,
        &principal.project.id,
        path_project,
        method,
        rest,
        query,
    ) {
        Ok(()) => Some(principal.caller()),
        Err(refusal) => {
            tracing::info!(user = %principal.user.id, ?refusal, %method, path_project, "a user request was refused");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_projects() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(
            check(Role::Member, "a", "a", &post, "/stacks", None),
            Ok(())
        );
        assert_eq!(
            check(Role::Member, "a", "b", &get, "/stacks", None),
            Err(Refusal::OtherProject)
        );
        assert_eq!(check(Role::Admin, "a", "b", &post, "/stacks", None), Ok(()));
        assert_eq!(check(Role::Reader, "a", "a", &get, "/stacks", None), Ok(()));
        assert_eq!(
            check(Role::Reader, "a", "a", &Method::DELETE, "/stacks/s/i", None),
            Err(Refusal::ReadOnly)
        );
        assert_eq!(
            check(Role::Member, "a", "a", &get, "/services", None),
            Err(Refusal::AdminOnly)
        );
        assert_eq!(
            check(
                Role::Member,
                "a",
                "a",
                &get,
                "/stacks",
                Some("global_tenant=True")
            ),
            Err(Refusal::AdminOnly)
        );
        assert_eq!(
            check(
                Role::Member,
                "a",
                "a",
                &get,
                "/stacks",
                Some("global_tenant=false")
            ),
            Ok(())
        );
        assert_eq!(
            check(Role::Admin, "a", "a", &get, "/services", None),
            Ok(())
        );
    }
}
