//! Capability URLs for POLL_TEMP_URL metadata and TEMP_URL_SIGNAL signals.
//!
//! `GET /temp_url/v1/metadata/<server id>?temp_url_sig=…` serves a server's metadata,
//! `PUT /temp_url/v1/signal/<deployment id>?temp_url_sig=…` takes a deployment's signal and
//! `POST /temp_url/v1/alarm/<resource id>?temp_url_sig=…` signals a resource by its physical
//! id (a ScalingPolicy's `alarm_url`, where Heat hands out an EC2-signed CFN URL).
//! The signature (see `updraft_hooks::signing`) binds method and path; the URLs do not
//! expire and stop working when the server or deployment is deleted.

use updraft_hooks::signing;

/// Issues and checks capability URLs.
#[derive(Clone)]
pub struct TempUrls {
    base: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for TempUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("TempUrls")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Path prefix of metadata URLs.
pub const METADATA_PREFIX: &str = "/temp_url/v1/metadata/";
/// Path prefix of signal URLs.
pub const SIGNAL_PREFIX: &str = "/temp_url/v1/signal/";
/// Path prefix of alarm URLs.
pub const ALARM_PREFIX: &str = "/temp_url/v1/alarm/";

impl TempUrls {
    /// URLs under `base` (e.g. `http://127.0.0.1:8004`) signed with `key`.
    pub fn new(base: &str, key: Vec<u8>) -> Self {
        TempUrls {
            base: base.trim_end_matches('/').to_string(),
            key,
        }
    }

    fn url(&self, method: &str, path: &str) -> String {
        let sig = signing::sign(&self.key, method, path);
        format!("{}{}?{}={}", self.base, path, signing::SIGNATURE_PARAM, sig)
    }

    /// The metadata URL of a server (GET; HEAD accepted with the same signature).
    pub fn metadata_url(&self, server_id: &str) -> String {
        self.url("GET", &format!("{METADATA_PREFIX}{server_id}"))
    }

    /// The signal URL of a deployment (PUT).
    pub fn signal_url(&self, deployment_id: &str) -> String {
        self.url("PUT", &format!("{SIGNAL_PREFIX}{deployment_id}"))
    }

    /// The alarm URL of a resource (POST), by its physical id.
    pub fn alarm_url(&self, resource_id: &str) -> String {
        self.url("POST", &format!("{ALARM_PREFIX}{resource_id}"))
    }

    /// The same signal of a resource as [`TempUrls::alarm_url`], for a `PUT` (a
    /// TEMP_URL_SIGNAL wait condition handle, used like a Swift object URL).
    pub fn put_signal_url(&self, resource_id: &str) -> String {
        self.url("PUT", &format!("{ALARM_PREFIX}{resource_id}"))
    }

    /// The server's public base URL (`http://host:port`, no trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The EC2 secret key of access key `access_key`: derived from the server key, so it is
    /// never stored (revoking the access key's credential row is what ends it).
    pub fn ec2_secret(&self, access_key: &str) -> String {
        self.derive("EC2-SECRET", access_key)
    }

    /// A secret for `purpose` and `subject` derived from the server key: the same inputs
    /// give the same secret on every node, so derived secrets are never stored.
    pub fn derive(&self, purpose: &str, subject: &str) -> String {
        signing::sign(&self.key, purpose, subject)
    }

    /// Checks a secret made by [`TempUrls::derive`] in constant time.
    pub fn verify_derived(&self, purpose: &str, subject: &str, secret: &str) -> bool {
        signing::verify(&self.key, purpose, subject, secret)
    }

    /// Checks a presented signature for `method` and `path`.
    pub fn verify(&self, method: &str, path: &str, signature: &str) -> bool {
        signing::verify(&self.key, method, path, signature)
    }
}
