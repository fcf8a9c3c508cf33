//! Checks on names that end up in file paths (deployment ids, output names).

/// True when `name` can be used as one file-name component: non-empty, not `.` or `..`,
/// and free of `/` and NUL, so `dir.join(name)` stays inside `dir`.
pub fn is_safe_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_names_that_escape_a_directory() {
        assert!(is_safe_file_name("3f2a-uuid"));
        assert!(is_safe_file_name("a.b"));
        for bad in ["", ".", "..", "../x", "a/b", "a\0b"] {
            assert!(!is_safe_file_name(bad), "{bad:?}");
        }
    }
}
