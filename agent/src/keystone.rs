//! The Keystone v3 client both HEAT transports need (os-collect-config's `heat` collector,
//! heat-config-notify's HEAT_SIGNAL; reference heat-agents.md §1.5 and §4.4): optional
//! version discovery, a password token for a user id scoped to a project id, and the
//! catalog's public endpoint of a service type (in a region when one is set).
//!
//! A [`Session`] keeps its token until shortly before `expires_at` (upstream authenticates on
//! every poll); callers drop it with [`Session::invalidate`] when a service answers 401.
//! Neither the password nor a token is ever logged or put in an error message.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::http;
use crate::redact::redact_url_str;
use crate::secret::Secret;

/// Timeout of one Keystone request.
pub const KEYSTONE_TIMEOUT: Duration = Duration::from_secs(10);
/// A token is renewed this long before it expires (or a tenth of its lifetime, if shorter).
pub const RENEW_BEFORE: Duration = Duration::from_secs(60);
/// Lifetime assumed for a token whose reply has no usable `expires_at`.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

/// What a token is requested for: a user id and password, scoped to a project id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The identity URL (`…/v3` or a URL to discover it from).
    pub auth_url: String,
    /// The user's id.
    pub user_id: String,
    /// The user's password.
    pub password: Secret,
    /// The project the token is scoped to.
    pub project_id: String,
}

/// How the token URL is found from [`Credentials::auth_url`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    /// Version discovery first (os-collect-config's heat collector): `GET` the auth URL
    /// (`/v2.0` replaced by `/`), take the v3 entry's `self` link; if that fails,
    /// `auth_url` with `/v2.0` replaced by `/v3`.
    Discover,
    /// `auth_url` is the v3 URL (keystoneclient's v3 `Client`, as heat-config-notify uses it).
    Direct,
}

/// A Keystone exchange that failed. Messages carry redacted URLs only.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeystoneError {
    /// The identity URL does not parse.
    #[error("invalid identity URL {0}")]
    InvalidUrl(String),
    /// No response.
    #[error("cannot reach identity service {url}: {reason}")]
    Unreachable {
        /// Redacted URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Keystone refused (401: wrong credentials or a deleted user) or failed.
    #[error("identity service {url} answered HTTP {status}")]
    Status {
        /// Redacted URL.
        url: String,
        /// The status.
        status: StatusCode,
    },
    /// A 2xx answer without a token or with a body that is not a token.
    #[error("unusable token reply from {url}: {reason}")]
    BadReply {
        /// Redacted URL.
        url: String,
        /// What is missing.
        reason: String,
    },
    /// The catalog has no such endpoint.
    #[error("the service catalog has no public {service} endpoint{}", region.as_ref().map(|r| format!(" in region {r}")).unwrap_or_default())]
    NoEndpoint {
        /// The service type (`orchestration`).
        service: String,
        /// The region asked for.
        region: Option<String>,
    },
}

impl KeystoneError {
    /// The HTTP status Keystone answered, if it answered with an error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            KeystoneError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// An issued token and its catalog.
#[derive(Debug, Clone)]
pub struct Token {
    id: Secret,
    catalog: Value,
    renew_at: Instant,
}

impl Token {
    /// The token (for `X-Auth-Token`).
    pub fn id(&self) -> &Secret {
        &self.id
    }

    /// Whether it is still good to use (not within the renewal margin of its expiry).
    pub fn is_fresh(&self) -> bool {
        Instant::now() < self.renew_at
    }

    /// The public endpoint URL of `service_type`, in `region` when given (matched against
    /// an endpoint's `region_id` or `region`).
    pub fn endpoint(&self, service_type: &str, region: Option<&str>) -> Result<Url, KeystoneError> {
        let missing = || KeystoneError::NoEndpoint {
            service: service_type.to_string(),
            region: region.map(str::to_string),
        };
        let services = self.catalog.as_array().ok_or_else(missing)?;
        services
            .iter()
            .filter(|s| s["type"] == service_type)
            .flat_map(|s| s["endpoints"].as_array().into_iter().flatten())
            .filter(|e| e["interface"] == "public")
            .filter(|e| {
                region.is_none_or(|r| e["region_id"].as_str() == Some(r) || e["region"] == r)
            })
            .find_map(|e| e["url"].as_str().and_then(|u| Url::parse(u).ok()))
            .ok_or_else(missing)
    }
}

/// `<endpoint>/<segments…>` (a catalog URL extended by path segments, each
/// percent-encoded); `None` for an endpoint that cannot have a path.
pub fn service_url<'a>(endpoint: &Url, segments: impl IntoIterator<Item = &'a str>) -> Option<Url> {
    let mut url = endpoint.clone();
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(segments);
    Some(url)
}

/// The v3 URL discovered from `auth_url` ([`Discovery::Discover`]).
pub async fn discover_v3(client: &reqwest::Client, auth_url: &str) -> String {
    let fallback = auth_url.replace("/v2.0", "/v3");
    let root = auth_url.replace("/v2.0", "/");
    let response = client
        .get(&root)
        .header(ACCEPT, "application/json")
        .timeout(KEYSTONE_TIMEOUT)
        .send()
        .await;
    // Keystone's root answers 300 Multiple Choices with the list.
    let body: Option<Value> = match response {
        Ok(r) if r.status().is_success() || r.status() == StatusCode::MULTIPLE_CHOICES => {
            r.json().await.ok()
        }
        Ok(r) => {
            tracing::debug!(url = %redact_url_str(&root), status = %r.status(), "identity version discovery failed");
            None
        }
        Err(err) => {
            tracing::debug!(url = %redact_url_str(&root), "identity version discovery failed: {}", http::describe(&err));
            None
        }
    };
    body.and_then(|b| v3_link(&b)).unwrap_or(fallback)
}

/// The `self` link of the v3 version in a discovery document (one version or a list).
fn v3_link(body: &Value) -> Option<String> {
    let versions: Vec<&Value> = if body["version"].is_object() {
        vec![&body["version"]]
    } else if let Some(values) = body["versions"]["values"].as_array() {
        values.iter().collect()
    } else {
        body["versions"].as_array()?.iter().collect()
    };
    versions
        .into_iter()
        .filter(|v| v["id"].as_str().is_some_and(|id| id.starts_with("v3")))
        .find_map(|v| {
            v["links"].as_array()?.iter().find(|l| l["rel"] == "self")?["href"]
                .as_str()
                .map(str::to_string)
        })
}

/// The password-method token request body for `creds`, as keystoneclient sends it.
pub fn token_request(creds: &Credentials) -> Value {
    json!({"auth": {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"id": creds.user_id, "password": creds.password.expose()}},
        },
        "scope": {"project": {"id": creds.project_id}},
    }})
}

/// `POST <v3>/auth/tokens` for `creds`.
pub async fn authenticate(
    client: &reqwest::Client,
    v3_url: &str,
    creds: &Credentials,
) -> Result<Token, KeystoneError> {
    let url = format!("{}/auth/tokens", v3_url.trim_end_matches('/'));
    let shown = redact_url_str(&url);
    if shown == "<invalid URL>" {
        return Err(KeystoneError::InvalidUrl(redact_url_str(v3_url)));
    }
    let response = client
        .post(&url)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .timeout(KEYSTONE_TIMEOUT)
        .body(token_request(creds).to_string())
        .send()
        .await
        .map_err(|err| KeystoneError::Unreachable {
            url: shown.clone(),
            reason: http::describe(&err),
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(KeystoneError::Status { url: shown, status });
    }
    let bad = |reason: &str| KeystoneError::BadReply {
        url: shown.clone(),
        reason: reason.to_string(),
    };
    let id = response
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(Secret::new)
        .ok_or_else(|| bad("no X-Subject-Token header"))?;
    let mut body: Value = response
        .json()
        .await
        .map_err(|_| bad("the body is not JSON"))?;
    let token = body
        .get_mut("token")
        .map(Value::take)
        .filter(Value::is_object)
        .ok_or_else(|| bad("no token object"))?;
    let lifetime = lifetime(&token);
    let margin = RENEW_BEFORE.min(lifetime / 10);
    tracing::debug!(user_id = %creds.user_id, url = %shown, lifetime = lifetime.as_secs(), "token issued");
    Ok(Token {
        id,
        catalog: token["catalog"].clone(),
        renew_at: Instant::now() + lifetime.saturating_sub(margin),
    })
}

/// How long a token is valid: `expires_at - issued_at` when both parse (independent of this
/// machine's clock), else `expires_at` against the local clock, else [`DEFAULT_LIFETIME`].
fn lifetime(token: &Value) -> Duration {
    let at = |key: &str| {
        token[key]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let Some(expires) = at("expires_at") else {
        return DEFAULT_LIFETIME;
    };
    let from = at("issued_at").unwrap_or_else(|| chrono::Utc::now().fixed_offset());
    (expires - from).to_std().unwrap_or(Duration::ZERO)
}

/// Credentials with their current token.
#[derive(Debug, Clone)]
pub struct Session {
    client: reqwest::Client,
    creds: Credentials,
    discovery: Discovery,
    token: Option<Token>,
}

impl Session {
    /// A session that has not authenticated yet.
    pub fn new(client: reqwest::Client, creds: Credentials, discovery: Discovery) -> Self {
        Session {
            client,
            creds,
            discovery,
            token: None,
        }
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// A fresh token: the current one, or a new one (discovering first when configured).
    pub async fn token(&mut self) -> Result<&Token, KeystoneError> {
        if !self.token.as_ref().is_some_and(Token::is_fresh) {
            self.token = None;
            let v3 = match self.discovery {
                Discovery::Discover => discover_v3(&self.client, &self.creds.auth_url).await,
                Discovery::Direct => self.creds.auth_url.clone(),
            };
            let token = authenticate(&self.client, &v3, &self.creds).await?;
            tracing::info!(user_id = %self.creds.user_id, url = %redact_url_str(&v3), "authenticated");
            self.token = Some(token);
        }
        self.token.as_ref().ok_or_else(|| KeystoneError::BadReply {
            url: redact_url_str(&self.creds.auth_url),
            reason: "no token".into(),
        })
    }

    /// Forgets the token (a service answered 401): the next [`Session::token`] authenticates.
    pub fn invalidate(&mut self) {
        self.token = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_documents_yield_the_v3_self_link() {
        let one = json!({"version": {"id": "v3.14", "links": [{"rel": "self", "href": "http://ks/v3/"}]}});
        assert_eq!(v3_link(&one).as_deref(), Some("http://ks/v3/"));
        let many = json!({"versions": {"values": [
            {"id": "v2.0", "links": [{"rel": "self", "href": "http://ks/v2.0/"}]},
            {"id": "v3.14", "links": [{"rel": "describedby", "href": "x"}, {"rel": "self", "href": "http://ks/v3/"}]}
        ]}});
        assert_eq!(v3_link(&many).as_deref(), Some("http://ks/v3/"));
        assert_eq!(v3_link(&json!({"error": {}})), None);
    }

    #[test]
    fn lifetime_comes_from_issued_and_expires() {
        let t = json!({"issued_at": "2026-01-01T00:00:00.000000Z", "expires_at": "2026-01-01T01:00:00.000000Z"});
        assert_eq!(lifetime(&t), Duration::from_secs(3600));
        assert_eq!(lifetime(&json!({})), DEFAULT_LIFETIME);
        let past = json!({"expires_at": "2000-01-01T00:00:00Z"});
        assert_eq!(lifetime(&past), Duration::ZERO);
    }

    #[test]
    fn endpoints_are_public_and_in_the_region() {
        let token = Token {
            id: Secret::new("t"),
            catalog: json!([
                {"type": "identity", "endpoints": [{"interface": "public", "region_id": "R1", "url": "http://ks/v3"}]},
                {"type": "orchestration", "endpoints": [
                    {"interface": "internal", "region_id": "R1", "url": "http://internal/v1/p"},
                    {"interface": "public", "region_id": "R2", "url": "http://r2/v1/p"},
                    {"interface": "public", "region": "R1", "url": "http://r1/v1/p"}
                ]}
            ]),
            renew_at: Instant::now(),
        };
        assert_eq!(
            token.endpoint("orchestration", None).unwrap().as_str(),
            "http://r2/v1/p"
        );
        assert_eq!(
            token
                .endpoint("orchestration", Some("R1"))
                .unwrap()
                .as_str(),
            "http://r1/v1/p"
        );
        let err = token.endpoint("orchestration", Some("R9")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the service catalog has no public orchestration endpoint in region R9"
        );
        assert!(token.endpoint("messaging", None).is_err());
        assert!(!token.is_fresh());
    }

    #[test]
    fn the_token_request_is_password_by_user_id_scoped_to_a_project_id() {
        let creds = Credentials {
            auth_url: "http://ks/v3".into(),
            user_id: "u".into(),
            password: Secret::new("pw"),
            project_id: "p".into(),
        };
        assert_eq!(
            token_request(&creds),
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "u", "password": "pw"}}}, "scope": {"project": {"id": "p"}}}})
        );
        assert!(!format!("{creds:?}").contains("pw"));
    }
}
