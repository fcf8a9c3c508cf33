//! `updraft stack …`: the verbs of `openstack stack` against a native API endpoint.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};

use super::client::{Client, encode};
use super::config::ConnectionArgs;
use super::output::{Format, OutputArgs, print_list, print_object, to_yaml};
use super::progress::{self, conclude, follow, last_event_id};
use super::template::prepare;
use super::up::parse_parameters;

mod abandon;
mod list;
mod snapshots;

/// `updraft stack …` with its connection options.
#[derive(Debug, clap::Args)]
pub struct StackArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(subcommand)]
    command: StackCommand,
}

/// The stack verbs.
#[derive(Debug, clap::Subcommand)]
pub enum StackCommand {
    /// Create a stack.
    Create(CreateArgs),
    /// List stacks.
    List(list::ListArgs),
    /// Show a stack.
    Show {
        /// Stack name or id.
        stack: String,
        /// Leave the outputs unresolved (faster).
        #[arg(long)]
        no_resolve_outputs: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Update a stack (`--existing`: patch the stored one).
    Update(UpdateArgs),
    /// Delete stacks.
    Delete {
        /// Stack names or ids.
        #[arg(required = true)]
        stacks: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long)]
        yes: bool,
        /// Wait until each is deleted.
        #[arg(long)]
        wait: bool,
    },
    /// Stack outputs.
    Output {
        #[command(subcommand)]
        command: OutputCommand,
    },
    /// Stack resources.
    Resource {
        #[command(subcommand)]
        command: ResourceCommand,
    },
    /// Stack events.
    Event {
        #[command(subcommand)]
        command: EventCommand,
    },
    /// Suspend a stack.
    Suspend(ActionArgs),
    /// Resume a suspended stack.
    Resume(ActionArgs),
    /// Check a stack's resources.
    Check(ActionArgs),
    /// Cancel an update in progress (rolling back unless --no-rollback).
    Cancel {
        #[command(flatten)]
        action: ActionArgs,
        /// Stop without rolling back.
        #[arg(long)]
        no_rollback: bool,
    },
    /// A stack's stored template.
    Template {
        #[command(subcommand)]
        command: TemplateShow,
    },
    /// A stack's resource dependency graph (DOT or SVG).
    Graph(super::graph::GraphArgs),
    /// Stack snapshots.
    Snapshot {
        #[command(subcommand)]
        command: snapshots::SnapshotCommand,
    },
    /// Delete a stack but keep its resources; print (or save) its data for `adopt`.
    Abandon(abandon::DataArgs),
    /// Print (or save) a stack's abandon data, keeping the stack.
    Export(abandon::DataArgs),
    /// Create a stack from abandon data, taking over its resources.
    Adopt(abandon::AdoptArgs),
    /// A stack's stored environment.
    Environment {
        #[command(subcommand)]
        command: abandon::EnvironmentCommand,
    },
    /// A stack's stored files.
    File {
        #[command(subcommand)]
        command: abandon::FileCommand,
    },
}

/// `stack template show`.
#[derive(Debug, clap::Subcommand)]
pub enum TemplateShow {
    /// Print the stored template (YAML unless -f json).
    Show {
        /// Stack name or id.
        stack: String,
        /// yaml or json.
        #[arg(short = 'f', long = "format", default_value = "yaml")]
        format: String,
    },
}

/// Template, environment and parameter options shared by create and update.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateArgs {
    /// An environment file (repeatable; later ones win).
    #[arg(short = 'e', long = "environment", value_name = "FILE")]
    environments: Vec<PathBuf>,
    /// A parameter `name=value` (repeatable).
    #[arg(
        long = "parameter",
        visible_alias = "param",
        short = 'P',
        value_name = "NAME=VALUE"
    )]
    parameters: Vec<String>,
    /// A tag (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Timeout in minutes.
    #[arg(long = "timeout", value_name = "MINUTES")]
    timeout: Option<u64>,
    /// Roll back on failure (Heat's default is not to).
    #[arg(long)]
    enable_rollback: bool,
    /// Wait until the action is over, showing its events.
    #[arg(long)]
    wait: bool,
}

/// `stack create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The new stack's name.
    name: String,
    /// The template file.
    #[arg(short = 't', long = "template", value_name = "FILE")]
    template: PathBuf,
    #[command(flatten)]
    common: TemplateArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// `stack update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Stack name or id.
    stack: String,
    /// The new template (optional with --existing).
    #[arg(short = 't', long = "template", value_name = "FILE")]
    template: Option<PathBuf>,
    /// Patch the stored stack: omitted template, parameters and environment are kept.
    #[arg(long)]
    existing: bool,
    /// Show what would change, change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    common: TemplateArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// A stack action's target.
#[derive(Debug, clap::Args)]
pub struct ActionArgs {
    /// Stack name or id.
    stack: String,
    /// Wait until the action is over.
    #[arg(long)]
    wait: bool,
}

/// `stack output …`.
#[derive(Debug, clap::Subcommand)]
pub enum OutputCommand {
    /// List a stack's outputs.
    List {
        /// Stack name or id.
        stack: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one output's value.
    Show {
        /// Stack name or id.
        stack: String,
        /// The output's key.
        key: String,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// `stack resource …`.
#[derive(Debug, clap::Subcommand)]
pub enum ResourceCommand {
    /// List a stack's resources.
    List {
        /// Stack name or id.
        stack: String,
        /// Include nested stacks' resources this deep.
        #[arg(short = 'n', long = "nested-depth")]
        nested_depth: Option<u32>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one resource.
    Show {
        /// Stack name or id.
        stack: String,
        /// Resource name.
        resource: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Send a signal to a resource.
    Signal {
        /// Stack name or id.
        stack: String,
        /// Resource name.
        resource: String,
        /// The signal's JSON body.
        #[arg(long)]
        data: Option<String>,
        /// A file holding the signal's JSON body.
        #[arg(long, conflicts_with = "data")]
        data_file: Option<PathBuf>,
    },
}

/// `stack event …`.
#[derive(Debug, clap::Subcommand)]
pub enum EventCommand {
    /// List a stack's events (oldest first).
    List {
        /// Stack name or id.
        stack: String,
        /// Keep printing new events until the stack is no longer IN_PROGRESS.
        #[arg(long)]
        follow: bool,
        /// Include nested stacks' events this deep.
        #[arg(short = 'n', long = "nested-depth")]
        nested_depth: Option<u32>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

const RESOURCE_COLUMNS: &[&str] = &[
    "resource_name",
    "physical_resource_id",
    "resource_type",
    "resource_status",
    "updated_time",
];
const EVENT_COLUMNS: &[&str] = &[
    "resource_name",
    "id",
    "resource_status",
    "resource_status_reason",
    "event_time",
];

/// Runs `updraft stack …`.
pub async fn run(args: StackArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(args.connection.connect().await?)?;
    let c = &client;
    match args.command {
        StackCommand::Create(a) => create(c, a).await,
        StackCommand::List(a) => list::list(c, a).await,
        StackCommand::Show {
            stack,
            no_resolve_outputs,
            output,
        } => {
            let body = c
                .get(&format!(
                    "/stacks/{}?resolve_outputs={}",
                    encode(&stack),
                    !no_resolve_outputs
                ))
                .await?;
            print_object(&body["stack"], &output)?;
            Ok(ExitCode::SUCCESS)
        }
        StackCommand::Update(a) => update(c, a).await,
        StackCommand::Delete { stacks, yes, wait } => delete(c, &stacks, yes, wait).await,
        StackCommand::Output { command } => outputs(c, command).await,
        StackCommand::Resource { command } => resources(c, command).await,
        StackCommand::Event { command } => events(c, command).await,
        StackCommand::Suspend(a) => action(c, &a, json!({"suspend": null})).await,
        StackCommand::Resume(a) => action(c, &a, json!({"resume": null})).await,
        StackCommand::Check(a) => action(c, &a, json!({"check": null})).await,
        StackCommand::Cancel {
            action: a,
            no_rollback,
        } => {
            let (_, stack) = c.stack(&a.stack).await?;
            let status = stack["stack_status"].as_str().unwrap_or_default();
            if !status.ends_with("_IN_PROGRESS") {
                bail!(
                    "stack {} is {status}: only an action in progress can be cancelled",
                    a.stack
                );
            }
            let body = if no_rollback {
                json!({"cancel_without_rollback": null})
            } else {
                json!({"cancel_update": null})
            };
            action(c, &a, body).await
        }
        StackCommand::Template {
            command: TemplateShow::Show { stack, format },
        } => {
            let (path, _) = c.stack(&stack).await?;
            let t = c.get(&format!("{path}/template")).await?;
            match format.as_str() {
                "json" => println!("{}", serde_json::to_string_pretty(&t)?),
                "yaml" => print!("{}", to_yaml(&t)?),
                other => bail!("unknown template format {other} (yaml or json)"),
            }
            Ok(ExitCode::SUCCESS)
        }
        StackCommand::Graph(a) => super::graph::run(c, a).await,
        StackCommand::Snapshot { command } => snapshots::run(c, command).await,
        StackCommand::Abandon(a) => abandon::abandon(c, a).await,
        StackCommand::Export(a) => abandon::export(c, a).await,
        StackCommand::Adopt(a) => abandon::adopt(c, a).await,
        StackCommand::Environment {
            command: abandon::EnvironmentCommand::Show(a),
        } => abandon::stored(c, a, "environment").await,
        StackCommand::File {
            command: abandon::FileCommand::List(a),
        } => abandon::stored(c, a, "files").await,
    }
}

/// The create/update body: template, files, environment and the common options.
fn request_body(
    template: Option<&PathBuf>,
    common: &TemplateArgs,
) -> anyhow::Result<Map<String, Value>> {
    let mut body = Map::new();
    let prepared = prepare(template.map(PathBuf::as_path), &common.environments)?;
    let files = prepared.files;
    body.insert("template".into(), prepared.template);
    body.insert("environment".into(), prepared.environment);
    if !prepared.environment_files.is_empty() {
        body.insert(
            "environment_files".into(),
            json!(prepared.environment_files),
        );
    }
    body.insert("files".into(), Value::Object(files));
    body.insert(
        "parameters".into(),
        Value::Object(parse_parameters(&common.parameters)?),
    );
    if !common.tags.is_empty() {
        body.insert("tags".into(), Value::String(common.tags.join(",")));
    }
    if let Some(t) = common.timeout {
        body.insert("timeout_mins".into(), json!(t));
    }
    body.insert("disable_rollback".into(), json!(!common.enable_rollback));
    Ok(body)
}

async fn create(c: &Client, a: CreateArgs) -> anyhow::Result<ExitCode> {
    let mut body = request_body(Some(&a.template), &a.common)?;
    body.insert("stack_name".into(), json!(a.name));
    let created = c.post("/stacks", &Value::Object(body)).await?;
    let id = created["stack"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/stacks/{}/{}", encode(&a.name), encode(&id));
    if a.common.wait {
        let outcome = follow(c, &path, &a.name, None).await?;
        return Ok(conclude(c, &path, &a.name, &outcome).await);
    }
    let shown = c.get(&format!("{path}?resolve_outputs=false")).await?;
    print_object(&summary(&shown["stack"]), &a.output)?;
    Ok(ExitCode::SUCCESS)
}

/// The fields `stack create`/`update` print.
fn summary(stack: &Value) -> Value {
    let mut out = Map::new();
    for k in [
        "id",
        "stack_name",
        "description",
        "creation_time",
        "updated_time",
        "stack_status",
        "stack_status_reason",
    ] {
        out.insert(k.into(), stack[k].clone());
    }
    Value::Object(out)
}

async fn update(c: &Client, a: UpdateArgs) -> anyhow::Result<ExitCode> {
    if a.template.is_none() && !a.existing {
        bail!("a template is required (-t FILE), or --existing to keep the stored one");
    }
    let (path, stack) = c.stack(&a.stack).await?;
    let name = stack["stack_name"].as_str().unwrap_or(&a.stack).to_string();
    let mut body = request_body(a.template.as_ref(), &a.common)?;
    if a.existing && !a.common.enable_rollback {
        // A patch keeps the stored rollback setting unless asked.
        body.remove("disable_rollback");
    }
    let method = if a.existing {
        reqwest::Method::PATCH
    } else {
        reqwest::Method::PUT
    };
    let body = Value::Object(body);
    if a.dry_run {
        let preview = c
            .request(method, &format!("{path}/preview"), Some(&body))
            .await?;
        let mut rows = vec![];
        for (change, items) in preview["resource_changes"]
            .as_object()
            .into_iter()
            .flatten()
        {
            for r in items.as_array().into_iter().flatten() {
                rows.push(json!({
                    "change": change,
                    "resource_name": r["resource_name"],
                    "resource_type": r["resource_type"],
                }));
            }
        }
        print_list(
            &rows,
            &["change", "resource_name", "resource_type"],
            &a.output,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let marker = last_event_id(c, &path).await?;
    c.request(method, &path, Some(&body)).await?;
    if a.common.wait {
        let outcome = follow(c, &path, &name, marker).await?;
        return Ok(conclude(c, &path, &name, &outcome).await);
    }
    let shown = c.get(&format!("{path}?resolve_outputs=false")).await?;
    print_object(&summary(&shown["stack"]), &a.output)?;
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; without one (scripts) the answer is yes, as in `openstack`.
fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return true;
    }
    print!("{question} [y/N]: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

async fn delete(c: &Client, stacks: &[String], yes: bool, wait: bool) -> anyhow::Result<ExitCode> {
    if !yes && !confirm(&format!("Delete stack(s) {}?", stacks.join(", "))) {
        println!("Nothing deleted.");
        return Ok(ExitCode::FAILURE);
    }
    let mut code = ExitCode::SUCCESS;
    for s in stacks {
        let (path, stack) = c.stack(s).await?;
        let name = stack["stack_name"].as_str().unwrap_or(s).to_string();
        let marker = last_event_id(c, &path).await?;
        c.delete(&path).await?;
        if wait {
            let outcome = follow(c, &path, &name, marker).await?;
            if conclude(c, &path, &name, &outcome).await == ExitCode::FAILURE {
                code = ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}

async fn action(c: &Client, a: &ActionArgs, body: Value) -> anyhow::Result<ExitCode> {
    let (path, stack) = c.stack(&a.stack).await?;
    let name = stack["stack_name"].as_str().unwrap_or(&a.stack).to_string();
    let marker = last_event_id(c, &path).await?;
    c.post(&format!("{path}/actions"), &body).await?;
    if a.wait {
        let outcome = follow(c, &path, &name, marker).await?;
        return Ok(conclude(c, &path, &name, &outcome).await);
    }
    Ok(ExitCode::SUCCESS)
}

async fn outputs(c: &Client, command: OutputCommand) -> anyhow::Result<ExitCode> {
    match command {
        OutputCommand::List { stack, output } => {
            let (path, _) = c.stack(&stack).await?;
            let body = c.get(&format!("{path}/outputs")).await?;
            let rows = body["outputs"].as_array().cloned().unwrap_or_default();
            print_list(&rows, &["output_key", "description"], &output)?;
        }
        OutputCommand::Show { stack, key, output } => {
            let (path, _) = c.stack(&stack).await?;
            let body = c.get(&format!("{path}/outputs/{}", encode(&key))).await?;
            let out = &body["output"];
            if let Some(err) = out["output_error"].as_str() {
                eprintln!("output {key}: {err}");
            }
            print_object(out, &output)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn resources(c: &Client, command: ResourceCommand) -> anyhow::Result<ExitCode> {
    match command {
        ResourceCommand::List {
            stack,
            nested_depth,
            output,
        } => {
            let (path, _) = c.stack(&stack).await?;
            let q = nested_depth
                .map(|n| format!("?nested_depth={n}"))
                .unwrap_or_default();
            let body = c.get(&format!("{path}/resources{q}")).await?;
            let rows = body["resources"].as_array().cloned().unwrap_or_default();
            print_list(&rows, RESOURCE_COLUMNS, &output)?;
        }
        ResourceCommand::Show {
            stack,
            resource,
            output,
        } => {
            let (path, _) = c.stack(&stack).await?;
            let body = c
                .get(&format!("{path}/resources/{}", encode(&resource)))
                .await?;
            print_object(&body["resource"], &output)?;
        }
        ResourceCommand::Signal {
            stack,
            resource,
            data,
            data_file,
        } => {
            let text = match (data, data_file) {
                (Some(d), _) => Some(d),
                (None, Some(f)) => Some(
                    std::fs::read_to_string(&f)
                        .with_context(|| format!("cannot read {}", f.display()))?,
                ),
                (None, None) => None,
            };
            let body = match text {
                Some(t) => serde_json::from_str(&t).context("--data must be JSON")?,
                None => json!({}),
            };
            let (path, _) = c.stack(&stack).await?;
            c.post(
                &format!("{path}/resources/{}/signal", encode(&resource)),
                &body,
            )
            .await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn events(c: &Client, command: EventCommand) -> anyhow::Result<ExitCode> {
    let EventCommand::List {
        stack,
        follow: following,
        nested_depth,
        output,
    } = command;
    let (path, stack_row) = c.stack(&stack).await?;
    if following {
        let name = stack_row["stack_name"]
            .as_str()
            .unwrap_or(&stack)
            .to_string();
        let outcome = follow(c, &path, &name, None).await?;
        println!("Stack {name} {}", outcome.status());
        return Ok(ExitCode::SUCCESS);
    }
    let mut q = "sort_dir=asc".to_string();
    if let Some(n) = nested_depth {
        q.push_str(&format!("&nested_depth={n}"));
    }
    let body = c.get(&format!("{path}/events?{q}")).await?;
    let rows = body["events"].as_array().cloned().unwrap_or_default();
    if output.format == Format::Table && output.columns.is_empty() {
        for e in &rows {
            println!("{}", progress::event_line(e));
        }
    } else {
        print_list(&rows, EVENT_COLUMNS, &output)?;
    }
    Ok(ExitCode::SUCCESS)
}
