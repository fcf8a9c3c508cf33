//! The heat-cfntools tools of `updraft-agent` run as processes: `cfn-init` applying every
//! section type (files under a `--root`, commands for real, packages/users/groups/services
//! through recording fakes, sources from a tarball on a local HTTP server), `cfn-init` +
//! `cfn-signal` completing `templates/cfn-init-wait-condition.yaml` against a live server
//! over the signed `DescribeStackResource`, `cfn-hup` as a daemon reacting to a stack
//! update within one interval, and bad input failing clearly.
//!
//! `apt-get`, `useradd`, `groupadd` and `systemctl` are **fakes** (shell scripts first on
//! `PATH` that record their argv): the real ones need root, a package mirror and a running
//! init system. Everything else is real.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use updraft_e2e::{Api, Server, binary, repo_root};

const WAIT: Duration = Duration::from_secs(60);

/// A scratch area: cache and data directories for the tools, a `--root`, fake tools.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let s = Scratch {
            dir: tempfile::tempdir().unwrap(),
        };
        for d in ["cache", "data", "root", "bin"] {
            std::fs::create_dir_all(s.path(d)).unwrap();
        }
        s
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The recording log of the fakes.
    fn recorded(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("recorded"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// A fake `name` that records `name args…` (plus `extra`, shell-expanded) and exits
    /// with `status`.
    fn fake(&self, name: &str, extra: &str, status: &str) {
        let script = format!(
            "#!/bin/sh\necho \"{name} $*{extra}\" >> '{}'\nexit {status}\n",
            self.path("recorded").display()
        );
        let path = self.path("bin").join(name);
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// The tool `name` as a multi-call link to `updraft-agent` (argv[0] picks the tool).
    fn tool(&self, name: &str) -> PathBuf {
        let link = self.path("bin").join(name);
        if !link.exists() {
            std::os::unix::fs::symlink(binary("updraft-agent"), &link).unwrap();
        }
        link
    }

    fn command(&self, tool: &str) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(self.tool(tool));
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env("PATH", path)
            .env("HEAT_CFN_INIT_LAST_METADATA_DIR", self.path("cache"))
            .env("HEAT_CFNTOOLS_DATA_DIR", self.path("data"))
            .env("RUST_LOG", "info")
            .kill_on_drop(true);
        c
    }

    async fn run(&self, tool: &str, args: &[&str]) -> Output {
        self.command(tool).args(args).output().await.unwrap()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Serves `body` for every request on 127.0.0.1 (a tiny HTTP/1.1 server); returns its URL.
async fn serve(body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// A `.tar.gz` holding `app/README` and `app/bin/run.sh`, made with the system's tar.
fn tarball(scratch: &Scratch) -> Vec<u8> {
    let src = scratch.path("tarsrc");
    std::fs::create_dir_all(src.join("app/bin")).unwrap();
    std::fs::write(src.join("app/README"), "from the tarball\n").unwrap();
    std::fs::write(src.join("app/bin/run.sh"), "#!/bin/sh\necho run\n").unwrap();
    let out = scratch.path("app.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(&src)
        .arg("app")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

fn id_name(flag: &str) -> String {
    let out = std::process::Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn cfn_init_applies_every_section_type() {
    let s = Scratch::new();
    s.fake("apt-get", " DEBIAN_FRONTEND=$DEBIAN_FRONTEND", "0");
    s.fake("groupadd", "", "0");
    s.fake("useradd", "", "0");
    // `status` says "not running" so ensureRunning starts it.
    s.fake(
        "systemctl",
        "",
        "$(if [ \"$1\" = status ]; then echo 3; else echo 0; fi)",
    );
    let url = serve(tarball(&s)).await;
    let root = s.path("root");
    let out_dir = s.path("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let (user, group) = (id_name("-un"), id_name("-gn"));
    let metadata = json!({"AWS::CloudFormation::Init": {
        "configSets": {
            "default": ["base", {"ConfigSet": "app"}],
            "app": ["web"],
        },
        "base": {
            "packages": {"apt": {"nginx": [], "curl": ["7.88"]}},
            "groups": {"web": {"gid": "4242"}},
            "users": {"app": {"uid": 4242, "groups": ["web"], "homeDir": "/srv/app"}},
        },
        "web": {
            "sources": {"/opt": format!("{url}/download/app.tar.gz")},
            "files": {
                "/etc/app/app.conf": {
                    "content": "listen 8080\n", "mode": "000640",
                    "owner": user, "group": group,
                },
                "/etc/app/settings.json": {"content": {"port": 8080, "names": ["a", "b"]}},
            },
            "commands": {
                "02_list": {"command": ["sh", "-c", format!("ls {}/opt/app > {}/listing", root.display(), out_dir.display())]},
                "01_env": {
                    "command": format!("echo \"$GREETING from $(pwd)\" > {}/env", out_dir.display()),
                    "env": {"GREETING": "hello"},
                    "cwd": out_dir.display().to_string(),
                },
                "03_skipped": {"command": format!("touch {}/skipped", out_dir.display()), "test": "false"},
                "04_ignored": {"command": "exit 7", "ignoreErrors": "true"},
            },
            "services": {"sysvinit": {"nginx": {"enabled": "true", "ensureRunning": "true"}}},
        },
    }});
    std::fs::write(s.path("data/cfn-init-data"), metadata.to_string()).unwrap();

    let out = s.run("cfn-init", &["--root", root.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", stderr(&out));

    // Files: content, JSON content written as JSON, mode.
    let conf = root.join("etc/app/app.conf");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "listen 8080\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&conf).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("etc/app/settings.json")).unwrap())
            .unwrap();
    assert_eq!(settings, json!({"port": 8080, "names": ["a", "b"]}));
    // Sources: unpacked from the local HTTP server, before the commands ran.
    assert_eq!(
        std::fs::read_to_string(root.join("opt/app/README")).unwrap(),
        "from the tarball\n"
    );
    let listing = std::fs::read_to_string(out_dir.join("listing")).unwrap();
    let mut names: Vec<&str> = listing.lines().collect();
    names.sort_unstable();
    assert_eq!(names, ["README", "bin"]);
    // Commands: env replaces the environment, cwd applies, the test skipped one.
    assert_eq!(
        std::fs::read_to_string(out_dir.join("env")).unwrap(),
        format!("hello from {}\n", out_dir.display())
    );
    assert!(!out_dir.join("skipped").exists());
    // Packages, groups, users, services: the fakes' argv, in upstream's section order.
    assert_eq!(
        s.recorded(),
        [
            "apt-get -y install nginx curl DEBIAN_FRONTEND=noninteractive",
            "groupadd web --gid 4242",
            "useradd app --uid 4242 --home /srv/app --groups web --shell /sbin/nologin",
            "systemctl enable nginx.service",
            "systemctl status nginx.service",
            "systemctl start nginx.service",
        ]
    );
    // The metadata was cached for the next run (and for cfn-hup).
    let cached: Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("cache/last_metadata")).unwrap())
            .unwrap();
    assert_eq!(cached, metadata);

    // cfn-get-metadata reads the cache: a dotted key with a quoted component.
    let out = s
        .run(
            "cfn-get-metadata",
            &[
                "-s",
                "st",
                "-r",
                "server",
                "-k",
                "AWS::CloudFormation::Init.'configSets'.app",
            ],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"["web"]"#);
}

#[tokio::test]
async fn bad_input_fails_with_a_clear_message() {
    let s = Scratch::new();
    let root = s.path("root");
    let root = root.to_str().unwrap();

    // A non-map section.
    std::fs::write(
        s.path("data/cfn-init-data"),
        json!({"AWS::CloudFormation::Init": {"config": {"files": ["/etc/x"]}}}).to_string(),
    )
    .unwrap();
    let out = s.run("cfn-init", &["--root", root]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "cfn-init: AWS::CloudFormation::Init.config.files: must be a map, not a list"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));

    // A bad mode names the file.
    std::fs::write(
        s.path("cache/last_metadata"),
        json!({"AWS::CloudFormation::Init": {"config": {"files": {"/etc/x": {"content": "", "mode": "abc"}}}}}).to_string(),
    )
    .unwrap();
    let out = s.run("cfn-init", &["--root", root]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "AWS::CloudFormation::Init.config.files./etc/x: mode \"abc\" is not an octal string"
        ),
        "{}",
        stderr(&out)
    );

    // A failing command stops cfn-init, naming its key; later commands do not run.
    let marker = s.path("after");
    std::fs::write(
        s.path("cache/last_metadata"),
        json!({"AWS::CloudFormation::Init": {"config": {"commands": {
            "01_fails": {"command": "echo broken >&2; exit 3"},
            "02_after": {"command": format!("touch {}", marker.display())},
        }}}})
        .to_string(),
    )
    .unwrap();
    let out = s.run("cfn-init", &["--root", root]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "AWS::CloudFormation::Init.config.commands.01_fails: command exited with status 3: broken"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!marker.exists());

    // No metadata anywhere: cfn-get-metadata says so and exits 1 (upstream: silent 0).
    let empty = Scratch::new();
    let out = empty
        .run("cfn-get-metadata", &["-s", "st", "-r", "server"])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cfn-get-metadata: no metadata"),
        "{}",
        stderr(&out)
    );

    // Bad cfn-hup configuration.
    let out = s
        .run(
            "cfn-hup",
            &["-f", "-c", s.path("nowhere").to_str().unwrap()],
        )
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cfn-hup.conf"), "{}", stderr(&out));
}

/// Creates the template's stack; returns the stack path and the server's `cfn` section.
async fn cfn_stack(api: &Api, name: &str, message: &str) -> (String, Value) {
    let template =
        std::fs::read_to_string(repo_root().join("templates/cfn-init-wait-condition.yaml"))
            .unwrap();
    let stack = api
        .create_stack(name, &template, json!({"message": message}))
        .await
        .unwrap();
    api.wait_resource(&stack, "server", "CREATE_COMPLETE", WAIT)
        .await
        .unwrap();
    let section = api.collect_config(&stack, "server").await.unwrap();
    (stack, section["cfn"].clone())
}

fn template_text() -> String {
    std::fs::read_to_string(repo_root().join("templates/cfn-init-wait-condition.yaml")).unwrap()
}

async fn output_now(api: &Api, stack: &str, key: &str) -> Value {
    let start = Instant::now();
    loop {
        let (_, body) = api.get(stack).await.unwrap();
        let v = Api::output(&body["stack"], key);
        if !v.is_null() {
            return v;
        }
        assert!(start.elapsed() < WAIT, "no output {key}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn cfn_init_and_cfn_signal_complete_the_wait_condition_template() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let (stack, cfn) = cfn_stack(&api, "cfninit", "hello from the template").await;
    let s = Scratch::new();
    // What a Heat image's boot writes: the CFN API URL.
    std::fs::write(
        s.path("data/cfn-metadata-server"),
        cfn["metadata_url"].as_str().unwrap(),
    )
    .unwrap();
    let root = s.path("root");
    let out = s
        .run(
            "cfn-init",
            &[
                "-s",
                cfn["stack_name"].as_str().unwrap(),
                "-r",
                "server",
                "--access-key",
                cfn["access_key_id"].as_str().unwrap(),
                "--secret-key",
                cfn["secret_access_key"].as_str().unwrap(),
                "--region",
                "RegionOne",
                "--root",
                root.to_str().unwrap(),
            ],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains(cfn["secret_access_key"].as_str().unwrap()),
        "the secret is logged"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/updraft-demo/motd")).unwrap(),
        "hello from the template"
    );
    let settings: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("etc/updraft-demo/settings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        settings,
        json!({"message": "hello from the template", "stack": "cfninit"})
    );
    // Retrieved remotely, so cached for cfn-hup.
    assert!(s.path("cache/last_metadata_server").exists());

    let handle = output_now(&api, &stack, "wait_handle").await;
    let out = s
        .run(
            "cfn-signal",
            &[
                "-e",
                "0",
                "-i",
                "boot",
                "-d",
                "cfn-init done",
                handle.as_str().unwrap(),
            ],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    let data = Api::output(&body, "wait_data");
    assert!(data.as_str().unwrap().contains("cfn-init done"), "{data}");
}

#[tokio::test]
async fn cfn_hup_runs_post_update_when_a_stack_update_changes_the_metadata() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let (stack, cfn) = cfn_stack(&api, "cfnhup", "first").await;
    let s = Scratch::new();
    std::fs::write(
        s.path("data/cfn-metadata-server"),
        cfn["metadata_url"].as_str().unwrap(),
    )
    .unwrap();
    let conf = s.path("etc-cfn");
    std::fs::create_dir_all(conf.join("hooks.d")).unwrap();
    std::fs::write(
        s.path("creds"),
        format!(
            "AWSAccessKeyId={}\nAWSSecretKey={}\n",
            cfn["access_key_id"].as_str().unwrap(),
            cfn["secret_access_key"].as_str().unwrap()
        ),
    )
    .unwrap();
    std::fs::write(
        conf.join("cfn-hup.conf"),
        format!(
            "[main]\nstack={}\ncredential-file={}\ninterval=1s\n",
            cfn["stack_name"].as_str().unwrap(),
            s.path("creds").display()
        ),
    )
    .unwrap();
    let events = s.path("events");
    let user = id_name("-un");
    std::fs::write(
        conf.join("hooks.d/cfn-auto-reloader.conf"),
        format!(
            "[cfn-auto-reloader-hook]\ntriggers=post.update\npath=Resources.server.Metadata.AWS::CloudFormation::Init\naction=echo updated >> {ev}\nrunas={user}\n\n\
             [added]\ntriggers=post.add\npath=Resources.server.Metadata.extra\naction=echo added >> {ev}\nrunas={user}\n",
            ev = events.display()
        ),
    )
    .unwrap();
    let mut hup = s
        .command("cfn-hup")
        .args(["-c", conf.to_str().unwrap()])
        .stderr(std::fs::File::create(s.path("hup.log")).unwrap())
        .spawn()
        .unwrap();
    // The first pass only records what it sees (nothing was cached before).
    let start = Instant::now();
    while !s.path("cache/cfn-hup-state.json").exists() {
        assert!(
            start.elapsed() < WAIT,
            "{}",
            std::fs::read_to_string(s.path("hup.log")).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!events.exists(), "fired without a change");

    // The boot finished: the wait condition completes the create.
    let handle = output_now(&api, &stack, "wait_handle").await;
    let out = s
        .run("cfn-signal", &["-i", "boot", handle.as_str().unwrap()])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");

    let body = api
        .update_stack(&stack, &template_text(), json!({"message": "second"}))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "UPDATE_COMPLETE", "{body}");
    let start = Instant::now();
    while !events.exists() {
        assert!(
            // One interval (1 s), with slack for a loaded machine.
            start.elapsed() < Duration::from_secs(5),
            "post.update did not run: {}",
            std::fs::read_to_string(s.path("hup.log")).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Within a pass or two, and once only (the post.add hook's path never appeared).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(std::fs::read_to_string(&events).unwrap(), "updated\n");
    assert!(hup.try_wait().unwrap().is_none(), "cfn-hup exited");

    // SIGTERM stops the daemon cleanly.
    let pid = hup.id().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), hup.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");

    // A restart does not fire again for what it already saw.
    let out = s
        .run("cfn-hup", &["-f", "-c", conf.to_str().unwrap()])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&events).unwrap(), "updated\n");
}

#[tokio::test]
async fn cfn_create_aws_symlinks_links_the_tools_and_the_subcommands_match() {
    let s = Scratch::new();
    let target = s.path("opt/aws/bin");
    let out = s
        .run("cfn-create-aws-symlinks", &["-t", target.to_str().unwrap()])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    for tool in [
        "cfn-init",
        "cfn-hup",
        "cfn-signal",
        "cfn-get-metadata",
        "cfn-create-aws-symlinks",
    ] {
        let link = std::fs::read_link(target.join(tool)).unwrap();
        assert_eq!(
            link.file_name().unwrap(),
            "updraft-agent",
            "{tool} -> {}",
            link.display()
        );
    }
    // Through a link in /opt/aws/bin, and as `updraft-agent cfn-get-metadata`: the same tool.
    std::fs::write(s.path("data/cfn-init-data"), r#"{"a": {"b": 1}}"#).unwrap();
    let via_link = tokio::process::Command::new(target.join("cfn-get-metadata"))
        .args(["-s", "st", "-r", "r", "-k", "a"])
        .env("HEAT_CFN_INIT_LAST_METADATA_DIR", s.path("cache"))
        .env("HEAT_CFNTOOLS_DATA_DIR", s.path("data"))
        .output()
        .await
        .unwrap();
    assert!(via_link.status.success(), "{}", stderr(&via_link));
    assert_eq!(String::from_utf8_lossy(&via_link.stdout), "{\"b\": 1}\n");
    let via_subcommand = tokio::process::Command::new(binary("updraft-agent"))
        .args(["cfn-get-metadata", "-s", "st", "-r", "r", "-k", "a.b"])
        .env("HEAT_CFN_INIT_LAST_METADATA_DIR", s.path("cache"))
        .env("HEAT_CFNTOOLS_DATA_DIR", s.path("data"))
        .output()
        .await
        .unwrap();
    assert!(
        via_subcommand.status.success(),
        "{}",
        stderr(&via_subcommand)
    );
    assert_eq!(String::from_utf8_lossy(&via_subcommand.stdout), "1\n");
    // Existing files are kept without -f.
    let again = s
        .run("cfn-create-aws-symlinks", &["-t", target.to_str().unwrap()])
        .await;
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("already exists, will not replace"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}
