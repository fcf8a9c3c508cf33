//! `cfn-signal` (heat-cfntools' flags, reference heat-agents.md §5) and `updraft-agent
//! signal`: tells a wait condition handle that a post-boot step finished.
//!
//! The request is heat-cfntools' own: `PUT <url>` with no `Content-Type` and the body
//! `{"Status", "Reason", "UniqueId", "Data"}`. Unlike heat-cfntools (whose exit code is
//! curl's, 0 even against a 4xx), the answer is checked: 2xx exits 0; 408, 429, 5xx and a
//! server that does not answer are retried with backoff for up to `--retry-for` seconds;
//! any other refusal exits 1 with the server's status, so a boot script using `set -e`
//! notices.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use reqwest::{Method, Url};
use serde::Serialize;

use crate::backoff::BackoffPolicy;
use crate::notify::url_signal::UrlSignal;
use crate::notify::{Notifier, RetryLimit, Signal};

/// Where nova's metadata names the instance (heat-cfntools takes `uuid` from it).
const NOVA_METADATA_URL: &str = "http://169.254.169.254/openstack/2012-08-10/meta_data.json";
/// Where heat-cfntools caches that document.
const NOVA_METADATA_CACHE: &str = "/var/lib/heat-cfntools/nova_meta.json";

/// `cfn-signal [options] URL`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "cfn-signal",
    version,
    about = "Signal a wait condition handle."
)]
pub struct SignalArgs {
    /// The pre-signed wait condition handle URL.
    pub url: String,

    /// Whether the step succeeded (`true` or anything else), when no exit code is given.
    #[arg(short = 's', long, default_value = "true")]
    pub success: String,

    /// The reason, shown in the wait condition's events.
    #[arg(short = 'r', long, default_value = "Configuration Complete")]
    pub reason: String,

    /// The data, readable as the wait condition's `data` attribute.
    #[arg(
        short = 'd',
        long,
        default_value = "Application has completed configuration."
    )]
    pub data: String,

    /// The signal's unique id [default: the instance uuid from nova's metadata, else the
    /// host name].
    #[arg(short = 'i', long)]
    pub id: Option<String>,

    /// The step's exit code: `0` is SUCCESS, anything else FAILURE (wins over `--success`).
    #[arg(short = 'e', long = "exit-code", visible_alias = "exit")]
    pub exit_code: Option<String>,

    /// Accept any TLS certificate.
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// Keep retrying transient failures for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub retry_for: u64,
}

/// The body heat-cfntools sends, in its key order.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct WaitConditionSignal {
    /// `SUCCESS` or `FAILURE`.
    pub status: &'static str,
    /// `--reason`.
    pub reason: String,
    /// `--id` or the instance's id.
    pub unique_id: String,
    /// `--data`.
    pub data: String,
}

impl SignalArgs {
    /// `SUCCESS` when the exit code is `0`, or, without one, when `--success` is `true`.
    pub fn status(&self) -> &'static str {
        let ok = match &self.exit_code {
            Some(code) => code == "0",
            None => self.success == "true",
        };
        if ok { "SUCCESS" } else { "FAILURE" }
    }
}

/// Runs as `cfn-signal` with `args` (`args[0]` is the program name).
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let args = match SignalArgs::try_parse_from(args) {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match send(&args).await {
        Ok(status) => {
            tracing::info!(status, "wait condition signalled");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cfn-signal: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Why a signal was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// The URL is not an http(s) URL (not shown: it carries a signature).
    #[error("the handle URL is not a valid http(s) URL")]
    BadUrl,
    /// The HTTP client could not be set up.
    #[error(transparent)]
    Client(#[from] crate::http::ClientError),
    /// The server refused it, or it kept failing.
    #[error(transparent)]
    Delivery(#[from] crate::notify::DeliveryError),
}

/// Sends the signal `args` describe; returns the server's 2xx status.
pub async fn send(args: &SignalArgs) -> Result<u16, SignalError> {
    let url = Url::parse(&args.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or(SignalError::BadUrl)?;
    let unique_id = match &args.id {
        Some(id) => id.clone(),
        None => instance_id().await,
    };
    let body = WaitConditionSignal {
        status: args.status(),
        reason: args.reason.clone(),
        unique_id,
        data: args.data.clone(),
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let client = if args.insecure {
        crate::http::client_accepting_any_certificate()?
    } else {
        crate::http::client()?
    };
    let mut signal = UrlSignal::new(url, Method::PUT);
    signal.content_type = None;
    let policy = BackoffPolicy {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(30),
        jitter: crate::backoff::JITTER,
    };
    // Attempts whose delays add up to about `--retry-for` seconds.
    let mut attempts = 1u32;
    let mut waited = Duration::ZERO;
    while waited < Duration::from_secs(args.retry_for) && attempts < 1000 {
        waited += policy.nominal(attempts);
        attempts += 1;
    }
    let limit = RetryLimit {
        max_attempts: Some(attempts),
    };
    Ok(Notifier::new(client, policy)
        .deliver(&Signal::Url(signal), &body, limit)
        .await?)
}

/// The instance's id as heat-cfntools finds it: nova's `uuid` (cached), else the host name.
async fn instance_id() -> String {
    if let Some(uuid) = cached_nova_uuid() {
        return uuid;
    }
    if let Ok(client) = crate::http::client()
        && let Ok(response) = client
            .get(NOVA_METADATA_URL)
            .timeout(Duration::from_secs(5))
            .send()
            .await
        && response.status().is_success()
        && let Ok(text) = response.text().await
        && let Some(uuid) = uuid_of(&text)
    {
        let _ = std::fs::write(NOVA_METADATA_CACHE, &text);
        return uuid;
    }
    hostname()
}

fn cached_nova_uuid() -> Option<String> {
    uuid_of(&std::fs::read_to_string(NOVA_METADATA_CACHE).ok()?)
}

fn uuid_of(document: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(document).ok()?;
    value.get("uuid")?.as_str().map(str::to_string)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> SignalArgs {
        SignalArgs::try_parse_from(std::iter::once("cfn-signal").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn the_status_follows_heat_cfntools_rules() {
        assert_eq!(parse(&["http://h/x"]).status(), "SUCCESS");
        assert_eq!(parse(&["-s", "false", "http://h/x"]).status(), "FAILURE");
        assert_eq!(parse(&["-s", "True", "http://h/x"]).status(), "FAILURE");
        assert_eq!(
            parse(&["-e", "0", "-s", "false", "http://h/x"]).status(),
            "SUCCESS"
        );
        assert_eq!(parse(&["--exit", "3", "http://h/x"]).status(), "FAILURE");
        assert_eq!(
            parse(&["--exit-code", "1", "http://h/x"]).status(),
            "FAILURE"
        );
    }

    #[test]
    fn the_body_has_heat_cfntools_keys_in_order() {
        let body = WaitConditionSignal {
            status: "SUCCESS",
            reason: "r".into(),
            unique_id: "1".into(),
            data: "d".into(),
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"Status":"SUCCESS","Reason":"r","UniqueId":"1","Data":"d"}"#
        );
        let a = parse(&["http://h/x"]);
        assert_eq!(a.reason, "Configuration Complete");
        assert_eq!(a.data, "Application has completed configuration.");
    }

    #[test]
    fn nova_metadata_gives_the_uuid() {
        assert_eq!(
            uuid_of(r#"{"uuid": "abc", "name": "vm"}"#).as_deref(),
            Some("abc")
        );
        assert_eq!(uuid_of("not json"), None);
    }
}
