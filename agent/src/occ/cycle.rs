//! The main loop (reference heat-agents.md §1.2): collect from every collector in order,
//! store the values in the cache, run the command with `OS_CONFIG_FILES` when something
//! changed (or `--force`), commit the values only when it succeeded, sleep, repeat.
//! Without a command, or with `--print`, the collected values are printed once as JSON.
//!
//! Differences from upstream: the sleep goes back to `min_polling_interval` after a pass
//! whose change the command processed successfully (upstream keeps doubling it whatever
//! happens, §1.7 Q4, so a deployment that depends on another waits up to a whole
//! `polling_interval`); each sleep gets ±10 % jitter (never above `polling_interval`);
//! SIGHUP is honoured again after the command (upstream ignores it from the first command
//! until the next re-exec).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use rand::RngExt;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::cache::{Cache, CacheError};
use super::options::Options;
use updraft_hooks::python_json as pyjson;

use super::cache::INDENT_1;
use super::source::Sources;

/// Jitter applied to each sleep between passes.
pub const JITTER: f64 = 0.1;

/// What one pass collected.
#[derive(Debug, Default)]
pub struct Pass {
    /// Keys whose value changed, in collection order, without repeats.
    pub changed: Vec<String>,
    /// Every key collected, in order (the content of `os_config_files.json`).
    pub keys: Vec<String>,
    /// The cache paths of `keys`.
    pub paths: Vec<PathBuf>,
    /// The values, for printing (a repeated key keeps its first position, last value).
    pub content: Map<String, Value>,
}

/// Runs every collector; with `store`, writes the cache (and, on a change, the meta list
/// and the backup copy).
pub async fn collect_all(
    sources: &mut Sources,
    options: &Options,
    cache: &Cache,
    store: bool,
) -> Result<Pass, CacheError> {
    let mut pass = Pass::default();
    for name in &options.collectors {
        let collected = match sources.collect(name, options, cache).await {
            Ok(collected) => collected,
            Err(super::source::SourceError::NotConfigured(reason)) => {
                tracing::debug!("Source [{name}] Not configured: {reason}");
                continue;
            }
            Err(super::source::SourceError::NotAvailable(reason)) => {
                tracing::warn!("Source [{name}] Unavailable: {reason}");
                continue;
            }
        };
        for (key, value) in collected {
            if store {
                let (changed, path) = match cache.store(&key, &value) {
                    Ok(stored) => stored,
                    Err(CacheError::BadKey(key)) => {
                        tracing::error!(collector = %name, "refusing to cache key {key:?}: not a plain file name");
                        continue;
                    }
                    Err(err) => return Err(err),
                };
                if changed && !pass.changed.contains(&key) {
                    pass.changed.push(key.clone());
                }
                pass.paths.push(path);
                pass.keys.push(key);
            } else {
                pass.content.insert(key, value);
            }
        }
    }
    if !pass.changed.is_empty() {
        cache.store_meta_list(&pass.keys)?;
        if let Err(err) = cache.backup_to(&options.backup_cachedir) {
            // The backup is a convenience copy; losing it must not stop the run.
            tracing::warn!("cannot back up the cache: {err}");
        }
    }
    Ok(pass)
}

/// Runs `command` through the shell with `OS_CONFIG_FILES`; its exit status as
/// os-collect-config reports it (a signal `n` as Python's `-n`, i.e. `256 - n`).
pub async fn run_command(command: &str, paths: &[PathBuf]) -> u8 {
    let files = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":");
    tracing::info!("Executing {command} with OS_CONFIG_FILES={files}");
    let status = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .env("OS_CONFIG_FILES", &files)
        .status()
        .await;
    match status {
        Ok(status) if status.success() => 0,
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            let code = match (status.code(), status.signal()) {
                (Some(code), _) => code,
                (None, Some(signal)) => 256 - signal,
                _ => 1,
            };
            tracing::error!(
                "Command failed, will not cache new data. {command:?} returned {status}"
            );
            u8::try_from(code & 0xff).unwrap_or(1).max(1)
        }
        Err(err) => {
            tracing::error!("Command failed, will not cache new data. cannot run /bin/sh: {err}");
            1
        }
    }
}

/// A fingerprint of the config files' contents (unreadable files count as empty).
pub fn config_hash(files: &[PathBuf]) -> String {
    let mut hash = Sha256::new();
    for file in files {
        if let Ok(bytes) = std::fs::read(file) {
            hash.update(&bytes);
        }
    }
    hex::encode(hash.finalize())
}

/// The sleep schedule: from `min`, doubling each pass up to `max`, back to `min` after
/// a processed change.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    min: f64,
    max: f64,
    next: f64,
}

impl Schedule {
    /// A schedule from `min` to `max` seconds.
    pub fn new(min: f64, max: f64) -> Self {
        let min = min.max(0.0);
        Schedule {
            min,
            max: max.max(0.0),
            next: min,
        }
    }

    /// The nominal sleep before the next pass (before jitter); doubles the one after.
    pub fn advance(&mut self) -> f64 {
        let now = self.next;
        self.next = (self.next * 2.0).min(self.max);
        now
    }

    /// A change was processed: poll soon again (dependent deployments follow quickly).
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

/// `seconds` with ±[`JITTER`], capped at `max`.
pub fn jittered(seconds: f64, max: f64) -> Duration {
    let factor = rand::rng().random_range(1.0 - JITTER..=1.0 + JITTER);
    Duration::try_from_secs_f64((seconds * factor).min(max.max(seconds)).max(0.0))
        .unwrap_or(Duration::ZERO)
}

/// What ended the loop.
#[derive(Debug)]
pub enum Outcome {
    /// Exit with this status.
    Exit(ExitCode),
    /// Re-execute (config files changed, or SIGHUP).
    Reexec,
}

/// Runs os-collect-config until it should exit or re-execute.
pub async fn run(options: &Options) -> Outcome {
    let cache = Cache::new(&options.cachedir);
    let client = match crate::http::client() {
        Ok(client) => client,
        Err(err) => {
            tracing::error!("{err}");
            return Outcome::Exit(ExitCode::FAILURE);
        }
    };
    let mut sources = Sources::new(client);
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(stream) => Some(stream),
        Err(err) => {
            tracing::warn!("cannot handle SIGHUP: {err}");
            None
        }
    };
    if options.splay > 0.0 && !options.one_time {
        let wait = rand::rng().random_range(0.0..options.splay);
        tracing::info!("Splay: sleeping {wait:.2} seconds.");
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }
    let config_hash_at_start = config_hash(&options.config_files);
    let mut schedule = Schedule::new(options.min_polling_interval, options.polling_interval);
    let mut exit: u8 = 0;
    let store = options.command.is_some() && !options.print_only;
    loop {
        let pass = match collect_all(&mut sources, options, &cache, store).await {
            Ok(pass) => pass,
            Err(err) => {
                tracing::error!("{err}");
                if options.one_time || !store {
                    return Outcome::Exit(ExitCode::FAILURE);
                }
                tokio::time::sleep(jittered(schedule.advance(), options.polling_interval)).await;
                continue;
            }
        };
        let Some(command) = options.command.as_deref().filter(|_| store) else {
            let text = pyjson::dumps_with(&Value::Object(pass.content), INDENT_1);
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            if let Err(err) = writeln!(out, "{text}").and_then(|()| out.flush()) {
                tracing::error!("cannot print the collected data: {err}");
                return Outcome::Exit(ExitCode::FAILURE);
            }
            return Outcome::Exit(ExitCode::SUCCESS);
        };
        if !pass.changed.is_empty() || options.force {
            let status = run_command(command, &pass.paths).await;
            if status == 0 {
                for key in &pass.changed {
                    if let Err(err) = cache.commit(key) {
                        tracing::error!("{err}");
                    }
                }
                if !pass.changed.is_empty() {
                    schedule.reset();
                }
            } else {
                exit = status;
            }
            if !options.one_time && config_hash(&options.config_files) != config_hash_at_start {
                tracing::info!("config files changed; re-executing");
                return Outcome::Reexec;
            }
            // A SIGHUP that arrived while the command ran is not a reason to re-exec.
            if let Some(hup) = hup.as_mut() {
                tokio::select! { biased; _ = hup.recv() => {}, () = std::future::ready(()) => {} }
            }
        } else {
            tracing::debug!("No changes detected.");
        }
        if options.one_time {
            return Outcome::Exit(ExitCode::from(exit));
        }
        let nominal = schedule.advance();
        let wait = jittered(nominal, options.polling_interval);
        tracing::info!("Sleeping {:.2} seconds.", wait.as_secs_f64());
        match hup.as_mut() {
            Some(hup) => {
                tokio::select! {
                    _ = hup.recv() => {
                        tracing::info!("Signal received. Re-executing");
                        return Outcome::Reexec;
                    }
                    () = tokio::time::sleep(wait) => {}
                }
            }
            None => tokio::time::sleep(wait).await,
        }
    }
}

/// Replaces the process with itself, same arguments (upstream's `execv(argv[0], argv)`);
/// returns only on failure.
pub fn reexec(args: &[OsString]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let program = std::env::current_exe()
        .ok()
        .or_else(|| args.first().map(PathBuf::from));
    let Some(program) = program else {
        tracing::error!("cannot re-execute: no program path");
        return ExitCode::FAILURE;
    };
    let mut command = std::process::Command::new(program);
    if let Some(argv0) = args.first() {
        command.arg0(argv0);
    }
    let err = command.args(args.iter().skip(1)).exec();
    tracing::error!("cannot re-execute: {err}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_doubles_to_the_cap_and_resets_after_a_change() {
        let mut s = Schedule::new(1.0, 8.0);
        let seen: Vec<f64> = (0..5).map(|_| s.advance()).collect();
        assert_eq!(seen, [1.0, 2.0, 4.0, 8.0, 8.0]);
        s.reset();
        assert_eq!(s.advance(), 1.0);
    }

    #[test]
    fn jitter_stays_near_and_under_the_cap() {
        for _ in 0..100 {
            let d = jittered(10.0, 30.0).as_secs_f64();
            assert!((9.0..=11.0).contains(&d), "{d}");
            assert!(jittered(30.0, 30.0).as_secs_f64() <= 30.0);
        }
    }

    #[tokio::test]
    async fn the_command_sees_os_config_files_and_its_status_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("env");
        let cmd = format!("printf %s \"$OS_CONFIG_FILES\" > {}", out.display());
        let paths = vec![PathBuf::from("/c/a.json"), PathBuf::from("/c/b.json")];
        assert_eq!(run_command(&cmd, &paths).await, 0);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "/c/a.json:/c/b.json"
        );
        assert_eq!(run_command("exit 5", &paths).await, 5);
        assert_eq!(run_command("kill -TERM $$", &paths).await, 241);
    }
}
