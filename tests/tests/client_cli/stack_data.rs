//! `updraft stack snapshot …`, `abandon`, `export`, `adopt`, `environment show`, `file
//! list`, and `stack list`'s filters, against a real server (abandon and adopt enabled).

use serde_json::Value;
use updraft_e2e::{Backend, Server};

use super::support::Cli;

const TEMPLATE: &str = r#"heat_template_version: 2018-08-31
parameters:
  v: {type: string, default: x}
resources:
  secret:
    type: OS::Heat::RandomString
    properties: {length: 12}
  msg:
    type: OS::Heat::Value
    properties: {value: {get_file: msg.txt}}
outputs:
  secret: {value: {get_attr: [secret, value]}}
  v: {value: {get_param: v}}
"#;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

async fn output(cli: &Cli, stack: &str, key: &str) -> String {
    cli.ok(&[
        "stack",
        "output",
        "show",
        stack,
        key,
        "-f",
        "value",
        "-c",
        "output_value",
    ])
    .await
}

#[tokio::test]
async fn snapshots_abandon_export_adopt_environment_and_files() {
    let server = Server::start_with(
        Backend::Sqlite,
        &["--enable-stack-abandon", "--enable-stack-adopt"],
    )
    .await
    .unwrap();
    let cli = Cli::new(&server);
    cli.file("msg.txt", "hello\n");
    let t = cli.file("t.yaml", TEMPLATE);
    let env = cli.file("env.yaml", "parameters:\n  v: from-env\n");
    cli.ok(&["stack", "create", "d1", "-t", &t, "-e", &env, "--wait"])
        .await;
    let secret = output(&cli, "d1", "secret").await;
    assert_eq!(secret.trim().len(), 12, "{secret}");

    // The stored environment (YAML by default) and files.
    let shown = cli.ok(&["stack", "environment", "show", "d1"]).await;
    assert!(shown.contains("v: from-env"), "{shown}");
    let shown = json(
        &cli.ok(&["stack", "environment", "show", "d1", "-f", "json"])
            .await,
    );
    assert_eq!(shown["parameters"]["v"], "from-env", "{shown}");
    let files = json(&cli.ok(&["stack", "file", "list", "d1", "-f", "json"]).await);
    let msg = files
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with("msg.txt"))
        .map(|(_, v)| v.clone());
    assert_eq!(msg, Some(Value::from("hello\n")), "{files}");

    // Snapshots: create (no data printed), list, show (by name, with data).
    let snap = json(
        &cli.ok(&[
            "stack", "snapshot", "create", "d1", "--name", "first", "-f", "json",
        ])
        .await,
    );
    assert_eq!(snap["name"], "first", "{snap}");
    assert_eq!(snap["status"], "COMPLETE", "{snap}");
    assert!(snap.get("data").is_none(), "{snap}");
    let sid = snap["id"].as_str().unwrap().to_string();
    let listed = cli
        .ok(&[
            "stack", "snapshot", "list", "d1", "-f", "value", "-c", "id", "-c", "name", "-c",
            "status",
        ])
        .await;
    assert_eq!(listed, format!("{sid} first COMPLETE\n"));
    let one = json(
        &cli.ok(&["stack", "snapshot", "show", "d1", "first", "-f", "json"])
            .await,
    );
    assert_eq!(one["id"], sid.as_str());
    assert!(one["data"].is_object(), "{one}");
    let (_, stderr, ok) = cli.run(&["stack", "snapshot", "show", "d1", "nope"]).await;
    assert!(!ok);
    assert!(stderr.contains("no snapshot nope"), "{stderr}");

    // Change the stack, then restore the snapshot: the old parameter is back.
    cli.ok(&[
        "stack",
        "update",
        "d1",
        "--existing",
        "-P",
        "v=changed",
        "--wait",
    ])
    .await;
    assert_eq!(output(&cli, "d1", "v").await, "changed\n");
    let out = cli
        .ok(&["stack", "snapshot", "restore", "d1", &sid, "--wait"])
        .await;
    assert_eq!(
        out.lines().last(),
        Some("Stack d1 RESTORE_COMPLETE"),
        "{out}"
    );
    assert_eq!(output(&cli, "d1", "v").await, "from-env\n");

    // Delete it.
    cli.ok(&["stack", "snapshot", "delete", "d1", "first", "-y"])
        .await;
    let listed = cli
        .ok(&["stack", "snapshot", "list", "d1", "-f", "value", "-c", "id"])
        .await;
    assert_eq!(listed, "");

    // Export: the data, the stack kept; to stdout or a file.
    let exported = json(&cli.ok(&["stack", "export", "d1"]).await);
    assert_eq!(exported["name"], "d1", "{exported}");
    assert!(exported["resources"]["secret"].is_object(), "{exported}");
    let saved = cli.file("export.json", "");
    cli.ok(&["stack", "export", "d1", "--output-file", &saved])
        .await;
    assert_eq!(
        json(&std::fs::read_to_string(&saved).unwrap())["resources"],
        exported["resources"]
    );
    let yaml = cli.ok(&["stack", "export", "d1", "-f", "yaml"]).await;
    assert!(yaml.contains("name: d1"), "{yaml}");

    // Abandon to a file: the stack is gone; adopt it back under another name.
    let data = cli.file("abandon.json", "");
    let out = cli
        .ok(&["stack", "abandon", "d1", "--output-file", &data])
        .await;
    assert_eq!(out, "");
    let abandoned = json(&std::fs::read_to_string(&data).unwrap());
    assert_eq!(abandoned["resources"], exported["resources"]);
    let (_, stderr, ok) = cli.run(&["stack", "show", "d1"]).await;
    assert!(!ok);
    assert!(stderr.contains("(HTTP 404)"), "{stderr}");
    let out = cli
        .ok(&["stack", "adopt", "d2", "--adopt-file", &data, "--wait"])
        .await;
    assert_eq!(out.lines().last(), Some("Stack d2 ADOPT_COMPLETE"), "{out}");
    assert_eq!(output(&cli, "d2", "secret").await, secret);

    // A missing adopt file is named.
    let (_, stderr, ok) = cli
        .run(&["stack", "adopt", "d3", "--adopt-file", "/nonexistent.json"])
        .await;
    assert!(!ok);
    assert!(stderr.contains("cannot read /nonexistent.json"), "{stderr}");
    server.stop().await;

    // Without the server's switch: refused, with the server's message.
    let plain = Server::start().await.unwrap();
    let cli = Cli::new(&plain);
    let data = cli.file("abandon.json", &abandoned.to_string());
    let (_, stderr, ok) = cli
        .run(&["stack", "adopt", "d3", "--adopt-file", &data])
        .await;
    assert!(!ok);
    assert!(
        stderr.contains("Stack Adopt is not supported. (HTTP 400)"),
        "{stderr}"
    );
    plain.stop().await;
}

const NONE: &str = "heat_template_version: 2018-08-31\nresources:\n  n: {type: OS::Heat::None}\n";

/// `stack list -f value -c stack_name ARGS`, one name a line, in the order printed.
async fn listed(cli: &Cli, args: &[&str]) -> Vec<String> {
    let mut all = vec!["stack", "list", "-f", "value", "-c", "stack_name"];
    all.extend_from_slice(args);
    cli.ok(&all).await.lines().map(str::to_string).collect()
}

/// The names `stack list ARGS` prints, sorted (stacks made within one second have no
/// reliable creation order).
async fn names(cli: &Cli, args: &[&str]) -> Vec<String> {
    let mut names = listed(cli, args).await;
    names.sort();
    names
}

#[tokio::test]
async fn stack_list_filters_sort_page_and_widen() {
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    let t = cli.file("none.yaml", NONE);
    cli.file("inner.yaml", NONE);
    let outer = cli.file(
        "outer.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  inner: {type: inner.yaml}\n",
    );
    for (name, tags) in [("l1", "a,b"), ("l2", "a"), ("l3", "")] {
        let mut args = vec!["stack", "create", name, "-t", &t, "--wait"];
        if !tags.is_empty() {
            args.extend(["--tag", tags]);
        }
        cli.ok(&args).await;
    }
    assert_eq!(names(&cli, &[]).await, ["l1", "l2", "l3"]);

    // Tags and their modes.
    assert_eq!(names(&cli, &["--tags", "a,b"]).await, ["l1"]);
    let any = names(&cli, &["--tags", "a,b", "--tag-mode", "any"]).await;
    assert_eq!(any, ["l1", "l2"]);
    let not = names(&cli, &["--tags", "a,b", "--tag-mode", "not"]).await;
    assert_eq!(not, ["l2", "l3"]);
    let not_any = names(&cli, &["--tags", "a", "--tag-mode", "not-any"]).await;
    assert_eq!(not_any, ["l3"]);

    // Properties: one key's values are alternatives.
    assert_eq!(names(&cli, &["--property", "stack_name=l2"]).await, ["l2"]);
    let either = names(&cli, &["--property", "name=l1", "--property", "name=l3"]).await;
    assert_eq!(either, ["l1", "l3"]);
    let (_, stderr, ok) = cli.run(&["stack", "list", "--property", "x"]).await;
    assert!(!ok && stderr.contains("expected KEY=VALUE"), "{stderr}");

    // Sorting and paging.
    let asc = listed(&cli, &["--sort", "stack_name"]).await;
    assert_eq!(asc, ["l1", "l2", "l3"]);
    let desc = listed(&cli, &["--sort", "stack_name:desc"]).await;
    assert_eq!(desc, ["l3", "l2", "l1"]);
    let (_, stderr, ok) = cli.run(&["stack", "list", "--sort", "bogus"]).await;
    assert!(
        !ok && stderr.contains("the keys are stack_name"),
        "{stderr}"
    );
    let page = cli
        .ok(&[
            "stack",
            "list",
            "--sort",
            "stack_name",
            "--limit",
            "2",
            "-f",
            "value",
            "-c",
            "id",
            "-c",
            "stack_name",
        ])
        .await;
    let rows: Vec<&str> = page.lines().collect();
    assert_eq!(rows.len(), 2, "{page}");
    assert!(rows[1].ends_with(" l2"), "{page}");
    let marker = rows[1].split(' ').next().unwrap();
    let rest = listed(&cli, &["--sort", "stack_name", "--marker", marker]).await;
    assert_eq!(rest, ["l3"]);

    // Deleted stacks only with --deleted (with their deletion time).
    cli.ok(&["stack", "delete", "l3", "-y", "--wait"]).await;
    assert_eq!(names(&cli, &[]).await, ["l1", "l2"]);
    let with_deleted = json(&cli.ok(&["stack", "list", "--deleted", "-f", "json"]).await);
    let l3 = with_deleted
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack_name"] == "l3")
        .cloned()
        .unwrap_or_else(|| panic!("no l3 in {with_deleted}"));
    assert_eq!(l3["stack_status"], "DELETE_COMPLETE", "{l3}");
    assert!(l3["deletion_time"].is_string(), "{l3}");

    // Nested stacks only with --nested.
    cli.ok(&["stack", "create", "n1", "-t", &outer, "--wait"])
        .await;
    let top = names(&cli, &[]).await;
    assert_eq!(top, ["l1", "l2", "n1"]);
    let nested = names(&cli, &["--nested"]).await;
    assert_eq!(nested.len(), 4, "{nested:?}");
    assert!(
        nested.iter().any(|n| n.starts_with("n1-inner-")),
        "{nested:?}"
    );

    // Every project's stacks, with a project column.
    let table = cli.ok(&["stack", "list", "--all-projects"]).await;
    assert!(
        table.contains("| project ") && table.contains("| demo "),
        "{table}"
    );
    server.stop().await;
}
