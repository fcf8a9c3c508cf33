//! Where a template path (`resources.app.properties.config[2]`) is in the template text.
//!
//! Only used when there are errors to report: the text is read a second time into a tree
//! of nodes carrying their line and column (serde-saphyr's `Spanned`), and each error's
//! path is followed down that tree as far as it exists. A path is matched against the
//! real keys, so keys containing dots (`file:///a.sh`) are found too.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::error::TemplateError;

/// One YAML node with the positions of its children.
enum Node {
    /// A mapping: key, the key's position, the value.
    Map(Vec<(String, (u64, u64), Spanned<Node>)>),
    /// A sequence.
    Seq(Vec<Spanned<Node>>),
    /// Anything else.
    Scalar,
}

/// The text of a mapping key (scalars only; other keys match nothing).
struct Key(String);

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key(String::new()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key(String::new()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Key(String::new()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Key, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Key(String::new()))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = vec![];
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = vec![];
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            let at = (key.referenced.line(), key.referenced.column());
            entries.push((key.value.0, at, value));
        }
        Ok(Node::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// A template text read for positions.
pub struct Positions {
    root: Option<Spanned<Node>>,
}

impl Positions {
    /// Reads `text` (YAML or JSON); text that cannot be read has no positions.
    pub fn new(text: &str) -> Self {
        // The same reading rules as `loader::load_document`, so the trees agree.
        let mut options = serde_saphyr::Options::default();
        options.legacy_octal_numbers = true;
        options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
        options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
        options.with_snippet = false;
        Positions {
            root: serde_saphyr::from_str_with_options::<Spanned<Node>>(text, options).ok(),
        }
    }

    /// The 1-based line and column of the deepest part of `path` that exists in the text
    /// (a mapping entry's key, a sequence item); `None` when not even its first step does.
    pub fn find(&self, path: &str) -> Option<(u64, u64)> {
        let mut node = self.root.as_ref()?;
        let mut rest = path;
        let mut best = None;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let (digits, tail) = after.split_once(']')?;
                let Node::Seq(items) = &node.value else {
                    break;
                };
                let Some(item) = digits.parse::<usize>().ok().and_then(|i| items.get(i)) else {
                    break;
                };
                best = Some((item.referenced.line(), item.referenced.column()));
                node = item;
                rest = tail.strip_prefix('.').unwrap_or(tail);
                continue;
            }
            let Node::Map(entries) = &node.value else {
                break;
            };
            let found = entries
                .iter()
                .filter(|(k, _, _)| {
                    rest.strip_prefix(k.as_str())
                        .is_some_and(|t| t.is_empty() || t.starts_with('.') || t.starts_with('['))
                })
                .max_by_key(|(k, _, _)| k.len());
            let Some((key, at, value)) = found else {
                break;
            };
            best = Some(*at);
            node = value;
            rest = &rest[key.len()..];
            rest = rest.strip_prefix('.').unwrap_or(rest);
        }
        best.filter(|(line, _)| *line > 0)
    }
}

/// Adds the line and column to each error that names a place in the template and has
/// no position yet (environment errors name no place in the template).
pub fn attach_positions(errors: &mut [TemplateError], text: &str) {
    let mut positions: Option<Positions> = None;
    for e in errors.iter_mut() {
        let path = e.location_path();
        if e.line.is_some() || path.is_empty() || path.starts_with("environment") {
            continue;
        }
        let positions = positions.get_or_insert_with(|| Positions::new(text));
        if let Some((line, column)) = positions.find(path) {
            e.line = Some(line);
            e.column = Some(column);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "heat_template_version: rocky
parameters:
  p: {type: string}
resources:
  app:
    type: OS::Heat::Value
    properties:
      value: {get_attr: [x, y]}
      list:
        - a
        - {get_file: file:///a.sh}
";

    #[test]
    fn paths_map_to_lines_and_columns() {
        let p = Positions::new(TEXT);
        assert_eq!(p.find("parameters.p"), Some((3, 3)));
        assert_eq!(p.find("resources.app"), Some((5, 3)));
        assert_eq!(
            p.find("resources.app.properties.value.get_attr"),
            Some((8, 15))
        );
        assert_eq!(p.find("resources.app.properties.list[1]"), Some((11, 11)));
        assert_eq!(
            p.find("resources.app.properties.list[1].get_file"),
            Some((11, 12))
        );
        // A path that goes further than the text: the deepest part that exists.
        assert_eq!(p.find("resources.app.properties.nope.deeper"), Some((7, 5)));
        assert_eq!(p.find("outputs.o"), None);
    }

    #[test]
    fn json_text_has_positions_too() {
        let p = Positions::new("{\"resources\": {\n  \"a.b\": {\"type\": \"T\"}}}");
        assert_eq!(p.find("resources.a.b.type"), Some((2, 11)));
    }

    #[test]
    fn errors_get_positions() {
        let mut errors = vec![
            TemplateError::at("resources.app.properties.value", "bad"),
            TemplateError::at("environment", "bad env"),
        ];
        attach_positions(&mut errors, TEXT);
        assert_eq!((errors[0].line, errors[0].column), (Some(8), Some(7)));
        assert_eq!(errors[1].line, None);
    }
}
