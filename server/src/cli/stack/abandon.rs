//! A stack's data as documents: `stack abandon` (delete the stack, keep its resources,
//! print or save what it held), `stack export` (the same data, stack kept), `stack adopt`
//! (a new stack from such data), `stack environment show` and `stack file list`. The
//! server only abandons and adopts when started with `--enable-stack-abandon` and
//! `--enable-stack-adopt`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};

use super::super::client::{Client, encode};
use super::super::output::{OutputArgs, print_object, to_yaml};
use super::super::progress::{conclude, follow};
use super::{TemplateArgs, request_body, summary};

/// How a document is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DocFormat {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// `stack abandon` and `stack export`.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Stack name or id.
    stack: String,
    /// Write the data to this file (JSON) instead of printing it.
    #[arg(long, value_name = "FILE")]
    output_file: Option<PathBuf>,
    /// How to print the data.
    #[arg(short = 'f', long = "format", value_enum, default_value_t = DocFormat::Json)]
    format: DocFormat,
}

/// `stack adopt`.
#[derive(Debug, clap::Args)]
pub struct AdoptArgs {
    /// The new stack's name.
    name: String,
    /// The abandon data (JSON or YAML) to adopt.
    #[arg(long, value_name = "FILE")]
    adopt_file: PathBuf,
    #[command(flatten)]
    common: TemplateArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// `stack environment show` / `stack file list`: a stored document of a stack.
#[derive(Debug, clap::Args)]
pub struct StoredArgs {
    /// Stack name or id.
    stack: String,
    /// How to print it.
    #[arg(short = 'f', long = "format", value_enum, default_value_t = DocFormat::Yaml)]
    format: DocFormat,
}

/// `stack environment …`.
#[derive(Debug, clap::Subcommand)]
pub enum EnvironmentCommand {
    /// Print the stack's effective environment (YAML unless -f json).
    Show(StoredArgs),
}

/// `stack file …`.
#[derive(Debug, clap::Subcommand)]
pub enum FileCommand {
    /// Print the stack's files map, name to content (YAML unless -f json).
    List(StoredArgs),
}

fn print_doc(doc: &Value, format: DocFormat) -> anyhow::Result<()> {
    match format {
        DocFormat::Json => println!("{}", serde_json::to_string_pretty(doc)?),
        DocFormat::Yaml => print!("{}", to_yaml(doc)?),
    }
    Ok(())
}

fn save_or_print(doc: &Value, a: &DataArgs) -> anyhow::Result<()> {
    match &a.output_file {
        Some(f) => std::fs::write(f, serde_json::to_string_pretty(doc)? + "\n")
            .with_context(|| format!("cannot write {}", f.display())),
        None => print_doc(doc, a.format),
    }
}

/// `stack abandon`: the stack is gone from the server, its resources are left alone.
pub async fn abandon(c: &Client, a: DataArgs) -> anyhow::Result<ExitCode> {
    let (path, _) = c.stack(&a.stack).await?;
    let data = c.delete(&format!("{path}/abandon")).await?;
    save_or_print(&data, &a)?;
    Ok(ExitCode::SUCCESS)
}

/// `stack export`: the abandon data, the stack kept.
pub async fn export(c: &Client, a: DataArgs) -> anyhow::Result<ExitCode> {
    let (path, _) = c.stack(&a.stack).await?;
    let data = c.get(&format!("{path}/export")).await?;
    save_or_print(&data, &a)?;
    Ok(ExitCode::SUCCESS)
}

/// `stack adopt`: a new stack owning the resources named in the data.
pub async fn adopt(c: &Client, a: AdoptArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&a.adopt_file)
        .with_context(|| format!("cannot read {}", a.adopt_file.display()))?;
    // The template comes from the data: no template here (`null`); an empty
    // environment and files map leave the data's in place.
    let mut body = request_body(None, &a.common)?;
    body.remove("template");
    body.insert("stack_name".into(), json!(a.name));
    // Sent as text, as heatclient does; the server reads JSON or YAML.
    body.insert("adopt_stack_data".into(), Value::String(text));
    let created = c.post("/stacks", &Value::Object(body)).await?;
    let id = created["stack"]["id"].as_str().unwrap_or_default();
    let path = format!("/stacks/{}/{}", encode(&a.name), encode(id));
    if a.common.wait {
        let outcome = follow(c, &path, &a.name, None).await?;
        return Ok(conclude(c, &path, &a.name, &outcome).await);
    }
    let shown = c.get(&format!("{path}?resolve_outputs=false")).await?;
    print_object(&summary(&shown["stack"]), &a.output)?;
    Ok(ExitCode::SUCCESS)
}

/// `stack environment show` (`what` = `environment`) or `stack file list` (`files`).
pub async fn stored(c: &Client, a: StoredArgs, what: &str) -> anyhow::Result<ExitCode> {
    let (path, _) = c.stack(&a.stack).await?;
    let doc = c.get(&format!("{path}/{what}")).await?;
    print_doc(&doc, a.format)?;
    Ok(ExitCode::SUCCESS)
}
