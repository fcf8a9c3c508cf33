//! `os-collect-config`, built in. (Placeholder: filled in by its own change.)

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs as `os-collect-config` with `args` (`args[0]` is the program name).
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let _ = args;
    eprintln!("os-collect-config: not built yet");
    ExitCode::FAILURE
}
