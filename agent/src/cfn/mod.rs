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
