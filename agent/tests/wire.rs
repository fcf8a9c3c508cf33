//! Golden wire tests of the agent alone against a recording HTTP server: what the cfn,
//! heat and request collectors and the CFN_SIGNAL, TEMP_URL_SIGNAL and HEAT_SIGNAL
//! transports send (NO_SIGNAL sends nothing), byte for byte where it matters (reference
//! heat-agents.md §1.5, §4.4), and how the captured DescribeStackResource reply of real
//! Heat (heat-wire-captures.md) is read.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use support::{Recorder, json_reply, reply};
use updraft_agent::backoff::BackoffPolicy;
use updraft_agent::collectors::cfn::CfnCollector;
use updraft_agent::collectors::heat::HeatCollector;
use updraft_agent::collectors::{CfnSettings, Change, HeatSettings};
use updraft_agent::notify::{DeliveryError, Notifier, RetryLimit, Signal, SignalTarget};
use updraft_agent::secret::Secret;
use updraft_hooks::Deployment;

/// base64(HMAC-SHA256(secret, text)), computed here independently of the agent.
fn hmac_b64(secret: &str, text: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The script of the captured document, with a `>` the CFN API escapes as `&gt;`.
const SCRIPT: &str = "#!/bin/sh\necho \"deploying $deploy_resource_name (action $deploy_action) foo=$foo\"\nprintf '%s' \"result-of-$foo\" > \"$heat_outputs_path.result\"\n";

fn captured_document(url: &str) -> Value {
    json!({"deployments": [{
        "id": "e6c3b4c3-3f75-4ae0-a76f-040370ccd6a4",
        "name": "ks-cfn-heat-vc63a93f4-config-bqjbnsrey43u",
        "group": "script",
        "creation_time": "2026-11-23T08:10:16Z",
        "config": SCRIPT,
        "inputs": [
            {"name": "foo", "description": "", "type": "String", "default": "", "value": "vc63a93f4"},
            {"name": "deploy_action", "description": "Name of the current action being deployed", "type": "String", "value": "CREATE"},
            {"name": "deploy_signal_transport", "type": "String", "value": "HEAT_SIGNAL"}
        ],
        "outputs": [{"name": "result", "description": "", "type": "String", "error_output": false}],
        "options": {}}],
     "os-collect-config": {"collectors": ["cfn", "local"],
        "cfn": {"metadata_url": url, "access_key_id": "f4381bac9e354173973820434b8a22b1",
                "secret_access_key": "<redacted>", "stack_name": "ks-cfn-heat-vc63a93f4", "path": "server.Metadata"}}})
}

/// The DescribeStackResource reply as real Heat lays it out (element order, line breaks,
/// `ResourceStatus` last), the document's JSON text escaped as Heat's serialiser does.
fn captured_reply(document: &Value) -> String {
    let text = document
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<DescribeStackResourceResponse><DescribeStackResourceResult><StackResourceDetail>\n<Description></Description><LastUpdatedTimestamp>2026-11-23T08:05:52Z</LastUpdatedTimestamp>\n<LogicalResourceId>server</LogicalResourceId><Metadata>{text}</Metadata>\n<PhysicalResourceId>20c1001a-0000</PhysicalResourceId><ResourceStatusReason>state changed</ResourceStatusReason>\n<ResourceType>OS::Heat::DeployedServer</ResourceType><StackId>arn:openstack:heat::578dac6a:stacks/ks-cfn-cfn-ve330ef24/e44bfa8e</StackId>\n<StackName>ks-cfn-cfn-ve330ef24</StackName><ResourceStatus>CREATE_COMPLETE</ResourceStatus>\n</StackResourceDetail></DescribeStackResourceResult></DescribeStackResourceResponse>"
    )
}

fn cfn_settings(url: &str, paths: &[&str]) -> CfnSettings {
    CfnSettings {
        metadata_url: url.to_string(),
        access_key_id: "AKID".into(),
        secret_access_key: Secret::new("s3cret"),
        stack_name: "mystack".into(),
        path: paths.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn the_cfn_signature_matches_the_string_to_sign_of_the_reference() {
    // heat-agents.md §1.5, verified byte-exact against os-collect-config.
    let expected = "GET\n127.0.0.1:8766\n/v1/\nAWSAccessKeyId=AKID&Action=DescribeStackResource&LogicalResourceId=server1&SignatureMethod=HmacSHA256&SignatureVersion=2&StackName=mystack";
    let collector = CfnCollector::new(
        reqwest::Client::new(),
        &cfn_settings("http://127.0.0.1:8766/v1/", &["server1.Metadata"]),
    )
    .unwrap();
    let query = collector.signed_query("server1");
    let keys: Vec<&str> = query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "Action",
            "StackName",
            "LogicalResourceId",
            "AWSAccessKeyId",
            "SignatureVersion",
            "SignatureMethod",
            "Signature"
        ]
    );
    assert_eq!(query[6].1, hmac_b64("s3cret", expected));
}

#[tokio::test]
async fn the_cfn_collector_sends_os_collect_configs_request_and_reads_heats_reply() {
    let document = Arc::new(std::sync::Mutex::new(Value::Null));
    let served = document.clone();
    let recorder = Recorder::start(move |_| {
        let body = captured_reply(&served.lock().unwrap());
        reply(
            200,
            &[("content-type", "application/xml; charset=UTF-8")],
            body,
        )
    })
    .await;
    let url = format!("{}/v1/", recorder.base);
    *document.lock().unwrap() = captured_document(&url);
    // Two paths: each request carries its own valid signature (upstream signs the second
    // over both strings).
    let mut collector = CfnCollector::new(
        reqwest::Client::new(),
        &cfn_settings(&url, &["server1.Metadata", "server2.Metadata"]),
    )
    .unwrap();
    let Change::Document(doc) = collector.fetch().await.unwrap() else {
        panic!("the first fetch is a document")
    };
    let requests = recorder.requests();
    assert_eq!(requests.len(), 2);
    for (request, resource) in requests.iter().zip(["server1", "server2"]) {
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/v1/");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert!(request.body.is_empty());
        let pairs = request.query_pairs();
        let (signature, unsigned) = pairs.split_last().unwrap();
        assert_eq!(
            unsigned,
            [
                ("Action".to_string(), "DescribeStackResource".to_string()),
                ("StackName".into(), "mystack".into()),
                ("LogicalResourceId".into(), resource.into()),
                ("AWSAccessKeyId".into(), "AKID".into()),
                ("SignatureVersion".into(), "2".into()),
                ("SignatureMethod".into(), "HmacSHA256".into()),
            ]
        );
        assert_eq!(signature.0, "Signature");
        let string_to_sign = format!(
            "GET\n{}\n/v1/\nAWSAccessKeyId=AKID&Action=DescribeStackResource&LogicalResourceId={resource}&SignatureMethod=HmacSHA256&SignatureVersion=2&StackName=mystack",
            recorder.host
        );
        assert_eq!(
            signature.1,
            hmac_b64("s3cret", &string_to_sign),
            "{resource}"
        );
        assert!(
            !pairs
                .iter()
                .any(|(k, _)| k == "Timestamp" || k == "Version")
        );
    }
    // The JSON text inside <Metadata>, `&gt;` and all.
    assert_eq!(doc.deployments.len(), 1);
    assert_eq!(doc.deployments[0].config, json!(SCRIPT));
    assert!(SCRIPT.contains("\"result-of-$foo\" > \"$heat_outputs_path.result\""));
    assert_eq!(doc.collect_config.as_ref().unwrap()["collectors"][0], "cfn");

    // The same document again is no change; another one is.
    assert_eq!(collector.fetch().await.unwrap(), Change::Unchanged);
    document.lock().unwrap()["deployments"] = json!([]);
    let Change::Document(doc) = collector.fetch().await.unwrap() else {
        panic!("a changed document")
    };
    assert!(doc.deployments.is_empty());
}

#[tokio::test]
async fn a_cfn_reply_without_the_field_or_with_an_error_is_a_fetch_error() {
    let recorder = Recorder::start(|r| {
        if r.query_pairs().iter().any(|(_, v)| v == "forbidden") {
            reply(403, &[], "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>")
        } else {
            reply(200, &[], "<R><DescribeStackResourceResult><StackResourceDetail><Description/></StackResourceDetail></DescribeStackResourceResult></R>")
        }
    })
    .await;
    let url = format!("{}/v1/", recorder.base);
    let mut c = CfnCollector::new(
        reqwest::Client::new(),
        &cfn_settings(&url, &["server.Metadata"]),
    )
    .unwrap();
    let err = c.fetch().await.unwrap_err().to_string();
    assert!(err.contains("path server.Metadata does not exist"), "{err}");
    let mut c = CfnCollector::new(
        reqwest::Client::new(),
        &cfn_settings(&url, &["forbidden.Metadata"]),
    )
    .unwrap();
    let err = c.fetch().await.unwrap_err().to_string();
    assert!(err.contains("HTTP 403"), "{err}");
    assert!(
        !err.contains("s3cret") && !err.contains("Signature"),
        "{err}"
    );
}

/// A Keystone + Heat stand-in: discovery at `/v3/`, tokens `tok-N` at `/v3/auth/tokens`,
/// the metadata of `s/123`'s `server` (accepting tokens numbered `min` and up) and the
/// signal of its `deployment` (answering `signal_status` in turn, then 200).
struct Cloud {
    recorder: Recorder,
    min: Arc<AtomicU32>,
}

async fn cloud(signal_statuses: Vec<u16>) -> Cloud {
    let issued = Arc::new(AtomicU32::new(0));
    let min = Arc::new(AtomicU32::new(1));
    let statuses = Arc::new(std::sync::Mutex::new(signal_statuses));
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let (b, m) = (base.clone(), min.clone());
    let recorder = Recorder::start(move |r| {
        let base = b.get().cloned().unwrap_or_default();
        let token_ok = r
            .header("x-auth-token")
            .and_then(|t| t.strip_prefix("tok-"))
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= m.load(Ordering::SeqCst));
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v3/") => json_reply(
                200,
                &[],
                &json!({"version": {"id": "v3.14", "status": "stable", "links": [{"rel": "self", "href": format!("{base}/v3/")}]}}),
            ),
            ("POST", "/v3/auth/tokens") => {
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                json_reply(
                    201,
                    &[("x-subject-token", &format!("tok-{n}"))],
                    &json!({"token": {
                        "issued_at": "2026-01-01T00:00:00.000000Z",
                        "expires_at": "2026-01-01T01:00:00.000000Z",
                        "catalog": [
                            {"type": "orchestration", "endpoints": [
                                {"interface": "public", "region_id": "RegionOne", "url": "http://127.0.0.1:9/v1/proj"},
                                {"interface": "internal", "region_id": "RegionTwo", "url": "http://127.0.0.1:9/v1/proj"},
                                {"interface": "public", "region_id": "RegionTwo", "url": format!("{base}/v1/proj")}
                            ]}
                        ]}}),
                )
            }
            ("GET", "/v1/proj/stacks/s/123/resources/server/metadata") if token_ok => {
                json_reply(200, &[], &json!({"metadata": {"deployments": [], "os-collect-config": {"collectors": ["heat"]}}}))
            }
            ("POST", "/v1/proj/stacks/s/123/resources/deployment/signal") if token_ok => {
                let mut s = statuses.lock().unwrap();
                let status = if s.is_empty() { 200 } else { s.remove(0) };
                json_reply(status, &[], &Value::Null)
            }
            (_, p) if p.starts_with("/v1/") => json_reply(401, &[], &json!({"error": {"code": 401}})),
            _ => json_reply(404, &[], &Value::Null),
        }
    })
    .await;
    base.set(recorder.base.clone()).unwrap();
    Cloud { recorder, min }
}

fn token_body() -> Value {
    json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"id": "uid", "password": "pw"}}},
        "scope": {"project": {"id": "proj"}},
    }})
}

#[tokio::test]
async fn the_heat_collector_discovers_authenticates_and_reuses_its_token() {
    let cloud = cloud(vec![]).await;
    let settings = HeatSettings {
        auth_url: format!("{}/v3/", cloud.recorder.base),
        user_id: "uid".into(),
        password: Secret::new("pw"),
        project_id: "proj".into(),
        stack_id: "s/123".into(),
        resource_name: "server".into(),
        region_name: Some("RegionTwo".into()),
    };
    let mut collector = HeatCollector::new(reqwest::Client::new(), &settings).unwrap();
    let Change::Document(doc) = collector.fetch().await.unwrap() else {
        panic!("a document")
    };
    assert_eq!(doc.collect_config, Some(json!({"collectors": ["heat"]})));
    let r = cloud.recorder.requests();
    let seen: Vec<(String, String)> = r
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET".to_string(), "/v3/".to_string()),
            ("POST".into(), "/v3/auth/tokens".into()),
            (
                "GET".into(),
                "/v1/proj/stacks/s/123/resources/server/metadata".into()
            ),
        ]
    );
    assert_eq!(r[1].header("content-type"), Some("application/json"));
    assert_eq!(r[1].json(), token_body());
    assert_eq!(r[2].header("x-auth-token"), Some("tok-1"));
    assert_eq!(r[2].query, None);

    // The token is kept: one request per poll, and the same document is no change.
    assert_eq!(collector.fetch().await.unwrap(), Change::Unchanged);
    assert_eq!(cloud.recorder.requests().len(), 4);

    // A 401 (the token was revoked) authenticates again at once.
    cloud.min.store(2, Ordering::SeqCst);
    assert_eq!(collector.fetch().await.unwrap(), Change::Unchanged);
    let r = cloud.recorder.requests();
    let tail: Vec<(&str, Option<&str>)> = r[4..]
        .iter()
        .map(|r| (r.path.as_str(), r.header("x-auth-token")))
        .collect();
    assert_eq!(
        tail,
        [
            (
                "/v1/proj/stacks/s/123/resources/server/metadata",
                Some("tok-1")
            ),
            ("/v3/", None),
            ("/v3/auth/tokens", None),
            (
                "/v1/proj/stacks/s/123/resources/server/metadata",
                Some("tok-2")
            ),
        ]
    );
}

fn heat_signal(base: &str) -> Signal {
    let d: Deployment = serde_json::from_value(json!({"id": "x", "inputs": [
        {"name": "deploy_stack_id", "value": "s/123"},
        {"name": "deploy_resource_name", "value": "deployment"},
        {"name": "deploy_signal_transport", "value": "HEAT_SIGNAL"},
        {"name": "deploy_auth_url", "value": format!("{base}/v3/")},
        {"name": "deploy_username", "value": "dep-user"},
        {"name": "deploy_user_id", "value": "uid"},
        {"name": "deploy_password", "value": "pw"},
        {"name": "deploy_project_id", "value": "proj"},
        {"name": "deploy_region_name", "value": "RegionTwo"}
    ]}))
    .unwrap();
    match SignalTarget::of(&d).unwrap() {
        SignalTarget::Send(s @ Signal::Heat(_)) => s,
        other => panic!("{other:?}"),
    }
}

fn notifier() -> Notifier {
    Notifier::new(
        reqwest::Client::new(),
        BackoffPolicy {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
            jitter: 0.0,
        },
    )
}

const PAYLOAD: &[u8] =
    br#"{"deploy_stdout": "hi\n", "deploy_stderr": "", "deploy_status_code": 0, "result": "r"}"#;

#[tokio::test]
async fn heat_signal_posts_the_payload_with_a_token_as_heat_config_notify() {
    let cloud = cloud(vec![]).await;
    let status = notifier()
        .deliver(
            &heat_signal(&cloud.recorder.base),
            PAYLOAD,
            RetryLimit::DAEMON,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let r = cloud.recorder.requests();
    // keystoneclient's v3 client takes deploy_auth_url as the v3 URL: no discovery.
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(
        (r[0].method.as_str(), r[0].path.as_str()),
        ("POST", "/v3/auth/tokens")
    );
    assert_eq!(r[0].json(), token_body());
    assert_eq!(r[1].method, "POST");
    assert_eq!(
        r[1].path,
        "/v1/proj/stacks/s/123/resources/deployment/signal"
    );
    assert_eq!(r[1].header("x-auth-token"), Some("tok-1"));
    assert_eq!(r[1].header("content-type"), Some("application/json"));
    assert_eq!(&r[1].body[..], PAYLOAD);
}

#[tokio::test]
async fn heat_signal_reauthenticates_once_on_401_retries_5xx_and_gives_up_on_403() {
    // 401 → a new token and the POST again; then 503 → retried with backoff; then 200.
    let cloud = cloud(vec![]).await;
    cloud.min.store(2, Ordering::SeqCst);
    let signal = heat_signal(&cloud.recorder.base);
    assert_eq!(
        notifier()
            .deliver(&signal, PAYLOAD, RetryLimit::DAEMON)
            .await
            .unwrap(),
        200
    );
    let paths: Vec<(String, Option<String>)> = cloud
        .recorder
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.header("x-auth-token").map(str::to_string)))
        .collect();
    let signal_path = "/v1/proj/stacks/s/123/resources/deployment/signal".to_string();
    assert_eq!(
        paths,
        [
            ("/v3/auth/tokens".to_string(), None),
            (signal_path.clone(), Some("tok-1".into())),
            ("/v3/auth/tokens".to_string(), None),
            (signal_path.clone(), Some("tok-2".into())),
        ]
    );

    let cloud = crate::cloud(vec![503, 429, 200]).await;
    let signal = heat_signal(&cloud.recorder.base);
    assert_eq!(
        notifier()
            .deliver(&signal, PAYLOAD, RetryLimit::DAEMON)
            .await
            .unwrap(),
        200
    );
    let r = cloud.recorder.requests();
    assert_eq!(r.len(), 4, "one token, three POSTs: {r:?}");

    let cloud = crate::cloud(vec![403]).await;
    let signal = heat_signal(&cloud.recorder.base);
    let err = notifier()
        .deliver(&signal, PAYLOAD, RetryLimit::DAEMON)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected { attempts: 1, .. }),
        "{err}"
    );
    assert!(err.is_permanent());
    assert!(
        !err.to_string().contains("pw") && !err.to_string().contains("tok-"),
        "{err}"
    );
}

#[tokio::test]
async fn the_heat_collector_falls_back_to_v3_and_resolves_a_bare_stack_id() {
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let b = base.clone();
    let recorder = Recorder::start(move |r| {
        let base = b.get().cloned().unwrap_or_default();
        match (r.method.as_str(), r.path.as_str()) {
            // No discovery document: the agent falls back to `/v2.0` → `/v3`.
            ("GET", "/") => json_reply(404, &[], &Value::Null),
            ("POST", "/v3/auth/tokens") => json_reply(
                201,
                &[("x-subject-token", "tok")],
                &json!({"token": {"catalog": [{"type": "orchestration", "endpoints": [
                    {"interface": "public", "url": format!("{base}/v1/proj")}]}]}}),
            ),
            ("GET", "/v1/proj/stacks/123") => reply(
                302,
                &[("location", &format!("{base}/v1/proj/stacks/named/123"))],
                "",
            ),
            ("GET", "/v1/proj/stacks/named/123/resources/server/metadata") => {
                json_reply(200, &[], &json!({"metadata": {"deployments": []}}))
            }
            _ => json_reply(404, &[], &Value::Null),
        }
    })
    .await;
    base.set(recorder.base.clone()).unwrap();
    let settings = HeatSettings {
        auth_url: format!("{}/v2.0", recorder.base),
        user_id: "uid".into(),
        password: Secret::new("pw"),
        project_id: "proj".into(),
        stack_id: "123".into(),
        resource_name: "server".into(),
        region_name: None,
    };
    let mut collector = HeatCollector::new(reqwest::Client::new(), &settings).unwrap();
    assert!(matches!(
        collector.fetch().await.unwrap(),
        Change::Document(_)
    ));
    let seen: Vec<String> = recorder
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        seen,
        [
            "GET /",
            "POST /v3/auth/tokens",
            "GET /v1/proj/stacks/123",
            "GET /v1/proj/stacks/named/123/resources/server/metadata"
        ]
    );
}

#[tokio::test]
async fn the_request_collector_revalidates_with_the_etag_and_asks_for_a_long_poll() {
    use updraft_agent::collectors::request::RequestCollector;
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let recorder = Recorder::start(move |r| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => json_reply(
            200,
            &[("etag", "\"v1\""), ("preference-applied", "wait=25")],
            &json!({"deployments": [], "os-collect-config": {"collectors": ["request"]}}),
        ),
        1 if r.header("if-none-match") == Some("\"v1\"") => reply(304, &[], ""),
        _ => json_reply(200, &[], &json!({"deployments": []})),
    })
    .await;
    let url = format!(
        "{}/temp_url/v1/metadata/abc?temp_url_sig=s3cr3t&temp_url_expires=99",
        recorder.base
    );
    let mut collector = RequestCollector::new(reqwest::Client::new(), &url).unwrap();
    assert!(
        !collector.shown_url().contains("s3cr3t"),
        "{}",
        collector.shown_url()
    );

    let first = collector
        .fetch(Some(Duration::from_secs(25)))
        .await
        .unwrap();
    assert!(first.long_poll_applied);
    assert!(matches!(first.change, Change::Document(_)), "{first:?}");
    let second = collector
        .fetch(Some(Duration::from_secs(25)))
        .await
        .unwrap();
    assert_eq!(second.change, Change::Unchanged);
    // A server that does not long-poll (a Swift TempURL) is polled without the wait.
    let third = collector.fetch(None).await.unwrap();
    assert!(!third.long_poll_applied);

    let r = recorder.requests();
    assert_eq!(r.len(), 3, "{r:?}");
    for req in &r {
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/temp_url/v1/metadata/abc");
        assert_eq!(
            req.query.as_deref(),
            Some("temp_url_sig=s3cr3t&temp_url_expires=99")
        );
        assert_eq!(req.body.len(), 0);
    }
    assert_eq!(r[0].header("if-none-match"), None);
    assert_eq!(r[0].header("prefer"), Some("wait=25"));
    assert_eq!(r[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(r[1].header("prefer"), Some("wait=25"));
    assert_eq!(r[2].header("if-none-match"), Some("\"v1\""));
    assert_eq!(r[2].header("prefer"), None);
}

/// A deployment whose inputs name `url` as its signal (and `verb`, when given).
fn url_deployment(transport: &str, url: &str, verb: Option<&str>) -> Deployment {
    let mut inputs = vec![
        json!({"name": "deploy_signal_transport", "value": transport}),
        json!({"name": "deploy_signal_id", "value": url}),
    ];
    if let Some(verb) = verb {
        inputs.push(json!({"name": "deploy_signal_verb", "value": verb}));
    }
    serde_json::from_value(json!({"id": "d1", "name": "dep", "inputs": inputs})).unwrap()
}

fn signal_of(d: &Deployment) -> Signal {
    match SignalTarget::of(d).unwrap() {
        SignalTarget::Send(s) => s,
        other => panic!("{other:?}"),
    }
}

/// The path and query of a pre-signed CFN signal URL as real Heat makes them
/// (heat-wire-captures.md): the ARN percent-encoded, a Timestamp, the EC2 v2 signature.
const CFN_SIGNAL_PATH: &str = "/v1/signal/arn%3Aopenstack%3Aheat%3A%3A3ad06fb8%3Astacks%2Fst%2F0484218c%2Fresources%2Fdeployment";
const CFN_SIGNAL_QUERY: &str = "Timestamp=2026-11-02T10%3A00%3A00Z&SignatureMethod=HmacSHA256&AWSAccessKeyId=4b1a7e&SignatureVersion=2&Signature=q%2BZ3Vb%2F0%3D";

#[tokio::test]
async fn cfn_signal_posts_the_payload_to_the_presigned_url_verbatim() {
    let recorder = Recorder::start(|_| reply(200, &[], "")).await;
    let url = format!("{}{CFN_SIGNAL_PATH}?{CFN_SIGNAL_QUERY}", recorder.base);
    let signal = signal_of(&url_deployment("CFN_SIGNAL", &url, None));
    assert!(!signal.shown().contains("Signature="), "{}", signal.shown());
    let status = notifier()
        .deliver(&signal, PAYLOAD, RetryLimit::DAEMON)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let r = recorder.requests();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].method, "POST");
    assert_eq!(r[0].path, CFN_SIGNAL_PATH);
    assert_eq!(r[0].query.as_deref(), Some(CFN_SIGNAL_QUERY));
    assert_eq!(r[0].header("content-type"), Some("application/json"));
    assert_eq!(r[0].header("x-auth-token"), None);
    assert_eq!(&r[0].body[..], PAYLOAD);
}

#[tokio::test]
async fn temp_url_signal_puts_the_payload_and_retries_a_503() {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let recorder = Recorder::start(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            reply(503, &[], "busy")
        } else {
            reply(201, &[], "")
        }
    })
    .await;
    let url = format!(
        "{}/v1/AUTH_proj/heat-signal/dep-1?temp_url_sig=abc&temp_url_expires=2000000000",
        recorder.base
    );
    let signal = signal_of(&url_deployment("TEMP_URL_SIGNAL", &url, Some("PUT")));
    let status = notifier()
        .deliver(&signal, PAYLOAD, RetryLimit::DAEMON)
        .await
        .unwrap();
    assert_eq!(status, 201);
    let r = recorder.requests();
    assert_eq!(r.len(), 2, "{r:?}");
    for req in &r {
        assert_eq!(req.method, "PUT");
        assert_eq!(req.path, "/v1/AUTH_proj/heat-signal/dep-1");
        assert_eq!(
            req.query.as_deref(),
            Some("temp_url_sig=abc&temp_url_expires=2000000000")
        );
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(&req.body[..], PAYLOAD);
    }
}

#[tokio::test]
async fn a_refused_presigned_url_is_a_permanent_failure_never_a_success() {
    // Real Heat refuses a CFN URL whose signature timestamp is older than 15 minutes.
    let recorder = Recorder::start(|_| {
        reply(
            403,
            &[("content-type", "text/xml")],
            "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>",
        )
    })
    .await;
    let url = format!("{}{CFN_SIGNAL_PATH}?{CFN_SIGNAL_QUERY}", recorder.base);
    let signal = signal_of(&url_deployment("CFN_SIGNAL", &url, None));
    let err = notifier()
        .deliver(&signal, PAYLOAD, RetryLimit::DAEMON)
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert!(
        matches!(err, DeliveryError::Rejected { attempts: 1, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("403"), "{text}");
    assert!(
        !text.contains("Signature=q"),
        "the signature leaked: {text}"
    );
    assert_eq!(recorder.requests().len(), 1);
}

#[test]
fn no_signal_sends_nothing_and_zaqar_is_named_as_unsupported() {
    let none: Deployment = serde_json::from_value(json!({"id": "d", "inputs": [
        {"name": "deploy_signal_transport", "value": "NO_SIGNAL"}
    ]}))
    .unwrap();
    assert_eq!(SignalTarget::of(&none).unwrap(), SignalTarget::NoSignal);
    let zaqar: Deployment = serde_json::from_value(json!({"id": "d", "inputs": [
        {"name": "deploy_signal_transport", "value": "ZAQAR_SIGNAL"},
        {"name": "deploy_queue_id", "value": "q"}
    ]}))
    .unwrap();
    assert_eq!(
        SignalTarget::of(&zaqar).unwrap(),
        SignalTarget::Unsupported {
            transport: "ZAQAR_SIGNAL"
        }
    );
}

#[tokio::test]
async fn cfn_signal_puts_heat_cfntools_body_without_a_content_type() {
    use clap::Parser as _;
    use updraft_agent::cfn_signal::{SignalArgs, send};
    let recorder = Recorder::start(|_| reply(200, &[], "")).await;
    let url = format!(
        "{}/v1/waitcondition/arn%3Aopenstack%3Aheat%3A%3Ap%3Astacks%2Fs%2F1%2Fresources%2Fhandle?Timestamp=t&SignatureMethod=HmacSHA256&AWSAccessKeyId=a&SignatureVersion=2&Signature=s",
        recorder.base
    );
    let args = SignalArgs::try_parse_from([
        "cfn-signal",
        "-e",
        "0",
        "-r",
        "booted",
        "-i",
        "1",
        "-d",
        "ok",
        &url,
    ])
    .unwrap();
    assert_eq!(send(&args).await.unwrap(), 200);
    let r = recorder.requests();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].method, "PUT");
    assert_eq!(
        r[0].path,
        "/v1/waitcondition/arn%3Aopenstack%3Aheat%3A%3Ap%3Astacks%2Fs%2F1%2Fresources%2Fhandle"
    );
    assert_eq!(r[0].header("content-type"), None);
    assert_eq!(
        std::str::from_utf8(&r[0].body).unwrap(),
        r#"{"Status":"SUCCESS","Reason":"booted","UniqueId":"1","Data":"ok"}"#
    );
}
