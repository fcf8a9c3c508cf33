//! The mustache dialect os-apply-config renders with (pystache under its `JsonRenderer`):
//! no HTML escaping, non-string values written as Python's `json.dumps`, `null` and
//! missing names as empty, dotted names through maps only, and pystache's rules for
//! standalone lines (a tag alone on its line, with no trailing blanks, takes the line).

use regex::Regex;
use serde_json::Value;
use updraft_hooks::python_json::truthy;

use updraft_hooks::python_json as pyjson;

/// Why a template did not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MustacheError {
    /// A `{{/name}}` closing something other than the open section.
    #[error(
        "section end tag mismatch at byte {position}: found {{{{/{found}}}}}, expected {expected}"
    )]
    Mismatch {
        /// Byte offset after the closing tag.
        position: usize,
        /// The name in the closing tag.
        found: String,
        /// The open section's closing tag, or that none is open.
        expected: String,
    },
    /// A section still open at the end of the template. pystache silently renders only
    /// the innermost open section's tail; we refuse instead.
    #[error("section {{{{{kind}{name}}}}} is never closed")]
    Unclosed {
        /// `#` or `^`.
        kind: char,
        /// The section name.
        name: String,
    },
    /// A `{{=… …=}}` tag without two delimiters.
    #[error("delimiter change {0:?} needs an opening and a closing delimiter")]
    BadDelimiters(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    /// `{{x}}`, `{{&x}}` and `{{{x}}}` alike: os-apply-config escapes nothing.
    Value(String),
    Section {
        name: String,
        inverted: bool,
        body: Vec<Node>,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

/// Python's `\s` for `str` patterns: Unicode whitespace plus the separators \x1c-\x1f.
const WS: &str = r"[\s\x1c-\x1f]";

fn tag_pattern(open: &str, close: &str) -> Result<Regex, MustacheError> {
    let pattern = format!(
        r"(?P<ws>[ \t]*){o}{WS}*(?:(?P<change>=){WS}*(?P<delims>.+?){WS}*=|(?P<raw>\{{){WS}*(?P<raw_name>.+?){WS}*\}}|(?P<tag>[!>&/#^]?){WS}*(?P<tag_key>[\s\S]+?)){WS}*{c}",
        o = regex::escape(open),
        c = regex::escape(close),
    );
    // Escaped delimiters always compile; only absurdly long ones can exceed the size limit.
    Regex::new(&pattern).map_err(|_| MustacheError::BadDelimiters(format!("{open} {close}")))
}

struct Open {
    kind: char,
    name: String,
    outer: Vec<Node>,
}

impl Template {
    /// Parses `text` with the default `{{ }}` delimiters.
    pub fn parse(text: &str) -> Result<Template, MustacheError> {
        let mut tags = tag_pattern("{{", "}}")?;
        let mut nodes: Vec<Node> = Vec::new();
        let mut open: Vec<Open> = Vec::new();
        let mut start = 0;
        let bytes = text.as_bytes();
        let at_eol = |i: usize| i == bytes.len() || matches!(bytes[i], b'\r' | b'\n');
        while let Some(caps) = tags.captures_at(text, start) {
            let Some(whole) = caps.get(0) else { break };
            let (mut tag_start, mut end) = (whole.start(), whole.end());
            let (kind, key) = if let Some(d) = caps
                .name("delims")
                .filter(|_| caps.name("change").is_some())
            {
                ('=', d.as_str())
            } else if let Some(r) = caps.name("raw_name").filter(|_| caps.name("raw").is_some()) {
                ('&', r.as_str())
            } else {
                let kind = caps
                    .name("tag")
                    .and_then(|t| t.as_str().chars().next())
                    .unwrap_or(' ');
                (kind, caps.name("tag_key").map_or("", |k| k.as_str()))
            };
            let ws_len = caps.name("ws").map_or(0, |w| w.len());
            let begins_line = tag_start == 0 || matches!(bytes[tag_start - 1], b'\r' | b'\n');
            let interpolating = matches!(kind, ' ' | '&');
            if begins_line && at_eol(end) && !interpolating {
                if bytes.get(end) == Some(&b'\r') {
                    end += 1;
                }
                if bytes.get(end) == Some(&b'\n') {
                    end += 1;
                }
            } else {
                tag_start += ws_len;
            }
            if start != tag_start {
                nodes.push(Node::Text(text[start..tag_start].to_string()));
            }
            start = end;
            match kind {
                '#' | '^' => open.push(Open {
                    kind,
                    name: key.to_string(),
                    outer: std::mem::take(&mut nodes),
                }),
                '/' => {
                    let Some(section) = open.pop().filter(|s| s.name == key) else {
                        return Err(MustacheError::Mismatch {
                            position: end,
                            found: key.to_string(),
                            expected: open.last().map_or("no open section".into(), |s| {
                                format!("{{{{/{}}}}}", s.name)
                            }),
                        });
                    };
                    let body = std::mem::replace(&mut nodes, section.outer);
                    nodes.push(Node::Section {
                        name: section.name,
                        inverted: section.kind == '^',
                        body,
                    });
                }
                '=' => {
                    let mut parts = key.split_whitespace();
                    match (parts.next(), parts.next()) {
                        (Some(o), Some(c)) => tags = tag_pattern(o, c)?,
                        _ => return Err(MustacheError::BadDelimiters(key.to_string())),
                    }
                }
                // Comments; partials, which upstream looks up as `./<name>.mustache` in
                // whatever the working directory is: rendered empty here.
                '!' | '>' => {}
                _ => nodes.push(Node::Value(key.to_string())),
            }
        }
        if let Some(section) = open.pop() {
            return Err(MustacheError::Unclosed {
                kind: section.kind,
                name: section.name,
            });
        }
        if start < text.len() {
            nodes.push(Node::Text(text[start..].to_string()));
        }
        Ok(Template { nodes })
    }

    /// Renders against `data` (the top of the context stack).
    pub fn render(&self, data: &Value) -> String {
        let mut out = String::new();
        let mut stack = vec![data];
        render_nodes(&self.nodes, &mut stack, &mut out);
        out
    }
}

/// Parses and renders in one go.
pub fn render(text: &str, data: &Value) -> Result<String, MustacheError> {
    Ok(Template::parse(text)?.render(data))
}

fn render_nodes<'a>(nodes: &'a [Node], stack: &mut Vec<&'a Value>, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Value(name) => match lookup(stack, name) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => out.push_str(s),
                Some(other) => out.push_str(&pyjson::dumps(other)),
            },
            Node::Section {
                name,
                inverted,
                body,
            } => {
                let value = lookup(stack, name).filter(|v| truthy(v));
                match (value, inverted) {
                    (None, true) => render_nodes(body, stack, out),
                    (Some(Value::Array(items)), false) => {
                        for item in items {
                            stack.push(item);
                            render_nodes(body, stack, out);
                            stack.pop();
                        }
                    }
                    (Some(v), false) => {
                        stack.push(v);
                        render_nodes(body, stack, out);
                        stack.pop();
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Resolves `name` as pystache does: `.` is the top of the stack; the first dotted part
/// is looked up in the nearest map that has it, the rest only through maps. `None` is
/// a missing name (pystache's `''`).
fn lookup<'a>(stack: &[&'a Value], name: &str) -> Option<&'a Value> {
    if name == "." {
        return stack.last().copied();
    }
    let mut parts = name.split('.');
    let first = parts.next().unwrap_or_default();
    let mut value = stack
        .iter()
        .rev()
        .find_map(|frame| frame.as_object().and_then(|m| m.get(first)))?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str, v: Value) -> String {
        render(t, &v).unwrap()
    }

    #[test]
    fn values_are_raw_and_non_strings_are_python_json() {
        let v = json!({"s": "<&>", "b": true, "n": 5, "f": 2.50, "l": [1, "a"], "d": {"k": "v"}, "z": null});
        assert_eq!(
            r(
                "{{s}}|{{{s}}}|{{&s}}|{{b}}|{{n}}|{{f}}|{{l}}|{{d}}|{{z}}|{{nope}}|{{d.k}}|{{d.k.x}}",
                v
            ),
            r#"<&>|<&>|<&>|true|5|2.5|[1, "a"]|{"k": "v"}|||v|"#
        );
    }

    #[test]
    fn sections_iterate_lists_push_maps_and_skip_falsy() {
        let v = json!({"l": [{"n": "a"}, {"n": "b"}], "m": {"n": "x"}, "top": "T", "zero": 0, "e": "", "t": true});
        assert_eq!(r("{{#l}}{{n}}{{top}},{{/l}}", v.clone()), "aT,bT,");
        assert_eq!(
            r(
                "{{#m}}{{n}}{{/m}}{{#zero}}no{{/zero}}{{^zero}}yes{{/zero}}",
                v.clone()
            ),
            "xyes"
        );
        assert_eq!(
            r(
                "{{#t}}[{{.}}]{{/t}}{{^e}}empty{{/e}}{{^missing}}gone{{/missing}}",
                v
            ),
            "[true]emptygone"
        );
    }

    #[test]
    fn standalone_tags_take_their_line_only_without_trailing_blanks() {
        let v = json!({"l": [1, 2]});
        assert_eq!(
            r("a\n  {{#l}}\n{{.}}\n  {{/l}}\nb\n", v.clone()),
            "a\n1\n2\nb\n"
        );
        assert_eq!(r("a\n{{#l}} \nx{{/l}}", v), "a\n \nx \nx");
    }

    #[test]
    fn delimiters_change_and_comments_vanish() {
        assert_eq!(
            r("{{=<% %>=}}<%x%>{{x}}<%! hi %>", json!({"x": 1})),
            "1{{x}}"
        );
    }

    #[test]
    fn broken_sections_are_errors() {
        assert!(matches!(
            Template::parse("{{#a}}x{{/b}}"),
            Err(MustacheError::Mismatch { .. })
        ));
        assert_eq!(
            Template::parse("x{{#a}}y"),
            Err(MustacheError::Unclosed {
                kind: '#',
                name: "a".into()
            })
        );
    }
}
