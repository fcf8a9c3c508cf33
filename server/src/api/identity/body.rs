//! The token document of `/v3/auth/tokens` and its service catalog.

use serde_json::{Value, json};
use sha2::Digest;

use crate::auth::stack_users::REGION;
use crate::auth::users::Principal;
use crate::store::CredentialRow;

/// Whom a token document describes.
pub struct Subject {
    /// User id.
    pub user_id: String,
    /// User name.
    pub user_name: String,
    /// Project id.
    pub project_id: String,
    /// Project name.
    pub project_name: String,
    /// Role names.
    pub roles: Vec<String>,
}

impl Subject {
    /// A project user.
    pub fn user(p: &Principal) -> Self {
        Subject {
            user_id: p.user.id.clone(),
            user_name: p.user.name.clone(),
            project_id: p.project.id.clone(),
            project_name: p.project.name.clone(),
            roles: p.caller().roles,
        }
    }

    /// A per-resource stack user.
    pub fn stack_user(c: &CredentialRow) -> Self {
        Subject {
            user_id: c.id.clone(),
            user_name: c.resource_name.clone(),
            project_id: c.project.clone(),
            project_name: c.project.clone(),
            roles: vec!["heat_stack_user".into()],
        }
    }
}

fn timestamp(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S.000000Z")
        .to_string()
}

fn short_id(text: &str) -> String {
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..16])
}

fn service(kind: &str, name: &str, url: &str) -> Value {
    let endpoints: Vec<Value> = ["public", "internal", "admin"]
        .iter()
        .map(|interface| {
            json!({
                "id": short_id(&format!("{interface} {url}")),
                "interface": interface,
                "region": REGION,
                "region_id": REGION,
                "url": url,
            })
        })
        .collect();
    json!({"type": kind, "name": name, "id": short_id(kind), "endpoints": endpoints})
}

/// The `{"token": …}` document for `subject`, expiring at `expires_at` (Unix seconds).
pub fn token_body(base: &str, subject: &Subject, expires_at: i64, method: &str) -> Value {
    let domain = json!({"id": "default", "name": "Default"});
    let roles: Vec<Value> = subject
        .roles
        .iter()
        .map(|r| json!({"id": r, "name": r}))
        .collect();
    json!({"token": {
        "methods": [method],
        "user": {"id": subject.user_id, "name": subject.user_name, "domain": domain, "password_expires_at": null},
        "project": {"id": subject.project_id, "name": subject.project_name, "domain": domain},
        "roles": roles,
        "is_domain": false,
        "audit_ids": [uuid::Uuid::new_v4().simple().to_string()],
        "issued_at": timestamp(chrono::Utc::now().timestamp()),
        "expires_at": timestamp(expires_at),
        "catalog": [
            service("orchestration", "heat", &format!("{base}/v1/{}", subject.project_id)),
            service("cloudformation", "heat-cfn", &format!("{base}/v1")),
            service("identity", "keystone", &format!("{base}/v3")),
        ],
    }})
}
