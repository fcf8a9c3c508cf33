//! The software-config family end to end, with the real server and our real agent: a
//! StructuredDeployment delivers its config with inputs substituted; a SoftwareComponent
//! runs its CREATE config, then its UPDATE one after a stack update; deployment groups
//! over three servers answer maps; CloudConfig and MultipartMime `config` read back as
//! cloud-init reads them (PyYAML, Python's email parser); bad properties are 400s naming
//! their paths. Every stack is an example from `templates/`.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Server, repo_root};

const T: Duration = Duration::from_secs(90);

fn template(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("templates").join(name)).unwrap()
}

/// A hook in heat-agents' style that answers, as its `applied` output, the deployment it
/// was given on stdin.
const ECHO_HOOK: &str = r#"#!/bin/sh
input=$(cat)
printf '{"deploy_stdout": "echoed", "deploy_stderr": "", "deploy_status_code": 0, "applied": %s}' "$input"
"#;

/// A temporary hooks directory holding the `echo` hook.
fn echo_hooks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let hook = dir.path().join("echo");
    std::fs::write(&hook, ECHO_HOOK).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

async fn physical_id(api: &Api, stack: &str, name: &str) -> String {
    let (_, body) = api.get(&format!("{stack}/resources/{name}")).await.unwrap();
    body["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A Python with PyYAML, as `.ci/run` installs it (`$UPDRAFT_PYTHON`, `target/venv`, else
/// the system's); `None` (the check skipped) outside CI when there is none.
fn python() -> Option<PathBuf> {
    let python = std::env::var_os("UPDRAFT_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let venv = repo_root().join("target/venv/bin/python3");
            venv.exists().then_some(venv)
        })
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ok = std::process::Command::new(&python)
        .args(["-c", "import email, yaml"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "a Python with PyYAML is required when CI=true: run .ci/run"
    );
    eprintln!("skipped: no Python with PyYAML");
    None
}

/// Runs `python -c script` with `input` on stdin; returns its stdout as JSON.
async fn python_json(python: &Path, script: &str, input: &str) -> Value {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_structured_deployment_delivers_its_config_with_inputs_substituted() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let hooks = echo_hooks();
    let stack = api
        .create_stack(
            "structured",
            &template("structured-deployment.yaml"),
            json!({"port": 9090}),
        )
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let hooks_dir = hooks.path().to_str().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &["--hooks-dir", hooks_dir])
        .await
        .unwrap();
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    let applied = Api::output(&done, "applied");
    let server_id = physical_id(&api, &stack, "server").await;
    assert_eq!(applied["group"], "echo");
    assert_eq!(
        applied["config"],
        json!({
            "service": {"listen": 9090, "banner": "welcome", "phase": "CREATE"},
            "peers": [server_id],
            "passed_through": null
        }),
        "{applied}"
    );
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn a_software_component_runs_its_create_config_then_its_update_config() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let text = template("software-component.yaml");
    let stack = api
        .create_stack("component", &text, json!({"name": "world"}))
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();
    let created = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        created["stack_status"],
        "CREATE_COMPLETE",
        "{created}\n{}",
        agent.log_text()
    );
    assert_eq!(
        Api::output(&created, "result"),
        json!("installed for world")
    );
    let configs = Api::output(&created, "configs");
    assert_eq!(configs[0]["actions"], json!(["CREATE"]), "{configs}");
    assert_eq!(configs[1]["tool"], json!("script"), "{configs}");

    let updated = api
        .update_stack(&stack, &text, json!({"name": "updraft"}))
        .await
        .unwrap();
    assert_eq!(
        updated["stack_status"],
        "UPDATE_COMPLETE",
        "{updated}\n{}",
        agent.log_text()
    );
    assert_eq!(
        Api::output(&updated, "result"),
        json!("reconfigured for updraft")
    );
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn deployment_groups_deploy_to_three_servers_and_answer_maps() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let hooks = echo_hooks();
    let hooks_dir = hooks.path().to_str().unwrap();
    let stack = api
        .create_stack("groups", &template("deployment-groups.yaml"), json!({}))
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let names = ["alpha", "beta", "gamma"];
    let mut agents = Vec::new();
    for name in names {
        agents.push(
            api.start_agent(&stack, name, state.path(), &["--hooks-dir", hooks_dir])
                .await
                .unwrap(),
        );
    }
    let done = api.wait_stack(&stack, T).await.unwrap();
    let logs = || {
        agents
            .iter()
            .map(|a| a.log_text())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        logs()
    );

    let stdouts = Api::output(&done, "stdouts");
    let hosts = Api::output(&done, "hosts");
    let applied = Api::output(&done, "applied");
    assert_eq!(
        Api::output(&done, "status_codes"),
        json!({"alpha": 0, "beta": 0, "gamma": 0})
    );
    for name in names {
        let out = stdouts[name].as_str().unwrap_or_default();
        assert_eq!(
            out.trim_end(),
            format!("configured {name}: hello"),
            "{stdouts}"
        );
        assert_eq!(hosts[name], json!(physical_id(&api, &stack, name).await));
        // Each structured member substituted its own resource name.
        assert_eq!(applied[name]["config"], json!({"role": name}), "{applied}");
    }
    assert_eq!(stdouts.as_object().unwrap().len(), 3, "{stdouts}");

    // An update reaches every member (two at a time: the template's rolling_update).
    let updated = api
        .update_stack(
            &stack,
            &template("deployment-groups.yaml"),
            json!({"message": "again"}),
        )
        .await
        .unwrap();
    assert_eq!(
        updated["stack_status"],
        "UPDATE_COMPLETE",
        "{updated}\n{}",
        logs()
    );
    let stdouts = Api::output(&updated, "stdouts");
    for name in names {
        let out = stdouts[name].as_str().unwrap_or_default();
        assert_eq!(
            out.trim_end(),
            format!("configured {name}: again"),
            "{stdouts}"
        );
    }
    for agent in agents {
        agent.kill().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn cloud_config_and_multipart_mime_read_back_as_cloud_init_reads_them() {
    let Some(python) = python() else {
        return;
    };
    let server = Server::start().await.unwrap();
    let api = server.api();
    let cloud = api
        .create_stack(
            "cloud",
            &template("cloud-config.yaml"),
            json!({"user": "yes"}),
        )
        .await
        .unwrap();
    let mime = api
        .create_stack("mime", &template("multipart-mime.yaml"), json!({}))
        .await
        .unwrap();
    let cloud = api.wait_stack(&cloud, T).await.unwrap();
    assert_eq!(cloud["stack_status"], "CREATE_COMPLETE", "{cloud}");
    let text = Api::output(&cloud, "user_data");
    let text = text.as_str().unwrap();
    let body = text.strip_prefix("#cloud-config\n").expect(text);
    // PyYAML, as cloud-init: a user called "yes" stays a string.
    let parsed = python_json(
        &python,
        "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        body,
    )
    .await;
    assert_eq!(
        parsed,
        json!({
            "package_update": true,
            "packages": ["git", "curl"],
            "users": [{"name": "yes", "sudo": "ALL=(ALL) NOPASSWD:ALL"}],
            "write_files": [{"path": "/etc/motd", "permissions": "0644",
                "content": "Configured by Updraft.\nWelcome!\n"}]
        }),
        "{text}"
    );

    let mime_stack = api.wait_stack(&mime, T).await.unwrap();
    assert_eq!(
        mime_stack["stack_status"], "CREATE_COMPLETE",
        "{mime_stack}"
    );
    let message = Api::output(&mime_stack, "user_data");
    // Python's email parser, as cloud-init uses it.
    let parts = python_json(
        &python,
        "import email, json, sys\n\
         m = email.message_from_string(sys.stdin.read())\n\
         assert m.is_multipart() and m.get_content_type() == 'multipart/mixed'\n\
         print(json.dumps([[p.get_content_type(), p.get_filename(), \
         p.get_payload(decode=True).decode()] for p in m.get_payload()]))",
        message.as_str().unwrap(),
    )
    .await;
    // The CloudConfig part is that resource's config, as its `config` attribute shows it.
    let (_, boot) = api
        .get(&format!("{mime}/resources/boot_config"))
        .await
        .unwrap();
    let cloud_config = boot["resource"]["attributes"]["config"].clone();
    assert!(
        cloud_config
            .as_str()
            .is_some_and(|c| c.starts_with("#cloud-config\n")),
        "{boot}"
    );
    assert_eq!(
        parts,
        json!([
            ["text/cloud-config", "cloud-config", cloud_config],
            [
                "text/x-shellscript",
                "boot.sh",
                "#!/bin/sh\necho hello from boot\n"
            ],
            ["text/x-shellscript", null, "#!/bin/sh\necho extra one\n"],
            [
                "text/x-shellscript",
                "two.sh",
                "#!/bin/sh\necho extra two\n"
            ]
        ]),
        "{message}"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_config_properties_are_400s_naming_their_paths() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let path = repo_root().join("templates/broken/bad-config-properties.yaml");
    let text = std::fs::read_to_string(Path::new(&path)).unwrap();
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": "bad", "template": text})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    for expected in [
        "resources.twice.properties.configs[1].actions: Defining more than one configuration for the same action in SoftwareComponent \"twice\" is not allowed",
        "resources.toolless.properties.configs[0]: Property tool not assigned",
        "resources.mime.properties.parts[0].type: \"html\" is not an allowed value [\"text\", \"multipart\"]",
    ] {
        assert!(message.contains(expected), "{expected}\nnot in\n{message}");
    }
    let (status, _) = api.get("/stacks/bad").await.unwrap();
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    server.stop().await;
}

/// A deployment whose config declares `version` with `replace_on_change: true`.
const REPLACE_ON_CHANGE: &str = r##"
heat_template_version: 2018-08-31
parameters:
  version: {type: string}
  colour: {type: string}
resources:
  server:
    type: OS::Heat::DeployedServer
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs: [{name: version, replace_on_change: true}, {name: colour}]
      config: "#!/bin/sh\n"
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: {get_resource: server}
      signal_transport: NO_SIGNAL
      input_values: {version: {get_param: version}, colour: {get_param: colour}}
"##;

#[tokio::test]
async fn a_replace_on_change_input_replaces_the_deployment() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack(
            "roc",
            REPLACE_ON_CHANGE,
            json!({"version": "1", "colour": "red"}),
        )
        .await
        .unwrap();
    let created = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(created["stack_status"], "CREATE_COMPLETE", "{created}");
    let first = physical_id(&api, &stack, "deployment").await;
    // Another input: updated in place, same deployment.
    let updated = api
        .update_stack(
            &stack,
            REPLACE_ON_CHANGE,
            json!({"version": "1", "colour": "blue"}),
        )
        .await
        .unwrap();
    assert_eq!(updated["stack_status"], "UPDATE_COMPLETE", "{updated}");
    assert_eq!(physical_id(&api, &stack, "deployment").await, first);
    // The replace_on_change input: a new deployment.
    let replaced = api
        .update_stack(
            &stack,
            REPLACE_ON_CHANGE,
            json!({"version": "2", "colour": "blue"}),
        )
        .await
        .unwrap();
    assert_eq!(replaced["stack_status"], "UPDATE_COMPLETE", "{replaced}");
    assert_ne!(physical_id(&api, &stack, "deployment").await, first);
    server.stop().await;
}
