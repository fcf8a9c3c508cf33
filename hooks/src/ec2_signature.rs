//! EC2 signature version 2 (keystoneclient's `Ec2Signer`, as Heat and os-collect-config
//! use it): the pre-signed CFN URLs the server hands out (`/v1/signal/…`,
//! `/v1/waitcondition/…`) and the requests the cfn collector signs.
//!
//! string to sign = VERB \n host[:port] (lower case) \n path (unquoted) \n canonical query,
//! the canonical query being every parameter but `Signature`, sorted by key, keys and values
//! percent-encoded leaving only `A-Z a-z 0-9 - _ . ~`; the signature is
//! base64(HMAC-SHA256(secret, string)).

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;

/// What the canonical query leaves unescaped besides letters and digits.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes as the canonical query does.
pub fn quote(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// The string to sign. `params` must not contain `Signature`.
pub fn string_to_sign(verb: &str, host: &str, path: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let query: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
        .collect();
    format!(
        "{}\n{}\n{}\n{}",
        verb.to_uppercase(),
        host.to_lowercase(),
        path,
        query.join("&")
    )
}

fn mac(secret: &str, text: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(text.as_bytes());
    mac
}

/// The base64 signature of a request.
pub fn sign(
    secret: &str,
    verb: &str,
    host: &str,
    path: &str,
    params: &[(String, String)],
) -> String {
    let digest = mac(secret, &string_to_sign(verb, host, path, params)).finalize();
    base64::engine::general_purpose::STANDARD.encode(digest.into_bytes())
}

/// Checks a presented base64 signature in constant time.
pub fn verify(
    secret: &str,
    verb: &str,
    host: &str,
    path: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let Ok(presented) = base64::engine::general_purpose::STANDARD.decode(signature) else {
        return false;
    };
    mac(secret, &string_to_sign(verb, host, path, params))
        .verify_slice(&presented)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn string_to_sign_matches_the_captured_heat_example() {
        // heat-server.md §3.4: the string Heat signed for a CFN_SIGNAL URL.
        let p = params(&[
            ("SignatureMethod", "HmacSHA256"),
            ("SignatureVersion", "2"),
            ("AWSAccessKeyId", "4567"),
            ("Timestamp", "2026-11-23T06:59:47Z"),
        ]);
        assert_eq!(
            string_to_sign(
                "post",
                "127.0.0.1:18000",
                "/v1/signal/arn:openstack:heat::admin:stacks/s1/ID/resources/dep",
                &p
            ),
            "POST\n127.0.0.1:18000\n/v1/signal/arn:openstack:heat::admin:stacks/s1/ID/resources/dep\nAWSAccessKeyId=4567&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2026-11-23T06%3A59%3A47Z"
        );
        // heat-agents.md §1.5: the string os-collect-config's cfn collector signs.
        let p = params(&[
            ("Action", "DescribeStackResource"),
            ("StackName", "mystack"),
            ("LogicalResourceId", "server1"),
            ("AWSAccessKeyId", "AKID"),
            ("SignatureVersion", "2"),
            ("SignatureMethod", "HmacSHA256"),
        ]);
        assert_eq!(
            string_to_sign("GET", "127.0.0.1:8766", "/v1/", &p),
            "GET\n127.0.0.1:8766\n/v1/\nAWSAccessKeyId=AKID&Action=DescribeStackResource&LogicalResourceId=server1&SignatureMethod=HmacSHA256&SignatureVersion=2&StackName=mystack"
        );
    }

    #[test]
    fn signatures_verify_and_bind_every_part() {
        let p = params(&[("AWSAccessKeyId", "ak"), ("Timestamp", "t")]);
        let sig = sign("secret", "PUT", "h:1", "/v1/waitcondition/x", &p);
        assert!(verify(
            "secret",
            "PUT",
            "h:1",
            "/v1/waitcondition/x",
            &p,
            &sig
        ));
        assert!(!verify(
            "other",
            "PUT",
            "h:1",
            "/v1/waitcondition/x",
            &p,
            &sig
        ));
        assert!(!verify(
            "secret",
            "POST",
            "h:1",
            "/v1/waitcondition/x",
            &p,
            &sig
        ));
        assert!(!verify(
            "secret",
            "PUT",
            "h:1",
            "/v1/waitcondition/y",
            &p,
            &sig
        ));
        assert!(!verify(
            "secret",
            "PUT",
            "h:1",
            "/v1/waitcondition/x",
            &p,
            "not base64!"
        ));
    }
}
