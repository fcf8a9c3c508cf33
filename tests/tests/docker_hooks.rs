//! The `docker-cmd` and `docker-compose` hooks through the real server and agent, with
//! `templates/docker-cmd.yaml` and `templates/docker-compose.yaml`, and the agent's
//! reconciliation of what they left behind after a stack update removes a deployment.
//!
//! No Docker engine runs on the test machines, so `docker` and `docker-compose` are
//! recording fakes (small Python scripts written by the tests, named by
//! `HEAT_DOCKER_CMD` / `HEAT_DOCKER_COMPOSE_CMD`): the fake docker keeps a container
//! table (names and labels) so `ps`, `inspect`, `rm` and `rename` answer as docker
//! would, and both record every command line (the compose fake also its directory and
//! the files in it).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Server, repo_root};

const T: Duration = Duration::from_secs(60);

fn example(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("templates").join(name)).unwrap()
}

/// A fake docker: containers in `$FAKE_DOCKER_STATE/containers.json`, each argv appended
/// to `calls.jsonl`; `run` prints the container id (as `docker run -d` does).
const FAKE_DOCKER: &str = r#"#!/usr/bin/env python3
# A recording fake docker: Docker cannot run on the test machines.
import json, os, re, sys
state = os.environ["FAKE_DOCKER_STATE"]
args = sys.argv[1:]
with open(os.path.join(state, "calls.jsonl"), "a") as f:
    f.write(json.dumps(args) + "\n")
table = os.path.join(state, "containers.json")
containers = json.load(open(table)) if os.path.exists(table) else []
def save():
    json.dump(containers, open(table, "w"))
def container_id(name):
    return name.encode().hex().ljust(64, "0")[:64]
cmd, rest = args[0], args[1:]
if cmd == "inspect":
    if any(c["name"] == rest[-1] for c in containers):
        print("exists")
        sys.exit(0)
    print("Error: No such object: " + rest[-1], file=sys.stderr)
    sys.exit(1)
elif cmd == "run":
    name = rest[rest.index("--name") + 1]
    labels = dict(rest[i + 1].split("=", 1) for i, a in enumerate(rest) if a == "--label")
    containers.append({"id": container_id(name), "name": name, "labels": labels})
    save()
    print(container_id(name))
elif cmd == "ps":
    wanted = [rest[i + 1][len("label="):].split("=", 1) for i, a in enumerate(rest) if a == "--filter"]
    fmt = rest[rest.index("--format") + 1] if "--format" in rest else None
    for c in containers:
        if all(c["labels"].get(k) == v for k, v in wanted):
            if "-q" in rest:
                print(c["id"][:12])
            else:
                line = fmt.replace("{{.Names}}", c["name"])
                print(re.sub(r'\{\{\.Label "([^"]+)"\}\}', lambda m: c["labels"].get(m.group(1), ""), line))
elif cmd == "rm":
    containers = [c for c in containers if rest[-1] not in (c["name"], c["id"][:12])]
    save()
    print(rest[-1])
elif cmd == "rename":
    for c in containers:
        if c["name"] == rest[0]:
            c["name"] = rest[1]
    save()
elif cmd == "exec":
    print("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok", file=sys.stderr)
"#;

/// A fake docker-compose: each call appended to `$FAKE_COMPOSE_STATE/calls.jsonl` with
/// its directory and the files there (name → content).
const FAKE_COMPOSE: &str = r#"#!/usr/bin/env python3
# A recording fake docker-compose: Docker cannot run on the test machines.
import json, os, sys
state = os.environ["FAKE_COMPOSE_STATE"]
files = {n: open(n).read() for n in sorted(os.listdir(".")) if os.path.isfile(n)}
with open(os.path.join(state, "calls.jsonl"), "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "files": files}) + "\n")
project = os.path.basename(os.getcwd())
if sys.argv[1:] == ["up", "-d", "--no-build"]:
    print("Creating %s_db_1 ... done\nCreating %s_web_1 ... done" % (project, project), file=sys.stderr)
    print("%s: db web started" % project)
elif sys.argv[1:] == ["kill"]:
    print("Killing %s_web_1 ... done" % project, file=sys.stderr)
"#;

fn write_fake(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

fn calls(state: &Path) -> Vec<Value> {
    std::fs::read_to_string(state.join("calls.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Waits until `pred` holds for the recorded calls (the agent acts after the update).
async fn wait_calls(state: &Path, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let seen = calls(state);
        if pred(&seen) {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {seen:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The deployments the agent recorded (`<state>/deployed/<id>.json`), by group.
fn recorded(agent_state: &Path, group: &str) -> Vec<Value> {
    let mut out: Vec<Value> = std::fs::read_dir(agent_state.join("deployed"))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name()?.to_str()?.to_string();
            (name.ends_with(".json") && !name.ends_with(".notify.json"))
                .then(|| serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap())
        })
        .filter(|d: &Value| d["group"] == group)
        .collect();
    out.sort_by_key(|d| d["name"].as_str().unwrap_or_default().to_string());
    out
}

fn input(d: &Value, name: &str) -> String {
    d["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .map(|i| i["value"].as_str().unwrap().to_string())
        .unwrap()
}

fn container_id(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex:0<64}")
}

fn labels(container: &str, d: &Value) -> Vec<String> {
    [
        format!("deploy_stack_id={}", input(d, "deploy_stack_id")),
        format!("deploy_resource_name={}", input(d, "deploy_resource_name")),
        format!("config_id={}", d["id"].as_str().unwrap()),
        format!("container_name={container}"),
        "managed_by=docker-cmd".to_string(),
    ]
    .into_iter()
    .flat_map(|l| ["--label".to_string(), l])
    .collect()
}

fn argv(words: &[&str], labels: Vec<String>, tail: &[&str]) -> Value {
    let mut all: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    all.extend(labels);
    all.extend(tail.iter().map(|w| w.to_string()));
    json!(all)
}

/// The reconciliation's own `docker ps` listings (run before each new document's hooks).
fn is_listing(call: &Value) -> bool {
    let words: Vec<&str> = call
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    words
        == [
            "ps",
            "-a",
            "--filter",
            "label=managed_by=docker-cmd",
            "--format",
            "{{.Label \"config_id\"}}",
        ]
        || words
            == [
                "ps",
                "-a",
                "--format",
                "{{.Names}} {{.Label \"container_name\"}}",
            ]
}

#[tokio::test]
async fn docker_cmd_runs_the_containers_and_removes_those_of_a_removed_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let docker = write_fake(dir.path(), "docker", FAKE_DOCKER);
    let fake_state = dir.path().join("docker-state");
    std::fs::create_dir_all(&fake_state).unwrap();

    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = example("docker-cmd.yaml");
    let state = tempfile::tempdir().unwrap();
    let (stack, agent) = api
        .create_with_agent(
            "dockercmd",
            &template,
            json!({}),
            state.path(),
            &[],
            &[
                ("HEAT_DOCKER_CMD", docker.to_str().unwrap()),
                ("FAKE_DOCKER_STATE", fake_state.to_str().unwrap()),
            ],
        )
        .await
        .unwrap();
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    // docker run's container id is in deploy_stdout, and the signal was pure JSON.
    assert_eq!(
        Api::output(&done, "web_stdout"),
        json!(format!("{}\n", container_id("web")))
    );
    assert_eq!(
        Api::output(&done, "web_stderr"),
        json!("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n")
    );
    assert_eq!(Api::output(&done, "web_status_code"), json!(0));

    let deployed = recorded(state.path(), "docker-cmd");
    let [db, web] = deployed.as_slice() else {
        panic!("{deployed:#?}")
    };
    assert_eq!(db["config"]["db"]["image"], "redis:7", "{db}");
    let web_id = web["id"].as_str().unwrap();
    let hooks: Vec<Value> = calls(&fake_state)
        .into_iter()
        .filter(|c| !is_listing(c))
        .collect();
    // Each deployment's containers in start_order; the two deployments in either order.
    let db_calls = vec![
        json!(["inspect", "--format", "exists", "db"]),
        argv(
            &["run", "--name", "db"],
            labels("db", db),
            &[
                "--detach=true",
                "--restart=always",
                "--volume=db-data:/data",
                "redis:7",
            ],
        ),
    ];
    let web_calls = vec![
        json!(["inspect", "--format", "exists", "web"]),
        argv(
            &["run", "--name", "web"],
            labels("web", web),
            &[
                "--detach=true",
                "--env=NGINX_PORT=8080",
                "--net=host",
                "--privileged=false",
                "nginx:1.27",
                "nginx",
                "-g",
                "daemon off;",
            ],
        ),
        json!([
            "ps",
            "-a",
            "--filter",
            "label=container_name=web",
            "--filter",
            format!("label=config_id={web_id}"),
            "--format",
            "{{.Names}}"
        ]),
        json!(["exec", "web", "nginx", "-t"]),
    ];
    let (first, second) = hooks.split_at(hooks.len().min(2));
    if first == db_calls.as_slice() {
        assert_eq!(second, web_calls.as_slice(), "{hooks:#?}");
    } else {
        let (first, second) = hooks.split_at(hooks.len().min(4));
        assert_eq!(first, web_calls.as_slice(), "{hooks:#?}");
        assert_eq!(second, db_calls.as_slice(), "{hooks:#?}");
    }
    let listed_before = calls(&fake_state).iter().filter(|c| is_listing(c)).count();
    assert!(
        listed_before >= 2,
        "the reconciliation ran before the hooks"
    );

    // The update drops the database deployment: the agent removes its container only.
    let before = calls(&fake_state).len();
    let updated = api
        .update_stack(&stack, &template, json!({"with_db": false}))
        .await
        .unwrap();
    assert_eq!(updated["stack_status"], "UPDATE_COMPLETE", "{updated}");
    let db_config = db["id"].as_str().unwrap();
    let seen = wait_calls(&fake_state, "docker rm -f of the db container", |c| {
        c.iter().skip(before).any(|c| c[0] == "rm")
    })
    .await;
    let after: Vec<&Value> = seen.iter().skip(before).collect();
    let short = &container_id("db")[..12];
    let removal = [
        json!([
            "ps",
            "-a",
            "--filter",
            "label=managed_by=docker-cmd",
            "--format",
            "{{.Label \"config_id\"}}"
        ]),
        json!([
            "ps",
            "-q",
            "-a",
            "--filter",
            "label=managed_by=docker-cmd",
            "--filter",
            format!("label=config_id={db_config}")
        ]),
        json!(["rm", "-f", short]),
    ];
    let at = after.iter().position(|c| c[0] == "rm").unwrap();
    assert!(at >= 2, "{after:#?}");
    assert_eq!(
        after[at - 2..=at]
            .iter()
            .map(|c| (*c).clone())
            .collect::<Vec<_>>(),
        removal,
        "{after:#?}"
    );
    assert!(
        !after
            .iter()
            .any(|c| c[0] == "run" || (c[0] == "rm" && c[2] != short)),
        "only the db container is touched: {after:#?}"
    );
    let table: Value =
        serde_json::from_str(&std::fs::read_to_string(fake_state.join("containers.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = table
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web"]);
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn docker_compose_writes_the_project_runs_up_and_kills_a_removed_one() {
    let dir = tempfile::tempdir().unwrap();
    let compose = write_fake(dir.path(), "docker-compose", FAKE_COMPOSE);
    let fake_state = dir.path().join("compose-state");
    std::fs::create_dir_all(&fake_state).unwrap();
    let working = dir.path().join("compose-work");

    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = example("docker-compose.yaml");
    let state = tempfile::tempdir().unwrap();
    let (stack, agent) = api
        .create_with_agent(
            "dockercompose",
            &template,
            json!({"greeting": "hi there"}),
            state.path(),
            &[],
            &[
                ("HEAT_DOCKER_COMPOSE_CMD", compose.to_str().unwrap()),
                ("HEAT_DOCKER_COMPOSE_WORKING", working.to_str().unwrap()),
                ("FAKE_COMPOSE_STATE", fake_state.to_str().unwrap()),
            ],
        )
        .await
        .unwrap();
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    assert_eq!(
        Api::output(&done, "stdout"),
        json!("webapp: db web started\n")
    );
    assert_eq!(Api::output(&done, "status_code"), json!(0));
    let (_, resource) = api
        .get(&format!("{stack}/resources/deployment"))
        .await
        .unwrap();
    assert_eq!(
        resource["resource"]["attributes"]["deploy_stderr"],
        json!("Creating webapp_db_1 ... done\nCreating webapp_web_1 ... done\n")
    );

    let project = std::fs::canonicalize(working.join("webapp")).unwrap();
    let compose_yml = "db:\n  image: redis:7\nweb:\n  env_file:\n  - ./web.env\n  image: nginx:1.27\n  links:\n  - db\n  ports:\n  - 8000:80\n";
    assert_eq!(
        calls(&fake_state),
        vec![json!({
            "argv": ["up", "-d", "--no-build"],
            "cwd": project.to_str().unwrap(),
            "files": {"docker-compose.yml": compose_yml, "web.env": "GREETING=hi there\n"},
        })]
    );

    let updated = api
        .update_stack(&stack, &template, json!({"enabled": false}))
        .await
        .unwrap();
    assert_eq!(updated["stack_status"], "UPDATE_COMPLETE", "{updated}");
    let seen = wait_calls(&fake_state, "docker-compose kill", |c| c.len() >= 2).await;
    assert_eq!(
        seen[1],
        json!({
            "argv": ["kill"],
            "cwd": project.to_str().unwrap(),
            "files": {"docker-compose.yml": compose_yml, "web.env": "GREETING=hi there\n"},
        })
    );
    let deadline = tokio::time::Instant::now() + T;
    while project.join("docker-compose.yml").exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "compose file not removed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    agent.kill().await;
    server.stop().await;
}
