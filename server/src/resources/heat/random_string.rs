//! `OS::Heat::RandomString`: a random string; its reference id is the string itself.

use async_trait::async_trait;
use rand::RngExt;
use rand::seq::SliceRandom;
use serde_json::{Map, Value};

use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;

/// `OS::Heat::RandomString`.
pub struct RandomString;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("length", PropType::Integer).default("32"),
    PropertySchema::new("sequence", PropType::String),
    PropertySchema::new("character_classes", PropType::List),
    PropertySchema::new("character_sequences", PropType::List),
    PropertySchema::new("salt", PropType::String),
];

fn class_chars(class: &str) -> Option<&'static str> {
    const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const DIGITS: &str = "0123456789";
    Some(match class {
        "lettersdigits" => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "letters" => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "lowercase" => LOWER,
        "uppercase" => UPPER,
        "digits" => DIGITS,
        "hexdigits" => "0123456789abcdefABCDEF",
        "octdigits" => "01234567",
        _ => return None,
    })
}

/// Generates the string: each class/sequence contributes its `min` characters, the rest
/// is drawn from the union, and the result is shuffled.
fn generate(props: &Map<String, Value>) -> Result<String, ResourceError> {
    let length = props.get("length").and_then(Value::as_i64).unwrap_or(32);
    if !(1..=512).contains(&length) {
        return Err(ResourceError::Failed(format!(
            "length must be between 1 and 512, not {length}"
        )));
    }
    let mut pools: Vec<(Vec<char>, usize)> = Vec::new();
    let default_classes = vec![serde_json::json!({"class": "lettersdigits", "min": 1})];
    let classes = props
        .get("character_classes")
        .and_then(Value::as_array)
        .cloned();
    let sequences = props
        .get("character_sequences")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let classes = match (classes, sequences.is_empty()) {
        (Some(c), _) => c,
        (None, true) => default_classes,
        (None, false) => vec![],
    };
    for c in &classes {
        let name = c
            .get("class")
            .and_then(Value::as_str)
            .unwrap_or("lettersdigits");
        let chars = class_chars(name).ok_or_else(|| {
            ResourceError::Failed(format!("character_classes: unknown class \"{name}\""))
        })?;
        let min = c.get("min").and_then(Value::as_u64).unwrap_or(1) as usize;
        pools.push((chars.chars().collect(), min));
    }
    for s in &sequences {
        let seq = s
            .get("sequence")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let min = s.get("min").and_then(Value::as_u64).unwrap_or(1) as usize;
        if !seq.is_empty() {
            pools.push((seq.chars().collect(), min));
        }
    }
    let length = length as usize;
    if pools.iter().map(|(_, m)| m).sum::<usize>() > length {
        return Err(ResourceError::Failed(
            "length is shorter than the combined min of the character classes and sequences".into(),
        ));
    }
    let mut rng = rand::rng();
    let mut out: Vec<char> = Vec::with_capacity(length);
    for (chars, min) in &pools {
        for _ in 0..*min {
            out.push(chars[rng.random_range(0..chars.len())]);
        }
    }
    let all: Vec<char> = pools.iter().flat_map(|(c, _)| c.iter().copied()).collect();
    while out.len() < length {
        out.push(all[rng.random_range(0..all.len())]);
    }
    out.shuffle(&mut rng);
    Ok(out.into_iter().collect())
}

#[async_trait]
impl ResourceType for RandomString {
    fn type_name(&self) -> &'static str {
        "OS::Heat::RandomString"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["value"]
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let value = generate(props)?;
        let mut attributes = Map::new();
        attributes.insert("value".into(), Value::String(value.clone()));
        Ok(ResourceOutcome {
            physical_id: ctx.physical_name(),
            reference_id: Some(value),
            attributes,
            data: Map::new(),
        })
    }
    async fn delete(&self, _: &ResourceContext<'_>, _: &ResourceRow) -> Result<(), ResourceError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn honours_length_and_class_minimums() {
        let props = json!({"length": 12, "character_classes": [{"class": "digits", "min": 12}]});
        let s = generate(props.as_object().unwrap()).unwrap();
        assert_eq!(s.len(), 12);
        assert!(s.chars().all(|c| c.is_ascii_digit()));
        let props = json!({"length": 2, "character_classes": [{"class": "digits", "min": 3}]});
        assert!(generate(props.as_object().unwrap()).is_err());
        assert_eq!(generate(&Map::new()).unwrap().len(), 32);
    }
}
