//! Unit tests, and the differential test against the PyPI `yaql` package with Heat's
//! settings (`server/tests/yaql_cases/`: `cases.json`, evaluated by `heat_yaql.py`).

use serde_json::{Value, json};

use super::evaluate;
use crate::template::python_reference::{python_with, run_json, same_ordered, workspace_root};

#[test]
fn evaluates_the_common_shapes() {
    let data = json!({"roles": [{"name": "a", "count": 1}, {"name": "b", "count": 0}]});
    let eval = |e: &str| evaluate(e, &data);
    assert_eq!(
        eval("$.data.roles.where($.count > 0).select($.name)"),
        Ok(json!(["a"]))
    );
    assert_eq!(eval("let(x => 2) -> $x * 21"), Ok(json!(42)));
    assert_eq!(eval("$.data.roles.name.join(',')"), Ok(json!("a,b")));
    assert_eq!(eval("'a.b.c'.rightSplit('.', 1)"), Ok(json!(["a.b", "c"])));
}

#[test]
fn unknown_names_and_budgets_are_clear_errors() {
    let err = |e: &str| evaluate(e, &json!({})).unwrap_err().message;
    assert_eq!(err("[1].orderBy($)"), "unsupported yaql method orderBy");
    assert_eq!(err("now()"), "unsupported yaql function now");
    assert!(err("range(201)").contains("exceeds 200"));
    assert!(err("'x' * 20000").contains("too much memory"));
    assert!(err("$.data.where(").contains("Parse error"));
}

#[test]
fn cases_evaluate_like_yaql() {
    let Some(python) = python_with("yaql", "cases_evaluate_like_yaql") else {
        return;
    };
    let dir = workspace_root().join("server/tests/yaql_cases");
    let text = std::fs::read_to_string(dir.join("cases.json")).expect("cases.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("cases are JSON");
    assert!(cases.len() >= 60, "cases: {}", cases.len());
    let reference = run_json(&python, &dir.join("heat_yaql.py"), &[], &text);
    let mut failures = Vec::new();
    for (case, theirs) in cases.iter().zip(reference.as_array().expect("a list")) {
        let expr = case["expression"].as_str().expect("expression");
        let ours = evaluate(expr, &case["data"]);
        if case["ours"] == "unsupported" {
            if !matches!(&ours, Err(e) if e.message.contains("unsupported")) {
                failures.push(format!("{expr}: expected unsupported, got {ours:?}"));
            }
            continue;
        }
        match (theirs.get("ok"), ours) {
            (Some(want), Ok(got)) if same_ordered(want, &got) => {}
            (Some(want), got) => failures.push(format!("{expr}\n  yaql {want}\n  ours {got:?}")),
            (None, Ok(got)) => failures.push(format!(
                "{expr}\n  yaql error {}\n  ours {got}",
                theirs["error"]
            )),
            (None, Err(_)) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
