//! Sending a deployment's signal, one module per transport heat-config-notify implements:
//! [`url_signal`] (CFN_SIGNAL, TEMP_URL_SIGNAL) and [`heat_signal`] (HEAT_SIGNAL), with
//! retries until the server acknowledges.
//!
//! The transport is chosen from the deployment's inputs, as heat-config-notify does
//! (reference heat-agents.md §4.4): a `deploy_signal_id` URL is signalled with
//! `deploy_signal_verb` (default `POST`); else a `deploy_queue_id` is ZAQAR_SIGNAL (not
//! supported: logged, not sent); else a `deploy_auth_url` is HEAT_SIGNAL; nothing means
//! NO_SIGNAL.
//!
//! Every transport is retried the same way ([`classify`]): a 2xx is delivered; 408, 429,
//! any 5xx and a request that got no answer are retried with backoff; any other 4xx is
//! refused for good (retrying a 403 or 404 cannot help).

pub mod heat_signal;
pub mod url_signal;

use std::time::Duration;

use reqwest::StatusCode;
use updraft_hooks::Deployment;

pub use heat_signal::HeatSignal;
pub use url_signal::UrlSignal;

use crate::backoff::{Backoff, BackoffPolicy};

/// Timeout of one signal request.
pub const SIGNAL_TIMEOUT: Duration = Duration::from_secs(30);

/// A signal to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// CFN_SIGNAL / TEMP_URL_SIGNAL: an HTTP request to a pre-signed URL.
    Url(UrlSignal),
    /// HEAT_SIGNAL: Keystone, then the native signal API.
    Heat(HeatSignal),
}

impl Signal {
    /// What is signalled, for logs (no query string, no credential).
    pub fn shown(&self) -> String {
        match self {
            Signal::Url(s) => format!("{} {}", s.method, s.shown),
            Signal::Heat(s) => s.shown(),
        }
    }
}

/// Where (and whether) a deployment's signal goes.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalTarget {
    /// A signal to send.
    Send(Signal),
    /// A transport this agent does not implement.
    Unsupported {
        /// `ZAQAR_SIGNAL`.
        transport: &'static str,
    },
    /// NO_SIGNAL: nothing to send.
    NoSignal,
}

/// A deployment whose signal inputs are unusable.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// `deploy_signal_id` is not a URL.
    #[error("deploy_signal_id is not a valid http(s) URL")]
    BadUrl,
    /// `deploy_signal_verb` is not an HTTP method.
    #[error("deploy_signal_verb is not a valid HTTP method")]
    BadVerb,
    /// A HEAT_SIGNAL input is missing.
    #[error("HEAT_SIGNAL needs the input {0}")]
    Missing(&'static str),
}

impl SignalTarget {
    /// The signal target of `deployment`, from its inputs.
    pub fn of(deployment: &Deployment) -> Result<SignalTarget, TargetError> {
        if let Some(id) = deployment.input("deploy_signal_id") {
            return Ok(SignalTarget::Send(Signal::Url(UrlSignal::from_inputs(
                id, deployment,
            )?)));
        }
        if deployment.input("deploy_queue_id").is_some() {
            return Ok(SignalTarget::Unsupported {
                transport: "ZAQAR_SIGNAL",
            });
        }
        if let Some(auth_url) = deployment.input("deploy_auth_url") {
            let auth_url = auth_url
                .as_str()
                .ok_or(TargetError::Missing("deploy_auth_url"))?;
            return Ok(SignalTarget::Send(Signal::Heat(HeatSignal::from_inputs(
                auth_url, deployment,
            )?)));
        }
        Ok(SignalTarget::NoSignal)
    }
}

/// How long delivery keeps trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryLimit {
    /// Total attempts before giving up on transient failures (no answer, 408, 429, 5xx);
    /// `None` retries forever.
    pub max_attempts: Option<u32>,
}

impl RetryLimit {
    /// Daemon mode: transient failures forever.
    pub const DAEMON: RetryLimit = RetryLimit { max_attempts: None };
    /// `--one-time`: five attempts in all.
    pub const ONE_TIME: RetryLimit = RetryLimit {
        max_attempts: Some(5),
    };
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// Acknowledged with this 2xx status.
    Delivered(u16),
    /// Worth trying again: why not this time.
    Retry(String),
    /// Refused for good: why.
    Refused(String),
}

/// How a signal answer counts: 2xx delivered; 408, 429 and 5xx retried; other 4xx refused.
pub(crate) fn classify(status: StatusCode) -> Attempt {
    if status.is_success() {
        Attempt::Delivered(status.as_u16())
    } else if status.is_client_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
    {
        Attempt::Refused(format!("HTTP {status}"))
    } else {
        Attempt::Retry(format!("HTTP {status}"))
    }
}

/// A signal that was not delivered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeliveryError {
    /// The server refused it (a 4xx other than 408/429, or credentials Keystone refused):
    /// retrying will not help.
    #[error("signal {target} refused after {attempts} attempts: {reason}")]
    Rejected {
        /// What was signalled (redacted).
        target: String,
        /// Why.
        reason: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The attempt budget ran out on transient failures; a later run may succeed.
    #[error("signal {target} not delivered after {attempts} attempts: {last}")]
    Exhausted {
        /// What was signalled (redacted).
        target: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

impl DeliveryError {
    /// True when the signal should not be tried again.
    pub fn is_permanent(&self) -> bool {
        matches!(self, DeliveryError::Rejected { .. })
    }
}

/// Sends signals.
#[derive(Debug, Clone)]
pub struct Notifier {
    client: reqwest::Client,
    backoff: BackoffPolicy,
}

impl Notifier {
    /// A notifier retrying with `backoff` delays.
    pub fn new(client: reqwest::Client, backoff: BackoffPolicy) -> Self {
        Notifier { client, backoff }
    }

    /// Sends `body` (a JSON payload) as `signal` until a 2xx answer, a refusal or `limit`;
    /// returns the status. Every failed attempt is logged at warn, redacted.
    pub async fn deliver(
        &self,
        signal: &Signal,
        body: &[u8],
        limit: RetryLimit,
    ) -> Result<u16, DeliveryError> {
        let mut backoff = Backoff::new(self.backoff);
        let mut heat = match signal {
            Signal::Heat(s) => Some(s.sender(self.client.clone())),
            Signal::Url(_) => None,
        };
        let target = signal.shown();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let outcome = match (signal, heat.as_mut()) {
                (_, Some(sender)) => sender.attempt(body).await,
                (Signal::Url(s), None) => s.attempt(&self.client, body).await,
                (Signal::Heat(_), None) => Attempt::Refused("no sender".into()),
            };
            let failure = match outcome {
                Attempt::Delivered(status) => return Ok(status),
                Attempt::Refused(reason) => {
                    return Err(DeliveryError::Rejected {
                        target,
                        reason,
                        attempts,
                    });
                }
                Attempt::Retry(failure) => failure,
            };
            if limit.max_attempts.is_some_and(|max| attempts >= max) {
                return Err(DeliveryError::Exhausted {
                    target,
                    attempts,
                    last: failure,
                });
            }
            let delay = backoff.next_delay();
            tracing::warn!(
                attempt = attempts,
                "signal {target} failed: {failure}; retrying in {:.1}s",
                delay.as_secs_f64()
            );
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A fake HTTP endpoint (not our server): answers the given statuses in turn, one per
    /// connection, and records each request's head and body.
    async fn fake_endpoint(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            for status in statuses {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then Content-Length bytes of body.
                loop {
                    let n = sock.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len || n == 0 {
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).to_string());
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                sock.write_all(reply.as_bytes()).await.unwrap();
                let _ = sock.shutdown().await;
            }
        });
        (
            format!("http://{addr}/v1/signal/arn?Signature=secret"),
            seen,
        )
    }

    fn notifier() -> Notifier {
        Notifier::new(
            reqwest::Client::new(),
            BackoffPolicy {
                base: Duration::from_millis(10),
                cap: Duration::from_millis(50),
                jitter: 0.2,
            },
        )
    }

    fn signal_for(url: &str, verb: Option<&str>) -> Signal {
        let mut inputs = vec![json!({"name": "deploy_signal_id", "value": url})];
        if let Some(verb) = verb {
            inputs.push(json!({"name": "deploy_signal_verb", "value": verb}));
        }
        let d: Deployment = serde_json::from_value(json!({"id": "x", "inputs": inputs})).unwrap();
        match SignalTarget::of(&d).unwrap() {
            SignalTarget::Send(s @ Signal::Url(_)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_acknowledged() {
        let (url, seen) = fake_endpoint(vec![503, 503, 200]).await;
        let signal = signal_for(&url, Some("put"));
        let status = notifier()
            .deliver(&signal, br#"{"deploy_status_code": 0}"#, RetryLimit::DAEMON)
            .await
            .unwrap();
        assert_eq!(status, 200);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        let request = seen[2].to_ascii_lowercase();
        assert!(
            request.starts_with("put /v1/signal/arn?signature=secret http/1.1"),
            "{request}"
        );
        assert!(request.contains("content-type: application/json"));
        assert!(request.ends_with(r#"{"deploy_status_code": 0}"#));
    }

    #[tokio::test]
    async fn client_errors_are_refused_at_once_but_408_and_429_are_retried() {
        let (url, seen) = fake_endpoint(vec![404]).await;
        let err = notifier()
            .deliver(&signal_for(&url, None), b"{}", RetryLimit::DAEMON)
            .await
            .unwrap_err();
        assert!(err.is_permanent());
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert!(seen.lock().unwrap()[0].starts_with("POST "));
        // The message shows the URL without its signature.
        let message = err.to_string();
        assert!(
            message.contains("/v1/signal/arn") && !message.contains("secret"),
            "{message}"
        );
        let (url, seen) = fake_endpoint(vec![408, 429, 204]).await;
        let status = notifier()
            .deliver(&signal_for(&url, None), b"{}", RetryLimit::DAEMON)
            .await
            .unwrap();
        assert_eq!((status, seen.lock().unwrap().len()), (204, 3));
    }

    #[tokio::test]
    async fn one_time_limit_bounds_transient_failures() {
        // Nothing listens on this port once the listener is dropped.
        let port = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/s?sig=secret");
        let err = notifier()
            .deliver(&signal_for(&url, None), b"{}", RetryLimit::ONE_TIME)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DeliveryError::Exhausted { attempts: 5, .. }),
            "{err}"
        );
        assert!(!err.is_permanent());
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn transport_is_chosen_from_the_inputs() {
        let target = |inputs: serde_json::Value| {
            let d: Deployment =
                serde_json::from_value(json!({"id": "x", "inputs": inputs})).unwrap();
            SignalTarget::of(&d)
        };
        assert_eq!(target(json!([])).unwrap(), SignalTarget::NoSignal);
        let heat = json!([
            {"name": "deploy_stack_id", "value": "s/1"},
            {"name": "deploy_resource_name", "value": "dep"},
            {"name": "deploy_auth_url", "value": "http://ks/v3"},
            {"name": "deploy_user_id", "value": "u"},
            {"name": "deploy_password", "value": "pw"},
            {"name": "deploy_project_id", "value": "p"},
            {"name": "deploy_region_name", "value": "RegionOne"}
        ]);
        let SignalTarget::Send(Signal::Heat(h)) = target(heat).unwrap() else {
            panic!()
        };
        assert_eq!(
            (
                h.credentials.user_id.as_str(),
                h.region.as_deref(),
                h.stack_id.as_str()
            ),
            ("u", Some("RegionOne"), "s/1")
        );
        assert_eq!(h.shown(), "HEAT_SIGNAL stacks/s/1/resources/dep");
        assert!(!format!("{h:?}").contains("pw"));
        assert!(matches!(
            target(json!([{"name": "deploy_auth_url", "value": "http://ks/v3"}])),
            Err(TargetError::Missing("deploy_user_id"))
        ));
        assert_eq!(
            target(json!([{"name": "deploy_auth_url", "value": "u"}, {"name": "deploy_queue_id", "value": "q"}]))
                .unwrap(),
            SignalTarget::Unsupported { transport: "ZAQAR_SIGNAL" }
        );
        assert!(matches!(
            target(json!([{"name": "deploy_signal_id", "value": "not a url"}])),
            Err(TargetError::BadUrl)
        ));
        let SignalTarget::Send(Signal::Url(s)) =
            target(json!([{"name": "deploy_signal_id", "value": "https://h/p?q=1"}])).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (s.method, s.shown.as_str(), s.url.as_str()),
            (reqwest::Method::POST, "https://h:443/p", "https://h/p?q=1")
        );
    }
}
