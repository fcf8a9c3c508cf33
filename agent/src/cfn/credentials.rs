//! EC2 credentials for `DescribeStackResource`: `--access-key`/`--secret-key`, or a
//! credential file of `AWSAccessKeyId=…` and `AWSSecretKey=…` lines (heat-cfntools'
//! `parse_creds_file`: spaces around `=` allowed, other lines ignored).

use std::path::{Path, PathBuf};

use crate::secret::Secret;

/// heat-cfntools' default credential file.
pub const DEFAULT_CREDENTIAL_FILE: &str = "/etc/cfn/cfn-credentials";

/// An access key and its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AWSAccessKeyId`.
    pub access_key: String,
    /// `AWSSecretKey`.
    pub secret_key: Secret,
}

/// A credential file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// It cannot be read.
    #[error("cannot read credential file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key is missing.
    #[error("credential file {path} has no {key}= line")]
    Missing {
        /// The file.
        path: PathBuf,
        /// `AWSAccessKeyId` or `AWSSecretKey`.
        key: &'static str,
    },
}

/// The value of `key` in credential-file text (the last line that sets it wins).
fn value_of<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(key)?;
            let rest = rest.trim_start_matches(' ').strip_prefix('=')?;
            Some(rest.trim_start_matches(' ').trim_end_matches(['\r', '\n']))
        })
        .next_back()
}

/// Parses credential-file text.
pub fn parse(text: &str, path: &Path) -> Result<Credentials, CredentialsError> {
    let missing = |key| CredentialsError::Missing {
        path: path.to_path_buf(),
        key,
    };
    let access_key = value_of(text, "AWSAccessKeyId").ok_or_else(|| missing("AWSAccessKeyId"))?;
    let secret_key = value_of(text, "AWSSecretKey").ok_or_else(|| missing("AWSSecretKey"))?;
    Ok(Credentials {
        access_key: access_key.to_string(),
        secret_key: Secret::new(secret_key),
    })
}

/// Reads a credential file.
pub fn read(path: &Path) -> Result<Credentials, CredentialsError> {
    let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// The credentials a tool uses: an explicit `--credential-file` first (as upstream), then
/// both key flags, then the default file when it exists; `Ok(None)` when there are none
/// (retrieval then falls back to local files).
pub fn choose(
    access_key: Option<&str>,
    secret_key: Option<&str>,
    credential_file: Option<&Path>,
) -> Result<Option<Credentials>, CredentialsError> {
    if let Some(path) = credential_file {
        return read(path).map(Some);
    }
    if let (Some(a), Some(s)) = (access_key, secret_key) {
        return Ok(Some(Credentials {
            access_key: a.to_string(),
            secret_key: Secret::new(s),
        }));
    }
    let default = Path::new(DEFAULT_CREDENTIAL_FILE);
    if default.exists() {
        return read(default).map(Some);
    }
    Ok(None)
}

/// [`choose`] on a blocking thread (it may read files), for the tools' async entry points.
pub async fn choose_off_runtime(
    access_key: Option<String>,
    secret_key: Option<String>,
    credential_file: Option<PathBuf>,
) -> Result<Option<Credentials>, CredentialsError> {
    let chosen = tokio::task::spawn_blocking(move || {
        choose(
            access_key.as_deref(),
            secret_key.as_deref(),
            credential_file.as_deref(),
        )
    })
    .await;
    match chosen {
        Ok(result) => result,
        Err(e) => Err(CredentialsError::Read {
            path: PathBuf::from(DEFAULT_CREDENTIAL_FILE),
            source: std::io::Error::other(e.to_string()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_files_parse_as_upstream() {
        let c = parse(
            "# heat\nAWSAccessKeyId = AK1\nAWSSecretKey=s3cr=t\nother=x\n",
            Path::new("f"),
        )
        .unwrap();
        assert_eq!(c.access_key, "AK1");
        assert_eq!(c.secret_key.expose(), "s3cr=t");
        let err = parse("AWSAccessKeyId=a\n", Path::new("/etc/cfn/c")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "credential file /etc/cfn/c has no AWSSecretKey= line"
        );
        // Only at the start of a line.
        assert!(parse(" AWSAccessKeyId=a\nAWSSecretKey=b", Path::new("f")).is_err());
    }

    #[test]
    fn flags_are_used_without_a_file() {
        let c = choose(Some("a"), Some("b"), None).unwrap().unwrap();
        assert_eq!(c.access_key, "a");
        assert!(choose(None, None, Some(Path::new("/nonexistent/c"))).is_err());
    }
}
