//! The table of os-collect-config 14.1.0's options (reference heat-agents.md §1.1): each
//! option's group, declared name, kind and short flag, and the names derived from them
//! (file key, long flag, environment variable). [`super::options`] resolves them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Str,
    Multi,
    Bool,
    Float,
}

/// One option: group (`DEFAULT` for the main ones), declared name (dashes as upstream
/// declares it; the file key and variable use underscores), kind, short flag.
pub(super) struct Spec {
    pub(super) group: &'static str,
    pub(super) name: &'static str,
    pub(super) kind: Kind,
    pub(super) short: Option<char>,
}

const fn opt(group: &'static str, name: &'static str, kind: Kind) -> Spec {
    Spec {
        group,
        name,
        kind,
        short: None,
    }
}

use Kind::{Bool, Float, Multi, Str};

/// Every option of os-collect-config 14.1.0.
pub(super) const SPECS: &[Spec] = &[
    Spec {
        short: Some('c'),
        ..opt("DEFAULT", "command", Str)
    },
    opt("DEFAULT", "cachedir", Str),
    opt("DEFAULT", "backup-cachedir", Str),
    opt("DEFAULT", "collectors", Multi),
    opt("DEFAULT", "one-time", Bool),
    opt("DEFAULT", "min-polling-interval", Float),
    Spec {
        short: Some('i'),
        ..opt("DEFAULT", "polling-interval", Float)
    },
    opt("DEFAULT", "print-cachedir", Bool),
    opt("DEFAULT", "force", Bool),
    opt("DEFAULT", "print", Bool),
    opt("DEFAULT", "deployment-key", Multi),
    opt("DEFAULT", "splay", Float),
    Spec {
        short: Some('d'),
        ..opt("DEFAULT", "debug", Bool)
    },
    // oslo.log's options: accepted, inert as upstream.
    opt("DEFAULT", "log-config-append", Str),
    opt("DEFAULT", "log-date-format", Str),
    opt("DEFAULT", "log-dir", Str),
    opt("DEFAULT", "log-file", Str),
    opt("DEFAULT", "use-journal", Bool),
    opt("DEFAULT", "use-json", Bool),
    opt("DEFAULT", "use-syslog", Bool),
    opt("DEFAULT", "syslog-log-facility", Str),
    opt("DEFAULT", "shell_completion", Str),
    opt("ec2", "metadata-url", Str),
    opt("ec2", "timeout", Float),
    opt("cfn", "metadata-url", Str),
    opt("cfn", "heat-metadata-hint", Str),
    opt("cfn", "ca_certificate", Str),
    opt("cfn", "stack-name", Str),
    opt("cfn", "path", Multi),
    opt("cfn", "secret-access-key", Str),
    opt("cfn", "access-key-id", Str),
    opt("cfn", "deployment-key", Multi),
    opt("cfn", "timeout", Float),
    opt("heat", "user-id", Str),
    opt("heat", "password", Str),
    opt("heat", "project-id", Str),
    opt("heat", "auth-url", Str),
    opt("heat", "stack-id", Str),
    opt("heat", "resource-name", Str),
    opt("heat", "region-name", Str),
    opt("heat_local", "path", Multi),
    opt("local", "path", Multi),
    opt("request", "metadata-url", Str),
    opt("request", "timeout", Float),
    opt("zaqar", "user-id", Str),
    opt("zaqar", "password", Str),
    opt("zaqar", "project-id", Str),
    opt("zaqar", "auth-url", Str),
    opt("zaqar", "queue-id", Str),
    opt("zaqar", "use-websockets", Bool),
    opt("zaqar", "region-name", Str),
    opt("zaqar", "ssl-certificate-validation", Bool),
    opt("zaqar", "ca-file", Str),
    opt("keystone", "cache_dir", Str),
    opt("keystone", "cache_ttl", Str),
];

impl Spec {
    /// The file key and attribute name: dashes become underscores.
    pub(super) fn dest(&self) -> String {
        self.name.replace('-', "_")
    }

    /// The long flag without `--`.
    pub(super) fn flag(&self) -> String {
        if self.group == "DEFAULT" {
            self.name.to_string()
        } else {
            format!("{}-{}", self.group, self.name)
        }
    }

    pub(super) fn env_name(&self) -> String {
        format!(
            "OS_{}__{}",
            self.group.to_uppercase(),
            self.dest().to_uppercase()
        )
    }

    pub(super) fn id(&self) -> String {
        format!("{}.{}", self.group, self.dest())
    }
}
