//! `updraft-agent`: the agent's stand-alone binary.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use updraft_agent::cli::{AgentCommand, execute};
use updraft_agent::multicall;

/// Updraft's in-guest agent.
#[derive(Debug, Parser)]
#[command(name = "updraft-agent", version, about)]
struct Cli {
    #[command(subcommand)]
    command: AgentCommand,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(tool) = args.first().and_then(multicall::invoked_as) {
        init_logging();
        return multicall::run(tool, args).await;
    }
    let cli = Cli::parse_from(args);
    init_logging();
    execute(cli.command).await
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`).
fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
