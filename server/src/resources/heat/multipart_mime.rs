//! `OS::Heat::MultipartMime`: a MIME `multipart/mixed` message (what cloud-init reads as
//! user data) assembled from `parts`, stored as a config of `group`.
//!
//! As Heat: a part's `config` that is a config id is replaced by that config's `config`
//! text; a `text` part becomes `text/<subtype>` (no subtype: the filename without its
//! extension, else `plain`), attached under its filename; a `multipart` part splices in the
//! parts of the multipart message it holds, each as `text/<its subtype>` with its filename.

use async_trait::async_trait;
use base64::Engine as _;
use mail_parser::{Message, MessageParser, MimeHeaders};
use serde_json::{Map, Value, json};

use super::software_config::{self, NewConfig};
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::{ResourceRow, Store};

/// `OS::Heat::MultipartMime`.
pub struct MultipartMime;

const PART: &[PropertySchema] = &[
    PropertySchema::new("config", PropType::String).required(),
    PropertySchema::new("filename", PropType::String),
    PropertySchema::new("type", PropType::String)
        .default("\"text\"")
        .allowed(&["text", "multipart"]),
    PropertySchema::new("subtype", PropType::String),
];

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("group", PropType::String).default("\"Heat::Ungrouped\""),
    PropertySchema::new("parts", PropType::List)
        .default("[]")
        .entries(PART),
];

/// One part of the message to write.
#[derive(Debug, Clone, PartialEq)]
pub struct MimePart {
    /// The text.
    pub body: String,
    /// `text/<subtype>`.
    pub subtype: String,
    /// The attachment's filename, if any.
    pub filename: Option<String>,
}

impl MimePart {
    /// A part as Heat makes it from a `text` item: the subtype defaults to the filename
    /// without its extension (Python's `splitext`), then to `plain`.
    pub fn new(body: String, subtype: Option<&str>, filename: Option<&str>) -> Self {
        let filename = filename.filter(|f| !f.is_empty()).map(str::to_string);
        let subtype = subtype
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| filename.as_deref().map(|f| file_stem(f).to_string()))
            .unwrap_or_else(|| "plain".to_string());
        MimePart {
            body,
            subtype,
            filename,
        }
    }
}

/// Python's `os.path.splitext(name)[0]`: leading dots do not start an extension.
fn file_stem(name: &str) -> &str {
    let start = name.len() - name.trim_start_matches('.').len();
    match name[start..].rfind('.') {
        Some(dot) => &name[..start + dot],
        None => name,
    }
}

/// A quoted MIME parameter value (RFC 2045 `quoted-string`), or RFC 2231's
/// `name*=utf-8''…` form for non-ASCII values, as Python's email package writes them.
fn parameter(name: &str, value: &str) -> String {
    if value.is_ascii() {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{name}=\"{escaped}\"")
    } else {
        const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        let encoded = percent_encoding::utf8_percent_encode(value, KEEP);
        format!("{name}*=utf-8''{encoded}")
    }
}

/// Base64 in lines of 76 characters, as MIME writers wrap it.
fn base64_lines(text: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 76 + 1);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

/// A boundary of Python's shape (`===============<19 digits>==`) found in no part.
fn boundary(parts: &[MimePart]) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    loop {
        let digits: String = (0..19)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect();
        let candidate = format!("==============={digits}==");
        if !parts.iter().any(|p| p.body.contains(&candidate)) {
            return candidate;
        }
    }
}

/// The `multipart/mixed` message of `parts`, laid out as Python's email generator does:
/// ASCII parts as 7bit text, others as base64 of their UTF-8.
pub fn write_message(parts: &[MimePart]) -> String {
    let boundary = boundary(parts);
    let mut out =
        format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\nMIME-Version: 1.0\n\n");
    for part in parts {
        let ascii = part.body.is_ascii();
        out.push_str(&format!("--{boundary}\n"));
        out.push_str(&format!(
            "Content-Type: text/{}; charset=\"{}\"\nMIME-Version: 1.0\n",
            part.subtype,
            if ascii { "us-ascii" } else { "utf-8" }
        ));
        out.push_str(if ascii {
            "Content-Transfer-Encoding: 7bit\n"
        } else {
            "Content-Transfer-Encoding: base64\n"
        });
        if let Some(name) = &part.filename {
            out.push_str(&format!(
                "Content-Disposition: attachment; {}\n",
                parameter("filename", name)
            ));
        }
        out.push('\n');
        if ascii {
            out.push_str(&part.body);
        } else {
            out.push_str(&base64_lines(&part.body));
        }
        // The line break before the next delimiter belongs to the delimiter.
        out.push('\n');
    }
    if parts.is_empty() {
        out.push_str(&format!("--{boundary}\n\n"));
    }
    out.push_str(&format!("--{boundary}--\n"));
    out
}

/// The leaf parts of a multipart message, in order, decoded (a nested multipart's parts
/// are taken in place); `[]` when the text is not a multipart message, as Heat.
pub fn read_parts(text: &str) -> Vec<MimePart> {
    let Some(message) = MessageParser::default().parse(text.as_bytes()) else {
        return Vec::new();
    };
    let root = message.root_part();
    let Some(ids) = root.sub_parts() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect(&message, ids, &mut out);
    out
}

fn collect(message: &Message<'_>, ids: &[u32], out: &mut Vec<MimePart>) {
    for id in ids {
        let Some(part) = message.part(*id) else {
            continue;
        };
        if let Some(nested) = part.sub_parts() {
            collect(message, nested, out);
            continue;
        }
        let body = part
            .text_contents()
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(part.contents()).into_owned());
        let subtype = part
            .content_type()
            .and_then(|c| c.subtype())
            .unwrap_or("plain");
        out.push(MimePart {
            body,
            subtype: subtype.to_ascii_lowercase(),
            filename: part.attachment_name().map(str::to_string),
        });
    }
}

/// A part's content: the `config` of the stored config it names, else the text itself
/// (an id of no config is kept as text, as Heat).
async fn part_text(store: &Store, config: &str) -> Result<String, ResourceError> {
    if uuid::Uuid::parse_str(config).is_err() {
        return Ok(config.to_string());
    }
    Ok(match store.config(config).await? {
        Some(row) => match row.config {
            Value::String(s) => s,
            Value::Null => String::new(),
            // A structured config has no text form of its own: its JSON is the part.
            other => other.to_string(),
        },
        None => config.to_string(),
    })
}

/// The message of the validated `parts` property.
pub async fn message(store: &Store, parts: &Value) -> Result<String, ResourceError> {
    let mut out = Vec::new();
    for item in parts.as_array().into_iter().flatten() {
        let config = item.get("config").and_then(Value::as_str).unwrap_or("");
        let text = part_text(store, config).await?;
        let str_of = |k: &str| item.get(k).and_then(Value::as_str);
        if str_of("type") == Some("multipart") {
            out.extend(read_parts(&text));
        } else {
            out.push(MimePart::new(text, str_of("subtype"), str_of("filename")));
        }
    }
    Ok(write_message(&out))
}

#[async_trait]
impl ResourceType for MultipartMime {
    fn type_name(&self) -> &'static str {
        "OS::Heat::MultipartMime"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["config"]
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let text = message(
            &ctx.services.store,
            props.get("parts").unwrap_or(&Value::Null),
        )
        .await?;
        let group = props
            .get("group")
            .and_then(Value::as_str)
            .unwrap_or(software_config::UNGROUPED);
        software_config::store_config(ctx, NewConfig::plain(group, json!(text))).await
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        software_config::delete_config(ctx, current).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::UpdateKind;
    use crate::resources::heat::cloud_config::CloudConfig;
    use crate::resources::heat::test_support::Harness;

    #[test]
    fn subtypes_follow_heat() {
        assert_eq!(MimePart::new("x".into(), None, None).subtype, "plain");
        assert_eq!(
            MimePart::new("x".into(), None, Some("boot.sh")).subtype,
            "boot"
        );
        assert_eq!(
            MimePart::new("x".into(), Some("x-shellscript"), Some("boot.sh")).subtype,
            "x-shellscript"
        );
        assert_eq!(file_stem(".bashrc"), ".bashrc");
        assert_eq!(file_stem("a.b.c"), "a.b");
        assert_eq!(file_stem("cloud-config"), "cloud-config");
    }

    #[test]
    fn messages_read_back_in_order() {
        let parts = vec![
            MimePart::new(
                "#cloud-config\nruncmd: []\n".into(),
                None,
                Some("cloud-config"),
            ),
            MimePart::new(
                "#!/bin/sh\necho héllo\n".into(),
                Some("x-shellscript"),
                Some("hé.sh"),
            ),
            MimePart::new("no newline".into(), None, None),
        ];
        let text = write_message(&parts);
        assert!(
            text.starts_with("Content-Type: multipart/mixed; boundary=\"==============="),
            "{text}"
        );
        assert!(text.contains("Content-Disposition: attachment; filename=\"cloud-config\"\n"));
        assert!(text.contains("filename*=utf-8''h%C3%A9.sh"), "{text}");
        assert_eq!(read_parts(&text), parts);
        // Not a multipart message: nothing to splice, as Heat.
        assert_eq!(read_parts("#!/bin/sh\necho hi\n"), []);
        // An empty message has one empty part to Python's parser too.
        assert_eq!(
            read_parts(&write_message(&[])),
            [MimePart::new(String::new(), None, None)]
        );
    }

    #[tokio::test]
    async fn config_ids_and_multiparts_are_resolved() {
        let h = Harness::new().await;
        let cc = h
            .create(
                &CloudConfig,
                "cc",
                json!({"cloud_config": {"packages": ["git"]}}),
            )
            .await
            .unwrap();
        let inner = h
            .create(
                &MultipartMime,
                "inner",
                json!({"parts": [{"config": "a", "filename": "a.txt"}, {"config": "b", "subtype": "x-shellscript"}]}),
            )
            .await
            .unwrap();
        let missing = uuid::Uuid::new_v4().to_string();
        let outer = h
            .create(
                &MultipartMime,
                "outer",
                json!({"group": "ungrouped-mime", "parts": [
                    {"config": cc.physical_id, "filename": "cloud-config"},
                    {"config": inner.physical_id, "type": "multipart"},
                    {"config": missing}
                ]}),
            )
            .await
            .unwrap();
        let stored = h
            .services
            .store
            .config(&outer.physical_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.group, "ungrouped-mime");
        let text = stored.config.as_str().unwrap();
        let got = read_parts(text);
        let want = vec![
            MimePart::new(
                cc.attributes["config"].as_str().unwrap().to_string(),
                Some("cloud-config"),
                Some("cloud-config"),
            ),
            MimePart::new("a".into(), Some("a"), Some("a.txt")),
            MimePart::new("b".into(), Some("x-shellscript"), None),
            MimePart::new(missing, None, None),
        ];
        assert_eq!(got, want, "{text}");
        assert_eq!(outer.attributes["config"], stored.config);
        let (kind, _) = h.update(&MultipartMime, &outer, json!({"parts": []})).await;
        assert_eq!(kind, UpdateKind::Replace);
    }

    #[test]
    fn an_unknown_part_type_is_named_by_path() {
        let e = Harness::validate(
            &MultipartMime,
            "mime",
            json!({"parts": [{"config": "a"}, {"config": "b", "type": "html"}]}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.mime.properties.parts[1].type: \"html\" is not an allowed value [\"text\", \"multipart\"]"
        );
    }
}
