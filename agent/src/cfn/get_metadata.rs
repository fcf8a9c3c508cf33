//! `cfn-get-metadata`: prints a resource's metadata as JSON, or with `-k a.b.'c.d'` the
//! value at that key path (nothing when it is absent; exit 0), as heat-cfntools. Unlike
//! upstream, no metadata at all (the server failed and no local copy exists) is exit 1
//! with the reason, instead of printing nothing.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use serde_json::Value;

use super::credentials;
use super::key;
use super::metadata::{self, Locations, Request};

/// `cfn-get-metadata [options]`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "cfn-get-metadata",
    version,
    about = "Print a resource's metadata."
)]
pub struct GetMetadataArgs {
    /// The stack name (not empty).
    #[arg(short = 's', long = "stack", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub stack: String,
    /// The logical resource id (not empty).
    #[arg(short = 'r', long = "resource", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub resource: String,
    /// The EC2 access key.
    #[arg(long)]
    pub access_key: Option<String>,
    /// The EC2 secret key.
    #[arg(long)]
    pub secret_key: Option<String>,
    /// The region (accepted for compatibility; unused).
    #[arg(long)]
    pub region: Option<String>,
    /// A file with `AWSAccessKeyId=` and `AWSSecretKey=` lines.
    #[arg(long)]
    pub credential_file: Option<PathBuf>,
    /// The CFN API URL (accepted for compatibility; unused, as upstream: the URL comes
    /// from cfn-metadata-server).
    #[arg(short = 'u', long = "url")]
    pub url: Option<String>,
    /// A key path to print (`a.b`, a component with dots single-quoted: `a.'b.c'`).
    #[arg(short = 'k', long = "key")]
    pub key: Option<String>,
}

/// Why nothing could be printed.
#[derive(Debug, thiserror::Error)]
pub enum GetMetadataError {
    /// Bad credentials file.
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
    /// Bad key.
    #[error(transparent)]
    Key(#[from] key::KeyError),
    /// No metadata.
    #[error(transparent)]
    Metadata(#[from] metadata::MetadataError),
}

/// What to print for `metadata` and the `-k` key: `None` when the key is absent.
pub fn render(metadata: &Value, key: Option<&str>) -> Result<Option<String>, key::KeyError> {
    let value = match key {
        None => Some(metadata),
        Some(k) => key::lookup(metadata, &key::parse(k)?),
    };
    // Upstream prints a found null as nothing too (`if value is not None`), and prints
    // with `json.dumps`.
    Ok(value
        .filter(|v| !v.is_null())
        .map(updraft_hooks::python_json::dumps))
}

/// Runs as `cfn-get-metadata` with `args`.
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let args: GetMetadataArgs = match super::parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match run(&args).await {
        Ok(Some(text)) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cfn-get-metadata: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &GetMetadataArgs) -> Result<Option<String>, GetMetadataError> {
    // A bad key fails before any request.
    if let Some(k) = &args.key {
        key::parse(k)?;
    }
    let creds = credentials::choose_off_runtime(
        args.access_key.clone(),
        args.secret_key.clone(),
        args.credential_file.clone(),
    )
    .await?;
    let got = metadata::retrieve(
        &Locations::from_env(),
        &Request {
            stack: Some(&args.stack),
            resource: Some(&args.resource),
            credentials: creds.as_ref(),
        },
    )
    .await?;
    Ok(render(&got.metadata, args.key.as_deref())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_select_values_printed_as_json() {
        let md = json!({"a": {"b.c": {"d": "x"}, "n": null}, "l": [1]});
        assert_eq!(
            render(&md, None).unwrap().unwrap(),
            r#"{"a": {"b.c": {"d": "x"}, "n": null}, "l": [1]}"#
        );
        assert_eq!(
            render(&md, Some("a.'b.c'.d")).unwrap().as_deref(),
            Some("\"x\"")
        );
        assert_eq!(render(&md, Some("l")).unwrap().as_deref(), Some("[1]"));
        assert_eq!(render(&md, Some("a.missing")).unwrap(), None);
        assert_eq!(render(&md, Some("a.n")).unwrap(), None);
        assert!(render(&md, Some("a..b")).is_err());
    }

    #[test]
    fn stack_and_resource_are_required() {
        assert!(GetMetadataArgs::try_parse_from(["cfn-get-metadata", "-s", "x"]).is_err());
        assert!(
            GetMetadataArgs::try_parse_from(["cfn-get-metadata", "-s", "", "-r", "y"]).is_err()
        );
        let a =
            GetMetadataArgs::try_parse_from(["cfn-get-metadata", "-s", "x", "-r", "y", "-k", "a"])
                .unwrap();
        assert_eq!(a.key.as_deref(), Some("a"));
    }
}
