//! The built-in hooks through the real server and agent, with the example templates in
//! `templates/`: `json-file` writes its files on this host, `hiera` its configuration and
//! data (its legacy-data check run by our own `os-apply-config`), and bad hook config
//! fails the deployment with a clear `deploy_stderr`; `ansible`, `puppet` and `salt` run the
//! real tools (`.ci/run` installs them) and change a file on this host; `apply-config`
//! renders os-apply-config templates from the current metadata and `cfn-init` applies its
//! Init section, both with the agent's own tool; a missing tool and a hanging one fail the
//! deployment clearly.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Agent, Api, Server, binary, repo_root};

const T: Duration = Duration::from_secs(60);

fn example(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("templates").join(name)).unwrap()
}

async fn deployment_stderr(api: &Api, stack: &str) -> String {
    let (_, body) = api
        .get(&format!("{stack}/resources/deployment"))
        .await
        .unwrap();
    body["resource"]["attributes"]["deploy_stderr"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn json_file_writes_each_file_and_refuses_a_relative_path() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("etc/myapp/settings.json");
    let stack = api
        .create_stack(
            "jsonfile",
            &example("json-file.yaml"),
            json!({"files": {settings.to_str().unwrap(): {"workers": 4, "listen": "0.0.0.0:8080"}}}),
        )
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    assert_eq!(Api::output(&done, "status_code"), json!(0));
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        "{\n    \"listen\": \"0.0.0.0:8080\",\n    \"workers\": 4\n}"
    );

    let bad = api
        .create_stack(
            "jsonfile-bad",
            &example("json-file.yaml"),
            json!({"files": {"relative/settings.json": {}}}),
        )
        .await
        .unwrap();
    let state2 = tempfile::tempdir().unwrap();
    let agent2 = api
        .start_agent(&bad, "server", state2.path(), &[])
        .await
        .unwrap();
    let failed = api.wait_stack(&bad, T).await.unwrap();
    assert_eq!(failed["stack_status"], "CREATE_FAILED", "{failed}");
    let stderr = deployment_stderr(&api, &bad).await;
    assert!(
        stderr.contains("config.relative/settings.json: the file path must be absolute"),
        "{stderr}\n{}",
        agent2.log_text()
    );
    agent.kill().await;
    agent2.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn hiera_writes_its_configuration_and_data() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("hiera", &example("hiera.yaml"), json!({}))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, datadir) = (dir.path().join("hiera.yaml"), dir.path().join("hieradata"));
    // The legacy-data check is our own os-apply-config, over metadata without hiera data.
    let metadata = dir.path().join("metadata.json");
    std::fs::write(&metadata, "{}").unwrap();
    let check = format!(
        "{} apply-config --key hiera.datafiles --type raw --key-default empty --metadata {}",
        binary("updraft-agent").display(),
        metadata.display()
    );
    api.wait_resource(&stack, "server", "CREATE_COMPLETE", T)
        .await
        .unwrap();
    let url = api.metadata_url(&stack, "server").await.unwrap();
    let state = tempfile::tempdir().unwrap();
    let agent = Agent::start_env(
        &url,
        state.path(),
        &[],
        &[
            ("HEAT_HIERA_CONFIG", config.to_str().unwrap()),
            ("HEAT_PUPPET_HIERA_DATADIR", datadir.to_str().unwrap()),
            ("HEAT_HIERA_ELEMENT_CHECK_CMD", &check),
        ],
    )
    .unwrap();
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains(&format!(":datadir: {}\n", datadir.display()))
            && text.ends_with(":hierarchy:\n  - %{::uuid}\n  - common\n"),
        "{text}"
    );
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(datadir.join("common.json")).unwrap())
            .unwrap();
    assert_eq!(
        data,
        json!({"ntp::servers": ["0.pool.ntp.org", "1.pool.ntp.org"]})
    );
    agent.kill().await;
    server.stop().await;
}

/// How a stack ended under an agent.
struct Finished {
    /// The stack as it ended.
    stack: Value,
    /// The deployment's `deploy_stderr`.
    stderr: String,
    /// The agent's log.
    log: String,
}

impl Finished {
    /// Asserts CREATE_COMPLETE, showing the deployment's stderr and the agent's log if not.
    fn assert_complete(&self) {
        assert_eq!(
            self.stack["stack_status"], "CREATE_COMPLETE",
            "{}\n{}\n{}",
            self.stack, self.stderr, self.log
        );
    }
}

/// Creates `template` with `params` on a fresh server, runs an agent (with `args` and
/// `env`) on its `server` until the stack's action ends, and checks the agent survived.
async fn run_stack(
    name: &str,
    template: &str,
    params: Value,
    args: &[&str],
    env: &[(&str, &str)],
) -> Finished {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let state = tempfile::tempdir().unwrap();
    let (stack, mut agent) = api
        .create_with_agent(name, template, params, state.path(), args, env)
        .await
        .unwrap();
    let done = api
        .wait_stack(&stack, Duration::from_secs(180))
        .await
        .unwrap();
    let stderr = deployment_stderr(&api, &stack).await;
    assert!(agent.is_running(), "{}", agent.log_text());
    let log = agent.log_text();
    agent.kill().await;
    server.stop().await;
    Finished {
        stack: done,
        stderr,
        log,
    }
}

/// [`run_stack`] for a stack of one `group` deployment of `config`.
async fn run_one(
    group: &str,
    config: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Value, String) {
    let template = updraft_e2e::one_deployment_template(group, config);
    let done = run_stack(group, &template, json!({}), args, env).await;
    (done.stack, done.stderr)
}

/// A tool `.ci/run` installs from PyPI into the venv (`ansible-playbook` from ansible-core,
/// `salt-call` from salt); `None` (skipped, with a message) outside CI when missing.
fn venv_tool(name: &str) -> Option<std::path::PathBuf> {
    let bin = std::env::var("UPDRAFT_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| repo_root().join("target/venv/bin").join(name));
    if bin.exists() {
        return Some(bin);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{name} is required when CI=true: run .ci/run"
    );
    eprintln!("skipped: {name} is not installed; run .ci/run");
    None
}

/// What a real tool's hook did: the file it wrote and the deployment's `result` output.
struct ToolRun {
    written: String,
    result: Value,
}

/// Creates the example `template` with a `dest` in a temporary directory and `greeting`,
/// runs an agent with the hook's environment (`env`, given that directory), waits for
/// CREATE_COMPLETE and returns what the tool did.
async fn run_tool_example(
    name: &str,
    template: &str,
    greeting: &str,
    env: impl FnOnce(&std::path::Path) -> Vec<(&'static str, String)>,
) -> ToolRun {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("motd");
    let env = env(dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let params = json!({"dest": dest.to_str().unwrap(), "greeting": greeting});
    let done = run_stack(name, &example(template), params, &[], &env).await;
    done.assert_complete();
    let run = ToolRun {
        written: std::fs::read_to_string(&dest).unwrap(),
        result: Api::output(&done.stack, "result"),
    };
    // file.managed (salt) ends its contents with a newline; the others write them as given.
    assert_eq!(
        run.result.as_str().map(str::trim_end),
        Some(format!("wrote {}", dest.display()).as_str()),
        "{}",
        run.result
    );
    run
}

/// A temporary-directory path as an environment value.
fn under(dir: &std::path::Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

#[tokio::test]
async fn ansible_runs_the_playbook_with_the_real_tool_and_returns_its_output() {
    let Some(tool) = venv_tool("ansible-playbook") else {
        return;
    };
    let run = run_tool_example("ansible", "ansible.yaml", "Hello from Ansible", |dir| {
        vec![
            ("HEAT_ANSIBLE_CMD", tool.display().to_string()),
            ("HEAT_ANSIBLE_WORKING", under(dir, "ansible-work")),
            ("HEAT_ANSIBLE_OUTPUTS", under(dir, "ansible-out")),
            ("ANSIBLE_LOCAL_TEMP", under(dir, "ansible-tmp")),
        ]
    })
    .await;
    assert_eq!(run.written, "Hello from Ansible\n");
}

#[tokio::test]
async fn puppet_applies_the_manifest_with_the_real_tool_and_returns_its_output() {
    // Debian's `puppet`, installed by `.ci/run`.
    if !std::path::Path::new("/usr/bin/puppet").exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "puppet (Debian) is required when CI=true: run .ci/run"
        );
        eprintln!("skipped: puppet is not installed; run .ci/run");
        return;
    }
    let run = run_tool_example("puppet", "puppet.yaml", "Hello from Puppet", |dir| {
        vec![
            ("HEAT_PUPPET_WORKING", under(dir, "puppet-work")),
            ("HEAT_PUPPET_OUTPUTS", under(dir, "puppet-out")),
            ("HEAT_PUPPET_LOGDIR", under(dir, "puppet-logs")),
        ]
    })
    .await;
    assert_eq!(run.written, "Hello from Puppet\n");
}

#[tokio::test]
async fn salt_applies_the_states_with_the_real_tool_and_returns_its_output() {
    let Some(tool) = venv_tool("salt-call") else {
        return;
    };
    let run = run_tool_example("salt", "salt.yaml", "Hello from Salt", |dir| {
        vec![
            ("HEAT_SALT_CMD", tool.display().to_string()),
            ("HEAT_SALT_WORKING", under(dir, "salt-work")),
            ("HEAT_SALT_OUTPUTS", under(dir, "salt-out")),
        ]
    })
    .await;
    // file.managed ends `contents` with a newline.
    assert_eq!(run.written, "Hello from Salt\n");
}

/// Chef is in none of the registries this project can install from, so `chef-client` is
/// a recording fake here: it checks that it got the run list, the node attributes and the
/// cloned kitchen, and writes the output the deployment returns.
#[tokio::test]
async fn chef_clones_the_kitchen_and_runs_chef_client_with_the_node_file() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("kitchen");
    std::fs::create_dir_all(repo.join("cookbooks/app/recipes")).unwrap();
    std::fs::write(repo.join("cookbooks/app/recipes/default.rb"), "log 'hi'\n").unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "."][..],
        &[
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "kitchen",
        ][..],
    ] {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }
    let fake = dir.path().join("fake-chef-client");
    std::fs::write(
        &fake,
        "#!/bin/sh\n# argv: -z --config <client.rb> -j <node.json>\n\
         grep -q \"cookbook_path '.*/kitchen/cookbooks'\" \"$3\" || { echo 'no cookbook_path' >&2; exit 3; }\n\
         grep -q \"environment 'production'\" \"$3\" || { echo 'no environment' >&2; exit 4; }\n\
         grep -q '\"port\": 8080' \"$5\" && grep -q 'recipe\\[app::default\\]' \"$5\" || { echo 'bad node file' >&2; exit 5; }\n\
         test -f \"$(dirname \"$3\")/kitchen/cookbooks/app/recipes/default.rb\" || { echo 'no kitchen' >&2; exit 6; }\n\
         printf converged > \"$heat_outputs_path.result\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let done = run_stack(
        "chef",
        &example("chef.yaml"),
        json!({"kitchen": repo.to_str().unwrap()}),
        &[],
        &[
            ("HEAT_CHEF_CMD", fake.to_str().unwrap()),
            ("HEAT_CHEF_WORKING", &under(dir.path(), "chef-work")),
            ("HEAT_CHEF_OUTPUTS", &under(dir.path(), "chef-out")),
        ],
    )
    .await;
    done.assert_complete();
    assert_eq!(Api::output(&done.stack, "result"), json!("converged"));
}

#[tokio::test]
async fn apply_config_renders_the_templates_from_the_current_metadata() {
    let dir = tempfile::tempdir().unwrap();
    // An os-apply-config template tree as an image holds it: `<templates>/<absolute path>`.
    let out = dir.path().join("out/groups.conf");
    let templates = dir.path().join("templates");
    let template = templates.join(out.strip_prefix("/").unwrap());
    std::fs::create_dir_all(template.parent().unwrap()).unwrap();
    std::fs::write(
        &template,
        "groups:{{#deployments}} {{group}}{{/deployments}}\n",
    )
    .unwrap();
    let templates = templates.display().to_string();
    let done = run_stack(
        "applyconfig",
        &example("apply-config.yaml"),
        json!({}),
        &[],
        &[("OS_CONFIG_APPLIER_TEMPLATES", templates.as_str())],
    )
    .await;
    done.assert_complete();
    assert_eq!(Api::output(&done.stack, "status_code"), json!(0));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "groups: apply-config\n"
    );
}

#[tokio::test]
async fn cfn_init_applies_the_init_section_with_the_agents_own_cfn_init() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("motd");
    let cache = dir.path().join("cache").display().to_string();
    let done = run_stack(
        "cfninit",
        &example("cfn-init.yaml"),
        json!({"dest": dest.to_str().unwrap(), "greeting": "hello"}),
        &[],
        &[("HEAT_CFN_INIT_LAST_METADATA_DIR", cache.as_str())],
    )
    .await;
    done.assert_complete();
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "hello");
    let stdout = Api::output(&done.stack, "stdout");
    assert!(
        stdout.as_str().unwrap_or_default().contains("wrote hello"),
        "{stdout}"
    );
}

#[tokio::test]
async fn cfn_init_refuses_an_init_section_that_is_not_a_map() {
    let (done, stderr) = run_one("cfn-init", "[\"config\"]", &[], &[]).await;
    assert_eq!(done["stack_status"], "CREATE_FAILED", "{done}");
    assert_eq!(
        stderr,
        "cfn-init: config must be an AWS::CloudFormation::Init section (a map of configSets and configs), not a list"
    );
}

#[tokio::test]
async fn a_missing_tool_fails_the_deployment_and_says_what_to_install() {
    let (done, stderr) = run_one(
        "puppet",
        "notice('hello')",
        &[],
        &[("HEAT_PUPPET_CMD", "/nonexistent/puppet")],
    )
    .await;
    assert_eq!(done["stack_status"], "CREATE_FAILED", "{done}");
    assert_eq!(
        stderr,
        "puppet: /nonexistent/puppet is not installed (or not on PATH); install puppet or set HEAT_PUPPET_CMD"
    );
}

#[tokio::test]
async fn a_tool_that_hangs_is_killed_at_the_hook_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("ansible-playbook");
    std::fs::write(&tool, "#!/bin/sh\necho starting play\nsleep 600\n").unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let working = under(dir.path(), "work");
    let outputs = under(dir.path(), "out");
    let tool = tool.display().to_string();
    let started = std::time::Instant::now();
    let (done, stderr) = run_one(
        "ansible",
        "- hosts: localhost\n  tasks: []\n",
        &["--hook-timeout", "2"],
        &[
            ("HEAT_ANSIBLE_CMD", tool.as_str()),
            ("HEAT_ANSIBLE_WORKING", working.as_str()),
            ("HEAT_ANSIBLE_OUTPUTS", outputs.as_str()),
        ],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(done["stack_status"], "CREATE_FAILED", "{done}");
    assert!(stderr.contains("timed out after 2s"), "{stderr}");
}
