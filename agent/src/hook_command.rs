//! A built-in hook as a stand-alone executable, speaking heat-agents' hook protocol: the
//! deployment as JSON on stdin, the signal payload as JSON on stdout, exit 0 (a broken
//! deployment document exits 1, as upstream's tracebacks do). Reached as
//! `updraft-agent hook <group>`, or through a link named as the upstream hook file
//! (`hook-puppet.py`, …) or as the group in a hooks directory, so images and tools that
//! call heat-agents' hooks directly keep working.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use updraft_hooks::Deployment;
use updraft_hooks::builtin::BuiltIn;
use updraft_hooks::hook::{HookOutcome, HookSettings, run_deployment};
use updraft_hooks::script::ScriptDirs;

/// The group a program name stands for: `hook-<group>.py` (heat-agents' file names) or
/// `<group>` itself.
pub fn group_of_name(name: &str) -> Option<&'static str> {
    let bare = name
        .strip_prefix("hook-")
        .and_then(|n| n.strip_suffix(".py"))
        .unwrap_or(name);
    BuiltIn::for_group(bare).map(BuiltIn::group)
}

/// Runs hook `group` (or, when `None`, the one `args[1]` names) on the deployment on stdin.
pub async fn main(group: Option<&str>, args: Vec<OsString>) -> ExitCode {
    let group = match group {
        Some(g) => g.to_string(),
        None => match args.get(1).and_then(|a| a.to_str()) {
            Some(g) => g.to_string(),
            None => {
                eprintln!(
                    "usage: updraft-agent hook <group> < deployment.json (groups: {})",
                    BuiltIn::groups_text()
                );
                return ExitCode::from(2);
            }
        },
    };
    if BuiltIn::for_group(&group).is_none() {
        eprintln!(
            "updraft-agent hook: no built-in hook {group:?} (built in: {})",
            BuiltIn::groups_text()
        );
        return ExitCode::from(2);
    }
    let input = tokio::task::spawn_blocking(|| {
        let mut text = Vec::new();
        std::io::stdin().read_to_end(&mut text).map(|_| text)
    })
    .await;
    let mut deployment: Deployment = match input {
        Ok(Ok(text)) => match parse_deployment(&text) {
            Ok(d) => d,
            Err(err) => {
                eprintln!("{group} hook: stdin is not a deployment document: {err}");
                return ExitCode::FAILURE;
            }
        },
        Ok(Err(err)) => {
            eprintln!("{group} hook: cannot read stdin: {err}");
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("{group} hook: {err}");
            return ExitCode::FAILURE;
        }
    };
    // An upstream hook never looks at the group: it is the hook.
    deployment.group = group.clone();
    let settings = standalone_settings();
    let payload = match run_deployment(&deployment, &settings).await {
        HookOutcome::Signal(payload) => payload,
        other => {
            eprintln!("{group} hook: {other:?}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", String::from_utf8_lossy(&payload.to_body()));
    ExitCode::SUCCESS
}

/// Settings for built-in hooks run outside the agent proper (as a hook file, or by
/// `55-heat-config`): upstream's `HEAT_SCRIPT_*` directories, no timeout, no hooks
/// directories (built-in groups only: no lookup that could find this very executable).
pub fn standalone_settings() -> HookSettings {
    let env_dir = |name: &str, default: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(default), PathBuf::from)
    };
    HookSettings {
        hooks_dirs: Vec::new(),
        script: ScriptDirs {
            working: env_dir(
                "HEAT_SCRIPT_WORKING",
                "/var/lib/heat-config/heat-config-script",
            ),
            outputs: env_dir(
                "HEAT_SCRIPT_OUTPUTS",
                "/var/run/heat-config/heat-config-script",
            ),
        },
        timeout: None,
        tools_executable: crate::multicall::own_executable(),
        config_files: Vec::new(),
    }
}

/// The deployment on a hook's stdin. Upstream hooks that never name files after the
/// deployment (`cfn-init`, `apply-config`) are fed documents without an `id`, so a missing
/// one is empty here; hooks that need one refuse it clearly.
fn parse_deployment(text: &[u8]) -> Result<Deployment, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_slice(text)?;
    if let Some(doc) = value.as_object_mut() {
        doc.entry("id").or_insert_with(|| "".into());
    }
    serde_json::from_value(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_without_an_id_is_still_a_deployment() {
        let d = parse_deployment(br#"{"group": "cfn-init", "config": {"a": 1}}"#).unwrap();
        assert_eq!((d.id.as_str(), d.config["a"].as_i64()), ("", Some(1)));
        assert!(parse_deployment(b"{::::").is_err());
        assert!(parse_deployment(b"[1]").is_err());
    }

    #[test]
    fn upstream_file_names_and_group_names_map_to_hooks() {
        assert_eq!(group_of_name("hook-puppet.py"), Some("puppet"));
        assert_eq!(group_of_name("hook-json-file.py"), Some("json-file"));
        assert_eq!(group_of_name("salt"), Some("salt"));
        assert_eq!(group_of_name("hook-chef.py"), Some("chef"));
        assert_eq!(group_of_name("hook-kubelet.py"), None);
        assert_eq!(group_of_name("updraft-agent"), None);
    }
}
