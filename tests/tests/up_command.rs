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
