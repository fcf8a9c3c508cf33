//! The built-in `os-collect-config` against stock os-collect-config 14.1.0 (from the
//! Python named by `UPDRAFT_PYTHON`) on the same inputs: what each prints, the command's
//! `OS_CONFIG_FILES`, the requests each sends, and the cache directory byte for byte.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use support::occ_guest::*;
use support::{Recorder, reply};

#[tokio::test]
async fn stock_and_ours_agree_on_print_command_and_cache() {
    let Some(python) = stock_python() else {
        return;
    };
    let server = Recorder::start(serve_document(server_document())).await;
    let g = Guest::new();
    g.write("cfn-init-data", r#"{"os-collect-config": {"collectors": ["heat_local", "local"]}, "deployments": [{"name": "x", "config": {"a": 1}}], "n": 10.25}"#);
    g.write("local-data/b.json", r#"{"b": "ü"}"#);
    g.write("local-data/A", r#"{"A": [true, false, null]}"#);
    g.write("local-data/.hidden", "ignored");

    let run = |stock: bool, args: Vec<String>| {
        let python = stock.then_some(python.as_path());
        let g = &g;
        async move { run_either(g, python, &args).await }
    };
    let collectors = ["heat_local", "local", "request"].map(String::from);
    let url = format!("{}/md?temp_url_sig=abc", server.base);

    // --print.
    let mut printed = Vec::new();
    for stock in [true, false] {
        let mut args = g.base_args(if stock { "stock" } else { "ours" });
        args.extend([
            "--print".into(),
            "--request-metadata-url".into(),
            url.clone(),
        ]);
        args.extend(collectors.clone());
        printed.push(run(stock, args).await);
    }
    assert!(
        printed[0].status.success(),
        "stock: {}",
        text(&printed[0].stderr)
    );
    assert_eq!(
        text(&printed[1].stdout),
        text(&printed[0].stdout),
        "--print output differs"
    );

    // One pass with a command: OS_CONFIG_FILES, exit status, the cache files.
    let pass_args = |name: &str, record: &Path| {
        let mut args = g.base_args(name);
        args.extend([
            "--one-time".into(),
            "--request-metadata-url".into(),
            url.clone(),
            "-c".into(),
            format!("printf %s \"$$OS_CONFIG_FILES\" > {}", record.display()),
        ]);
        args.extend(collectors.clone());
        args
    };
    let mut outputs = Vec::new();
    for stock in [true, false] {
        let name = if stock { "stock" } else { "ours" };
        let record = g.path(&format!("{name}.env"));
        let out = run(stock, pass_args(name, &record)).await;
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let cachedir = g.path(name).display().to_string();
        let env = std::fs::read_to_string(&record)
            .unwrap()
            .replace(&cachedir, "<CACHE>");
        outputs.push((
            env,
            snapshot(&g.path(name), &g.path(name)),
            snapshot(&g.path(&format!("{name}-backup")), &g.path(name)),
        ));
    }
    assert_eq!(outputs[1].0, outputs[0].0, "OS_CONFIG_FILES differs");
    assert_eq!(outputs[1].1, outputs[0].1, "cache directories differ");
    assert_eq!(outputs[1].2, outputs[0].2, "backup directories differ");

    // The same pass again: nothing changed, so neither runs the command.
    for stock in [true, false] {
        let name = if stock { "stock" } else { "ours" };
        let record = g.path(&format!("{name}.env"));
        std::fs::remove_file(&record).unwrap();
        let out = run(stock, pass_args(name, &record)).await;
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(!record.exists(), "{name} ran the command without a change");
    }
    // Both asked the server the same way: HEAD then GET of the URL, in every run.
    let requests: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            format!(
                "{} {}?{}",
                r.method,
                r.path,
                r.query.as_deref().unwrap_or("")
            )
        })
        .collect();
    let pair = ["HEAD /md?temp_url_sig=abc", "GET /md?temp_url_sig=abc"];
    assert_eq!(requests, pair.repeat(6), "the two asked differently");

    // A failing command: same exit status, nothing committed on either side.
    let mut statuses = Vec::new();
    for stock in [true, false] {
        let name = if stock { "stock" } else { "ours" };
        g.write("cfn-init-data", r#"{"changed": true}"#);
        let mut args = g.base_args(name);
        args.extend([
            "--one-time".into(),
            "-c".into(),
            "exit 3".into(),
            "heat_local".into(),
        ]);
        let out = run(stock, args).await;
        statuses.push(out.status.code());
        let last =
            std::fs::read_to_string(g.path(&format!("{name}/heat_local.json.last"))).unwrap();
        assert!(
            !last.contains("changed"),
            "{name} committed after a failure"
        );
    }
    assert_eq!(statuses, [Some(3), Some(3)]);
}

#[tokio::test]
async fn stock_and_ours_agree_on_the_cfn_and_ec2_wire_and_cache() {
    let Some(python) = stock_python() else {
        return;
    };
    let body = cfn_reply(&server_document());
    let server = Recorder::start(move |r| {
        let text = match r.path.as_str() {
            // With a charset. Without one, stock reads `text/xml` as ISO-8859-1 (requests'
            // default for text/*) and caches non-ASCII metadata as mojibake; ours reads
            // UTF-8, which is what the bytes are (a deliberate difference).
            "/v1/" => {
                return reply(
                    200,
                    &[("content-type", "text/xml; charset=UTF-8")],
                    body.clone(),
                );
            }
            path => ec2_tree(path),
        };
        match text {
            Some(text) => reply(200, &[], text),
            None => reply(404, &[], ""),
        }
    })
    .await;
    let g = Guest::new();
    let mut snapshots = Vec::new();
    let mut wires = Vec::new();
    for stock in [true, false] {
        let name = if stock { "stock" } else { "ours" };
        let before = server.requests().len();
        let mut args = g.base_args(name);
        args.extend([
            "--one-time".into(),
            "-c".into(),
            "true".into(),
            "--ec2-metadata-url".into(),
            format!("{}/latest/meta-data", server.base),
            "--cfn-metadata-url".into(),
            format!("{}/v1/", server.base),
            "--cfn-access-key-id".into(),
            "AKID".into(),
            "--cfn-secret-access-key".into(),
            "s3cret".into(),
            "--cfn-stack-name".into(),
            "my stack".into(),
            "--cfn-path".into(),
            "server.Metadata".into(),
            "ec2".into(),
            "cfn".into(),
        ]);
        let out = run_either(&g, stock.then_some(python.as_path()), &args).await;
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        snapshots.push(snapshot(&g.path(name), &g.path(name)));
        let wire: Vec<String> = server.requests()[before..]
            .iter()
            .map(|r| {
                format!(
                    "{} {}?{} content-type={:?}",
                    r.method,
                    r.path,
                    r.query.as_deref().unwrap_or(""),
                    r.header("content-type")
                )
            })
            .collect();
        wires.push(wire);
    }
    // The same requests, the cfn signature included, byte for byte.
    assert_eq!(wires[1], wires[0], "the requests differ");
    assert_eq!(snapshots[1], snapshots[0], "cache directories differ");
    assert!(snapshots[1].iter().any(|(name, _, _)| name == "ec2.json"));
    assert!(
        snapshots[1]
            .iter()
            .any(|(name, _, _)| name == "structured.json.last")
    );
}
