//! `OS::Heat::CloudConfig`: a cloud-init cloud-config document, stored as the text
//! `#cloud-config` followed by the YAML of the `cloud_config` map (group `Heat::Ungrouped`).

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::software_config::{self, NewConfig, UNGROUPED};
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;

/// `OS::Heat::CloudConfig`.
pub struct CloudConfig;

const SCHEMA: &[PropertySchema] = &[PropertySchema::new("cloud_config", PropType::Map)];

/// Maps with their keys sorted, at every depth: Heat's PyYAML dump sorts keys.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The stored text: `#cloud-config\n` and the YAML dump of `cloud_config` (null when
/// absent, as Heat's dump of `None`). Strings YAML 1.1 readers (cloud-init's PyYAML) would
/// take for booleans, numbers or nulls are quoted.
pub fn render(cloud_config: &Value) -> Result<String, ResourceError> {
    let yaml = serde_saphyr::to_string(&sorted(cloud_config)).map_err(|e| {
        ResourceError::Failed(format!("cloud_config cannot be written as YAML: {e}"))
    })?;
    let yaml = if yaml.ends_with('\n') {
        yaml
    } else {
        format!("{yaml}\n")
    };
    Ok(format!("#cloud-config\n{yaml}"))
}

#[async_trait]
impl ResourceType for CloudConfig {
    fn type_name(&self) -> &'static str {
        "OS::Heat::CloudConfig"
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
        let text = render(props.get("cloud_config").unwrap_or(&Value::Null))?;
        software_config::store_config(ctx, NewConfig::plain(UNGROUPED, json!(text))).await
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
    use crate::resources::heat::test_support::Harness;

    /// The document as cloud-init's YAML 1.1 reader sees it (our port of PyYAML's loader).
    fn read_back(text: &str) -> Value {
        let body = text.strip_prefix("#cloud-config\n").expect("header");
        crate::template::loader::load_document(body).expect("valid YAML")
    }

    #[test]
    fn renders_yaml_that_reads_back_as_the_map() {
        let map = json!({
            "write_files": [{"path": "/etc/motd", "content": "line one\nline two\n", "permissions": "0644"}],
            "packages": ["git", "yes", "on", "1.5", "~", "null", "2024-01-01", "0x1f"],
            "runcmd": [["sh", "-c", "echo 'a: b' # not a comment"], "long ".repeat(40)],
            "package_upgrade": true, "n": 3, "empty": {}, "nothing": null,
            "unicode": "héllo: \u{1F600}", "leading": "  spaced", "tab": "a\tb"
        });
        let text = render(&map).unwrap();
        assert!(text.starts_with("#cloud-config\n"), "{text}");
        assert_eq!(read_back(&text), map, "{text}");
        // Keys are sorted, as Heat's dump writes them.
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with([' ', '-', '#']))
            .filter_map(|l| l.split(':').next())
            .map(|k| k.trim_matches('"'))
            .collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort();
        assert_eq!(keys, sorted_keys, "{text}");
    }

    #[tokio::test]
    async fn stores_the_text_ungrouped_and_replaces_on_change() {
        let h = Harness::new().await;
        let row = h
            .create(
                &CloudConfig,
                "cc",
                json!({"cloud_config": {"users": [{"name": "ops"}]}}),
            )
            .await
            .unwrap();
        let stored = h
            .services
            .store
            .config(&row.physical_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.group, "Heat::Ungrouped");
        let text = stored.config.as_str().unwrap();
        assert_eq!(read_back(text), json!({"users": [{"name": "ops"}]}));
        assert_eq!(row.attributes["config"], stored.config);
        let (kind, _) = h
            .update(&CloudConfig, &row, json!({"cloud_config": {"users": []}}))
            .await;
        assert_eq!(kind, UpdateKind::Replace);
    }
}
