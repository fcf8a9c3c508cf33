//! CloudFormation-format templates (`AWSTemplateFormatVersion: 2010-09-09` and
//! `HeatTemplateFormatVersion: 2012-12-12`) run through the same engine.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::json;
use updraft_e2e::{Api, Server};

const AWS: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "CFN features",
  "Parameters": {
    "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
    "Size": {"Type": "Number", "Default": "2", "MinValue": "1", "MaxValue": "9"}
  },
  "Mappings": {"Tiers": {"dev": {"Name": "bronze"}, "prod": {"Name": "gold"}}},
  "Conditions": {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]}
  },
  "Resources": {
    "Tier": {
      "Type": "OS::Heat::Value",
      "Properties": {"value": {"Fn::FindInMap": ["Tiers", {"Ref": "Env"}, "Name"]}}
    },
    "Label": {
      "Type": "OS::Heat::Value",
      "Properties": {"value": {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, {"Fn::GetAtt": ["Tier", "value"]}, {"Fn::If": ["IsProd", "big", "small"]}]]}}
    },
    "ProdOnly": {"Type": "OS::Heat::Value", "Condition": "IsProd", "Properties": {"value": 1}}
  },
  "Outputs": {
    "Label": {"Value": {"Fn::GetAtt": ["Label", "value"]}, "Description": "the label"},
    "Second": {"Value": {"Fn::Select": ["1", {"Fn::Split": [",", "a,b,c"]}]}},
    "Dev": {"Value": "yes", "Condition": "IsDev"}
  }
}"#;

#[tokio::test]
async fn aws_and_heat_cfn_templates_run() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api.create_stack("cfn", AWS, json!({})).await.unwrap();
    let done = api
        .wait_stack(&stack, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    assert_eq!(Api::output(&done, "Label"), json!("cfn-bronze-small"));
    assert_eq!(Api::output(&done, "Second"), json!("b"));
    assert_eq!(Api::output(&done, "Dev"), json!("yes"));
    assert_eq!(done["description"], "CFN features");

    let prod = api
        .create_stack("cfnprod", AWS, json!({"Env": "prod"}))
        .await
        .unwrap();
    let done = api
        .wait_stack(&prod, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(Api::output(&done, "Label"), json!("cfnprod-gold-big"));
    assert_eq!(Api::output(&done, "Dev"), json!(null));
    let (_, resources) = api.get(&format!("{prod}/resources")).await.unwrap();
    assert_eq!(resources["resources"].as_array().unwrap().len(), 3);

    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": "bad", "template": AWS, "parameters": {"Env": "qa"}})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");

    let heat = "HeatTemplateFormatVersion: '2012-12-12'\nResources:\n  V:\n    Type: OS::Heat::Value\n    Properties: {value: {'Fn::Base64': plain}}\nOutputs:\n  V: {Value: {'Fn::GetAtt': [V, value]}}\n";
    let stack = api.create_stack("heatcfn", heat, json!({})).await.unwrap();
    let done = api
        .wait_stack(&stack, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    assert_eq!(Api::output(&done, "V"), json!("plain"));
    server.stop().await;
}
