//! The built-in `hiera` hook, as heat-agents' `hiera` hook: `config.hierarchy` (a list)
//! becomes the hiera configuration (a JSON backend over the data directory), and each of
//! `config.datafiles` (`{name: data}`) becomes `<datadir>/<name>.json` (indent 4, sorted
//! keys, 0600).
//!
//! Paths come from `HEAT_HIERA_CONFIG` (default `/etc/puppet/hiera.yaml`) and
//! `HEAT_PUPPET_HIERA_DATADIR` (default `/etc/puppet/hieradata`), as upstream. Upstream
//! first runs `HEAT_HIERA_ELEMENT_CHECK_CMD` (`os-apply-config --key hiera.datafiles --type
//! raw --key-default empty`) and refuses to run when it prints anything but `empty`
//! (legacy hieradata from the old element); so does this hook when the command exists.
//! Fixes: a malformed `config` or a datafile name that is not a plain file name fails the
//! deployment with a message naming it; that refusal's output is text, where upstream's
//! crashes on bytes.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::deployment::Deployment;
use crate::json_file::kind;
use crate::json_files::{prepare_dir, write_json_file, write_text_file};
use crate::names::is_safe_file_name;
use crate::signal::SignalPayload;

/// Environment variable naming the hiera configuration file.
pub const CONFIG_ENV: &str = "HEAT_HIERA_CONFIG";
/// Environment variable naming the hiera data directory (shared with the puppet hook).
pub const DATADIR_ENV: &str = "HEAT_PUPPET_HIERA_DATADIR";
/// Environment variable holding the legacy-data check command.
pub const CHECK_ENV: &str = "HEAT_HIERA_ELEMENT_CHECK_CMD";

const DEFAULT_CONFIG: &str = "/etc/puppet/hiera.yaml";
const DEFAULT_DATADIR: &str = "/etc/puppet/hieradata";
const DEFAULT_CHECK: &str = "os-apply-config --key hiera.datafiles --type raw --key-default empty";

/// Where the hook writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HieraPaths {
    /// The hiera configuration file.
    pub config: PathBuf,
    /// The data directory.
    pub datadir: PathBuf,
    /// The legacy-data check command line (split on spaces, as upstream).
    pub check: String,
}

impl HieraPaths {
    /// From the environment, with upstream's defaults.
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        HieraPaths {
            config: var(CONFIG_ENV, DEFAULT_CONFIG).into(),
            datadir: var(DATADIR_ENV, DEFAULT_DATADIR).into(),
            check: var(CHECK_ENV, DEFAULT_CHECK),
        }
    }
}

/// Runs `deployment` through the `hiera` hook with `paths`.
pub async fn run(deployment: &Deployment, paths: &HieraPaths) -> SignalPayload {
    if let Some(refusal) = legacy_data(&paths.check).await {
        return refusal;
    }
    let (deployment, paths) = (deployment.clone(), paths.clone());
    tokio::task::spawn_blocking(move || match write_all(&deployment, &paths) {
        Ok(()) => SignalPayload::new("", "", 0),
        Err(message) => {
            tracing::warn!(id = %deployment.id, "hiera: {message}");
            SignalPayload::new("", format!("hiera: {message}"), 1)
        }
    })
    .await
    .unwrap_or_else(|err| SignalPayload::new("", format!("hiera: {err}"), 1))
}

/// The refusal upstream gives when the old element's hieradata is still in the metadata;
/// `None` when the check passes or its command does not exist (upstream assumes no data).
async fn legacy_data(check: &str) -> Option<SignalPayload> {
    let mut words = check.split(' ').filter(|w| !w.is_empty());
    let program = words.next()?;
    let out = tokio::process::Command::new(program)
        .args(words)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .ok()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let found = stdout.trim_end();
    (found != "empty").then(|| {
        SignalPayload::new(
            stdout.as_ref(),
            format!(
                "Legacy hieradata from os-apply-config has been detected - {found}. Please update all of your interfaces to use the new heat-agents hiera hook before proceeding"
            ),
            1,
        )
    })
}

fn write_all(deployment: &Deployment, paths: &HieraPaths) -> Result<(), String> {
    let Value::Object(config) = &deployment.config else {
        return Err(format!(
            "config must be a map, not {}",
            kind(&deployment.config)
        ));
    };
    let hierarchy = match config.get("hierarchy") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!(
                        "config.hierarchy[{i}]: expected a string, not {}",
                        kind(other)
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(other) => {
            return Err(format!(
                "config.hierarchy: expected a list, not {}",
                kind(other)
            ));
        }
    };
    let datafiles = match config.get("datafiles") {
        None => None,
        Some(Value::Object(files)) => {
            for name in files.keys() {
                if !is_safe_file_name(name) {
                    return Err(format!(
                        "config.datafiles.{name}: a data file name must be a plain file name"
                    ));
                }
            }
            Some(files)
        }
        Some(other) => {
            return Err(format!(
                "config.datafiles: expected a map, not {}",
                kind(other)
            ));
        }
    };
    prepare_dir(&paths.datadir).map_err(|e| e.to_string())?;
    if let Some(hierarchy) = hierarchy {
        write_text_file(
            &paths.config,
            &hiera_config(&paths.datadir, &hierarchy),
            0o600,
        )
        .map_err(|e| e.to_string())?;
    }
    for (name, data) in datafiles.into_iter().flatten() {
        write_json_file(&paths.datadir.join(format!("{name}.json")), data, 0o600)
            .map_err(|e| format!("config.datafiles.{name}: {e}"))?;
    }
    Ok(())
}

/// The configuration upstream writes: a JSON backend over `datadir`, then the hierarchy.
fn hiera_config(datadir: &Path, hierarchy: &[String]) -> String {
    let mut text = format!(
        "\n---\n:backends:\n  - json\n:json:\n  :datadir: {}\n:hierarchy:\n",
        datadir.display()
    );
    for item in hierarchy {
        text.push_str(&format!("  - {item}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(tmp: &tempfile::TempDir, check: &str) -> HieraPaths {
        HieraPaths {
            config: tmp.path().join("etc/hiera.yaml"),
            datadir: tmp.path().join("hieradata"),
            check: check.to_string(),
        }
    }

    fn deployment(config: Value) -> Deployment {
        serde_json::from_value(json!({"id": "d", "group": "hiera", "config": config})).unwrap()
    }

    #[tokio::test]
    async fn hierarchy_and_datafiles_are_written_as_upstream() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(&tmp, "/nonexistent/check-cmd");
        let d = deployment(json!({
            "hierarchy": ["%{::uuid}", "heat_config_%{::deploy_config_name}", "common"],
            "datafiles": {"common": {"ntp::servers": ["a", "b"]}}
        }));
        assert_eq!(run(&d, &p).await, SignalPayload::new("", "", 0));
        assert_eq!(
            std::fs::read_to_string(&p.config).unwrap(),
            format!(
                "\n---\n:backends:\n  - json\n:json:\n  :datadir: {}\n:hierarchy:\n  - %{{::uuid}}\n  - heat_config_%{{::deploy_config_name}}\n  - common\n",
                p.datadir.display()
            )
        );
        assert_eq!(
            std::fs::read_to_string(p.datadir.join("common.json")).unwrap(),
            "{\n    \"ntp::servers\": [\n        \"a\",\n        \"b\"\n    ]\n}"
        );
    }

    #[tokio::test]
    async fn legacy_data_and_bad_config_fail_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let out = run(&deployment(json!({})), &paths(&tmp, "echo {\"old\": 1}")).await;
        assert_eq!(out.status_code(), Some(1));
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("Legacy hieradata"),
            "{out:?}"
        );
        let ok = paths(&tmp, "echo empty");
        assert_eq!(
            run(&deployment(json!({})), &ok).await.status_code(),
            Some(0)
        );
        for (config, want) in [
            (json!([1]), "config must be a map, not a list"),
            (
                json!({"hierarchy": "common"}),
                "config.hierarchy: expected a list",
            ),
            (
                json!({"hierarchy": [1]}),
                "config.hierarchy[0]: expected a string",
            ),
            (
                json!({"datafiles": {"../x": {}}}),
                "config.datafiles.../x: a data file name",
            ),
        ] {
            let out = run(&deployment(config), &ok).await;
            assert_eq!(out.status_code(), Some(1));
            let stderr = out.0["deploy_stderr"].as_str().unwrap();
            assert!(stderr.contains(want), "{stderr}");
        }
    }
}
