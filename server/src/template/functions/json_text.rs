//! JSON text as Python's `json.dumps(value, sort_keys=True)` writes it, which is what Heat
//! embeds when `str_replace` or `list_join` meets a map or a list (the writer is shared:
//! [`updraft_hooks::python_json`]).

use serde_json::Value;
use updraft_hooks::python_json::{self, Layout};

/// `json.dumps(value, sort_keys=True)`: `", "` and `": "` separators, ASCII-escaped.
pub fn python_dumps(value: &Value) -> String {
    python_json::dumps_with(
        value,
        Layout {
            indent: None,
            sort_keys: true,
        },
    )
}

/// `json.dumps(value)`: as [`python_dumps`] but with keys in their order.
pub fn python_dumps_unsorted(value: &Value) -> String {
    python_json::dumps(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps_sorted() {
        assert_eq!(
            python_dumps(&json!({"b": [1, "x"], "a": {"é": null}})),
            r#"{"a": {"\u00e9": null}, "b": [1, "x"]}"#
        );
        assert_eq!(
            python_dumps_unsorted(&json!({"b": 1, "a": [true]})),
            r#"{"b": 1, "a": [true]}"#
        );
    }
}
