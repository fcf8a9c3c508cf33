//! A recording HTTP server for the agent's golden wire tests (not our server): it answers
//! every request with a responder closure and records method, path, raw query, headers
//! and body. Bound to 127.0.0.1 on an ephemeral port.

#![allow(dead_code, clippy::unwrap_used)]

pub mod occ_guest;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method.
    pub method: Method,
    /// The path, as sent (percent-encoded).
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Recorded {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The query's pairs, decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let url = reqwest::Url::parse(&format!(
            "http://x/?{}",
            self.query.as_deref().unwrap_or_default()
        ))
        .unwrap();
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

type Responder = Arc<dyn Fn(&Recorded) -> Response + Send + Sync>;

#[derive(Clone)]
struct Shared {
    log: Arc<Mutex<Vec<Recorded>>>,
    respond: Responder,
}

/// A running recorder.
pub struct Recorder {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// `127.0.0.1:<port>`.
    pub host: String,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    /// Starts a recorder answering with `respond`.
    pub async fn start(respond: impl Fn(&Recorded) -> Response + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            log: log.clone(),
            respond: Arc::new(respond),
        };
        let app = Router::new().fallback(handle).with_state(shared);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Recorder {
            base: format!("http://{host}"),
            host,
            log,
        }
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
}

async fn handle(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let recorded = Recorded {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
    };
    let response = (shared.respond)(&recorded);
    shared.log.lock().unwrap().push(recorded);
    response
}

/// A response with `status`, `headers` and `body`.
pub fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<Body>) -> Response {
    let mut builder = Response::builder().status(status);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(body.into()).unwrap()
}

/// A JSON response.
pub fn json_reply(status: u16, headers: &[(&str, &str)], body: &serde_json::Value) -> Response {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    reply(status, &all, body.to_string())
}
