//! `make_url`, against what Heat's code gives under Python 3.11.

use super::super::test_support::{FixedContext, LATEST, check_cases, hot};
use crate::template::version::HotVersion;
use serde_json::json;

#[test]
fn builds_escaped_urls() {
    let mut ctx = FixedContext::default();
    ctx.params.insert("host".into(), json!("example.com"));
    check_cases(
        LATEST,
        &ctx,
        &[
            (
                json!({"make_url": {"scheme": "https", "username": "u s", "password": "p@ss", "host": {"get_param": "host"}, "port": 8443, "path": "/a b/c", "query": {"q": "x/y z", "n": 1, "l": ["a"]}, "fragment": "f g"}}),
                Ok(json!(
                    "https://u%20s:p%40ss@example.com:8443/a%20b/c?q=x/y+z&n=1&l=%5B%27a%27%5D#f%20g"
                )),
            ),
            (
                json!({"make_url": {"scheme": "http", "host": "::1", "port": "80", "path": "x"}}),
                Ok(json!("http://[::1]:80/x")),
            ),
            (
                json!({"make_url": {"scheme": "http", "host": "[fe80::1]"}}),
                Ok(json!("http://[fe80::1]")),
            ),
            (
                json!({"make_url": {"scheme": "http", "path": "a/b"}}),
                Ok(json!("http:///a/b")),
            ),
            (
                json!({"make_url": {"scheme": "foo", "path": "a/b"}}),
                Ok(json!("foo:a/b")),
            ),
            (
                json!({"make_url": {"host": "h", "username": "u"}}),
                Ok(json!("//u@h")),
            ),
            (
                json!({"make_url": {"path": "é~*"}}),
                Ok(json!("%C3%A9~%2A")),
            ),
        ],
    );
}

#[test]
fn argument_errors() {
    let ctx = FixedContext::default();
    check_cases(
        LATEST,
        &ctx,
        &[
            (
                json!({"make_url": ["x"]}),
                Err("outputs.o.make_url: The arguments to \"make_url\" must be a map"),
            ),
            (
                json!({"make_url": {"host": "h", "user": "u"}}),
                Err("outputs.o.make_url: Invalid arguments to \"make_url\": user"),
            ),
            (
                json!({"make_url": {"host": 1}}),
                Err("outputs.o.make_url: The \"host\" argument to \"make_url\" must be a string"),
            ),
            (
                json!({"make_url": {"port": 0}}),
                Err("outputs.o.make_url: Invalid URL port 0, must be in range 1-65535"),
            ),
            (
                json!({"make_url": {"host": "h", "port": "x"}}),
                Err(
                    "outputs.o.make_url: Invalid URL port \"x\" for make_url called with {'host': 'h', 'port': 'x'}",
                ),
            ),
            (
                json!({"make_url": {"query": "a=b"}}),
                Err("outputs.o.make_url: The \"query\" argument to \"make_url\" must be a map"),
            ),
            (
                json!({"make_url": {"scheme": "a:b"}}),
                Err("outputs.o.make_url: URL \"scheme\" should not contain ':'"),
            ),
        ],
    );
    check_cases(
        hot(HotVersion::V2017_02_24),
        &ctx,
        &[(
            json!({"make_url": {"host": "h"}}),
            Ok(json!({"make_url": {"host": "h"}})),
        )],
    );
}
