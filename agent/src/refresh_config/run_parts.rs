//! dib-run-parts, built in: which files in a phase directory run, in what order, with
//! what environment, and stopping at the first failure.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant as StdInstant;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{AccessFlags, Pid, access};
use regex::Regex;
use tokio::process::Command;
use tokio::time::Instant;

/// dib-run-parts' default `RUN_PARTS_REGEX`: no dots, so `20.sh` or `x.rpmsave` never run.
pub const DEFAULT_NAME_PATTERN: &str = "^[0-9A-Za-z_-]+$";

/// Names of files sourced from `environment.d` (dots allowed there).
const ENVIRONMENT_NAME_CHARS: fn(u8) -> bool =
    |b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');

/// Why a phase directory did not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum RunPartsError {
    /// The phase path exists but is not a directory one can list.
    #[error("scripts directory {path} must exist and be a directory: {source}")]
    NotADirectory {
        /// The phase directory.
        path: PathBuf,
        /// Why listing it failed.
        source: io::Error,
    },
    /// `RUN_PARTS_REGEX` is not a regular expression.
    #[error("RUN_PARTS_REGEX {pattern:?} is not a valid regular expression: {source}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// The parser's complaint.
        source: regex::Error,
    },
    /// Sourcing `environment.d` failed (a file exited non-zero, or bash is missing).
    #[error("sourcing environment files from {dir} failed: {reason}")]
    Environment {
        /// The `environment.d` directory.
        dir: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A script could not be started.
    #[error("could not run {script}: {source}")]
    Spawn {
        /// The script.
        script: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A script exited non-zero (or was killed); later scripts did not run.
    #[error("{script} failed with exit status {code}")]
    Failed {
        /// The script.
        script: PathBuf,
        /// Its exit code, or `128 + signal`.
        code: i32,
    },
    /// The deadline passed while a script ran; its process group was killed.
    #[error("{script} was killed: the run's timeout passed")]
    TimedOut {
        /// The script that was running.
        script: PathBuf,
    },
}

/// The executable files in `dir` whose names match `pattern`, in dib-run-parts order
/// (`LANG=C sort -n`). Regular files and symlinks to them only; subdirectories are not
/// entered.
pub fn select(dir: &Path, pattern: &Regex) -> Result<Vec<PathBuf>, RunPartsError> {
    let entries = std::fs::read_dir(dir).map_err(|source| RunPartsError::NotADirectory {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut names: Vec<OsString> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|name| name.to_str().is_some_and(|n| pattern.is_match(n)))
        .filter(|name| {
            let path = dir.join(name);
            // `find -xtype f -executable`: follows symlinks, asks access(2) like find does.
            path.is_file() && access(&path, AccessFlags::X_OK).is_ok()
        })
        .collect();
    names.sort_by(|a, b| sort_n(a.as_bytes(), b.as_bytes()));
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// `LANG=C sort -n` on two lines: by leading number (optional `-`, digits, optional
/// `.digits`; none counts as 0), then byte order as sort's last resort.
pub fn sort_n(a: &[u8], b: &[u8]) -> Ordering {
    compare_numbers(leading_number(a), leading_number(b)).then_with(|| a.cmp(b))
}

/// A leading number as (negative, integer digits without leading zeros, fraction digits
/// without trailing zeros): compared as text so any length works, as sort does.
fn leading_number(s: &[u8]) -> (bool, &[u8], &[u8]) {
    let (neg, rest) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let int_len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let int = &rest[..int_len];
    let int = &int[int.iter().take_while(|b| **b == b'0').count()..];
    let mut frac: &[u8] = &[];
    if rest.get(int_len) == Some(&b'.') {
        let after = &rest[int_len + 1..];
        let len = after.iter().take_while(|b| b.is_ascii_digit()).count();
        frac = &after[..len];
        while let Some((b'0', head)) = frac.split_last() {
            frac = head;
        }
    }
    let zero = int.is_empty() && frac.is_empty();
    (neg && !zero, int, frac)
}

fn compare_numbers(a: (bool, &[u8], &[u8]), b: (bool, &[u8], &[u8])) -> Ordering {
    let magnitude = |x: (bool, &[u8], &[u8]), y: (bool, &[u8], &[u8])| {
        x.1.len()
            .cmp(&y.1.len())
            .then_with(|| x.1.cmp(y.1))
            .then_with(|| x.2.cmp(y.2))
    };
    match (a.0, b.0) {
        (false, false) => magnitude(a, b),
        (true, true) => magnitude(b, a),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

/// The files dib-run-parts sources from `<dir>/../environment.d`: regular files (or links
/// to them) named with `[0-9A-Za-z_.-]`, in byte order (its `sort -n` sees full paths,
/// which have no leading number).
pub fn environment_files(phase_dir: &Path) -> Vec<PathBuf> {
    let dir = phase_dir.join("..").join("environment.d");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<OsString> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| !n.is_empty() && n.as_bytes().iter().all(|b| ENVIRONMENT_NAME_CHARS(*b)))
        .filter(|n| dir.join(n).is_file())
        .collect();
    names.sort();
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// The environment the scripts see after `files` are sourced, in order, by bash under
/// `set -eu -o pipefail` as dib-run-parts does. Their output goes to stderr.
async fn sourced_environment(
    dir: &Path,
    files: &[PathBuf],
) -> Result<BTreeMap<OsString, OsString>, RunPartsError> {
    let env_err = |reason: String| RunPartsError::Environment {
        dir: dir.to_path_buf(),
        reason,
    };
    // fd 3 carries the environment dump so the sourced files' stdout cannot corrupt it.
    let script =
        r#"exec 3>&1 1>&2; set -eu -o pipefail; for f in "$@"; do source "$f"; done; env -0 >&3"#;
    let output = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("environment.d")
        .args(files)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await
        .map_err(|e| env_err(format!("could not start bash: {e}")))?;
    if !output.status.success() {
        return Err(env_err(format!("bash exited with {}", output.status)));
    }
    let mut env = BTreeMap::new();
    for entry in output.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        if let Some(eq) = entry.iter().position(|b| *b == b'=') {
            let key = OsString::from(std::ffi::OsStr::from_bytes(&entry[..eq]));
            // `_` is bash's last-argument variable, not something the files exported.
            if key != "_" {
                env.insert(key, std::ffi::OsStr::from_bytes(&entry[eq + 1..]).into());
            }
        }
    }
    Ok(env)
}

/// Runs every selected script in `dir` in order, each in its own process group, stopping
/// at the first that fails. A script still running at `deadline` has its group killed.
pub async fn run(
    dir: &Path,
    pattern: &Regex,
    deadline: Option<Instant>,
) -> Result<(), RunPartsError> {
    if !dir.is_dir() {
        return Err(RunPartsError::NotADirectory {
            path: dir.to_path_buf(),
            source: io::Error::from(io::ErrorKind::NotADirectory),
        });
    }
    let targets = select(dir, pattern)?;
    let env_files = environment_files(dir);
    let env = if env_files.is_empty() {
        None
    } else {
        for file in &env_files {
            tracing::info!(file = %file.display(), "sourcing environment file");
        }
        Some(sourced_environment(&dir.join("..").join("environment.d"), &env_files).await?)
    };
    let mut timings = Vec::with_capacity(targets.len());
    for script in &targets {
        tracing::info!(script = %script.display(), "running");
        let started = StdInstant::now();
        run_one(script, env.as_ref(), deadline).await?;
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(script = %script.display(), seconds, "completed");
        timings.push(seconds);
    }
    if !targets.is_empty() {
        let table: Vec<String> = targets
            .iter()
            .zip(&timings)
            .map(|(t, s)| {
                format!(
                    "{}={s:.3}s",
                    t.file_name().unwrap_or_default().to_string_lossy()
                )
            })
            .collect();
        tracing::info!(target_dir = %dir.display(), "profile: {}", table.join(" "));
    }
    Ok(())
}

fn command_for(script: &Path, env: Option<&BTreeMap<OsString, OsString>>, shell: bool) -> Command {
    let mut command = if shell {
        let mut c = Command::new("bash");
        c.arg(script);
        c
    } else {
        Command::new(script)
    };
    if let Some(env) = env {
        command.env_clear().envs(env);
    }
    // Own process group: a timeout kills everything the script started.
    command.process_group(0).kill_on_drop(true);
    command
}

async fn run_one(
    script: &Path,
    env: Option<&BTreeMap<OsString, OsString>>,
    deadline: Option<Instant>,
) -> Result<(), RunPartsError> {
    let spawn_err = |source| RunPartsError::Spawn {
        script: script.to_path_buf(),
        source,
    };
    let mut child = match command_for(script, env, false).spawn() {
        Ok(child) => child,
        // No `#!` line: bash, which dib-run-parts is, runs such a file as a shell script.
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::ENOEXEC as i32) => {
            command_for(script, env, true).spawn().map_err(spawn_err)?
        }
        Err(e) => return Err(spawn_err(e)),
    };
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let status = match deadline {
        None => child.wait().await,
        Some(deadline) => match tokio::time::timeout_at(deadline, child.wait()).await {
            Ok(status) => status,
            Err(_) => {
                tracing::error!(script = %script.display(), "timeout reached: killing its process group");
                if let Some(group) = group {
                    // ESRCH means the group is already gone; nothing left to kill.
                    let _ = killpg(group, Signal::SIGKILL);
                }
                let _ = child.wait().await;
                return Err(RunPartsError::TimedOut {
                    script: script.to_path_buf(),
                });
            }
        },
    }
    .map_err(spawn_err)?;
    if status.success() {
        return Ok(());
    }
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    Err(RunPartsError::Failed {
        script: script.to_path_buf(),
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<&str> = names.to_vec();
        v.sort_by(|a, b| sort_n(a.as_bytes(), b.as_bytes()));
        v.into_iter().map(String::from).collect()
    }

    #[test]
    fn numeric_prefix_orders_and_names_without_one_count_as_zero() {
        assert_eq!(
            sorted(&["100-x", "20-y", "zz", "5_q", "20-a"]),
            ["zz", "5_q", "20-a", "20-y", "100-x"]
        );
        assert_eq!(
            sorted(&["010-b", "9-a", "-5-neg", "a"]),
            ["-5-neg", "a", "9-a", "010-b"]
        );
        assert_eq!(sorted(&["1.5", "1.10", "1"]), ["1", "1.10", "1.5"]);
    }

    #[test]
    fn selection_skips_dots_dotfiles_directories_and_non_executables() {
        let dir = tempfile::tempdir().unwrap();
        for (name, mode) in [
            ("10-run", 0o755),
            ("20.sh", 0o755),
            (".hidden", 0o755),
            ("30-noexec", 0o644),
            ("05_first", 0o700),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        std::fs::create_dir(dir.path().join("40-dir")).unwrap();
        let pattern = Regex::new(DEFAULT_NAME_PATTERN).unwrap();
        let got: Vec<String> = select(dir.path(), &pattern)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(got, ["05_first", "10-run"]);
    }
}
