//! `digest: [algorithm, value]` — the hex digest of the value's Latin-1 bytes.

use md5::Md5;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest as _, Sha224, Sha256, Sha384, Sha512};

use super::{EvalContext, Function};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// `digest`.
pub struct Digest;

/// The algorithms offered, as Python prints the set in Heat's message.
const ALGORITHMS: &str = "{'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'}";

/// The hex digest, or `None` for an algorithm we do not have.
fn hex_digest(algorithm: &str, bytes: &[u8]) -> Option<String> {
    Some(match algorithm {
        "md5" => hex::encode(Md5::digest(bytes)),
        "sha1" => hex::encode(Sha1::digest(bytes)),
        "sha224" => hex::encode(Sha224::digest(bytes)),
        "sha256" => hex::encode(Sha256::digest(bytes)),
        "sha384" => hex::encode(Sha384::digest(bytes)),
        "sha512" => hex::encode(Sha512::digest(bytes)),
        _ => return None,
    })
}

/// Python's `text.encode('latin-1')`, with its error message.
fn latin1(text: &str) -> Result<Vec<u8>, String> {
    let chars: Vec<char> = text.chars().collect();
    let bad = |c: &char| u32::from(*c) > 0xff;
    let Some(start) = chars.iter().position(bad) else {
        return Ok(chars
            .iter()
            .map(|c| u8::try_from(u32::from(*c)).unwrap_or(b'?'))
            .collect());
    };
    let run = chars[start..].iter().take_while(|c| bad(c)).count();
    let what = if run == 1 {
        let code = u32::from(chars[start]);
        let escaped = if code > 0xffff {
            format!("\\U{code:08x}")
        } else {
            format!("\\u{code:04x}")
        };
        format!("character '{escaped}' in position {start}")
    } else {
        format!("characters in position {start}-{}", start + run - 1)
    };
    Err(format!(
        "'latin-1' codec can't encode {what}: ordinal not in range(256)"
    ))
}

impl Function for Digest {
    fn name(&self) -> &'static str {
        "digest"
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let strings: Option<Vec<&str>> = args
            .as_array()
            .and_then(|items| items.iter().map(Value::as_str).collect());
        let Some(strings) = strings else {
            return Err(err(
                "Argument to function \"digest\" must be a list of strings".into(),
            ));
        };
        let [algorithm, value] = strings.as_slice() else {
            return Err(err(
                "Function \"digest\" usage: [\"<algorithm>\", \"<value>\"]".into(),
            ));
        };
        let algorithm = algorithm.to_lowercase();
        if hex_digest(&algorithm, b"").is_none() {
            return Err(err(format!("Algorithm must be one of {ALGORITHMS}")));
        }
        let bytes = latin1(value).map_err(err)?;
        hex_digest(&algorithm, &bytes)
            .map(Value::String)
            .ok_or_else(|| err(format!("Algorithm must be one of {ALGORITHMS}")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, LATEST, check_cases, hot};
    use crate::template::version::HotVersion;
    use serde_json::json;

    #[test]
    fn digests_like_hashlib() {
        let ctx = FixedContext::default();
        // Expected values from Python's hashlib.
        check_cases(
            LATEST,
            &ctx,
            &[
                (
                    json!({"digest": ["md5", "foo"]}),
                    Ok(json!("acbd18db4cc2f85cedef654fccc4a4d8")),
                ),
                (
                    json!({"digest": ["SHA1", "foo"]}),
                    Ok(json!("0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33")),
                ),
                (
                    json!({"digest": ["sha224", "foo"]}),
                    Ok(json!(
                        "0808f64e60d58979fcb676c96ec938270dea42445aeefcd3a4e6f8db"
                    )),
                ),
                (
                    json!({"digest": ["sha256", "foo"]}),
                    Ok(json!(
                        "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
                    )),
                ),
                (
                    json!({"digest": ["sha384", ""]}),
                    Ok(json!(
                        "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
                    )),
                ),
                (
                    json!({"digest": ["sha512", "é"]}),
                    Ok(json!(
                        "b164716d213ddec0e2dbf8f2c7cc16d673b14c7a5ce46826e10ad36abe97fdeb9a34bb379da49edf29a46f4d2b77883c97786b63d543924dad3873c43a91a1af"
                    )),
                ),
                (
                    json!({"digest": ["md5", 1]}),
                    Err(
                        "outputs.o.digest: Argument to function \"digest\" must be a list of strings",
                    ),
                ),
                (
                    json!({"digest": ["md5"]}),
                    Err(
                        "outputs.o.digest: Function \"digest\" usage: [\"<algorithm>\", \"<value>\"]",
                    ),
                ),
                (
                    json!({"digest": ["crc", "x"]}),
                    Err(
                        "outputs.o.digest: Algorithm must be one of {'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'}",
                    ),
                ),
                (
                    json!({"digest": ["md5", "a€"]}),
                    Err(
                        "outputs.o.digest: 'latin-1' codec can't encode character '\\u20ac' in position 1: ordinal not in range(256)",
                    ),
                ),
            ],
        );
        check_cases(
            hot(HotVersion::V2014_10_16),
            &ctx,
            &[(
                json!({"digest": ["md5", "x"]}),
                Ok(json!({"digest": ["md5", "x"]})),
            )],
        );
    }
}
