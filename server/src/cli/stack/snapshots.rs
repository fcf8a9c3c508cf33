//! `updraft stack snapshot create|list|show|restore|delete`, as `openstack stack
//! snapshot`. A snapshot may be named by id or, when unambiguous, by name.

use std::process::ExitCode;

use anyhow::bail;
use serde_json::{Map, Value, json};

use super::super::client::{Client, encode};
use super::super::output::{OutputArgs, print_list, print_object};
use super::super::progress::{conclude, follow, last_event_id};
use super::confirm;

/// `stack snapshot …`.
#[derive(Debug, clap::Subcommand)]
pub enum SnapshotCommand {
    /// Snapshot a stack (its resources' data, template and environment).
    Create {
        /// Stack name or id.
        stack: String,
        /// The snapshot's name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// List a stack's snapshots (oldest first).
    List {
        /// Stack name or id.
        stack: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one snapshot, its data included.
    Show {
        /// Stack name or id.
        stack: String,
        /// Snapshot id or name.
        snapshot: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Restore a stack to a snapshot.
    Restore {
        /// Stack name or id.
        stack: String,
        /// Snapshot id or name.
        snapshot: String,
        /// Wait until the restore is over, showing its events.
        #[arg(long)]
        wait: bool,
    },
    /// Delete a snapshot.
    Delete {
        /// Stack name or id.
        stack: String,
        /// Snapshot id or name.
        snapshot: String,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long)]
        yes: bool,
    },
}

const SNAPSHOT_COLUMNS: &[&str] = &["id", "name", "status", "status_reason", "creation_time"];

/// A snapshot without its (possibly large) data.
fn without_data(snapshot: &Value) -> Value {
    let mut out = Map::new();
    for k in [
        "id",
        "name",
        "stack_id",
        "action",
        "status",
        "status_reason",
        "creation_time",
    ] {
        out.insert(k.into(), snapshot[k].clone());
    }
    Value::Object(out)
}

/// The id of the snapshot `given` (an id, else a unique name) of the stack at `path`.
async fn snapshot_id(c: &Client, path: &str, given: &str) -> anyhow::Result<String> {
    let body = c.get(&format!("{path}/snapshots")).await?;
    let all = body["snapshots"].as_array().cloned().unwrap_or_default();
    if all.iter().any(|s| s["id"] == given) {
        return Ok(given.to_string());
    }
    let named: Vec<&Value> = all.iter().filter(|s| s["name"] == given).collect();
    match named.as_slice() {
        [one] => Ok(one["id"].as_str().unwrap_or(given).to_string()),
        [] => bail!("the stack has no snapshot {given} (by id or name)"),
        _ => bail!("several snapshots are named {given}: give an id"),
    }
}

/// Runs `stack snapshot …`.
pub async fn run(c: &Client, command: SnapshotCommand) -> anyhow::Result<ExitCode> {
    match command {
        SnapshotCommand::Create {
            stack,
            name,
            output,
        } => {
            let (path, _) = c.stack(&stack).await?;
            let created = c
                .post(&format!("{path}/snapshots"), &json!({"name": name}))
                .await?;
            print_object(&without_data(&created), &output)?;
        }
        SnapshotCommand::List { stack, output } => {
            let (path, _) = c.stack(&stack).await?;
            let body = c.get(&format!("{path}/snapshots")).await?;
            let rows = body["snapshots"].as_array().cloned().unwrap_or_default();
            print_list(&rows, SNAPSHOT_COLUMNS, &output)?;
        }
        SnapshotCommand::Show {
            stack,
            snapshot,
            output,
        } => {
            let (path, _) = c.stack(&stack).await?;
            let sid = snapshot_id(c, &path, &snapshot).await?;
            let body = c.get(&format!("{path}/snapshots/{}", encode(&sid))).await?;
            print_object(&body["snapshot"], &output)?;
        }
        SnapshotCommand::Restore {
            stack,
            snapshot,
            wait,
        } => {
            let (path, row) = c.stack(&stack).await?;
            let name = row["stack_name"].as_str().unwrap_or(&stack).to_string();
            let sid = snapshot_id(c, &path, &snapshot).await?;
            let marker = last_event_id(c, &path).await?;
            c.post(
                &format!("{path}/snapshots/{}/restore", encode(&sid)),
                &json!({}),
            )
            .await?;
            if wait {
                let outcome = follow(c, &path, &name, marker).await?;
                return Ok(conclude(c, &path, &name, &outcome).await);
            }
        }
        SnapshotCommand::Delete {
            stack,
            snapshot,
            yes,
        } => {
            if !yes && !confirm(&format!("Delete snapshot {snapshot} of stack {stack}?")) {
                println!("Nothing deleted.");
                return Ok(ExitCode::FAILURE);
            }
            let (path, _) = c.stack(&stack).await?;
            let sid = snapshot_id(c, &path, &snapshot).await?;
            c.delete(&format!("{path}/snapshots/{}", encode(&sid)))
                .await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
