//! The agent's command line, shared by the `updraft-agent` binary and `updraft agent`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::config::AgentConfig;
use crate::daemon;

/// Agent subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum AgentCommand {
    /// Poll the server's metadata, run new deployments through their hooks and signal results.
    Run(Box<RunArgs>),
    /// Act as `os-collect-config` (the same as running the binary under that name).
    #[command(disable_help_flag = true)]
    CollectConfig(PassThrough),
    /// Act as `os-refresh-config`.
    #[command(disable_help_flag = true)]
    RefreshConfig(PassThrough),
    /// Act as `os-apply-config`.
    #[command(disable_help_flag = true)]
    ApplyConfig(PassThrough),
    /// Signal a wait condition handle URL, as `cfn-signal` (same flags).
    #[command(disable_help_flag = true)]
    Signal(PassThrough),
    /// Apply a resource's AWS::CloudFormation::Init, as `cfn-init` (same flags).
    #[command(disable_help_flag = true)]
    CfnInit(PassThrough),
    /// Run hooks when resource metadata changes, as `cfn-hup` (same flags).
    #[command(disable_help_flag = true)]
    CfnHup(PassThrough),
    /// Print a resource's metadata, as `cfn-get-metadata` (same flags).
    #[command(disable_help_flag = true)]
    CfnGetMetadata(PassThrough),
    /// Link the cfn-* tools into /opt/aws/bin, as `cfn-create-aws-symlinks`.
    #[command(disable_help_flag = true)]
    CfnCreateAwsSymlinks(PassThrough),
    /// Run a built-in hook on the deployment on stdin, printing its signal payload
    /// (heat-agents' hook protocol): `hook puppet < deployment.json`.
    #[command(disable_help_flag = true)]
    Hook(PassThrough),
}

/// Arguments handed unparsed to a built-in tool, which parses them with its own flags.
#[derive(Debug, Clone, Args)]
pub struct PassThrough {
    /// The tool's own arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<std::ffi::OsString>,
}

impl PassThrough {
    /// The argument vector the tool sees, with `name` as its program name.
    fn argv(self, name: &str) -> Vec<std::ffi::OsString> {
        std::iter::once(name.into()).chain(self.args).collect()
    }
}

/// Which collector to start with, named as os-collect-config's options (`[request]`,
/// `[cfn]`, `[heat]`). Options of one collector only; none at all when the state directory
/// already holds the settings of an earlier run. The agent then follows the
/// `os-collect-config` section of the documents it receives.
#[derive(Debug, Clone, Default, Args)]
pub struct CollectorArgs {
    /// `request` collector (POLL_TEMP_URL): the server's metadata URL (a signed capability URL).
    #[arg(long, env = "UPDRAFT_METADATA_URL", hide_env_values = true)]
    pub metadata_url: Option<String>,

    /// `cfn` collector (POLL_SERVER_CFN): the CFN API URL, e.g. `http://heat:8000/v1/`.
    #[arg(long, value_name = "URL")]
    pub cfn_metadata_url: Option<String>,

    /// File holding the CFN API base URL, read when `--cfn-metadata-url` is not given.
    #[arg(long, value_name = "FILE", default_value = crate::collectors::cfn::DEFAULT_HINT)]
    pub cfn_heat_metadata_hint: PathBuf,

    /// `cfn`: the EC2 access key id.
    #[arg(long, env = "UPDRAFT_CFN_ACCESS_KEY_ID")]
    pub cfn_access_key_id: Option<String>,

    /// `cfn`: the EC2 secret key (better given in the environment).
    #[arg(long, env = "UPDRAFT_CFN_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub cfn_secret_access_key: Option<String>,

    /// `cfn`: the stack name.
    #[arg(long)]
    pub cfn_stack_name: Option<String>,

    /// `cfn`: `Resource.Field[.sub.keys]` to read, e.g. `server.Metadata` (repeatable).
    #[arg(long = "cfn-path", value_name = "PATH")]
    pub cfn_path: Vec<String>,

    /// `heat` collector (POLL_SERVER_HEAT): the Keystone URL.
    #[arg(long, value_name = "URL")]
    pub heat_auth_url: Option<String>,

    /// `heat`: the user id.
    #[arg(long)]
    pub heat_user_id: Option<String>,

    /// `heat`: the password (better given in the environment).
    #[arg(long, env = "UPDRAFT_HEAT_PASSWORD", hide_env_values = true)]
    pub heat_password: Option<String>,

    /// `heat`: the project id the token is scoped to.
    #[arg(long)]
    pub heat_project_id: Option<String>,

    /// `heat`: the stack, `<name>/<id>`.
    #[arg(long)]
    pub heat_stack_id: Option<String>,

    /// `heat`: the server's resource name.
    #[arg(long)]
    pub heat_resource_name: Option<String>,

    /// `heat`: the catalog region.
    #[arg(long)]
    pub heat_region_name: Option<String>,
}

/// The default state directory: heat-config's.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/heat-config";

/// Options of `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The collector to start with.
    #[command(flatten)]
    pub collector: CollectorArgs,

    /// Directory for the agent's state. Deployed records live in `<DIR>/deployed`, which
    /// by default is heat-config's own `/var/lib/heat-config/deployed`: an image moving
    /// from the Python agents keeps its record of what already ran.
    #[arg(long, env = "UPDRAFT_STATE_DIR", default_value = DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,

    /// Fetch once, run new deployments, deliver their signals, then exit.
    #[arg(long)]
    pub one_time: bool,

    /// Seconds between polls when the server does not long-poll (always for cfn and heat).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval: u64,

    /// Seconds the server may hold a poll open waiting for a change (0 disables long-poll).
    #[arg(long, default_value_t = 25)]
    pub long_poll: u64,

    /// Extra hooks directory, searched before the defaults (repeatable).
    #[arg(long = "hooks-dir", value_name = "DIR")]
    pub hooks_dir: Vec<PathBuf>,

    /// Where the script hook writes scripts [default: <state-dir>/heat-config-script].
    #[arg(long, env = "HEAT_SCRIPT_WORKING", value_name = "DIR")]
    pub script_working_dir: Option<PathBuf>,

    /// Where scripts write outputs [default: <state-dir>/heat-config-script-outputs].
    #[arg(long, env = "HEAT_SCRIPT_OUTPUTS", value_name = "DIR")]
    pub script_outputs_dir: Option<PathBuf>,

    /// Kill a hook running longer than this many seconds (default: no limit).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub hook_timeout: Option<u64>,

    /// On SIGTERM, seconds a running hook (and pending signals) get to finish before its
    /// process group is killed; a killed hook is reported failed on the next start.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub stop_grace: u64,

    /// Log at debug level (`RUST_LOG`, when set, still decides).
    #[arg(long)]
    pub debug: bool,
}

/// Runs `cmd`; errors are printed to stderr as one line `updraft-agent: <reason>`.
pub async fn execute(cmd: AgentCommand) -> ExitCode {
    let result = match cmd {
        AgentCommand::Run(args) => match AgentConfig::from_args(*args) {
            Ok(config) if config.one_time => daemon::run_once(config).await,
            Ok(config) => daemon::run(config).await,
            Err(err) => Err(err.into()),
        },
        AgentCommand::CollectConfig(p) => {
            return crate::occ::main(p.argv("os-collect-config")).await;
        }
        AgentCommand::RefreshConfig(p) => {
            return crate::refresh_config::main(p.argv("os-refresh-config")).await;
        }
        AgentCommand::ApplyConfig(p) => {
            return crate::apply_config::main(p.argv("os-apply-config")).await;
        }
        AgentCommand::Signal(p) => return crate::cfn_signal::main(p.argv("cfn-signal")).await,
        AgentCommand::Hook(p) => return crate::hook_command::main(None, p.argv("hook")).await,
        AgentCommand::CfnInit(p) => return crate::cfn::init::main(p.argv("cfn-init")).await,
        AgentCommand::CfnHup(p) => return crate::cfn::hup::main(p.argv("cfn-hup")).await,
        AgentCommand::CfnGetMetadata(p) => {
            return crate::cfn::get_metadata::main(p.argv("cfn-get-metadata")).await;
        }
        AgentCommand::CfnCreateAwsSymlinks(p) => {
            return crate::cfn::symlinks::main(p.argv("cfn-create-aws-symlinks")).await;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("updraft-agent: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: AgentCommand,
    }

    #[test]
    fn built_in_tools_get_their_arguments_unparsed() {
        let cli =
            Cli::try_parse_from(["updraft-agent", "apply-config", "--key", "a.b", "-t", "raw"])
                .unwrap();
        let AgentCommand::ApplyConfig(p) = cli.command else {
            panic!("not apply-config")
        };
        assert_eq!(
            p.argv("os-apply-config"),
            ["os-apply-config", "--key", "a.b", "-t", "raw"].map(std::ffi::OsString::from)
        );
    }

    #[test]
    fn parses_run_with_defaults_and_repeated_hooks_dirs() {
        let cli = Cli::try_parse_from([
            "updraft-agent",
            "run",
            "--metadata-url",
            "http://h/m",
            "--state-dir",
            "/s",
            "--hooks-dir",
            "/a",
            "--hooks-dir",
            "/b",
        ])
        .unwrap();
        let AgentCommand::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!((args.poll_interval, args.long_poll), (30, 25));
        assert_eq!(args.collector.metadata_url.as_deref(), Some("http://h/m"));
        assert_eq!(args.hooks_dir, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert!(!args.one_time);
        assert_eq!(args.hook_timeout, None);
        assert_eq!((args.stop_grace, args.debug), (30, false));
        let cli = Cli::try_parse_from(["x", "run", "--metadata-url", "u"]).unwrap();
        let AgentCommand::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(args.state_dir, PathBuf::from("/var/lib/heat-config"));
        assert!(
            Cli::try_parse_from([
                "x",
                "run",
                "--metadata-url",
                "u",
                "--state-dir",
                "s",
                "--poll-interval",
                "0"
            ])
            .is_err()
        );
    }

    #[test]
    fn parses_the_cfn_and_heat_options_as_os_collect_config_names_them() {
        let cli = Cli::try_parse_from([
            "updraft-agent",
            "run",
            "--state-dir",
            "/s",
            "--cfn-metadata-url",
            "http://h:8000/v1/",
            "--cfn-access-key-id",
            "AK",
            "--cfn-secret-access-key",
            "SK",
            "--cfn-stack-name",
            "st",
            "--cfn-path",
            "server.Metadata",
            "--cfn-path",
            "other.Metadata",
        ])
        .unwrap();
        let AgentCommand::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(
            args.collector.cfn_path,
            ["server.Metadata", "other.Metadata"]
        );
        assert_eq!(args.collector.cfn_secret_access_key.as_deref(), Some("SK"));
        let cli = Cli::try_parse_from([
            "updraft-agent",
            "run",
            "--state-dir",
            "/s",
            "--heat-auth-url",
            "http://h/v3/",
            "--heat-user-id",
            "u",
            "--heat-password",
            "pw",
            "--heat-project-id",
            "p",
            "--heat-stack-id",
            "s/1",
            "--heat-resource-name",
            "server",
            "--heat-region-name",
            "RegionOne",
        ])
        .unwrap();
        let AgentCommand::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(
            args.collector.heat_region_name.as_deref(),
            Some("RegionOne")
        );
    }
}
