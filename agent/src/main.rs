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
        init_logging(false);
        return multicall::run(tool, args).await;
    }
    let cli = Cli::parse_from(args);
    let debug = matches!(&cli.command, AgentCommand::Run(run) if run.debug);
    init_logging(debug);
    execute(cli.command).await
}

/// Logs go to stderr, filtered by `RUST_LOG` when set and not empty (default `info`; with
/// `--debug`, the agent's own debug lines too, not those of the HTTP libraries).
fn init_logging(debug: bool) {
    let default = if debug {
        "info,updraft_agent=debug,updraft_hooks=debug"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("RUST_LOG")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .and_then(|v| EnvFilter::try_new(v).ok())
                .unwrap_or_else(|| EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
