//! The Keystone v3 subset at `/v3` that in-guest agents need for the HEAT transports
//! (os-collect-config's `heat` collector, heat-config-notify's HEAT_SIGNAL): version
//! discovery, `POST /v3/auth/tokens` with the password method (user id + password, scoped
//! to a project id) or the token method, `GET /v3/auth/tokens` validation, and a catalog
//! naming our own listener as the `orchestration` and `cloudformation` endpoints. The users
//! are the per-resource stack users (`auth/stack_users.rs`); a token works only within its
//! resource's scope (`api/auth.rs`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::Digest;

use super::ApiState;
use crate::auth::stack_users::{self, REGION, TOKEN_LIFETIME, VerifiedToken};
use crate::store::CredentialRow;

fn keystone_error(status: StatusCode, title: &str, message: &str) -> Response {
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

/// `GET /v3`: the version document keystoneclient's discovery reads.
pub async fn version(State(state): State<ApiState>) -> Json<Value> {
    let base = state.engine.services().temp_urls.base().to_string();
    Json(json!({"version": version_document(&base)}))
}

fn timestamp(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S.000000Z")
        .to_string()
}

fn endpoint(service: &str, url: String) -> Value {
    json!({
        "id": hex::encode(&sha2::Sha256::digest(url.as_bytes())[..16]),
        "interface": "public",
        "region": REGION,
        "region_id": REGION,
        "url": url,
        "service": service,
    })
}

fn token_body(base: &str, user: &CredentialRow, expires_at: i64, method: &str) -> Value {
    let domain = json!({"id": "default", "name": "Default"});
    let service = |kind: &str, name: &str, url: String| {
        let mut e = endpoint(kind, url);
        if let Some(m) = e.as_object_mut() {
            m.remove("service");
        }
        json!({"type": kind, "name": name, "id": hex::encode(&sha2::Sha256::digest(kind.as_bytes())[..16]), "endpoints": [e]})
    };
    json!({"token": {
        "methods": [method],
        "user": {"id": user.id, "name": user.resource_name, "domain": domain, "password_expires_at": null},
        "project": {"id": user.project, "name": user.project, "domain": domain},
        "roles": [{"id": "heat_stack_user", "name": "heat_stack_user"}],
        "is_domain": false,
        "audit_ids": [uuid::Uuid::new_v4().simple().to_string()],
        "issued_at": timestamp(chrono::Utc::now().timestamp()),
        "expires_at": timestamp(expires_at),
        "catalog": [
            service("orchestration", "heat", format!("{base}/v1/{}", user.project)),
            service("cloudformation", "heat-cfn", format!("{base}/v1")),
            service("identity", "keystone", format!("{base}/v3")),
        ],
    }})
}

fn with_subject_token(mut response: Response, token: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(token) {
        response.headers_mut().insert("x-subject-token", v);
    }
    response
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
    let services = state.engine.services();
    let (store, urls) = (&services.store, &services.temp_urls);
    let (user, method) = if methods.contains(&"password") {
        let user = &identity["password"]["user"];
        let (Some(id), Some(password)) = (user["id"].as_str(), user["password"].as_str()) else {
            // Users by name live in the identity of a later version; stack users have ids.
            return unauthorized();
        };
        match stack_users::authenticate(store, urls, id, password).await {
            Ok(Some(u)) => (u, "password"),
            Ok(None) => {
                tracing::info!(user_id = id, "password authentication failed");
                return unauthorized();
            }
            Err(e) => return super::ApiError::from(e).into_response(),
        }
    } else if methods.contains(&"token") {
        let Some(token) = identity["token"]["id"].as_str() else {
            return bad_request("Expecting to find id in token.");
        };
        match stack_users::verify_token(store, urls, token).await {
            Ok(Some(VerifiedToken { user, .. })) => (user, "token"),
            Ok(None) => return unauthorized(),
            Err(e) => return super::ApiError::from(e).into_response(),
        }
    } else {
        return bad_request("Expecting to find identity methods password or token.");
    };
    // A scope, when given, must be the user's own project.
    if let Some(project) = request["auth"]["scope"]["project"]["id"].as_str()
        && project != user.project
    {
        return unauthorized();
    }
    let expires_at = chrono::Utc::now().timestamp() + TOKEN_LIFETIME.as_secs() as i64;
    let token = stack_users::issue_token(urls, &user.id, expires_at);
    let body = token_body(urls.base(), &user, expires_at, method);
    with_subject_token((StatusCode::CREATED, Json(body)).into_response(), &token)
}

/// `GET /v3/auth/tokens`: validates `X-Subject-Token` for a caller holding `X-Auth-Token`.
pub async fn validate_token(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let services = state.engine.services();
    let (store, urls) = (&services.store, &services.temp_urls);
    let caller = header("x-auth-token");
    let admin = crate::auth::admin_token::matches(&state.admin_token, &caller);
    if !admin
        && !matches!(
            stack_users::verify_token(store, urls, &caller).await,
            Ok(Some(_))
        )
    {
        return unauthorized();
    }
    let subject = header("x-subject-token");
    match stack_users::verify_token(store, urls, &subject).await {
        Ok(Some(t)) => with_subject_token(
            Json(token_body(urls.base(), &t.user, t.expires_at, "password")).into_response(),
            &subject,
        ),
        Ok(None) => keystone_error(StatusCode::NOT_FOUND, "Not Found", "Could not find token."),
        Err(e) => super::ApiError::from(e).into_response(),
    }
}
