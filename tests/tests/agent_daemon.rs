//! The agent as a daemon: systemd notifications, SIGTERM (a running hook gets the stop
//! grace, then is killed and reported failed on the next start) and SIGHUP (reload, poll
//! again at once), with real `updraft-agent` (and `updraft server`) processes.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use updraft_agent::state::INTERRUPTED_MESSAGE;
use updraft_e2e::{Agent, Server, one_deployment_template};

const T: Duration = Duration::from_secs(60);

fn send(agent: &Agent, signal: Signal) {
    let pid = agent.pid().unwrap();
    kill(Pid::from_raw(pid as i32), signal).unwrap();
}

/// A metadata URL nothing listens on.
fn unreachable_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/temp_url/v1/metadata/x?temp_url_sig=s")
}

#[tokio::test]
async fn systemd_hears_ready_watchdog_pings_and_stopping() {
    let work = tempfile::tempdir().unwrap();
    let socket_path = work.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let socket_env = socket_path.display().to_string();
    let mut agent = Agent::start_env(
        &unreachable_url(),
        &work.path().join("agent"),
        &[],
        &[("NOTIFY_SOCKET", &socket_env), ("WATCHDOG_USEC", "400000")],
    )
    .unwrap();

    let mut messages: Vec<String> = Vec::new();
    let receive = |messages: &mut Vec<String>| {
        let mut buf = [0u8; 4096];
        if let Ok(n) = socket.recv(&mut buf) {
            messages.push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
    };
    let start = Instant::now();
    while !(messages.iter().any(|m| m.contains("READY=1"))
        && messages.iter().filter(|m| m.contains("WATCHDOG=1")).count() >= 3)
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{messages:?}\n{}",
            agent.log_text()
        );
        receive(&mut messages);
    }
    let ready = messages.iter().find(|m| m.contains("READY=1")).unwrap();
    assert!(
        ready.contains("STATUS=polling with the request collector"),
        "{ready}"
    );
    // Pings every 200 ms (half of WATCHDOG_USEC): three take well under 2 s.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );

    send(&agent, Signal::SIGTERM);
    let status = agent.wait_exit(Duration::from_secs(10)).await.unwrap();
    assert_eq!(status.code(), Some(0), "{}", agent.log_text());
    for _ in 0..10 {
        receive(&mut messages);
    }
    assert!(
        messages.iter().any(|m| m.contains("STOPPING=1")),
        "{messages:?}"
    );
}

#[tokio::test]
async fn without_notify_socket_sigterm_stops_cleanly_with_exit_code_zero() {
    let work = tempfile::tempdir().unwrap();
    let mut agent = Agent::start(&unreachable_url(), &work.path().join("agent"), &[]).unwrap();
    agent.wait_log("agent started", T).await;
    send(&agent, Signal::SIGTERM);
    let status = agent.wait_exit(Duration::from_secs(10)).await.unwrap();
    assert_eq!(status.code(), Some(0), "{}", agent.log_text());
    let log = agent.log_text();
    assert!(log.contains("SIGTERM received; stopping"), "{log}");
    assert!(log.contains("agent stopped"), "{log}");
}

/// A stack of one script deployment running `body` after writing its pid to `pid_file`
/// (and a line to `<pid_file>.runs`).
fn one_script(pid_file: &Path, body: &str) -> String {
    let pid = pid_file.display();
    one_deployment_template(
        "script",
        &format!("#!/bin/sh\necho $$ > '{pid}'\necho ran >> '{pid}.runs'\n{body}\n"),
    )
}

/// Processes of group `pgid` that still run (zombies awaiting their reaper do not count).
fn live_members(pgid: i32) -> Vec<String> {
    let mut live = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …: split after the command, which may hold spaces.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2) == Some(&pgid.to_string().as_str()) && fields.first() != Some(&"Z") {
            live.push(stat);
        }
    }
    live
}

async fn wait_file(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < T, "{} never appeared", path.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn sigterm_lets_a_running_hook_finish_within_the_grace_and_delivers_its_signal() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let work = tempfile::tempdir().unwrap();
    let pid_file = work.path().join("hook.pid");
    let stack = api
        .create_stack(
            "graceful",
            &one_script(&pid_file, "sleep 2\necho finished"),
            json!({}),
        )
        .await
        .unwrap();
    let mut agent = api
        .start_agent(&stack, "server", work.path(), &["--stop-grace", "20"])
        .await
        .unwrap();
    wait_file(&pid_file).await;
    send(&agent, Signal::SIGTERM);
    let status = agent.wait_exit(Duration::from_secs(20)).await.unwrap();
    assert_eq!(status.code(), Some(0), "{}", agent.log_text());
    let log = agent.log_text();
    assert!(
        log.contains("the running hook finished within the stop grace"),
        "{log}"
    );
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}\n{log}");
    let (_, r) = api
        .get(&format!("{stack}/resources/deployment"))
        .await
        .unwrap();
    assert_eq!(r["resource"]["attributes"]["deploy_stdout"], "finished\n");
    server.stop().await;
}

#[tokio::test]
async fn sigterm_past_the_grace_kills_the_hook_and_the_next_start_reports_it_failed() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let work = tempfile::tempdir().unwrap();
    let pid_file = work.path().join("hook.pid");
    let stack = api
        .create_stack("impatient", &one_script(&pid_file, "sleep 120"), json!({}))
        .await
        .unwrap();
    let mut agent = api
        .start_agent(&stack, "server", work.path(), &["--stop-grace", "1"])
        .await
        .unwrap();
    wait_file(&pid_file).await;
    let hook: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let stopped = Instant::now();
    send(&agent, Signal::SIGTERM);
    let status = agent.wait_exit(Duration::from_secs(15)).await.unwrap();
    assert_eq!(status.code(), Some(0), "{}", agent.log_text());
    assert!(stopped.elapsed() < Duration::from_secs(10));
    let log = agent.log_text();
    assert!(
        log.contains("stop grace over: killed the running hook"),
        "{log}"
    );
    // The hook's whole process group is gone.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        live_members(hook).is_empty(),
        "the hook's process group survived: {:?}",
        live_members(hook)
    );
    let (_, r) = api
        .get(&format!("{stack}/resources/deployment"))
        .await
        .unwrap();
    assert_eq!(r["resource"]["resource_status"], "CREATE_IN_PROGRESS");

    let agent = api
        .start_agent(&stack, "server", work.path(), &[])
        .await
        .unwrap();
    let failed = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(failed["stack_status"], "CREATE_FAILED", "{failed}");
    let (_, r) = api
        .get(&format!("{stack}/resources/deployment"))
        .await
        .unwrap();
    assert_eq!(
        r["resource"]["attributes"]["deploy_stderr"],
        INTERRUPTED_MESSAGE
    );
    let runs = std::fs::read_to_string(pid_file.with_extension("pid.runs")).unwrap();
    assert_eq!(runs.lines().count(), 1, "the hook ran again");
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn sighup_reloads_and_polls_again_at_once_without_stopping() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = r#"
heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
    properties: {software_config_transport: POLL_TEMP_URL}
"#;
    let stack = api.create_stack("hup", template, json!({})).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    api.wait_resource(&stack, "server", "CREATE_COMPLETE", T)
        .await
        .unwrap();
    let url = api.metadata_url(&stack, "server").await.unwrap();
    // RUST_LOG empty counts as unset: --debug alone decides.
    let mut agent = Agent::start_env(
        &url,
        &work.path().join("agent"),
        &["--poll-interval", "600", "--long-poll", "0", "--debug"],
        &[("RUST_LOG", "")],
    )
    .unwrap();
    // The first document is a change, polled again at once; then the agent sleeps 600 s.
    agent.wait_log("changed=false", T).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let polls = |agent: &Agent| agent.log_text().matches("metadata polled").count();
    let idle = polls(&agent);
    for n in idle + 1..=idle + 2 {
        send(&agent, Signal::SIGHUP);
        let start = Instant::now();
        while polls(&agent) < n {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "no poll after SIGHUP:\n{}",
                agent.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(
        agent
            .log_text()
            .contains("SIGHUP: collector settings unchanged; polling again now"),
        "{}",
        agent.log_text()
    );
    assert!(agent.is_running(), "{}", agent.log_text());
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn sighup_switches_to_collector_settings_edited_in_the_state_dir() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let idle = api
        .create_stack(
            "idle",
            &one_deployment_template("Heat::Ungrouped", ""),
            json!({}),
        )
        .await
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut agent = api
        .start_agent(
            &idle,
            "server",
            work.path(),
            &["--poll-interval", "600", "--long-poll", "0"],
        )
        .await
        .unwrap();
    agent.wait_log("new metadata", T).await;
    // Another server's metadata, written into the saved settings by an operator.
    let busy = api
        .create_stack(
            "busy",
            &one_deployment_template("script", "#!/bin/sh\necho moved\n"),
            json!({}),
        )
        .await
        .unwrap();
    api.wait_resource(&busy, "server", "CREATE_COMPLETE", T)
        .await
        .unwrap();
    let from = api.metadata_url(&idle, "server").await.unwrap();
    let to = api.metadata_url(&busy, "server").await.unwrap();
    let saved = work.path().join("server/collector.json");
    let text = std::fs::read_to_string(&saved).unwrap();
    let quoted = |u: &str| serde_json::to_string(u).unwrap();
    assert!(text.contains(&quoted(&from)), "{text}");
    std::fs::write(&saved, text.replace(&quoted(&from), &quoted(&to))).unwrap();

    send(&agent, Signal::SIGHUP);
    let done = api.wait_stack(&busy, T).await.unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    agent
        .wait_log("SIGHUP: reloaded the saved collector settings", T)
        .await;
    assert!(agent.is_running(), "{}", agent.log_text());
    agent.kill().await;
    server.stop().await;
}
