//! The agent's effective settings, resolved from the command line and environment.

use std::path::PathBuf;
use std::time::Duration;

use updraft_hooks::hook::{HookSettings, default_hooks_dirs};
use updraft_hooks::script::ScriptDirs;

use crate::cli::RunArgs;
use crate::collectors::CollectorSettings;
use crate::collectors::settings::SettingsError;

/// Default script working directory, under the state dir.
pub const SCRIPT_WORKING_SUBDIR: &str = "heat-config-script";
/// Default script outputs directory, under the state dir.
pub const SCRIPT_OUTPUTS_SUBDIR: &str = "heat-config-script-outputs";

/// Resolved `run` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    /// The collector the command line names (`None`: the state directory's, from an
    /// earlier run). Holds secrets: never logged whole.
    pub collector: Option<CollectorSettings>,
    /// State directory.
    pub state_dir: PathBuf,
    /// Exit after one cycle.
    pub one_time: bool,
    /// Pause between polls when the server does not long-poll.
    pub poll_interval: Duration,
    /// Long-poll wait to ask for; `None` disables long-poll.
    pub long_poll: Option<Duration>,
    /// How hooks run.
    pub hooks: HookSettings,
    /// On a stop request, how long a running hook and pending signals get to finish.
    pub stop_grace: Duration,
}

impl AgentConfig {
    /// Resolves `args`: `--hooks-dir`s before [`default_hooks_dirs`]; script dirs from the
    /// options (or `$HEAT_SCRIPT_WORKING`/`$HEAT_SCRIPT_OUTPUTS`), else under the state dir.
    /// Fails when the collector options conflict or are incomplete.
    pub fn from_args(args: RunArgs) -> Result<Self, SettingsError> {
        let collector = CollectorSettings::from_args(&args.collector)?;
        let mut hooks_dirs = args.hooks_dir;
        hooks_dirs.extend(default_hooks_dirs());
        let script = ScriptDirs {
            working: args
                .script_working_dir
                .unwrap_or_else(|| args.state_dir.join(SCRIPT_WORKING_SUBDIR)),
            outputs: args
                .script_outputs_dir
                .unwrap_or_else(|| args.state_dir.join(SCRIPT_OUTPUTS_SUBDIR)),
        };
        let config_files = vec![args.state_dir.join(crate::state::METADATA_FILE)];
        Ok(AgentConfig {
            collector,
            state_dir: args.state_dir,
            one_time: args.one_time,
            poll_interval: Duration::from_secs(args.poll_interval.max(1)),
            long_poll: (args.long_poll > 0).then(|| Duration::from_secs(args.long_poll)),
            hooks: HookSettings {
                hooks_dirs,
                script,
                timeout: args.hook_timeout.map(Duration::from_secs),
                tools_executable: crate::multicall::own_executable(),
                config_files,
            },
            stop_grace: Duration::from_secs(args.stop_grace),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve_under_the_state_dir() {
        let args = RunArgs {
            collector: crate::cli::CollectorArgs {
                metadata_url: Some("http://h/m".into()),
                ..Default::default()
            },
            state_dir: "/s".into(),
            one_time: false,
            poll_interval: 30,
            long_poll: 0,
            hooks_dir: vec!["/mine".into()],
            script_working_dir: None,
            script_outputs_dir: Some("/out".into()),
            hook_timeout: Some(5),
            stop_grace: 7,
            debug: false,
        };
        let c = AgentConfig::from_args(args).unwrap();
        assert_eq!(c.collector.as_ref().map(|c| c.name()), Some("request"));
        assert_eq!(c.long_poll, None);
        assert_eq!(
            c.hooks.script.working,
            PathBuf::from("/s/heat-config-script")
        );
        assert_eq!(c.hooks.script.outputs, PathBuf::from("/out"));
        assert_eq!(c.hooks.hooks_dirs[0], PathBuf::from("/mine"));
        assert_eq!(
            c.hooks.hooks_dirs.last(),
            Some(&PathBuf::from("/var/lib/heat-config/hooks"))
        );
        assert_eq!(c.hooks.timeout, Some(Duration::from_secs(5)));
        assert_eq!(c.stop_grace, Duration::from_secs(7));
    }
}
