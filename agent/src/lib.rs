//! Updraft's in-guest agent: polls its server's metadata, runs each new deployment once
//! through its hook, and signals the result back.
//!
//! [`cli`] is the entry point, embedded both by the `updraft-agent` binary and by
//! `updraft agent`.

pub mod apply_config;
pub mod backoff;
pub mod cfn;
pub mod cfn_signal;
pub mod cli;
pub mod collectors;
pub mod config;
pub mod daemon;
pub mod docker_reconcile;
pub mod heat_config;
pub mod heat_config_notify;
pub mod hook_command;
pub mod http;
pub mod keystone;
pub mod metadata;
pub mod multicall;
pub mod notify;
pub mod occ;
pub mod redact;
pub mod refresh_config;
pub mod secret;
pub mod shutdown;
pub mod state;
pub mod systemd;

pub use cli::{AgentCommand, RunArgs, execute};
