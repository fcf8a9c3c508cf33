//! One binary, many names: `updraft-agent` answers as the tool it is installed as
//! (symlinked or hard-linked under that name), so an image can replace the Python agents
//! file for file. Each name maps to a [`Tool`]; `updraft-agent <subcommand>` reaches the
//! same tools without a link.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

/// A tool the binary can act as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `os-collect-config`: [`crate::occ`].
    CollectConfig,
    /// `os-refresh-config`: [`crate::refresh_config`].
    RefreshConfig,
    /// `os-apply-config`: [`crate::apply_config`].
    ApplyConfig,
    /// `cfn-signal`: [`crate::cfn_signal`].
    CfnSignal,
    /// `55-heat-config` (heat-agents' os-refresh-config step): [`crate::heat_config`].
    HeatConfig,
    /// `heat-config-notify`: [`crate::heat_config_notify`].
    HeatConfigNotify,
    /// `cfn-init`: [`crate::cfn::init`].
    CfnInit,
    /// `cfn-hup`: [`crate::cfn::hup`].
    CfnHup,
    /// `cfn-get-metadata`: [`crate::cfn::get_metadata`].
    CfnGetMetadata,
    /// `cfn-create-aws-symlinks`: [`crate::cfn::symlinks`].
    CfnCreateAwsSymlinks,
    /// A built-in hook as heat-agents' executable (`hook-puppet.py`, or `puppet` in a
    /// hooks directory): [`crate::hook_command`].
    Hook(&'static str),
    /// heat-agents' orc step for a docker hook (`50-heat-config-docker-cmd`, …):
    /// [`crate::docker_reconcile`].
    DockerReconcile(crate::docker_reconcile::Step),
}

/// The installed names and the tool each one is.
pub const NAMES: &[(&str, Tool)] = &[
    ("os-collect-config", Tool::CollectConfig),
    ("os-refresh-config", Tool::RefreshConfig),
    ("os-apply-config", Tool::ApplyConfig),
    ("cfn-signal", Tool::CfnSignal),
    ("55-heat-config", Tool::HeatConfig),
    ("heat-config-notify", Tool::HeatConfigNotify),
    (
        "50-heat-config-docker-cmd",
        Tool::DockerReconcile(crate::docker_reconcile::Step::DockerCmd),
    ),
    (
        "50-heat-config-docker-compose",
        Tool::DockerReconcile(crate::docker_reconcile::Step::DockerCompose),
    ),
    ("cfn-init", Tool::CfnInit),
    ("cfn-hup", Tool::CfnHup),
    ("cfn-get-metadata", Tool::CfnGetMetadata),
    ("cfn-create-aws-symlinks", Tool::CfnCreateAwsSymlinks),
];

/// The tool `argv0` names (its file name, without directories): one of [`NAMES`] or a
/// built-in hook's name; `None` for any other, which is `updraft-agent` with its
/// subcommands.
pub fn invoked_as(argv0: &OsString) -> Option<Tool> {
    let name = Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, tool)| *tool)
        .or_else(|| crate::hook_command::group_of_name(name).map(Tool::Hook))
}

/// This process's executable when it is the multi-call `updraft-agent` (under its own
/// name or a tool's), which hooks can run as `cfn-init` or `os-apply-config`; `None` when
/// the agent is embedded in another binary (`updraft agent`).
pub fn own_executable() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let name = exe.file_name()?.to_str()?;
    (name.starts_with("updraft-agent") || invoked_as(&name.into()).is_some()).then_some(exe)
}

/// Runs `tool` with the full argument vector (`args[0]` is the program name).
pub async fn run(tool: Tool, args: Vec<OsString>) -> ExitCode {
    match tool {
        Tool::CollectConfig => crate::occ::main(args).await,
        Tool::RefreshConfig => crate::refresh_config::main(args).await,
        Tool::ApplyConfig => crate::apply_config::main(args).await,
        Tool::CfnSignal => crate::cfn_signal::main(args).await,
        Tool::HeatConfig => crate::heat_config::main(args).await,
        Tool::HeatConfigNotify => crate::heat_config_notify::main(args).await,
        Tool::CfnInit => crate::cfn::init::main(args).await,
        Tool::CfnHup => crate::cfn::hup::main(args).await,
        Tool::CfnGetMetadata => crate::cfn::get_metadata::main(args).await,
        Tool::CfnCreateAwsSymlinks => crate::cfn::symlinks::main(args).await,
        Tool::Hook(group) => crate::hook_command::main(Some(group), args).await,
        Tool::DockerReconcile(step) => crate::docker_reconcile::main(step, args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_decides_the_tool() {
        assert_eq!(
            invoked_as(&"/usr/bin/os-collect-config".into()),
            Some(Tool::CollectConfig)
        );
        assert_eq!(
            invoked_as(&"os-apply-config".into()),
            Some(Tool::ApplyConfig)
        );
        assert_eq!(invoked_as(&"/usr/local/bin/updraft-agent".into()), None);
        assert_eq!(invoked_as(&"".into()), None);
        assert_eq!(
            invoked_as(&"/x/heat-config-puppet/install.d/hook-puppet.py".into()),
            Some(Tool::Hook("puppet"))
        );
    }
}
