//! `updraft admin`: manage projects and their users in the server's database (the same
//! `--data-dir`/`--database-url` as `updraft server`; it may be running).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use comfy_table::Table;
use updraft_server::auth::passwords;
use updraft_server::auth::users::Role;
use updraft_server::store::{ProjectRow, Store};

/// Options of `updraft admin`.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// Directory of the embedded SQLite database (as given to `updraft server`).
    #[arg(long, default_value = "updraft-data", global = true)]
    data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); overrides --data-dir.
    #[arg(long, env = "UPDRAFT_DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AdminCommand {
    /// Projects (tenants).
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// Users of projects.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, clap::Subcommand)]
enum ProjectCommand {
    /// Create a project.
    Create {
        /// Its unique name.
        name: String,
    },
    /// List projects.
    List,
    /// Delete a project (by name or id) with its users.
    Delete {
        /// Its name or id.
        name: String,
    },
}

#[derive(Debug, clap::Subcommand)]
enum UserCommand {
    /// Create a user.
    Create {
        /// Its name, unique within its project.
        name: String,
        /// Its project (name or id).
        #[arg(long)]
        project: String,
        /// admin, member or reader.
        #[arg(long, value_parser = ["admin", "member", "reader"])]
        role: String,
        /// Read the password from standard input (one line).
        #[arg(long, conflicts_with = "password")]
        password_stdin: bool,
        /// The password (visible in the process list; prefer --password-stdin).
        #[arg(long)]
        password: Option<String>,
    },
    /// List users.
    List {
        /// Only this project's (name or id).
        #[arg(long)]
        project: Option<String>,
    },
    /// Delete a user (by name within --project, or by id).
    Delete {
        /// Its name or id.
        name: String,
        /// Its project (name or id); needed when deleting by name.
        #[arg(long)]
        project: Option<String>,
    },
}

async fn project(store: &Store, name_or_id: &str) -> anyhow::Result<ProjectRow> {
    if let Some(p) = store.project_by_name(name_or_id).await? {
        return Ok(p);
    }
    match store.project_by_id(name_or_id).await? {
        Some(p) => Ok(p),
        None => bail!("no project {name_or_id}"),
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(comfy_table::presets::ASCII_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

fn read_password(stdin: bool, given: Option<String>) -> anyhow::Result<String> {
    let password = match (stdin, given) {
        (true, _) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the password from standard input")?;
            text.lines().next().unwrap_or_default().to_string()
        }
        (false, Some(p)) => p,
        (false, None) => bail!("give --password-stdin or --password"),
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}

/// Runs an admin command.
pub async fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let url = match args.database_url {
        Some(url) => url,
        None => {
            std::fs::create_dir_all(&args.data_dir).with_context(|| {
                format!("cannot create data directory {}", args.data_dir.display())
            })?;
            Store::sqlite_url(&args.data_dir)
        }
    };
    let store = Store::connect(&url)
        .await
        .context("cannot open the database")?;
    match args.command {
        AdminCommand::Project { command } => run_project(&store, command).await?,
        AdminCommand::User { command } => run_user(&store, command).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_project(store: &Store, command: ProjectCommand) -> anyhow::Result<()> {
    match command {
        ProjectCommand::Create { name } => {
            if name.trim().is_empty() {
                bail!("the project name is empty");
            }
            let Some(p) = store.create_project(&name).await? else {
                bail!("project {name} already exists");
            };
            let mut t = table(&["Field", "Value"]);
            t.add_row(vec!["id", p.id.as_str()]);
            t.add_row(vec!["name", p.name.as_str()]);
            t.add_row(vec!["created_at", p.created_at.as_str()]);
            println!("{t}");
        }
        ProjectCommand::List => {
            let mut t = table(&["ID", "Name", "Created"]);
            for p in store.projects().await? {
                t.add_row(vec![p.id, p.name, p.created_at]);
            }
            println!("{t}");
        }
        ProjectCommand::Delete { name } => {
            let p = project(store, &name).await?;
            // Its stacks would be left without anyone able to reach them.
            let mut stacks = store.list_stacks(&p.id).await?;
            stacks.extend(store.list_stacks(&p.name).await?);
            if !stacks.is_empty() {
                let names: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
                bail!(
                    "project {} still has {} stack(s): {}; delete them first",
                    p.name,
                    stacks.len(),
                    names.join(", ")
                );
            }
            store.delete_project(&p.id).await?;
            println!("Deleted project {} ({})", p.name, p.id);
        }
    }
    Ok(())
}

async fn run_user(store: &Store, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            name,
            project: project_name,
            role,
            password_stdin,
            password,
        } => {
            if name.trim().is_empty() {
                bail!("the user name is empty");
            }
            let Some(role) = Role::parse(&role) else {
                bail!("unknown role {role}");
            };
            let p = project(store, &project_name).await?;
            let password = read_password(password_stdin, password)?;
            let hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
                .await
                .context("password hashing stopped")??;
            let Some(u) = store.create_user(&name, &p.id, role.name(), &hash).await? else {
                bail!("project {} already has a user {name}", p.name);
            };
            let mut t = table(&["Field", "Value"]);
            t.add_row(vec!["id", u.id.as_str()]);
            t.add_row(vec!["name", u.name.as_str()]);
            t.add_row(vec!["project", p.name.as_str()]);
            t.add_row(vec!["project_id", p.id.as_str()]);
            t.add_row(vec!["role", u.role.as_str()]);
            println!("{t}");
        }
        UserCommand::List { project: filter } => {
            let only = match filter {
                Some(name) => Some(project(store, &name).await?),
                None => None,
            };
            let names: std::collections::HashMap<String, String> = store
                .projects()
                .await?
                .into_iter()
                .map(|p| (p.id, p.name))
                .collect();
            let mut t = table(&["ID", "Name", "Project", "Role", "Created"]);
            for u in store.users(only.as_ref().map(|p| p.id.as_str())).await? {
                let project = names.get(&u.project_id).cloned().unwrap_or_default();
                t.add_row(vec![u.id, u.name, project, u.role, u.created_at]);
            }
            println!("{t}");
        }
        UserCommand::Delete {
            name,
            project: project_name,
        } => {
            let user = match project_name {
                Some(pn) => {
                    let p = project(store, &pn).await?;
                    store.user_by_name(&p.id, &name).await?
                }
                None => store.user_by_id(&name).await?,
            };
            let Some(user) = user else {
                bail!("no user {name}");
            };
            store.delete_user(&user.id).await?;
            println!("Deleted user {} ({})", user.name, user.id);
        }
    }
    Ok(())
}
