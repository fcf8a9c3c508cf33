//! The hooks built into the agent, one variant per group: the single list the dispatcher
//! ([`crate::hook::run_deployment`]), the multi-call names (`hook-puppet.py`, …) and
//! `updraft-agent hook <group>` all read.
//!
//! heat-agents' `kubelet` hook is not built: it needs docker-py's pre-2.0 API and the
//! `k8s_` container names of dockershim, which Kubernetes removed in 1.24.

use crate::deployment::Deployment;
use crate::hook::HookSettings;
use crate::signal::SignalPayload;

/// A built-in hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltIn {
    /// `script`: [`crate::script`].
    Script,
    /// `puppet`: [`crate::puppet`].
    Puppet,
    /// `ansible`: [`crate::ansible`].
    Ansible,
    /// `salt`: [`crate::salt`].
    Salt,
    /// `chef`: [`crate::chef`].
    Chef,
    /// `json-file`: [`crate::json_file`].
    JsonFile,
    /// `hiera`: [`crate::hiera`].
    Hiera,
    /// `cfn-init`: [`crate::cfn_init`].
    CfnInit,
    /// `apply-config`: [`crate::apply_config`].
    ApplyConfig,
    /// `docker-cmd`: [`crate::docker_cmd`].
    DockerCmd,
    /// `docker-compose`: [`crate::docker_compose`].
    DockerCompose,
}

impl BuiltIn {
    /// Every built-in hook.
    pub const ALL: &[BuiltIn] = &[
        BuiltIn::Script,
        BuiltIn::Puppet,
        BuiltIn::Ansible,
        BuiltIn::Salt,
        BuiltIn::Chef,
        BuiltIn::JsonFile,
        BuiltIn::Hiera,
        BuiltIn::CfnInit,
        BuiltIn::ApplyConfig,
        BuiltIn::DockerCmd,
        BuiltIn::DockerCompose,
    ];

    /// The deployment group this hook serves.
    pub fn group(self) -> &'static str {
        match self {
            BuiltIn::Script => "script",
            BuiltIn::Puppet => "puppet",
            BuiltIn::Ansible => "ansible",
            BuiltIn::Salt => "salt",
            BuiltIn::Chef => "chef",
            BuiltIn::JsonFile => "json-file",
            BuiltIn::Hiera => "hiera",
            BuiltIn::CfnInit => "cfn-init",
            BuiltIn::ApplyConfig => "apply-config",
            BuiltIn::DockerCmd => "docker-cmd",
            BuiltIn::DockerCompose => "docker-compose",
        }
    }

    /// The built-in hook for `group`, if there is one.
    pub fn for_group(group: &str) -> Option<BuiltIn> {
        Self::ALL.iter().copied().find(|b| b.group() == group)
    }

    /// The groups, comma-separated, for messages.
    pub fn groups_text() -> String {
        Self::ALL
            .iter()
            .map(|b| b.group())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Runs `deployment` through this hook; its settings come from `settings` and the
    /// hook's own `HEAT_*` environment variables.
    pub async fn run(self, deployment: &Deployment, settings: &HookSettings) -> SignalPayload {
        let timeout = settings.timeout;
        match self {
            BuiltIn::Script => crate::script::run(deployment, &settings.script, timeout).await,
            BuiltIn::JsonFile => crate::json_file::run(deployment).await,
            BuiltIn::Puppet => {
                let puppet = crate::puppet::PuppetSettings::from_env();
                crate::puppet::run(deployment, &puppet, timeout).await
            }
            BuiltIn::Chef => {
                let chef = crate::chef::ChefSettings::from_env();
                crate::chef::run(deployment, &chef, timeout).await
            }
            BuiltIn::Salt => {
                let salt = crate::salt::SaltSettings::from_env();
                crate::salt::run(deployment, &salt, timeout).await
            }
            BuiltIn::Ansible => {
                let ansible = crate::ansible::AnsibleSettings::from_env();
                crate::ansible::run(deployment, &ansible, timeout).await
            }
            BuiltIn::Hiera => {
                let paths = crate::hiera::HieraPaths::from_env();
                crate::hiera::run(deployment, &paths).await
            }
            BuiltIn::CfnInit => {
                let cfn_init = crate::cfn_init::CfnInitSettings::from_env();
                let own = settings.tools_executable.as_deref();
                crate::cfn_init::run(deployment, &cfn_init, own, timeout).await
            }
            BuiltIn::ApplyConfig => {
                let own = settings.tools_executable.as_deref();
                crate::apply_config::run(deployment, own, &settings.config_files, timeout).await
            }
            BuiltIn::DockerCmd => {
                let docker = crate::docker_cmd::DockerCmdSettings::from_env();
                crate::docker_cmd::run(deployment, &docker, timeout).await
            }
            BuiltIn::DockerCompose => {
                let compose = crate::docker_compose::ComposeSettings::from_env();
                crate::docker_compose::run(deployment, &compose, timeout).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hook_is_found_by_its_group() {
        for hook in BuiltIn::ALL {
            assert_eq!(BuiltIn::for_group(hook.group()), Some(*hook));
        }
        assert_eq!(BuiltIn::for_group("kubelet"), None);
    }
}
