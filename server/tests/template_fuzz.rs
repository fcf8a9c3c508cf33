//! Property-based fuzzing of the template pipeline: arbitrary text into the loader, and
//! arbitrary JSON trees (salted with function names and template keywords so the deeper
//! code is reached) into parse, validate and resolve. Nothing may panic or hang; every
//! failure must be an error value.
//!
//! The case count defaults to proptest's; set `PROPTEST_CASES` for long runs.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Map, Value};
use updraft_server::resources::Registry;
use updraft_server::template::Template;
use updraft_server::template::functions::{self, EvalContext};
use updraft_server::template::loader::load_document;

const KEYS: &[&str] = &[
    "heat_template_version",
    "resources",
    "outputs",
    "parameters",
    "conditions",
    "type",
    "properties",
    "value",
    "depends_on",
    "condition",
    "get_param",
    "get_resource",
    "get_attr",
    "str_replace",
    "list_join",
    "if",
    "equals",
    "not",
    "and",
    "or",
    "template",
    "params",
    "default",
    "OS::Heat::Value",
    "a",
    "b",
    "x",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(KEYS).prop_map(|s| Value::String(s.to_string())),
        prop::sample::select(&["2013-05-23", "2016-10-14", "2021-04-16", "wallaby"][..])
            .prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A template document: a version plus arbitrary sections.
fn template_doc() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(&["2013-05-23", "2015-10-15", "2016-10-14", "2021-04-16"][..]),
        tree(),
        tree(),
        tree(),
    )
        .prop_map(|(version, resources, outputs, conditions)| {
            let mut m = Map::new();
            m.insert(
                "heat_template_version".into(),
                Value::String(version.into()),
            );
            m.insert("resources".into(), resources);
            m.insert("outputs".into(), outputs);
            m.insert("conditions".into(), conditions);
            Value::Object(m)
        })
}

struct Empty;
impl EvalContext for Empty {
    fn param(&self, _: &str) -> Option<Value> {
        Some(Value::String("p".into()))
    }
    fn resource_reference(&self, name: &str) -> Option<String> {
        Some(name.to_string())
    }
    fn resource_attribute(&self, _: &str, _: &str) -> Value {
        Value::Null
    }
    fn resource_attributes(&self, _: &str) -> Value {
        Value::Null
    }
}

fn pipeline(doc: &Value) {
    let Ok(template) = Template::parse(doc) else {
        return;
    };
    let registry = Registry::builtin();
    let _ = template.validate(&registry);
    let _ = template.apply_conditions(&Empty);
    for def in template.resources.values() {
        let _ = functions::resolve(
            &def.properties,
            template.version,
            &Empty,
            "resources.x.properties",
        );
    }
    for def in template.outputs.values() {
        let _ = functions::resolve(&def.value, template.version, &Empty, "outputs.x.value");
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_the_loader(text in ".{0,400}") {
        if let Ok(doc) = load_document(&text) {
            pipeline(&doc);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_loader(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = load_document(&text);
    }

    #[test]
    fn arbitrary_template_trees_never_panic(doc in template_doc()) {
        pipeline(&doc);
        // The same tree as YAML text goes through the loader too.
        let text = serde_json::to_string(&doc).unwrap();
        let reloaded = load_document(&text).unwrap();
        pipeline(&reloaded);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(load_document(&json).is_err());
    let yaml = format!("a: {}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(load_document(&yaml).is_err());
}

#[test]
fn accepted_depth_is_safe_for_every_walker() {
    // The deepest document the loader accepts goes through the whole pipeline.
    let depth = 95;
    let value = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let yaml = format!(
        "heat_template_version: 2021-04-16\nresources:\n  r:\n    type: OS::Heat::Value\n    properties:\n      value: {value}\noutputs:\n  o: {{value: {value}}}\n"
    );
    let doc = load_document(&yaml).unwrap();
    pipeline(&doc);
    let too_deep = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
    assert!(load_document(&too_deep).is_err());
}
