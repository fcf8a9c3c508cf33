//! The agent's command line, shared by the `updraft-agent` binary and `updraft agent`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::config::AgentConfig;
use crate::daemon;

/// Agent subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum AgentCommand {
    /// Poll the metadata URL, run new deployments through their hooks and signal results.
    Run(RunArgs),
}

/// Options of `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The server's metadata URL for this server (a signed capability URL).
    #[arg(long, env = "UPDRAFT_METADATA_URL", hide_env_values = true)]
    pub metadata_url: String,

    /// Directory for the agent's state (deployed records live in `<DIR>/deployed`).
    #[arg(long, env = "UPDRAFT_STATE_DIR")]
    pub state_dir: PathBuf,

    /// Fetch once, run new deployments, deliver their signals, then exit.
    #[arg(long)]
    pub one_time: bool,

    /// Seconds between polls when the server does not long-poll.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval: u64,

    /// Seconds the server may hold a poll open waiting for a change (0 disables long-poll).
    #[arg(long, default_value_t = 25)]
    pub long_poll: u64,

    /// Extra hooks directory, searched before the defaults (repeatable).
    #[arg(long = "hooks-dir", value_name = "DIR")]
    pub hooks_dir: Vec<PathBuf>,

    /// Where the script hook writes scripts [default: <state-dir>/heat-config-script].
    #[arg(long, env = "HEAT_SCRIPT_WORKING", value_name = "DIR")]
    pub script_working_dir: Option<PathBuf>,

    /// Where scripts write outputs [default: <state-dir>/heat-config-script-outputs].
    #[arg(long, env = "HEAT_SCRIPT_OUTPUTS", value_name = "DIR")]
    pub script_outputs_dir: Option<PathBuf>,

    /// Kill a hook running longer than this many seconds (default: no limit).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub hook_timeout: Option<u64>,
}

/// Runs `cmd`; errors are printed to stderr as one line `updraft-agent: <reason>`.
pub async fn execute(cmd: AgentCommand) -> ExitCode {
    let result = match cmd {
        AgentCommand::Run(args) => {
            let config = AgentConfig::from_args(args);
            if config.one_time {
                daemon::run_once(config).await
            } else {
                daemon::run(config).await
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("updraft-agent: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: AgentCommand,
    }

    #[test]
    fn parses_run_with_defaults_and_repeated_hooks_dirs() {
        let cli = Cli::try_parse_from([
            "updraft-agent",
            "run",
            "--metadata-url",
            "http://h/m",
            "--state-dir",
            "/s",
            "--hooks-dir",
            "/a",
            "--hooks-dir",
            "/b",
        ])
        .unwrap();
        let AgentCommand::Run(args) = cli.command;
        assert_eq!((args.poll_interval, args.long_poll), (30, 25));
        assert_eq!(args.hooks_dir, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert!(!args.one_time);
        assert_eq!(args.hook_timeout, None);
        assert!(
            Cli::try_parse_from([
                "x",
                "run",
                "--metadata-url",
                "u",
                "--state-dir",
                "s",
                "--poll-interval",
                "0"
            ])
            .is_err()
        );
    }
}
