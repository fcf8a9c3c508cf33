//! Multi-project identity end to end: `updraft admin` projects and users, Keystone v3
//! tokens as keystoneauth1 and heatclient use them, project isolation on the native API,
//! roles, token expiry and revocation, the password lockout and Heat's password mode.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use updraft_e2e::openstack::project_user;
use updraft_e2e::{Api, Backend, Server, postgres_available};

const TEMPLATE: &str = r#"
heat_template_version: 2018-08-31
resources:
  secret:
    type: OS::Heat::RandomString
    properties:
      length: 8
outputs:
  value:
    value: {get_attr: [secret, value]}
"#;

/// Runs `updraft admin` and returns its stdout; fails the test when it fails.
async fn admin(server: &Server, args: &[&str]) -> String {
    let out = server.admin(args).await.unwrap();
    assert!(
        out.status.success(),
        "updraft admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The value of row `key` in a `Field | Value` table.
fn field(table: &str, key: &str) -> String {
    table
        .lines()
        .find_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() >= 3 && cells[1] == key).then(|| cells[2].to_string())
        })
        .unwrap_or_else(|| panic!("no {key} in {table}"))
}

/// Creates project `project` (unless it exists) and a user in it; returns the project id.
async fn user(server: &Server, project: &str, name: &str, role: &str, password: &str) -> String {
    project_user(server, project, name, role, password)
        .await
        .unwrap()
}

/// `POST /v3/auth/tokens` with the password method by user name, scoped by project name.
async fn login(server: &Server, name: &str, project: &str, password: &str) -> (StatusCode, String) {
    let body = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": name, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}},
    }});
    let resp = reqwest::Client::new()
        .post(format!("{}/v3/auth/tokens", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let token = resp
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, token)
}

/// An API client acting as `name` of `project` (by id) with a fresh token.
async fn client(server: &Server, name: &str, project: &str, project_id: &str, pw: &str) -> Api {
    let (status, token) = login(server, name, project, pw).await;
    assert_eq!(status, StatusCode::CREATED, "login {name}");
    Api {
        token,
        project: project_id.to_string(),
        ..server.api()
    }
}

fn python() -> String {
    std::env::var("UPDRAFT_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[tokio::test]
async fn admin_cli_creates_lists_and_deletes_projects_and_users() {
    let server = Server::start().await.unwrap();
    let created = admin(&server, &["project", "create", "alpha"]).await;
    let id = field(&created, "id");
    assert_eq!(id.len(), 32, "{created}");
    assert_eq!(field(&created, "name"), "alpha");
    let again = server.admin(&["project", "create", "alpha"]).await.unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let listed = admin(&server, &["project", "list"]).await;
    assert!(listed.contains("| ID ") && listed.contains(&id), "{listed}");

    let u = admin(
        &server,
        &[
            "user",
            "create",
            "ann",
            "--project",
            "alpha",
            "--role",
            "reader",
            "--password",
            "pw",
        ],
    )
    .await;
    assert_eq!(field(&u, "role"), "reader");
    assert_eq!(field(&u, "project_id"), id);
    let bad_role = server
        .admin(&[
            "user",
            "create",
            "bob",
            "--project",
            "alpha",
            "--role",
            "owner",
            "--password",
            "pw",
        ])
        .await
        .unwrap();
    assert!(!bad_role.status.success());
    let users = admin(&server, &["user", "list", "--project", "alpha"]).await;
    let row = users.lines().find(|l| l.contains("| ann ")).unwrap();
    assert!(
        row.contains("| alpha ") && row.contains("| reader "),
        "{users}"
    );
    let deleted = admin(&server, &["user", "delete", "ann", "--project", "alpha"]).await;
    assert!(deleted.starts_with("Deleted user ann"), "{deleted}");
    assert!(!admin(&server, &["user", "list"]).await.contains("| ann "));
    // A project with a stack is not deleted (its stack would be out of everyone's reach).
    let api = Api {
        project: id.clone(),
        ..server.api()
    };
    let stack = api.create_stack("kept", TEMPLATE, json!({})).await.unwrap();
    api.wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    let refused = server.admin(&["project", "delete", "alpha"]).await.unwrap();
    assert!(!refused.status.success());
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim(),
        "updraft: project alpha still has 1 stack(s): kept; delete them first"
    );
    assert!(admin(&server, &["project", "list"]).await.contains(&id));
    let (status, _) = api.call(Method::DELETE, &stack, None).await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    api.wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    admin(&server, &["project", "delete", "alpha"]).await;
    assert!(!admin(&server, &["project", "list"]).await.contains(&id));
    server.stop().await;
}

#[tokio::test]
async fn keystoneauth_and_heatclient_list_the_projects_stacks() {
    let server = Server::start().await.unwrap();
    let pid = user(&server, "alpha", "ann", "member", "s3cret").await;
    let api = client(&server, "ann", "alpha", &pid, "s3cret").await;
    let path = api.create_stack("mine", TEMPLATE, json!({})).await.unwrap();
    api.wait_stack(&path, Duration::from_secs(60))
        .await
        .unwrap();
    let script = r#"
import os
from keystoneauth1 import session
from keystoneauth1.identity import v3
from heatclient import client
auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
    password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"],
    user_domain_name=os.environ["OS_USER_DOMAIN_NAME"],
    project_domain_name=os.environ["OS_PROJECT_DOMAIN_NAME"])
sess = session.Session(auth=auth)
heat = client.Client("1", session=sess)
print("project", sess.get_project_id())
for s in heat.stacks.list():
    print("stack", s.stack_name, s.stack_status)
"#;
    let out = tokio::process::Command::new(python())
        .args(["-c", script])
        .env("OS_AUTH_URL", format!("{}/v3", server.base))
        .env("OS_USERNAME", "ann")
        .env("OS_PASSWORD", "s3cret")
        .env("OS_PROJECT_NAME", "alpha")
        .env("OS_USER_DOMAIN_NAME", "Default")
        .env("OS_PROJECT_DOMAIN_NAME", "Default")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("project {pid}")), "{stdout}");
    assert!(stdout.contains("stack mine CREATE_COMPLETE"), "{stdout}");
    server.stop().await;
}

#[tokio::test]
async fn a_project_sees_nothing_of_another() {
    let server = Server::start().await.unwrap();
    let a_id = user(&server, "proj-a", "alice", "member", "pa").await;
    let b_id = user(&server, "proj-b", "bob", "member", "pb").await;
    let a = client(&server, "alice", "proj-a", &a_id, "pa").await;
    let b = client(&server, "bob", "proj-b", &b_id, "pb").await;
    let b_path = b.create_stack("bstack", TEMPLATE, json!({})).await.unwrap();
    b.wait_stack(&b_path, Duration::from_secs(60))
        .await
        .unwrap();
    let (status, config) = b
        .call(
            Method::POST,
            "/software_configs",
            Some(json!({"name": "bconf", "group": "script", "config": "echo hi"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{config}");
    let config_id = config["software_config"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // B's own path: 403 whatever the endpoint.
    let b_as_a = Api {
        project: b_id.clone(),
        ..a.clone()
    };
    for (method, path) in [
        (Method::GET, "/stacks".to_string()),
        (Method::GET, b_path.clone()),
        (Method::DELETE, b_path.clone()),
        (Method::GET, format!("/software_configs/{config_id}")),
    ] {
        let (status, body) = b_as_a.call(method.clone(), &path, None).await.unwrap();
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        assert_eq!(body["error"]["type"], "Forbidden", "{body}");
    }

    // B's objects through A's path: 404, and nothing changes.
    let name = "/stacks/bstack";
    let update = json!({"template": TEMPLATE, "parameters": {}});
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, name.to_string(), None),
        (Method::GET, b_path.clone(), None),
        (Method::PUT, b_path.clone(), Some(update.clone())),
        (
            Method::PATCH,
            b_path.clone(),
            Some(json!({"parameters": {}})),
        ),
        (Method::DELETE, b_path.clone(), None),
        (Method::GET, format!("{b_path}/resources"), None),
        (Method::GET, format!("{b_path}/resources/secret"), None),
        (
            Method::GET,
            format!("{b_path}/resources/secret/metadata"),
            None,
        ),
        (
            Method::POST,
            format!("{b_path}/resources/secret/signal"),
            Some(json!({})),
        ),
        (
            Method::PATCH,
            format!("{b_path}/resources/secret"),
            Some(json!({"mark_unhealthy": true})),
        ),
        (
            Method::GET,
            format!("{b_path}/resources/secret/events"),
            None,
        ),
        (Method::GET, format!("{b_path}/events"), None),
        (Method::GET, format!("{b_path}/outputs"), None),
        (Method::GET, format!("{b_path}/outputs/value"), None),
        (Method::GET, format!("{b_path}/template"), None),
        (Method::GET, format!("{b_path}/environment"), None),
        (Method::GET, format!("{b_path}/files"), None),
        (
            Method::POST,
            format!("{b_path}/actions"),
            Some(json!({"suspend": null})),
        ),
        (
            Method::PUT,
            format!("{b_path}/preview"),
            Some(update.clone()),
        ),
        (Method::GET, format!("/software_configs/{config_id}"), None),
        (
            Method::DELETE,
            format!("/software_configs/{config_id}"),
            None,
        ),
    ];
    assert!(cases.len() >= 15);
    for (method, path, body) in cases {
        let (status, reply) = a.call(method.clone(), &path, body).await.unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {reply}");
    }
    let (_, listed) = a.get("/stacks").await.unwrap();
    assert_eq!(listed["stacks"], json!([]), "{listed}");
    let (_, configs) = a.get("/software_configs").await.unwrap();
    assert_eq!(configs["software_configs"], json!([]), "{configs}");

    // B still has its stack, unchanged, and its config.
    let (status, shown) = b.get(&b_path).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["stack"]["stack_status"], "CREATE_COMPLETE", "{shown}");
    let (status, _) = b
        .get(&format!("/software_configs/{config_id}"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn readers_read_and_members_are_not_admins() {
    let server = Server::start().await.unwrap();
    let pid = user(&server, "gamma", "rita", "reader", "pr").await;
    user(&server, "gamma", "mike", "member", "pm").await;
    let other = user(&server, "delta", "ada", "admin", "pa").await;
    let reader = client(&server, "rita", "gamma", &pid, "pr").await;
    let member = client(&server, "mike", "gamma", &pid, "pm").await;
    let adm = client(&server, "ada", "delta", &other, "pa").await;

    let path = member.create_stack("s", TEMPLATE, json!({})).await.unwrap();
    member
        .wait_stack(&path, Duration::from_secs(60))
        .await
        .unwrap();
    let (status, _) = reader.get("/stacks").await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let (status, _) = reader.get(&path).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let (status, body) = reader
        .call(
            Method::POST,
            "/stacks",
            Some(json!({"stack_name": "r", "template": TEMPLATE})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = reader.call(Method::DELETE, &path, None).await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = member.get("/services").await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = member.get("/stacks?global_tenant=true").await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = member.get("/stacks?global_tenant=false").await.unwrap();
    assert_eq!(status, StatusCode::OK);

    // An admin user reaches admin-only endpoints and other projects.
    let (status, _) = adm.get("/services").await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let adm_in_gamma = Api {
        project: pid.clone(),
        ..adm.clone()
    };
    let (status, shown) = adm_in_gamma.get(&path).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{shown}");
    server.stop().await;
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refused() {
    let server = Server::start_with(Backend::Sqlite, &["--token-lifetime", "1"])
        .await
        .unwrap();
    let pid = user(&server, "eps", "eve", "member", "pe").await;
    let api = client(&server, "eve", "eps", &pid, "pe").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = api.get("/stacks").await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    server.stop().await;

    let server = Server::start().await.unwrap();
    let pid = user(&server, "eps", "eve", "member", "pe").await;
    let api = client(&server, "eve", "eps", &pid, "pe").await;
    let (status, _) = api.get("/stacks").await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let http = reqwest::Client::new();
    let v3 = format!("{}/v3/auth/tokens", server.base);
    let validated = http
        .get(&v3)
        .header("X-Auth-Token", &server.token)
        .header("X-Subject-Token", &api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(validated.status(), StatusCode::OK);
    let body: Value = validated.json().await.unwrap();
    assert_eq!(body["token"]["project"]["id"], pid.as_str(), "{body}");
    assert_eq!(body["token"]["roles"][0]["name"], "member", "{body}");
    // The token method and an unscoped password request both give the user's project.
    let renewed = http
        .post(&v3)
        .json(&json!({"auth": {"identity": {"methods": ["token"], "token": {"id": api.token}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(renewed.status(), StatusCode::CREATED);
    let renewed_token = renewed.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(renewed_token, api.token);
    let body: Value = renewed.json().await.unwrap();
    assert_eq!(body["token"]["methods"], json!(["token"]), "{body}");
    assert_eq!(body["token"]["project"]["name"], "eps", "{body}");
    let unscoped = http
        .post(&v3)
        .json(
            &json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "eve", "domain": {"id": "default"}, "password": "pe"}}}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unscoped.status(), StatusCode::CREATED);
    let body: Value = unscoped.json().await.unwrap();
    assert_eq!(body["token"]["project"]["id"], pid.as_str(), "{body}");
    let catalog = body["token"]["catalog"].as_array().unwrap();
    let orchestration = catalog
        .iter()
        .find(|s| s["type"] == "orchestration")
        .unwrap();
    assert_eq!(orchestration["endpoints"].as_array().unwrap().len(), 3);
    assert_eq!(
        orchestration["endpoints"][0]["url"],
        format!("{}/v1/{pid}", server.base)
    );
    // Another project's scope is refused.
    let elsewhere = http
        .post(&v3)
        .json(&json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": "eve", "password": "pe"}}},
            "scope": {"project": {"id": "someone-else"}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::UNAUTHORIZED);
    let revoked = http
        .delete(&v3)
        .header("X-Auth-Token", &api.token)
        .header("X-Subject-Token", &api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let (status, _) = api.get("/stacks").await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let gone = http
        .get(&v3)
        .header("X-Auth-Token", &server.token)
        .header("X-Subject-Token", &api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn ten_bad_passwords_lock_the_user_out() {
    let server = Server::start().await.unwrap();
    user(&server, "zeta", "zed", "member", "right").await;
    for attempt in 1..=20 {
        let (status, _) = login(&server, "zed", "zeta", "wrong").await;
        let expected = if attempt <= 10 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(status, expected, "attempt {attempt}");
    }
    // Even the right password, by either route, until the window passes.
    let (status, _) = login(&server, "zed", "zeta", "right").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let resp = reqwest::Client::new()
        .get(format!("{}/v1/any/stacks", server.base))
        .header("X-Auth-User", "zed")
        .header("X-Auth-Key", "right")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], 429, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn lockout_window_passes() {
    let server = Server::start_with(
        Backend::Sqlite,
        &["--lockout-failures", "2", "--lockout-seconds", "4"],
    )
    .await
    .unwrap();
    user(&server, "eta", "ed", "member", "right").await;
    for _ in 0..2 {
        assert_eq!(
            login(&server, "ed", "eta", "wrong").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&server, "ed", "eta", "right").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(Duration::from_millis(4200)).await;
    assert_eq!(
        login(&server, "ed", "eta", "right").await.0,
        StatusCode::CREATED
    );
    server.stop().await;
}

#[tokio::test]
async fn heat_password_mode_authenticates_by_user_name() {
    let server = Server::start().await.unwrap();
    let pid = user(&server, "theta", "tom", "member", "pt").await;
    let other = user(&server, "iota", "ivy", "member", "pi").await;
    let http = reqwest::Client::new();
    let get = |project: &str, key: &str| {
        http.get(format!("{}/v1/{project}/stacks", server.base))
            .header("X-Auth-User", "tom")
            .header("X-Auth-Key", key)
            .header("X-Auth-Url", format!("{}/v3", server.base))
            .send()
    };
    assert_eq!(get(&pid, "pt").await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        get(&pid, "nope").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&other, "pt").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // A stack made this way belongs to the user's project.
    let created = http
        .post(format!("{}/v1/{pid}/stacks", server.base))
        .header("X-Auth-User", "tom")
        .header("X-Auth-Key", "pt")
        .json(&json!({"stack_name": "pw", "template": TEMPLATE}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let ivy = client(&server, "ivy", "iota", &other, "pi").await;
    let (_, listed) = ivy.get("/stacks").await.unwrap();
    assert_eq!(listed["stacks"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn identity_on_postgres() {
    if !postgres_available() {
        eprintln!("skipped: no PostgreSQL");
        return;
    }
    let server = Server::start_with(Backend::Postgres, &[]).await.unwrap();
    let a_id = user(&server, "pg-a", "pa", "member", "x1").await;
    let b_id = user(&server, "pg-b", "pb", "member", "x2").await;
    let a = client(&server, "pa", "pg-a", &a_id, "x1").await;
    let b = client(&server, "pb", "pg-b", &b_id, "x2").await;
    let path = b.create_stack("pgs", TEMPLATE, json!({})).await.unwrap();
    b.wait_stack(&path, Duration::from_secs(60)).await.unwrap();
    let (status, _) = a.get(&path).await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = Api {
        project: b_id.clone(),
        ..a.clone()
    }
    .get("/stacks")
    .await
    .unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(admin(&server, &["user", "list"]).await.contains("| pa "));
    // The lockout counts failures in the database: two nodes share one limit.
    let other = server.start_sharing(&[]).await.unwrap();
    for attempt in 1..=10 {
        let node = if attempt % 2 == 0 { &server } else { &other };
        let (status, _) = login(node, "pa", "pg-a", "bad").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    for node in [&server, &other] {
        let (status, _) = login(node, "pa", "pg-a", "x1").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    other.stop().await;
    server.stop().await;
}
