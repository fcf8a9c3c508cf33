//! The signal payload an agent sends back after running a deployment.
//!
//! `{"deploy_stdout", "deploy_stderr", "deploy_status_code", <output name>: value, …}` as
//! heat-config-notify sends it. Built from a hook run by the rules of heat-agents'
//! `55-heat-config` (see [`SignalPayload::from_hook_run`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Heat's `max_json_body_size` is 1 MiB; heat-config-notify aims below it.
pub const MAX_SIGNAL_BYTES: usize = 950_000;

/// A signal body: a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignalPayload(pub Map<String, Value>);

impl SignalPayload {
    /// A payload with the three standard keys.
    pub fn new(stdout: impl Into<String>, stderr: impl Into<String>, status_code: i64) -> Self {
        let mut map = Map::new();
        map.insert("deploy_stdout".into(), Value::String(stdout.into()));
        map.insert("deploy_stderr".into(), Value::String(stderr.into()));
        map.insert("deploy_status_code".into(), Value::from(status_code));
        SignalPayload(map)
    }

    /// The signal for a hook process that printed `stdout`/`stderr` and exited with `rc`,
    /// by heat-config's rules: JSON-object stdout wins (even when `rc != 0`); otherwise a
    /// failing or chatty hook is wrapped as `{deploy_stdout, deploy_stderr, deploy_status_code}`;
    /// a silent successful hook gives `{}`.
    pub fn from_hook_run(stdout: &str, stderr: &str, rc: i64) -> Self {
        if !stdout.trim().is_empty() {
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(stdout) {
                return SignalPayload(map);
            }
            return SignalPayload::new(stdout, stderr, rc);
        }
        if rc != 0 {
            return SignalPayload::new(stdout, stderr, rc);
        }
        SignalPayload::default()
    }

    /// `deploy_status_code` as an integer; strings such as `"0"` are accepted as Heat does.
    pub fn status_code(&self) -> Option<i64> {
        match self.0.get("deploy_status_code")? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Serializes the payload, trimming `deploy_stdout`/`deploy_stderr` from the left in
    /// proportion to their lengths when the body would exceed [`MAX_SIGNAL_BYTES`]
    /// (what heat-config-notify intends but crashes on under Python 3).
    pub fn to_body(&self) -> Vec<u8> {
        let body = serde_json::to_vec(&self.0).unwrap_or_else(|_| b"{}".to_vec());
        if body.len() <= MAX_SIGNAL_BYTES {
            return body;
        }
        let mut trimmed = self.0.clone();
        let excess = body.len() - MAX_SIGNAL_BYTES + 1024;
        let len_of = |k: &str| trimmed.get(k).and_then(Value::as_str).map_or(0, str::len);
        let (out_len, err_len) = (len_of("deploy_stdout"), len_of("deploy_stderr"));
        let total = (out_len + err_len).max(1);
        for (key, len) in [("deploy_stdout", out_len), ("deploy_stderr", err_len)] {
            let cut = excess.saturating_mul(len) / total + 1;
            if let Some(Value::String(s)) = trimmed.get_mut(key) {
                let mut start = cut.min(s.len());
                while !s.is_char_boundary(start) {
                    start += 1;
                }
                *s = s[start..].to_string();
            }
        }
        serde_json::to_vec(&trimmed).unwrap_or_else(|_| b"{}".to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_stdout_wins_even_on_failure() {
        let p = SignalPayload::from_hook_run(r#"{"deploy_status_code": 0, "x": 1}"#, "", 3);
        assert_eq!(Value::Object(p.0), json!({"deploy_status_code": 0, "x": 1}));
    }

    #[test]
    fn plain_output_and_failures_are_wrapped() {
        let p = SignalPayload::from_hook_run("hello", "err", 2);
        assert_eq!(
            Value::Object(p.0),
            json!({"deploy_stdout": "hello", "deploy_stderr": "err", "deploy_status_code": 2})
        );
        assert_eq!(
            SignalPayload::from_hook_run("", "", 0),
            SignalPayload::default()
        );
        assert_eq!(
            SignalPayload::from_hook_run("", "boom", 1).status_code(),
            Some(1)
        );
    }

    #[test]
    fn oversized_bodies_are_trimmed_from_the_left() {
        let big = "a".repeat(600_000) + "END";
        let p = SignalPayload::new(big.clone(), big, 0);
        let body = p.to_body();
        assert!(body.len() <= MAX_SIGNAL_BYTES);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v["deploy_stdout"].as_str().unwrap().ends_with("END"));
    }
}
