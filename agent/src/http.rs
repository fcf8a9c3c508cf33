//! The agent's HTTP client and how its errors are described without leaking URLs.

use std::error::Error as _;
use std::time::Duration;

/// Timeout for establishing a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Failure to set up the HTTP client (TLS backend initialisation).
#[derive(Debug, thiserror::Error)]
#[error("cannot initialise the HTTP client: {0}")]
pub struct ClientError(String);

/// The shared client: rustls, connect timeout, an agent user agent. Per-request timeouts
/// are set by the callers.
pub fn client() -> Result<reqwest::Client, ClientError> {
    build(builder())
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("updraft-agent/", env!("CARGO_PKG_VERSION")))
}

fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, ClientError> {
    builder.build().map_err(|err| ClientError(describe(&err)))
}

/// A one-phrase reason for a failed request that never includes the URL (reqwest's own
/// message does, query string and all): "timed out", or the innermost cause such as
/// "Connection refused (os error 111)".
pub fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_string();
    }
    let mut root: Option<&dyn std::error::Error> = err.source();
    while let Some(next) = root.and_then(|e| e.source()) {
        root = Some(next);
    }
    match root {
        Some(root) => root.to_string(),
        None if err.is_connect() => "connection failed".to_string(),
        None if err.is_body() || err.is_decode() => "cannot read the response body".to_string(),
        None => "request failed".to_string(),
    }
}

/// [`client`] that does not follow redirects (to read a `Location`).
pub fn client_without_redirects() -> Result<reqwest::Client, ClientError> {
    build(builder().redirect(reqwest::redirect::Policy::none()))
}

/// [`client`] accepting any TLS certificate (`cfn-signal -k`).
pub fn client_accepting_any_certificate() -> Result<reqwest::Client, ClientError> {
    build(builder().danger_accept_invalid_certs(true))
}
