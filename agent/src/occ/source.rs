//! The collectors os-collect-config runs, in `collectors` order, each answering with
//! keys and values or with [`SourceError`] (skipped: not configured quietly, unavailable
//! with a warning). `ec2`, `local`, `heat_local` live in [`crate::collectors`]; `cfn`,
//! `heat` and `request` use the agent's wire code ([`crate::collectors::cfn`]'s signing
//! and XML reading, [`crate::keystone`]'s session, [`crate::collectors::heat`]'s URL) but
//! keep the whole document, which os-collect-config caches, where the agent's own
//! collectors keep only its deployments.
//!
//! Differences from upstream, all fixes: the heat collector keeps its Keystone token
//! across polls (upstream authenticates three requests every poll, §1.7 Q8); every cfn
//! path is signed on its own (Q7); a `request` URL whose `Last-Modified` did not advance
//! answers with the values it last collected (upstream reports it unavailable, so the keys
//! drop out of `OS_CONFIG_FILES` when another source changes, Q5); `zaqar` is accepted in
//! the list but not implemented: it is always skipped as not configured (logged at debug),
//! even when `[zaqar]` is set.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LAST_MODIFIED};
use serde_json::{Map, Value};

use super::cache::Cache;
pub use super::merger::Collected;
use super::merger::explode;
use super::options::Options;
use crate::collectors::cfn::{CfnCollector, CfnPath, field_text, url_from_hint};
use crate::collectors::heat::{ORCHESTRATION, metadata_url};
use crate::collectors::{CfnSettings, ec2, heat_local, local};
use crate::http;
use crate::keystone::{Credentials, Discovery, Session};
use crate::redact::redact_url_str;

/// Why a collector gave nothing this pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// It lacks settings (logged at debug, as upstream).
    #[error("not configured: {0}")]
    NotConfigured(String),
    /// It could not get its data (logged as `Source [x] Unavailable.`).
    #[error("unavailable: {0}")]
    NotAvailable(String),
}

fn secs(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.max(0.0)).unwrap_or(Duration::from_secs(10))
}

/// The collectors and what they remember between passes.
pub struct Sources {
    client: reqwest::Client,
    cfn_client: Option<reqwest::Client>,
    heat: Option<Session>,
    request_last_modified: Option<std::time::SystemTime>,
    request_last: Option<Vec<Collected>>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources").finish_non_exhaustive()
    }
}

impl Sources {
    /// Collectors sending with `client`.
    pub fn new(client: reqwest::Client) -> Self {
        Sources {
            client,
            cfn_client: None,
            heat: None,
            request_last_modified: None,
            request_last: None,
        }
    }

    /// Runs the collector `name`.
    pub async fn collect(
        &mut self,
        name: &str,
        options: &Options,
        cache: &Cache,
    ) -> Result<Vec<Collected>, SourceError> {
        match name {
            "heat_local" => {
                let paths = options.heat_local_path.clone();
                blocking(move || heat_local::collect(&paths)).await
            }
            "local" => {
                let paths = options.local_path.clone();
                blocking(move || local::collect(&paths, current_uid())).await
            }
            "ec2" => {
                let cached = cache.load(ec2::NAME);
                let timeout = secs(options.ec2_timeout);
                ec2::collect(&self.client, cached, &options.ec2_metadata_url, timeout).await
            }
            "cfn" => self.cfn(options).await,
            "heat" => self.heat(options).await,
            "request" => self.request(options).await,
            "zaqar" => zaqar(),
            other => Err(SourceError::NotConfigured(format!(
                "unknown collector {other}"
            ))),
        }
    }

    async fn cfn(&mut self, options: &Options) -> Result<Vec<Collected>, SourceError> {
        let cfn = &options.cfn;
        let not_configured = |what: &str| {
            tracing::info!("cfn: no {what} configured");
            SourceError::NotConfigured(format!("no cfn {what}"))
        };
        let url = match &cfn.metadata_url {
            Some(url) => url.clone(),
            None => {
                let hint = cfn
                    .heat_metadata_hint
                    .as_ref()
                    .ok_or_else(|| not_configured("metadata_url"))?;
                let text =
                    std::fs::read_to_string(hint).map_err(|_| not_configured("metadata_url"))?;
                url_from_hint(&text)
            }
        };
        let access_key_id = cfn
            .access_key_id
            .clone()
            .ok_or_else(|| not_configured("access_key_id"))?;
        let secret = cfn
            .secret_access_key
            .clone()
            .ok_or_else(|| not_configured("secret_access_key"))?;
        let paths = cfn.path.clone().ok_or_else(|| not_configured("path"))?;
        let stack_name = cfn
            .stack_name
            .clone()
            .ok_or_else(|| not_configured("stack_name"))?;
        let settings = CfnSettings {
            metadata_url: url.clone(),
            access_key_id,
            secret_access_key: secret,
            stack_name,
            path: paths.clone(),
        };
        let client = self.cfn_client(options)?;
        let signer = CfnCollector::new(client.clone(), &settings).map_err(|e| {
            tracing::error!("cfn: {e}");
            SourceError::NotConfigured(e.to_string())
        })?;
        let shown = redact_url_str(&url);
        let unavailable = |reason: String| {
            tracing::warn!(url = %shown, "cfn: {reason}");
            SourceError::NotAvailable(format!("{shown}: {reason}"))
        };
        let mut merged = Map::new();
        for text in &paths {
            let path = CfnPath::parse(text)
                .ok_or_else(|| SourceError::NotConfigured(format!("bad cfn path {text:?}")))?;
            let request = client
                .get(&url)
                .query(&signer.signed_query(&path.resource))
                .header(CONTENT_TYPE, "application/json")
                .timeout(secs(cfn.timeout));
            let body = body_of(request).await.map_err(unavailable)?;
            let field = field_text(&body, &path.field)
                .map_err(|e| unavailable(e.to_string()))?
                .ok_or_else(|| unavailable(format!("path {text} does not exist")))?;
            merged.extend(path.select(&field).map_err(unavailable)?);
        }
        Ok(explode(Value::Object(merged), &cfn.deployment_key, "cfn"))
    }

    /// The client for cfn: the shared one, or one trusting `[cfn] ca_certificate`.
    fn cfn_client(&mut self, options: &Options) -> Result<reqwest::Client, SourceError> {
        let Some(ca) = &options.cfn.ca_certificate else {
            return Ok(self.client.clone());
        };
        if let Some(client) = &self.cfn_client {
            return Ok(client.clone());
        }
        let unusable = |reason: String| {
            tracing::error!(path = %ca.display(), "cfn ca_certificate: {reason}");
            SourceError::NotAvailable(format!("cfn ca_certificate {}: {reason}", ca.display()))
        };
        let pem = std::fs::read(ca).map_err(|e| unusable(e.to_string()))?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| unusable(e.to_string()))?;
        let mut builder = reqwest::Client::builder().connect_timeout(http::CONNECT_TIMEOUT);
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(|e| unusable(http::describe(&e)))?;
        self.cfn_client = Some(client.clone());
        Ok(client)
    }

    async fn heat(&mut self, options: &Options) -> Result<Vec<Collected>, SourceError> {
        let h = &options.heat;
        let need = |value: &Option<String>, what: &str| {
            value.clone().ok_or_else(|| {
                tracing::info!("heat: no {what} configured");
                SourceError::NotConfigured(format!("no heat {what}"))
            })
        };
        let auth_url = need(&h.auth_url, "auth_url")?;
        let password = h
            .password
            .clone()
            .ok_or_else(|| SourceError::NotConfigured("no heat password".into()))?;
        let project_id = need(&h.project_id, "project_id")?;
        let user_id = need(&h.user_id, "user_id")?;
        let stack_id = need(&h.stack_id, "stack_id")?;
        let resource = need(&h.resource_name, "resource_name")?;
        let creds = Credentials {
            auth_url,
            user_id,
            password,
            project_id,
        };
        // A rewritten config (new credentials) starts a new session.
        if self.heat.as_ref().is_none_or(|s| *s.credentials() != creds) {
            self.heat = Some(Session::new(
                self.client.clone(),
                creds,
                Discovery::Discover,
            ));
        }
        let unavailable = |reason: String| {
            tracing::warn!("heat: {reason}");
            SourceError::NotAvailable(reason)
        };
        let mut renewed = false;
        loop {
            let session = self
                .heat
                .as_mut()
                .ok_or_else(|| SourceError::NotConfigured("no heat session".into()))?;
            let token = session
                .token()
                .await
                .map_err(|e| unavailable(e.to_string()))?;
            let endpoint = token
                .endpoint(ORCHESTRATION, h.region_name.as_deref())
                .map_err(|e| unavailable(e.to_string()))?;
            let token = token.id().clone();
            let url = metadata_url(&endpoint, &stack_id, &resource)
                .map_err(|e| unavailable(e.to_string()))?;
            let shown = crate::redact::redact_url(&url);
            let response = self
                .client
                .get(url)
                .header("X-Auth-Token", token.expose())
                .header(ACCEPT, "application/json")
                .timeout(crate::collectors::REQUEST_TIMEOUT)
                .send()
                .await
                .map_err(|e| unavailable(format!("{shown}: {}", http::describe(&e))))?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !renewed {
                session.invalidate();
                renewed = true;
                continue;
            }
            if !status.is_success() {
                return Err(unavailable(format!("{shown}: HTTP {status}")));
            }
            let mut body: Value = response
                .json()
                .await
                .map_err(|e| unavailable(format!("{shown}: {}", http::describe(&e))))?;
            let document = body
                .get_mut("metadata")
                .map(Value::take)
                .ok_or_else(|| unavailable(format!("{shown}: no `metadata` key")))?;
            return Ok(explode(document, &options.deployment_key, "heat"));
        }
    }

    async fn request(&mut self, options: &Options) -> Result<Vec<Collected>, SourceError> {
        let Some(url) = &options.request_metadata_url else {
            tracing::info!("request: no metadata_url configured");
            // Upstream raises a subclass of "not available" here.
            return Err(SourceError::NotAvailable("no request metadata_url".into()));
        };
        let url = url.expose();
        let shown = redact_url_str(url);
        let timeout = secs(options.request_timeout);
        let unavailable = |reason: String| {
            tracing::warn!(url = %shown, "request: {reason}");
            SourceError::NotAvailable(format!("{shown}: {reason}"))
        };
        let head = self
            .client
            .head(url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| unavailable(http::describe(&e)))?;
        let modified = head
            .headers()
            .get(LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        if let (Some(now), Some(before)) = (modified, self.request_last_modified) {
            if now < before {
                tracing::warn!(url = %shown, "Last-Modified is older than previous collection");
            }
            if now <= before {
                if let Some(last) = &self.request_last {
                    return Ok(last.clone());
                }
                return Err(SourceError::NotAvailable(format!("{shown}: not modified")));
            }
        }
        let body = body_of(self.client.get(url).timeout(timeout))
            .await
            .map_err(unavailable)?;
        let document: Value = serde_json::from_str(&body).map_err(|e| {
            unavailable(format!(
                "failed to parse as JSON (line {} column {})",
                e.line(),
                e.column()
            ))
        })?;
        if !document.is_object() {
            return Err(unavailable("the document is not a JSON object".into()));
        }
        let collected = explode(document, &options.deployment_key, "request");
        self.request_last_modified = modified;
        self.request_last = Some(collected.clone());
        Ok(collected)
    }
}

/// Sends `request` and reads the body of a 2xx reply; otherwise why not (never the URL).
pub(crate) async fn body_of(request: reqwest::RequestBuilder) -> Result<String, String> {
    let response = request.send().await.map_err(|e| http::describe(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    response.text().await.map_err(|e| http::describe(&e))
}

fn zaqar() -> Result<Vec<Collected>, SourceError> {
    Err(SourceError::NotConfigured(
        "the zaqar collector is not implemented".into(),
    ))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SourceError::NotAvailable(format!("collector task failed: {e}")))?
}

/// The uid files must be owned by (the owner of `/proc/self`: this process's user).
fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}
