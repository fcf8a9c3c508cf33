//! What the os-collect-config tests share (`occ.rs`, `occ_differential.rs`): a scratch
//! guest directory with our binary linked as `os-collect-config`, a Heat-like server
//! document and its replies, the stock os-collect-config when installed, and cache
//! snapshots.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use super::reply;

/// A scratch directory with `os-collect-config` linked to our binary and an empty config
/// file (so no host `/etc/os-collect-config.conf` is read).
pub struct Guest {
    /// The directory.
    pub dir: tempfile::TempDir,
}

impl Guest {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_updraft-agent"),
            dir.path().join("os-collect-config"),
        )
        .unwrap();
        std::fs::write(dir.path().join("empty.conf"), "").unwrap();
        std::fs::create_dir(dir.path().join("local-data")).unwrap();
        std::fs::set_permissions(
            dir.path().join("local-data"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        Guest { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }

    /// Common options: config file, cache and backup dirs, the local and heat_local paths.
    pub fn base_args(&self, cachedir: &str) -> Vec<String> {
        vec![
            "--config-file".into(),
            self.path("empty.conf").display().to_string(),
            "--cachedir".into(),
            self.path(cachedir).display().to_string(),
            "--backup-cachedir".into(),
            self.path(&format!("{cachedir}-backup"))
                .display()
                .to_string(),
            "--heat_local-path".into(),
            self.path("cfn-init-data").display().to_string(),
            "--local-path".into(),
            self.path("local-data").display().to_string(),
        ]
    }

    /// Runs our `os-collect-config` with `args`.
    pub async fn run(&self, args: &[String]) -> Output {
        tokio::process::Command::new(self.path("os-collect-config"))
            .args(args)
            .env("HOME", self.dir.path())
            .env("RUST_LOG", "info")
            .output()
            .await
            .unwrap()
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A Heat-like server document: a script deployment, a structured (Heat::Ungrouped) one,
/// the os-collect-config section, a template key with non-ASCII text.
pub fn server_document() -> Value {
    json!({
        "deployments": [
            {"id": "d1", "name": "hello", "group": "script", "config": "#!/bin/sh\necho hi\n", "inputs": []},
            {"id": "d2", "name": "structured", "config": {"completion-signal": "x", "nested": {"n": [1, 2.5, null, true]}}, "inputs": []},
            {"id": "d3", "group": "Heat::Ungrouped", "config": {"no": "name"}}
        ],
        "os-collect-config": {"collectors": ["request", "local"], "request": {"metadata_url": "http://x/?temp_url_sig=s"}},
        "motd": "Grüße ☃ \u{1F600}",
        "empty": {}
    })
}

pub fn serve_document(document: Value) -> impl Fn(&super::Recorded) -> axum::response::Response {
    move |_| {
        reply(
            200,
            &[
                ("content-type", "application/json"),
                ("last-modified", "Tue, 01 Dec 2026 10:00:00 GMT"),
            ],
            document.to_string(),
        )
    }
}

/// An EC2 metadata tree: listings end in `/`, `0=mykey` names the sub-listing `0/`.
pub fn ec2_tree(path: &str) -> Option<&'static str> {
    Some(match path {
        "/latest/meta-data/" => "instance-id\npublic-keys/\nplacement/",
        "/latest/meta-data/instance-id" => "i-123",
        "/latest/meta-data/public-keys/" => "0=mykey",
        "/latest/meta-data/public-keys/0/" => "openssh-key",
        "/latest/meta-data/public-keys/0/openssh-key" => "ssh-ed25519 AAA",
        "/latest/meta-data/placement/" => "availability-zone",
        "/latest/meta-data/placement/availability-zone" => "nova",
        _ => return None,
    })
}

/// The stock os-collect-config, if `UPDRAFT_PYTHON` names a Python that has it. Fails
/// instead of skipping under `CI=true`.
pub fn stock_python() -> Option<PathBuf> {
    match std::env::var_os("UPDRAFT_PYTHON") {
        Some(python) => Some(PathBuf::from(python)),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but UPDRAFT_PYTHON is not set: the differential test cannot run")
        }
        None => {
            eprintln!("skipping the differential test: UPDRAFT_PYTHON is not set");
            None
        }
    }
}

/// Every file under `dir` (relative path → content), the directory's own path replaced
/// by `<CACHE>` so the two runs compare.
pub fn snapshot(dir: &Path, cachedir: &Path) -> Vec<(String, String, u32)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let content = std::fs::read_to_string(entry.path())
            .unwrap()
            .replace(&cachedir.display().to_string(), "<CACHE>");
        files.push((name, content, mode(&entry.path())));
    }
    files.sort();
    files
}

/// The DescribeStackResource reply of real Heat, the document's JSON escaped in the text.
pub fn cfn_reply(document: &Value) -> String {
    let text = document
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<DescribeStackResourceResponse><DescribeStackResourceResult><StackResourceDetail>\n<LogicalResourceId>server</LogicalResourceId><Metadata>{text}</Metadata>\n<ResourceStatus>CREATE_COMPLETE</ResourceStatus>\n</StackResourceDetail></DescribeStackResourceResult></DescribeStackResourceResponse>"
    )
}

/// Runs the stock os-collect-config (through `python`) or ours with `args`.
pub async fn run_either(g: &Guest, python: Option<&Path>, args: &[String]) -> Output {
    let mut command = match python {
        Some(python) => {
            let mut c = tokio::process::Command::new(python);
            c.args([
                "-c",
                "import sys; from os_collect_config.collect import main; sys.exit(main())",
            ]);
            // The local collector needs the C locale on Python 3.11 (§1.7 Q2).
            c.env("LC_ALL", "C").env("PYTHONCOERCECLOCALE", "0");
            c
        }
        None => tokio::process::Command::new(g.path("os-collect-config")),
    };
    command
        .args(args)
        .env("HOME", g.dir.path())
        .output()
        .await
        .unwrap()
}
