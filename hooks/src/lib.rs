//! The deployment contract shared by the Updraft server and agent.
//!
//! Both sides speak Heat's formats: the server builds [`deployment::Deployment`] documents
//! (Heat's "derived configs") into each server's metadata, the agent hands them to a hook
//! ([`hook`]) and sends a [`signal::SignalPayload`] back. URL signing for the capability
//! (temp-URL) transports lives in [`signing`] so the server that issues URLs and any tool
//! that checks them agree byte for byte.

pub mod ansible;
pub mod apply_config;
pub mod builtin;
pub mod cfn_init;
pub mod chef;
pub mod deployment;
pub mod docker_cmd;
pub mod docker_compose;
pub mod docker_reconcile;
pub mod ec2_signature;
pub mod hiera;
pub mod hook;
pub mod json_file;
pub mod json_files;
pub mod names;
pub mod process;
pub mod puppet;
pub mod python_json;
pub mod pyyaml;
pub mod salt;
pub mod script;
pub mod signal;
pub mod signing;
mod tool_hook;

pub use deployment::{Deployment, DeploymentInput, OutputSchema};
pub use signal::SignalPayload;
