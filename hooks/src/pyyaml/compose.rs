//! From parser events to a tree of constructed values, as PyYAML's composer and
//! `SafeConstructor` do it: anchors and aliases, merge keys, Python dict semantics for keys,
//! explicit tags, and the depth and size budgets.
//!
//! The walk is iterative (an explicit stack of open collections), so nesting never uses the
//! Rust stack; the final conversion to JSON (`json.rs`) recurses at most [`MAX_DEPTH`] levels.

use std::collections::HashMap;
use std::collections::HashSet;
use std::rc::Rc;

use granit_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::Value;

use super::json::{KeyId, to_json};

use super::resolve::{Scalar, construct_bool, construct_float, construct_int, construct_plain};

/// Deepest nesting of collections accepted. PyYAML gives up a little below 1000, but the
/// rest of the server walks values recursively and reads JSON with serde_json's limit of 128
/// (request bodies, stored templates), so one limit for both keeps every walker in its stack.
pub const MAX_DEPTH: usize = 100;
/// Most values a document may expand to, aliases counted at every use.
pub const MAX_NODES: usize = 1_000_000;

const YAML_NS: &str = "tag:yaml.org,2002:";

/// A failure with its 1-based line and column.
#[derive(Debug)]
pub(crate) struct ComposeError {
    pub message: String,
    pub line: u64,
    pub column: u64,
}

type Res<T> = Result<T, ComposeError>;

fn error_at(span: &Span, message: impl Into<String>) -> ComposeError {
    ComposeError {
        message: message.into(),
        line: span.start.line() as u64,
        column: span.start.col() as u64 + 1,
    }
}

/// A constructed node; collections are shared so that aliases and merges are cheap.
#[derive(Debug, Clone)]
pub(super) enum Node {
    Scalar(Scalar),
    Seq(Rc<Vec<Node>>),
    /// Entries after merging and de-duplication, in Python dict order.
    Map(Rc<Vec<(Scalar, Node)>>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Scalar(_) => "scalar",
            Node::Seq(_) => "sequence",
            Node::Map(_) => "mapping",
        }
    }
}

/// A node with its size (values, aliases expanded) and height (nested collections).
#[derive(Debug, Clone)]
struct Built {
    node: Node,
    size: usize,
    height: usize,
    span: Span,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Built,
        anchor: usize,
    },
    Map {
        entries: Vec<(Built, Node)>,
        key: Option<Built>,
        start: Built,
        anchor: usize,
    },
}

struct Composer {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    anchor_names: HashSet<String>,
    total: usize,
    root: Option<Built>,
    documents: usize,
}

/// Parses `text` (one YAML document) into JSON; `Ok(None)` for an empty stream.
pub(crate) fn compose(text: &str) -> Res<Option<Value>> {
    let mut options = granit_parser::Options::default();
    options.set_emit_comments(false);
    options.emit_anchor_events = true;
    options.block_scalar_eof_without_line_feed = true;
    // The parser's own limits sit just above ours, so that ours (with its message) fires first.
    options.flow_nesting_limit = MAX_DEPTH + 8;
    options.block_nesting_limit = MAX_DEPTH + 8;
    let mut composer = Composer {
        stack: Vec::new(),
        anchors: HashMap::new(),
        anchor_names: HashSet::new(),
        total: 0,
        root: None,
        documents: 0,
    };
    for event in Parser::new_from_str_with_options(text, options) {
        let (event, span) = event.map_err(|e| ComposeError {
            message: e.info(),
            line: e.marker().line() as u64,
            column: e.marker().col() as u64 + 1,
        })?;
        composer.event(event, span)?;
    }
    Ok(composer.root.map(|b| to_json(&b.node)))
}

impl Composer {
    fn event(&mut self, event: Event<'_>, span: Span) -> Res<()> {
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(error_at(
                        &span,
                        "expected a single document in the stream, but found another document",
                    ));
                }
                self.anchors.clear();
                self.anchor_names.clear();
            }
            Event::Anchor(_, name) if !self.anchor_names.insert(name.to_string()) => {
                return Err(error_at(&span, format!("found duplicate anchor {name:?}")));
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(error_at(&span, "found a recursive alias"));
                };
                if self.stack.len() + target.height > MAX_DEPTH {
                    return Err(depth_error(&span));
                }
                self.count(target.size, &span)?;
                self.push(Built { span, ..target })?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.count(1, &span)?;
                let scalar = construct_scalar(&value, style, tag.as_deref())
                    .map_err(|m| error_at(&span, m))?;
                let built = Built {
                    node: Node::Scalar(scalar),
                    size: 1,
                    height: 0,
                    span,
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, built.clone());
                }
                self.push(built)?;
            }
            Event::SequenceStart(_, anchor, tag) => {
                self.start(true, anchor, tag.as_deref(), span)?
            }
            Event::MappingStart(_, anchor, tag) => {
                self.start(false, anchor, tag.as_deref(), span)?
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (built, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        mut start,
                        anchor,
                    }) => {
                        start.node = Node::Seq(Rc::new(items));
                        (start, anchor)
                    }
                    Some(Frame::Map {
                        entries,
                        mut start,
                        anchor,
                        ..
                    }) => {
                        start.node = Node::Map(Rc::new(flatten(entries, &start.span)?));
                        (start, anchor)
                    }
                    None => return Ok(()),
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, built.clone());
                }
                self.push(built)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn start(&mut self, is_seq: bool, anchor: usize, tag: Option<&Tag>, span: Span) -> Res<()> {
        check_collection_tag(tag, is_seq).map_err(|m| error_at(&span, m))?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(depth_error(&span));
        }
        self.count(1, &span)?;
        let start = Built {
            node: Node::Scalar(Scalar::Null),
            size: 1,
            height: 1,
            span,
        };
        self.stack.push(if is_seq {
            Frame::Seq {
                items: Vec::new(),
                start,
                anchor,
            }
        } else {
            Frame::Map {
                entries: Vec::new(),
                key: None,
                start,
                anchor,
            }
        });
        Ok(())
    }

    fn count(&mut self, n: usize, span: &Span) -> Res<()> {
        self.total = self.total.saturating_add(n);
        if self.total > MAX_NODES {
            return Err(error_at(
                span,
                format!(
                    "the document expands to more than {MAX_NODES} values (aliases counted at every use)"
                ),
            ));
        }
        Ok(())
    }

    /// Adds a finished node to the open collection (or makes it the document).
    fn push(&mut self, built: Built) -> Res<()> {
        match self.stack.last_mut() {
            None => self.root = Some(built),
            Some(Frame::Seq { items, start, .. }) => {
                if matches!(built.node, Node::Scalar(Scalar::Merge | Scalar::ValueKey)) {
                    return Err(undefined_constructor(&built));
                }
                grow(start, &built);
                items.push(built.node);
            }
            Some(Frame::Map {
                entries,
                key,
                start,
                ..
            }) => match key.take() {
                None => *key = Some(built),
                Some(k) => {
                    if matches!(built.node, Node::Scalar(Scalar::Merge | Scalar::ValueKey)) {
                        return Err(undefined_constructor(&built));
                    }
                    grow(start, &k);
                    grow(start, &built);
                    entries.push((k, built.node));
                }
            },
        }
        Ok(())
    }
}

fn grow(parent: &mut Built, child: &Built) {
    parent.size = parent.size.saturating_add(child.size);
    parent.height = parent.height.max(child.height + 1);
}

fn depth_error(span: &Span) -> ComposeError {
    error_at(
        span,
        format!("the document nests collections deeper than {MAX_DEPTH} levels"),
    )
}

fn undefined_constructor(built: &Built) -> ComposeError {
    let tag = match built.node {
        Node::Scalar(Scalar::Merge) => "merge",
        _ => "value",
    };
    error_at(
        &built.span,
        format!("could not determine a constructor for the tag 'tag:yaml.org,2002:{tag}'"),
    )
}

/// The yaml.org type name of an explicit tag; `Ok(None)` for the non-specific `!`.
fn core_name(tag: &Tag) -> Result<Option<String>, String> {
    if is_non_specific(tag) {
        return Ok(None);
    }
    tag.suffix_in_namespace(YAML_NS)
        .map(|name| Some(name.into_owned()))
        .ok_or_else(|| {
            format!(
                "could not determine a constructor for the tag '{}'",
                tag.original()
            )
        })
}

/// The non-specific tag `!`: PyYAML resolves such a scalar as if it were plain, even quoted.
fn is_non_specific(tag: &Tag) -> bool {
    matches!(tag.parts(), ("!", "") | ("", "!"))
}

fn construct_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Scalar, String> {
    let name = match tag {
        Some(tag) if is_non_specific(tag) => return construct_plain(text),
        Some(tag) => core_name(tag)?,
        None if style == ScalarStyle::Plain => return construct_plain(text),
        None => None,
    };
    match name.as_deref() {
        None | Some("str" | "timestamp") => Ok(Scalar::Str(text.to_string())),
        Some("int") => construct_int(text),
        Some("float") => construct_float(text),
        Some("bool") => construct_bool(text),
        Some("null") => Ok(Scalar::Null),
        Some("merge") => Ok(Scalar::Merge),
        Some(other @ ("seq" | "map")) => Err(format!(
            "expected a {} node, but found scalar",
            if other == "seq" {
                "sequence"
            } else {
                "mapping"
            }
        )),
        Some(other) => Err(unsupported_tag(other)),
    }
}

fn check_collection_tag(tag: Option<&Tag>, is_seq: bool) -> Result<(), String> {
    let Some(tag) = tag else { return Ok(()) };
    match core_name(tag)?.as_deref() {
        None => Ok(()),
        Some("seq") if is_seq => Ok(()),
        Some("map") if !is_seq => Ok(()),
        Some(
            name @ ("str" | "int" | "float" | "bool" | "null" | "timestamp" | "seq" | "map"
            | "merge"),
        ) => Err(format!(
            "expected a {} node for the tag '!!{name}', but found a {}",
            if name == "seq" {
                "sequence"
            } else if name == "map" {
                "mapping"
            } else {
                "scalar"
            },
            if is_seq { "sequence" } else { "mapping" }
        )),
        Some(other) => Err(unsupported_tag(other)),
    }
}

fn unsupported_tag(name: &str) -> String {
    match name {
        "binary" | "set" | "omap" | "pairs" => {
            format!("the tag '!!{name}' is not supported in templates")
        }
        _ => format!("could not determine a constructor for the tag '{YAML_NS}{name}'"),
    }
}

/// PyYAML's `flatten_mapping` and dict construction: `<<` sources first (earlier sources
/// win within one `<<` list, later `<<` keys win over earlier), then the mapping's own keys;
/// a repeated key keeps its first position and takes the last value.
fn flatten(entries: Vec<(Built, Node)>, span: &Span) -> Res<Vec<(Scalar, Node)>> {
    let mut merged: Vec<(Scalar, Node)> = Vec::new();
    let mut own: Vec<(Scalar, Node)> = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        match key.node {
            Node::Scalar(Scalar::Merge) => match &value {
                Node::Map(source) => merged.extend(source.iter().cloned()),
                Node::Seq(sources) => {
                    let mut maps = Vec::with_capacity(sources.len());
                    for source in sources.iter() {
                        match source {
                            Node::Map(m) => maps.push(m),
                            other => {
                                return Err(error_at(
                                    span,
                                    format!(
                                        "expected a mapping for merging, but found {}",
                                        other.kind()
                                    ),
                                ));
                            }
                        }
                    }
                    for m in maps.into_iter().rev() {
                        merged.extend(m.iter().cloned());
                    }
                }
                Node::Scalar(_) => {
                    return Err(error_at(
                        span,
                        "expected a mapping or list of mappings for merging, but found scalar",
                    ));
                }
            },
            Node::Scalar(Scalar::ValueKey) => own.push((Scalar::Str("=".into()), value)),
            Node::Scalar(k) => own.push((k, value)),
            Node::Seq(_) | Node::Map(_) => {
                return Err(error_at(&key.span, "found unhashable key"));
            }
        }
    }
    let mut out: Vec<(Scalar, Node)> = Vec::with_capacity(merged.len() + own.len());
    let mut index: HashMap<KeyId, usize> = HashMap::new();
    for (key, value) in merged.into_iter().chain(own) {
        match index.get(&KeyId::of(&key)) {
            Some(&i) => out[i].1 = value,
            None => {
                index.insert(KeyId::of(&key), out.len());
                out.push((key, value));
            }
        }
    }
    Ok(out)
}
