//! The stock Python agents against our server: os-collect-config, os-refresh-config,
//! os-apply-config and heat-agents (55-heat-config, the `script` hook, heat-config-notify),
//! as `.ci/run` installs them from PyPI, configure a `OS::Heat::DeployedServer` through
//! each metadata transport and signal back through each signal transport. The script is
//! the one the stock chain ran against real Heat (shared/reference/heat-wire-captures.md);
//! the stack must complete with its output and stdout, and an update and the delete (the
//! deployment's actions include DELETE) must run it again.
//!
//! One test per cell (software_config_transport × signal_transport): POLL_TEMP_URL,
//! POLL_SERVER_CFN (the stock `cfn` collector's signed DescribeStackResource) and
//! POLL_SERVER_HEAT (the stock `heat` collector through keystoneclient and heatclient at
//! our `/v3`) × TEMP_URL_SIGNAL, CFN_SIGNAL and HEAT_SIGNAL. The WaitCondition paths (a handle's `curl_cli`, the stock `cfn-signal`) are
//! covered by `wait_conditions.rs`. The last test drives os-collect-config's request
//! collector poll by poll through changes made within one second.
//!
//! How the guest is laid out: `updraft_e2e::stock_agents`.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::stock_agents::{Guest, HeatConfigStep, StockAgents};
use updraft_e2e::{Api, Server};

const T: Duration = Duration::from_secs(90);

fn template(config_transport: &str, signal_transport: &str) -> String {
    format!(
        r#"
heat_template_version: 2018-08-31
parameters:
  foo:
    type: string
resources:
  server:
    type: OS::Heat::DeployedServer
    properties:
      software_config_transport: {config_transport}
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs:
        - name: foo
      outputs:
        - name: result
      config: |
        #!/bin/sh
        echo "deploying $deploy_resource_name (action $deploy_action) foo=$foo"
        printf '%s' "result-of-$foo" > "$heat_outputs_path.result"
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {{get_resource: config}}
      server: {{get_resource: server}}
      signal_transport: {signal_transport}
      actions: [CREATE, UPDATE, DELETE]
      input_values:
        foo: {{get_param: foo}}
outputs:
  result:
    value: {{get_attr: [deployment, result]}}
  stdout:
    value: {{get_attr: [deployment, deploy_stdout]}}
  stderr:
    value: {{get_attr: [deployment, deploy_stderr]}}
  status_code:
    value: {{get_attr: [deployment, deploy_status_code]}}
"#
    )
}

/// The collector os-collect-config must be told to use for `transport`.
fn collector(transport: &str) -> &'static str {
    match transport {
        "POLL_TEMP_URL" => "request",
        "POLL_SERVER_CFN" => "cfn",
        "POLL_SERVER_HEAT" => "heat",
        other => panic!("no collector for {other}"),
    }
}

fn assert_deployed(stack: &Value, action: &str, input: &str, guest: &Guest) {
    let outputs = json!({
        "result": Api::output(stack, "result"),
        "stdout": Api::output(stack, "stdout"),
        "stderr": Api::output(stack, "stderr"),
        "status_code": Api::output(stack, "status_code"),
    });
    assert_eq!(
        outputs,
        json!({
            "result": format!("result-of-{input}"),
            "stdout": format!("deploying deployment (action {action}) foo={input}\n"),
            "stderr": "",
            "status_code": 0,
        }),
        "{}",
        guest.report()
    );
}

/// Creates the stack, lets the stock agents configure its server until it completes,
/// then updates the input and lets them run the update.
async fn cell(config_transport: &str, signal_transport: &str) {
    cell_with(config_transport, signal_transport, HeatConfigStep::Stock).await;
}

/// [`cell`] with `step` as the guest's `55-heat-config`.
async fn cell_with(config_transport: &str, signal_transport: &str, step: HeatConfigStep) {
    let test = format!("{config_transport} × {signal_transport}");
    let Some(agents) = StockAgents::find(&test) else {
        return;
    };
    let server = Server::start().await.unwrap();
    let api = server.api();
    let name = format!(
        "stock-{}-{}",
        config_transport.to_lowercase().replace('_', "-"),
        signal_transport.to_lowercase().replace('_', "-")
    );
    let stack = api
        .create_stack(
            &name,
            &template(config_transport, signal_transport),
            json!({"foo": "one"}),
        )
        .await
        .unwrap();
    let resource = api
        .wait_resource(&stack, "server", "CREATE_COMPLETE", T)
        .await
        .unwrap();
    let occ = resource["attributes"]["os_collect_config"].clone();
    let wanted = collector(config_transport);
    assert_eq!(occ["collectors"][0], wanted, "{occ}");
    assert!(occ[wanted].is_object(), "{occ}");

    let mut guest = Guest::new_with(&agents, &occ, step).await.unwrap();
    let created = guest.run_until_settled(&api, &stack, T).await.unwrap();
    assert_eq!(
        created["stack_status"],
        "CREATE_COMPLETE",
        "{created}\n{}",
        guest.report()
    );
    assert_deployed(&created, "CREATE", "one", &guest);

    // An update derives a new config (new id): the same guest runs it once more.
    let (status, body) = api
        .call(
            reqwest::Method::PATCH,
            &stack,
            Some(json!({"parameters": {"foo": "two"}})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 202, "{body}");
    let updated = guest.run_until_settled(&api, &stack, T).await.unwrap();
    assert_eq!(
        updated["stack_status"],
        "UPDATE_COMPLETE",
        "{updated}\n{}",
        guest.report()
    );
    assert_deployed(&updated, "UPDATE", "two", &guest);

    // With DELETE among its actions, deleting the stack runs the script once more.
    let (status, body) = api
        .call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 204, "{body}");
    let deleted = guest.run_until_settled(&api, &stack, T).await.unwrap();
    assert_eq!(
        deleted["stack_status"],
        "DELETE_COMPLETE",
        "{deleted}\n{}",
        guest.report()
    );
    let signal = |action: &str, input: &str| {
        json!({
            "result": format!("result-of-{input}"),
            "deploy_stdout": format!("deploying deployment (action {action}) foo={input}\n"),
            "deploy_stderr": "",
            "deploy_status_code": 0,
        })
    };
    assert_eq!(
        guest.deployed().unwrap(),
        [
            ("CREATE".to_string(), signal("CREATE", "one")),
            ("DELETE".to_string(), signal("DELETE", "two")),
            ("UPDATE".to_string(), signal("UPDATE", "two")),
        ],
        "{}",
        guest.report()
    );
    server.stop().await;
}

/// The stock os-collect-config and os-refresh-config with `updraft-agent` as their
/// `55-heat-config` and `heat-config-notify` (built-in `script` hook).
#[tokio::test]
async fn stock_collector_with_updraft_heat_config_and_temp_url_signal() {
    cell_with("POLL_TEMP_URL", "TEMP_URL_SIGNAL", HeatConfigStep::Updraft).await;
}

#[tokio::test]
async fn stock_collector_with_updraft_heat_config_and_heat_signal() {
    cell_with("POLL_SERVER_HEAT", "HEAT_SIGNAL", HeatConfigStep::Updraft).await;
}

#[tokio::test]
async fn poll_temp_url_with_temp_url_signal() {
    cell("POLL_TEMP_URL", "TEMP_URL_SIGNAL").await;
}

#[tokio::test]
async fn poll_temp_url_with_cfn_signal() {
    cell("POLL_TEMP_URL", "CFN_SIGNAL").await;
}

#[tokio::test]
async fn poll_temp_url_with_heat_signal() {
    cell("POLL_TEMP_URL", "HEAT_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_cfn_with_temp_url_signal() {
    cell("POLL_SERVER_CFN", "TEMP_URL_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_cfn_with_cfn_signal() {
    cell("POLL_SERVER_CFN", "CFN_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_cfn_with_heat_signal() {
    cell("POLL_SERVER_CFN", "HEAT_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_heat_with_temp_url_signal() {
    cell("POLL_SERVER_HEAT", "TEMP_URL_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_heat_with_cfn_signal() {
    cell("POLL_SERVER_HEAT", "CFN_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_heat_with_heat_signal() {
    cell("POLL_SERVER_HEAT", "HEAT_SIGNAL").await;
}

/// os-collect-config's request collector, driven one poll per line of stdin as its main
/// loop calls it (HEAD, then GET only when `Last-Modified` is absent or newer than the
/// last one it fetched); prints the fetched deployment's input `v`, or `null` when the
/// collector found nothing new.
const POLLER: &str = r#"
import json, sys
from oslo_config import cfg
from os_collect_config import collect, exc, request
collect.setup_conf()
cfg.CONF(args=["--config-file", sys.argv[2], "--request-metadata-url", sys.argv[1]], prog="os-collect-config")
collector = request.Collector()
for _ in sys.stdin:
    try:
        document = dict(collector.collect())["request"]
        inputs = document["deployments"][0]["inputs"]
        print(json.dumps([i["value"] for i in inputs if i["name"] == "v"][0]), flush=True)
    except exc.SourceNotAvailable:
        print("null", flush=True)
"#;

const CHANGING: &str = r##"
heat_template_version: 2018-08-31
parameters:
  v:
    type: string
resources:
  server:
    type: OS::Heat::DeployedServer
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      config: "#!/bin/sh\n"
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: {get_resource: server}
      signal_transport: NO_SIGNAL
      input_values:
        v: {get_param: v}
"##;

struct Poller {
    input: tokio::process::ChildStdin,
    output: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    seen: Vec<Value>,
    _child: tokio::process::Child,
}

impl Poller {
    /// One poll; what it fetched (`null`: nothing new).
    async fn poll(&mut self) -> Value {
        use tokio::io::AsyncWriteExt;
        self.input.write_all(b"poll\n").await.unwrap();
        let line = self
            .output
            .next_line()
            .await
            .unwrap()
            .expect("the poller exited");
        let v: Value = serde_json::from_str(&line).unwrap();
        self.seen.push(v.clone());
        v
    }
}

#[tokio::test]
async fn the_stock_request_collector_fetches_changes_made_within_one_second() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let Some(agents) = StockAgents::find("request collector") else {
        return;
    };
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("changing", CHANGING, json!({"v": "0"}))
        .await
        .unwrap();
    let created = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(created["stack_status"], "CREATE_COMPLETE", "{created}");
    let url = api.metadata_url(&stack, "server").await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("os-collect-config.conf");
    std::fs::write(&conf, "[DEFAULT]\n").unwrap();
    let mut poller = tokio::process::Command::new(agents.venv_bin.join("python3"))
        .args(["-c", POLLER, &url])
        .arg(&conf)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut poller = Poller {
        input: poller.stdin.take().unwrap(),
        output: BufReader::new(poller.stdout.take().unwrap()).lines(),
        seen: Vec::new(),
        _child: poller,
    };
    assert_eq!(poller.poll().await, "0");
    // Changes in quick succession, each polled for once it is published: every one must
    // be fetched, also one made in the same second as the one fetched before it.
    for v in ["1", "2", "3", "4", "5"] {
        let (status, body) = api
            .call(
                reqwest::Method::PATCH,
                &stack,
                Some(json!({"parameters": {"v": v}})),
            )
            .await
            .unwrap();
        assert_eq!(status.as_u16(), 202, "{body}");
        let updated = api.wait_stack(&stack, T).await.unwrap();
        assert_eq!(updated["stack_status"], "UPDATE_COMPLETE", "{updated}");
        assert_eq!(poller.poll().await, v, "fetched so far: {:?}", poller.seen);
    }
    // Once the last change has settled, Last-Modified is given, and an unchanged document
    // is fetched once more (the last fetch had no date) and then no longer.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(poller.poll().await, "5");
    assert_eq!(poller.poll().await, Value::Null, "{:?}", poller.seen);
    server.stop().await;
}
