//! `updraft-agent`: the agent's stand-alone binary.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use updraft_agent::cli::{AgentCommand, execute};

/// Updraft's in-guest agent.
#[derive(Debug, Parser)]
#[command(name = "updraft-agent", version, about)]
struct Cli {
    #[command(subcommand)]
    command: AgentCommand,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    execute(cli.command).await
}
