//! The `heat` collector (POLL_SERVER_HEAT), as os-collect-config does it (reference
//! heat-agents.md §1.5): Keystone v3 (version discovery at `auth_url`, falling back to
//! `auth_url` with `/v2.0` replaced by `/v3`), a password token for the server's user id
//! scoped to its project id, the catalog's public `orchestration` endpoint (in
//! `region_name` when set), then
//!
//! ```text
//! GET <orchestration>/stacks/<stack_id>/resources/<resource_name>/metadata
//! X-Auth-Token: <token>
//! ```
//!
//! whose body is `{"metadata": {...}}`. Unlike upstream (three requests every poll), the
//! token is kept until shortly before it expires and renewed at once on a 401. A bare
//! `stack_id` (no `name/`) is resolved once through `GET <orchestration>/stacks/<id>`'s
//! redirect, as heatclient does. Change detection compares the document with the last one.

use reqwest::header::{ACCEPT, LOCATION};
use reqwest::{StatusCode, Url};
use serde_json::Value;

use super::settings::HeatSettings;
use super::{Change, FetchError, LastDocument, REQUEST_TIMEOUT};
use crate::http;
use crate::keystone::{Credentials, Discovery, Session, service_url};
use crate::redact::{redact_url, redact_url_str};

/// The catalog service type of Heat's API.
pub const ORCHESTRATION: &str = "orchestration";

fn endpoint_url<'a>(
    endpoint: &Url,
    segments: impl IntoIterator<Item = &'a str>,
) -> Result<Url, FetchError> {
    service_url(endpoint, segments).ok_or_else(|| {
        FetchError::InvalidUrl("the orchestration endpoint is not a base URL".into())
    })
}

/// The metadata URL of `resource` in `stack_id` (`name/id`: two segments).
pub fn metadata_url(endpoint: &Url, stack_id: &str, resource: &str) -> Result<Url, FetchError> {
    let segments = std::iter::once("stacks").chain(stack_id.split('/')).chain([
        "resources",
        resource,
        "metadata",
    ]);
    endpoint_url(endpoint, segments)
}

/// Polls one server resource's metadata through the native API.
pub struct HeatCollector {
    client: reqwest::Client,
    session: Session,
    stack_id: String,
    resource_name: String,
    region: Option<String>,
    last: LastDocument,
}

impl std::fmt::Debug for HeatCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeatCollector")
            .field(
                "auth_url",
                &redact_url_str(&self.session.credentials().auth_url),
            )
            .field("stack_id", &self.stack_id)
            .field("resource_name", &self.resource_name)
            .finish_non_exhaustive()
    }
}

impl HeatCollector {
    /// A collector for `settings`.
    pub fn new(client: reqwest::Client, settings: &HeatSettings) -> Result<Self, FetchError> {
        Url::parse(&settings.auth_url).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        let creds = Credentials {
            auth_url: settings.auth_url.clone(),
            user_id: settings.user_id.clone(),
            password: settings.password.clone(),
            project_id: settings.project_id.clone(),
        };
        Ok(HeatCollector {
            session: Session::new(client.clone(), creds, Discovery::Discover),
            client,
            stack_id: settings.stack_id.clone(),
            resource_name: settings.resource_name.clone(),
            region: settings.region_name.clone(),
            last: LastDocument::default(),
        })
    }

    /// What it polls, as it may be shown.
    pub fn shown_url(&self) -> String {
        format!(
            "{} (stack {}, resource {})",
            redact_url_str(&self.session.credentials().auth_url),
            self.stack_id,
            self.resource_name
        )
    }

    /// `name/id` for a bare stack id, from the `Location` of `GET <endpoint>/stacks/<id>`.
    async fn resolve_stack(&self, endpoint: &Url, token: &str) -> Result<String, FetchError> {
        let url = endpoint_url(endpoint, ["stacks", self.stack_id.as_str()])?;
        let shown = redact_url(&url);
        let client = http::client_without_redirects().map_err(|e| FetchError::Unreachable {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
        let response = client
            .get(url)
            .header("X-Auth-Token", token)
            .header(ACCEPT, "application/json")
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|err| FetchError::Unreachable {
                url: shown.clone(),
                reason: http::describe(&err),
            })?;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.split_once("/stacks/").map(|(_, rest)| rest.to_string()))
            .filter(|rest| rest.contains('/'));
        location.ok_or_else(|| FetchError::Reply {
            url: shown,
            reason: format!(
                "HTTP {} without a stack location for the bare stack id",
                response.status()
            ),
        })
    }

    /// Fetches the document (re-authenticating once on a 401).
    pub async fn fetch(&mut self) -> Result<Change, FetchError> {
        let mut renewed = false;
        loop {
            let token = self.session.token().await?;
            let endpoint = token.endpoint(ORCHESTRATION, self.region.as_deref())?;
            let token = token.id().expose().to_string();
            if !self.stack_id.contains('/') {
                self.stack_id = self.resolve_stack(&endpoint, &token).await?;
            }
            let url = metadata_url(&endpoint, &self.stack_id, &self.resource_name)?;
            let shown = redact_url(&url);
            let response = self
                .client
                .get(url)
                .header("X-Auth-Token", &token)
                .header(ACCEPT, "application/json")
                .timeout(REQUEST_TIMEOUT)
                .send()
                .await
                .map_err(|err| FetchError::Unreachable {
                    url: shown.clone(),
                    reason: http::describe(&err),
                })?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !renewed {
                tracing::info!(url = %shown, "token refused; authenticating again");
                self.session.invalidate();
                renewed = true;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status { url: shown, status });
            }
            let body: Value = response.json().await.map_err(|err| FetchError::Body {
                url: shown.clone(),
                reason: http::describe(&err),
            })?;
            let Some(metadata) = body.get("metadata").cloned() else {
                return Err(FetchError::Reply {
                    url: shown,
                    reason: "no `metadata` key".into(),
                });
            };
            return self.last.compare(metadata, &shown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_keep_the_stack_slash_and_encode_names() {
        let ep = Url::parse("http://h:8004/v1/proj").unwrap();
        assert_eq!(
            metadata_url(&ep, "s/123", "server").unwrap().as_str(),
            "http://h:8004/v1/proj/stacks/s/123/resources/server/metadata"
        );
        let slash = Url::parse("http://h:8004/v1/proj/").unwrap();
        assert_eq!(
            metadata_url(&slash, "s/1", "my server").unwrap().as_str(),
            "http://h:8004/v1/proj/stacks/s/1/resources/my%20server/metadata"
        );
    }
}
