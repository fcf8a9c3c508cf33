//! Query strings of the native API: repeated keys, and Heat's strict readings of booleans
//! and integers (`param_utils.extract_bool` / `extract_int`), each a 400 naming the key.

use super::ApiError;

/// A parsed query string, keys in order, repeats kept.
#[derive(Debug, Default, Clone)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses `a=1&b=2&a=3` (percent-decoded; `None` is empty).
    pub fn parse(raw: Option<&str>) -> Self {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The last value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The keys given, in order, with repeats.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// A boolean flag: absent is `default`; `true/false/1/0/yes/no/on/off/t/f/y/n` in any case.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        let Some(value) = self.get(key) else {
            return Ok(default);
        };
        match value.to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
            "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
            _ => Err(ApiError::bad_request(format!(
                "Unrecognized value '{value}' for '{key}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
            ))),
        }
    }

    /// A non-negative integer, if given.
    pub fn count(&self, key: &str) -> Result<Option<usize>, ApiError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        match value.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            Ok(_) => Err(ApiError::bad_request(format!(
                "Only non-negative integer is acceptable by '{key}'."
            ))),
            Err(_) => Err(ApiError::bad_request(format!(
                "Only integer is acceptable by '{key}'."
            ))),
        }
    }

    /// The query with `key` set to `value` (others kept, in order): the `next` page link.
    pub fn with(&self, key: &str, value: &str) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.0.iter().filter(|(k, _)| k != key) {
            out.append_pair(k, v);
        }
        out.append_pair(key, value);
        out.finish()
    }
}

/// `sort_dir`: `asc` or `desc` (Heat's error for anything else).
pub fn sort_descending(query: &Query, default_desc: bool) -> Result<bool, ApiError> {
    match query.get("sort_dir") {
        None => Ok(default_desc),
        Some(d) if d.eq_ignore_ascii_case("desc") => Ok(true),
        Some(d) if d.eq_ignore_ascii_case("asc") => Ok(false),
        Some(d) => Err(ApiError::bad_request(format!(
            "Unknown sort direction, must be one of: asc, desc (got {d})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_decoding_and_strict_values() {
        let q = Query::parse(Some(
            "status=COMPLETE&status=FAILED&name=a%20b&limit=x&n=-1",
        ));
        assert_eq!(q.all("status"), ["COMPLETE", "FAILED"]);
        assert_eq!(q.get("name"), Some("a b"));
        assert!(q.count("limit").is_err());
        assert!(q.count("n").is_err());
        assert_eq!(q.count("absent").unwrap(), None);
        let flags = Query::parse(Some("a=True&b=no&c=maybe"));
        assert!(flags.flag("a", false).unwrap());
        assert!(!flags.flag("b", true).unwrap());
        assert!(flags.flag("c", false).is_err());
        assert!(flags.flag("d", true).unwrap());
        assert_eq!(
            Query::parse(Some("limit=2&marker=x")).with("marker", "y"),
            "limit=2&marker=y"
        );
    }
}
