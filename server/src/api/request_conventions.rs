//! What every response shares, as Heat's WSGI stack does it: an `x-openstack-request-id`
//! (also on the request's log span, so a client's report finds the server's lines),
//! `OPTIONS` answered 204 with the path's `Allow` methods, and a method the path does not
//! take answered 405 with Heat's error body (axum's own 405 has none).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::ApiError;

/// The response header naming the request.
pub const REQUEST_ID_HEADER: &str = "x-openstack-request-id";

/// The middleware (outermost layer of the router).
pub async fn apply(request: Request, next: Next) -> Response {
    let request_id = format!("req-{}", uuid::Uuid::new_v4());
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %request.uri().path(),
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED && !is_json(&response) {
        let allow = response.headers().get(header::ALLOW).cloned();
        response = if method == Method::OPTIONS {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NO_CONTENT;
            r
        } else {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "HTTPMethodNotAllowed",
                format!("The method {method} is not allowed for this resource."),
            )
            .into_response()
        };
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    span.in_scope(|| {
        tracing::debug!(status = response.status().as_u16(), "request served");
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
