//! What the client CLI tests share: running `updraft` with a clean environment, a
//! per-test directory for templates, and a Keystone stand-in.

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use updraft_e2e::{Server, binary};

/// Runs `updraft ARGS` with `env` (UPDRAFT_URL/UPDRAFT_TOKEN and friends), an empty HOME
/// and none of the caller's OS_* or XDG settings.
pub async fn run(env: &[(&str, &str)], home: &Path, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(binary("updraft"));
    cmd.args(args)
        .env("HOME", home)
        .env("UPDRAFT_POLL_MS", "100")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("UPDRAFT_URL")
        .env_remove("UPDRAFT_TOKEN")
        .env_remove("UPDRAFT_PROFILE");
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::null());
    cmd.output().await.unwrap()
}

/// The CLI pointed at one server, with its own HOME and file directory.
pub struct Cli {
    /// `UPDRAFT_URL`.
    pub url: String,
    /// `UPDRAFT_TOKEN`.
    pub token: String,
    /// An empty HOME.
    pub home: tempfile::TempDir,
    dir: tempfile::TempDir,
}

impl Cli {
    /// For `server`.
    pub fn new(server: &Server) -> Self {
        Cli {
            url: format!("{}/v1/demo", server.base),
            token: server.token.clone(),
            home: tempfile::tempdir().unwrap(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// `updraft ARGS` against the server; returns (stdout, stderr, success).
    pub async fn run(&self, args: &[&str]) -> (String, String, bool) {
        let out = run(
            &[("UPDRAFT_URL", &self.url), ("UPDRAFT_TOKEN", &self.token)],
            self.home.path(),
            args,
        )
        .await;
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.success(),
        )
    }

    /// Like `run`, asserting success; returns stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let (stdout, stderr, ok) = self.run(args).await;
        assert!(
            ok,
            "updraft {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        stdout
    }

    /// Writes a file in the test's directory; returns its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

/// A Keystone stand-in (not part of Updraft): answers `POST /v3/auth/tokens` with
/// `token` in `X-Subject-Token` and a catalog whose public orchestration endpoint is
/// `endpoint`; sends each request body it got on the channel.
pub async fn keystone_stand_in(
    token: String,
    endpoint: String,
) -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, Value)>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v3", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![];
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), vec![]);
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let head = text[..end].to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break (head, buf[end + 4..end + 4 + len].to_vec());
                    }
                }
            };
            let request_line = head.lines().next().unwrap_or_default().to_string();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let _ = tx.send((request_line, body));
            let reply = serde_json::json!({"token": {"catalog": [
                {"type": "orchestration", "endpoints": [
                    {"interface": "admin", "url": "http://127.0.0.1:9/v1/nope"},
                    {"interface": "public", "url": endpoint}]}]}})
            .to_string();
            let resp = format!(
                "HTTP/1.1 201 Created\r\nX-Subject-Token: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    (url, rx)
}
