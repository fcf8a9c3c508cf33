//! The agent's exactly-once guarantees under faults, with the real `updraft server` and
//! real `updraft-agent` processes: a flaky network between them (the fault proxy), the
//! agent killed with SIGKILL during a hook, the server unreachable when a signal is due,
//! and bad input (corrupt state files, a hook printing garbage, a hook that hangs).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use updraft_agent::state::{INTERRUPTED_MESSAGE, UNREADABLE_MESSAGE};
use updraft_e2e::fault_proxy::{FaultPlan, FaultProxy};
use updraft_e2e::{Agent, Api, Server, one_deployment_template};

const T: Duration = Duration::from_secs(60);

/// A stack of one DeployedServer and `n` script deployments `dep_<i>` of one config; each
/// run appends its resource name to `log` first, then runs `body`.
fn template(n: usize, log: &Path, body: &str) -> String {
    let mut t = format!(
        r#"heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
    properties: {{software_config_transport: POLL_TEMP_URL}}
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs: [{{name: log}}]
      outputs: [{{name: result}}]
      config: |
        #!/bin/sh
        echo "$deploy_resource_name" >> "$log"
        printf '%s' "$deploy_resource_name" > "$heat_outputs_path.result"
{}
"#,
        body.lines()
            .map(|l| format!("        {l}\n"))
            .collect::<String>()
    );
    for i in 0..n {
        t.push_str(&format!(
            "  dep_{i}:\n    type: OS::Heat::SoftwareDeployment\n    properties:\n      config: {{get_resource: config}}\n      server: {{get_resource: server}}\n      signal_transport: TEMP_URL_SIGNAL\n      input_values: {{log: {log:?}}}\n",
            log = log.display().to_string()
        ));
    }
    t
}

/// How many times each deployment's hook ran, from the log the scripts append to.
fn runs(log: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
        *counts.entry(line.to_string()).or_default() += 1;
    }
    counts
}

/// The reasons of the `SIGNAL_*` events, per resource name.
async fn signal_reasons(api: &Api, stack: &str) -> HashMap<String, Vec<String>> {
    let (_, events) = api
        .get(&format!("{stack}/events?sort_dir=asc"))
        .await
        .unwrap();
    let mut reasons: HashMap<String, Vec<String>> = HashMap::new();
    for e in events["events"].as_array().unwrap() {
        if e["resource_status"]
            .as_str()
            .unwrap_or_default()
            .starts_with("SIGNAL_")
        {
            let name = e["resource_name"].as_str().unwrap().to_string();
            let reason = e["resource_status_reason"].as_str().unwrap_or_default();
            reasons.entry(name).or_default().push(reason.to_string());
        }
    }
    reasons
}

/// The reason of the event of a re-sent signal the server had already applied.
const NOT_WAITING: &str = "is not waiting for a signal";

/// `SIGNAL_*` events per resource name.
async fn signal_events(api: &Api, stack: &str) -> HashMap<String, usize> {
    signal_reasons(api, stack)
        .await
        .into_iter()
        .map(|(name, reasons)| (name, reasons.len()))
        .collect()
}

async fn resource(api: &Api, stack: &str, name: &str) -> Value {
    let (_, body) = api.get(&format!("{stack}/resources/{name}")).await.unwrap();
    body["resource"].clone()
}

async fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_hundred_deployments_through_a_network_that_drops_a_fifth_of_the_signals() {
    const N: usize = 100;
    let proxy = FaultProxy::start(FaultPlan::new("/temp_url/v1/signal/", 0.2, 0x5EED))
        .await
        .unwrap();
    let server = Server::start_behind(&proxy).await.unwrap();
    let api = server.api();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("ran.log");
    let stack = api
        .create_stack("flaky", &template(N, &log, ""), json!({}))
        .await
        .unwrap();
    api.wait_resource(&stack, "server", "CREATE_COMPLETE", T)
        .await
        .unwrap();
    let url = api.metadata_url(&stack, "server").await.unwrap();
    assert!(url.starts_with(&proxy.url()), "{url}");
    let agent = api
        .start_agent(&stack, "server", work.path(), &[])
        .await
        .unwrap();

    let done = api
        .wait_stack(&stack, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    let counts = proxy.counts();
    let faulted = counts.faulted();
    let cut_after = counts.cut_after.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        faulted >= 10 && cut_after >= 1,
        "the proxy injected too few faults: {counts:?}"
    );

    // Each hook ran exactly once; each deployment completed with its own output.
    let ran = runs(&log);
    assert_eq!(ran.len(), N, "{ran:?}");
    assert!(ran.values().all(|&c| c == 1), "a hook ran twice: {ran:?}");
    for i in 0..N {
        let name = format!("dep_{i}");
        let r = resource(&api, &stack, &name).await;
        assert_eq!(r["resource_status"], "CREATE_COMPLETE", "{r}");
        assert_eq!(r["attributes"]["result"], json!(name), "{r}");
        assert_eq!(r["attributes"]["deploy_status_code"], json!(0), "{r}");
    }
    // The server applied one signal per deployment. A signal whose answer was cut after
    // the server handled it is sent again; as in Heat, that one is recorded as an event
    // saying the deployment no longer waits, and changes nothing.
    let signals = signal_reasons(&api, &stack).await;
    assert_eq!(signals.len(), N, "{signals:?}");
    let mut resent = 0;
    for (name, reasons) in &signals {
        let applied = reasons.iter().filter(|r| !r.contains(NOT_WAITING)).count();
        assert_eq!(applied, 1, "{name}: {reasons:?}");
        assert!(
            !reasons[0].contains(NOT_WAITING),
            "{name}: the first signal was not the applied one: {reasons:?}"
        );
        resent += reasons.len() - 1;
    }
    assert!(
        resent as u64 <= cut_after,
        "{resent} duplicate signals but only {cut_after} answers were cut after the server: {signals:?}"
    );
    let agent_log = agent.log_text();
    assert!(agent_log.contains("retrying in"), "{agent_log}");
    assert!(!agent_log.contains("panicked"), "{agent_log}");
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn an_agent_killed_during_a_hook_reports_it_failed_once_and_never_reruns_it() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("ran.log");
    let pid_file = work.path().join("hook.pid");
    let body = format!("echo $$ > {:?}\nsleep 120", pid_file.display().to_string());
    let stack = api
        .create_stack("killed", &template(1, &log, &body), json!({}))
        .await
        .unwrap();
    let agent = api
        .start_agent(&stack, "server", work.path(), &[])
        .await
        .unwrap();
    wait_until("the hook to start", T, || pid_file.exists() && log.exists()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    agent.kill().await;
    // The hook's process group outlives a SIGKILLed agent; end it as a reboot would.
    let hook: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(hook),
        nix::sys::signal::Signal::SIGKILL,
    );

    let agent = api
        .start_agent(&stack, "server", work.path(), &[])
        .await
        .unwrap();
    let failed = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(failed["stack_status"], "CREATE_FAILED", "{failed}");
    let r = resource(&api, &stack, "dep_0").await;
    assert_eq!(r["resource_status"], "CREATE_FAILED", "{r}");
    assert_eq!(r["attributes"]["deploy_stderr"], INTERRUPTED_MESSAGE, "{r}");
    assert_eq!(r["attributes"]["deploy_status_code"], json!(1), "{r}");
    assert!(
        r["resource_status_reason"]
            .as_str()
            .unwrap()
            .contains("Deployment exited with non-zero status code: 1"),
        "{r}"
    );
    let agent_log = agent.log_text();
    assert!(
        agent_log.contains("interrupted by an agent restart"),
        "{agent_log}"
    );
    // Still once, a few polls later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(runs(&log).get("dep_0"), Some(&1));
    assert_eq!(signal_events(&api, &stack).await.get("dep_0"), Some(&1));
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn a_signal_due_while_the_server_is_unreachable_arrives_after_an_agent_stop_and_restart() {
    let proxy = FaultProxy::start(FaultPlan::none()).await.unwrap();
    let server = Server::start_behind(&proxy).await.unwrap();
    let api = server.api();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("ran.log");
    let gate = work.path().join("gate");
    let body = format!(
        "while [ ! -f {gate:?} ]; do sleep 0.1; done",
        gate = gate.display().to_string()
    );
    let stack = api
        .create_stack("down", &template(1, &log, &body), json!({}))
        .await
        .unwrap();
    let agent = api
        .start_agent(&stack, "server", work.path(), &[])
        .await
        .unwrap();
    wait_until("the hook to start", T, || log.exists()).await;
    // The server becomes unreachable while the hook runs; then the hook finishes.
    proxy.set_down(true);
    std::fs::write(&gate, "").unwrap();
    let deployed = work.path().join("server/deployed");
    let pending = || {
        std::fs::read_dir(&deployed)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().ends_with(".notify.json"))
            })
            .unwrap_or(false)
    };
    wait_until("the hook's payload", T, pending).await;
    wait_until("a failed signal attempt", T, || {
        let log = agent.log_text();
        log.contains("/temp_url/v1/signal/") && log.contains("retrying in")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The agent is stopped with the signal pending: it waits for it only briefly, then
    // exits cleanly; a new one starts while the server is still away.
    let mut agent = agent;
    let stopping = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(agent.pid().unwrap() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = agent.wait_exit(Duration::from_secs(20)).await.unwrap();
    assert_eq!(status.code(), Some(0), "{}", agent.log_text());
    assert!(stopping.elapsed() < Duration::from_secs(10));
    assert!(
        agent
            .log_text()
            .contains("stopping with signals undelivered; they are sent on the next start"),
        "{}",
        agent.log_text()
    );
    let agent = api
        .start_agent(&stack, "server", work.path(), &[])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = resource(&api, &stack, "dep_0").await;
    assert_eq!(r["resource_status"], "CREATE_IN_PROGRESS", "{r}");
    assert!(
        proxy
            .counts()
            .refused
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );

    proxy.set_down(false);
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    assert!(
        agent.log_text().contains("re-delivering pending signal"),
        "{}",
        agent.log_text()
    );
    assert_eq!(runs(&log).get("dep_0"), Some(&1));
    assert_eq!(signal_events(&api, &stack).await.get("dep_0"), Some(&1));
    let r = resource(&api, &stack, "dep_0").await;
    assert_eq!(r["attributes"]["result"], "dep_0", "{r}");
    agent.kill().await;
    server.stop().await;
}

/// The derived config ids of the deployments, by resource name, from the metadata.
async fn deployment_ids(url: &str) -> HashMap<String, String> {
    let doc: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let list = doc["deployments"]
        .as_array()
        .cloned()
        .or_else(|| doc.as_array().cloned())
        .unwrap_or_else(|| panic!("no deployments in {doc}"));
    list.iter()
        .map(|d| {
            let name = d["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == "deploy_resource_name")
                .unwrap()["value"]
                .as_str()
                .unwrap()
                .to_string();
            (name, d["id"].as_str().unwrap().to_string())
        })
        .collect()
}

/// Runs a one-deployment stack whose agent starts on a state directory that `spoil`
/// (given the state dir and the deployment's id) has tampered with; returns the failed
/// deployment, how often its hook ran and the agent's log.
async fn with_spoiled_state(
    name: &str,
    spoil: impl FnOnce(&Path, &str),
) -> (Value, HashMap<String, usize>, String) {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("ran.log");
    let stack = api
        .create_stack(name, &template(1, &log, ""), json!({}))
        .await
        .unwrap();
    api.wait_resource(&stack, "server", "CREATE_COMPLETE", T)
        .await
        .unwrap();
    let url = api.metadata_url(&stack, "server").await.unwrap();
    let ids = deployment_ids(&url).await;
    let state = work.path().join("server");
    std::fs::create_dir_all(state.join("deployed")).unwrap();
    spoil(&state, &ids["dep_0"]);

    let mut agent = Agent::start(&url, &state, &[]).unwrap();
    let failed = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        failed["stack_status"],
        "CREATE_FAILED",
        "{failed}\n{}",
        agent.log_text()
    );
    let r = resource(&api, &stack, "dep_0").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(agent.is_running(), "{}", agent.log_text());
    let agent_log = agent.log_text();
    assert!(!agent_log.contains("panicked"), "{agent_log}");
    assert!(agent_log.contains("corrupt state file"), "{agent_log}");
    assert_eq!(signal_events(&api, &stack).await.get("dep_0"), Some(&1));
    let saved = updraft_e2e::saved_collector(&state).unwrap();
    assert!(saved.to_string().contains("request"), "{saved}");
    agent.kill().await;
    server.stop().await;
    (r, runs(&log), agent_log)
}

#[tokio::test]
async fn a_garbage_collector_file_and_deployment_record_are_replaced_and_reported_failed() {
    let (r, ran, log) = with_spoiled_state("garbage-record", |state, id| {
        std::fs::write(state.join("collector.json"), "{not json").unwrap();
        // A mangled record, as if the agent died mid-hook and the disk lost the rest.
        std::fs::write(state.join(format!("deployed/{id}.json")), "\0\0garbage").unwrap();
    })
    .await;
    assert_eq!(r["attributes"]["deploy_stderr"], INTERRUPTED_MESSAGE, "{r}");
    assert!(ran.is_empty(), "the hook ran: {ran:?}");
    assert!(
        log.contains("collector.json") && log.contains("replacing it"),
        "{log}"
    );
}

#[tokio::test]
async fn a_garbage_stored_payload_is_reported_failed_not_rerun() {
    let (r, ran, _) = with_spoiled_state("garbage-payload", |state, id| {
        std::fs::write(state.join(format!("deployed/{id}.json")), "{}").unwrap();
        std::fs::write(state.join(format!("deployed/{id}.notify.json")), "[[[").unwrap();
    })
    .await;
    assert_eq!(r["attributes"]["deploy_stderr"], UNREADABLE_MESSAGE, "{r}");
    assert!(ran.is_empty(), "the hook ran: {ran:?}");
}

#[tokio::test]
async fn a_hook_printing_garbage_fails_with_its_output_kept() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start().await.unwrap();
    let api = server.api();
    let work = tempfile::tempdir().unwrap();
    let hooks = work.path().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let hook = hooks.join("garbage");
    std::fs::write(
        &hook,
        "#!/bin/sh\ncat > /dev/null\necho 'this is {not json'\necho oops >&2\nexit 2\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stack = api
        .create_stack(
            "garbage",
            &one_deployment_template("garbage", "x"),
            json!({}),
        )
        .await
        .unwrap();
    let hooks_dir = hooks.display().to_string();
    let agent = api
        .start_agent(&stack, "server", work.path(), &["--hooks-dir", &hooks_dir])
        .await
        .unwrap();
    let failed = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(failed["stack_status"], "CREATE_FAILED", "{failed}");
    let r = resource(&api, &stack, "deployment").await;
    assert_eq!(
        r["attributes"]["deploy_stdout"], "this is {not json\n",
        "{r}"
    );
    assert_eq!(r["attributes"]["deploy_stderr"], "oops\n", "{r}");
    assert_eq!(r["attributes"]["deploy_status_code"], json!(2), "{r}");
    assert!(!agent.log_text().contains("panicked"));
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn a_hanging_hook_is_killed_at_the_hook_timeout_and_reported() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let work = tempfile::tempdir().unwrap();
    let stack = api
        .create_stack(
            "hangs",
            &one_deployment_template("script", "#!/bin/sh\necho started\nsleep 600\n"),
            json!({}),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut agent = api
        .start_agent(&stack, "server", work.path(), &["--hook-timeout", "2"])
        .await
        .unwrap();
    let failed = api.wait_stack(&stack, T).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(failed["stack_status"], "CREATE_FAILED", "{failed}");
    let r = resource(&api, &stack, "deployment").await;
    assert_eq!(r["attributes"]["deploy_status_code"], json!(124), "{r}");
    assert_eq!(r["attributes"]["deploy_stdout"], "started\n", "{r}");
    let stderr = r["attributes"]["deploy_stderr"].as_str().unwrap();
    assert!(stderr.contains("timed out after 2s"), "{stderr}");
    assert!(agent.is_running(), "{}", agent.log_text());
    agent.kill().await;
    server.stop().await;
}
