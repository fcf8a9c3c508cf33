//! Metadata retrieval shared by `cfn-init`, `cfn-hup` and `cfn-get-metadata`
//! (heat-cfntools' `Metadata.retrieve`, reference heat-agents.md §5):
//!
//! 1. **Remote**, when there are credentials and a stack and resource: the signed
//!    `DescribeStackResource` of [`crate::collectors::cfn::DescribeStackResource`] against
//!    the URL in `<data dir>/cfn-metadata-server` (normalised as the `cfn` collector does,
//!    [`url_from_hint`]); the text of `StackResourceDetail/Metadata` is the document.
//! 2. **Fallback** on any remote failure (upstream falls back only when there are no
//!    credentials and crashes otherwise): the first readable of
//!    `<cache>/last_metadata_<resource>` (with a resource), `<cache>/last_metadata`,
//!    `<data dir>/cfn-init-data`.
//! 3. **Afterwards** the document is written to `<cache>/last_metadata` (directory 0700,
//!    file 0600, through a rename) and copied to `last_metadata_<resource>`; `changed`
//!    says whether it differs from the copy there before (the per-resource copy when there
//!    is one; upstream lets `last_metadata` win, which mixes resources up).
//!
//! Directories: see [`crate::cfn`] (`HEAT_CFN_INIT_LAST_METADATA_DIR`,
//! `HEAT_CFNTOOLS_DATA_DIR`).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::credentials::Credentials;
use crate::collectors::cfn::{DescribeStackResource, url_from_hint};

/// The cache directory's default.
pub const DEFAULT_CACHE_DIR: &str = "/var/cache/heat-cfntools";
/// The data directory's default.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/heat-cfntools";

/// Where the tools read and write their files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locations {
    /// `last_metadata*` and cfn-hup's state.
    pub cache_dir: PathBuf,
    /// `cfn-metadata-server` and `cfn-init-data`.
    pub data_dir: PathBuf,
}

impl Locations {
    /// The defaults, moved by `HEAT_CFN_INIT_LAST_METADATA_DIR` and `HEAT_CFNTOOLS_DATA_DIR`.
    pub fn from_env() -> Self {
        let dir = |var: &str, default: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
        };
        Locations {
            cache_dir: dir("HEAT_CFN_INIT_LAST_METADATA_DIR", DEFAULT_CACHE_DIR),
            data_dir: dir("HEAT_CFNTOOLS_DATA_DIR", DEFAULT_DATA_DIR),
        }
    }

    /// `<cache>/last_metadata`.
    pub fn last_metadata(&self) -> PathBuf {
        self.cache_dir.join("last_metadata")
    }

    /// `<cache>/last_metadata_<resource>`, or `last_metadata` without a resource.
    pub fn last_for(&self, resource: Option<&str>) -> PathBuf {
        match resource {
            Some(r) => self.cache_dir.join(format!("last_metadata_{r}")),
            None => self.last_metadata(),
        }
    }

    /// `<data dir>/cfn-init-data`: the metadata a server was booted with.
    pub fn init_data(&self) -> PathBuf {
        self.data_dir.join("cfn-init-data")
    }

    /// `<data dir>/cfn-metadata-server`: the CFN API URL.
    pub fn metadata_server(&self) -> PathBuf {
        self.data_dir.join("cfn-metadata-server")
    }
}

/// What to retrieve.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `-s`: the stack name.
    pub stack: Option<&'a str>,
    /// `-r`: the logical resource id.
    pub resource: Option<&'a str>,
    /// Credentials for the remote request.
    pub credentials: Option<&'a Credentials>,
}

/// Where the document came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `DescribeStackResource`.
    Remote,
    /// A local fallback file.
    File(PathBuf),
}

/// A retrieved document.
#[derive(Debug, Clone)]
pub struct Retrieved {
    /// The metadata.
    pub metadata: Value,
    /// Where it came from.
    pub origin: Origin,
    /// Whether it differs from the cached copy read before this retrieval.
    pub changed: bool,
    /// That cached copy, if there was one.
    pub previous: Option<Value>,
}

/// No metadata could be had.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// Neither the server nor a local file gave a document.
    #[error("no metadata: {remote}; and none of {} is readable", tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Unavailable {
        /// Why the remote request was not made or failed.
        remote: String,
        /// The fallback files tried.
        tried: Vec<PathBuf>,
    },
    /// A document is not JSON.
    #[error("metadata from {origin} is not JSON: {reason}")]
    NotJson {
        /// The server or the file.
        origin: String,
        /// The parser's message.
        reason: String,
    },
}

/// Fetches the document from the server; `Err` says why not, for the log.
pub async fn remote(locations: &Locations, request: &Request<'_>) -> Result<Value, String> {
    let credentials = request
        .credentials
        .ok_or("no credentials (--access-key/--secret-key or a credential file)")?;
    let (Some(stack), Some(resource)) = (request.stack, request.resource) else {
        return Err("remote metadata needs a stack (-s) and a resource (-r)".into());
    };
    let hint = locations.metadata_server();
    let text = tokio::fs::read_to_string(&hint).await.map_err(|e| {
        format!(
            "cannot read the metadata server URL from {}: {e}",
            hint.display()
        )
    })?;
    if text.trim().is_empty() {
        return Err(format!("{} is empty", hint.display()));
    }
    let client = crate::http::client().map_err(|e| e.to_string())?;
    let endpoint = DescribeStackResource::new(
        client,
        &url_from_hint(&text),
        &credentials.access_key,
        credentials.secret_key.clone(),
    )
    .map_err(|e| e.to_string())?;
    let text = endpoint
        .field(stack, resource, "Metadata")
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the server's reply for {resource} has no Metadata"))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "the Metadata of {resource} from {} is not JSON: {e}",
            endpoint.shown_url()
        )
    })?;
    // A document given as a JSON string holding JSON (as boto hands it over) is read too.
    Ok(match value {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        other => other,
    })
}

/// Retrieves the metadata: remote, else the fallbacks; then caches it.
pub async fn retrieve(
    locations: &Locations,
    request: &Request<'_>,
) -> Result<Retrieved, MetadataError> {
    let fetched = remote(locations, request).await;
    if let Err(reason) = &fetched {
        // Without credentials the local files are the plan (the cfn-init hook's case), not
        // a failure.
        if request.credentials.is_some() {
            tracing::warn!("unable to retrieve remote metadata: {reason}");
        } else {
            tracing::info!("not retrieving remote metadata: {reason}");
        }
    }
    let locations = locations.clone();
    let resource = request.resource.map(str::to_string);
    tokio::task::spawn_blocking(move || finish(&locations, resource.as_deref(), fetched))
        .await
        .unwrap_or_else(|e| {
            Err(MetadataError::Unavailable {
                remote: format!("the retrieval task failed: {e}"),
                tried: Vec::new(),
            })
        })
}

/// The fallbacks, the comparison with the cache, and the cache write (blocking).
fn finish(
    locations: &Locations,
    resource: Option<&str>,
    fetched: Result<Value, String>,
) -> Result<Retrieved, MetadataError> {
    let last = locations.last_metadata();
    let last_resource = locations.last_for(resource);
    let (metadata, origin) = match fetched {
        Ok(v) => (v, Origin::Remote),
        Err(reason) => {
            let mut tried = vec![last_resource.clone()];
            if last_resource != last {
                tried.push(last.clone());
            }
            tried.push(locations.init_data());
            let Some((path, text)) = tried
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok().map(|t| (p.clone(), t)))
            else {
                return Err(MetadataError::Unavailable {
                    remote: reason,
                    tried,
                });
            };
            tracing::info!(path = %path.display(), "using local metadata");
            let value = serde_json::from_str(&text).map_err(|e| MetadataError::NotJson {
                origin: path.display().to_string(),
                reason: e.to_string(),
            })?;
            (value, Origin::File(path))
        }
    };
    let previous = [&last_resource, &last]
        .into_iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let changed = previous.as_ref() != Some(&metadata);
    if let Err(e) = write_cache(locations, &last_resource, &metadata) {
        // As upstream: a cache that cannot be written does not stop the tool.
        tracing::warn!("could not cache the metadata: {e}");
    }
    Ok(Retrieved {
        metadata,
        origin,
        changed,
        previous,
    })
}

/// Writes `last_metadata` and its per-resource copy, each through a rename.
fn write_cache(
    locations: &Locations,
    last_resource: &Path,
    metadata: &Value,
) -> std::io::Result<()> {
    let dir = &locations.cache_dir;
    if !dir.is_dir() {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    // As upstream writes it (`json.dumps`), so either tool reads the other's cache.
    let text = updraft_hooks::python_json::dumps(metadata).into_bytes();
    let mut targets = vec![locations.last_metadata()];
    if last_resource != locations.last_metadata() {
        targets.push(last_resource.to_path_buf());
    }
    for target in targets {
        write_private(dir, &target, &text)?;
    }
    Ok(())
}

/// Writes `bytes` to `target` through a 0600 temporary file in `dir` and a rename.
pub fn write_private(dir: &Path, target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // NamedTempFile is created 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn locations(dir: &Path) -> Locations {
        Locations {
            cache_dir: dir.join("cache"),
            data_dir: dir.join("data"),
        }
    }

    #[tokio::test]
    async fn without_credentials_the_fallbacks_are_read_in_order_and_cached() {
        let dir = tempfile::tempdir().unwrap();
        let loc = locations(dir.path());
        let req = Request {
            stack: Some("s"),
            resource: Some("server"),
            credentials: None,
        };
        let err = retrieve(&loc, &req).await.unwrap_err().to_string();
        assert!(err.starts_with("no metadata: no credentials"), "{err}");
        assert!(err.contains("last_metadata_server"), "{err}");

        std::fs::create_dir_all(&loc.data_dir).unwrap();
        std::fs::write(loc.init_data(), r#"{"a": 1}"#).unwrap();
        let got = retrieve(&loc, &req).await.unwrap();
        assert_eq!(got.metadata, json!({"a": 1}));
        assert_eq!(got.origin, Origin::File(loc.init_data()));
        assert!(got.changed);
        let mode = std::fs::metadata(&loc.cache_dir)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let file = std::fs::metadata(loc.last_metadata())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(file & 0o777, 0o600);
        assert!(loc.last_for(Some("server")).exists());

        // Now the cache comes first, and nothing changed.
        std::fs::write(loc.last_for(Some("server")), r#"{"b": 2}"#).unwrap();
        let got = retrieve(&loc, &req).await.unwrap();
        assert_eq!(got.metadata, json!({"b": 2}));
        assert!(!got.changed);
        assert_eq!(got.previous, Some(json!({"b": 2})));
    }

    #[tokio::test]
    async fn a_missing_metadata_server_file_is_a_remote_failure() {
        let dir = tempfile::tempdir().unwrap();
        let loc = locations(dir.path());
        let creds = Credentials {
            access_key: "a".into(),
            secret_key: "b".into(),
        };
        let req = Request {
            stack: Some("s"),
            resource: Some("r"),
            credentials: Some(&creds),
        };
        let err = remote(&loc, &req).await.unwrap_err();
        assert!(err.contains("cfn-metadata-server"), "{err}");
    }
}
