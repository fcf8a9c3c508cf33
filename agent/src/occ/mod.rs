//! `os-collect-config`, built in: the same options, config file, cache layout, command
//! protocol and exit statuses as os-collect-config 14.1.0 (reference heat-agents.md §1),
//! so an image whose elements call `os-collect-config` works with this binary installed
//! under that name. Deliberate differences are listed in each module's documentation:
//! [`options`], [`cache`], [`cycle`], [`source`], and the collectors'.
//!
//! - [`options`] and [`ini`]: command line, environment, config files;
//! - [`source`]: the collectors, by name;
//! - [`merger`]: deployment explosion;
//! - [`cache`] and [`pyjson`]: the cache directory, byte-compatible;
//! - [`cycle`]: the main loop.

pub mod cache;
pub mod cycle;
pub mod ini;
pub mod merger;
pub mod option_table;
pub mod options;
pub mod source;

use std::ffi::OsString;
use std::process::ExitCode;

use options::{Invocation, OptionsError};

/// Runs as `os-collect-config` with `args` (`args[0]` is the program name).
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let env = |name: &str| std::env::var(name).ok();
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let rest = args.get(1..).unwrap_or_default();
    let options = match options::parse(rest, env, home.as_deref()) {
        Ok(Invocation::Run(options)) => options,
        Ok(Invocation::Help(text)) => {
            println!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Version) => {
            println!("{}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(OptionsError::Usage(message)) => {
            eprintln!("usage: os-collect-config [options] [collectors ...]");
            eprintln!("os-collect-config: error: {message}");
            return ExitCode::from(2);
        }
        Err(err) => {
            tracing::error!("{err}");
            return ExitCode::FAILURE;
        }
    };
    if options.debug {
        tracing::info!("--debug has no effect here; set RUST_LOG=debug for debug lines");
    }
    if options.print_cachedir {
        println!("{}", options.cachedir.display());
        return ExitCode::SUCCESS;
    }
    match cycle::run(&options).await {
        cycle::Outcome::Exit(code) => code,
        cycle::Outcome::Reexec => cycle::reexec(&args),
    }
}
