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
}

/// The installed names and the tool each one is.
pub const NAMES: &[(&str, Tool)] = &[
    ("os-collect-config", Tool::CollectConfig),
    ("os-refresh-config", Tool::RefreshConfig),
    ("os-apply-config", Tool::ApplyConfig),
    ("cfn-signal", Tool::CfnSignal),
];

/// The tool `argv0` names (its file name, without directories); `None` for any name not
/// in [`NAMES`], which is `updraft-agent` with its subcommands.
pub fn invoked_as(argv0: &OsString) -> Option<Tool> {
    let name = Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, tool)| *tool)
}

/// Runs `tool` with the full argument vector (`args[0]` is the program name).
pub async fn run(tool: Tool, args: Vec<OsString>) -> ExitCode {
    match tool {
        Tool::CollectConfig => crate::occ::main(args).await,
        Tool::RefreshConfig => crate::refresh_config::main(args).await,
        Tool::ApplyConfig => crate::apply_config::main(args).await,
        Tool::CfnSignal => crate::cfn_signal::main(args).await,
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
    }
}
