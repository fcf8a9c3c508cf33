//! heat-cfntools 2.0.0 as multi-call names of `updraft-agent` (reference heat-agents.md
//! §5): `cfn-init` ([`init`]), `cfn-hup` ([`hup`]), `cfn-get-metadata` ([`get_metadata`])
//! and `cfn-create-aws-symlinks` ([`symlinks`]); `cfn-signal` is [`crate::cfn_signal`].
//!
//! They share metadata retrieval ([`metadata`]: signed `DescribeStackResource`, the local
//! fallbacks and the cache) and credentials ([`credentials`]). External tools (`apt-get`,
//! `useradd`, `systemctl`, …) are run by name from `PATH` ([`run`]).
//!
//! Directories upstream hard-codes can be moved with environment variables, so the tools
//! run unprivileged in tests:
//!
//! | variable | default | holds |
//! |---|---|---|
//! | `HEAT_CFN_INIT_LAST_METADATA_DIR` (upstream's name) | `/var/cache/heat-cfntools` | `last_metadata`, `last_metadata_<resource>`, `cfn-hup-state.json` |
//! | `HEAT_CFNTOOLS_DATA_DIR` | `/var/lib/heat-cfntools` | `cfn-metadata-server` (the CFN API URL), `cfn-init-data` |

pub mod credentials;
pub mod get_metadata;
pub mod hup;
pub mod init;
pub mod key;
pub mod metadata;
pub mod run;
pub mod symlinks;

use std::ffi::OsString;
use std::process::ExitCode;

/// Parses `args` with clap for tool `T`: `Err` carries the exit code (0 for `--help`).
fn parse_args<T: clap::Parser>(args: Vec<OsString>) -> Result<T, ExitCode> {
    T::try_parse_from(args).map_err(|err| {
        let _ = err.print();
        if err.use_stderr() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::multicall::{Tool, invoked_as};

    #[test]
    fn the_cfn_names_are_the_tools_and_the_hook_keeps_its_heat_agents_name() {
        for (name, tool) in [
            ("/opt/aws/bin/cfn-init", Tool::CfnInit),
            ("cfn-hup", Tool::CfnHup),
            ("/usr/bin/cfn-get-metadata", Tool::CfnGetMetadata),
            ("cfn-create-aws-symlinks", Tool::CfnCreateAwsSymlinks),
        ] {
            assert_eq!(invoked_as(&name.into()), Some(tool), "{name}");
        }
        // The name `cfn-init` is the tool (the cfn-init hook runs it); the hook itself is
        // reached as heat-agents installs it.
        assert_eq!(
            invoked_as(&"/x/heat-config-cfn-init/install.d/hook-cfn-init.py".into()),
            Some(Tool::Hook("cfn-init"))
        );
    }
}
