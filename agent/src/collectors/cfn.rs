//! The `cfn` collector (POLL_SERVER_CFN), as os-collect-config sends it (reference
//! heat-agents.md §1.5): for each `path` `Resource.Field[.sub.keys]`,
//!
//! ```text
//! GET <metadata_url>?Action=DescribeStackResource&StackName=<stack>&LogicalResourceId=<Resource>
//!     &AWSAccessKeyId=<key>&SignatureVersion=2&SignatureMethod=HmacSHA256&Signature=<sig>
//! Content-Type: application/json
//! ```
//!
//! signed with EC2 signature v2 ([`updraft_hooks::ec2_signature`]: no `Timestamp`, as
//! upstream). The reply is XML; the text of
//! `DescribeStackResourceResponse/DescribeStackResourceResult/StackResourceDetail/<Field>`
//! is JSON, descended into by the sub-keys; the objects of all paths are merged (top-level
//! keys, later paths win) into the document.
//!
//! Differences from upstream, both fixes: every path gets its own signature (upstream
//! reuses one HMAC object, so its second and later paths are signed over the concatenation
//! of all strings so far and are rejected); a URL read from the metadata hint file that
//! already ends in `/v1/` is not extended to `/v1//v1/` ([`url_from_hint`]). The document
//! has no validators, so a change is detected by comparing it with the last one.

use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Map, Value};
use updraft_hooks::ec2_signature;

use super::settings::CfnSettings;
use super::{Change, FetchError, LastDocument, REQUEST_TIMEOUT};
use crate::http;
use crate::redact::redact_url;
use crate::secret::Secret;

/// os-collect-config's default `[cfn] heat_metadata_hint`: a file holding the CFN API URL.
pub const DEFAULT_HINT: &str = "/var/lib/heat-cfntools/cfn-metadata-server";

/// The XML elements above the field, root first (the root's name is not checked, as
/// upstream's `find` does not).
const DETAIL_PATH: [&str; 2] = ["DescribeStackResourceResult", "StackResourceDetail"];

/// The metadata URL for the contents of the hint file: `<contents>/v1/`, unless the
/// contents already end in `/v1` or `/v1/` (what current Heat writes there).
pub fn url_from_hint(contents: &str) -> String {
    let base = contents.trim().trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}/")
    } else {
        format!("{base}/v1/")
    }
}

/// One `path` entry, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfnPath {
    /// As configured, for messages.
    pub text: String,
    /// `LogicalResourceId`.
    pub resource: String,
    /// The `StackResourceDetail` element (`Metadata`).
    pub field: String,
    /// Keys to descend into within the field's JSON.
    pub sub_keys: Vec<String>,
}

impl CfnPath {
    /// What this path selects from its field's text (JSON): the sub-keys descended, which
    /// must end at an object; otherwise why not, naming the path.
    pub fn select(&self, field_text: &str) -> Result<Map<String, Value>, String> {
        let mut value: Value = serde_json::from_str(field_text).map_err(|e| {
            format!(
                "path {} is not JSON (line {} column {})",
                self.text,
                e.line(),
                e.column()
            )
        })?;
        for key in &self.sub_keys {
            value = match value {
                Value::Object(mut m) => m.remove(key),
                _ => None,
            }
            .ok_or_else(|| format!("sub-key {key} does not exist ({})", self.text))?;
        }
        match value {
            Value::Object(m) => Ok(m),
            _ => Err(format!("path {} is not a JSON object", self.text)),
        }
    }

    /// Splits `Resource.Field[.sub.keys]`; `None` without a field.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let resource = parts.next().filter(|r| !r.is_empty())?.to_string();
        let field = parts.next().filter(|f| !f.is_empty())?.to_string();
        Some(CfnPath {
            text: text.to_string(),
            resource,
            field,
            sub_keys: parts.map(str::to_string).collect(),
        })
    }
}

/// XML that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reply is not well-formed XML: {0}")]
pub struct XmlError(String);

/// The text of `<root>/DescribeStackResourceResult/StackResourceDetail/<field>` in `xml`,
/// entities and character references resolved, CDATA included; `None` when there is no
/// such element. Only the first match counts.
pub fn field_text(xml: &str, field: &str) -> Result<Option<String>, XmlError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut text: Option<String> = None;
    let is_target = |stack: &[String]| {
        stack.len() == 4
            && stack[1] == DETAIL_PATH[0]
            && stack[2] == DETAIL_PATH[1]
            && stack[3] == field
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlError(format!("{e} at byte {}", reader.error_position())))?;
        match event {
            Event::Start(e) => {
                stack.push(e.name().as_ref().to_string());
                if is_target(&stack) {
                    text = Some(String::new());
                }
            }
            Event::Empty(e) => {
                stack.push(e.name().as_ref().to_string());
                if is_target(&stack) {
                    return Ok(Some(String::new()));
                }
                stack.pop();
            }
            Event::End(_) => {
                if is_target(&stack) {
                    return Ok(text);
                }
                stack.pop();
            }
            Event::Text(t) if is_target(&stack) => {
                if let Some(out) = text.as_mut() {
                    out.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) if is_target(&stack) => {
                if let Some(out) = text.as_mut() {
                    out.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) if is_target(&stack) => {
                let resolved = match r.resolve_char_ref().map_err(|e| XmlError(e.to_string()))? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(&r)
                        .ok_or_else(|| XmlError(format!("unknown entity &{};", &*r)))?
                        .to_string(),
                };
                if let Some(out) = text.as_mut() {
                    out.push_str(&resolved);
                }
            }
            Event::Eof => {
                if stack.is_empty() {
                    return Ok(None);
                }
                return Err(XmlError("unexpected end of document".into()));
            }
            _ => {}
        }
    }
}

/// One signed `DescribeStackResource` endpoint: the URL and the EC2 key that signs each
/// request. Shared by the `cfn` collector and the heat-cfntools tools (`cfn-init`,
/// `cfn-hup`, `cfn-get-metadata`: [`crate::cfn::metadata`]).
pub struct DescribeStackResource {
    client: reqwest::Client,
    url: Url,
    /// `host[:port]` as signed (and as reqwest sends it in `Host`).
    host: String,
    shown: String,
    access_key_id: String,
    secret: Secret,
}

impl std::fmt::Debug for DescribeStackResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DescribeStackResource")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

impl DescribeStackResource {
    /// The endpoint at `metadata_url` (an http(s) URL such as `http://heat:8000/v1/`).
    pub fn new(
        client: reqwest::Client,
        metadata_url: &str,
        access_key_id: &str,
        secret: Secret,
    ) -> Result<Self, FetchError> {
        let url =
            Url::parse(metadata_url).map_err(|err| FetchError::InvalidUrl(err.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::InvalidUrl(format!(
                "unsupported scheme {:?}",
                url.scheme()
            )));
        }
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err(FetchError::InvalidUrl("no host".into())),
        };
        Ok(DescribeStackResource {
            client,
            shown: redact_url(&url),
            host,
            url,
            access_key_id: access_key_id.to_string(),
            secret,
        })
    }

    /// The URL as it may be shown.
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    /// The query of the request for `resource` of `stack`, in upstream's order,
    /// `Signature` last and computed for exactly these parameters.
    pub fn signed_query(&self, stack: &str, resource: &str) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = [
            ("Action", "DescribeStackResource"),
            ("StackName", stack),
            ("LogicalResourceId", resource),
            ("AWSAccessKeyId", self.access_key_id.as_str()),
            ("SignatureVersion", "2"),
            ("SignatureMethod", "HmacSHA256"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let signature = ec2_signature::sign(
            self.secret.expose(),
            "GET",
            &self.host,
            self.url.path(),
            &params,
        );
        params.push(("Signature".into(), signature));
        params
    }

    /// The text of `StackResourceDetail/<field>` of `resource` (for `Metadata`, JSON);
    /// `None` when the reply has no such element.
    pub async fn field(
        &self,
        stack: &str,
        resource: &str,
        field: &str,
    ) -> Result<Option<String>, FetchError> {
        let response = self
            .client
            .get(self.url.clone())
            .query(&self.signed_query(stack, resource))
            .header(CONTENT_TYPE, "application/json")
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|err| FetchError::Unreachable {
                url: self.shown.clone(),
                reason: http::describe(&err),
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: self.shown.clone(),
                status,
            });
        }
        let body = response.text().await.map_err(|err| FetchError::Body {
            url: self.shown.clone(),
            reason: http::describe(&err),
        })?;
        field_text(&body, field).map_err(|e| FetchError::Reply {
            url: self.shown.clone(),
            reason: e.to_string(),
        })
    }
}

/// Polls `DescribeStackResource` for each configured path.
pub struct CfnCollector {
    endpoint: DescribeStackResource,
    stack_name: String,
    paths: Vec<CfnPath>,
    last: LastDocument,
}

impl std::fmt::Debug for CfnCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfnCollector")
            .field("url", &self.endpoint.shown)
            .field("stack_name", &self.stack_name)
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl CfnCollector {
    /// A collector for `settings`.
    pub fn new(client: reqwest::Client, settings: &CfnSettings) -> Result<Self, FetchError> {
        let endpoint = DescribeStackResource::new(
            client,
            &settings.metadata_url,
            &settings.access_key_id,
            settings.secret_access_key.clone(),
        )?;
        let paths = settings
            .path
            .iter()
            .map(|p| {
                CfnPath::parse(p).ok_or_else(|| {
                    FetchError::NotConfigured(format!(
                        "cfn path {p:?} is not in the format Resource.Field[.x.y]"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if paths.is_empty() {
            return Err(FetchError::NotConfigured("no cfn path configured".into()));
        }
        Ok(CfnCollector {
            endpoint,
            stack_name: settings.stack_name.clone(),
            paths,
            last: LastDocument::default(),
        })
    }

    /// The URL as it may be shown.
    pub fn shown_url(&self) -> &str {
        self.endpoint.shown_url()
    }

    /// The query of the request for `resource`, in upstream's order, `Signature` last and
    /// computed for exactly these parameters.
    pub fn signed_query(&self, resource: &str) -> Vec<(String, String)> {
        self.endpoint.signed_query(&self.stack_name, resource)
    }

    /// The value one path selects.
    async fn fetch_path(&self, path: &CfnPath) -> Result<Map<String, Value>, FetchError> {
        let reply = |reason: String| FetchError::Reply {
            url: self.endpoint.shown.clone(),
            reason,
        };
        let text = self
            .endpoint
            .field(&self.stack_name, &path.resource, &path.field)
            .await?
            .ok_or_else(|| reply(format!("path {} does not exist", path.text)))?;
        path.select(&text).map_err(reply)
    }

    /// Fetches every path and merges them into the document.
    pub async fn fetch(&mut self) -> Result<Change, FetchError> {
        let mut merged = Map::new();
        for path in &self.paths {
            merged.extend(self.fetch_path(path).await?);
        }
        let shown = self.endpoint.shown.clone();
        self.last.compare(Value::Object(merged), &shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_urls_are_normalised() {
        assert_eq!(url_from_hint("http://h:8000"), "http://h:8000/v1/");
        assert_eq!(url_from_hint("http://h:8000/\n"), "http://h:8000/v1/");
        assert_eq!(url_from_hint("http://h:8000/v1/"), "http://h:8000/v1/");
        assert_eq!(url_from_hint("http://h:8000/v1"), "http://h:8000/v1/");
    }

    #[test]
    fn paths_split_into_resource_field_and_sub_keys() {
        let p = CfnPath::parse("server.Metadata.os-collect-config.cfn").unwrap();
        assert_eq!(
            (p.resource.as_str(), p.field.as_str()),
            ("server", "Metadata")
        );
        assert_eq!(p.sub_keys, ["os-collect-config", "cfn"]);
        assert_eq!(CfnPath::parse("server.Metadata").unwrap().sub_keys.len(), 0);
        assert_eq!(CfnPath::parse("server"), None);
        assert_eq!(CfnPath::parse("server."), None);
    }

    #[test]
    fn field_text_finds_only_the_detail_field() {
        let xml = "<R><DescribeStackResourceResult><StackResourceDetail><Description>x</Description><Metadata>{&quot;a&quot;: &#34;b &gt; c&#x22;}</Metadata></StackResourceDetail></DescribeStackResourceResult></R>";
        assert_eq!(
            field_text(xml, "Metadata").unwrap().as_deref(),
            Some(r#"{"a": "b > c"}"#)
        );
        assert_eq!(field_text(xml, "Missing").unwrap(), None);
        let cdata = "<R><DescribeStackResourceResult><StackResourceDetail><Metadata><![CDATA[{\"a\": \"<&>\"}]]></Metadata></StackResourceDetail></DescribeStackResourceResult></R>";
        assert_eq!(
            field_text(cdata, "Metadata").unwrap().as_deref(),
            Some(r#"{"a": "<&>"}"#)
        );
        let empty = "<R><DescribeStackResourceResult><StackResourceDetail><Metadata/></StackResourceDetail></DescribeStackResourceResult></R>";
        assert_eq!(field_text(empty, "Metadata").unwrap().as_deref(), Some(""));
        // Elsewhere in the tree it does not count.
        assert_eq!(
            field_text("<R><Metadata>{}</Metadata></R>", "Metadata").unwrap(),
            None
        );
        assert!(field_text("<R><DescribeStackResourceResult>", "Metadata").is_err());
        assert!(
            field_text("not xml <<", "Metadata").is_err()
                || field_text("not xml <<", "Metadata").unwrap().is_none()
        );
    }
}
