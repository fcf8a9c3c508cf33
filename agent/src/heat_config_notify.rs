//! `heat-config-notify <deployment.json> < signal.json`, heat-agents' notifier, as
//! `55-heat-config` (upstream's or [`crate::heat_config`]) calls it: the signal on stdin
//! (none, or not JSON, is `{}` as upstream) goes where the deployment's inputs say, by the
//! agent's own transports ([`crate::notify`]): `deploy_signal_id` with
//! `deploy_signal_verb`, or HEAT_SIGNAL with the `deploy_auth_url` family.
//!
//! Fixes: a signal the server refuses, or that is never acknowledged after ten attempts
//! (upstream's retry budget), exits 1 with the reason (upstream exits 0); ZAQAR_SIGNAL is
//! refused clearly (not supported); the body is trimmed below Heat's size limit without
//! upstream's Python 3 crash.

use std::ffi::OsString;
use std::io::Read as _;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;
use updraft_hooks::{Deployment, SignalPayload};

use crate::backoff::BackoffPolicy;
use crate::notify::{Notifier, RetryLimit, SignalTarget};

/// Attempts before giving up on transient failures, as upstream's `Retry(total=10)`.
const ATTEMPTS: u32 = 10;

const USAGE: &str = "Usage:\n  heat-config-notify /path/to/config.json < /path/to/signal_data.json";

/// Sends the signal on stdin for the deployment in `args[1]`.
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let Some(path) = args.get(1) else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let stdin = tokio::task::spawn_blocking(|| {
        let mut text = Vec::new();
        std::io::stdin().read_to_end(&mut text).map(|_| text)
    })
    .await;
    let signal = match stdin {
        Ok(Ok(text)) => match serde_json::from_slice::<Value>(&text) {
            Ok(Value::Object(map)) => SignalPayload(map),
            _ => {
                tracing::warn!("No valid json found on stdin");
                SignalPayload::default()
            }
        },
        _ => SignalPayload::default(),
    };
    match send(std::path::Path::new(path), &signal).await {
        Ok(message) => {
            tracing::info!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("heat-config-notify: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn send(path: &std::path::Path, signal: &SignalPayload) -> Result<String, String> {
    let text = std::fs::read(path)
        .map_err(|e| format!("No config file {}: {e}\n{USAGE}", path.display()))?;
    let mut document: Value = serde_json::from_slice(&text)
        .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    if let Some(doc) = document.as_object_mut() {
        doc.entry("id").or_insert_with(|| "".into());
    }
    let deployment: Deployment = serde_json::from_value(document)
        .map_err(|e| format!("{} is not a deployment: {e}", path.display()))?;
    let signal_to = match SignalTarget::of(&deployment).map_err(|e| e.to_string())? {
        SignalTarget::Send(target) => target,
        SignalTarget::NoSignal => return Ok("no signal transport in the inputs".into()),
        SignalTarget::Unsupported { transport } => {
            return Err(format!("{transport} is not supported by updraft-agent"));
        }
    };
    let client = crate::http::client().map_err(|e| e.to_string())?;
    let policy = BackoffPolicy {
        base: Duration::from_millis(500),
        cap: Duration::from_secs(30),
        jitter: crate::backoff::JITTER,
    };
    let limit = RetryLimit {
        max_attempts: Some(ATTEMPTS),
    };
    let status = Notifier::new(client, policy)
        .deliver(&signal_to, &signal.to_body(), limit)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("signalled {}: HTTP {status}", signal_to.shown()))
}
