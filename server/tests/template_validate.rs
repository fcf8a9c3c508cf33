//! `updraft template validate` on every example: each template in `templates/` passes,
//! each one in `templates/broken/` fails and prints exactly the errors its `# expect:`
//! lines name (with file, line and column where known).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::path::{Path, PathBuf};
use std::process::Command;

fn templates(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        })
        .collect();
    out.sort();
    out
}

fn validate(template: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args(["template", "validate", "-t"])
        .arg(template)
        .output()
        .expect("the updraft binary runs");
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
}

#[test]
fn every_example_template_is_valid() {
    let found = templates(&root());
    assert!(!found.is_empty());
    for t in found {
        let (ok, out) = validate(&t);
        assert!(ok, "{} should be valid:\n{out}", t.display());
        assert_eq!(out.trim(), "OK", "{}", t.display());
    }
}

#[test]
fn every_broken_template_fails_with_its_expected_errors() {
    let found = templates(&root().join("broken"));
    assert!(found.len() >= 10, "one broken template per error class");
    for t in found {
        let text = std::fs::read_to_string(&t).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            t.display()
        );
        let (ok, out) = validate(&t);
        assert!(!ok, "{} should fail:\n{out}", t.display());
        let lines: Vec<&str> = out.lines().collect();
        for want in &expected {
            assert!(
                lines.iter().any(|l| l.contains(want)),
                "{}: expected a line containing\n  {want}\ngot:\n{out}",
                t.display()
            );
        }
        assert_eq!(
            lines.len(),
            expected.len(),
            "{}: every error printed is expected:\n{out}",
            t.display()
        );
        for line in lines {
            assert!(
                line.starts_with(&t.display().to_string()),
                "{}: each error names the file: {line}",
                t.display()
            );
        }
    }
}
