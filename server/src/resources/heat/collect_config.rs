//! The `os-collect-config` section of a server's metadata (reference heat-server.md §2.5,
//! heat-agents.md §1.6): which collector an agent uses for the server's
//! `software_config_transport`, with that transport's credentials.
//!
//! | transport | collector | credentials |
//! |---|---|---|
//! | POLL_TEMP_URL | `request` (`metadata_url`) | the signed URL itself |
//! | POLL_SERVER_CFN | `cfn` (`metadata_url` `<base>/v1/`, access key, `path`) | an EC2 access key |
//! | POLL_SERVER_HEAT | `heat` (`auth_url` `<base>/v3/`, user id, password, project, stack) | a stack user |
//!
//! Credentials are made once per server and remembered (by id only: the secrets are
//! derived from the server key) in the resource's data, so a resumed create or an update
//! hands out the same ones.

use serde_json::{Map, Value, json};

use crate::auth::cfn_urls;
use crate::auth::stack_users::REGION;
use crate::resources::{ResourceContext, ResourceError};

/// Transports Heat knows.
pub const TRANSPORTS: &[&str] = &[
    "POLL_SERVER_CFN",
    "POLL_SERVER_HEAT",
    "POLL_TEMP_URL",
    "ZAQAR_MESSAGE",
];

/// The collector sections Heat may have put in a document (all but the current one are
/// nulled on a transport change).
const COLLECTORS: &[&str] = &["cfn", "heat", "request", "zaqar"];

const ACCESS_KEY: &str = "cfn_access_key";

/// The collector name of `transport`.
pub fn collector(transport: &str) -> &'static str {
    match transport {
        "POLL_SERVER_CFN" => "cfn",
        "POLL_SERVER_HEAT" => "heat",
        "ZAQAR_MESSAGE" => "zaqar",
        _ => "request",
    }
}

/// Builds the section for `transport`, issuing its credentials on first use (recorded in
/// `data` and persisted before they are handed out). `previous` is the section the server
/// had; the keys of its other collectors are kept, with null values, as Heat does.
pub async fn section(
    ctx: &ResourceContext<'_>,
    transport: &str,
    server_id: &str,
    data: &mut Map<String, Value>,
    previous: Option<&Value>,
) -> Result<Value, ResourceError> {
    let services = ctx.services;
    let base = services.temp_urls.base().to_string();
    let name = collector(transport);
    let body = match transport {
        "POLL_SERVER_CFN" => {
            let access_key = match data.get(ACCESS_KEY).and_then(Value::as_str) {
                Some(k) => k.to_string(),
                None => {
                    let (key, _) = cfn_urls::issue_access_key(
                        &services.store,
                        &services.temp_urls,
                        &ctx.stack.project,
                        &ctx.stack.id,
                        ctx.name,
                    )
                    .await?;
                    data.insert(ACCESS_KEY.into(), json!(key));
                    ctx.set_data(data).await?;
                    key
                }
            };
            json!({
                "metadata_url": format!("{base}/v1/"),
                "access_key_id": access_key,
                "secret_access_key": services.temp_urls.ec2_secret(&access_key),
                "stack_name": ctx.stack.name,
                "path": format!("{}.Metadata", ctx.name),
            })
        }
        "POLL_SERVER_HEAT" => {
            let user = ctx.stack_user(data).await?;
            json!({
                "user_id": user.user_id,
                "password": user.password,
                "auth_url": format!("{base}/v3/"),
                "project_id": ctx.stack.project,
                "stack_id": format!("{}/{}", ctx.stack.name, ctx.stack.id),
                "resource_name": ctx.name,
                "region_name": REGION,
            })
        }
        "POLL_TEMP_URL" => json!({"metadata_url": services.temp_urls.metadata_url(server_id)}),
        other => {
            return Err(ResourceError::Failed(format!(
                "software_config_transport {other} is not supported"
            )));
        }
    };
    let mut occ = Map::new();
    occ.insert("collectors".into(), json!([name, "local"]));
    for other in COLLECTORS.iter().filter(|c| **c != name) {
        if let Some(Value::Object(old)) = previous.and_then(|p| p.get(*other)) {
            let nulled: Map<String, Value> = old.keys().map(|k| (k.clone(), Value::Null)).collect();
            occ.insert((*other).to_string(), Value::Object(nulled));
        }
    }
    occ.insert(name.into(), body);
    Ok(Value::Object(occ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::heat::test_support::Harness;

    #[tokio::test]
    async fn each_transport_has_heats_section_and_keeps_its_credentials() {
        let h = Harness::new().await;
        let ctx = h.ctx("server");
        let mut data = Map::new();
        let cfn = section(&ctx, "POLL_SERVER_CFN", "srv", &mut data, None)
            .await
            .unwrap();
        assert_eq!(cfn["collectors"], json!(["cfn", "local"]));
        assert_eq!(cfn["cfn"]["path"], json!("server.Metadata"));
        assert_eq!(cfn["cfn"]["metadata_url"], json!("http://127.0.0.1:9/v1/"));
        let again = section(&ctx, "POLL_SERVER_CFN", "srv", &mut data, None)
            .await
            .unwrap();
        assert_eq!(again, cfn, "the same access key every time");
        let heat = section(&ctx, "POLL_SERVER_HEAT", "srv", &mut data, Some(&cfn))
            .await
            .unwrap();
        assert_eq!(heat["collectors"], json!(["heat", "local"]));
        let keys: Vec<&String> = heat["heat"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "user_id",
                "password",
                "auth_url",
                "project_id",
                "stack_id",
                "resource_name",
                "region_name"
            ]
        );
        // The previous transport's keys stay, nulled.
        assert_eq!(
            heat["cfn"],
            json!({"metadata_url": null, "access_key_id": null, "secret_access_key": null, "stack_name": null, "path": null})
        );
        let request = section(&ctx, "POLL_TEMP_URL", "srv", &mut data, Some(&heat))
            .await
            .unwrap();
        assert_eq!(request["collectors"], json!(["request", "local"]));
        assert!(request["heat"]["password"].is_null());
    }
}
