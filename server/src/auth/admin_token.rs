//! The admin token: the one credential of this version's native API.

use rand::RngExt;

/// Generates a fresh random token (32 bytes, hex).
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// Constant-time comparison of a presented token with the configured one.
pub fn matches(expected: &str, presented: &str) -> bool {
    let (a, b) = (expected.as_bytes(), presented.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_exactly() {
        let t = generate();
        assert_eq!(t.len(), 64);
        assert_ne!(t, generate());
        assert!(matches(&t, &t.clone()));
        assert!(!matches(&t, &t[1..]));
        assert!(!matches("abc", "abd"));
    }
}
