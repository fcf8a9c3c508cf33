//! `updraft up`: the README's run command, on the example templates.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::process::Command;

use updraft_e2e::{binary, repo_root};

#[test]
fn up_runs_hello_world_and_prints_outputs() {
    let out = Command::new(binary("updraft"))
        .args(["up", "templates/hello-world.yaml", "-P", "name=Updraft"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("hello-world: CREATE_COMPLETE"), "{stdout}");
    assert!(stdout.contains("greeting: Hello, Updraft!"), "{stdout}");
    assert!(stdout.contains("status_code: 0"), "{stdout}");
    assert!(
        stdout.contains("[deployment]: SIGNAL_IN_PROGRESS  Signal: deployment"),
        "{stdout}"
    );
}

#[test]
fn up_exits_non_zero_with_the_reason_when_the_stack_fails() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("fails.yaml");
    std::fs::write(
        &template,
        "heat_template_version: 2018-08-31\nresources:\n  server:\n    type: OS::Heat::DeployedServer\n  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      group: script\n      config: \"#!/bin/sh\\nexit 3\\n\"\n  dep:\n    type: OS::Heat::SoftwareDeployment\n    properties: {config: {get_resource: cfg}, server: {get_resource: server}}\n",
    )
    .unwrap();
    let out = Command::new(binary("updraft"))
        .arg("up")
        .arg(&template)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("fails: CREATE_FAILED"), "{stdout}");
    assert!(
        stderr.contains("Deployment to server failed: deploy_status_code : Deployment exited with non-zero status code: 3"),
        "{stderr}"
    );
}

#[test]
fn up_starts_agents_for_cfn_and_heat_polled_servers() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("transports.yaml");
    let server = |name: &str, transport: &str| {
        format!(
            "  {name}:\n    type: OS::Heat::DeployedServer\n    properties: {{software_config_transport: {transport}}}\n"
        )
    };
    let deployment = |name: &str, server: &str, signal: &str| {
        format!(
            "  {name}:\n    type: OS::Heat::SoftwareDeployment\n    properties: {{config: {{get_resource: cfg}}, server: {{get_resource: {server}}}, signal_transport: {signal}}}\n"
        )
    };
    std::fs::write(
        &template,
        format!(
            "heat_template_version: 2018-08-31\nresources:\n{}{}  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      group: script\n      outputs: [{{name: result}}]\n      config: \"#!/bin/sh\\nprintf '%s' \\\"$deploy_server_id\\\" > $heat_outputs_path.result\\n\"\n{}{}outputs:\n  cfn: {{value: {{get_attr: [on_cfn, result]}}}}\n  heat: {{value: {{get_attr: [on_heat, result]}}}}\n",
            server("cfn_server", "POLL_SERVER_CFN"),
            server("heat_server", "POLL_SERVER_HEAT"),
            deployment("on_cfn", "cfn_server", "CFN_SIGNAL"),
            deployment("on_heat", "heat_server", "HEAT_SIGNAL"),
        ),
    )
    .unwrap();
    let out = Command::new(binary("updraft"))
        .arg("up")
        .arg(&template)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("transports: CREATE_COMPLETE"), "{stdout}");
    for key in ["cfn", "heat"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("no {key} output in {stdout}"));
        assert!(line.len() > key.len() + 10, "{line}");
    }
}
