//! `OS::Heat::RandomString`: a random string; its reference id is the string itself.
//!
//! Heat's generator (`password_gen.generate_password`): each character class and sequence
//! contributes its `min` characters, the rest is drawn from the union of all of them (as
//! sets: a character repeated in a sequence, or shared by two classes, is not more likely),
//! and the result is shuffled. `character_classes` defaults to `[{class: lettersdigits,
//! min: 1}]` even when `character_sequences` is given; the deprecated `sequence: <class>` is
//! translated into one more class `{class: <class>, min: 1}` (and then the default does not
//! apply). No property can be updated in place: any change, `salt` included, replaces it.

use async_trait::async_trait;
use rand::RngExt;
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};

use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;
use crate::template::TemplateError;

/// `OS::Heat::RandomString`.
pub struct RandomString;

const CLASSES: &[&str] = &[
    "lettersdigits",
    "letters",
    "lowercase",
    "uppercase",
    "digits",
    "hexdigits",
    "octdigits",
];

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("length", PropType::Integer)
        .default("32")
        .range(Some(1), Some(512)),
    // Deprecated (hidden in Heat): a class name, translated into `character_classes`.
    PropertySchema::new("sequence", PropType::String).allowed(CLASSES),
    // No schema default: whether it was given decides how `sequence` is translated; the
    // default is applied by `effective_classes`.
    PropertySchema::new("character_classes", PropType::List).entries(&[
        PropertySchema::new("class", PropType::String)
            .allowed(CLASSES)
            .default("\"lettersdigits\""),
        PropertySchema::new("min", PropType::Integer)
            .default("1")
            .range(Some(1), Some(512)),
    ]),
    PropertySchema::new("character_sequences", PropType::List).entries(&[
        PropertySchema::new("sequence", PropType::String).required(),
        PropertySchema::new("min", PropType::Integer)
            .default("1")
            .range(Some(1), Some(512)),
    ]),
    PropertySchema::new("salt", PropType::String),
];

fn class_chars(class: &str) -> Option<&'static str> {
    Some(match class {
        "lettersdigits" => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "letters" => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "lowercase" => "abcdefghijklmnopqrstuvwxyz",
        "uppercase" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "digits" => "0123456789",
        // Heat's own set: upper-case letters only (not Python's `string.hexdigits`).
        "hexdigits" => "0123456789ABCDEF",
        "octdigits" => "01234567",
        _ => return None,
    })
}

/// `character_classes` after Heat's default and the `sequence` translation.
fn effective_classes(props: &Map<String, Value>) -> Vec<Value> {
    let sequence = props
        .get("sequence")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let mut classes = match (props.get("character_classes"), sequence) {
        (Some(Value::Array(list)), _) => list.clone(),
        (_, Some(_)) => vec![],
        (_, None) => vec![json!({"class": "lettersdigits", "min": 1})],
    };
    if let Some(seq) = sequence {
        classes.push(json!({"class": seq, "min": 1}));
    }
    classes
}

fn sequences(props: &Map<String, Value>) -> Vec<Value> {
    props
        .get("character_sequences")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Sum of the `min`s, when every one is a resolved integer (validation has filled the
/// default into every resolved item).
fn sum_of_minimums(items: &[Value]) -> Option<i64> {
    items
        .iter()
        .try_fold(0i64, |sum, item| Some(sum + item.get("min")?.as_i64()?))
}

/// The characters of a class or sequence, each once, in first-seen order.
fn char_set(chars: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in chars.chars() {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn empty_choice() -> ResourceError {
    // What Python's `random.choice(())` raises in Heat's generator.
    ResourceError::Raised {
        heat_type: "IndexError",
        message: "Cannot choose from an empty sequence".into(),
    }
}

/// Generates the string from validated properties.
fn generate(props: &Map<String, Value>) -> Result<String, ResourceError> {
    let length = props.get("length").and_then(Value::as_i64).unwrap_or(32);
    let length = usize::try_from(length).unwrap_or(0);
    let mut pools: Vec<(Vec<char>, usize)> = Vec::new();
    let min_of = |item: &Value| {
        item.get("min")
            .and_then(Value::as_u64)
            .map_or(1, |m| m as usize)
    };
    for s in sequences(props) {
        let seq = s.get("sequence").and_then(Value::as_str).unwrap_or("");
        pools.push((char_set(seq), min_of(&s)));
    }
    for c in effective_classes(props) {
        let name = c
            .get("class")
            .and_then(Value::as_str)
            .unwrap_or("lettersdigits");
        let chars = class_chars(name)
            .ok_or_else(|| ResourceError::Failed(format!("\"{name}\" is not a character class")))?;
        pools.push((char_set(chars), min_of(&c)));
    }
    let mut rng = rand::rng();
    let mut out: Vec<char> = Vec::with_capacity(length);
    let mut all: Vec<char> = Vec::new();
    for (chars, min) in &pools {
        for c in chars {
            if !all.contains(c) {
                all.push(*c);
            }
        }
        for _ in 0..*min {
            if chars.is_empty() {
                return Err(empty_choice());
            }
            out.push(chars[rng.random_range(0..chars.len())]);
        }
    }
    while out.len() < length {
        if all.is_empty() {
            return Err(empty_choice());
        }
        out.push(all[rng.random_range(0..all.len())]);
    }
    // Validation keeps the minimums within the length; `random.sample` would cut, too.
    out.shuffle(&mut rng);
    out.truncate(length);
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
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        let Some(length) = props.get("length").and_then(Value::as_i64) else {
            return Ok(());
        };
        // Lists still holding function calls are checked once resolved.
        let resolved_list = |k: &str| props.get(k).is_none_or(|v| v.is_array() || v.is_null());
        if !resolved_list("character_classes") || !resolved_list("character_sequences") {
            return Ok(());
        }
        let classes = effective_classes(props);
        let minimums = sum_of_minimums(&sequences(props))
            .zip(sum_of_minimums(&classes))
            .map(|(a, b)| a + b);
        if minimums.is_some_and(|m| m > length) {
            return Err(TemplateError::at(
                path.strip_suffix(".properties").unwrap_or(path),
                "Length property cannot be smaller than combined character class and \
                 character sequence minimums",
            ));
        }
        Ok(())
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let value = generate(props)?;
        let mut attributes = Map::new();
        attributes.insert("value".into(), Value::String(value.clone()));
        let mut data = Map::new();
        data.insert("value".into(), Value::String(value.clone()));
        Ok(ResourceOutcome {
            physical_id: ctx.physical_name(),
            reference_id: Some(value),
            attributes,
            data,
        })
    }
    async fn delete(&self, _: &ResourceContext<'_>, _: &ResourceRow) -> Result<(), ResourceError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::UpdateKind;
    use crate::resources::heat::test_support::Harness;

    fn valid(props: Value) -> Map<String, Value> {
        Harness::validate(&RandomString, "r", props).unwrap()
    }

    fn count(s: &str, set: &str) -> usize {
        s.chars().filter(|c| set.contains(*c)).count()
    }

    #[test]
    fn honours_length_and_minimums() {
        // Heat's test_random_string `secret3`.
        let props = valid(json!({
            "length": 32,
            "character_classes": [
                {"class": "digits", "min": 1}, {"class": "uppercase", "min": 1},
                {"class": "lowercase", "min": 20}
            ],
            "character_sequences": [
                {"sequence": "(),[]{}", "min": 1}, {"sequence": "$_", "min": 2},
                {"sequence": "@", "min": 5}
            ]
        }));
        for _ in 0..20 {
            let s = generate(&props).unwrap();
            assert_eq!(s.chars().count(), 32);
            assert!(count(&s, "0123456789") >= 1);
            assert!(count(&s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") >= 1);
            assert!(count(&s, "abcdefghijklmnopqrstuvwxyz") >= 20);
            assert!(count(&s, "(),[]{}") >= 1);
            assert!(count(&s, "$_") >= 2);
            assert!(count(&s, "@") >= 5);
        }
        assert_eq!(generate(&valid(json!({}))).unwrap().len(), 32);
    }

    #[test]
    fn the_default_class_applies_with_sequences_but_not_after_translation() {
        // Sequences only: lettersdigits still contributes (Heat's `secret5`).
        let props =
            valid(json!({"length": 10, "character_sequences": [{"sequence": "@", "min": 9}]}));
        for _ in 0..20 {
            let s = generate(&props).unwrap();
            assert_eq!(count(&s, "@"), 9, "{s}");
        }
        // `sequence: octdigits` becomes the only class.
        let props = valid(json!({"length": 100, "sequence": "octdigits"}));
        assert_eq!(
            effective_classes(&props),
            vec![json!({"class": "octdigits", "min": 1})]
        );
        let s = generate(&props).unwrap();
        assert!(s.chars().all(|c| ('0'..='7').contains(&c)), "{s}");
        // Given classes get the translated one appended.
        let props =
            valid(json!({"sequence": "digits", "character_classes": [{"class": "lowercase"}]}));
        assert_eq!(
            effective_classes(&props),
            vec![
                json!({"class": "lowercase", "min": 1}),
                json!({"class": "digits", "min": 1})
            ]
        );
        // hexdigits is upper-case, as in Heat.
        let props = valid(json!({"length": 200, "character_classes": [{"class": "hexdigits"}]}));
        let s = generate(&props).unwrap();
        assert!(s.chars().all(|c| "0123456789ABCDEF".contains(c)), "{s}");
    }

    #[test]
    fn repeated_characters_are_not_favoured() {
        // Heat's test_repeated_sequence: "*" 39 times and "$" once are equally likely.
        let props = valid(json!({
            "length": 512, "character_classes": [],
            "character_sequences": [{"sequence": format!("{}${}", "*".repeat(10), "*".repeat(29))}]
        }));
        let s = generate(&props).unwrap();
        let dollars = count(&s, "$");
        assert!((150..=362).contains(&dollars), "{dollars}");
    }

    #[test]
    fn validation_in_heats_words() {
        let e = Harness::validate(
            &RandomString,
            "r",
            json!({"length": 2, "character_classes": [{"class": "digits", "min": 3}]}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.r: Length property cannot be smaller than combined character class and character sequence minimums"
        );
        // The default class counts too: 8 + 1 > 8.
        assert!(
            Harness::validate(
                &RandomString,
                "r",
                json!({"length": 8, "character_sequences": [{"sequence": "ab", "min": 8}]}),
            )
            .is_err()
        );
        let e = Harness::validate(&RandomString, "r", json!({"length": 513})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.r.properties.length: 513 is out of range (min: 1, max: 512)"
        );
        let e = Harness::validate(
            &RandomString,
            "r",
            json!({"character_classes": [{"class": "emoji"}]}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.r.properties.character_classes[0].class: \"emoji\" is not an allowed value \
             [\"lettersdigits\", \"letters\", \"lowercase\", \"uppercase\", \"digits\", \"hexdigits\", \"octdigits\"]"
        );
        let e = Harness::validate(
            &RandomString,
            "r",
            json!({"character_sequences": [{"min": 2}]}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.r.properties.character_sequences[0]: Property sequence not assigned"
        );
        let e = Harness::validate(&RandomString, "r", json!({"sequence": "words"})).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("resources.r.properties.sequence: \"words\" is not an allowed value")
        );
    }

    #[tokio::test]
    async fn any_change_replaces_and_the_string_is_the_reference() {
        let h = Harness::new().await;
        let row = h
            .create(&RandomString, "r", json!({"length": 12, "salt": "a"}))
            .await
            .unwrap();
        let value = row.attributes["value"].as_str().unwrap().to_string();
        assert_eq!(value.len(), 12);
        assert_eq!(row.reference_id.as_deref(), Some(value.as_str()));
        assert_eq!(row.data["value"], json!(value));
        let (kind, _) = h
            .update(&RandomString, &row, json!({"length": 12, "salt": "b"}))
            .await;
        assert_eq!(kind, UpdateKind::Replace);
        let (kind, _) = h
            .update(&RandomString, &row, json!({"length": 13, "salt": "a"}))
            .await;
        assert_eq!(kind, UpdateKind::Replace);
    }
}
