//! A Keystone password login against the real server's `/v3`: a user made with `updraft
//! admin user create`, the `OS_*` variables, the orchestration endpoint from the catalog.

use updraft_e2e::Server;

use super::support::{Cli, run};

/// Runs `updraft admin ARGS` on the server's database; fails the test when it fails.
async fn admin(server: &Server, args: &[&str]) -> String {
    let out = server.admin(args).await.unwrap();
    assert!(
        out.status.success(),
        "updraft admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn password_login_against_the_real_server() {
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    admin(&server, &["project", "create", "kproj"]).await;
    admin(
        &server,
        &[
            "user",
            "create",
            "kuser",
            "--project",
            "kproj",
            "--role",
            "member",
            "--password",
            "right-pw-123",
        ],
    )
    .await;
    let t = cli.file(
        "t.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  n: {type: OS::Heat::None}\n",
    );
    let auth_url = format!("{}/v3", server.base);
    let env = |password: &'static str| {
        vec![
            ("OS_AUTH_URL", auth_url.clone()),
            ("OS_USERNAME", "kuser".to_string()),
            ("OS_PASSWORD", password.to_string()),
            ("OS_PROJECT_NAME", "kproj".to_string()),
            ("OS_USER_DOMAIN_NAME", "Default".to_string()),
            ("OS_PROJECT_DOMAIN_NAME", "Default".to_string()),
        ]
    };
    let good = env("right-pw-123");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let out = run(
        &good,
        cli.home.path(),
        &["stack", "create", "ks1", "-t", &t, "--wait"],
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
        Some("Stack ks1 CREATE_COMPLETE"),
        "{stdout}"
    );
    let out = run(
        &good,
        cli.home.path(),
        &["stack", "list", "-f", "value", "-c", "stack_name"],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ks1\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The stack is in the user's project, not in the admin's `demo`.
    let (_, demo_stderr, ok) = cli.run(&["stack", "show", "ks1"]).await;
    assert!(!ok, "ks1 visible in demo");
    assert!(demo_stderr.contains("(HTTP 404)"), "{demo_stderr}");

    // A wrong password: exit 1, the server's message and a hint, never the password.
    let bad = env("wrong-pw-456");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run(&bad, cli.home.path(), &["stack", "list"]).await;
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "Keystone login failed: The request you have made requires authentication. (HTTP 401)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: check OS_USERNAME / OS_PASSWORD"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wrong-pw-456") && !stdout.contains("wrong-pw-456"),
        "{stdout}{stderr}"
    );
    server.stop().await;
}
