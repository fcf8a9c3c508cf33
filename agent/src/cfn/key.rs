//! Dotted key paths into metadata, as `cfn-get-metadata -k` reads them: `a.b.c`, a
//! component holding dots single-quoted (`a.'b.c'`). Also the `path` of a cfn-hup hook
//! (`Resources.<LogicalId>.Metadata…`).

use serde_json::Value;

/// A key that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key {key:?}: {reason}")]
pub struct KeyError {
    /// The key as given.
    pub key: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Splits `key` into its components.
pub fn parse(key: &str) -> Result<Vec<String>, KeyError> {
    let err = |reason| KeyError {
        key: key.to_string(),
        reason,
    };
    let mut parts = Vec::new();
    let mut rest = key;
    loop {
        let (part, after) = if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted.find('\'').ok_or_else(|| err("unterminated quote"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        if part.is_empty() {
            return Err(err("empty component"));
        }
        parts.push(part.to_string());
        if after.is_empty() {
            return Ok(parts);
        }
        rest = after
            .strip_prefix('.')
            .ok_or_else(|| err("a quoted component must be followed by a dot"))?;
        if rest.is_empty() {
            return Err(err("ends with a dot"));
        }
    }
}

/// The value at `path` in `value` (objects only, as upstream); `None` when absent.
pub fn lookup<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, k| v.as_object()?.get(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_split_on_dots_outside_quotes() {
        assert_eq!(parse("a").unwrap(), ["a"]);
        assert_eq!(parse("a.b.c").unwrap(), ["a", "b", "c"]);
        assert_eq!(parse("a.'b.c'").unwrap(), ["a", "b.c"]);
        assert_eq!(parse("'x.y'.z").unwrap(), ["x.y", "z"]);
        assert_eq!(
            parse("AWS::CloudFormation::Init.config").unwrap(),
            ["AWS::CloudFormation::Init", "config"]
        );
        assert!(parse("").is_err());
        assert!(parse("a..b").is_err());
        assert!(parse("a.").is_err());
        assert!(parse("a.'b").is_err());
        assert!(parse("'a'b").is_err());
    }

    #[test]
    fn lookup_descends_objects_only() {
        let v = json!({"a": {"b.c": [1], "d": {"e": "f"}}});
        assert_eq!(lookup(&v, &parse("a.'b.c'").unwrap()), Some(&json!([1])));
        assert_eq!(lookup(&v, &parse("a.d.e").unwrap()), Some(&json!("f")));
        assert_eq!(lookup(&v, &parse("a.b").unwrap()), None);
        assert_eq!(lookup(&v, &parse("a.'b.c'.0").unwrap()), None);
    }
}
