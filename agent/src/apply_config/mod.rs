//! `os-apply-config`, built in: merges the metadata files ([`metadata`]), renders the
//! template tree against it ([`templates`], [`mustache`]) and writes the results
//! ([`write`], as each template's [`control`] file says); or reads one key for a
//! script ([`key`]).

pub mod control;
pub mod key;
pub mod metadata;
pub mod mustache;
pub mod templates;
pub mod write;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use serde_json::Value;

/// Where templates live unless `-t` or `OS_CONFIG_APPLIER_TEMPLATES` says otherwise.
pub const DEFAULT_TEMPLATES_DIR: &str = "/usr/libexec/os-apply-config/templates";
/// Deprecated template roots, used only when the default is absent.
pub const LEGACY_TEMPLATES_DIRS: [&str; 2] = [
    "/opt/stack/os-apply-config/templates",
    "/opt/stack/os-config-applier/templates",
];

/// Reads and merges JSON configuration files named by the colon-separated
/// OS_CONFIG_FILES, unless --metadata names them, and renders the template tree.
#[derive(Debug, Parser)]
#[command(name = "os-apply-config", version, infer_long_args = true)]
struct Args {
    /// Path to the template root directory.
    #[arg(short = 't', long = "templates", value_name = "TEMPLATE_ROOT")]
    templates: Option<PathBuf>,
    /// Root directory for output.
    #[arg(short = 'o', long, value_name = "OUT_DIR", default_value = "/")]
    output: PathBuf,
    /// Metadata files (overrides OS_CONFIG_FILES); repeat it or list several.
    #[arg(short = 'm', long, value_name = "METADATA_FILE", num_args = 0.., action = ArgAction::Append)]
    metadata: Vec<PathBuf>,
    /// Files merged first, lowest precedence (default: the heat-cfntools and cloud-init
    /// copies of the Heat metadata). Give it no files to merge none.
    #[arg(long, value_name = "FALLBACK_METADATA", num_args = 0.., action = ArgAction::Append)]
    fallback_metadata: Option<Vec<PathBuf>>,
    /// Validate only: render but do not write files.
    #[arg(short = 'v', long)]
    validate: bool,
    /// Print the templates root and exit.
    #[arg(long)]
    print_templates: bool,
    /// Use the sub-hash named by this dotted key instead of the full metadata.
    #[arg(short = 's', long)]
    subhash: Option<String>,
    /// Print this dotted key and exit (see --type and --key-default).
    #[arg(long, value_name = "KEY")]
    key: Option<String>,
    /// Fail unless the --key value matches this type:
    /// int|default|netaddress|netdevice|dsn|swiftdevices|username|raw.
    #[arg(long = "type", default_value = "default")]
    type_name: String,
    /// Print this when --key is missing (not type-checked).
    #[arg(long)]
    key_default: Option<String>,
    /// Exit 0 if this key is true, 1 if false, 255 if not a boolean.
    #[arg(long)]
    boolean_key: Option<String>,
    /// Path to os_config_files.json.
    #[arg(long)]
    os_config_files: Option<PathBuf>,
}

/// Why os-apply-config failed (exit status 1).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The metadata files could not be found, read or parsed.
    #[error(transparent)]
    Metadata(#[from] metadata::MetadataError),
    /// A template did not render.
    #[error(transparent)]
    Template(#[from] templates::TemplateError),
    /// An output file could not be written.
    #[error("{source} (from template {template})")]
    Write {
        /// The template whose output failed.
        template: PathBuf,
        /// The write error.
        source: write::WriteError,
    },
    /// `--key` found nothing suitable.
    #[error(transparent)]
    Key(#[from] key::KeyError),
    /// `--subhash` does not name a map.
    #[error("key '{0}' does not correspond to a hash in the metadata file")]
    Subhash(String),
}

/// The template root: `OS_CONFIG_APPLIER_TEMPLATES`, else the default, else a legacy
/// directory when only it exists.
pub fn templates_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("OS_CONFIG_APPLIER_TEMPLATES") {
        return dir.into();
    }
    let legacy = LEGACY_TEMPLATES_DIRS
        .iter()
        .find(|d| Path::new(d).is_dir())
        .unwrap_or(&LEGACY_TEMPLATES_DIRS[1]);
    if Path::new(legacy).is_dir() && !Path::new(DEFAULT_TEMPLATES_DIR).is_dir() {
        tracing::warn!(
            "template directory {legacy} is deprecated; the recommended location is {DEFAULT_TEMPLATES_DIR}"
        );
        return legacy.into();
    }
    DEFAULT_TEMPLATES_DIR.into()
}

/// Runs as `os-apply-config` with `args` (`args[0]` is the program name).
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    match tokio::task::spawn_blocking(move || run(args)).await {
        Ok(Ok(status)) => ExitCode::from(status),
        Ok(Err(err)) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
        Err(join) => {
            tracing::error!("os-apply-config worker failed: {join}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<u8, ApplyError> {
    let templates = args.templates.clone().unwrap_or_else(templates_dir);
    if args.print_templates {
        println!("{}", templates.display());
        return Ok(0);
    }
    let mut files = if args.metadata.is_empty() {
        let list = args
            .os_config_files
            .clone()
            .unwrap_or_else(metadata::default_list_path);
        metadata::default_files(&list)?
    } else {
        args.metadata.clone()
    };
    let fallback = args.fallback_metadata.clone().unwrap_or_else(|| {
        metadata::FALLBACK_METADATA
            .iter()
            .map(PathBuf::from)
            .collect()
    });
    files.splice(0..0, fallback);
    let key = args.key.as_deref().filter(|k| !k.is_empty());
    let boolean_key = args.boolean_key.as_deref().filter(|k| !k.is_empty());
    if key.is_some() && boolean_key.is_some() {
        tracing::warn!("--key is not compatible with --boolean-key; --boolean-key ignored");
    }
    let config = metadata::collect(&files)?;
    if let Some(key) = key {
        let text = key::lookup(&config, key, &args.type_name, args.key_default.as_deref())?;
        println!("{text}");
        return Ok(0);
    }
    if let Some(key) = boolean_key {
        return Ok(key::boolean_status(&config, key));
    }
    let config = subhash(&config, args.subhash.as_deref())?;
    let rendered = templates::render_tree(&templates, config)?;
    if !args.validate {
        for file in &rendered {
            let path = args.output.join(&file.relative);
            write::write(&path, &file.body, &file.control).map_err(|source| ApplyError::Write {
                template: file.template.clone(),
                source,
            })?;
        }
    }
    tracing::info!("success");
    Ok(0)
}

/// The map at dotted `keys` (the whole config when there are none).
fn subhash<'a>(config: &'a Value, keys: Option<&str>) -> Result<&'a Value, ApplyError> {
    let Some(keys) = keys.filter(|k| !k.is_empty()) else {
        return Ok(config);
    };
    keys.split('.').try_fold(config, |value, part| {
        value
            .get(part)
            .filter(|v| v.is_object())
            .ok_or_else(|| ApplyError::Subhash(keys.to_string()))
    })
}
