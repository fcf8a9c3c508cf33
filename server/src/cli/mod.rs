//! The `updraft` command line.

mod admin;
mod bench;
mod bench_engine;
mod bench_fleet;
mod client;
mod completions;
mod config;
mod graph;
mod local_run;
mod output;
mod progress;
mod server;
mod software;
mod stack;
mod template;
mod up;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Updraft: Heat-compatible software-configuration orchestration.
#[derive(Debug, Parser)]
#[command(name = "updraft", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server and engine.
    Server(server::ServerArgs),
    /// Manage projects and users (`updraft admin project create NAME`, `user create …`).
    Admin(admin::AdminArgs),
    /// Run a template locally: in-process server, one agent per server, outputs printed.
    Up(up::UpArgs),
    /// Measure the deployment path (server, agents, script hooks) and print figures.
    Bench(bench::BenchArgs),
    /// Work with templates offline (`updraft template validate -t FILE`).
    Template {
        #[command(subcommand)]
        command: template::TemplateCommand,
    },
    /// Stacks on a server (`openstack stack`'s verbs; --url/UPDRAFT_URL, --token/UPDRAFT_TOKEN).
    Stack(stack::StackArgs),
    /// Software configs and deployments on a server.
    Software(software::SoftwareArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// The in-guest agent (the same code as `updraft-agent`).
    Agent {
        #[command(subcommand)]
        command: updraft_agent::cli::AgentCommand,
    },
}

impl Cli {
    /// Log filter when `RUST_LOG` is unset: `up` keeps its own output readable.
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Up(_)
            | Command::Bench(_)
            | Command::Template { .. }
            | Command::Stack(_)
            | Command::Software(_)
            | Command::Completions(_)
            | Command::Admin(_) => "warn",
            _ => "info",
        }
    }
}

/// Runs the chosen command.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Server(args) => server::run(args).await,
        Command::Up(args) => up::run(args).await,
        Command::Admin(args) => admin::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Template { command } => template::run(command).await,
        Command::Stack(args) => stack::run(args).await,
        Command::Software(args) => software::run(args).await,
        Command::Completions(args) => completions::run(&args),
        Command::Agent { command } => return updraft_agent::cli::execute(command).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("updraft: {e:#}");
            ExitCode::FAILURE
        }
    }
}
