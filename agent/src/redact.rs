//! URLs made safe for logs and error messages.
//!
//! Metadata and signal URLs are capabilities: their query string carries a signature, and
//! they may carry user info. Only `scheme://host:port/path` is ever shown.

use reqwest::Url;

/// `scheme://host:port/path` of `url`, without user info, query or fragment.
pub fn redact_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

/// [`redact_url`] for a URL held as text; an unparseable one is not shown at all.
pub fn redact_url_str(url: &str) -> String {
    match Url::parse(url) {
        Ok(url) => redact_url(&url),
        Err(_) => "<invalid URL>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_fragment_and_user_info_are_dropped() {
        assert_eq!(
            redact_url_str("http://127.0.0.1:8000/temp_url/v1/metadata/abc?temp_url_sig=deadbeef"),
            "http://127.0.0.1:8000/temp_url/v1/metadata/abc"
        );
        assert_eq!(
            redact_url_str(
                "https://user:pw@heat.example/v1/signal/arn%3Ax?Signature=s&Timestamp=t#f"
            ),
            "https://heat.example:443/v1/signal/arn%3Ax"
        );
        assert_eq!(redact_url_str("not a url ?sig=x"), "<invalid URL>");
    }
}
