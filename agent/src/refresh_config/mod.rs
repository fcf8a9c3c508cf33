//! `os-refresh-config`, built in: runs the phase directories under the base directory
//! through [`run_parts`], one run at a time ([`lock`]), with `error.d` on failure.

pub mod lock;
pub mod run_parts;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use regex::Regex;

use lock::RunLock;

/// The base directory when `OS_REFRESH_CONFIG_BASE_DIR` is unset.
pub const DEFAULT_BASE_DIR: &str = "/usr/libexec/os-refresh-config";
/// The deprecated base directory, used only when it alone exists.
pub const OLD_BASE_DIR: &str = "/opt/stack/os-config-refresh";
/// The phases, in the order they run (migration after post-configure, as upstream does).
pub const PHASES: [&str; 4] = ["pre-configure", "configure", "post-configure", "migration"];

/// Runs through all of the phases to ensure configuration is applied and enabled on a
/// machine; exits with an error if any phase has a problem. Set
/// OS_REFRESH_CONFIG_BASE_DIR to override the base directory.
#[derive(Debug, Parser)]
#[command(name = "os-refresh-config", infer_long_args = true)]
struct Args {
    /// Print base dir and exit.
    #[arg(long)]
    print_base: bool,
    /// Print phases (tab separated) and exit.
    #[arg(long)]
    print_phases: bool,
    /// Accepted for compatibility; the level comes from RUST_LOG.
    #[arg(long, default_value = "INFO", value_parser = ["ERROR", "WARN", "CRITICAL", "INFO", "DEBUG"])]
    log_level: String,
    /// Lock file to prevent multiple running copies.
    #[arg(long, default_value = "/var/run/os-refresh-config.lock")]
    lockfile: PathBuf,
    /// Seconds until the current run will be terminated.
    #[arg(long)]
    timeout: Option<u64>,
}

/// The base directory: the env override, else the default, else the legacy directory
/// when only it exists.
pub fn base_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("OS_REFRESH_CONFIG_BASE_DIR") {
        return dir.into();
    }
    if Path::new(OLD_BASE_DIR).is_dir() && !Path::new(DEFAULT_BASE_DIR).is_dir() {
        tracing::warn!(
            "base directory {OLD_BASE_DIR} is deprecated; the recommended base directory is {DEFAULT_BASE_DIR}"
        );
        return OLD_BASE_DIR.into();
    }
    DEFAULT_BASE_DIR.into()
}

/// Runs as `os-refresh-config` with `args` (`args[0]` is the program name).
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (2).
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    let base = base_dir();
    if args.print_base {
        println!("{}", base.display());
        return ExitCode::SUCCESS;
    }
    if args.print_phases {
        println!("{}", PHASES.join("\t"));
        return ExitCode::SUCCESS;
    }
    let _lock = match RunLock::acquire(&args.lockfile) {
        Ok(lock) => lock,
        Err(err) => {
            tracing::error!("{err}");
            return ExitCode::from(err.exit_status());
        }
    };
    let pattern_text = std::env::var("RUN_PARTS_REGEX")
        .unwrap_or_else(|_| run_parts::DEFAULT_NAME_PATTERN.to_string());
    let pattern = match Regex::new(&pattern_text) {
        Ok(p) => p,
        Err(source) => {
            tracing::error!(
                "{}",
                run_parts::RunPartsError::BadPattern {
                    pattern: pattern_text,
                    source
                }
            );
            return ExitCode::FAILURE;
        }
    };
    let deadline = args
        .timeout
        .filter(|s| *s > 0)
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    if run_phases(&base, &pattern, deadline).await {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs each existing phase directory in order; on the first failure runs `error.d`
/// (its outcome ignored) and returns false.
async fn run_phases(base: &Path, pattern: &Regex, deadline: Option<tokio::time::Instant>) -> bool {
    for phase in PHASES {
        let dir = base.join(format!("{phase}.d"));
        if !dir.exists() {
            tracing::debug!(phase, "no directory for phase");
            continue;
        }
        tracing::info!(phase, "starting phase");
        match run_parts::run(&dir, pattern, deadline).await {
            Ok(()) => tracing::info!(phase, "completed phase"),
            Err(err) => {
                tracing::error!(phase, "during {phase} phase: {err}");
                let error_dir = base.join("error.d");
                if error_dir.exists() {
                    tracing::info!("calling error handlers");
                    if let Err(err) = run_parts::run(&error_dir, pattern, None).await {
                        tracing::warn!("error handlers: {err}");
                    }
                }
                tracing::error!("aborting");
                return false;
            }
        }
    }
    true
}
