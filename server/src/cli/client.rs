//! The HTTP side of the client CLI: one authenticated client for an Updraft (or Heat)
//! native API endpoint, Heat's name-only redirects followed with the same method and body
//! (as heatclient does), and errors shown with the server's `error.message` and a hint.

use std::fmt;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::config::Connection;

/// How many 302 hops a request may take (name → canonical path is one).
const MAX_REDIRECTS: usize = 5;

/// An authenticated client for one endpoint (`http://host:8004/v1/<project>`).
pub struct Client {
    http: reqwest::Client,
    /// The endpoint, without a trailing slash.
    pub endpoint: String,
    token: String,
}

/// A failed request, as the user should see it: what the server said and what to try.
#[derive(Debug)]
pub struct ApiFailure {
    /// The HTTP status, when there was an answer.
    pub status: Option<StatusCode>,
    /// The server's `error.message` (or the best text available).
    pub message: String,
    /// What to try next, if anything useful can be said.
    pub hint: Option<String>,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} (HTTP {})", self.message, s.as_u16())?,
            None => write!(f, "{}", self.message)?,
        }
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}

impl ApiFailure {
    /// Whether the server answered 404.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(StatusCode::NOT_FOUND)
    }
}

/// The message and hint for an error answer: Heat's body carries `error.message`.
pub fn failure_from_body(status: StatusCode, body: &str, endpoint: &str) -> ApiFailure {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let message = json["error"]["message"]
        .as_str()
        .filter(|m| !m.is_empty())
        .or_else(|| json["explanation"].as_str())
        .or_else(|| json["title"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            let text = body.trim();
            if text.is_empty() || text.len() > 500 {
                status.canonical_reason().unwrap_or("error").to_string()
            } else {
                text.to_string()
            }
        });
    let hint = match status {
        StatusCode::UNAUTHORIZED => Some(
            "authentication failed: check UPDRAFT_TOKEN / OS_TOKEN (--token), or OS_PASSWORD \
             and the other OS_* settings"
                .to_string(),
        ),
        StatusCode::FORBIDDEN => Some(format!(
            "the token is not allowed here: check the project in the URL ({endpoint})"
        )),
        _ if status.is_server_error() => Some("see the server's log for details".to_string()),
        _ => None,
    };
    ApiFailure {
        status: Some(status),
        message,
        hint,
    }
}

/// The message and hint when no answer came (connection refused, timeout, bad URL).
fn failure_from_transport(e: &reqwest::Error, endpoint: &str) -> ApiFailure {
    let hint = if e.is_connect() {
        Some(format!(
            "is the server running at {endpoint}? (set --url / UPDRAFT_URL)"
        ))
    } else if e.is_timeout() {
        Some(format!("the server at {endpoint} did not answer in time"))
    } else {
        None
    };
    // The error's own text names the URL, never the token.
    let mut message = format!("cannot reach {endpoint}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    ApiFailure {
        status: None,
        message,
        hint,
    }
}

impl Client {
    /// A client for `connection` (token and endpoint already resolved).
    pub fn new(connection: Connection) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("updraft-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            endpoint: connection.url.trim_end_matches('/').to_string(),
            token: connection.token,
        })
    }

    /// `endpoint + path`, `path` starting with `/` (or a full URL, from a `Location`).
    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.endpoint, path)
        }
    }

    /// Sends a request; a 302 is followed with the same method and body. Returns the
    /// body as JSON (`null` when empty or not JSON).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiFailure> {
        let mut url = self.url(path);
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("X-Auth-Token", &self.token)
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            tracing::debug!(%method, %url, "request");
            let resp = req
                .send()
                .await
                .map_err(|e| failure_from_transport(&e, &self.endpoint))?;
            let status = resp.status();
            if status == StatusCode::FOUND
                && let Some(loc) = resp.headers().get("location").and_then(|v| v.to_str().ok())
            {
                url = self.url(loc);
                continue;
            }
            let text = resp
                .text()
                .await
                .map_err(|e| failure_from_transport(&e, &self.endpoint))?;
            if !status.is_success() {
                return Err(failure_from_body(status, &text, &self.endpoint));
            }
            return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
        }
        Err(ApiFailure {
            status: None,
            message: format!("too many redirects from {path}"),
            hint: None,
        })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Value, ApiFailure> {
        self.request(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiFailure> {
        self.request(Method::POST, path, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<Value, ApiFailure> {
        self.request(Method::DELETE, path, None).await
    }

    /// The canonical path `/stacks/<name>/<id>` of a stack given by name or id, and the
    /// stack (outputs not resolved).
    pub async fn stack(&self, name_or_id: &str) -> Result<(String, Value), ApiFailure> {
        let body = self
            .get(&format!(
                "/stacks/{}?resolve_outputs=false",
                encode(name_or_id)
            ))
            .await?;
        let stack = body["stack"].clone();
        let path = format!(
            "/stacks/{}/{}",
            encode(stack["stack_name"].as_str().unwrap_or(name_or_id)),
            encode(stack["id"].as_str().unwrap_or_default())
        );
        Ok((path, stack))
    }
}

/// Percent-encodes one path segment.
pub fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%5F", "_")
        .replace("%2E", ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_message_is_shown_with_a_hint() {
        let body = r#"{"code": 404, "title": "Not Found", "explanation": "The resource could not be found.",
            "error": {"type": "EntityNotFound", "traceback": null, "message": "The Stack (s1) could not be found."}}"#;
        let f = failure_from_body(StatusCode::NOT_FOUND, body, "http://h/v1/p");
        assert_eq!(
            f.to_string(),
            "The Stack (s1) could not be found. (HTTP 404)"
        );
        assert!(f.is_not_found());
        let f = failure_from_body(StatusCode::UNAUTHORIZED, "", "http://h/v1/p");
        assert!(f.to_string().contains("hint: authentication failed"), "{f}");
        let f = failure_from_body(StatusCode::BAD_REQUEST, "plain words", "e");
        assert_eq!(f.message, "plain words");
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode("my-stack_1.x"), "my-stack_1.x");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
    }
}
