//! The built-in `os-collect-config`, run as a user runs it: the real binary symlinked
//! under that name in a temporary directory, against files and a local recording HTTP
//! server. The differential tests against the stock one are in `occ_differential.rs`.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::occ_guest::*;
use support::{Recorder, json_reply, reply};

#[tokio::test]
async fn print_shows_the_collected_values_in_collector_order() {
    let g = Guest::new();
    g.write("cfn-init-data", r#"{"deployments": [], "b": "é"}"#);
    g.write("local-data/zz.json", r#"{"z": 1}"#);
    g.write("local-data/aa", r#"[1, {}]"#);
    let mut args = g.base_args("cache");
    args.extend(["--print".into(), "heat_local".into(), "local".into()]);
    let out = g.run(&args).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\n \"heat_local\": {\n  \"deployments\": [],\n  \"b\": \"\\u00e9\"\n },\n \"aa\": [\n  1,\n  {}\n ],\n \"zz.json\": {\n  \"z\": 1\n }\n}\n"
    );
    // --print stores nothing.
    assert!(!g.path("cache").exists());
}

#[tokio::test]
async fn print_cachedir_prints_the_directory_only() {
    let g = Guest::new();
    let out = g
        .run(&[
            "--print-cachedir".into(),
            "--cachedir".into(),
            "/some/where".into(),
        ])
        .await;
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "/some/where\n");
}

#[tokio::test]
async fn a_change_runs_the_command_with_os_config_files_and_is_committed() {
    let server = Recorder::start(serve_document(server_document())).await;
    let g = Guest::new();
    let record = g.path("env.txt");
    let mut args = g.base_args("cache");
    args.extend([
        "--one-time".into(),
        "--request-metadata-url".into(),
        format!("{}/md?temp_url_sig=abc", server.base),
        "--command".into(),
        format!(
            "printf %s \"$$OS_CONFIG_FILES\" >> {}; echo >> {}",
            record.display(),
            record.display()
        ),
        "request".into(),
    ]);
    let out = g.run(&args).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cache = g.path("cache");
    let expected = format!("{0}/request.json:{0}/structured.json", cache.display());
    assert_eq!(
        std::fs::read_to_string(&record).unwrap(),
        format!("{expected}\n")
    );
    let request_json: Value =
        serde_json::from_str(&std::fs::read_to_string(cache.join("request.json")).unwrap())
            .unwrap();
    assert_eq!(request_json, server_document());
    for file in [
        "request.json",
        "request.json.orig",
        "request.json.last",
        "structured.json.last",
    ] {
        assert_eq!(mode(&cache.join(file)), 0o600, "{file}");
    }
    assert_eq!(
        std::fs::read_to_string(cache.join("structured.json")).unwrap(),
        "{\n \"completion-signal\": \"x\",\n \"nested\": {\n  \"n\": [\n   1,\n   2.5,\n   null,\n   true\n  ]\n }\n}"
    );
    assert_eq!(
        std::fs::read_to_string(cache.join("os_config_files.json")).unwrap(),
        format!(
            "[\"{0}/request.json\", \"{0}/structured.json\"]",
            cache.display()
        )
    );
    assert!(g.path("cache-backup/request.json.orig").exists());
    // The capability URL's signature never reaches a log line.
    assert!(!text(&out.stderr).contains("abc"), "{}", text(&out.stderr));
    // HEAD (Last-Modified), then GET, as upstream.
    let methods: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(methods, ["HEAD", "GET"]);

    // Nothing changed: the command does not run again.
    let out = g.run(&args).await;
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&record).unwrap().lines().count(), 1);
    // --force runs it anyway.
    args.push("--force".into());
    g.run(&args).await;
    assert_eq!(std::fs::read_to_string(&record).unwrap().lines().count(), 2);
}

#[tokio::test]
async fn a_failed_command_commits_nothing_and_its_status_is_the_exit_status() {
    let g = Guest::new();
    g.write("cfn-init-data", r#"{"a": 1}"#);
    let mut args = g.base_args("cache");
    args.extend([
        "--one-time".into(),
        "-c".into(),
        "exit 5".into(),
        "heat_local".into(),
    ]);
    let out = g.run(&args).await;
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains("Command failed, will not cache new data"));
    assert!(g.path("cache/heat_local.json").exists());
    assert!(!g.path("cache/heat_local.json.last").exists());
    // Still a change next time: the command is retried, and succeeds.
    let last = args.len() - 2;
    args[last] = "true".into();
    let out = g.run(&args).await;
    assert!(out.status.success());
    assert!(g.path("cache/heat_local.json.last").exists());
}

#[tokio::test]
async fn bad_input_gives_a_clear_message_and_no_panic() {
    let g = Guest::new();
    g.write("bad.conf", "[DEFAULT]\ncommand = true\nnonsense line\n");
    let out = g
        .run(&[
            "--config-file".into(),
            g.path("bad.conf").display().to_string(),
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot parse config file") && err.contains("line 3"),
        "{err}"
    );

    let out = g.run(&["--no-such-flag".into()]).await;
    assert_eq!(out.status.code(), Some(2));

    let mut args = g.base_args("cache");
    args.push("bogus".into());
    let out = g.run(&args).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unknown collectors [\"bogus\"]"));

    // Malformed metadata and a corrupt cache: the source is skipped, the rest works.
    g.write("cfn-init-data", "{not json");
    g.write("local-data/ok.json", "{\"k\": 1}");
    std::fs::create_dir_all(g.path("cache")).unwrap();
    std::fs::write(g.path("cache/ok.json.json.orig"), "{}").unwrap();
    std::fs::write(g.path("cache/ok.json.json.last"), "\u{0}garbage").unwrap();
    let mut args = g.base_args("cache");
    args.extend([
        "--one-time".into(),
        "-c".into(),
        "true".into(),
        "heat_local".into(),
        "local".into(),
    ]);
    let out = g.run(&args).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Source [heat_local] Unavailable"), "{err}");
    assert!(err.contains("cached last value is not JSON"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read_to_string(g.path("cache/ok.json.json.last")).unwrap(),
        "{\n \"k\": 1\n}"
    );
}
#[tokio::test]
async fn the_ec2_tree_is_walked_once_and_then_cached_forever() {
    let server = Recorder::start(|r| match ec2_tree(&r.path) {
        Some(body) => reply(200, &[], body),
        None => reply(404, &[], ""),
    })
    .await;
    let g = Guest::new();
    let mut args = g.base_args("cache");
    args.extend([
        "--one-time".into(),
        "-c".into(),
        "true".into(),
        "--ec2-metadata-url".into(),
        format!("{}/latest/meta-data", server.base),
        "ec2".into(),
    ]);
    let out = g.run(&args).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ec2: Value =
        serde_json::from_str(&std::fs::read_to_string(g.path("cache/ec2.json")).unwrap()).unwrap();
    assert_eq!(
        ec2,
        json!({"instance-id": "i-123", "public-keys": {"0": {"openssh-key": "ssh-ed25519 AAA"}}, "placement": {"availability-zone": "nova"}})
    );
    let asked = server.requests().len();
    assert_eq!(asked, 7);
    let out = g.run(&args).await;
    assert!(out.status.success());
    assert_eq!(
        server.requests().len(),
        asked,
        "ec2 data is fetched only once"
    );
}

#[tokio::test]
async fn the_daemon_polls_again_soon_after_a_processed_change() {
    let g = Guest::new();
    g.write("cfn-init-data", r#"{"v": 1}"#);
    let record = g.path("runs.txt");
    let mut args = g.base_args("cache");
    args.extend([
        "--min-polling-interval".into(),
        "0.2".into(),
        "--polling-interval".into(),
        "60".into(),
        "-c".into(),
        format!(
            "cat $$OS_CONFIG_FILES >> {0}; echo END >> {0}",
            record.display()
        ),
        "heat_local".into(),
    ]);
    let mut child = tokio::process::Command::new(g.path("os-collect-config"))
        .args(&args)
        .env("HOME", g.dir.path())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let runs = |n: usize| {
        let record = record.clone();
        async move {
            for _ in 0..100 {
                let seen = std::fs::read_to_string(&record).unwrap_or_default();
                if seen.matches("END").count() >= n {
                    return seen;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("the command did not run {n} times");
        }
    };
    runs(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    g.write("cfn-init-data", r#"{"v": 2}"#);
    let seen = runs(2).await;
    assert_eq!(seen, "{\n \"v\": 1\n}END\n{\n \"v\": 2\n}END\n");
    // By now upstream's sleep has doubled to 3.2 s and keeps growing; ours went back to
    // 0.2 s after the processed change, so the next change is seen within a second or so.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    g.write("cfn-init-data", r#"{"v": 3}"#);
    let started = std::time::Instant::now();
    runs(3).await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(2000),
        "the change took {:?} to be processed: the backoff did not reset",
        started.elapsed()
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_cfn_collector_caches_the_whole_document_and_its_structured_configs() {
    let document = server_document();
    let body = cfn_reply(&document);
    let server =
        Recorder::start(move |_| reply(200, &[("content-type", "text/xml")], body.clone())).await;
    let g = Guest::new();
    // The URL comes from the hint file, already ending in /v1/ as Heat writes it.
    g.write("cfn-metadata-server", &format!("{}/v1/\n", server.base));
    g.write(
        "occ.conf",
        &format!(
            "[DEFAULT]\ncollectors = cfn\n[cfn]\nheat_metadata_hint = {}\naccess_key_id = AKID\nsecret_access_key = s3cret\nstack_name = mystack\npath = server.Metadata\n",
            g.path("cfn-metadata-server").display()
        ),
    );
    let mut args = g.base_args("cache");
    args[1] = g.path("occ.conf").display().to_string();
    args.extend(["--one-time".into(), "-c".into(), "true".into()]);
    let out = g.run(&args).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let cached: Value =
        serde_json::from_str(&std::fs::read_to_string(g.path("cache/cfn.json")).unwrap()).unwrap();
    assert_eq!(cached, document);
    assert!(g.path("cache/structured.json.last").exists());
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/");
    let query = requests[0].query_pairs();
    assert_eq!(
        query[0],
        ("Action".to_string(), "DescribeStackResource".to_string())
    );
    assert!(
        query
            .iter()
            .any(|(k, v)| k == "StackName" && v == "mystack")
    );
    assert!(query.iter().any(|(k, _)| k == "Signature"));
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn the_heat_collector_authenticates_once_and_caches_the_metadata() {
    let base = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let b = base.clone();
    let server = Recorder::start(move |r| {
        let base = b.get().cloned().unwrap_or_default();
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v3/") => json_reply(
                200,
                &[],
                &json!({"version": {"id": "v3.14", "links": [{"rel": "self", "href": format!("{base}/v3/")}]}}),
            ),
            ("POST", "/v3/auth/tokens") => json_reply(
                201,
                &[("x-subject-token", "tok-1")],
                &json!({"token": {"expires_at": "2999-01-01T00:00:00.000000Z", "catalog": [
                    {"type": "orchestration", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": format!("{base}/v1/proj")}]}]}}),
            ),
            ("GET", "/v1/proj/stacks/s/123/resources/server/metadata")
                if r.header("x-auth-token") == Some("tok-1") =>
            {
                json_reply(200, &[], &json!({"metadata": server_document()}))
            }
            _ => json_reply(404, &[], &Value::Null),
        }
    })
    .await;
    base.set(server.base.clone()).unwrap();
    let g = Guest::new();
    let mut args = g.base_args("cache");
    args.extend([
        "--one-time".into(),
        "-c".into(),
        "true".into(),
        "--heat-auth-url".into(),
        format!("{}/v3/", server.base),
        "--heat-user-id".into(),
        "uid".into(),
        "--heat-password".into(),
        "pw-secret".into(),
        "--heat-project-id".into(),
        "proj".into(),
        "--heat-stack-id".into(),
        "s/123".into(),
        "--heat-resource-name".into(),
        "server".into(),
        "heat".into(),
    ]);
    let out = g.run(&args).await;
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("pw-secret"), "{err}");
    let cached: Value =
        serde_json::from_str(&std::fs::read_to_string(g.path("cache/heat.json")).unwrap()).unwrap();
    assert_eq!(cached, server_document());
    assert_eq!(
        std::fs::read_to_string(g.path("cache/os_config_files.json")).unwrap(),
        format!(
            "[\"{0}/heat.json\", \"{0}/structured.json\"]",
            g.path("cache").display()
        )
    );
    let token_body = server
        .requests()
        .iter()
        .find(|r| r.path == "/v3/auth/tokens")
        .unwrap()
        .json();
    assert_eq!(
        token_body["auth"]["identity"]["password"]["user"]["id"],
        "uid"
    );
    assert_eq!(token_body["auth"]["scope"]["project"]["id"], "proj");
}

#[tokio::test]
async fn a_rewritten_config_file_is_followed_by_re_executing() {
    // The command plays os-apply-config: it renders a new config from the
    // `os-collect-config` section, adding the local collector.
    let g = Guest::new();
    g.write(
        "cfn-init-data",
        r#"{"os-collect-config": {"collectors": ["heat_local", "local"]}}"#,
    );
    g.write("local-data/extra.json", r#"{"e": 1}"#);
    let conf = g.path("occ.conf");
    let record = g.path("runs.txt");
    let common = format!(
        "[DEFAULT]\ncachedir = {}\nbackup_cachedir = {}\nmin_polling_interval = 0.2\ncommand = printf '%s\\n' $$OS_CONFIG_FILES >> {} && cp {} {}\n[heat_local]\npath = {}\n[local]\npath = {}\n",
        g.path("cache").display(),
        g.path("backup").display(),
        record.display(),
        g.path("next.conf").display(),
        conf.display(),
        g.path("cfn-init-data").display(),
        g.path("local-data").display(),
    );
    std::fs::write(
        &conf,
        format!("{common}[DEFAULT]\ncollectors = heat_local\n"),
    )
    .unwrap();
    std::fs::write(
        g.path("next.conf"),
        format!("{common}[DEFAULT]\ncollectors = heat_local\ncollectors = local\n"),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(g.path("os-collect-config"))
        .args(["--config-file", conf.to_str().unwrap()])
        .env("HOME", g.dir.path())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let cache = g.path("cache");
    let want = format!(
        "{0}/heat_local.json\n{0}/heat_local.json:{0}/extra.json.json\n",
        cache.display()
    );
    let mut seen = String::new();
    for _ in 0..100 {
        seen = std::fs::read_to_string(&record).unwrap_or_default();
        if seen.lines().count() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().await.unwrap();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn an_unmodified_request_url_keeps_its_keys_when_another_source_changes() {
    // Upstream reports an unmodified Last-Modified as "unavailable", so when heat_local
    // changes, request.json drops out of OS_CONFIG_FILES (§1.7 Q5). Ours keeps it.
    let server = Recorder::start(serve_document(server_document())).await;
    let g = Guest::new();
    g.write("cfn-init-data", r#"{"v": 1}"#);
    let record = g.path("runs.txt");
    let mut args = g.base_args("cache");
    args.extend([
        "--min-polling-interval".into(),
        "0.2".into(),
        "--request-metadata-url".into(),
        format!("{}/md", server.base),
        "-c".into(),
        format!(
            "printf '%s\\n' \"$$OS_CONFIG_FILES\" >> {}",
            record.display()
        ),
        "heat_local".into(),
        "request".into(),
    ]);
    let mut child = tokio::process::Command::new(g.path("os-collect-config"))
        .args(&args)
        .env("HOME", g.dir.path())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let lines = |n: usize| {
        let record = record.clone();
        async move {
            for _ in 0..100 {
                let seen = std::fs::read_to_string(&record).unwrap_or_default();
                if seen.lines().count() >= n {
                    return seen;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("the command did not run {n} times");
        }
    };
    lines(1).await;
    g.write("cfn-init-data", r#"{"v": 2}"#);
    let seen = lines(2).await;
    child.kill().await.unwrap();
    let cache = g.path("cache");
    let all = format!(
        "{0}/heat_local.json:{0}/request.json:{0}/structured.json",
        cache.display()
    );
    assert_eq!(seen, format!("{all}\n{all}\n"));
    // The second pass did not GET the unmodified document again.
    let gets = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(gets, 1);
}
