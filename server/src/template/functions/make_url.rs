//! `make_url: {scheme, username, password, host, port, path, query, fragment}` — a URL
//! escaped as Python's `urllib.parse` does (`quote`, `urlencode`, `urlunsplit`).

use serde_json::{Map, Value};

use super::{EvalContext, Function, ValidationScope, is_call, python};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// `make_url`.
pub struct MakeUrl;

const KEYS: [&str; 8] = [
    "scheme", "username", "password", "host", "port", "path", "query", "fragment",
];

/// Schemes whose URLs get `//` even without a host (Python's `uses_netloc`).
const USES_NETLOC: &[&str] = &[
    "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp",
    "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git",
    "git+ssh", "ws", "wss",
];

/// Python's `urllib.parse.quote(text, safe)`.
fn quote(text: &str, safe: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let c = char::from(b);
        if b.is_ascii_alphanumeric() || "_.-~".contains(c) || (b.is_ascii() && safe.contains(c)) {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Python's `quote_plus(text, safe='')`.
fn quote_plus(text: &str) -> String {
    quote(text, " ").replace(' ', "+")
}

/// Heat's checks of the arguments, before and after resolution (calls pass).
fn check(args: &Map<String, Value>, version: TemplateVersion) -> Result<(), String> {
    for key in KEYS {
        let Some(value) = args.get(key) else {
            continue;
        };
        let call = is_call(value, version);
        match key {
            "query" => {
                if !value.is_object() {
                    return Err("The \"query\" argument to \"make_url\" must be a map".into());
                }
                // Heat stops checking here, so `fragment` goes unchecked after a query.
                return Ok(());
            }
            "port" if !call => {
                let port = match value {
                    Value::Bool(b) => i64::from(*b),
                    #[allow(clippy::cast_possible_truncation)]
                    Value::Number(n) => n
                        .as_i64()
                        .unwrap_or_else(|| n.as_f64().map_or(0, |f| f.trunc() as i64)),
                    Value::String(s) => s.trim().parse().map_err(|_| {
                        format!(
                            "Invalid URL port \"{s}\" for make_url called with {}",
                            python::repr(&Value::Object(args.clone()))
                        )
                    })?,
                    other => {
                        return Err(format!(
                            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                            python::type_name(other)
                        ));
                    }
                };
                if !(1..=65535).contains(&port) {
                    return Err(format!("Invalid URL port {port}, must be in range 1-65535"));
                }
            }
            "port" => {}
            _ if call || value.is_string() => {}
            _ => {
                return Err(format!(
                    "The \"{key}\" argument to \"make_url\" must be a string"
                ));
            }
        }
    }
    Ok(())
}

fn text<'a>(args: &'a Map<String, Value>, key: &str) -> &'a str {
    args.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Builds the URL from checked, resolved arguments.
fn build(args: &Map<String, Value>) -> Result<String, String> {
    let scheme = text(args, "scheme");
    if scheme.contains(':') {
        return Err("URL \"scheme\" should not contain ':'".into());
    }
    let mut netloc = String::new();
    let username = quote(text(args, "username"), "");
    let password = quote(text(args, "password"), "");
    if !username.is_empty() || !password.is_empty() {
        netloc.push_str(&username);
        if !password.is_empty() {
            netloc.push(':');
            netloc.push_str(&password);
        }
        netloc.push('@');
    }
    let mut host = text(args, "host");
    if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
        host = &host[1..host.len() - 1];
    }
    let host = quote(host, ":");
    if host.contains(':') {
        netloc.push_str(&format!("[{host}]"));
    } else {
        netloc.push_str(&host);
    }
    if let Some(port) = args.get("port").filter(|p| python::truthy(p)) {
        netloc.push(':');
        netloc.push_str(&python::str(port));
    }
    let mut url = quote(text(args, "path"), "/");
    let query = match args.get("query") {
        Some(Value::Object(q)) => q
            .iter()
            .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(&python::str(v))))
            .collect::<Vec<_>>()
            .join("&")
            .replace("%2F", "/"),
        _ => String::new(),
    };
    let fragment = quote(text(args, "fragment"), "/");
    // Python's `urlunsplit`.
    if !netloc.is_empty()
        || (!scheme.is_empty() && USES_NETLOC.contains(&scheme) && !url.starts_with("//"))
    {
        if !url.is_empty() && !url.starts_with('/') {
            url.insert(0, '/');
        }
        url = format!("//{netloc}{url}");
    }
    if !scheme.is_empty() {
        url = format!("{scheme}:{url}");
    }
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    if !fragment.is_empty() {
        url = format!("{url}#{fragment}");
    }
    Ok(url)
}

impl Function for MakeUrl {
    fn name(&self) -> &'static str {
        "make_url"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let Value::Object(map) = args else {
            return Err(err("The arguments to \"make_url\" must be a map".into()));
        };
        if is_call(args, scope.version()) {
            return Err(err("The arguments to \"make_url\" must be a map".into()));
        }
        let invalid: Vec<&str> = map
            .keys()
            .filter(|k| !KEYS.contains(&k.as_str()))
            .map(String::as_str)
            .collect();
        if !invalid.is_empty() {
            return Err(err(format!(
                "Invalid arguments to \"make_url\": {}",
                invalid.join(", ")
            )));
        }
        check(map, scope.version()).map_err(err)
    }

    fn evaluate(
        &self,
        args: Value,
        version: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let Value::Object(map) = args else {
            return Err(err("The arguments to \"make_url\" must be a map".into()));
        };
        check(&map, version).map_err(err)?;
        build(&map).map(Value::String).map_err(err)
    }
}

#[cfg(test)]
#[path = "make_url_tests.rs"]
mod tests;
