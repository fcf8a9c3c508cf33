//! The built-in `script` hook: writes `config` to a file, runs it with the inputs as
//! environment variables and collects the declared outputs from files.
//!
//! Behaves as heat-agents' `script` hook with three fixes: the script file is truncated
//! before it is rewritten, non-string inputs become JSON text instead of crashing the hook,
//! and every failure (no shebang, setup IO error, timeout) is reported as a failed signal.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::deployment::Deployment;
use crate::names::is_safe_file_name;
use crate::process::{Completion, run_captured};
use crate::signal::SignalPayload;

/// Status code reported when a hook ran past its timeout (as `timeout(1)` does).
pub const TIMEOUT_STATUS: i64 = 124;

/// How often a spawn that hits `ETXTBSY` is retried: another thread forking while the
/// script file was open for writing briefly keeps it busy.
const TEXT_BUSY_RETRIES: u32 = 20;

/// Where the script hook keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptDirs {
    /// Scripts are written to `<working>/<id>` and run with this as their cwd.
    pub working: PathBuf,
    /// Scripts write output `<name>` to `<outputs>/<id>.<name>`.
    pub outputs: PathBuf,
}

/// A setup step that failed before the script could run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SetupError {
    #[error("deployment id {id:?} cannot be used as a file name")]
    UnsafeId { id: String },
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot write script {}: {source}", path.display())]
    WriteScript { path: PathBuf, source: io::Error },
}

/// Runs `deployment` as a script and returns its signal:
/// `{deploy_stdout, deploy_stderr, deploy_status_code, <output>…}`. Never fails: setup
/// errors, exec errors and timeouts come back as a payload with a non-zero status code.
pub async fn run(
    deployment: &Deployment,
    dirs: &ScriptDirs,
    timeout: Option<Duration>,
) -> SignalPayload {
    let (dirs, script) = match prepare(deployment, dirs).await {
        Ok(prepared) => prepared,
        Err(err) => {
            tracing::error!(id = %deployment.id, "script hook setup failed: {err}");
            return SignalPayload::new(
                "",
                format!(
                    "deployment {}: script hook setup failed: {err}",
                    deployment.id
                ),
                1,
            );
        }
    };

    let completion = match spawn_script(deployment, &dirs, &script, timeout).await {
        Ok(completion) => completion,
        Err(err) => {
            let mut message = format!(
                "deployment {}: cannot execute script {}: {err}",
                deployment.id,
                script.display()
            );
            if err.raw_os_error() == Some(nix::errno::Errno::ENOEXEC as i32) {
                message
                    .push_str("; a script config must start with a shebang line such as #!/bin/sh");
            }
            tracing::warn!(id = %deployment.id, "{message}");
            return SignalPayload::new("", message, 1);
        }
    };

    let mut payload = completion_payload(&deployment.id, completion, timeout);
    collect_outputs(deployment, &dirs.outputs, &mut payload).await;
    payload
}

/// The payload for a finished (or killed) hook process, by the script hook's rules.
pub(crate) fn completion_payload(
    id: &str,
    completion: Completion,
    timeout: Option<Duration>,
) -> SignalPayload {
    if completion.timed_out {
        let secs = timeout.map_or(0, |t| t.as_secs());
        tracing::warn!(
            id,
            "hook timed out after {secs}s; its process group was killed"
        );
        let mut stderr = completion.stderr;
        if !stderr.is_empty() && !stderr.ends_with('\n') {
            stderr.push('\n');
        }
        stderr.push_str(&format!(
            "updraft: deployment {id} timed out after {secs}s; its processes were killed"
        ));
        return SignalPayload::new(completion.stdout, stderr, TIMEOUT_STATUS);
    }
    SignalPayload::new(completion.stdout, completion.stderr, completion.code)
}

/// Creates `path` (0700) if needed and returns it made absolute.
pub(crate) async fn create_dir(path: &Path) -> Result<PathBuf, SetupError> {
    let err = |source| SetupError::CreateDir {
        path: path.to_path_buf(),
        source,
    };
    tokio::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .await
        .map_err(err)?;
    tokio::fs::canonicalize(path).await.map_err(err)
}

/// Creates the directories (0700) and resolves them to absolute paths (the script runs
/// with the working dir as cwd, so relative paths would break), writes the script file
/// (0700, truncated) and removes stale output files of this id.
async fn prepare(
    deployment: &Deployment,
    dirs: &ScriptDirs,
) -> Result<(ScriptDirs, PathBuf), SetupError> {
    if !is_safe_file_name(&deployment.id) {
        return Err(SetupError::UnsafeId {
            id: deployment.id.clone(),
        });
    }
    let dirs = ScriptDirs {
        working: create_dir(&dirs.working).await?,
        outputs: create_dir(&dirs.outputs).await?,
    };

    let path = dirs.working.join(&deployment.id);
    let text = match &deployment.config {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let write = async {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o700)
            .open(&path)
            .await?;
        file.write_all(text.as_bytes()).await?;
        file.flush().await?;
        // An existing file keeps its old mode through open(); enforce 0700.
        file.set_permissions(std::fs::Permissions::from_mode(0o700))
            .await?;
        file.sync_all().await
    };
    write.await.map_err(|source| SetupError::WriteScript {
        path: path.clone(),
        source,
    })?;

    for output in &deployment.outputs {
        if let Some(file) = output_path(&dirs.outputs, &deployment.id, &output.name) {
            // Usually absent; a leftover from an earlier run of this id must not be reported.
            let _ = tokio::fs::remove_file(file).await;
        }
    }
    Ok((dirs, path))
}

/// `<outputs>/<id>.<name>`, or `None` for an output name that would leave the directory.
fn output_path(outputs: &Path, id: &str, name: &str) -> Option<PathBuf> {
    let file = format!("{id}.{name}");
    is_safe_file_name(&file).then(|| outputs.join(file))
}

/// An input's value as an environment variable: strings as is, null as empty, anything
/// else as JSON text.
pub(crate) fn env_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

async fn spawn_script(
    deployment: &Deployment,
    dirs: &ScriptDirs,
    script: &Path,
    timeout: Option<Duration>,
) -> io::Result<Completion> {
    let mut attempt = 0;
    loop {
        let mut command = Command::new(script);
        command.current_dir(&dirs.working);
        for input in &deployment.inputs {
            let value = env_value(&input.value);
            if input.name.is_empty() || input.name.contains(['=', '\0']) || value.contains('\0') {
                tracing::warn!(
                    id = %deployment.id,
                    input = %input.name.escape_debug(),
                    "input cannot be passed as an environment variable; skipped"
                );
                continue;
            }
            command.env(&input.name, value);
        }
        command.env(
            "heat_outputs_path",
            dirs.outputs.join(&deployment.id).as_os_str(),
        );
        match run_captured(command, None, timeout).await {
            Err(err)
                if err.raw_os_error() == Some(nix::errno::Errno::ETXTBSY as i32)
                    && attempt < TEXT_BUSY_RETRIES =>
            {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

/// Adds each declared output whose file `<outputs>/<id>.<name>` exists, as a string.
pub(crate) async fn collect_outputs(
    deployment: &Deployment,
    outputs: &Path,
    payload: &mut SignalPayload,
) {
    for output in &deployment.outputs {
        let Some(file) = output_path(outputs, &deployment.id, &output.name) else {
            tracing::warn!(
                id = %deployment.id,
                output = %output.name.escape_debug(),
                "output name cannot be used as a file name; skipped"
            );
            continue;
        };
        match tokio::fs::read(&file).await {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                payload.0.insert(output.name.clone(), Value::String(text));
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(
                id = %deployment.id,
                output = %output.name,
                "cannot read output file {}: {err}",
                file.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Instant;

    fn deployment(config: &str, inputs: Value, outputs: Value) -> Deployment {
        serde_json::from_value(json!({
            "id": "dep-1", "name": "d", "group": "script", "config": config,
            "inputs": inputs, "outputs": outputs,
        }))
        .unwrap()
    }

    fn dirs(tmp: &tempfile::TempDir) -> ScriptDirs {
        ScriptDirs {
            working: tmp.path().join("work"),
            outputs: tmp.path().join("out"),
        }
    }

    #[tokio::test]
    async fn inputs_become_environment_and_outputs_are_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let d = deployment(
            "#!/bin/sh\necho \"foo=$foo n=$n m=$m e=[$e] cwd=$(pwd)\"\necho err >&2\nprintf 'the result' > \"$heat_outputs_path.result\"\n",
            json!([
                {"name": "foo", "value": "world"},
                {"name": "n", "type": "Number", "value": 7},
                {"name": "m", "type": "Json", "value": {"k": [1, 2]}},
                {"name": "e", "value": null}
            ]),
            json!([{"name": "result"}, {"name": "absent"}]),
        );
        let dirs = dirs(&tmp);
        let p = run(&d, &dirs, None).await;
        let cwd = std::fs::canonicalize(&dirs.working).unwrap();
        assert_eq!(
            Value::Object(p.0.clone()),
            json!({
                "deploy_stdout": format!("foo=world n=7 m={{\"k\":[1,2]}} e=[] cwd={}\n", cwd.display()),
                "deploy_stderr": "err\n",
                "deploy_status_code": 0,
                "result": "the result",
            })
        );
        let mode = std::fs::metadata(dirs.working.join("dep-1"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[tokio::test]
    async fn exit_code_is_captured_and_old_script_content_truncated() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = dirs(&tmp);
        std::fs::create_dir_all(&dirs.working).unwrap();
        std::fs::write(dirs.working.join("dep-1"), "x".repeat(4096) + "\nexit 99\n").unwrap();
        let d = deployment("#!/bin/sh\necho failing\nexit 3\n", json!([]), json!([]));
        let p = run(&d, &dirs, None).await;
        assert_eq!(p.status_code(), Some(3));
        assert_eq!(p.0["deploy_stdout"], json!("failing\n"));
    }

    #[tokio::test]
    async fn script_without_shebang_fails_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let d = deployment("echo no shebang\n", json!([]), json!([]));
        let p = run(&d, &dirs(&tmp), None).await;
        assert_eq!(p.status_code(), Some(1));
        let stderr = p.0["deploy_stderr"].as_str().unwrap();
        assert!(stderr.contains("deployment dep-1"), "{stderr}");
        assert!(stderr.contains("shebang"), "{stderr}");
    }

    #[tokio::test]
    async fn non_string_config_is_json_encoded() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = deployment("", json!([]), json!([]));
        d.config = json!({"a": 1});
        let dirs = dirs(&tmp);
        let p = run(&d, &dirs, None).await;
        // JSON is not a script: it runs into the missing-shebang failure.
        assert_eq!(p.status_code(), Some(1));
        let written = std::fs::read_to_string(dirs.working.join("dep-1")).unwrap();
        assert_eq!(written, r#"{"a":1}"#);
    }

    #[tokio::test]
    async fn timeout_kills_the_process_group_quickly() {
        let tmp = tempfile::tempdir().unwrap();
        let d = deployment(
            "#!/bin/sh\necho started\nsleep 100 &\nsleep 100\n",
            json!([]),
            json!([]),
        );
        let started = Instant::now();
        let p = run(&d, &dirs(&tmp), Some(Duration::from_millis(300))).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(p.status_code(), Some(TIMEOUT_STATUS));
        assert_eq!(p.0["deploy_stdout"], json!("started\n"));
        assert!(p.0["deploy_stderr"].as_str().unwrap().contains("timed out"));
    }

    #[tokio::test]
    async fn unsafe_id_is_a_failure_payload() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = deployment("#!/bin/sh\n", json!([]), json!([]));
        d.id = "../escape".into();
        let p = run(&d, &dirs(&tmp), None).await;
        assert_eq!(p.status_code(), Some(1));
        assert!(!tmp.path().join("escape").exists());
    }
}
