//! Differential test: every fixture in `server/tests/yaml_fixtures/` must load to the same
//! JSON (key order included) as PyYAML with Heat's loader settings gives, or fail where it
//! fails. The reference loader is `heat_load.py` beside the fixtures.

use std::path::PathBuf;

use crate::template::python_reference::{python_with, run_json, same_ordered, workspace_root};

use super::load_document;

#[test]
fn fixtures_load_like_pyyaml() {
    let Some(python) = python_with("yaml", "fixtures_load_like_pyyaml") else {
        return;
    };
    let dir = workspace_root().join("server/tests/yaml_fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "fixtures: {}", files.len());
    let reference = run_json(&python, &dir.join("heat_load.py"), &files, "");
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let text = std::fs::read_to_string(file).expect("fixture");
        let ours = load_document(&text);
        let theirs = &reference[file.to_string_lossy().as_ref()];
        match (theirs.get("ok"), ours) {
            (Some(want), Ok(got)) if same_ordered(want, &got) => {}
            (Some(want), Ok(got)) => {
                failures.push(format!("{name}:\n  PyYAML {want}\n  ours   {got}"))
            }
            (Some(want), Err(e)) => {
                failures.push(format!("{name}:\n  PyYAML {want}\n  ours   error {e}"))
            }
            (None, Ok(got)) => failures.push(format!(
                "{name}:\n  PyYAML error {}\n  ours   {got}",
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
