//! The stock `openstack` CLI (python-openstackclient + python-heatclient from PyPI, in
//! `target/venv`) against a live `updraft server`: every orchestration command an operator
//! uses, each checked on what it prints (`-f json`), logged in by password through the
//! server's own `/v3`. (heatclient's other modes: `heatclient_modes.rs`.)

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use updraft_e2e::Server;
use updraft_e2e::openstack::{VALUE_TEMPLATE, project_user, venv_bin};

/// Runs `openstack` for one server, from a directory holding the templates.
struct Osc {
    bin: PathBuf,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

/// What a command printed.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The JSON document printed (after the event lines `--wait` prints first).
    fn json(&self) -> Value {
        assert!(
            self.ok,
            "the command failed: {}\n{}",
            self.stderr, self.stdout
        );
        let start = self
            .stdout
            .lines()
            .position(|l| l.starts_with('{') || l.starts_with('['))
            .unwrap_or(0);
        let document: Vec<&str> = self.stdout.lines().skip(start).collect();
        serde_json::from_str(&document.join("\n"))
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

impl Osc {
    /// The CLI logging in as a user of project `ops` with `role`, by password through the
    /// server's `/v3` (keystoneauth's normal password flow; the orchestration endpoint is
    /// taken from the catalog), as an operator's `clouds.yaml`/`openrc` would.
    async fn password(bin: PathBuf, server: &Server, role: &str) -> Self {
        let user = format!("operator-{role}");
        project_user(server, "ops", &user, role, "s3cret-pw")
            .await
            .unwrap();
        let env = [
            ("OS_AUTH_URL", format!("{}/v3", server.base)),
            ("OS_USERNAME", user),
            ("OS_PASSWORD", "s3cret-pw".into()),
            ("OS_PROJECT_NAME", "ops".into()),
            ("OS_USER_DOMAIN_NAME", "Default".into()),
            ("OS_PROJECT_DOMAIN_NAME", "Default".into()),
            ("OS_IDENTITY_API_VERSION", "3".into()),
            ("OS_INTERFACE", "public".into()),
        ];
        Osc {
            bin,
            dir: tempfile::tempdir().unwrap(),
            env: env.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            args: vec![],
        }
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }

    async fn run(&self, args: &[&str]) -> Run {
        let out = tokio::process::Command::new(self.bin.join("openstack"))
            .args(&self.args)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .output()
            .await
            .unwrap();
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-f", "json"]);
        self.run(&all).await.json()
    }

    /// Polls `stack show` until `want` (or fails on another final status).
    async fn wait_status(&self, stack: &str, want: &str) -> Value {
        for _ in 0..120 {
            let shown = self.json(&["stack", "show", stack]).await;
            let status = shown["stack_status"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if status == want {
                return shown;
            }
            assert!(
                status.ends_with("IN_PROGRESS") || status.ends_with("COMPLETE"),
                "{stack} is {status} waiting for {want}: {shown}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("{stack} never reached {want}");
    }
}

const MAIN: &str = "heat_template_version: 2018-08-31
description: The openstack CLI's stack.
parameters:
  greeting: {type: string, default: hello}
  wait: {type: number, default: 0}
resources:
  script:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      config: {get_file: script.sh}
  inner:
    type: My::Inner
    properties:
      value: {get_param: greeting}
  tested:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: greeting}
      action_wait_secs: {update: {get_param: wait}}
  handle:
    type: OS::Heat::WaitConditionHandle
outputs:
  greeting: {value: {get_attr: [tested, output]}}
  script: {value: {get_attr: [script, config]}}
  inner: {value: {get_attr: [inner, value]}}
";

const ENV: &str = "parameters:
  greeting: from-env
resource_registry:
  My::Inner: inner.yaml
";

fn write_templates(osc: &Osc) {
    osc.write("main.yaml", MAIN);
    osc.write("inner.yaml", VALUE_TEMPLATE);
    osc.write("env.yaml", ENV);
    osc.write("script.sh", "echo hello from script\n");
}

fn output(osc_json: &Value) -> &Value {
    &osc_json["output_value"]
}

fn column<'a>(rows: &'a Value, key: &str) -> Vec<&'a str> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not a list: {rows}"))
        .iter()
        .filter_map(|r| r[key].as_str())
        .collect()
}

#[tokio::test]
async fn openstack_cli_runs_a_stack_through_its_life() {
    let Some(bin) = venv_bin() else { return };
    let server = Server::start().await.unwrap();
    let osc = Osc::password(bin, &server, "member").await;
    write_templates(&osc);

    // create --wait, with an environment file and get_file, prints the finished stack.
    let created = osc
        .json(&[
            "stack",
            "create",
            "--wait",
            "-t",
            "main.yaml",
            "-e",
            "env.yaml",
            "s1",
        ])
        .await;
    assert_eq!(created["stack_status"], "CREATE_COMPLETE", "{created}");
    assert_eq!(created["description"], "The openstack CLI's stack.");

    let listed = osc.json(&["stack", "list"]).await;
    assert_eq!(column(&listed, "Stack Name"), ["s1"]);
    assert_eq!(column(&listed, "Stack Status"), ["CREATE_COMPLETE"]);

    let shown = osc.json(&["stack", "show", "s1"]).await;
    assert_eq!(shown["parameters"]["greeting"], "from-env");
    let greeting = osc
        .json(&["stack", "output", "show", "s1", "greeting"])
        .await;
    assert_eq!(output(&greeting), "from-env");
    let script = osc.json(&["stack", "output", "show", "s1", "script"]).await;
    assert_eq!(output(&script), "echo hello from script\n");
    let inner = osc.json(&["stack", "output", "show", "s1", "inner"]).await;
    assert_eq!(output(&inner), "from-env");

    let events = osc.json(&["stack", "event", "list", "s1"]).await;
    let reasons: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["resource_name"].as_str().unwrap_or_default(),
                e["resource_status"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert!(
        reasons.contains(&"s1 CREATE_COMPLETE".to_string()),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&"tested CREATE_COMPLETE".to_string()),
        "{reasons:?}"
    );

    // -n 5 reaches into the provider template's nested stack.
    let resources = osc
        .json(&["stack", "resource", "list", "-n", "5", "s1"])
        .await;
    let names = column(&resources, "resource_name");
    for want in ["handle", "inner", "script", "tested", "v"] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    // The provider resource shows the type the template gives it, as Heat does.
    let inner = resources
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_name"] == "inner")
        .unwrap();
    assert_eq!(inner["resource_type"], "My::Inner", "{inner}");

    // A signal to the wait condition handle lands in its metadata, as in Heat.
    let signal = osc
        .run(&[
            "stack",
            "resource",
            "signal",
            "--data",
            r#"{"status": "SUCCESS", "reason": "ok", "data": "d1", "id": "1"}"#,
            "s1",
            "handle",
        ])
        .await;
    assert!(signal.ok, "{}", signal.stderr);
    let mut metadata = Value::Null;
    for _ in 0..40 {
        metadata = osc
            .json(&["stack", "resource", "metadata", "s1", "handle"])
            .await;
        if metadata.get("1").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(metadata["1"]["data"], "d1", "{metadata}");

    // update --existing keeps the environment and changes one parameter.
    let updated = osc
        .json(&[
            "stack",
            "update",
            "--existing",
            "--parameter",
            "greeting=again",
            "--wait",
            "s1",
        ])
        .await;
    assert_eq!(updated["stack_status"], "UPDATE_COMPLETE", "{updated}");
    let greeting = osc
        .json(&["stack", "output", "show", "s1", "greeting"])
        .await;
    assert_eq!(output(&greeting), "again");

    // --dry-run shows what would change and changes nothing.
    let preview = osc
        .json(&[
            "stack",
            "update",
            "--dry-run",
            "--existing",
            "--parameter",
            "greeting=third",
            "s1",
        ])
        .await;
    let updated_names = column(&preview["updated"], "resource_name");
    assert!(updated_names.contains(&"tested"), "{preview}");
    assert!(column(&preview["unchanged"], "resource_name").contains(&"script"));
    let greeting = osc
        .json(&["stack", "output", "show", "s1", "greeting"])
        .await;
    assert_eq!(output(&greeting), "again");

    for (verb, status) in [
        ("check", "CHECK_COMPLETE"),
        ("suspend", "SUSPEND_COMPLETE"),
        ("resume", "RESUME_COMPLETE"),
    ] {
        let result = osc.json(&["stack", verb, "--wait", "s1"]).await;
        assert_eq!(
            column(&result, "Stack Status"),
            [status],
            "{verb}: {result}"
        );
    }

    // cancel stops a slow update and rolls back.
    let slow = osc
        .run(&[
            "stack",
            "update",
            "--existing",
            "--parameter",
            "wait=60",
            "--parameter",
            "greeting=slow",
            "s1",
        ])
        .await;
    assert!(slow.ok, "{}", slow.stderr);
    osc.wait_status("s1", "UPDATE_IN_PROGRESS").await;
    // (Not --wait: the client stops at the first stack *_FAILED event, and a cancelled
    // update is UPDATE_FAILED "Stack UPDATE cancelled" before it rolls back, as in Heat.)
    let cancel = osc.run(&["stack", "cancel", "s1"]).await;
    assert!(cancel.ok, "{}\n{}", cancel.stderr, cancel.stdout);
    let rolled = osc.wait_status("s1", "ROLLBACK_COMPLETE").await;
    assert_eq!(rolled["parameters"]["greeting"], "again", "{rolled}");

    let deleted = osc.run(&["stack", "delete", "--yes", "--wait", "s1"]).await;
    assert!(deleted.ok, "{}", deleted.stderr);
    let listed = osc.json(&["stack", "list"]).await;
    assert_eq!(listed, Value::Array(vec![]));
    server.stop().await;
}

#[tokio::test]
async fn openstack_cli_validates_and_lists_what_the_server_knows() {
    let Some(bin) = venv_bin() else { return };
    let server = Server::start().await.unwrap();
    let osc = Osc::password(bin, &server, "admin").await;
    write_templates(&osc);

    let validated = osc
        .json(&[
            "orchestration",
            "template",
            "validate",
            "-t",
            "main.yaml",
            "-e",
            "env.yaml",
        ])
        .await;
    assert_eq!(validated["Description"], "The openstack CLI's stack.");
    assert_eq!(
        validated["Parameters"]["greeting"]["Value"], "from-env",
        "{validated}"
    );
    osc.write(
        "bad.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  x: {type: OS::No::Such}\n",
    );
    let bad = osc
        .run(&["orchestration", "template", "validate", "-t", "bad.yaml"])
        .await;
    assert!(!bad.ok);
    assert!(bad.stderr.contains("OS::No::Such"), "{}", bad.stderr);

    let versions = osc
        .json(&["orchestration", "template", "version", "list"])
        .await;
    let names = column(&versions, "Version");
    assert!(
        names.contains(&"heat_template_version.2018-08-31"),
        "{versions}"
    );
    assert!(
        names.contains(&"AWSTemplateFormatVersion.2010-09-09"),
        "{versions}"
    );
    let functions = osc
        .json(&[
            "orchestration",
            "template",
            "function",
            "list",
            "heat_template_version.2016-10-14",
        ])
        .await;
    assert!(
        column(&functions, "Functions").contains(&"yaql"),
        "{functions}"
    );

    let types = osc
        .json(&["orchestration", "resource", "type", "list"])
        .await;
    let type_names = column(&types, "Resource Type");
    assert!(
        type_names.contains(&"OS::Heat::SoftwareDeployment"),
        "{types}"
    );
    let filtered = osc
        .json(&[
            "orchestration",
            "resource",
            "type",
            "list",
            "--filter",
            "name=OS::Heat::Wait",
        ])
        .await;
    assert!(
        column(&filtered, "Resource Type")
            .iter()
            .all(|t| t.starts_with("OS::Heat::Wait")),
        "{filtered}"
    );
    let shown = osc
        .json(&[
            "orchestration",
            "resource",
            "type",
            "show",
            "OS::Heat::TestResource",
        ])
        .await;
    assert_eq!(shown["resource_type"], "OS::Heat::TestResource");
    // The provider template that mirrors a type is a template the server accepts.
    let provider = osc
        .json(&[
            "orchestration",
            "resource",
            "type",
            "show",
            "--template-type",
            "hot",
            "OS::Heat::TestResource",
        ])
        .await;
    assert_eq!(
        provider["resources"]["TestResource"]["type"], "OS::Heat::TestResource",
        "{provider}"
    );
    osc.write("provider.json", &provider.to_string());
    let checked = osc
        .json(&[
            "orchestration",
            "template",
            "validate",
            "-t",
            "provider.json",
        ])
        .await;
    assert!(checked["Parameters"]["value"].is_object(), "{checked}");
    assert!(shown["properties"]["value"].is_object(), "{shown}");

    let build = osc.json(&["orchestration", "build", "info"]).await;
    assert!(build.to_string().contains("updraft"), "{build}");
    let services = osc.json(&["orchestration", "service", "list"]).await;
    assert_eq!(column(&services, "Status"), ["up"], "{services}");
    server.stop().await;
}

#[tokio::test]
async fn openstack_cli_manages_software_configs() {
    let Some(bin) = venv_bin() else { return };
    let server = Server::start().await.unwrap();
    let osc = Osc::password(bin, &server, "member").await;
    osc.write("script.sh", "#!/bin/sh\necho configured\n");

    let created = osc
        .json(&[
            "software",
            "config",
            "create",
            "--config-file",
            "script.sh",
            "--group",
            "script",
            "cfg1",
        ])
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["name"], "cfg1");
    assert_eq!(created["group"], "script");
    assert_eq!(created["config"], "#!/bin/sh\necho configured\n");

    let shown = osc.json(&["software", "config", "show", &id]).await;
    assert_eq!(shown["config"], "#!/bin/sh\necho configured\n");
    let listed = osc.json(&["software", "config", "list"]).await;
    assert_eq!(column(&listed, "name"), ["cfg1"], "{listed}");
    let deleted = osc.run(&["software", "config", "delete", &id]).await;
    assert!(deleted.ok, "{}", deleted.stderr);
    let missing = osc.run(&["software", "config", "show", &id]).await;
    assert!(!missing.ok);
    assert!(missing.stderr.contains("not found"), "{}", missing.stderr);
    server.stop().await;
}

#[tokio::test]
async fn openstack_cli_snapshots_abandons_adopts_and_deploys() {
    let Some(bin) = venv_bin() else { return };
    let server = Server::start_with(
        updraft_e2e::Backend::Sqlite,
        &["--enable-stack-abandon", "--enable-stack-adopt"],
    )
    .await
    .unwrap();
    let osc = Osc::password(bin, &server, "member").await;
    osc.write("t.yaml", VALUE_TEMPLATE);

    let created = osc
        .json(&[
            "stack",
            "create",
            "--wait",
            "-t",
            "t.yaml",
            "--parameter",
            "value=one",
            "snappy",
        ])
        .await;
    assert_eq!(created["stack_status"], "CREATE_COMPLETE", "{created}");
    let snap = osc
        .json(&["stack", "snapshot", "create", "--name", "first", "snappy"])
        .await;
    let sid = snap["ID"].as_str().unwrap().to_string();
    assert_eq!(snap["name"], "first");
    let listed = osc.json(&["stack", "snapshot", "list", "snappy"]).await;
    assert_eq!(column(&listed, "id"), [sid.as_str()], "{listed}");
    let updated = osc
        .json(&[
            "stack",
            "update",
            "--existing",
            "--parameter",
            "value=two",
            "--wait",
            "snappy",
        ])
        .await;
    assert_eq!(updated["stack_status"], "UPDATE_COMPLETE");
    let restored = osc
        .run(&["stack", "snapshot", "restore", "snappy", &sid])
        .await;
    assert!(restored.ok, "{}", restored.stderr);
    osc.wait_status("snappy", "RESTORE_COMPLETE").await;
    let value = osc
        .json(&["stack", "output", "show", "snappy", "value"])
        .await;
    assert_eq!(output(&value), "one");

    // Abandon keeps the resources; adopt takes them back under a new stack.
    let abandoned = osc
        .run(&[
            "stack",
            "abandon",
            "--output-file",
            "abandoned.json",
            "snappy",
        ])
        .await;
    assert!(abandoned.ok, "{}", abandoned.stderr);
    assert_eq!(osc.json(&["stack", "list"]).await, Value::Array(vec![]));
    let adopted = osc
        .json(&[
            "stack",
            "adopt",
            "--adopt-file",
            "abandoned.json",
            "--wait",
            "again",
        ])
        .await;
    assert_eq!(adopted["stack_status"], "ADOPT_COMPLETE", "{adopted}");
    let value = osc
        .json(&["stack", "output", "show", "again", "value"])
        .await;
    assert_eq!(output(&value), "one");

    // Software deployments, with the derived config the client builds.
    osc.write("script.sh", "#!/bin/sh\necho deployed\n");
    let config = osc
        .json(&[
            "software",
            "config",
            "create",
            "--config-file",
            "script.sh",
            "--group",
            "script",
            "src",
        ])
        .await;
    let config_id = config["id"].as_str().unwrap();
    let deployment = osc
        .json(&[
            "software",
            "deployment",
            "create",
            "--config",
            config_id,
            "--server",
            "srv-1",
            "--signal-transport",
            "NO_SIGNAL",
            "--input-value",
            "a=1",
            "dep1",
        ])
        .await;
    let id = deployment["id"].as_str().unwrap().to_string();
    assert_eq!(deployment["server_id"], "srv-1");
    let shown = osc.json(&["software", "deployment", "show", &id]).await;
    assert_eq!(shown["status"], "IN_PROGRESS", "{shown}");
    let metadata = osc
        .run(&["software", "deployment", "metadata", "show", "srv-1"])
        .await
        .json();
    assert_eq!(metadata[0]["name"], "dep1", "{metadata}");
    let deleted = osc.run(&["software", "deployment", "delete", &id]).await;
    assert!(deleted.ok, "{}", deleted.stderr);
    let metadata = osc
        .run(&["software", "deployment", "metadata", "show", "srv-1"])
        .await
        .json();
    assert_eq!(metadata, Value::Array(vec![]));
    server.stop().await;
}

#[tokio::test]
async fn openstack_cli_with_a_wrong_password_reports_authentication() {
    let Some(bin) = venv_bin() else { return };
    let server = Server::start().await.unwrap();
    let mut osc = Osc::password(bin, &server, "member").await;
    for (k, v) in osc.env.iter_mut() {
        if k == "OS_PASSWORD" {
            *v = "wrong-password".into();
        }
    }
    let failed = osc.run(&["stack", "list"]).await;
    assert!(!failed.ok);
    assert!(failed.stderr.contains("401"), "{}", failed.stderr);
    assert!(
        !failed.stderr.contains("wrong-password"),
        "{}",
        failed.stderr
    );
    server.stop().await;
}
