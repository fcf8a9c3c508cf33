//! `updraft completions bash|zsh|fish`: shell completion scripts for the whole CLI.

use std::process::ExitCode;

use clap::CommandFactory;

/// Options of `updraft completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Prints the completion script on stdout.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "updraft", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
