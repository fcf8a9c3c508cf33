//! CFN_SIGNAL and TEMP_URL_SIGNAL (reference heat-agents.md §4.4): `deploy_signal_verb`
//! (default `POST`) to the pre-signed `deploy_signal_id`, used verbatim and only ever shown
//! redacted, with `Content-Type: application/json` and the JSON payload.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, Url};
use updraft_hooks::Deployment;

use super::{Attempt, SIGNAL_TIMEOUT, TargetError, classify};
use crate::http;
use crate::redact::redact_url;

/// A URL signal.
#[derive(Clone, PartialEq)]
pub struct UrlSignal {
    /// The pre-signed URL.
    pub url: Url,
    /// `deploy_signal_verb`, upper-cased.
    pub method: Method,
    /// The URL without its query string, for logs.
    pub shown: String,
    /// The `Content-Type` sent: `application/json` for heat-config-notify's signals;
    /// `None` sends none, as heat-cfntools' `cfn-signal` does.
    pub content_type: Option<&'static str>,
}

impl std::fmt::Debug for UrlSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlSignal")
            .field("method", &self.method)
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

impl UrlSignal {
    /// From `deploy_signal_id` (`id`) and `deploy_signal_verb`.
    pub fn from_inputs(id: &serde_json::Value, d: &Deployment) -> Result<Self, TargetError> {
        let url = id
            .as_str()
            .and_then(|s| Url::parse(s).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or(TargetError::BadUrl)?;
        let verb = d
            .input_str("deploy_signal_verb")
            .unwrap_or("POST")
            .to_ascii_uppercase();
        let method = Method::from_bytes(verb.as_bytes()).map_err(|_| TargetError::BadVerb)?;
        Ok(UrlSignal::new(url, method))
    }

    /// A signal of `method` to `url`, sent as `application/json`.
    pub fn new(url: Url, method: Method) -> Self {
        UrlSignal {
            shown: redact_url(&url),
            url,
            method,
            content_type: Some("application/json"),
        }
    }

    /// One request.
    pub(crate) async fn attempt(&self, client: &reqwest::Client, body: &[u8]) -> Attempt {
        let mut request = client
            .request(self.method.clone(), self.url.clone())
            .timeout(SIGNAL_TIMEOUT)
            .body(body.to_vec());
        if let Some(content_type) = self.content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let sent = request.send().await;
        match sent {
            Ok(response) => classify(response.status()),
            Err(err) => Attempt::Retry(http::describe(&err)),
        }
    }
}
