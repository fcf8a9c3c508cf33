//! Sending a deployment's signal: heat-config-notify's URL transports (CFN_SIGNAL,
//! TEMP_URL_SIGNAL), with retries until the server acknowledges.
//!
//! The transport is chosen from the deployment's inputs, as heat-config-notify does: a
//! `deploy_signal_id` URL is signalled with `deploy_signal_verb` (default `POST`); a
//! `deploy_auth_url` (HEAT_SIGNAL / ZAQAR_SIGNAL) is not supported yet; nothing means
//! NO_SIGNAL. The URL is used verbatim (it is pre-signed) and only ever shown redacted.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode, Url};
use updraft_hooks::Deployment;

use crate::backoff::{Backoff, BackoffPolicy};
use crate::http;
use crate::redact::redact_url;

/// Timeout of one signal request.
pub const SIGNAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Where (and whether) a deployment's signal goes.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalTarget {
    /// An HTTP request to a pre-signed URL.
    Url(UrlSignal),
    /// A transport this agent does not implement.
    Unsupported {
        /// `HEAT_SIGNAL` or `ZAQAR_SIGNAL`.
        transport: &'static str,
    },
    /// NO_SIGNAL: nothing to send.
    NoSignal,
}

/// A URL signal.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlSignal {
    /// The pre-signed URL.
    pub url: Url,
    /// `deploy_signal_verb`, upper-cased.
    pub method: Method,
    /// The URL without its query string, for logs.
    pub shown: String,
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
}

impl SignalTarget {
    /// The signal target of `deployment`, from its inputs.
    pub fn of(deployment: &Deployment) -> Result<SignalTarget, TargetError> {
        if let Some(id) = deployment.input("deploy_signal_id") {
            let url = id
                .as_str()
                .and_then(|s| Url::parse(s).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or(TargetError::BadUrl)?;
            let verb = deployment
                .input_str("deploy_signal_verb")
                .unwrap_or("POST")
                .to_ascii_uppercase();
            let method = Method::from_bytes(verb.as_bytes()).map_err(|_| TargetError::BadVerb)?;
            return Ok(SignalTarget::Url(UrlSignal {
                shown: redact_url(&url),
                url,
                method,
            }));
        }
        if deployment.input("deploy_queue_id").is_some() {
            return Ok(SignalTarget::Unsupported {
                transport: "ZAQAR_SIGNAL",
            });
        }
        if deployment.input("deploy_auth_url").is_some() {
            return Ok(SignalTarget::Unsupported {
                transport: "HEAT_SIGNAL",
            });
        }
        Ok(SignalTarget::NoSignal)
    }
}

/// How long delivery keeps trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryLimit {
    /// Total attempts before giving up on transient failures (connection errors, 5xx);
    /// `None` retries forever.
    pub max_attempts: Option<u32>,
    /// 4xx answers tolerated before giving up for good (a deleted deployment answers 404
    /// forever).
    pub max_client_errors: u32,
}

impl RetryLimit {
    /// Daemon mode: transient failures forever, five 4xx.
    pub const DAEMON: RetryLimit = RetryLimit {
        max_attempts: None,
        max_client_errors: 5,
    };
    /// `--one-time`: five attempts in all.
    pub const ONE_TIME: RetryLimit = RetryLimit {
        max_attempts: Some(5),
        max_client_errors: 5,
    };
}

/// A signal that was not delivered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeliveryError {
    /// The server kept refusing it (4xx): retrying will not help.
    #[error("signal to {url} refused with HTTP {status} after {attempts} attempts")]
    Rejected {
        /// Redacted URL.
        url: String,
        /// The last status.
        status: StatusCode,
        /// Attempts made.
        attempts: u32,
    },
    /// The attempt budget ran out on transient failures; a later run may succeed.
    #[error("signal to {url} not delivered after {attempts} attempts: {last}")]
    Exhausted {
        /// Redacted URL.
        url: String,
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

    /// Sends `body` (a JSON payload) to `signal` until a 2xx answer or `limit`; returns the
    /// status. Every failed attempt is logged at warn with the redacted URL.
    pub async fn deliver(
        &self,
        signal: &UrlSignal,
        body: &[u8],
        limit: RetryLimit,
    ) -> Result<u16, DeliveryError> {
        let mut backoff = Backoff::new(self.backoff);
        let mut attempts = 0u32;
        let mut client_errors = 0u32;
        loop {
            attempts += 1;
            let sent = self
                .client
                .request(signal.method.clone(), signal.url.clone())
                .header(CONTENT_TYPE, "application/json")
                .timeout(SIGNAL_TIMEOUT)
                .body(body.to_vec())
                .send()
                .await;
            let failure = match sent {
                Ok(response) if response.status().is_success() => {
                    return Ok(response.status().as_u16());
                }
                Ok(response) if response.status().is_client_error() => {
                    client_errors += 1;
                    let status = response.status();
                    if client_errors >= limit.max_client_errors {
                        return Err(DeliveryError::Rejected {
                            url: signal.shown.clone(),
                            status,
                            attempts,
                        });
                    }
                    format!("HTTP {status}")
                }
                Ok(response) => format!("HTTP {}", response.status()),
                Err(err) => http::describe(&err),
            };
            if limit.max_attempts.is_some_and(|max| attempts >= max) {
                return Err(DeliveryError::Exhausted {
                    url: signal.shown.clone(),
                    attempts,
                    last: failure,
                });
            }
            let delay = backoff.next_delay();
            tracing::warn!(
                attempt = attempts,
                "signal {} {} failed: {failure}; retrying in {:.1}s",
                signal.method,
                signal.shown,
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

    fn signal_for(url: &str, verb: Option<&str>) -> UrlSignal {
        let mut inputs = vec![json!({"name": "deploy_signal_id", "value": url})];
        if let Some(verb) = verb {
            inputs.push(json!({"name": "deploy_signal_verb", "value": verb}));
        }
        let d: Deployment = serde_json::from_value(json!({"id": "x", "inputs": inputs})).unwrap();
        match SignalTarget::of(&d).unwrap() {
            SignalTarget::Url(s) => s,
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
    async fn client_errors_are_given_up_after_five() {
        let (url, seen) = fake_endpoint(vec![404; 6]).await;
        let err = notifier()
            .deliver(&signal_for(&url, None), b"{}", RetryLimit::DAEMON)
            .await
            .unwrap_err();
        assert!(err.is_permanent());
        assert_eq!(seen.lock().unwrap().len(), 5);
        assert!(seen.lock().unwrap()[0].starts_with("POST "));
        // The message shows the URL without its signature.
        let message = err.to_string();
        assert!(
            message.contains("/v1/signal/arn") && !message.contains("secret"),
            "{message}"
        );
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
        assert_eq!(
            target(json!([{"name": "deploy_auth_url", "value": "http://ks/v3"}])).unwrap(),
            SignalTarget::Unsupported {
                transport: "HEAT_SIGNAL"
            }
        );
        assert_eq!(
            target(json!([{"name": "deploy_auth_url", "value": "u"}, {"name": "deploy_queue_id", "value": "q"}]))
                .unwrap(),
            SignalTarget::Unsupported { transport: "ZAQAR_SIGNAL" }
        );
        assert!(matches!(
            target(json!([{"name": "deploy_signal_id", "value": "not a url"}])),
            Err(TargetError::BadUrl)
        ));
        let SignalTarget::Url(s) =
            target(json!([{"name": "deploy_signal_id", "value": "https://h/p?q=1"}])).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (s.method, s.shown.as_str(), s.url.as_str()),
            (Method::POST, "https://h:443/p", "https://h/p?q=1")
        );
    }
}
