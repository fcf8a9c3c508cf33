//! The one mapping from errors to HTTP: Heat's error body
//! `{"code", "title", "explanation", "error": {"type", "message", "traceback"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::engine::EngineError;
use crate::store::StoreError;
use crate::template::{TemplateError, TemplateErrors};

/// An API error as the client sees it.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Heat's exception class name.
    pub error_type: String,
    /// The message heatclient prints.
    pub message: String,
}

impl ApiError {
    /// An error with an explicit status, type and message.
    pub fn new(status: StatusCode, error_type: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_type: error_type.to_string(),
            message: message.into(),
        }
    }

    /// 400 `HTTPBadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "HTTPBadRequest", message)
    }

    /// The same error with another Heat exception type.
    pub fn with_type(mut self, error_type: &str) -> Self {
        self.error_type = error_type.to_string();
        self
    }

    /// 404 with Heat's `EntityNotFound` wording for a stack.
    pub fn stack_not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "EntityNotFound",
            format!("The Stack ({name}) could not be found."),
        )
    }
}

/// webob's stock title and explanation for a status.
fn title_and_explanation(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => (
            "Bad Request",
            "The server could not comply with the request since it is either malformed or otherwise incorrect.",
        ),
        401 => (
            "Unauthorized",
            "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.",
        ),
        403 => ("Forbidden", "Access was denied to this resource."),
        404 => ("Not Found", "The resource could not be found."),
        405 => (
            "Method Not Allowed",
            "The method is not allowed for this resource.",
        ),
        409 => (
            "Conflict",
            "There was a conflict when trying to complete your request.",
        ),
        413 => (
            "Request Entity Too Large",
            "The body of your request was too large for this server.",
        ),
        _ => (
            "Internal Server Error",
            "The server has either erred or is incapable of performing the requested operation.",
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (title, explanation) = title_and_explanation(self.status);
        let body = json!({
            "code": self.status.as_u16(),
            "title": title,
            "explanation": explanation,
            "error": {"type": self.error_type, "traceback": null, "message": self.message},
        });
        (self.status, Json(body)).into_response()
    }
}

impl From<TemplateError> for ApiError {
    fn from(e: TemplateError) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, e.kind.heat_type(), e.to_string())
    }
}

impl From<TemplateErrors> for ApiError {
    /// One error keeps its own type and message (as Heat); several are joined with
    /// newlines under `StackValidationFailed` unless they are all of one kind.
    fn from(e: TemplateErrors) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, e.heat_type(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage error while serving a request");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "The server could not read or write its database.",
        )
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Template(t) => t.into(),
            EngineError::Store(s) => s.into(),
            EngineError::NotFound(t, m) => ApiError::new(StatusCode::NOT_FOUND, t, m),
            EngineError::Conflict(t, m) => ApiError::new(StatusCode::CONFLICT, t, m),
            EngineError::BadRequest(t, m) => ApiError::new(StatusCode::BAD_REQUEST, t, m),
        }
    }
}
