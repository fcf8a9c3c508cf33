//! `--wait` and `stack event list --follow`: poll a stack's events (oldest first, after the
//! last one seen) and the stack until it is no longer `*_IN_PROGRESS`. On a terminal a live
//! bar shows resources done/total, the events streaming above it and the elapsed time; when
//! stdout is not a terminal, one plain line per new event and then a final status line.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::client::{ApiFailure, Client};

/// How often the stack and its events are polled.
fn poll_interval() -> Duration {
    let ms = std::env::var("UPDRAFT_POLL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000u64);
    Duration::from_millis(ms.clamp(50, 60_000))
}

/// One event as a line: `TIME [RESOURCE]: STATUS  REASON`.
pub fn event_line(event: &Value) -> String {
    let s = |k: &str| event[k].as_str().unwrap_or_default();
    let reason = s("resource_status_reason");
    let mut line = format!(
        "{} [{}]: {}",
        s("event_time"),
        s("resource_name"),
        s("resource_status")
    );
    if !reason.is_empty() {
        line.push_str("  ");
        line.push_str(reason);
    }
    line
}

/// The id of the newest event of a stack (where a wait after an action starts reading).
pub async fn last_event_id(client: &Client, path: &str) -> Result<Option<String>, ApiFailure> {
    let body = client
        .get(&format!("{path}/events?sort_dir=desc&limit=1"))
        .await?;
    Ok(body["events"][0]["id"].as_str().map(str::to_string))
}

/// What a finished wait saw.
#[derive(Debug)]
pub struct Outcome {
    /// The stack at the end (`None` when it is gone: deleted).
    pub stack: Option<Value>,
}

impl Outcome {
    /// The final `stack_status` (`DELETE_COMPLETE` when the stack is gone).
    pub fn status(&self) -> String {
        match &self.stack {
            Some(s) => s["stack_status"].as_str().unwrap_or("UNKNOWN").to_string(),
            None => "DELETE_COMPLETE".into(),
        }
    }
}

/// Where events go: a live bar on a terminal, plain lines otherwise.
enum Display {
    Bar(ProgressBar),
    Plain,
}

impl Display {
    fn new(name: &str) -> Self {
        if !std::io::stdout().is_terminal() {
            return Display::Plain;
        }
        let bar = ProgressBar::new(0);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {prefix} {bar:20} {pos}/{len} resources  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Display::Bar(bar)
    }

    fn event(&self, event: &Value) {
        match self {
            Display::Bar(bar) => bar.println(event_line(event)),
            Display::Plain => println!("{}", event_line(event)),
        }
    }

    fn resources(&self, done: u64, total: u64, status: &str) {
        if let Display::Bar(bar) = self {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(status.to_string());
        }
    }

    fn finish(&self) {
        if let Display::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Follows the stack at `path` (canonical) until it is not `*_IN_PROGRESS`, printing each
/// event after `marker`. `resources` also counts resources done for the bar.
pub async fn follow(
    client: &Client,
    path: &str,
    name: &str,
    mut marker: Option<String>,
) -> anyhow::Result<Outcome> {
    let display = Display::new(name);
    let started = Instant::now();
    let result = async {
        loop {
            let stack = match client.get(&format!("{path}?resolve_outputs=false")).await {
                Ok(body) => Some(body["stack"].clone()),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(anyhow::Error::new(e)),
            };
            // Events after the stack was read, so none is missed before the loop ends.
            match drain_events(client, path, &mut marker, &display).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(anyhow::Error::new(e)),
            }
            let Some(stack) = stack else {
                return Ok(Outcome { stack: None });
            };
            let status = stack["stack_status"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if !status.ends_with("_IN_PROGRESS") {
                return Ok(Outcome { stack: Some(stack) });
            }
            if let Display::Bar(_) = display
                && let Ok(body) = client.get(&format!("{path}/resources")).await
            {
                let (done, total) = count_done(&body["resources"], &status);
                display.resources(done, total, &status);
            }
            tokio::time::sleep(poll_interval()).await;
        }
    }
    .await;
    display.finish();
    tracing::debug!(elapsed = ?started.elapsed(), "wait over");
    result
}

/// Resources whose status is `<ACTION>_COMPLETE` for the stack's current action, of all.
fn count_done(resources: &Value, stack_status: &str) -> (u64, u64) {
    let action = stack_status.split('_').next().unwrap_or_default();
    let list = resources.as_array().map(Vec::as_slice).unwrap_or_default();
    let done = list
        .iter()
        .filter(|r| {
            r["resource_status"]
                .as_str()
                .is_some_and(|s| s == format!("{action}_COMPLETE"))
        })
        .count();
    (done as u64, list.len() as u64)
}

/// Prints every event after `marker` (oldest first), moving `marker` on.
async fn drain_events(
    client: &Client,
    path: &str,
    marker: &mut Option<String>,
    display: &Display,
) -> Result<(), ApiFailure> {
    loop {
        let mut query = format!("{path}/events?sort_dir=asc&limit=100");
        if let Some(m) = marker.as_deref() {
            query.push_str(&format!("&marker={}", super::client::encode(m)));
        }
        let body = client.get(&query).await?;
        let events = body["events"].as_array().cloned().unwrap_or_default();
        for e in &events {
            display.event(e);
            if let Some(id) = e["id"].as_str() {
                *marker = Some(id.to_string());
            }
        }
        if events.len() < 100 {
            return Ok(());
        }
    }
}

/// The failure report for a `*_FAILED` stack: its reason and each failed resource's.
pub async fn failure_report(client: &Client, path: &str, stack: &Value) -> String {
    let mut out = format!(
        "Stack {} {}: {}",
        stack["stack_name"].as_str().unwrap_or_default(),
        stack["stack_status"].as_str().unwrap_or_default(),
        stack["stack_status_reason"].as_str().unwrap_or_default()
    );
    if let Ok(body) = client
        .get(&format!("{path}/resources?nested_depth=5"))
        .await
    {
        for r in body["resources"].as_array().into_iter().flatten() {
            let status = r["resource_status"].as_str().unwrap_or_default();
            if status.ends_with("_FAILED") {
                out.push_str(&format!(
                    "\n  {} ({}): {}: {}",
                    r["resource_name"].as_str().unwrap_or_default(),
                    r["resource_type"].as_str().unwrap_or_default(),
                    status,
                    r["resource_status_reason"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    out
}

/// After a wait: the final status line on stdout; on `*_FAILED` the report on stderr and
/// exit status 1.
pub async fn conclude(
    client: &Client,
    path: &str,
    name: &str,
    outcome: &Outcome,
) -> std::process::ExitCode {
    let status = outcome.status();
    println!("Stack {name} {status}");
    match &outcome.stack {
        Some(stack) if status.ends_with("_FAILED") => {
            eprintln!("{}", failure_report(client, path, stack).await);
            std::process::ExitCode::FAILURE
        }
        _ => std::process::ExitCode::SUCCESS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_render_as_lines() {
        let e = json!({"event_time": "2026-01-01T00:00:00Z", "resource_name": "web",
            "resource_status": "CREATE_COMPLETE", "resource_status_reason": "state changed"});
        assert_eq!(
            event_line(&e),
            "2026-01-01T00:00:00Z [web]: CREATE_COMPLETE  state changed"
        );
    }

    #[test]
    fn resources_done_count_the_current_action() {
        let r = json!([{"resource_status": "UPDATE_COMPLETE"}, {"resource_status": "CREATE_COMPLETE"},
            {"resource_status": "UPDATE_IN_PROGRESS"}]);
        assert_eq!(count_done(&r, "UPDATE_IN_PROGRESS"), (1, 3));
        assert_eq!(count_done(&Value::Null, "CREATE_IN_PROGRESS"), (0, 0));
    }
}
