//! The client CLI (`updraft stack …`, `updraft software …`, `updraft template validate
//! --remote`, `updraft completions`) run as a subprocess against a real `updraft server`,
//! asserting on what a user sees: stdout, stderr, exit status.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

#[path = "client_cli/connection.rs"]
mod connection;
#[path = "client_cli/deployments.rs"]
mod deployments;
#[path = "client_cli/keystone.rs"]
mod keystone;
#[path = "client_cli/stack_data.rs"]
mod stack_data;
#[path = "client_cli/support.rs"]
mod support;

use serde_json::Value;
use support::{Cli, run};
use updraft_e2e::{Server, binary};

const TWO_STEPS: &str = r#"heat_template_version: 2018-08-31
parameters:
  v: {type: string, default: x}
resources:
  a:
    type: OS::Heat::TestResource
    properties: {value: {get_param: v}}
  b:
    type: OS::Heat::TestResource
    depends_on: a
    properties:
      value: {get_attr: [a, output]}
      action_wait_secs: {create: 0.3}
  msg:
    type: OS::Heat::Value
    properties: {value: {get_file: files/msg.txt}}
outputs:
  out: {value: {get_attr: [b, output]}}
  msg: {value: {get_attr: [msg, value]}}
"#;

#[tokio::test]
async fn stack_commands_create_show_update_and_delete() {
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    cli.file("files/msg.txt", "from a file\n");
    let template = cli.file("main.yaml", TWO_STEPS);
    let env = cli.file("env.yaml", "parameters:\n  v: from-env\n");

    // create --wait, stdout not a terminal: one line per event, then the final status.
    let out = cli
        .ok(&[
            "stack", "create", "s1", "-t", &template, "-e", &env, "--tag", "t1", "--wait",
        ])
        .await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].ends_with("[s1]: CREATE_IN_PROGRESS  Stack CREATE started"),
        "{out}"
    );
    assert!(out.contains("[a]: CREATE_COMPLETE  state changed"), "{out}");
    assert!(
        out.contains("[b]: CREATE_IN_PROGRESS  state changed"),
        "{out}"
    );
    assert!(
        out.contains("[s1]: CREATE_COMPLETE  Stack CREATE completed successfully"),
        "{out}"
    );
    assert_eq!(lines.last(), Some(&"Stack s1 CREATE_COMPLETE"), "{out}");
    // Each event once.
    assert_eq!(out.matches("[a]: CREATE_COMPLETE").count(), 1, "{out}");

    // list: a table by default, -f value -c, -f json.
    let table = cli.ok(&["stack", "list"]).await;
    assert!(
        table.contains("| stack_name ") && table.contains("| s1 "),
        "{table}"
    );
    assert!(table.contains("CREATE_COMPLETE"), "{table}");
    let names = cli
        .ok(&[
            "stack",
            "list",
            "-f",
            "value",
            "-c",
            "stack_name",
            "-c",
            "stack_status",
        ])
        .await;
    assert_eq!(names, "s1 CREATE_COMPLETE\n");
    let tagged = cli
        .ok(&[
            "stack",
            "list",
            "--tags",
            "nope",
            "-f",
            "value",
            "-c",
            "stack_name",
        ])
        .await;
    assert_eq!(tagged, "");
    let json: Value =
        serde_json::from_str(&cli.ok(&["stack", "list", "-f", "json"]).await).unwrap();
    assert_eq!(json[0]["stack_name"], "s1");
    assert!(json[0]["id"].is_string(), "{json}");

    // show: outputs resolved, the environment file's parameter and the get_file content.
    let shown: Value =
        serde_json::from_str(&cli.ok(&["stack", "show", "s1", "-f", "json"]).await).unwrap();
    assert_eq!(shown["parameters"]["v"], "from-env", "{shown}");
    assert_eq!(shown["tags"], serde_json::json!(["t1"]), "{shown}");
    let status = cli
        .ok(&["stack", "show", "s1", "-f", "value", "-c", "stack_status"])
        .await;
    assert_eq!(status, "CREATE_COMPLETE\n");
    let yaml = cli
        .ok(&["stack", "show", "s1", "-f", "yaml", "-c", "stack_name"])
        .await;
    assert_eq!(yaml.trim(), "stack_name: s1");

    // outputs
    let outputs = cli
        .ok(&[
            "stack",
            "output",
            "list",
            "s1",
            "-f",
            "value",
            "-c",
            "output_key",
        ])
        .await;
    assert_eq!(outputs, "out\nmsg\n");
    let value = cli
        .ok(&[
            "stack",
            "output",
            "show",
            "s1",
            "out",
            "-f",
            "value",
            "-c",
            "output_value",
        ])
        .await;
    assert_eq!(value, "from-env\n");
    let msg = cli
        .ok(&["stack", "output", "show", "s1", "msg", "-f", "json"])
        .await;
    let msg: Value = serde_json::from_str(&msg).unwrap();
    assert_eq!(msg["output_value"], "from a file\n");

    // resources
    let res = cli
        .ok(&[
            "stack",
            "resource",
            "list",
            "s1",
            "-f",
            "value",
            "-c",
            "resource_name",
            "-c",
            "resource_status",
        ])
        .await;
    let mut rows: Vec<&str> = res.lines().collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            "a CREATE_COMPLETE",
            "b CREATE_COMPLETE",
            "msg CREATE_COMPLETE"
        ]
    );
    let one: Value = serde_json::from_str(
        &cli.ok(&["stack", "resource", "show", "s1", "a", "-f", "json"])
            .await,
    )
    .unwrap();
    assert_eq!(one["resource_type"], "OS::Heat::TestResource");
    assert_eq!(one["required_by"], serde_json::json!(["b"]));

    // The stored template, as YAML.
    let stored = cli.ok(&["stack", "template", "show", "s1"]).await;
    assert!(stored.contains("depends_on: a"), "{stored}");

    // The dependency graph: DOT with the edge, SVG rendered.
    let dot = cli.ok(&["stack", "graph", "s1"]).await;
    assert!(dot.starts_with("digraph \"s1\" {"), "{dot}");
    assert!(dot.contains("\"a\" -> \"b\";"), "{dot}");
    assert!(!dot.contains("\"b\" -> \"a\""), "{dot}");
    let svg = cli.ok(&["stack", "graph", "s1", "--format", "svg"]).await;
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.trim_end().ends_with("</svg>"));

    // update --existing keeps the template, changes a parameter, and waits.
    let marker_events = cli
        .ok(&["stack", "event", "list", "s1"])
        .await
        .lines()
        .count();
    let out = cli
        .ok(&[
            "stack",
            "update",
            "s1",
            "--existing",
            "--parameter",
            "v=two",
            "--wait",
        ])
        .await;
    assert!(
        out.contains("[s1]: UPDATE_IN_PROGRESS  Stack UPDATE started"),
        "{out}"
    );
    assert!(
        !out.contains("CREATE_IN_PROGRESS"),
        "only new events: {out}"
    );
    assert_eq!(
        out.lines().last(),
        Some("Stack s1 UPDATE_COMPLETE"),
        "{out}"
    );
    let value = cli
        .ok(&[
            "stack",
            "output",
            "show",
            "s1",
            "out",
            "-f",
            "value",
            "-c",
            "output_value",
        ])
        .await;
    assert_eq!(value, "two\n");
    let events = cli.ok(&["stack", "event", "list", "s1"]).await;
    assert!(events.lines().count() > marker_events, "{events}");
    let events: Value = serde_json::from_str(
        &cli.ok(&[
            "stack",
            "event",
            "list",
            "s1",
            "-f",
            "json",
            "-c",
            "resource_status",
        ])
        .await,
    )
    .unwrap();
    assert_eq!(
        events[0]["resource_status"], "CREATE_IN_PROGRESS",
        "oldest first"
    );

    // A dry run lists changes and changes nothing.
    let preview = cli
        .ok(&[
            "stack",
            "update",
            "s1",
            "-t",
            &template,
            "--parameter",
            "v=three",
            "--dry-run",
            "-f",
            "value",
        ])
        .await;
    assert!(
        preview.contains("updated a OS::Heat::TestResource"),
        "{preview}"
    );
    let status = cli
        .ok(&["stack", "show", "s1", "-f", "value", "-c", "stack_status"])
        .await;
    assert_eq!(status, "UPDATE_COMPLETE\n");

    // check --wait
    let out = cli.ok(&["stack", "check", "s1", "--wait"]).await;
    assert_eq!(out.lines().last(), Some("Stack s1 CHECK_COMPLETE"), "{out}");

    // suspend and resume --wait
    let out = cli.ok(&["stack", "suspend", "s1", "--wait"]).await;
    assert_eq!(
        out.lines().last(),
        Some("Stack s1 SUSPEND_COMPLETE"),
        "{out}"
    );
    let out = cli.ok(&["stack", "resume", "s1", "--wait"]).await;
    assert!(out.contains("[s1]: RESUME_IN_PROGRESS"), "{out}");
    assert_eq!(
        out.lines().last(),
        Some("Stack s1 RESUME_COMPLETE"),
        "{out}"
    );

    // delete --wait, then the server's own 404 message.
    let out = cli.ok(&["stack", "delete", "s1", "--yes", "--wait"]).await;
    assert!(out.contains("[s1]: DELETE_IN_PROGRESS"), "{out}");
    assert_eq!(
        out.lines().last(),
        Some("Stack s1 DELETE_COMPLETE"),
        "{out}"
    );
    let (stdout, stderr, ok) = cli.run(&["stack", "show", "s1"]).await;
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("The Stack (s1) could not be found. (HTTP 404)"),
        "{stderr}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_failing_stack_exits_1_with_the_reason_and_signals_reach_resources() {
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    let failing = cli.file(
        "fail.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  ok: {type: OS::Heat::TestResource}\n  bad:\n    type: OS::Heat::TestResource\n    depends_on: ok\n    properties: {fail: true}\n",
    );
    let (stdout, stderr, ok) = cli
        .run(&["stack", "create", "f1", "-t", &failing, "--wait"])
        .await;
    assert!(!ok, "{stdout}");
    assert!(stdout.contains("[bad]: CREATE_FAILED"), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("Stack f1 CREATE_FAILED"),
        "{stdout}"
    );
    assert!(
        stderr.contains("Stack f1 CREATE_FAILED: Resource CREATE failed: ValueError: resources.bad: Test Resource failed bad"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad (OS::Heat::TestResource): CREATE_FAILED: ValueError: resources.bad: Test Resource failed bad"),
        "{stderr}"
    );

    // A wait condition completes once its handle is signalled through the CLI;
    // `event list --follow` streams until the stack is done.
    let waiting = cli.file(
        "wait.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  h: {type: OS::Heat::WaitConditionHandle}\n  w:\n    type: OS::Heat::WaitCondition\n    properties: {handle: {get_resource: h}, timeout: 60}\noutputs:\n  data: {value: {get_attr: [w, data]}}\n",
    );
    cli.ok(&["stack", "create", "w1", "-t", &waiting]).await;
    let follow = {
        let url = cli.url.clone();
        let token = cli.token.clone();
        let home = cli.home.path().to_path_buf();
        tokio::spawn(async move {
            run(
                &[("UPDRAFT_URL", &url), ("UPDRAFT_TOKEN", &token)],
                &home,
                &["stack", "event", "list", "w1", "--follow"],
            )
            .await
        })
    };
    // Signal once the handle exists (the wait condition then waits for it).
    let started = std::time::Instant::now();
    loop {
        let s = cli
            .ok(&[
                "stack",
                "resource",
                "show",
                "w1",
                "w",
                "-f",
                "value",
                "-c",
                "resource_status",
            ])
            .await;
        if s.trim() == "CREATE_IN_PROGRESS" {
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "{s}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (stdout, stderr, ok) = cli
        .run(&[
            "stack", "resource", "signal", "w1", "h", "--data", "not json",
        ])
        .await;
    assert!(
        !ok && stderr.contains("--data must be JSON"),
        "{stdout}{stderr}"
    );
    cli.ok(&[
        "stack",
        "resource",
        "signal",
        "w1",
        "h",
        "--data",
        r#"{"status": "SUCCESS", "reason": "from the cli", "data": "d1", "id": "1"}"#,
    ])
    .await;
    let followed = follow.await.unwrap();
    let stdout = String::from_utf8_lossy(&followed.stdout);
    assert!(followed.status.success(), "{stdout}");
    assert!(
        stdout.contains("[h]: SIGNAL_COMPLETE  Signal: status:SUCCESS reason:from the cli"),
        "{stdout}"
    );
    assert!(stdout.contains("[w1]: CREATE_COMPLETE"), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("Stack w1 CREATE_COMPLETE"),
        "{stdout}"
    );
    let data = cli
        .ok(&[
            "stack",
            "output",
            "show",
            "w1",
            "data",
            "-f",
            "value",
            "-c",
            "output_value",
        ])
        .await;
    assert_eq!(data.trim(), r#"{"1":"d1"}"#);

    // A resource that takes no signals: the server's message, exit 1.
    let (_, stderr, ok) = cli.run(&["stack", "resource", "signal", "w1", "w"]).await;
    assert!(!ok);
    assert!(
        stderr.contains("signal is not supported for resource"),
        "{stderr}"
    );
    // cancel refuses client-side when nothing is in progress.
    let (_, stderr, ok) = cli.run(&["stack", "cancel", "w1"]).await;
    assert!(
        !ok && stderr.contains("only an action in progress can be cancelled"),
        "{stderr}"
    );
    server.stop().await;
}

/// On a terminal (`script` gives the CLI a pseudo-terminal), --wait shows the live bar.
#[tokio::test]
async fn wait_on_a_terminal_shows_live_progress() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "script(1) is missing"
        );
        return;
    }
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    let t = cli.file(
        "slow.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Heat::TestResource, properties: {action_wait_secs: {create: 1.5}}}\n  b: {type: OS::Heat::None}\n",
    );
    let command = format!(
        "{} stack create tty1 -t {t} --wait",
        binary("updraft").display()
    );
    let mut cmd = tokio::process::Command::new("script");
    cmd.args(["-qec", &command, "/dev/null"])
        .env("UPDRAFT_URL", &cli.url)
        .env("UPDRAFT_TOKEN", &cli.token)
        .env("UPDRAFT_POLL_MS", "100")
        .env("HOME", cli.home.path())
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null());
    let out = cmd.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("resources"), "the bar: {stdout}");
    assert!(stdout.contains("tty1"), "{stdout}");
    assert!(stdout.contains("[a]: CREATE_COMPLETE"), "{stdout}");
    assert!(stdout.contains("Stack tty1 CREATE_COMPLETE"), "{stdout}");
    server.stop().await;
}

/// heatclient's files map: an environment file's registry names a provider template next
/// to it, whose own `get_file` is read relative to it; all reach the server.
#[tokio::test]
async fn environment_files_bring_their_provider_templates() {
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    let main = cli.file(
        "main.yaml",
        "heat_template_version: 2018-08-31\nparameters:\n  p: {type: string}\nresources:\n  b: {type: My::Box, properties: {name: {get_param: p}}}\noutputs:\n  o: {value: {get_attr: [b, greeting]}}\n",
    );
    cli.file(
        "env/box.yaml",
        "heat_template_version: 2018-08-31\nparameters:\n  name: {type: string}\nresources:\n  v: {type: OS::Heat::Value, properties: {value: {list_join: ['', ['hi ', {get_param: name}, ' ', {get_file: msg.txt}]]}}}\noutputs:\n  greeting: {value: {get_attr: [v, value]}}\n",
    );
    cli.file("env/msg.txt", "inner");
    let env = cli.file(
        "env/e.yaml",
        "parameters: {p: envp}\nresource_registry:\n  My::Box: box.yaml\n",
    );
    let out = cli
        .ok(&["stack", "create", "pv", "-t", &main, "-e", &env, "--wait"])
        .await;
    assert_eq!(
        out.lines().last(),
        Some("Stack pv CREATE_COMPLETE"),
        "{out}"
    );
    let value = cli
        .ok(&[
            "stack",
            "output",
            "show",
            "pv",
            "o",
            "-f",
            "value",
            "-c",
            "output_value",
        ])
        .await;
    assert_eq!(value, "hi envp inner\n");
    let nested = cli
        .ok(&[
            "stack",
            "resource",
            "list",
            "pv",
            "-n",
            "1",
            "-f",
            "value",
            "-c",
            "resource_name",
        ])
        .await;
    let mut names: Vec<&str> = nested.lines().collect();
    names.sort();
    assert_eq!(names, ["b", "v"], "{nested}");

    // A patch with only an environment file keeps the stored template and registry.
    let env2 = cli.file("env/e2.yaml", "parameters: {p: patched}\n");
    let out = cli
        .ok(&["stack", "update", "pv", "--existing", "-e", &env2, "--wait"])
        .await;
    assert_eq!(
        out.lines().last(),
        Some("Stack pv UPDATE_COMPLETE"),
        "{out}"
    );
    let value = cli
        .ok(&[
            "stack",
            "output",
            "show",
            "pv",
            "o",
            "-f",
            "value",
            "-c",
            "output_value",
        ])
        .await;
    assert_eq!(value, "hi patched inner\n");
    server.stop().await;
}
