//! The `request` collector: `GET <metadata-url>` with ETag revalidation and RFC 7240
//! long-poll (`Prefer: wait=N`).
//!
//! The body is the metadata document itself. `304` means unchanged; a response carrying
//! `Preference-Applied: wait=…` tells the agent the server long-polls, so it may re-poll at
//! once instead of sleeping the poll interval.

use std::time::Duration;

use reqwest::header::{ETAG, HeaderMap, HeaderName, HeaderValue, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::{StatusCode, Url};

pub use super::{Change, FetchError, Fetched, REQUEST_TIMEOUT};
use crate::http;
use crate::metadata;
use crate::redact::redact_url;

const PREFER: HeaderName = HeaderName::from_static("prefer");
const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");

/// Polls one metadata URL, remembering the validators of the last document.
#[derive(Clone)]
pub struct RequestCollector {
    client: reqwest::Client,
    url: Url,
    shown: String,
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
}

impl RequestCollector {
    /// A collector for `url` using `client`.
    pub fn new(client: reqwest::Client, url: &str) -> Result<Self, FetchError> {
        let url = Url::parse(url).map_err(|err| FetchError::InvalidUrl(err.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::InvalidUrl(format!(
                "unsupported scheme {:?}",
                url.scheme()
            )));
        }
        Ok(RequestCollector {
            client,
            shown: redact_url(&url),
            url,
            etag: None,
            last_modified: None,
        })
    }

    /// The URL as it may be shown: without its query string.
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    /// The `Last-Modified` of the last document (kept for a future `If-Modified-Since`).
    pub fn last_modified(&self) -> Option<&HeaderValue> {
        self.last_modified.as_ref()
    }

    /// Fetches the document, asking the server to hold the request up to `wait` when given
    /// (and non-zero) and nothing changed since the last document.
    pub async fn fetch(&mut self, wait: Option<Duration>) -> Result<Fetched, FetchError> {
        let wait = wait.filter(|w| !w.is_zero());
        let mut request = self
            .client
            .get(self.url.clone())
            .timeout(wait.map_or(REQUEST_TIMEOUT, |w| w + REQUEST_TIMEOUT));
        if let Some(etag) = &self.etag {
            request = request.header(IF_NONE_MATCH, etag.clone());
        }
        if let Some(wait) = wait {
            request = request.header(PREFER, format!("wait={}", wait.as_secs()));
        }
        let response = request
            .send()
            .await
            .map_err(|err| FetchError::Unreachable {
                url: self.shown.clone(),
                reason: http::describe(&err),
            })?;
        let status = response.status();
        let long_poll_applied = long_poll_applied(response.headers());
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched {
                change: Change::Unchanged,
                long_poll_applied,
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: self.shown.clone(),
                status,
            });
        }
        let etag = response.headers().get(ETAG).cloned();
        let last_modified = response.headers().get(LAST_MODIFIED).cloned();
        let body = response.bytes().await.map_err(|err| FetchError::Body {
            url: self.shown.clone(),
            reason: http::describe(&err),
        })?;
        let document = metadata::parse(&body).map_err(|source| FetchError::Document {
            url: self.shown.clone(),
            source,
        })?;
        // Validators are only kept for a document that parsed, so a bad one is refetched.
        self.etag = etag;
        self.last_modified = last_modified;
        Ok(Fetched {
            change: Change::Document(document),
            long_poll_applied,
        })
    }
}

impl std::fmt::Debug for RequestCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL's query string is a signature.
        f.debug_struct("RequestCollector")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

/// True when the response says the server applied a `wait` preference.
fn long_poll_applied(headers: &HeaderMap) -> bool {
    headers.get_all(PREFERENCE_APPLIED).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|pref| pref.trim().to_ascii_lowercase().starts_with("wait"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preference_applied_wait_is_detected() {
        let mut headers = HeaderMap::new();
        assert!(!long_poll_applied(&headers));
        headers.insert(
            PREFERENCE_APPLIED,
            HeaderValue::from_static("respond-async"),
        );
        assert!(!long_poll_applied(&headers));
        headers.insert(
            PREFERENCE_APPLIED,
            HeaderValue::from_static("return=minimal, Wait=25"),
        );
        assert!(long_poll_applied(&headers));
    }

    #[test]
    fn urls_are_checked_and_shown_without_query() {
        let client = reqwest::Client::new();
        let c =
            RequestCollector::new(client.clone(), "http://10.0.0.1/md/x?temp_url_sig=abc").unwrap();
        assert_eq!(c.shown_url(), "http://10.0.0.1:80/md/x");
        assert!(matches!(
            RequestCollector::new(client.clone(), "ftp://x/y"),
            Err(FetchError::InvalidUrl(_))
        ));
        assert!(RequestCollector::new(client, "no url").is_err());
    }
}
