//! `updraft stack list`: `openstack stack list`'s filters turned into the query keys of
//! `GET /stacks` (tags and tag modes, `--property` filters, paging, sorting, deleted,
//! nested and every project's stacks).

use std::process::ExitCode;

use anyhow::bail;

use super::super::client::{Client, encode};
use super::super::output::{OutputArgs, print_list};

/// How `--tags` combine, as in `openstack stack list --tag-mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TagMode {
    /// Stacks with all the tags.
    #[default]
    All,
    /// Stacks with any of the tags.
    Any,
    /// Stacks without all of the tags.
    Not,
    /// Stacks with none of the tags.
    NotAny,
}

impl TagMode {
    /// The query key the server reads for this mode.
    fn key(self) -> &'static str {
        match self {
            TagMode::All => "tags",
            TagMode::Any => "tags_any",
            TagMode::Not => "not_tags",
            TagMode::NotAny => "not_tags_any",
        }
    }
}

/// `stack list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only stacks with these tags (comma list; see --tag-mode).
    #[arg(long)]
    tags: Option<String>,
    /// How --tags combine.
    #[arg(long, value_enum, default_value_t = TagMode::All, requires = "tags")]
    tag_mode: TagMode,
    /// A filter `key=value`, e.g. `stack_status=CREATE_COMPLETE` (repeatable; values of
    /// one key are alternatives, different keys must all match).
    #[arg(long = "property", value_name = "KEY=VALUE")]
    properties: Vec<String>,
    /// At most this many (one page; without it every page is fetched).
    #[arg(long)]
    limit: Option<u64>,
    /// Start after this stack id (the last one of the previous page).
    #[arg(long)]
    marker: Option<String>,
    /// Sort by `key[:asc|desc]` (repeatable or comma-separated; keys: stack_name,
    /// stack_status, creation_time, updated_time).
    #[arg(long = "sort", value_name = "KEY[:DIR]")]
    sort: Vec<String>,
    /// Include deleted stacks.
    #[arg(long)]
    deleted: bool,
    /// Include nested stacks.
    #[arg(long)]
    nested: bool,
    /// Every project's stacks (admin only); adds a `project` column.
    #[arg(long)]
    all_projects: bool,
    #[command(flatten)]
    output: OutputArgs,
}

const STACK_COLUMNS: &[&str] = &[
    "id",
    "stack_name",
    "stack_status",
    "creation_time",
    "updated_time",
];

/// The keys `GET /stacks` sorts by.
const SORT_KEYS: &[&str] = &[
    "stack_name",
    "stack_status",
    "creation_time",
    "updated_time",
    "name",
    "status",
    "created_at",
    "updated_at",
];

/// `sort_keys` and the single `sort_dir` the API takes, from `--sort key[:dir]`s.
fn sort_query(sort: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    let mut keys = vec![];
    let mut dir: Option<&str> = None;
    for s in sort.iter().flat_map(|s| s.split(',')).map(str::trim) {
        let (key, d) = match s.split_once(':') {
            Some((k, d)) => (k, Some(d)),
            None => (s, None),
        };
        // The server ignores other keys; say so rather than sort by creation time.
        if !SORT_KEYS.contains(&key) {
            bail!("--sort {s}: the keys are {}", SORT_KEYS.join(", "));
        }
        if let Some(d) = d {
            if d != "asc" && d != "desc" {
                bail!("--sort {s}: the direction is asc or desc");
            }
            if dir.is_some_and(|prev| prev != d) {
                bail!(
                    "--sort: the server sorts every key in one direction; give one of asc or desc"
                );
            }
            dir = Some(d);
        }
        keys.push(("sort_keys".to_string(), key.to_string()));
    }
    if !keys.is_empty() {
        keys.push(("sort_dir".into(), dir.unwrap_or("asc").into()));
    }
    Ok(keys)
}

/// The query pairs of a listing.
fn query_pairs(a: &ListArgs) -> anyhow::Result<Vec<(String, String)>> {
    let mut q: Vec<(String, String)> = vec![];
    if let Some(t) = &a.tags {
        q.push((a.tag_mode.key().into(), t.clone()));
    }
    for p in &a.properties {
        match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => q.push((k.into(), v.into())),
            _ => bail!("--property {p}: expected KEY=VALUE"),
        }
    }
    if let Some(l) = a.limit {
        q.push(("limit".into(), l.to_string()));
    }
    if let Some(m) = &a.marker {
        q.push(("marker".into(), m.clone()));
    }
    q.extend(sort_query(&a.sort)?);
    for (on, key) in [
        (a.deleted, "show_deleted"),
        (a.nested, "show_nested"),
        (a.all_projects, "global_tenant"),
    ] {
        if on {
            q.push((key.into(), "true".into()));
        }
    }
    Ok(q)
}

/// Runs `stack list`.
pub async fn list(c: &Client, a: ListArgs) -> anyhow::Result<ExitCode> {
    let pairs = query_pairs(&a)?;
    let q = if pairs.is_empty() {
        String::new()
    } else {
        let joined: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("?{}", joined.join("&"))
    };
    let mut body = c.get(&format!("/stacks{q}")).await?;
    let mut rows = body["stacks"].as_array().cloned().unwrap_or_default();
    // Without --limit, every page: follow the server's `next` links.
    while a.limit.is_none() {
        let next = body["links"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["rel"] == "next")
            .and_then(|l| l["href"].as_str())
            .map(str::to_string);
        let Some(next) = next else { break };
        body = c.get(&next).await?;
        let page = body["stacks"].as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            break;
        }
        rows.extend(page);
    }
    let mut columns = STACK_COLUMNS.to_vec();
    if a.all_projects {
        columns.insert(1, "project");
    }
    if a.deleted {
        columns.push("deletion_time");
    }
    print_list(&rows, &columns, &a.output)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        list: ListArgs,
    }

    fn pairs(args: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
        let w = Wrap::try_parse_from(std::iter::once("list").chain(args.iter().copied()))?;
        query_pairs(&w.list)
    }

    fn kv(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_become_the_servers_query_keys() {
        assert_eq!(
            pairs(&["--tags", "a,b", "--tag-mode", "not-any"]).unwrap(),
            kv(&[("not_tags_any", "a,b")])
        );
        assert_eq!(
            pairs(&[
                "--property",
                "stack_status=CREATE_COMPLETE",
                "--limit",
                "2",
                "--marker",
                "m1",
                "--sort",
                "stack_name",
                "--sort",
                "creation_time:desc",
                "--deleted",
                "--nested",
                "--all-projects",
            ])
            .unwrap(),
            kv(&[
                ("stack_status", "CREATE_COMPLETE"),
                ("limit", "2"),
                ("marker", "m1"),
                ("sort_keys", "stack_name"),
                ("sort_keys", "creation_time"),
                ("sort_dir", "desc"),
                ("show_deleted", "true"),
                ("show_nested", "true"),
                ("global_tenant", "true"),
            ])
        );
        assert!(pairs(&["--property", "novalue"]).is_err());
        assert!(pairs(&["--sort", "stack_name:up"]).is_err());
        assert!(pairs(&["--sort", "bogus"]).is_err());
        assert!(pairs(&["--sort", "stack_name:asc", "--sort", "creation_time:desc"]).is_err());
        assert_eq!(
            pairs(&["--sort", "stack_name:desc,creation_time"]).unwrap(),
            kv(&[
                ("sort_keys", "stack_name"),
                ("sort_keys", "creation_time"),
                ("sort_dir", "desc"),
            ])
        );
        assert!(pairs(&["--tag-mode", "any"]).is_err(), "needs --tags");
    }
}
