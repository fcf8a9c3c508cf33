//! Metadata sources, one module per collector, named and configured as os-collect-config's
//! (reference heat-agents.md §1.1, §1.5):
//!
//! - [`request`]: `GET <metadata_url>` (POLL_TEMP_URL), with ETag revalidation and our
//!   long-poll extension;
//! - [`cfn`]: the EC2-signed `DescribeStackResource` (POLL_SERVER_CFN);
//! - [`heat`]: Keystone v3, then the native resource-metadata API (POLL_SERVER_HEAT).
//!
//! The agent runs one at a time ([`Collector`]), chosen by [`CollectorSettings`]: from the
//! command line, then from the `os-collect-config` section of each document it receives
//! ([`CollectorSettings::from_section`]): when the server's transport changes, Heat's
//! document names another collector and the agent switches to it for the next poll. The
//! settings in effect are kept in the state directory ([`saved`]) so a restart keeps them.

pub mod cfn;
pub mod config_drive;
pub mod ec2;
pub mod heat;
pub mod heat_local;
pub mod local;
pub mod request;
pub mod saved;
pub mod settings;

use std::time::Duration;

use reqwest::StatusCode;

use crate::keystone::KeystoneError;
use crate::metadata::{self, MetadataDocument};
pub use settings::{CfnSettings, CollectorSettings, CommandLine, HeatSettings, RequestSettings};

/// Timeout of a metadata request (and the slack added to a long-poll wait), as
/// os-collect-config's collectors' default `timeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A failed metadata fetch. Messages show URLs without their query string and no secret.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The metadata URL does not parse.
    #[error("invalid metadata URL: {0}")]
    InvalidUrl(String),
    /// The collector's settings are unusable (e.g. a cfn `path` without a field).
    #[error("{0}")]
    NotConfigured(String),
    /// The request did not get a response.
    #[error("cannot reach metadata URL {url}: {reason}")]
    Unreachable {
        /// Redacted URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server answered with an unexpected status.
    #[error("metadata URL {url} answered HTTP {status}")]
    Status {
        /// Redacted URL.
        url: String,
        /// The status.
        status: StatusCode,
    },
    /// The response body could not be read.
    #[error("cannot read metadata from {url}: {reason}")]
    Body {
        /// Redacted URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The reply is not what the collector expects (XML without the field, no `metadata`
    /// key, a sub-key that is missing).
    #[error("unexpected reply from {url}: {reason}")]
    Reply {
        /// Redacted URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The body is not a metadata document.
    #[error("bad metadata from {url}: {source}")]
    Document {
        /// Redacted URL.
        url: String,
        /// The parse error.
        source: metadata::DocumentError,
    },
    /// Authentication at Keystone failed (heat collector).
    #[error(transparent)]
    Keystone(#[from] KeystoneError),
}

/// What one poll found.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `304 Not Modified`, or the same document as last time.
    Unchanged,
    /// A new (or, for `request` without an ETag, possibly identical) document.
    Document(MetadataDocument),
}

/// One successful poll.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    /// What the server sent.
    pub change: Change,
    /// The server honoured `Prefer: wait` (`Preference-Applied` present): re-poll at once.
    pub long_poll_applied: bool,
}

/// The collector the agent runs.
#[derive(Debug)]
pub enum Collector {
    /// POLL_TEMP_URL.
    Request(request::RequestCollector),
    /// POLL_SERVER_CFN.
    Cfn(cfn::CfnCollector),
    /// POLL_SERVER_HEAT.
    Heat(heat::HeatCollector),
}

impl Collector {
    /// A collector for `settings`, sending with `client`.
    pub fn new(client: reqwest::Client, settings: &CollectorSettings) -> Result<Self, FetchError> {
        Ok(match settings {
            CollectorSettings::Request(s) => Collector::Request(request::RequestCollector::new(
                client,
                s.metadata_url.expose(),
            )?),
            CollectorSettings::Cfn(s) => Collector::Cfn(cfn::CfnCollector::new(client, s)?),
            CollectorSettings::Heat(s) => Collector::Heat(heat::HeatCollector::new(client, s)?),
        })
    }

    /// os-collect-config's name of the collector.
    pub fn name(&self) -> &'static str {
        match self {
            Collector::Request(_) => "request",
            Collector::Cfn(_) => "cfn",
            Collector::Heat(_) => "heat",
        }
    }

    /// Where it polls, as it may be shown.
    pub fn shown_url(&self) -> String {
        match self {
            Collector::Request(c) => c.shown_url().to_string(),
            Collector::Cfn(c) => c.shown_url().to_string(),
            Collector::Heat(c) => c.shown_url(),
        }
    }

    /// Fetches the document. `wait` (a long-poll) applies to `request` only; the others
    /// answer at once and report [`Change::Unchanged`] when the document is the same.
    pub async fn fetch(&mut self, wait: Option<Duration>) -> Result<Fetched, FetchError> {
        let change = match self {
            Collector::Request(c) => return c.fetch(wait).await,
            Collector::Cfn(c) => c.fetch().await?,
            Collector::Heat(c) => c.fetch().await?,
        };
        Ok(Fetched {
            change,
            long_poll_applied: false,
        })
    }
}

/// Remembers the last document a collector without validators served, so an identical
/// one is reported [`Change::Unchanged`] (os-collect-config compares parsed JSON too).
#[derive(Debug, Clone, Default)]
pub(crate) struct LastDocument(Option<serde_json::Value>);

impl LastDocument {
    /// `Unchanged` when `value` is the last document, else the parsed document (remembered
    /// only when it parses, so a bad one is fetched again).
    pub(crate) fn compare(
        &mut self,
        value: serde_json::Value,
        shown: &str,
    ) -> Result<Change, FetchError> {
        if self.0.as_ref() == Some(&value) {
            return Ok(Change::Unchanged);
        }
        let document =
            metadata::from_value(value.clone()).map_err(|source| FetchError::Document {
                url: shown.to_string(),
                source,
            })?;
        self.0 = Some(value);
        Ok(Change::Document(document))
    }
}
