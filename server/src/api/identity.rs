//! The Keystone v3 subset at `/v3`: version discovery, `POST /v3/auth/tokens` (password
//! method by user name or id, token method; scoped by project id or name), `GET` to
//! validate `X-Subject-Token` and `DELETE` to revoke it, and a catalog naming our own
//! listener as the `orchestration`, `cloudformation` and `identity` endpoints.
//!
//! Two kinds of users answer here: project users (`updraft admin user create`,
//! `auth/users.rs`), whose tokens are stored as hashes and may be revoked, and the
//! per-resource stack users of the HEAT transports (`auth/stack_users.rs`), whose tokens
//! work only within their resource's scope (`api/auth.rs`).

mod body;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::ApiState;
use crate::auth::stack_users::{self, TOKEN_LIFETIME, VerifiedToken};
use crate::auth::users::{self, Attempt, Principal, UserRef};
use body::{Subject, token_body};

/// A Keystone-style error: `{"error": {"code", "title", "message"}}`.
pub(super) fn keystone_error(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "title": title, "message": message}})),
    )
        .into_response()
}

fn unauthorized() -> Response {
    keystone_error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "The request you have made requires authentication.",
    )
}

/// 429 while a user name is locked out after too many failed passwords.
pub(super) fn locked_out() -> Response {
    keystone_error(
        StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests",
        "Too many failed authentication attempts; try again later.",
    )
}

fn bad_request(message: &str) -> Response {
    keystone_error(StatusCode::BAD_REQUEST, "Bad Request", message)
}

fn version_document(base: &str) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    })
}

/// `GET /v3`: the version document keystoneauth's discovery reads.
pub async fn version(State(state): State<ApiState>) -> Json<Value> {
    let base = state.engine.services().temp_urls.base().to_string();
    Json(json!({"version": version_document(&base)}))
}

fn with_subject_token(mut response: Response, token: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(token) {
        response.headers_mut().insert("x-subject-token", v);
    }
    response
}

/// The project a request's `scope` names: `Ok(None)` when unscoped, `Err` when it names a
/// project that does not exist.
async fn scoped_project(state: &ApiState, scope: &Value) -> Result<Option<String>, Response> {
    let project = &scope["project"];
    if let Some(id) = project["id"].as_str() {
        return Ok(Some(id.to_string()));
    }
    let Some(name) = project["name"].as_str() else {
        return Ok(None);
    };
    match state.engine.services().store.project_by_name(name).await {
        Ok(Some(p)) => Ok(Some(p.id)),
        Ok(None) => Err(unauthorized()),
        Err(e) => Err(super::ApiError::from(e).into_response()),
    }
}

/// Who a token request authenticated.
enum Authenticated {
    User(Box<Principal>),
    StackUser(stack_users::VerifiedToken),
}

async fn by_password(
    state: &ApiState,
    identity: &Value,
    scope: Option<&str>,
) -> Result<Authenticated, Response> {
    let services = state.engine.services();
    let (store, urls) = (&services.store, &services.temp_urls);
    let user = &identity["password"]["user"];
    let Some(password) = user["password"].as_str() else {
        return Err(bad_request("Expecting to find password in user."));
    };
    let who = if let Some(id) = user["id"].as_str() {
        // Stack users have ids only; a project user may also be named by id.
        match store.user_by_id(id).await {
            Ok(Some(_)) => UserRef::Id(id),
            Ok(None) => {
                return match stack_users::authenticate(store, urls, id, password).await {
                    Ok(Some(user)) => Ok(Authenticated::StackUser(VerifiedToken {
                        user,
                        expires_at: chrono::Utc::now().timestamp()
                            + TOKEN_LIFETIME.as_secs() as i64,
                    })),
                    Ok(None) => {
                        tracing::info!(user_id = id, "password authentication failed");
                        Err(unauthorized())
                    }
                    Err(e) => Err(super::ApiError::from(e).into_response()),
                };
            }
            Err(e) => return Err(super::ApiError::from(e).into_response()),
        }
    } else if let Some(name) = user["name"].as_str() {
        UserRef::Name(name, scope)
    } else {
        return Err(bad_request("Expecting to find id or name in user."));
    };
    match users::authenticate(store, &state.identity, who, password).await {
        Ok(Attempt::Authenticated(p)) => Ok(Authenticated::User(p)),
        Ok(Attempt::Failed) => {
            tracing::info!(user = ?who, "password authentication failed");
            Err(unauthorized())
        }
        Ok(Attempt::LockedOut) => {
            tracing::warn!(user = ?who, "password authentication refused: locked out");
            Err(locked_out())
        }
        Err(users::IdentityError::Store(e)) => Err(super::ApiError::from(e).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "password authentication failed");
            Err(super::ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Password verification failed.",
            )
            .into_response())
        }
    }
}

async fn by_token(state: &ApiState, token: &str) -> Result<Authenticated, Response> {
    let services = state.engine.services();
    let (store, urls) = (&services.store, &services.temp_urls);
    let found = if users::is_token(token) {
        users::verify_token(store, token)
            .await
            .map(|t| t.map(|(p, _)| Authenticated::User(Box::new(p))))
    } else {
        stack_users::verify_token(store, urls, token)
            .await
            .map(|t| t.map(Authenticated::StackUser))
    };
    match found {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(unauthorized()),
        Err(e) => Err(super::ApiError::from(e).into_response()),
    }
}

/// `POST /v3/auth/tokens`.
pub async fn issue_token(State(state): State<ApiState>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("The request body is not JSON.");
    };
    let identity = &request["auth"]["identity"];
    let methods: Vec<&str> = identity["methods"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let scope = match scoped_project(&state, &request["auth"]["scope"]).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let (authenticated, method) = if methods.contains(&"password") {
        (
            by_password(&state, identity, scope.as_deref()).await,
            "password",
        )
    } else if methods.contains(&"token") {
        let Some(token) = identity["token"]["id"].as_str() else {
            return bad_request("Expecting to find id in token.");
        };
        (by_token(&state, token).await, "token")
    } else {
        return bad_request("Expecting to find identity methods password or token.");
    };
    let authenticated = match authenticated {
        Ok(a) => a,
        Err(response) => return response,
    };
    let services = state.engine.services();
    let (store, urls) = (&services.store, &services.temp_urls);
    let (subject, token, expires_at) = match authenticated {
        Authenticated::User(principal) => {
            // A scope, when given, must be the user's own project; unscoped means that one.
            if scope.as_ref().is_some_and(|s| *s != principal.project.id) {
                return unauthorized();
            }
            match users::issue_token(store, &state.identity, &principal).await {
                Ok((token, expires_at)) => (Subject::user(&principal), token, expires_at),
                Err(e) => return super::ApiError::from(e).into_response(),
            }
        }
        Authenticated::StackUser(VerifiedToken { user, .. }) => {
            if scope.as_ref().is_some_and(|s| *s != user.project) {
                return unauthorized();
            }
            let expires_at = chrono::Utc::now().timestamp() + TOKEN_LIFETIME.as_secs() as i64;
            let token = stack_users::issue_token(urls, &user.id, expires_at);
            (Subject::stack_user(&user), token, expires_at)
        }
    };
    let body = token_body(urls.base(), &subject, expires_at, method);
    with_subject_token((StatusCode::CREATED, Json(body)).into_response(), &token)
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Whether `X-Auth-Token` is the admin token or any live token.
async fn caller_is_authenticated(state: &ApiState, headers: &HeaderMap) -> bool {
    let caller = header(headers, "x-auth-token");
    if caller.is_empty() {
        return false;
    }
    crate::auth::admin_token::matches(&state.admin_token, &caller)
        || by_token(state, &caller).await.is_ok()
}

/// `GET /v3/auth/tokens`: validates `X-Subject-Token` for a caller holding `X-Auth-Token`.
pub async fn validate_token(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    if !caller_is_authenticated(&state, &headers).await {
        return unauthorized();
    }
    let subject = header(&headers, "x-subject-token");
    let services = state.engine.services();
    let (store, urls) = (&services.store, &services.temp_urls);
    let found = if users::is_token(&subject) {
        users::verify_token(store, &subject)
            .await
            .map(|t| t.map(|(p, expires_at)| (Subject::user(&p), expires_at)))
    } else {
        stack_users::verify_token(store, urls, &subject)
            .await
            .map(|t| t.map(|t| (Subject::stack_user(&t.user), t.expires_at)))
    };
    match found {
        Ok(Some((who, expires_at))) => with_subject_token(
            Json(token_body(urls.base(), &who, expires_at, "password")).into_response(),
            &subject,
        ),
        Ok(None) => keystone_error(StatusCode::NOT_FOUND, "Not Found", "Could not find token."),
        Err(e) => super::ApiError::from(e).into_response(),
    }
}

/// `DELETE /v3/auth/tokens`: revokes the project user's token `X-Subject-Token` (204).
pub async fn revoke_token(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    if !caller_is_authenticated(&state, &headers).await {
        return unauthorized();
    }
    let subject = header(&headers, "x-subject-token");
    match users::revoke_token(&state.engine.services().store, &subject).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => keystone_error(StatusCode::NOT_FOUND, "Not Found", "Could not find token."),
        Err(e) => super::ApiError::from(e).into_response(),
    }
}
