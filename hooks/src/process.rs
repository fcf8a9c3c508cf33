//! Running a hook's child process: captured output, optional stdin, optional deadline.
//!
//! The child leads its own process group, so a deadline (or the caller giving up on the
//! future) kills everything it started, not just the direct child.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::time::Instant;

/// After killing a timed-out group, how long to wait for its pipes to close.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// What a finished (or killed) child left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Captured stdout (lossy UTF-8).
    pub stdout: String,
    /// Captured stderr (lossy UTF-8).
    pub stderr: String,
    /// Exit code; see [`exit_code`] for children killed by a signal.
    pub code: i64,
    /// True when the deadline passed and the process group was killed.
    pub timed_out: bool,
}

/// Exit code of a child: its own code, or `128 + signal` (the shell's convention) when a
/// signal killed it, or -1 when the platform reports neither.
pub(crate) fn exit_code(status: ExitStatus) -> i64 {
    match (status.code(), status.signal()) {
        (Some(code), _) => i64::from(code),
        (None, Some(sig)) => 128 + i64::from(sig),
        (None, None) => -1,
    }
}

/// Kills the child's process group when dropped while armed: covers a caller that drops
/// the future mid-run (e.g. the agent shutting down), so no hook outlives its supervisor.
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pid) = self.0 {
            // ESRCH (group already gone) is the only expected error; nothing to do then.
            let _ = killpg(pid, Signal::SIGKILL);
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn read_pipe<R: AsyncRead + Unpin>(pipe: Option<R>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        // A read error just ends the capture; whatever arrived is kept.
        let _ = pipe.read_to_end(&mut buf).await;
    }
    buf
}

/// The command for a tool the multi-call agent also is (`cfn-init`, `os-apply-config`,
/// `heat-config-notify`): `$env` when set; else `name` when it is on `PATH`; else `own`
/// (the agent's executable) run under the name `name`; else `name`, which then fails as
/// missing. Also answers the program as shown in messages.
pub fn tool_command(env: &str, name: &str, own: Option<&std::path::Path>) -> (Command, String) {
    if let Some(program) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        let shown = program.to_string_lossy().into_owned();
        return (Command::new(program), shown);
    }
    match own {
        Some(own) if which::which(name).is_err() => {
            let mut command = Command::new(own);
            command.arg0(name);
            (command, format!("{name} ({})", own.display()))
        }
        _ => (Command::new(name), name.to_string()),
    }
}

/// Spawns `command` in a new process group with stdout/stderr captured and `stdin` written
/// to it (or stdin closed), waits for it and for its pipes to close, and kills the whole
/// group if `timeout` passes first. Only a failure to spawn or wait is an error.
pub async fn run_captured(
    mut command: Command,
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
) -> io::Result<Completion> {
    command
        .process_group(0)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let mut guard = GroupGuard(
        child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw),
    );

    let (out_pipe, err_pipe) = (child.stdout.take(), child.stderr.take());
    let mut pipes =
        tokio::spawn(async move { tokio::join!(read_pipe(out_pipe), read_pipe(err_pipe)) });
    if let (Some(mut pipe), Some(data)) = (child.stdin.take(), stdin) {
        tokio::spawn(async move {
            // EPIPE when the child does not read its stdin is fine; dropping closes it.
            let _ = pipe.write_all(&data).await;
        });
    }

    let deadline = timeout.map(|t| Instant::now() + t);
    let waited = match deadline {
        Some(at) => tokio::time::timeout_at(at, child.wait()).await.ok(),
        None => Some(child.wait().await),
    };
    let mut timed_out = waited.is_none();
    let status = match waited {
        Some(status) => status?,
        None => {
            guard.kill();
            child.wait().await?
        }
    };

    // The direct child is gone; its pipes close once every process holding them exits
    // (a background process it started may keep them open until the deadline).
    let mut captured = None;
    if !timed_out {
        match deadline {
            Some(at) => match tokio::time::timeout_at(at, &mut pipes).await {
                Ok(joined) => captured = Some(joined.unwrap_or_default()),
                Err(_) => {
                    timed_out = true;
                    guard.kill();
                }
            },
            None => captured = Some((&mut pipes).await.unwrap_or_default()),
        }
    }
    let (out, err) = match captured {
        Some(captured) => captured,
        // Killed: the pipes close as the group dies, keeping the partial output. A process
        // that left the group (setsid) could hold them; give up on it after a grace period.
        None => match tokio::time::timeout(KILL_GRACE, &mut pipes).await {
            Ok(joined) => joined.unwrap_or_default(),
            Err(_) => {
                pipes.abort();
                Default::default()
            }
        },
    };
    guard.disarm();

    Ok(Completion {
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        code: exit_code(status),
        timed_out,
    })
}
