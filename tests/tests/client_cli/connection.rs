//! The client CLI's connection settings (profiles, OS_* variables, Keystone), errors and
//! hints, and the commands beside `stack`: software configs, remote validation, completions.

use serde_json::Value;
use updraft_e2e::Server;

use super::support::{Cli, keystone_stand_in, run};

#[tokio::test]
async fn connection_settings_profiles_and_errors() {
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    let home = tempfile::tempdir().unwrap();
    let none: &[(&str, &str)] = &[];

    // No settings at all: what to set.
    let out = run(none, home.path(), &["stack", "list"]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no credentials: set --url/UPDRAFT_URL"),
        "{stderr}"
    );

    // The default profile in ~/.config/updraft/config.toml.
    std::fs::create_dir_all(home.path().join(".config/updraft")).unwrap();
    std::fs::write(
        home.path().join(".config/updraft/config.toml"),
        format!(
            "[profiles.default]\nurl = \"{}\"\ntoken = \"{}\"\n\n[profiles.wrong]\nurl = \"{}\"\ntoken = \"not-the-token\"\n",
            cli.url, cli.token, cli.url
        ),
    )
    .unwrap();
    let t = cli.file(
        "t.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  n: {type: OS::Heat::None}\n",
    );
    let out = run(
        none,
        home.path(),
        &["stack", "create", "p1", "-t", &t, "--wait"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        none,
        home.path(),
        &["stack", "list", "-f", "value", "-c", "stack_name"],
    )
    .await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "p1\n");

    // A named profile with a wrong token: the 401 and a hint; the token never printed.
    let out = run(none, home.path(), &["stack", "list", "--profile", "wrong"]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(HTTP 401)"), "{stderr}");
    assert!(
        stderr.contains("hint: authentication failed: check UPDRAFT_TOKEN"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-token"), "{stderr}");
    let out = run(
        none,
        home.path(),
        &["stack", "list", "--profile", "missing"],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("no profile [profiles.missing]"),
        "{stderr}"
    );

    // $XDG_CONFIG_HOME wins over ~/.config.
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(xdg.path().join("updraft")).unwrap();
    std::fs::write(
        xdg.path().join("updraft/config.toml"),
        format!(
            "[profiles.x]\nurl = \"{}\"\ntoken = \"{}\"\n",
            cli.url, cli.token
        ),
    )
    .unwrap();
    let xdg_path = xdg.path().display().to_string();
    let out = run(
        &[("XDG_CONFIG_HOME", &xdg_path), ("UPDRAFT_PROFILE", "x")],
        home.path(),
        &["stack", "list", "-f", "value", "-c", "stack_name"],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "p1\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // OS_TOKEN is taken when UPDRAFT_TOKEN is not set.
    let out = run(
        &[("UPDRAFT_URL", &cli.url), ("OS_TOKEN", &cli.token)],
        tempfile::tempdir().unwrap().path(),
        &["stack", "list", "-f", "value", "-c", "stack_name"],
    )
    .await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "p1\n");

    // Nothing listening: where it tried and what to check.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}/v1/demo");
    let out = run(
        &[("UPDRAFT_URL", &dead), ("UPDRAFT_TOKEN", "t")],
        home.path(),
        &["stack", "list"],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("hint: is the server running at {dead}?")),
        "{stderr}"
    );

    // A template the server rejects: its message.
    let bad = cli.file(
        "bad.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  x: {type: OS::Nope}\n",
    );
    let (_, stderr, ok) = cli.run(&["stack", "create", "b1", "-t", &bad]).await;
    assert!(!ok);
    assert!(
        stderr.contains("OS::Nope") && stderr.contains("(HTTP 400)"),
        "{stderr}"
    );
    server.stop().await;
}

/// A Keystone password login: the token from `X-Subject-Token`, the endpoint from the
/// catalog, then the real server accepts the token.
#[tokio::test]
async fn keystone_password_login_finds_the_orchestration_endpoint() {
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    let (auth_url, mut requests) = keystone_stand_in(server.token.clone(), cli.url.clone()).await;
    let t = cli.file(
        "t.yaml",
        "heat_template_version: 2018-08-31\nresources: {}\n",
    );
    let env = [
        ("OS_AUTH_URL", auth_url.as_str()),
        ("OS_USERNAME", "alice"),
        ("OS_PASSWORD", "s3cret-pw"),
        ("OS_PROJECT_NAME", "demo"),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
    ];
    let out = run(
        &env,
        cli.home.path(),
        &["stack", "create", "k1", "-t", &t, "--wait"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().last(),
        Some("Stack k1 CREATE_COMPLETE"),
        "{stdout}"
    );
    let (line, body) = requests.recv().await.unwrap();
    assert_eq!(line, "POST /v3/auth/tokens HTTP/1.1");
    assert_eq!(
        body["auth"]["identity"]["password"]["user"]["name"],
        "alice"
    );
    assert_eq!(
        body["auth"]["identity"]["password"]["user"]["password"],
        "s3cret-pw"
    );
    assert_eq!(
        body["auth"]["scope"]["project"],
        serde_json::json!({"name": "demo", "domain": {"name": "Default"}})
    );

    // A profile can carry the same settings (a project by id here).
    std::fs::create_dir_all(cli.home.path().join(".config/updraft")).unwrap();
    std::fs::write(
        cli.home.path().join(".config/updraft/config.toml"),
        format!(
            "[profiles.ks]\nauth_url = \"{auth_url}\"\nusername = \"bob\"\npassword = \"pw2\"\nproject_id = \"p-1\"\n"
        ),
    )
    .unwrap();
    let out = run(
        &[],
        cli.home.path(),
        &[
            "stack",
            "list",
            "--profile",
            "ks",
            "-f",
            "value",
            "-c",
            "stack_name",
        ],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "k1\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, body) = requests.recv().await.unwrap();
    assert_eq!(body["auth"]["identity"]["password"]["user"]["name"], "bob");
    assert_eq!(
        body["auth"]["scope"]["project"],
        serde_json::json!({"id": "p-1"})
    );
    server.stop().await;
}

#[tokio::test]
async fn software_configs_remote_validation_and_completions() {
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    let script = cli.file("run.sh", "#!/bin/sh\necho hi\n");
    let def = cli.file(
        "def.yaml",
        "inputs:\n  - name: who\n    type: String\noutputs:\n  - name: result\n",
    );
    let made: Value = serde_json::from_str(
        &cli.ok(&[
            "software",
            "config",
            "create",
            "cfg1",
            "--config-file",
            &script,
            "--definition-file",
            &def,
            "--group",
            "script",
            "-f",
            "json",
        ])
        .await,
    )
    .unwrap();
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["group"], "script");
    assert_eq!(made["inputs"][0]["name"], "who");
    let text = cli
        .ok(&["software", "config", "show", &id, "--config-only"])
        .await;
    assert_eq!(text, "#!/bin/sh\necho hi\n\n");
    let listed = cli
        .ok(&[
            "software", "config", "list", "-f", "value", "-c", "id", "-c", "name",
        ])
        .await;
    assert_eq!(listed, format!("{id} cfg1\n"));
    cli.ok(&["software", "config", "delete", &id]).await;
    let (_, stderr, ok) = cli.run(&["software", "config", "show", &id]).await;
    assert!(!ok && stderr.contains("(HTTP 404)"), "{stderr}");

    // A server's deployments metadata, as its agent sees it.
    let t = cli.file(
        "dep.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  server: {type: OS::Heat::DeployedServer}\n  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties: {group: script, config: echo}\n  dep:\n    type: OS::Heat::SoftwareDeployment\n    properties: {config: {get_resource: cfg}, server: {get_resource: server}}\n",
    );
    cli.ok(&["stack", "create", "d1", "-t", &t]).await;
    let started = std::time::Instant::now();
    let server_id = cli
        .ok(&[
            "stack",
            "resource",
            "show",
            "d1",
            "server",
            "-f",
            "value",
            "-c",
            "physical_resource_id",
        ])
        .await
        .trim()
        .to_string();
    loop {
        let md = cli
            .ok(&["software", "deployment", "metadata", "show", &server_id])
            .await;
        let md: Value = serde_json::from_str(&md).unwrap();
        if md.as_array().is_some_and(|a| !a.is_empty()) {
            assert_eq!(md[0]["group"], "script", "{md}");
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "{md}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // template validate --remote: the server's view; a bad one exits 1 with its message.
    let good = cli.file(
        "good.yaml",
        "heat_template_version: 2018-08-31\ndescription: checked remotely\nparameters:\n  n: {type: number, default: 3}\nresources: {}\n",
    );
    let out: Value = serde_json::from_str(
        &cli.ok(&["template", "validate", &good, "--remote", "-f", "json"])
            .await,
    )
    .unwrap();
    assert_eq!(out["Description"], "checked remotely");
    assert_eq!(out["Parameters"]["n"]["Type"], "Number");
    let bad = cli.file(
        "bad.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  x: {type: OS::Nope}\n",
    );
    let (stdout, stderr, ok) = cli
        .run(&["template", "validate", "-t", &bad, "--remote"])
        .await;
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("OS::Nope") && stderr.contains("(HTTP 400)"),
        "{stderr}"
    );
    // The offline check is still there.
    let (stdout, _, ok) = cli.run(&["template", "validate", "-t", &good]).await;
    assert!(ok && stdout.trim() == "OK", "{stdout}");

    // Shell completions.
    let bash = cli.ok(&["completions", "bash"]).await;
    assert!(
        bash.contains("_updraft()") && bash.contains("stack"),
        "{}",
        &bash[..200.min(bash.len())]
    );
    let zsh = cli.ok(&["completions", "zsh"]).await;
    assert!(
        zsh.starts_with("#compdef updraft"),
        "{}",
        &zsh[..100.min(zsh.len())]
    );
    let fish = cli.ok(&["completions", "fish"]).await;
    assert!(
        fish.contains("complete -c updraft"),
        "{}",
        &fish[..100.min(fish.len())]
    );
    server.stop().await;
}
