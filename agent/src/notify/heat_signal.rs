//! HEAT_SIGNAL, as heat-config-notify does it (reference heat-agents.md §4.4): a Keystone v3
//! token for `deploy_user_id`/`deploy_password` scoped to `deploy_project_id` at
//! `deploy_auth_url` (keystoneclient's v3 client: no discovery), the catalog's public
//! `orchestration` endpoint (in `deploy_region_name` when set), then
//!
//! ```text
//! POST <orchestration>/stacks/<deploy_stack_id>/resources/<deploy_resource_name>/signal
//! X-Auth-Token: <token>
//! Content-Type: application/json
//! ```
//!
//! with the JSON payload. Unlike upstream (one try, exit 1 on any error) it is retried as
//! the URL signals are; a 401 from the signal API drops the token and authenticates once
//! more within the same attempt.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use updraft_hooks::Deployment;

use super::{Attempt, SIGNAL_TIMEOUT, TargetError, classify};
use crate::http;
use crate::keystone::{Credentials, Discovery, KeystoneError, Session, service_url};
use crate::secret::Secret;

/// The catalog service type signals go to.
pub const ORCHESTRATION: &str = "orchestration";

/// A HEAT_SIGNAL target.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatSignal {
    /// `deploy_auth_url`, `deploy_user_id`, `deploy_password`, `deploy_project_id`.
    pub credentials: Credentials,
    /// `deploy_region_name`.
    pub region: Option<String>,
    /// `deploy_stack_id` (`name/id`).
    pub stack_id: String,
    /// `deploy_resource_name`.
    pub resource_name: String,
}

impl HeatSignal {
    /// From the deployment's `deploy_*` inputs (`auth_url` is `deploy_auth_url`).
    pub fn from_inputs(auth_url: &str, d: &Deployment) -> Result<Self, TargetError> {
        let need = |name: &'static str| {
            d.input_str(name)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or(TargetError::Missing(name))
        };
        Ok(HeatSignal {
            credentials: Credentials {
                auth_url: auth_url.to_string(),
                user_id: need("deploy_user_id")?,
                password: Secret::new(need("deploy_password")?),
                project_id: need("deploy_project_id")?,
            },
            region: d
                .input_str("deploy_region_name")
                .filter(|r| !r.is_empty())
                .map(str::to_string),
            stack_id: need("deploy_stack_id")?,
            resource_name: need("deploy_resource_name")?,
        })
    }

    /// What is signalled, for logs.
    pub fn shown(&self) -> String {
        format!(
            "HEAT_SIGNAL stacks/{}/resources/{}",
            self.stack_id, self.resource_name
        )
    }

    /// A sender holding the token across attempts.
    pub(crate) fn sender(&self, client: reqwest::Client) -> HeatSender<'_> {
        HeatSender {
            session: Session::new(client.clone(), self.credentials.clone(), Discovery::Direct),
            client,
            signal: self,
        }
    }
}

/// Sends one [`HeatSignal`], keeping its token between attempts.
pub(crate) struct HeatSender<'a> {
    client: reqwest::Client,
    session: Session,
    signal: &'a HeatSignal,
}

/// How a Keystone failure counts for a signal.
fn keystone_attempt(err: &KeystoneError) -> Attempt {
    match err {
        KeystoneError::Status { status, .. } => match classify(*status) {
            Attempt::Refused(_) => Attempt::Refused(err.to_string()),
            _ => Attempt::Retry(err.to_string()),
        },
        KeystoneError::Unreachable { .. } | KeystoneError::BadReply { .. } => {
            Attempt::Retry(err.to_string())
        }
        KeystoneError::InvalidUrl(_) | KeystoneError::NoEndpoint { .. } => {
            Attempt::Refused(err.to_string())
        }
    }
}

impl HeatSender<'_> {
    /// One attempt: a token (reused when fresh), then the POST; on a 401 one more token
    /// and POST.
    pub(crate) async fn attempt(&mut self, body: &[u8]) -> Attempt {
        let mut renewed = false;
        loop {
            let token = match self.session.token().await {
                Ok(token) => token,
                Err(err) => return keystone_attempt(&err),
            };
            let endpoint = match token.endpoint(ORCHESTRATION, self.signal.region.as_deref()) {
                Ok(endpoint) => endpoint,
                Err(err) => return keystone_attempt(&err),
            };
            let token = token.id().expose().to_string();
            let segments = std::iter::once("stacks")
                .chain(self.signal.stack_id.split('/'))
                .chain(["resources", self.signal.resource_name.as_str(), "signal"]);
            let Some(url) = service_url(&endpoint, segments) else {
                return Attempt::Refused("the orchestration endpoint is not a base URL".into());
            };
            let sent = self
                .client
                .post(url)
                .header("X-Auth-Token", token)
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "application/json")
                .timeout(SIGNAL_TIMEOUT)
                .body(body.to_vec())
                .send()
                .await;
            let status = match sent {
                Ok(response) => response.status(),
                Err(err) => return Attempt::Retry(http::describe(&err)),
            };
            if status == StatusCode::UNAUTHORIZED && !renewed {
                tracing::info!(
                    "{}: token refused; authenticating again",
                    self.signal.shown()
                );
                self.session.invalidate();
                renewed = true;
                continue;
            }
            return classify(status);
        }
    }
}
