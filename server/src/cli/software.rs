//! `updraft software config …` and `updraft software deployment …`: the software configs
//! and deployments APIs, with `openstack software …`'s verbs. As heatclient does, a
//! deployment created here gets a derived config built client-side (the source config's
//! inputs given values, plus `deploy_server_id`, `deploy_action`, `deploy_signal_transport`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};

use super::client::{Client, encode};
use super::config::ConnectionArgs;
use super::output::{OutputArgs, print_list, print_object};

/// `updraft software …` with its connection options.
#[derive(Debug, clap::Args)]
pub struct SoftwareArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(subcommand)]
    command: SoftwareCommand,
}

/// `software config` or `software deployment`.
#[derive(Debug, clap::Subcommand)]
pub enum SoftwareCommand {
    /// Software configs.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Software deployments.
    Deployment {
        #[command(subcommand)]
        command: DeploymentCommand,
    },
}

/// `software config …`.
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Create a config.
    Create {
        /// The config's name.
        name: String,
        /// The file holding the config (a script, ...).
        #[arg(long)]
        config_file: Option<PathBuf>,
        /// A YAML/JSON file with `inputs`, `outputs`, `options`.
        #[arg(long)]
        definition_file: Option<PathBuf>,
        /// The hook group (default `Heat::Ungrouped`).
        #[arg(short = 'g', long, default_value = "Heat::Ungrouped")]
        group: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show a config.
    Show {
        /// Config id.
        id: String,
        /// Print only the config text.
        #[arg(long)]
        config_only: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// List configs.
    List {
        /// At most this many.
        #[arg(long)]
        limit: Option<u64>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Delete configs.
    Delete {
        /// Config ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// `software deployment …`.
#[derive(Debug, clap::Subcommand)]
pub enum DeploymentCommand {
    /// Create a deployment of a config to a server.
    Create {
        /// The deployment's (derived config's) name.
        name: String,
        /// The source config's id.
        #[arg(long)]
        config: Option<String>,
        /// The server's id.
        #[arg(long)]
        server: String,
        /// The action (`deploy_action`).
        #[arg(long, default_value = "UPDATE")]
        action: String,
        /// An input value `name=value` (repeatable).
        #[arg(long = "input-value", value_name = "NAME=VALUE")]
        input_values: Vec<String>,
        /// How the server signals back (only NO_SIGNAL needs nothing more here).
        #[arg(long, default_value = "NO_SIGNAL")]
        signal_transport: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show a deployment.
    Show {
        /// Deployment id.
        id: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// List deployments.
    List {
        /// Only this server's.
        #[arg(long)]
        server: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Delete deployments.
    Delete {
        /// Deployment ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// A deployment's outputs.
    Output {
        #[command(subcommand)]
        command: DeploymentOutput,
    },
    /// A server's deployments metadata (what its agent receives).
    Metadata {
        #[command(subcommand)]
        command: MetadataShow,
    },
}

/// `software deployment output show`.
#[derive(Debug, clap::Subcommand)]
pub enum DeploymentOutput {
    /// Show one output value (or all with --all).
    Show {
        /// Deployment id.
        id: String,
        /// The output's name.
        name: Option<String>,
        /// All outputs.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// `software deployment metadata show`.
#[derive(Debug, clap::Subcommand)]
pub enum MetadataShow {
    /// Show a server's deployments metadata.
    Show {
        /// The server's id.
        server: String,
    },
}

const CONFIG_COLUMNS: &[&str] = &["id", "name", "group", "creation_time"];
const DEPLOYMENT_COLUMNS: &[&str] = &["id", "config_id", "server_id", "action", "status"];

/// Runs `updraft software …`.
pub async fn run(args: SoftwareArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(args.connection.connect().await?)?;
    match args.command {
        SoftwareCommand::Config { command } => config(&client, command).await?,
        SoftwareCommand::Deployment { command } => deployment(&client, command).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

async fn config(c: &Client, command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Create {
            name,
            config_file,
            definition_file,
            group,
            output,
        } => {
            let mut body = json!({"name": name, "group": group, "config": "",
                "inputs": [], "outputs": [], "options": {}});
            if let Some(f) = &definition_file {
                let text = read(f)?;
                let def = updraft_server::template::loader::load_document(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {}", f.display(), e.message))?;
                for k in ["inputs", "outputs", "options"] {
                    if !def[k].is_null() {
                        body[k] = def[k].clone();
                    }
                }
            }
            if let Some(f) = &config_file {
                body["config"] = Value::String(read(f)?);
            }
            let created = c.post("/software_configs", &body).await?;
            print_object(&created["software_config"], &output)?;
        }
        ConfigCommand::Show {
            id,
            config_only,
            output,
        } => {
            let body = c.get(&format!("/software_configs/{}", encode(&id))).await?;
            if config_only {
                println!(
                    "{}",
                    body["software_config"]["config"]
                        .as_str()
                        .unwrap_or_default()
                );
            } else {
                print_object(&body["software_config"], &output)?;
            }
        }
        ConfigCommand::List { limit, output } => {
            let q = limit.map(|l| format!("?limit={l}")).unwrap_or_default();
            let body = c.get(&format!("/software_configs{q}")).await?;
            let rows = body["software_configs"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            print_list(&rows, CONFIG_COLUMNS, &output)?;
        }
        ConfigCommand::Delete { ids } => {
            for id in ids {
                c.delete(&format!("/software_configs/{}", encode(&id)))
                    .await?;
            }
        }
    }
    Ok(())
}

/// The derived config heatclient posts for a deployment: the source's inputs with the
/// given values, then the `deploy_*` inputs.
pub fn derived_config(
    name: &str,
    source: &Value,
    values: &Map<String, Value>,
    server: &str,
    action: &str,
    transport: &str,
) -> Value {
    let mut inputs: Vec<Value> = vec![];
    let mut seen = std::collections::BTreeSet::new();
    for input in source["inputs"].as_array().into_iter().flatten() {
        let mut input = input.clone();
        if let Some(n) = input["name"].as_str() {
            seen.insert(n.to_string());
            if let Some(v) = values.get(n) {
                input["value"] = v.clone();
            }
        }
        inputs.push(input);
    }
    for (k, v) in values {
        if !seen.contains(k) {
            inputs.push(json!({"name": k, "type": "String", "value": v}));
        }
    }
    for (k, v, d) in [
        (
            "deploy_server_id",
            server,
            "ID of the server being deployed to",
        ),
        (
            "deploy_action",
            action,
            "Name of the current action being deployed",
        ),
        (
            "deploy_signal_transport",
            transport,
            "How the server should signal to heat with the deployment output values.",
        ),
    ] {
        inputs.push(json!({"name": k, "type": "String", "description": d, "value": v}));
    }
    json!({
        "name": name,
        "group": source["group"].as_str().unwrap_or("Heat::Ungrouped"),
        "config": source["config"].clone(),
        "options": source["options"].clone(),
        "inputs": inputs,
        "outputs": source["outputs"].as_array().cloned().unwrap_or_default(),
    })
}

async fn deployment(c: &Client, command: DeploymentCommand) -> anyhow::Result<()> {
    match command {
        DeploymentCommand::Create {
            name,
            config,
            server,
            action,
            input_values,
            signal_transport,
            output,
        } => {
            if signal_transport != "NO_SIGNAL" {
                bail!(
                    "only --signal-transport NO_SIGNAL is supported here (the server signals for stack deployments)"
                );
            }
            let source = match &config {
                Some(id) => {
                    c.get(&format!("/software_configs/{}", encode(id))).await?["software_config"]
                        .clone()
                }
                None => json!({}),
            };
            let values = super::up::parse_parameters(&input_values)?;
            let derived =
                derived_config(&name, &source, &values, &server, &action, &signal_transport);
            let made = c.post("/software_configs", &derived).await?;
            let body = json!({
                "config_id": made["software_config"]["id"],
                "server_id": server,
                "action": action,
                "status": "IN_PROGRESS",
            });
            let created = c.post("/software_deployments", &body).await?;
            print_object(&created["software_deployment"], &output)?;
        }
        DeploymentCommand::Show { id, output } => {
            let body = c
                .get(&format!("/software_deployments/{}", encode(&id)))
                .await?;
            print_object(&body["software_deployment"], &output)?;
        }
        DeploymentCommand::List { server, output } => {
            let q = server
                .map(|s| format!("?server_id={}", encode(&s)))
                .unwrap_or_default();
            let body = c.get(&format!("/software_deployments{q}")).await?;
            let rows = body["software_deployments"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            print_list(&rows, DEPLOYMENT_COLUMNS, &output)?;
        }
        DeploymentCommand::Delete { ids } => {
            for id in ids {
                c.delete(&format!("/software_deployments/{}", encode(&id)))
                    .await?;
            }
        }
        DeploymentCommand::Output {
            command:
                DeploymentOutput::Show {
                    id,
                    name,
                    all,
                    output,
                },
        } => {
            let body = c
                .get(&format!("/software_deployments/{}", encode(&id)))
                .await?;
            let values = &body["software_deployment"]["output_values"];
            match (name, all) {
                (_, true) => print_object(values, &output)?,
                (Some(n), false) => {
                    let v = values
                        .get(&n)
                        .with_context(|| format!("deployment {id} has no output {n}"))?;
                    print_object(&json!({"output": n, "value": v}), &output)?;
                }
                (None, false) => bail!("name an output, or --all"),
            }
        }
        DeploymentCommand::Metadata {
            command: MetadataShow::Show { server },
        } => {
            let body = c
                .get(&format!(
                    "/software_deployments/metadata/{}",
                    encode(&server)
                ))
                .await?;
            println!("{}", serde_json::to_string_pretty(&body["metadata"])?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derived_config_gives_inputs_values_then_deploy_inputs() {
        let source = json!({"group": "script", "config": "echo", "options": {},
            "inputs": [{"name": "a", "type": "String"}], "outputs": [{"name": "o"}]});
        let mut values = Map::new();
        values.insert("a".into(), json!("1"));
        values.insert("b".into(), json!("2"));
        let d = derived_config("dep1", &source, &values, "srv-1", "UPDATE", "NO_SIGNAL");
        let names: Vec<&str> = d["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "a",
                "b",
                "deploy_server_id",
                "deploy_action",
                "deploy_signal_transport"
            ]
        );
        assert_eq!(d["inputs"][0]["value"], "1");
        assert_eq!(d["inputs"][2]["value"], "srv-1");
        assert_eq!(d["group"], "script");
        assert_eq!(d["outputs"], json!([{"name": "o"}]));
    }
}
