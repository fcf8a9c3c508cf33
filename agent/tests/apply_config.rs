//! os-apply-config, black-box: the real binary linked as `os-apply-config`, and a
//! differential table run through the stock Python tool (`UPDRAFT_PYTHON`) and ours,
//! comparing exit codes, stdout and the output trees (content and mode).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One differential case. Paths in `args` and `env` use `{T}` (templates), `{O}`
/// (output) and `{M}` (metadata directory).
#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    /// (path under the template root, content, mode); `*.oac` files are controls.
    templates: &'static [(&'static str, &'static str, u32)],
    /// (file name under {M}, content).
    metadata: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// Files already in the output tree: (path, content, mode).
    existing: &'static [(&'static str, &'static str, u32)],
    /// A deliberate deviation: ours must exit with this and the rest is not compared.
    deviates_with_exit: Option<i32>,
}

const BASE: Case = Case {
    name: "",
    templates: &[],
    metadata: &[("md.json", r#"{"x": "hello"}"#)],
    args: &["-t", "{T}", "-o", "{O}", "-m", "{M}/md.json"],
    env: &[],
    existing: &[],
    deviates_with_exit: None,
};

const RICH: &str = r#"{"s": "<&>\"'", "b": true, "f": false, "n": 5, "fl": 0.1, "big": 1e16, "z": null,
  "l": [{"n": "a", "v": 1}, {"n": "b", "v": 2}], "d": {"k": "v", "u": "é", "in": {"deep": [1, "two"]}},
  "e": "", "zero": 0, "el": [], "url": "http://x.example/a", "dsn": "mysql://u:p@db.example/nova?charset=utf8",
  "sw": "r1z1-10.0.0.1:%PORT%/sdb1,r1z2-10.0.0.2:%PORT%/sdb2", "user": "nova-api", "addr": "10.0.0.1/24"}"#;

fn rich(args: &'static [&'static str]) -> Case {
    Case {
        metadata: &[("md.json", RICH)],
        args,
        ..BASE
    }
}

fn tpl(name: &'static str, templates: &'static [(&'static str, &'static str, u32)]) -> Case {
    Case {
        name,
        templates,
        metadata: &[("md.json", RICH)],
        ..BASE
    }
}

fn cases() -> Vec<Case> {
    vec![
        tpl("plain substitution", &[("etc/a.conf", "x={{s}}\n", 0o644)]),
        tpl(
            "no html escaping in any form",
            &[("a", "{{s}}|{{{s}}}|{{&s}}", 0o644)],
        ),
        tpl(
            "scalars render as python json",
            &[("a", "{{b}} {{f}} {{n}} {{fl}} {{big}} [{{z}}]", 0o644)],
        ),
        tpl(
            "maps and lists render as python json",
            &[("a", "{{l}}\n{{d}}\n{{el}}", 0o644)],
        ),
        tpl(
            "missing names are empty",
            &[("a", "[{{nope}}][{{d.nope}}][{{d.k.x}}][{{nope.k}}]", 0o644)],
        ),
        tpl(
            "dotted names",
            &[("a", "{{d.k}} {{d.in.deep}} {{d.u}}", 0o644)],
        ),
        tpl(
            "list of maps with outer lookups",
            &[("a", "{{#l}}{{n}}={{v}} {{s}};{{/l}}", 0o644)],
        ),
        tpl(
            "nested sections",
            &[(
                "a",
                "{{#d}}{{#in}}{{#deep}}<{{.}}>{{/deep}}{{/in}}{{k}}{{/d}}",
                0o644,
            )],
        ),
        tpl(
            "inverted sections on falsy values",
            &[(
                "a",
                "{{^nope}}1{{/nope}}{{^el}}2{{/el}}{{^f}}3{{/f}}{{^zero}}4{{/zero}}{{^e}}5{{/e}}{{^b}}no{{/b}}",
                0o644,
            )],
        ),
        tpl(
            "section on scalars and dot",
            &[(
                "a",
                "{{#b}}[{{.}}]{{/b}}{{#n}}({{.}}){{/n}}{{#s}}{{.}}{{/s}}{{#zero}}no{{/zero}}",
                0o644,
            )],
        ),
        tpl(
            "top level dot is the whole config",
            &[("a", "{{#d}}{{.}}{{/d}}", 0o644)],
        ),
        tpl(
            "standalone lines and their edge cases",
            &[(
                "a",
                "a\n  {{#l}}\n  - {{n}}\n  {{/l}}\nb {{#b}} \nc{{/b}}\n{{! note }}\n  {{^f}}x{{/f}}  \n",
                0o644,
            )],
        ),
        tpl(
            "comments and delimiter changes",
            &[(
                "a",
                "{{! gone }}{{=<% %>=}}<%n%>{{n}}<%={{ }}=%>{{n}}",
                0o644,
            )],
        ),
        tpl(
            "crlf templates come out with lf",
            &[("a", "a={{n}}\r\nb\rc\r\n", 0o644)],
        ),
        tpl(
            "nested template directories",
            &[
                ("etc/one/a", "{{n}}", 0o644),
                ("etc/two/deeper/b", "{{s}}", 0o644),
                ("top", "t", 0o644),
            ],
        ),
        Case {
            name: "deep merge of two files in one -m",
            templates: &[("a", "{{a.b}} {{a.n}} {{l}}", 0o644)],
            metadata: &[
                ("1.json", r#"{"a": {"b": "x", "n": 5}, "l": [1, 2]}"#),
                ("2.json", r#"{"a": {"b": "y"}, "l": [3]}"#),
            ],
            args: &["-t", "{T}", "-o", "{O}", "-m", "{M}/1.json", "{M}/2.json"],
            ..BASE
        },
        Case {
            name: "non-map roots and missing files are skipped",
            templates: &[("a", "{{x}}", 0o644)],
            metadata: &[("list.json", "[1, 2]"), ("md.json", r#"{"x": "kept"}"#)],
            args: &[
                "-t",
                "{T}",
                "-o",
                "{O}",
                "-m",
                "{M}/md.json",
                "{M}/list.json",
                "{M}/absent.json",
            ],
            ..BASE
        },
        Case {
            name: "OS_CONFIG_FILES names the files",
            templates: &[("a", "{{x}} {{y}}", 0o644)],
            metadata: &[("1.json", r#"{"x": 1}"#), ("2.json", r#"{"y": 2}"#)],
            args: &["-t", "{T}", "-o", "{O}"],
            env: &[("OS_CONFIG_FILES", "{M}/1.json:{M}/2.json")],
            ..BASE
        },
        Case {
            name: "invalid json is an error",
            templates: &[("a", "{{x}}", 0o644)],
            metadata: &[("md.json", "{not json")],
            ..BASE
        },
        tpl(
            "mismatched section end is an error",
            &[("a", "{{#l}}x{{/d}}", 0o644), ("b", "fine", 0o644)],
        ),
        Case {
            name: "subhash renders against a sub-map",
            templates: &[("a", "{{k}} {{in.deep}}", 0o644)],
            metadata: &[("md.json", RICH)],
            args: &[
                "-t",
                "{T}",
                "-o",
                "{O}",
                "-m",
                "{M}/md.json",
                "--subhash",
                "d",
            ],
            ..BASE
        },
        Case {
            name: "subhash naming a non-map is an error",
            templates: &[("a", "x", 0o644)],
            metadata: &[("md.json", RICH)],
            args: &["-t", "{T}", "-o", "{O}", "-m", "{M}/md.json", "-s", "d.k"],
            ..BASE
        },
        tpl(
            "executable template gets the config on stdin",
            &[
                ("gen", "#!/bin/sh\ncat\n", 0o755),
                ("etc/b", "{{n}}", 0o644),
            ],
        ),
        tpl(
            "failing executable template writes nothing",
            &[
                ("gen", "#!/bin/sh\necho bad\nexit 2\n", 0o755),
                ("b", "{{n}}", 0o644),
            ],
        ),
        tpl(
            "oac mode",
            &[
                ("a", "{{n}}", 0o644),
                ("a.oac", "mode: 0600\n", 0o644),
                ("b", "x", 0o644),
                ("b.oac", "mode: 0755\nallow_empty: true", 0o644),
            ],
        ),
        tpl(
            "oac allow_empty false skips empty output",
            &[
                ("a", "{{nope}}", 0o644),
                ("a.oac", "allow_empty: false\n", 0o644),
                ("c", "{{n}}", 0o644),
                ("c.oac", "allow_empty: false\n", 0o644),
            ],
        ),
        Case {
            name: "oac allow_empty false deletes an existing output",
            templates: &[
                ("a", "{{nope}}", 0o644),
                ("a.oac", "allow_empty: false\n", 0o644),
            ],
            existing: &[("a", "old", 0o644)],
            ..BASE
        },
        tpl(
            "oac unknown key is an error",
            &[("a", "x", 0o644), ("a.oac", "colour: red\n", 0o644)],
        ),
        tpl(
            "oac mode out of range is an error",
            &[("a", "x", 0o644), ("a.oac", "mode: 01777\n", 0o644)],
        ),
        tpl(
            "oac allow_empty must be boolean",
            &[("a", "x", 0o644), ("a.oac", "allow_empty: 1\n", 0o644)],
        ),
        tpl(
            "oac owner and group by name and id",
            &[
                ("a", "x", 0o644),
                ("a.oac", "owner: root\ngroup: 0\n", 0o644),
            ],
        ),
        tpl(
            "oac unknown owner is an error",
            &[
                ("a", "x", 0o644),
                ("a.oac", "owner: no-such-user-xyz\n", 0o644),
            ],
        ),
        tpl(
            "empty oac is no control",
            &[("a", "x", 0o644), ("a.oac", "", 0o644)],
        ),
        Case {
            name: "existing file mode is kept",
            templates: &[("a", "new", 0o644)],
            existing: &[("a", "old", 0o640)],
            ..BASE
        },
        Case {
            name: "validate writes nothing",
            templates: &[("a", "{{x}}", 0o644)],
            args: &["-t", "{T}", "-o", "{O}", "-m", "{M}/md.json", "--validate"],
            ..BASE
        },
        Case {
            name: "missing template root is success",
            args: &["-t", "{T}/absent", "-o", "{O}", "-m", "{M}/md.json"],
            ..BASE
        },
        Case {
            name: "print templates",
            args: &["--print-templates", "-t", "/some/where"],
            ..BASE
        },
        Case {
            name: "unknown option is a usage error",
            args: &["--no-such-flag"],
            ..BASE
        },
        Case {
            name: "long options may be abbreviated",
            templates: &[("a", "{{x}}", 0o644)],
            args: &["--templ", "{T}", "--out", "{O}", "--meta", "{M}/md.json"],
            ..BASE
        },
        rich(&["-m", "{M}/md.json", "--key", "s", "--type", "raw"]),
        rich(&["-m", "{M}/md.json", "--key", "n", "--type", "int"]),
        rich(&["-m", "{M}/md.json", "--key", "user", "--type", "int"]),
        rich(&["-m", "{M}/md.json", "--key", "url"]),
        rich(&["-m", "{M}/md.json", "--key", "url", "--type", "raw"]),
        rich(&["-m", "{M}/md.json", "--key", "addr", "--type", "netaddress"]),
        rich(&["-m", "{M}/md.json", "--key", "addr", "--type", "netdevice"]),
        rich(&["-m", "{M}/md.json", "--key", "dsn", "--type", "dsn"]),
        rich(&["-m", "{M}/md.json", "--key", "url", "--type", "dsn"]),
        rich(&["-m", "{M}/md.json", "--key", "sw", "--type", "swiftdevices"]),
        rich(&[
            "-m",
            "{M}/md.json",
            "--key",
            "user",
            "--type",
            "swiftdevices",
        ]),
        rich(&["-m", "{M}/md.json", "--key", "user", "--type", "username"]),
        rich(&["-m", "{M}/md.json", "--key", "user", "--type", "colour"]),
        rich(&["-m", "{M}/md.json", "--key", "l.1.n"]),
        rich(&["-m", "{M}/md.json", "--key", "l.-1.v", "--type", "int"]),
        rich(&["-m", "{M}/md.json", "--key", "d.in", "--type", "raw"]),
        rich(&["-m", "{M}/md.json", "--key", "d", "--type", "default"]),
        rich(&["-m", "{M}/md.json", "--key", "b"]),
        rich(&["-m", "{M}/md.json", "--key", "fl", "--type", "netaddress"]),
        rich(&["-m", "{M}/md.json", "--key", "big", "--type", "raw"]),
        rich(&["-m", "{M}/md.json", "--key", "z", "--key-default", "dflt"]),
        rich(&[
            "-m",
            "{M}/md.json",
            "--key",
            "nope.deeper",
            "--key-default",
            "http://not/checked",
        ]),
        rich(&["-m", "{M}/md.json", "--key", "nope"]),
        rich(&["-m", "{M}/md.json", "--key", "l.9"]),
        rich(&["-m", "{M}/md.json", "--boolean-key", "b"]),
        rich(&["-m", "{M}/md.json", "--boolean-key", "f"]),
        rich(&["-m", "{M}/md.json", "--boolean-key", "s"]),
        rich(&["-m", "{M}/md.json", "--boolean-key", "nope"]),
        rich(&["-m", "{M}/md.json", "--key", "n", "--boolean-key", "f"]),
        tpl(
            "oac flow mapping and yaml 1.1 booleans",
            &[
                ("a", "", 0o644),
                ("a.oac", "{allow_empty: no}\n", 0o644),
                ("b", "x", 0o644),
                ("b.oac", "# c\n{mode: 0640, allow_empty: yes}\n", 0o644),
            ],
        ),
        // Deliberate deviations, checked on our side only.
        Case {
            name: "unclosed section: upstream renders only its tail, we refuse",
            templates: &[("a", "lost {{#b}}tail", 0o644)],
            deviates_with_exit: Some(1),
            ..BASE
        },
        Case {
            name: "repeated -m: upstream keeps the last, we merge all",
            templates: &[("a", "{{x}}{{y}}", 0o644)],
            metadata: &[("1.json", r#"{"x": 1}"#), ("2.json", r#"{"y": 2}"#)],
            args: &[
                "-t",
                "{T}",
                "-o",
                "{O}",
                "-m",
                "{M}/1.json",
                "-m",
                "{M}/2.json",
            ],
            deviates_with_exit: Some(0),
            ..BASE
        },
    ]
}

struct Dirs {
    _root: tempfile::TempDir,
    templates: PathBuf,
    output: PathBuf,
    metadata: PathBuf,
}

fn setup(case: &Case) -> Dirs {
    let root = tempfile::tempdir().unwrap();
    let (templates, output, metadata) = (
        root.path().join("t"),
        root.path().join("o"),
        root.path().join("m"),
    );
    for dir in [&templates, &output, &metadata] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let place = |base: &Path, (rel, body, mode): &(&str, &str, u32)| {
        let path = base.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode)).unwrap();
    };
    case.templates.iter().for_each(|t| place(&templates, t));
    case.existing.iter().for_each(|t| place(&output, t));
    for (name, body) in case.metadata {
        std::fs::write(metadata.join(name), body).unwrap();
    }
    Dirs {
        _root: root,
        templates,
        output,
        metadata,
    }
}

impl Dirs {
    fn fill(&self, text: &str) -> String {
        text.replace("{T}", self.templates.to_str().unwrap())
            .replace("{O}", self.output.to_str().unwrap())
            .replace("{M}", self.metadata.to_str().unwrap())
    }

    /// The output tree: path → (content, mode), or a marker for directories.
    fn tree(&self) -> BTreeMap<String, (String, u32)> {
        fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, (String, u32)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    out.insert(rel, ("<dir>".into(), meta.mode() & 0o7777));
                    walk(&path, root, out);
                } else {
                    let body = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                    out.insert(
                        rel,
                        (
                            format!("{body} (uid {} gid {})", meta.uid(), meta.gid()),
                            meta.mode() & 0o7777,
                        ),
                    );
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.output, &self.output, &mut out);
        out
    }
}

/// Our binary under the tool's name.
fn ours() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("os-apply-config");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_updraft-agent"), &link).unwrap();
    (dir, link)
}

/// The stock tool, or `None` (a skip) when `UPDRAFT_PYTHON` is unset outside CI.
fn stock_python() -> Option<PathBuf> {
    match std::env::var_os("UPDRAFT_PYTHON") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("UPDRAFT_PYTHON must point at a Python with os-apply-config 14.1.0 in CI")
        }
        None => {
            eprintln!("skipping: set UPDRAFT_PYTHON to a Python with os-apply-config 14.1.0");
            None
        }
    }
}

fn configure(command: &mut Command, dirs: &Dirs, case: &Case) {
    command
        .env_remove("OS_CONFIG_FILES")
        .env_remove("OS_CONFIG_APPLIER_TEMPLATES")
        .env("OS_CONFIG_FILES_PATH", dirs.metadata.join("no-list.json"))
        .env("RUST_LOG", "warn");
    for (k, v) in case.env {
        command.env(k, dirs.fill(v));
    }
    let args: Vec<String> = case.args.iter().map(|a| dirs.fill(a)).collect();
    command.args(args);
    // Keep the host's cfn-init-data and friends out of every case.
    if !case.args.contains(&"--no-such-flag") {
        command.arg("--fallback-metadata");
    }
}

fn run_stock(python: &Path, dirs: &Dirs, case: &Case) -> Output {
    let mut command = Command::new(python);
    // euid is faked only so upstream does not append to /var/log/os-apply-config.log.
    command.args([
        "-c",
        "import os, sys; os.geteuid = lambda: 1000; from os_apply_config import apply_config; sys.exit(apply_config.main(sys.argv))",
    ]);
    configure(&mut command, dirs, case);
    command.output().unwrap()
}

fn run_ours(bin: &Path, dirs: &Dirs, case: &Case) -> Output {
    let mut command = Command::new(bin);
    configure(&mut command, dirs, case);
    command.output().unwrap()
}

fn label(case: &Case) -> String {
    if case.name.is_empty() {
        case.args.join(" ")
    } else {
        case.name.to_string()
    }
}

#[test]
fn differential_against_stock_os_apply_config() {
    let Some(python) = stock_python() else { return };
    let (_bin_dir, bin) = ours();
    let cases = cases();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    let mut agreed = 0;
    let mut productive = 0;
    for case in &cases {
        let (stock_dirs, our_dirs) = (setup(case), setup(case));
        let stock = run_stock(&python, &stock_dirs, case);
        let mine = run_ours(&bin, &our_dirs, case);
        let name = label(case);
        if let Some(exit) = case.deviates_with_exit {
            if mine.status.code() != Some(exit) {
                failures.push(format!(
                    "{name}: ours exited {:?}, want {exit}",
                    mine.status.code()
                ));
            }
            continue;
        }
        // Paths differ between the two runs; compare stdout with them normalised.
        let stdout = |o: &Output, d: &Dirs| {
            String::from_utf8_lossy(&o.stdout).replace(d._root.path().to_str().unwrap(), "<root>")
        };
        let (s_tree, o_tree) = (stock_dirs.tree(), our_dirs.tree());
        let same = stock.status.code() == mine.status.code()
            && stdout(&stock, &stock_dirs) == stdout(&mine, &our_dirs)
            && s_tree == o_tree;
        eprintln!(
            "{:<60} stock exit {:?}, {} files, {} stdout bytes: {}",
            name,
            stock.status.code(),
            s_tree.len(),
            stock.stdout.len(),
            if same { "agree" } else { "DIFFER" }
        );
        if stock.status.success() && (!s_tree.is_empty() || !stock.stdout.is_empty()) {
            productive += 1;
        }
        if same {
            agreed += 1;
        } else {
            failures.push(format!(
                "{name}:\n  stock exit {:?} stdout {:?} tree {s_tree:?}\n  stderr {}\n  ours  exit {:?} stdout {:?} tree {o_tree:?}\n  stderr {}",
                stock.status.code(),
                stdout(&stock, &stock_dirs),
                String::from_utf8_lossy(&stock.stderr).lines().last().unwrap_or_default(),
                mine.status.code(),
                stdout(&mine, &our_dirs),
                String::from_utf8_lossy(&mine.stderr).lines().last().unwrap_or_default(),
            ));
        }
    }
    eprintln!(
        "{agreed} of {} cases agree with stock os-apply-config",
        cases.len()
    );
    // Guards against a harness where both sides fail the same way on every case.
    assert!(
        productive >= 40,
        "only {productive} cases produced output from stock"
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn ours_with(case: &Case) -> (Dirs, Output) {
    let (_bin_dir, bin) = ours();
    let dirs = setup(case);
    let out = run_ours(&bin, &dirs, case);
    (dirs, out)
}

#[test]
fn an_unclosed_section_fails_naming_the_template_and_writes_nothing() {
    let case = Case {
        templates: &[
            ("etc/broken.conf", "a {{#x}} b", 0o644),
            ("etc/ok", "fine", 0o644),
        ],
        ..BASE
    };
    let (dirs, out) = ours_with(&case);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("etc/broken.conf") && stderr.contains("never closed"),
        "{stderr}"
    );
    assert!(dirs.tree().is_empty());
}

#[test]
fn repeated_metadata_flags_all_merge_in_order() {
    let case = Case {
        templates: &[("a", "{{x}} {{y}}", 0o644)],
        metadata: &[("1.json", r#"{"x": 1, "y": 1}"#), ("2.json", r#"{"y": 2}"#)],
        args: &[
            "-t",
            "{T}",
            "-o",
            "{O}",
            "-m",
            "{M}/1.json",
            "-m",
            "{M}/2.json",
        ],
        ..BASE
    };
    let (dirs, out) = ours_with(&case);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(dirs.output.join("a")).unwrap(),
        "1 2"
    );
}

#[test]
fn a_bad_metadata_file_is_named_on_stderr() {
    let case = Case {
        templates: &[("a", "x", 0o644)],
        metadata: &[("md.json", "{oops")],
        ..BASE
    };
    let (_dirs, out) = ours_with(&case);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("md.json"));
}

/// A small deterministic generator of well-formed templates (balanced sections, mixed
/// tag forms, standalone and inline placements, stray braces) for the generated
/// differential below.
struct TemplateGen(u64);

impl TemplateGen {
    fn next(&mut self, n: usize) -> usize {
        // xorshift64: reproducible without a dependency.
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.next(from.len())]
    }

    fn body(&mut self, depth: usize, out: &mut String) {
        const NAMES: &[&str] = &[
            "s",
            "b",
            "f",
            "n",
            "fl",
            "z",
            "l",
            "d",
            "d.k",
            "d.in",
            "d.in.deep",
            "e",
            "zero",
            "el",
            "nope",
            ".",
            "v",
        ];
        const TEXT: &[&str] = &["x", " ", "\n", "  ", "\r\n", "{ ", "}", "t\n", "\t"];
        for _ in 0..=self.next(5) {
            let name = self.pick(NAMES);
            match self.next(if depth == 0 { 7 } else { 10 }) {
                0 | 1 => out.push_str(self.pick(TEXT)),
                2 => out.push_str(&format!("{{{{{name}}}}}")),
                3 => out.push_str(&format!("{{{{{{{name}}}}}}}")),
                4 => out.push_str(&format!("{{{{& {name} }}}}")),
                5 => out.push_str("{{! a comment }}"),
                6 => out.push_str(&format!("{{{{>{name}}}}}")),
                kind => {
                    let (open, lead) = (
                        if kind == 9 { '^' } else { '#' },
                        self.pick(&["", "\n", "\n  ", " "]),
                    );
                    let tail = self.pick(&["", "\n", " \n"]);
                    out.push_str(&format!("{lead}{{{{{open}{name}}}}}{tail}"));
                    self.body(depth - 1, out);
                    out.push_str(&format!("{lead}{{{{/{name}}}}}{tail}"));
                }
            }
        }
    }
}

#[test]
fn generated_templates_render_as_stock_does() {
    let Some(python) = stock_python() else { return };
    let (_bin_dir, bin) = ours();
    let mut generator = TemplateGen(0x5eed_cafe_f00d);
    let templates: Vec<(String, String)> = (0..300)
        .map(|i| {
            let mut text = String::new();
            generator.body(3, &mut text);
            (format!("g{i:03}"), text)
        })
        .collect();
    let case = Case {
        metadata: &[("md.json", RICH)],
        ..BASE
    };
    let (stock_dirs, our_dirs) = (setup(&case), setup(&case));
    for dirs in [&stock_dirs, &our_dirs] {
        for (name, text) in &templates {
            std::fs::write(dirs.templates.join(name), text).unwrap();
        }
    }
    let stock = run_stock(&python, &stock_dirs, &case);
    let mine = run_ours(&bin, &our_dirs, &case);
    assert!(
        stock.status.success(),
        "{}",
        String::from_utf8_lossy(&stock.stderr)
    );
    assert!(
        mine.status.success(),
        "{}",
        String::from_utf8_lossy(&mine.stderr)
    );
    let mut differing = Vec::new();
    for (name, text) in &templates {
        let read = |d: &Dirs| std::fs::read_to_string(d.output.join(name)).unwrap();
        let (want, got) = (read(&stock_dirs), read(&our_dirs));
        if want != got {
            differing.push(format!(
                "{name} {text:?}\n  stock {want:?}\n  ours  {got:?}"
            ));
        }
    }
    assert!(
        differing.is_empty(),
        "{} of 300 differ:\n{}",
        differing.len(),
        differing.join("\n")
    );
}
