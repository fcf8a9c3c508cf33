//! os-collect-config's options (reference heat-agents.md §1.1), resolved as oslo.config
//! does: the command line first, then `OS_<GROUP>__<NAME>` environment variables, then the
//! config files (`--config-file`, repeatable, then `--config-dir`'s `*.conf` sorted; by
//! default the first existing of `~/os-collect-config.conf` and
//! `/etc/os-collect-config.conf`), then the defaults. In a file a single-valued option
//! takes the value of the last file that sets it; a list option (`collectors`, `path`,
//! `deployment_key`) is every repeated key of every file, in order. File keys use
//! underscores; dashed keys are not options and are ignored, as upstream.
//!
//! String values are interpolated as oslo.config does (`$$` is a dollar sign, `$name` and
//! `${group.name}` other options), so a config written for upstream means the same here.
//!
//! Differences from upstream: an environment variable of a list option is one value
//! (oslo.config splits the string into characters). oslo.log's options (`--debug`,
//! `--log-file`, …) are accepted and, as upstream (§1.7 Q1), have no effect: the log level
//! is `RUST_LOG`'s, set before the tool reads its options.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::ini;
use super::option_table::Kind::{Bool, Multi};
use super::option_table::{SPECS, Spec};
use crate::secret::Secret;

/// The collectors in upstream's default order.
pub const DEFAULT_COLLECTORS: &[&str] = &[
    "heat_local",
    "ec2",
    "cfn",
    "heat",
    "request",
    "local",
    "zaqar",
];

/// Default `cachedir`.
pub const DEFAULT_CACHEDIR: &str = "/var/lib/os-collect-config";
/// Default `backup_cachedir`.
pub const DEFAULT_BACKUP_CACHEDIR: &str = "/var/run/os-collect-config";
/// Default `[ec2] metadata_url`.
pub const DEFAULT_EC2_URL: &str = "http://169.254.169.254/latest/meta-data";
/// Default `[heat_local] path`.
pub const DEFAULT_HEAT_LOCAL_PATH: &str = "/var/lib/heat-cfntools/cfn-init-data";
/// Default `[local] path`.
pub const DEFAULT_LOCAL_PATH: &str = "/var/lib/os-collect-config/local-data";
/// The config file name looked for in `~` and `/etc`.
pub const CONFIG_FILE_NAME: &str = "os-collect-config.conf";

/// Options that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// A command-line usage error (exit status 2, as argparse).
    #[error("{0}")]
    Usage(String),
    /// A config file that cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A config file that does not parse.
    #[error("cannot parse config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and why.
        source: ini::IniError,
    },
    /// A value of the wrong type.
    #[error("invalid value for {option} (from {origin}): {reason}")]
    Value {
        /// `group.name`.
        option: String,
        /// Command line, variable name or file.
        origin: String,
        /// Why.
        reason: String,
    },
    /// A collector name upstream does not know.
    #[error("unknown collectors {unknown:?}; valid collectors are: {valid:?}")]
    UnknownCollectors {
        /// The unknown names.
        unknown: Vec<String>,
        /// The valid ones.
        valid: &'static [&'static str],
    },
}

/// `[cfn]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CfnOptions {
    /// `metadata_url`.
    pub metadata_url: Option<String>,
    /// `heat_metadata_hint`.
    pub heat_metadata_hint: Option<PathBuf>,
    /// `ca_certificate`.
    pub ca_certificate: Option<PathBuf>,
    /// `stack_name`.
    pub stack_name: Option<String>,
    /// `path` (none when not set: not configured).
    pub path: Option<Vec<String>>,
    /// `secret_access_key`.
    pub secret_access_key: Option<Secret>,
    /// `access_key_id`.
    pub access_key_id: Option<String>,
    /// `deployment_key` (deprecated, still used by cfn upstream).
    pub deployment_key: Vec<String>,
    /// `timeout`, seconds.
    pub timeout: f64,
}

/// `[heat]` (and the Keystone part of `[zaqar]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeatOptions {
    /// `user_id`.
    pub user_id: Option<String>,
    /// `password`.
    pub password: Option<Secret>,
    /// `project_id`.
    pub project_id: Option<String>,
    /// `auth_url`.
    pub auth_url: Option<String>,
    /// `stack_id`.
    pub stack_id: Option<String>,
    /// `resource_name`.
    pub resource_name: Option<String>,
    /// `region_name`.
    pub region_name: Option<String>,
}

/// Everything os-collect-config is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `command`.
    pub command: Option<String>,
    /// `cachedir`.
    pub cachedir: PathBuf,
    /// `backup_cachedir`.
    pub backup_cachedir: PathBuf,
    /// `collectors`, validated, in order.
    pub collectors: Vec<String>,
    /// `one_time` (set by `force` too).
    pub one_time: bool,
    /// `min_polling_interval`, seconds.
    pub min_polling_interval: f64,
    /// `polling_interval`, seconds.
    pub polling_interval: f64,
    /// `print_cachedir`.
    pub print_cachedir: bool,
    /// `force`.
    pub force: bool,
    /// `print_only` (`--print`).
    pub print_only: bool,
    /// `deployment_key`.
    pub deployment_key: Vec<String>,
    /// `splay`, seconds.
    pub splay: f64,
    /// `debug`.
    pub debug: bool,
    /// `[ec2] metadata_url`.
    pub ec2_metadata_url: String,
    /// `[ec2] timeout`.
    pub ec2_timeout: f64,
    /// `[cfn]`.
    pub cfn: CfnOptions,
    /// `[heat]`.
    pub heat: HeatOptions,
    /// `[heat_local] path`.
    pub heat_local_path: Vec<PathBuf>,
    /// `[local] path`.
    pub local_path: Vec<PathBuf>,
    /// `[request] metadata_url` (a capability URL: secret).
    pub request_metadata_url: Option<Secret>,
    /// `[request] timeout`.
    pub request_timeout: f64,
    /// The config files read, in order (hashed to notice a rewrite).
    pub config_files: Vec<PathBuf>,
}

/// What the command line asks for besides options.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// Run with these options.
    Run(Box<Options>),
    /// `--help`: print this and exit 0.
    Help(String),
    /// `--version`.
    Version,
}

/// Raw values of one layer: option id → values.
type Layer = BTreeMap<String, (Vec<String>, String)>;

/// The command line, split: option values, config files and dir, positional collectors.
#[derive(Debug, Default)]
struct CommandLine {
    values: Layer,
    config_files: Vec<PathBuf>,
    config_dirs: Vec<PathBuf>,
    help: bool,
    version: bool,
}

fn usage(message: impl Into<String>) -> OptionsError {
    OptionsError::Usage(message.into())
}

fn parse_command_line(args: &[OsString]) -> Result<CommandLine, OptionsError> {
    let mut line = CommandLine::default();
    let mut positional = Vec::new();
    let mut iter = args.iter().map(|a| a.to_string_lossy().into_owned());
    let mut only_positional = false;
    while let Some(arg) = iter.next() {
        if only_positional || !arg.starts_with('-') || arg == "-" {
            positional.push(arg);
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            // `-cCOMMAND`, `-i8`: a short option with its value attached, as argparse.
            _ if !arg.starts_with("--") && arg.len() > 2 && arg.is_char_boundary(2) => {
                (arg[..2].to_string(), Some(arg[2..].to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |flag: &str| -> Result<String, OptionsError> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => iter
                    .next()
                    .ok_or_else(|| usage(format!("argument {flag}: expected one argument"))),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => {
                line.help = true;
                continue;
            }
            "--version" => {
                line.version = true;
                continue;
            }
            "--config-file" => {
                let v = value(&flag)?;
                line.config_files.push(PathBuf::from(v));
                continue;
            }
            "--config-dir" => {
                let v = value(&flag)?;
                line.config_dirs.push(PathBuf::from(v));
                continue;
            }
            _ => {}
        }
        let (spec, negated) =
            find_flag(&flag).ok_or_else(|| usage(format!("unrecognized arguments: {arg}")))?;
        let text = if spec.kind == Bool {
            if inline.is_some() {
                return Err(usage(format!("argument {flag}: ignored explicit argument")));
            }
            (!negated).to_string()
        } else {
            value(&flag)?
        };
        let entry = line
            .values
            .entry(spec.id())
            .or_insert_with(|| (Vec::new(), "the command line".into()));
        if spec.kind == Multi {
            entry.0.push(text);
        } else {
            entry.0 = vec![text];
        }
    }
    if !positional.is_empty() {
        line.values.insert(
            "DEFAULT.collectors".into(),
            (positional, "the command line".into()),
        );
    }
    Ok(line)
}

/// The spec of a command-line flag, and whether it is a `--no…` boolean.
fn find_flag(flag: &str) -> Option<(&'static Spec, bool)> {
    if let Some(c) = flag.strip_prefix('-').filter(|f| f.len() == 1) {
        return SPECS
            .iter()
            .find(|s| s.short.is_some_and(|sc| c.starts_with(sc)))
            .map(|s| (s, false));
    }
    let long = flag.strip_prefix("--")?;
    if let Some(spec) = SPECS.iter().find(|s| s.flag() == long) {
        return Some((spec, false));
    }
    // Booleans also have `--noX`, and `--group-noX` in a group.
    SPECS
        .iter()
        .filter(|s| s.kind == Bool)
        .find(|s| {
            if s.group == "DEFAULT" {
                long == format!("no{}", s.name)
            } else {
                long == format!("{}-no{}", s.group, s.name)
            }
        })
        .map(|s| (s, true))
}

/// The files to read: those named, else the first default that exists; then each
/// directory's `*.conf`, sorted.
fn config_files(line: &CommandLine, home: Option<&Path>) -> Result<Vec<PathBuf>, OptionsError> {
    let mut files = line.config_files.clone();
    if files.is_empty() {
        let defaults = home
            .map(|h| h.join(CONFIG_FILE_NAME))
            .into_iter()
            .chain([Path::new("/etc").join(CONFIG_FILE_NAME)]);
        files.extend(defaults.filter(|p| p.is_file()).take(1));
    }
    for dir in &line.config_dirs {
        let entries = std::fs::read_dir(dir).map_err(|source| OptionsError::Read {
            path: dir.clone(),
            source,
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .collect();
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// The file layer: every file's values merged (last file wins; lists concatenate).
fn file_layer(files: &[PathBuf]) -> Result<Layer, OptionsError> {
    let mut layer = Layer::new();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|source| OptionsError::Read {
            path: path.clone(),
            source,
        })?;
        let sections = ini::parse(&text).map_err(|source| OptionsError::Parse {
            path: path.clone(),
            source,
        })?;
        for spec in SPECS {
            // oslo.config also finds a group under its lowercased name.
            let values: Vec<String> = sections
                .iter()
                .filter(|(name, _)| *name == spec.group || name.to_lowercase() == spec.group)
                .filter_map(|(_, keys)| keys.get(&spec.dest()))
                .flatten()
                .cloned()
                .collect();
            if values.is_empty() {
                continue;
            }
            let origin = path.display().to_string();
            match layer.get_mut(&spec.id()) {
                Some(entry) if spec.kind == Multi => {
                    entry.0.extend(values);
                    entry.1 = origin;
                }
                _ => {
                    layer.insert(spec.id(), (values, origin));
                }
            }
        }
    }
    Ok(layer)
}

/// The resolved raw values: command line, environment, files.
struct Resolved {
    cli: Layer,
    env: Layer,
    files: Layer,
}

impl Resolved {
    fn raw(&self, group: &str, name: &str) -> Option<&(Vec<String>, String)> {
        let id = format!("{group}.{}", name.replace('-', "_"));
        self.cli
            .get(&id)
            .or_else(|| self.env.get(&id))
            .or_else(|| self.files.get(&id))
    }

    fn string(&self, group: &str, name: &str) -> Result<Option<String>, OptionsError> {
        let Some((values, origin)) = self.raw(group, name) else {
            return Ok(None);
        };
        match values.last() {
            Some(v) => self.substitute(v, group, name, origin).map(Some),
            None => Ok(None),
        }
    }

    fn list(&self, group: &str, name: &str) -> Result<Option<Vec<String>>, OptionsError> {
        let Some((values, origin)) = self.raw(group, name) else {
            return Ok(None);
        };
        values
            .iter()
            .map(|v| self.substitute(v, group, name, origin))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// oslo.config's interpolation: `$$` is `$`, `$name`, `${name}` and `$group.name` are
    /// the values of those options. (So a shell variable in `command` is written `$$VAR`.)
    fn substitute(
        &self,
        value: &str,
        group: &str,
        name: &str,
        origin: &str,
    ) -> Result<String, OptionsError> {
        let fail = |reason: String| OptionsError::Value {
            option: format!("{group}.{}", name.replace('-', "_")),
            origin: origin.to_string(),
            reason,
        };
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
                continue;
            }
            let (reference, tail) = if let Some(braced) = after.strip_prefix('{') {
                let end = braced
                    .find('}')
                    .ok_or_else(|| fail("unterminated ${ in value".into()))?;
                (&braced[..end], &braced[end + 1..])
            } else {
                let starts = after
                    .chars()
                    .next()
                    .is_some_and(|c| c == '_' || c.is_ascii_alphabetic());
                let len = if starts {
                    after
                        .find(|c: char| !(c == '_' || c == '.' || c.is_ascii_alphanumeric()))
                        .unwrap_or(after.len())
                } else {
                    0
                };
                if len == 0 {
                    return Err(fail("a lone $ (write $$ for a dollar sign)".into()));
                }
                (&after[..len], &after[len..])
            };
            let (ref_group, ref_name) = reference.split_once('.').unwrap_or(("DEFAULT", reference));
            let known = SPECS
                .iter()
                .any(|s| s.group == ref_group && s.dest() == ref_name && s.kind != Multi);
            if !known || (ref_group == group && ref_name == name.replace('-', "_")) {
                return Err(fail(format!("no such option {reference} to substitute")));
            }
            let substituted = match self.raw(ref_group, ref_name).and_then(|(v, _)| v.last()) {
                Some(v) if !v.contains('$') => v.clone(),
                Some(_) => return Err(fail(format!("nested substitution of {reference}"))),
                None => default_of(ref_group, ref_name)
                    .unwrap_or_default()
                    .to_string(),
            };
            out.push_str(&substituted);
            rest = tail;
        }
        out.push_str(rest);
        Ok(out)
    }

    fn boolean(&self, group: &str, name: &str) -> Result<bool, OptionsError> {
        let Some((values, origin)) = self.raw(group, name) else {
            return Ok(false);
        };
        let text = values.last().map(|s| s.to_lowercase()).unwrap_or_default();
        match text.as_str() {
            "true" | "1" | "on" | "yes" => Ok(true),
            "false" | "0" | "off" | "no" => Ok(false),
            _ => Err(OptionsError::Value {
                option: format!("{group}.{name}"),
                origin: origin.clone(),
                reason: format!("{text:?} is not a boolean"),
            }),
        }
    }

    fn float(&self, group: &str, name: &str, default: f64) -> Result<f64, OptionsError> {
        let Some((values, origin)) = self.raw(group, name) else {
            return Ok(default);
        };
        let text = values.last().map(|s| s.trim()).unwrap_or_default();
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| OptionsError::Value {
                option: format!("{group}.{}", name.replace('-', "_")),
                origin: origin.clone(),
                reason: format!("{text:?} is not a number"),
            })
    }
}

/// The default of a string option, for substitution.
fn default_of(group: &str, name: &str) -> Option<&'static str> {
    match (group, name) {
        ("DEFAULT", "cachedir") => Some(DEFAULT_CACHEDIR),
        ("DEFAULT", "backup_cachedir") => Some(DEFAULT_BACKUP_CACHEDIR),
        ("ec2", "metadata_url") => Some(DEFAULT_EC2_URL),
        ("cfn", "heat_metadata_hint") => Some(crate::collectors::cfn::DEFAULT_HINT),
        _ => None,
    }
}

/// Parses `args` (without the program name) with the environment `env` and home `home`.
pub fn parse(
    args: &[OsString],
    env: impl Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<Invocation, OptionsError> {
    let line = parse_command_line(args)?;
    if line.help {
        return Ok(Invocation::Help(help_text()));
    }
    if line.version {
        return Ok(Invocation::Version);
    }
    let files = config_files(&line, home)?;
    let mut env_layer = Layer::new();
    for spec in SPECS {
        let name = spec.env_name();
        if let Some(value) = env(&name) {
            env_layer.insert(spec.id(), (vec![value], name));
        }
    }
    let r = Resolved {
        cli: line.values,
        env: env_layer,
        files: file_layer(&files)?,
    };
    let strings = |v: Vec<String>| v;
    let paths = |v: Vec<String>| v.into_iter().map(PathBuf::from).collect::<Vec<_>>();
    let collectors = r
        .list("DEFAULT", "collectors")?
        .unwrap_or_else(|| DEFAULT_COLLECTORS.iter().map(|s| s.to_string()).collect());
    let mut unknown: Vec<String> = collectors
        .iter()
        .filter(|c| !DEFAULT_COLLECTORS.contains(&c.as_str()))
        .cloned()
        .collect();
    unknown.dedup();
    if !unknown.is_empty() {
        return Err(OptionsError::UnknownCollectors {
            unknown,
            valid: DEFAULT_COLLECTORS,
        });
    }
    let force = r.boolean("DEFAULT", "force")?;
    let options = Options {
        command: r.string("DEFAULT", "command")?.filter(|c| !c.is_empty()),
        cachedir: PathBuf::from(
            r.string("DEFAULT", "cachedir")?
                .unwrap_or_else(|| DEFAULT_CACHEDIR.into()),
        ),
        backup_cachedir: PathBuf::from(
            r.string("DEFAULT", "backup-cachedir")?
                .unwrap_or_else(|| DEFAULT_BACKUP_CACHEDIR.into()),
        ),
        collectors,
        one_time: r.boolean("DEFAULT", "one-time")? || force,
        min_polling_interval: r.float("DEFAULT", "min-polling-interval", 1.0)?,
        polling_interval: r.float("DEFAULT", "polling-interval", 30.0)?,
        print_cachedir: r.boolean("DEFAULT", "print-cachedir")?,
        force,
        print_only: r.boolean("DEFAULT", "print")?,
        deployment_key: r
            .list("DEFAULT", "deployment-key")?
            .map(strings)
            .unwrap_or_else(|| vec!["deployments".into()]),
        splay: r.float("DEFAULT", "splay", 0.0)?,
        debug: r.boolean("DEFAULT", "debug")?,
        ec2_metadata_url: r
            .string("ec2", "metadata-url")?
            .unwrap_or_else(|| DEFAULT_EC2_URL.into()),
        ec2_timeout: r.float("ec2", "timeout", 10.0)?,
        cfn: CfnOptions {
            metadata_url: r.string("cfn", "metadata-url")?,
            heat_metadata_hint: Some(PathBuf::from(
                r.string("cfn", "heat-metadata-hint")?
                    .unwrap_or_else(|| crate::collectors::cfn::DEFAULT_HINT.into()),
            ))
            .filter(|p| !p.as_os_str().is_empty()),
            ca_certificate: r.string("cfn", "ca_certificate")?.map(PathBuf::from),
            stack_name: r.string("cfn", "stack-name")?,
            path: r.list("cfn", "path")?,
            secret_access_key: r.string("cfn", "secret-access-key")?.map(Secret::new),
            access_key_id: r.string("cfn", "access-key-id")?,
            deployment_key: r
                .list("cfn", "deployment-key")?
                .unwrap_or_else(|| vec!["deployments".into()]),
            timeout: r.float("cfn", "timeout", 10.0)?,
        },
        heat: HeatOptions {
            user_id: r.string("heat", "user-id")?,
            password: r.string("heat", "password")?.map(Secret::new),
            project_id: r.string("heat", "project-id")?,
            auth_url: r.string("heat", "auth-url")?,
            stack_id: r.string("heat", "stack-id")?,
            resource_name: r.string("heat", "resource-name")?,
            region_name: r.string("heat", "region-name")?,
        },
        heat_local_path: r
            .list("heat_local", "path")?
            .map(paths)
            .unwrap_or_else(|| vec![PathBuf::from(DEFAULT_HEAT_LOCAL_PATH)]),
        local_path: r
            .list("local", "path")?
            .map(paths)
            .unwrap_or_else(|| vec![PathBuf::from(DEFAULT_LOCAL_PATH)]),
        request_metadata_url: r.string("request", "metadata-url")?.map(Secret::new),
        request_timeout: r.float("request", "timeout", 10.0)?,
        config_files: files,
    };
    Ok(Invocation::Run(Box::new(options)))
}

/// `--help`.
fn help_text() -> String {
    let mut text = String::from(
        "usage: os-collect-config [options] [collectors ...]\n\n\
         Collects metadata, stores it under cachedir and runs --command on change.\n\n\
         options:\n  -h, --help\n  --version\n  --config-file PATH\n  --config-dir DIR\n",
    );
    for spec in SPECS {
        let value = match spec.kind {
            Bool => String::new(),
            _ => format!(" {}", spec.dest().to_uppercase()),
        };
        text.push_str(&format!("  --{}{value}\n", spec.flag()));
    }
    text
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
