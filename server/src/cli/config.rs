//! Where the client CLI connects and with which credentials: `--url`/`UPDRAFT_URL` with
//! `--token`/`UPDRAFT_TOKEN`/`OS_TOKEN`, or a Keystone password login from the `OS_*`
//! variables (the `orchestration` endpoint taken from the catalog), or a profile in
//! `$XDG_CONFIG_HOME/updraft/config.toml` (default `~/.config/updraft/config.toml`):
//!
//! ```toml
//! [profiles.default]
//! url = "http://127.0.0.1:8004/v1/demo"
//! token = "…"
//! ```
//!
//! Flags and environment variables win over the profile's values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::{Value, json};

/// Connection options shared by every client command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectionArgs {
    /// The native API endpoint, e.g. http://127.0.0.1:8004/v1/<project>.
    #[arg(long, env = "UPDRAFT_URL", global = true, value_name = "URL")]
    url: Option<String>,
    /// A token (else UPDRAFT_TOKEN, OS_TOKEN, or a Keystone password login).
    #[arg(long, env = "UPDRAFT_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// A profile from the config file (default: `default`, when present).
    #[arg(long, env = "UPDRAFT_PROFILE", global = true)]
    profile: Option<String>,
}

/// One `[profiles.NAME]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    url: Option<String>,
    token: Option<String>,
    auth_url: Option<String>,
    username: Option<String>,
    password: Option<String>,
    project_name: Option<String>,
    project_id: Option<String>,
    user_domain_name: Option<String>,
    project_domain_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// A resolved connection: endpoint and token.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The endpoint (`…/v1/<project>`).
    pub url: String,
    /// The token sent as `X-Auth-Token`.
    pub token: String,
}

/// What a Keystone password login needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordAuth {
    /// `OS_AUTH_URL` (with or without `/v3`).
    pub auth_url: String,
    /// `OS_USERNAME`.
    pub username: String,
    /// `OS_PASSWORD`.
    pub password: String,
    /// `OS_PROJECT_NAME`.
    pub project_name: Option<String>,
    /// `OS_PROJECT_ID`.
    pub project_id: Option<String>,
    /// `OS_USER_DOMAIN_NAME` (default `Default`).
    pub user_domain_name: String,
    /// `OS_PROJECT_DOMAIN_NAME` (default `Default`).
    pub project_domain_name: String,
}

/// The config file's path: `$XDG_CONFIG_HOME/updraft/config.toml`, else under `~/.config`.
pub fn config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("updraft").join("config.toml"))
}

/// The chosen profile: `name` (an error when missing), else `default` if present.
fn load_profile(name: Option<&str>) -> anyhow::Result<Profile> {
    let path = config_path();
    let text = match &path {
        Some(p) if p.exists() => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        _ => String::new(),
    };
    let shown = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "config.toml".into());
    let file: ConfigFile =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{shown}: {}", e.message()))?;
    match name {
        Some(n) => file
            .profiles
            .get(n)
            .cloned()
            .with_context(|| format!("no profile [profiles.{n}] in {shown}")),
        None => Ok(file.profiles.get("default").cloned().unwrap_or_default()),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl ConnectionArgs {
    /// Resolves the endpoint and token, logging in to Keystone when needed.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        let profile = load_profile(self.profile.as_deref())?;
        let url = self.url.clone().or(profile.url.clone());
        let token = self
            .token
            .clone()
            .or_else(|| env("OS_TOKEN"))
            .or(profile.token.clone());
        if let (Some(url), Some(token)) = (&url, &token) {
            return Ok(Connection {
                url: url.clone(),
                token: token.clone(),
            });
        }
        let Some(auth) = password_auth(&profile) else {
            bail!(
                "no credentials: set --url/UPDRAFT_URL and --token/UPDRAFT_TOKEN, or OS_AUTH_URL, \
                 OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME, or a profile in {}",
                config_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "~/.config/updraft/config.toml".into())
            );
        };
        let (token, endpoint) = keystone_login(&auth).await?;
        let url = match url.or(endpoint) {
            Some(u) => u,
            None => bail!(
                "the Keystone catalog has no public orchestration endpoint: set --url/UPDRAFT_URL"
            ),
        };
        Ok(Connection { url, token })
    }
}

/// Password-login settings from `OS_*` (winning) and the profile, if complete enough.
fn password_auth(profile: &Profile) -> Option<PasswordAuth> {
    let pick = |var: &str, from: &Option<String>| env(var).or_else(|| from.clone());
    Some(PasswordAuth {
        auth_url: pick("OS_AUTH_URL", &profile.auth_url)?,
        username: pick("OS_USERNAME", &profile.username)?,
        password: pick("OS_PASSWORD", &profile.password)?,
        project_name: pick("OS_PROJECT_NAME", &profile.project_name),
        project_id: pick("OS_PROJECT_ID", &profile.project_id),
        user_domain_name: pick("OS_USER_DOMAIN_NAME", &profile.user_domain_name)
            .unwrap_or_else(|| "Default".into()),
        project_domain_name: pick("OS_PROJECT_DOMAIN_NAME", &profile.project_domain_name)
            .unwrap_or_else(|| "Default".into()),
    })
}

/// `<auth_url>/auth/tokens`, adding `/v3` when the URL does not name a version.
pub fn tokens_url(auth_url: &str) -> String {
    let base = auth_url.trim_end_matches('/');
    if base.ends_with("/v3") {
        format!("{base}/auth/tokens")
    } else {
        format!("{base}/v3/auth/tokens")
    }
}

/// Keystone v3's password request body, scoped to the project.
pub fn password_body(auth: &PasswordAuth) -> Value {
    let project = match (&auth.project_id, &auth.project_name) {
        (Some(id), _) => json!({"id": id}),
        (None, Some(name)) => json!({"name": name, "domain": {"name": auth.project_domain_name}}),
        (None, None) => Value::Null,
    };
    let mut body = json!({"auth": {"identity": {
        "methods": ["password"],
        "password": {"user": {
            "name": auth.username,
            "domain": {"name": auth.user_domain_name},
            "password": auth.password,
        }},
    }}});
    if !project.is_null() {
        body["auth"]["scope"] = json!({"project": project});
    }
    body
}

/// The public `orchestration` endpoint in a token's catalog.
pub fn orchestration_endpoint(token_body: &Value) -> Option<String> {
    token_body["token"]["catalog"]
        .as_array()?
        .iter()
        .filter(|s| s["type"] == "orchestration")
        .flat_map(|s| s["endpoints"].as_array().into_iter().flatten())
        .find(|e| e["interface"] == "public")
        .and_then(|e| e["url"].as_str())
        .map(str::to_string)
}

/// Logs in; returns the token (`X-Subject-Token`) and the catalog's endpoint.
async fn keystone_login(auth: &PasswordAuth) -> anyhow::Result<(String, Option<String>)> {
    let url = tokens_url(&auth.auth_url);
    let resp = reqwest::Client::new()
        .post(&url)
        .json(&password_body(auth))
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot reach Keystone at {url}: {e}\nhint: check OS_AUTH_URL")
        })?;
    let status = resp.status();
    let token = resp
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        let failure = super::client::failure_from_body(status, &text, &url);
        let hint = if status == reqwest::StatusCode::UNAUTHORIZED {
            "\nhint: check OS_USERNAME / OS_PASSWORD and the domains"
        } else {
            ""
        };
        bail!(
            "Keystone login failed: {} (HTTP {}){hint}",
            failure.message,
            status.as_u16()
        );
    }
    let Some(token) = token else {
        bail!("Keystone at {url} answered without an X-Subject-Token");
    };
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok((token, orchestration_endpoint(&body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> PasswordAuth {
        PasswordAuth {
            auth_url: "http://ks:5000/v3/".into(),
            username: "alice".into(),
            password: "pw".into(),
            project_name: Some("demo".into()),
            project_id: None,
            user_domain_name: "Default".into(),
            project_domain_name: "Dom".into(),
        }
    }

    #[test]
    fn the_password_request_is_keystones() {
        assert_eq!(
            tokens_url("http://ks:5000/v3/"),
            "http://ks:5000/v3/auth/tokens"
        );
        assert_eq!(
            tokens_url("http://ks:5000"),
            "http://ks:5000/v3/auth/tokens"
        );
        let body = password_body(&auth());
        assert_eq!(
            body,
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "alice", "domain": {"name": "Default"}, "password": "pw"}}},
                "scope": {"project": {"name": "demo", "domain": {"name": "Dom"}}}}})
        );
        let mut by_id = auth();
        by_id.project_id = Some("p1".into());
        assert_eq!(
            password_body(&by_id)["auth"]["scope"],
            json!({"project": {"id": "p1"}})
        );
    }

    #[test]
    fn the_public_orchestration_endpoint_is_taken_from_the_catalog() {
        let body = json!({"token": {"catalog": [
            {"type": "identity", "endpoints": [{"interface": "public", "url": "http://ks/v3"}]},
            {"type": "orchestration", "endpoints": [
                {"interface": "internal", "url": "http://int/v1/p"},
                {"interface": "public", "url": "http://pub:8004/v1/p"}]}
        ]}});
        assert_eq!(
            orchestration_endpoint(&body).as_deref(),
            Some("http://pub:8004/v1/p")
        );
        assert_eq!(orchestration_endpoint(&json!({"token": {}})), None);
    }

    #[test]
    fn profiles_parse() {
        let file: ConfigFile =
            toml::from_str("[profiles.a]\nurl = \"http://x/v1/p\"\ntoken = \"t\"\n").unwrap();
        assert_eq!(file.profiles["a"].url.as_deref(), Some("http://x/v1/p"));
        assert!(toml::from_str::<ConfigFile>("[profiles.a]\nbogus = 1\n").is_err());
    }
}
