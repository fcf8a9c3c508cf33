//! Running external tools. Every tool is run by name, found on `PATH` (so tests can put
//! recording fakes first on it); output is captured and logged at debug level. The
//! [`Runner`] trait lets unit tests check argument vectors without running anything.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One command to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cmd {
    /// The program (a name looked up on `PATH`, or a path).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// `Some`: the whole environment (AWS: a command's `env` replaces, not extends, it).
    pub env_only: Option<Vec<(String, String)>>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
}

impl Cmd {
    /// `argv[0] argv[1..]`.
    pub fn new<S: AsRef<str>>(argv: &[S]) -> Self {
        let mut it = argv.iter().map(|s| s.as_ref().to_string());
        Cmd {
            program: it.next().unwrap_or_default(),
            args: it.collect(),
            ..Default::default()
        }
    }

    /// `/bin/sh -c <script>`.
    pub fn shell(script: &str) -> Self {
        Cmd::new(&["/bin/sh", "-c", script])
    }

    /// The argument vector, program first.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone())
            .chain(self.args.iter().cloned())
            .collect()
    }

    /// The command line for messages (arguments joined with spaces).
    pub fn display(&self) -> String {
        self.argv().join(" ")
    }
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Exit status; `None` when killed by a signal.
    pub status: Option<i32>,
    /// Captured standard output.
    pub stdout: String,
    /// Captured standard error.
    pub stderr: String,
}

impl Outcome {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// The status for messages (`status 3`, `a signal`).
    pub fn describe(&self) -> String {
        match self.status {
            Some(code) => format!("status {code}"),
            None => "a signal".to_string(),
        }
    }

    /// The last few lines of stderr, for an error message.
    pub fn stderr_tail(&self) -> String {
        let lines: Vec<&str> = self.stderr.trim_end().lines().collect();
        let start = lines.len().saturating_sub(5);
        lines[start..].join("\n")
    }
}

/// A command that could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot run {program}: {source}")]
pub struct RunError {
    /// The program.
    pub program: String,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Runs commands (the system, or a fake in tests).
pub trait Runner {
    /// Runs `cmd` to its end.
    fn run(&mut self, cmd: &Cmd) -> Result<Outcome, RunError>;
    /// Whether `program` is on `PATH`.
    fn on_path(&self, program: &str) -> bool;
}

/// Runs commands for real, blocking the calling thread.
#[derive(Debug, Default)]
pub struct SystemRunner;

impl Runner for SystemRunner {
    fn run(&mut self, cmd: &Cmd) -> Result<Outcome, RunError> {
        tracing::debug!(command = %cmd.display(), "running");
        let mut command = Command::new(&cmd.program);
        command
            .args(&cmd.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(env) = &cmd.env_only {
            command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
        }
        command.envs(cmd.env.iter().map(|(k, v)| (k, v)));
        if let Some(cwd) = &cmd.cwd {
            command.current_dir(cwd);
        }
        let out = command.output().map_err(|source| RunError {
            program: cmd.program.clone(),
            source,
        })?;
        let outcome = Outcome {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        tracing::debug!(command = %cmd.program, status = ?outcome.status, stdout = %outcome.stdout.trim_end(), stderr = %outcome.stderr.trim_end(), "finished");
        Ok(outcome)
    }

    fn on_path(&self, program: &str) -> bool {
        which(program).is_some()
    }
}

/// The executable `program` names on `PATH` (a name with a `/` is taken as a path).
pub fn which(program: &str) -> Option<PathBuf> {
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}

/// A fake [`Runner`] for unit tests: records every command and answers with scripted
/// statuses (by program and first argument), 0 otherwise.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct FakeRunner {
    /// Commands run, in order.
    pub ran: Vec<Vec<String>>,
    /// `(argv prefix joined with spaces, outcome)`: the first matching prefix answers.
    pub answers: Vec<(String, Outcome)>,
    /// Programs that count as present on `PATH`.
    pub present: Vec<String>,
}

#[cfg(test)]
impl FakeRunner {
    /// Answers commands starting with `prefix` with exit status `status`.
    pub fn answer(&mut self, prefix: &str, status: i32, stdout: &str) {
        self.answers.push((
            prefix.to_string(),
            Outcome {
                status: Some(status),
                stdout: stdout.to_string(),
                stderr: String::new(),
            },
        ));
    }

    /// The commands run, each joined with spaces.
    pub fn lines(&self) -> Vec<String> {
        self.ran.iter().map(|a| a.join(" ")).collect()
    }
}

#[cfg(test)]
impl Runner for FakeRunner {
    fn run(&mut self, cmd: &Cmd) -> Result<Outcome, RunError> {
        let line = cmd.display();
        self.ran.push(cmd.argv());
        Ok(self
            .answers
            .iter()
            .find(|(prefix, _)| line.starts_with(prefix.as_str()))
            .map(|(_, o)| o.clone())
            .unwrap_or(Outcome {
                status: Some(0),
                ..Default::default()
            }))
    }

    fn on_path(&self, program: &str) -> bool {
        self.present.iter().any(|p| p == program)
    }
}
