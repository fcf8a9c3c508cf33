//! Token check for the native API: `X-Auth-Token` must be the admin token.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, ApiState};
use crate::auth::admin_token;

/// Rejects requests without the admin token with 401.
pub async fn require_admin_token(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if presented.is_empty() || !admin_token::matches(&state.admin_token, presented) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "HTTPUnauthorized",
            "The request you have made requires authentication.",
        )
        .into_response();
    }
    next.run(request).await
}
