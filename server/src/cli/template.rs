//! `updraft template validate -t FILE [-e ENV]... [-P NAME=VALUE]...`: the server's own
//! checks, offline (no server): every problem is printed as
//! `FILE:LINE:COLUMN: path: message` (`FILE: message` when the place is not known), or
//! `OK`; the exit status is non-zero when there are problems.
//!
//! Like heatclient, local `get_file` targets and provider templates (`type: x.yaml`) are
//! read relative to the template and put in the files map under `file://` URLs, and the
//! template is rewritten to use those keys.
//! Parameter values given with `-P` or in environments are checked; missing ones are not
//! an error (they are usually given at create time).
//!
//! With `--remote`, the same files map is sent to a server's `POST /validate` instead, and
//! its answer (parameters, description) is printed. [`prepare`] is what the client CLI's
//! `stack create`/`update` send, built the same way (environment files too).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Map, Value};

use super::client::Client;
use super::config::ConnectionArgs;
use super::output::{Format, OutputArgs, print_object, to_yaml};
use super::up::{merge_environments, parse_parameters};
use updraft_server::engine::StackRequest;
use updraft_server::engine::validate::{Values, check_stack};
use updraft_server::resources::Registry;
use updraft_server::template::error::{TemplateError, index, join};
use updraft_server::template::loader::load_document;
use updraft_server::template::locate::attach_positions;
use updraft_server::template::registry::is_template;
use updraft_server::template::{TemplateErrorKind, TemplateErrors};

/// `updraft template …`
#[derive(Debug, clap::Subcommand)]
pub enum TemplateCommand {
    /// Check a template (and environments, parameters) without a server.
    Validate(ValidateArgs),
}

/// Options of `updraft template validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The HOT template to check.
    #[arg(
        short = 't',
        long = "template",
        value_name = "FILE",
        required_unless_present = "file"
    )]
    template: Option<PathBuf>,
    /// The template, as a positional argument (same as `-t`).
    #[arg(value_name = "FILE", conflicts_with = "template")]
    file: Option<PathBuf>,
    /// An environment file (repeatable; later files win).
    #[arg(short = 'e', long = "environment", value_name = "FILE")]
    environments: Vec<PathBuf>,
    /// A parameter value `name=value` (repeatable).
    #[arg(short = 'P', long = "parameter", value_name = "NAME=VALUE")]
    parameters: Vec<String>,
    /// Ask a server (`POST /validate`) instead of checking offline.
    #[arg(long)]
    remote: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `updraft template …`.
pub async fn run(command: TemplateCommand) -> anyhow::Result<ExitCode> {
    match command {
        TemplateCommand::Validate(args) if args.remote => validate_remote(&args).await,
        TemplateCommand::Validate(args) => validate(&args),
    }
}

fn template_path(args: &ValidateArgs) -> anyhow::Result<&Path> {
    args.template
        .as_deref()
        .or(args.file.as_deref())
        .context("a template is required (-t FILE)")
}

/// `--remote`: the server's `POST /validate`, printed as YAML unless `-f` says otherwise.
async fn validate_remote(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let prepared = prepare(Some(template_path(args)?), &args.environments)?;
    let client = Client::new(args.connection.connect().await?)?;
    let mut body = serde_json::json!({
        "template": prepared.template,
        "files": prepared.files,
        "environment": prepared.environment,
        "environment_files": prepared.environment_files,
    });
    let params = parse_parameters(&args.parameters)?;
    if !params.is_empty() {
        body["environment"]["parameters"] = Value::Object(params);
    }
    let result = client.post("/validate", &body).await?;
    match args.output.format {
        Format::Table => print!("{}", to_yaml(&result)?),
        _ => print_object(&result, &args.output)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A template with its files map, as heatclient sends it.
#[derive(Debug)]
pub struct Prepared {
    /// The template, local references rewritten to `file://` keys.
    pub template: Value,
    /// `get_file` targets, provider templates and environment files by `file://` URL.
    pub files: Map<String, Value>,
    /// The environments merged (registry paths rewritten to `file://` keys).
    pub environment: Value,
    /// The environment files' URLs, in order.
    pub environment_files: Vec<String>,
}

/// Reads `template` and `environments` as heatclient does for create/update/validate:
/// local `get_file`s, provider templates (in the template and in environments' registries)
/// and the environment files themselves go in the files map under `file://` URLs.
/// Without a template (a patch keeping the stored one) `template` is `null`.
pub fn prepare(template: Option<&Path>, environments: &[PathBuf]) -> anyhow::Result<Prepared> {
    let mut files = Map::new();
    let mut errors = vec![];
    let shown = template
        .map(|t| t.display().to_string())
        .unwrap_or_default();
    let doc = match template {
        None => Value::Null,
        Some(template) => {
            let text = std::fs::read_to_string(template)
                .with_context(|| format!("cannot read template {shown}"))?;
            let mut doc = load_document(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{shown}:{}:{}: {}",
                    e.line.unwrap_or(0),
                    e.column.unwrap_or(0),
                    e.message
                )
            })?;
            inline_get_files(&mut doc, &base_dir(template), "", &mut files, &mut errors);
            doc
        }
    };
    let mut merged = Map::new();
    let mut environment_files = vec![];
    for env_path in environments {
        let env_shown = env_path.display().to_string();
        let text = std::fs::read_to_string(env_path)
            .with_context(|| format!("cannot read environment file {env_shown}"))?;
        let mut env =
            load_document(&text).map_err(|e| anyhow::anyhow!("{env_shown}: {}", e.message))?;
        if !env.is_object() {
            anyhow::bail!("{env_shown}: an environment must be a mapping");
        }
        inline_registry(&mut env, &base_dir(env_path), &mut files, &mut errors);
        let (url, _) =
            local_file(&base_dir(env_path), &file_name(env_path)).context("environment path")?;
        files.insert(url.clone(), Value::String(env.to_string()));
        environment_files.push(url);
        if let Value::Object(sections) = env {
            for (section, value) in sections {
                match (merged.get_mut(&section), value) {
                    (Some(Value::Object(into)), Value::Object(from)) => into.extend(from),
                    (_, value) => {
                        merged.insert(section, value);
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        let lines: Vec<String> = errors.iter().map(|e| format!("{shown}: {e}")).collect();
        anyhow::bail!("{}", lines.join("\n"));
    }
    Ok(Prepared {
        template: doc,
        files,
        environment: Value::Object(merged),
        environment_files,
    })
}

/// The directory a file's relative references are read from (absolute).
fn base_dir(file: &Path) -> PathBuf {
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    std::fs::canonicalize(&base).unwrap_or(base)
}

fn file_name(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// An environment's `resource_registry` values naming local templates (top level and per
/// resource) become `file://` keys, the templates read into `files`.
fn inline_registry(
    env: &mut Value,
    base: &Path,
    files: &mut Map<String, Value>,
    errors: &mut Vec<TemplateError>,
) {
    let Some(Value::Object(registry)) = env.get_mut("resource_registry") else {
        return;
    };
    let mut rewrite = |path: String, target: &mut String, files: &mut Map<String, Value>| {
        if !is_template(target) {
            return;
        }
        if let Some((url, file)) = local_file(base, target) {
            inline_provider(&url, &file, &path, files, errors);
            if files.contains_key(&url) {
                *target = url;
            }
        }
    };
    for (key, value) in registry.iter_mut() {
        match value {
            Value::String(target) => {
                rewrite(format!("resource_registry.{key}"), target, files);
            }
            Value::Object(per_resource) if key == "resources" => {
                for (res, entries) in per_resource.iter_mut() {
                    let Value::Object(entries) = entries else {
                        continue;
                    };
                    for (k, v) in entries.iter_mut() {
                        if let Value::String(target) = v {
                            rewrite(
                                format!("resource_registry.resources.{res}.{k}"),
                                target,
                                files,
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn validate(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let path = template_path(args)?;
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read template {shown}"))?;
    let errors = check(path, &text, &args.environments, &args.parameters)?;
    if errors.is_empty() {
        println!("OK");
        return Ok(ExitCode::SUCCESS);
    }
    for e in &errors {
        match (e.line, e.column) {
            (Some(line), Some(column)) => println!("{shown}:{line}:{column}: {e}"),
            _ => println!("{shown}: {e}"),
        }
    }
    Ok(ExitCode::FAILURE)
}

/// Every problem with the template at `path` (text `text`), with positions where known.
fn check(
    path: &Path,
    text: &str,
    environments: &[PathBuf],
    parameters: &[String],
) -> anyhow::Result<Vec<TemplateError>> {
    let mut template = match load_document(text) {
        Ok(doc) => doc,
        Err(e) => {
            return Ok(vec![
                TemplateError::new(TemplateErrorKind::Parse, e.message)
                    .at_position(e.line, e.column),
            ]);
        }
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let base = std::fs::canonicalize(&base).unwrap_or(base);
    let mut files = Map::new();
    let mut errors = vec![];
    inline_get_files(&mut template, &base, "", &mut files, &mut errors);
    let request = StackRequest {
        template,
        parameters: parse_parameters(parameters)?,
        environment: merge_environments(environments)?,
        files: Value::Object(files),
        timeout_mins: None,
        disable_rollback: true,
        tags: None,
    };
    if let Err(TemplateErrors(found)) =
        check_stack(&Registry::builtin(), &request, Values::GivenOnly)
    {
        errors.extend(found);
    }
    attach_positions(&mut errors, text);
    Ok(errors)
}

/// heatclient's handling of `get_file`: a relative path or `file://` URL is read
/// relative to the template's directory, stored in `files` under its absolute
/// `file://` URL, and the call is rewritten to that key. Other URLs are left alone.
fn inline_get_files(
    value: &mut Value,
    base: &Path,
    path: &str,
    files: &mut Map<String, Value>,
    errors: &mut Vec<TemplateError>,
) {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(target)) = map.get_mut("get_file")
            {
                let fpath = join(path, "get_file");
                match local_file(base, target) {
                    None => {}
                    Some((url, file)) => match std::fs::read_to_string(&file) {
                        Ok(content) => {
                            files.insert(url.clone(), Value::String(content));
                            *target = url;
                        }
                        Err(e) => errors.push(TemplateError::at(
                            fpath,
                            format!("Could not fetch contents for {url}: {e}"),
                        )),
                    },
                }
                return;
            }
            if let Some(Value::String(target)) = map.get_mut("type")
                && is_template(target)
                && let Some((url, file)) = local_file(base, target)
            {
                inline_provider(&url, &file, &join(path, "type"), files, errors);
                if files.contains_key(&url) {
                    *target = url;
                }
            }
            for (k, v) in map.iter_mut() {
                inline_get_files(v, base, &join(path, k), files, errors);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                inline_get_files(v, base, &index(path, i), files, errors);
            }
        }
        _ => {}
    }
}

/// heatclient's handling of a provider template (`type: x.yaml`): read relative to the
/// template using it, its own `get_file`s and provider templates inlined the same way
/// (relative to it), stored in `files` as JSON text under its `file://` URL.
fn inline_provider(
    url: &str,
    file: &Path,
    path: &str,
    files: &mut Map<String, Value>,
    errors: &mut Vec<TemplateError>,
) {
    if files.contains_key(url) {
        return;
    }
    let mut doc = match std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|text| load_document(&text).map_err(|e| e.message))
    {
        Ok(doc) => doc,
        Err(e) => {
            errors.push(TemplateError::at(
                path,
                format!("Could not fetch contents for {url}: {e}"),
            ));
            return;
        }
    };
    // Present while its own references are followed, so a template using itself stops.
    files.insert(url.to_string(), Value::Null);
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut inner = vec![];
    inline_get_files(&mut doc, &dir, "", files, &mut inner);
    errors.extend(
        inner
            .into_iter()
            .map(|e| TemplateError::at(path, format!("{url}: {e}"))),
    );
    files.insert(url.to_string(), Value::String(doc.to_string()));
}

/// The `file://` URL and local path of a `get_file` target, or `None` for remote URLs.
fn local_file(base: &Path, target: &str) -> Option<(String, PathBuf)> {
    let file = if let Some(rest) = target.strip_prefix("file://") {
        PathBuf::from(rest)
    } else if target.contains("://") {
        return None;
    } else {
        base.join(target)
    };
    let file = normalize(&file);
    Some((format!("file://{}", file.display()), file))
}

/// `a/./b/../c` → `a/c`, without touching the file system (the file may be missing).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_file_targets_are_read_relative_to_the_template() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("scripts")).unwrap();
        std::fs::write(dir.path().join("scripts/run.sh"), "echo hi\n").unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let mut template = serde_json::json!({
            "resources": {"c": {"properties": {
                "config": {"get_file": "scripts/run.sh"},
                "list": [{"get_file": "./scripts/../scripts/run.sh"}, {"get_file": "missing.sh"}],
                "remote": {"get_file": "https://example.com/x.sh"}
            }}}
        });
        let mut files = Map::new();
        let mut errors = vec![];
        inline_get_files(&mut template, &base, "", &mut files, &mut errors);
        let url = format!("file://{}/scripts/run.sh", base.display());
        assert_eq!(files.get(&url), Some(&Value::String("echo hi\n".into())));
        assert_eq!(files.len(), 1);
        let props = &template["resources"]["c"]["properties"];
        assert_eq!(props["config"]["get_file"], url.as_str());
        assert_eq!(props["list"][0]["get_file"], url.as_str());
        assert_eq!(props["remote"]["get_file"], "https://example.com/x.sh");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "resources.c.properties.list[1].get_file");
        assert!(
            errors[0]
                .message
                .starts_with("Could not fetch contents for file://")
        );
    }

    #[test]
    fn provider_templates_are_inlined_with_their_own_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(
            dir.path().join("lib/box.yaml"),
            "heat_template_version: 2018-08-31\nparameters:\n  n: {type: string}\nresources:\n  c:\n    type: OS::Heat::SoftwareConfig\n    properties: {config: {get_file: run.sh}}\n  again: {type: box.yaml, properties: {n: x}}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("lib/run.sh"), "echo\n").unwrap();
        let text = "heat_template_version: 2018-08-31\nresources:\n  b:\n    type: lib/box.yaml\n    properties: {nn: 1}\n  m: {type: lib/missing.yaml}\n";
        let main = dir.path().join("main.yaml");
        std::fs::write(&main, text).unwrap();
        let errors = check(&main, text, &[], &[]).unwrap();
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].starts_with("resources.m.type: Could not fetch contents for file://"));
        assert_eq!(messages[1], "resources.b.properties: Unknown Property nn");
        assert_eq!(
            messages[2],
            "resources.b.properties: Property n not assigned"
        );
        assert!(messages[3].starts_with("resources.m: Could not fetch remote template"));
    }

    #[test]
    fn prepare_puts_environment_files_and_their_registry_templates_in_files() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(base.join("env")).unwrap();
        std::fs::write(
            base.join("main.yaml"),
            "heat_template_version: 2018-08-31\nresources:\n  b: {type: My::Box}\n",
        )
        .unwrap();
        std::fs::write(
            base.join("env/box.yaml"),
            "heat_template_version: 2018-08-31\nresources: {}\n",
        )
        .unwrap();
        std::fs::write(
            base.join("env/e.yaml"),
            "parameters: {p: 1}\nresource_registry:\n  My::Box: box.yaml\n  resources:\n    b: {My::Box: ./box.yaml}\n",
        )
        .unwrap();
        let p = prepare(Some(&base.join("main.yaml")), &[base.join("env/e.yaml")]).unwrap();
        let box_url = format!("file://{}/env/box.yaml", base.display());
        let env_url = format!("file://{}/env/e.yaml", base.display());
        assert_eq!(p.environment_files, vec![env_url.clone()]);
        assert_eq!(
            p.environment["resource_registry"]["My::Box"],
            box_url.as_str()
        );
        assert_eq!(
            p.environment["resource_registry"]["resources"]["b"]["My::Box"],
            box_url.as_str()
        );
        assert_eq!(p.environment["parameters"]["p"], 1);
        assert!(
            p.files[&box_url]
                .as_str()
                .unwrap()
                .contains("heat_template_version")
        );
        let env: Value = serde_json::from_str(p.files[&env_url].as_str().unwrap()).unwrap();
        assert_eq!(env["resource_registry"]["My::Box"], box_url.as_str());
        let err = prepare(Some(&base.join("missing.yaml")), &[]).unwrap_err();
        assert!(err.to_string().contains("cannot read template"), "{err}");
    }

    #[test]
    fn problems_come_with_positions() {
        let text = "heat_template_version: 2018-08-31\nresources:\n  a:\n    type: OS::Nope\n";
        let errors = check(Path::new("t.yaml"), text, &[], &[]).unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (Some(4), Some(5)));
        let errors = check(Path::new("t.yaml"), "a: [1\n", &[], &[]).unwrap();
        assert!(errors[0].line.is_some(), "{errors:?}");
    }
}
