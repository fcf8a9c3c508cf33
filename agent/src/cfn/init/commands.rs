//! `commands`: run in the order of their keys. `command` is a string (run by `/bin/sh -c`)
//! or a list (run directly; upstream bug 1498300 is fixed there too). `env` replaces the
//! environment (as AWS documents), `cwd` (with `~` expanded) must exist or the command is
//! skipped, `test` runs first through the shell and a non-zero status skips the command,
//! `ignoreErrors` lets a failure pass. Any other failure stops cfn-init, the message
//! naming the command's key. A command's stdout and stderr are passed on to cfn-init's
//! (upstream only logs them), so the `cfn-init` hook's deployment output shows them.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::{InitError, kind, to_boolean};
use crate::cfn::run::{Cmd, Runner};

/// What one command entry asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The command.
    pub cmd: Cmd,
    /// The `test` command, if any.
    pub test: Option<Cmd>,
    /// `ignoreErrors`.
    pub ignore_errors: bool,
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

/// Builds the command of entry `props` (at `at`).
pub fn plan(props: &Map<String, Value>, at: &str) -> Result<Planned, InitError> {
    let env = match props.get("env") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(
            m.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                    other => Err(InitError::invalid(
                        &format!("{at}.env.{k}"),
                        format!("must be a string, not {}", kind(other)),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(other) => {
            return Err(InitError::invalid(
                &format!("{at}.env"),
                format!("must be a map, not {}", kind(other)),
            ));
        }
    };
    let cwd = match props.get("cwd") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(expand_home(s)),
        Some(other) => {
            return Err(InitError::invalid(
                &format!("{at}.cwd"),
                format!("must be a string, not {}", kind(other)),
            ));
        }
    };
    let mut cmd = match props.get("command") {
        Some(Value::String(s)) => Cmd::shell(s),
        Some(Value::Array(list)) if !list.is_empty() => {
            let argv = list
                .iter()
                .map(|a| match a {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(InitError::invalid(
                        &format!("{at}.command"),
                        format!("list items must be strings, not {}", kind(other)),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Cmd::new(&argv)
        }
        Some(Value::Array(_)) => {
            return Err(InitError::invalid(
                &format!("{at}.command"),
                "is an empty list",
            ));
        }
        Some(other) => {
            return Err(InitError::invalid(
                &format!("{at}.command"),
                format!("must be a string or a list, not {}", kind(other)),
            ));
        }
        None => return Err(InitError::invalid(at, "has no 'command'")),
    };
    let mut test = match props.get("test") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Cmd::shell(s)),
        Some(other) => {
            return Err(InitError::invalid(
                &format!("{at}.test"),
                format!("must be a string, not {}", kind(other)),
            ));
        }
    };
    for c in std::iter::once(&mut cmd).chain(test.iter_mut()) {
        c.env_only = env.clone();
        c.cwd = cwd.clone();
    }
    Ok(Planned {
        cmd,
        test,
        ignore_errors: props.get("ignoreErrors").is_some_and(to_boolean),
    })
}

/// Runs every command in key order.
pub fn apply(
    commands: &Map<String, Value>,
    at: &str,
    runner: &mut dyn Runner,
) -> Result<(), InitError> {
    let mut keys: Vec<&String> = commands.keys().collect();
    keys.sort();
    for key in keys {
        let here = format!("{at}.{key}");
        let planned = match &commands[key.as_str()] {
            Value::Object(props) => plan(props, &here)?,
            other => {
                return Err(InitError::invalid(
                    &here,
                    format!("must be a map, not {}", kind(other)),
                ));
            }
        };
        if let Some(cwd) = &planned.cmd.cwd
            && !cwd.exists()
        {
            tracing::warn!(at = %here, cwd = %cwd.display(), "skipped: the cwd does not exist");
            continue;
        }
        let run = |runner: &mut dyn Runner, cmd: &Cmd| {
            runner.run(cmd).map_err(|source| InitError::Run {
                at: here.clone(),
                source,
            })
        };
        if let Some(test) = &planned.test {
            let outcome = run(runner, test)?;
            if !outcome.success() {
                tracing::info!(at = %here, "skipped: its test returned {}", outcome.describe());
                continue;
            }
        }
        tracing::info!(at = %here, "running command");
        let outcome = run(runner, &planned.cmd)?;
        // The command's output is cfn-init's own (upstream only logs it), so the cfn-init
        // hook's deploy_stdout/deploy_stderr show what the commands said.
        let _ = std::io::stdout().write_all(outcome.stdout.as_bytes());
        let _ = std::io::stderr().write_all(outcome.stderr.as_bytes());
        if outcome.success() {
            tracing::info!(at = %here, "command succeeded");
        } else if planned.ignore_errors {
            tracing::info!(at = %here, "command failed with {} (ignored: ignoreErrors)", outcome.describe());
        } else {
            return Err(InitError::failed(&here, "command", &outcome));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::run::FakeRunner;
    use serde_json::json;

    #[test]
    fn strings_go_through_the_shell_lists_do_not() {
        let p = plan(
            json!({"command": "echo $X > f", "env": {"X": "1"}, "cwd": "/tmp", "test": "true"})
                .as_object()
                .unwrap(),
            "C",
        )
        .unwrap();
        assert_eq!(p.cmd.argv(), ["/bin/sh", "-c", "echo $X > f"]);
        assert_eq!(p.cmd.env_only, Some(vec![("X".into(), "1".into())]));
        assert_eq!(p.cmd.cwd, Some(PathBuf::from("/tmp")));
        assert_eq!(p.test.unwrap().argv(), ["/bin/sh", "-c", "true"]);
        let p = plan(
            json!({"command": ["ls", "-l", "a b"]}).as_object().unwrap(),
            "C",
        )
        .unwrap();
        assert_eq!(p.cmd.argv(), ["ls", "-l", "a b"]);
        assert!(!p.ignore_errors);
        let e = plan(json!({"command": {"x": 1}}).as_object().unwrap(), "C.k").unwrap_err();
        assert_eq!(
            e.to_string(),
            "C.k.command: must be a string or a list, not a map"
        );
    }

    #[test]
    fn sorted_by_key_tests_skip_failures_stop_unless_ignored() {
        let mut r = FakeRunner::default();
        r.answer("/bin/sh -c false-test", 1, "");
        r.answer("fails", 3, "");
        let commands = json!({
            "b": {"command": ["b"]},
            "a": {"command": ["a"]},
            "c": {"command": ["skipped"], "test": "false-test"},
            "d": {"command": ["fails"], "ignoreErrors": "true"},
            "e": {"command": ["e"], "cwd": "/nonexistent/dir"},
            "f": {"command": ["fails"]},
            "g": {"command": ["never"]},
        });
        let e = apply(commands.as_object().unwrap(), "I.config.commands", &mut r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "I.config.commands.f: command exited with status 3"
        );
        assert_eq!(
            r.lines(),
            ["a", "b", "/bin/sh -c false-test", "fails", "fails"]
        );
    }
}
