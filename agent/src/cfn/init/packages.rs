//! `packages`: `{manager: {name: versions}}`, managers in upstream's order (dpkg, rpm, apt,
//! yum, dnf, then the others alphabetically). `versions` is `[]`, a version string or a
//! list of them (the newest by rpm's comparison is taken).
//!
//! - **apt**: `apt-get -y install <names>` with `DEBIAN_FRONTEND=noninteractive` added to the
//!   environment; versions ignored (as upstream).
//! - **yum**, falling back to **dnf** when `which yum` exits 1; **dnf**; **zypper**: per
//!   package `rpm -q` (installed: skip), an availability check (`yum|dnf -y
//!   --showduplicates list available`, `zypper -n --no-refresh search`; unavailable: warn
//!   and skip), then one batch install (`yum -y install`, `dnf -y --best install`,
//!   `zypper -n install`) and one batch downgrade.
//! - **rubygems**: `gem install -b -y [--version v] name`; **python**: `easy_install name`.
//! - **rpm** (URLs) and **dpkg**: not installed, as upstream (a warning).
//!
//! Unlike upstream, which only logs a failed install, a failing install command stops
//! cfn-init: later sections usually need the packages.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::{InitError, kind};
use crate::cfn::run::{Cmd, Runner};

/// Upstream's manager order; others follow alphabetically (case-insensitive).
const ORDER: [&str; 5] = ["dpkg", "rpm", "apt", "yum", "dnf"];

/// The managers of `packages` in the order they run.
pub fn manager_order(packages: &Map<String, Value>) -> Vec<&str> {
    let mut names: Vec<&str> = packages.keys().map(String::as_str).collect();
    names.sort_by(|a, b| {
        match (
            ORDER.iter().position(|o| o == a),
            ORDER.iter().position(|o| o == b),
        ) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.to_lowercase().cmp(&b.to_lowercase()),
        }
    });
    names
}

/// One package entry: its name and the versions asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The name.
    pub name: String,
    /// Versions given (possibly none).
    pub versions: Vec<String>,
}

impl Package {
    /// The newest version asked for.
    pub fn newest(&self) -> Option<&str> {
        self.versions
            .iter()
            .max_by(|a, b| rpm_vercmp(a, b))
            .map(String::as_str)
    }
}

fn entries(manager: &Map<String, Value>, at: &str) -> Result<Vec<Package>, InitError> {
    manager
        .iter()
        .map(|(name, v)| {
            let versions = match v {
                Value::Null => Vec::new(),
                Value::String(s) if s.is_empty() => Vec::new(),
                Value::String(s) => vec![s.clone()],
                Value::Array(list) => list
                    .iter()
                    .map(|x| match x {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        other => Err(InitError::invalid(
                            &format!("{at}.{name}"),
                            format!("a version must be a string, not {}", kind(other)),
                        )),
                    })
                    .collect::<Result<_, _>>()?,
                Value::Object(m) if m.is_empty() => Vec::new(),
                other => {
                    return Err(InitError::invalid(
                        &format!("{at}.{name}"),
                        format!("versions must be a list or a string, not {}", kind(other)),
                    ));
                }
            };
            Ok(Package {
                name: name.clone(),
                versions,
            })
        })
        .collect()
}

/// Installs every manager's packages.
pub fn apply(
    packages: &Map<String, Value>,
    at: &str,
    runner: &mut dyn Runner,
) -> Result<(), InitError> {
    for manager in manager_order(packages) {
        let here = format!("{at}.{manager}");
        let list = match packages.get(manager) {
            Some(Value::Object(m)) => entries(m, &here)?,
            Some(Value::Null) | None => continue,
            Some(other) => {
                return Err(InitError::invalid(
                    &here,
                    format!("must be a map, not {}", kind(other)),
                ));
            }
        };
        if list.is_empty() {
            continue;
        }
        match manager {
            "apt" => run_checked(runner, &apt_command(&list), &here)?,
            "yum" => {
                // Upstream: `which yum` exiting 1 means no yum, so dnf; `which` itself
                // missing (127) means try yum anyway.
                let which = runner
                    .run(&Cmd::new(&["which", "yum"]))
                    .map(|o| o.status)
                    .unwrap_or(Some(127));
                let family = if which == Some(1) { Rpm::Dnf } else { Rpm::Yum };
                rpm_family(family, &list, &here, runner)?;
            }
            "dnf" => rpm_family(Rpm::Dnf, &list, &here, runner)?,
            "zypper" => rpm_family(Rpm::Zypper, &list, &here, runner)?,
            "rubygems" => {
                for p in &list {
                    run_checked(runner, &gem_command(p), &format!("{here}.{}", p.name))?;
                }
            }
            "python" => {
                for p in &list {
                    run_checked(
                        runner,
                        &Cmd::new(&["easy_install", p.name.as_str()]),
                        &format!("{here}.{}", p.name),
                    )?;
                }
            }
            "rpm" | "dpkg" => {
                tracing::warn!(at = %here, "{manager} packages are not installed (as heat-cfntools)")
            }
            other => tracing::warn!(at = %here, "skipping the unknown package manager {other:?}"),
        }
    }
    Ok(())
}

/// `apt-get -y install <names>` with `DEBIAN_FRONTEND=noninteractive`.
pub fn apt_command(list: &[Package]) -> Cmd {
    let mut cmd = Cmd::new(&["apt-get", "-y", "install"]);
    cmd.args.extend(list.iter().map(|p| p.name.clone()));
    cmd.env
        .push(("DEBIAN_FRONTEND".into(), "noninteractive".into()));
    cmd
}

/// `gem install -b -y [--version v] name` (the first version, as upstream).
pub fn gem_command(p: &Package) -> Cmd {
    let mut cmd = Cmd::new(&["gem", "install", "-b", "-y"]);
    if let Some(v) = p.versions.first() {
        cmd.args.extend(["--version".into(), v.clone()]);
    }
    cmd.args.push(p.name.clone());
    cmd
}

/// The rpm-based managers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rpm {
    /// yum.
    Yum,
    /// dnf.
    Dnf,
    /// zypper.
    Zypper,
}

impl Rpm {
    /// The availability check for `spec` (`name` or `name-version`).
    pub fn available(self, spec: &str) -> Cmd {
        match self {
            Rpm::Yum => Cmd::new(&["yum", "-y", "--showduplicates", "list", "available", spec]),
            Rpm::Dnf => Cmd::new(&["dnf", "-y", "--showduplicates", "list", "available", spec]),
            Rpm::Zypper => Cmd::new(&["zypper", "-n", "--no-refresh", "search", spec]),
        }
    }

    /// The batch install.
    pub fn install(self, specs: &[String]) -> Cmd {
        let mut cmd = match self {
            Rpm::Yum => Cmd::new(&["yum", "-y", "install"]),
            Rpm::Dnf => Cmd::new(&["dnf", "-y", "--best", "install"]),
            Rpm::Zypper => Cmd::new(&["zypper", "-n", "install"]),
        };
        cmd.args.extend(specs.iter().cloned());
        cmd
    }

    /// The batch downgrade.
    pub fn downgrade(self, specs: &[String]) -> Cmd {
        let mut cmd = match self {
            Rpm::Yum => Cmd::new(&["yum", "-y", "downgrade"]),
            Rpm::Dnf => Cmd::new(&["dnf", "-y", "downgrade"]),
            Rpm::Zypper => Cmd::new(&["zypper", "-n", "install", "--oldpackage"]),
        };
        cmd.args.extend(specs.iter().cloned());
        cmd
    }
}

fn rpm_family(
    family: Rpm,
    list: &[Package],
    at: &str,
    runner: &mut dyn Runner,
) -> Result<(), InitError> {
    let mut installs = Vec::new();
    let mut downgrades = Vec::new();
    for p in list {
        let version = p.newest();
        let spec = match version {
            Some(v) => format!("{}-{v}", p.name),
            None => p.name.clone(),
        };
        let ok = |cmd: &Cmd, runner: &mut dyn Runner| {
            runner
                .run(cmd)
                .map(|o| o.success())
                .map_err(|source| InitError::Run {
                    at: format!("{at}.{}", p.name),
                    source,
                })
        };
        if ok(&Cmd::new(&["rpm", "-q", spec.as_str()]), runner)? {
            continue;
        }
        if !ok(&family.available(&spec), runner)? {
            tracing::warn!(at = %format!("{at}.{}", p.name), "skipping package {spec:?}: not available");
            continue;
        }
        let Some(wanted) = version else {
            installs.push(spec);
            continue;
        };
        // The installed version of the package by name (upstream queries the versioned
        // spec, which is never installed here, and compares with rpm's error message).
        let installed = runner
            .run(&Cmd::new(&[
                "rpm",
                "-q",
                "--queryformat",
                "%{VERSION}-%{RELEASE}",
                p.name.as_str(),
            ]))
            .ok()
            .filter(|o| o.success())
            .map(|o| o.stdout.trim().to_string())
            .unwrap_or_default();
        match rpm_compare(&installed, wanted) {
            Ordering::Less => installs.push(spec),
            Ordering::Greater => downgrades.push(spec),
            Ordering::Equal => {}
        }
    }
    if !installs.is_empty() {
        run_checked(runner, &family.install(&installs), at)?;
    }
    if !downgrades.is_empty() {
        run_checked(runner, &family.downgrade(&downgrades), at)?;
    }
    Ok(())
}

/// Runs `cmd`; a failure is an error at `at`.
pub fn run_checked(runner: &mut dyn Runner, cmd: &Cmd, at: &str) -> Result<(), InitError> {
    tracing::info!(at, command = %cmd.display(), "running");
    let outcome = runner.run(cmd).map_err(|source| InitError::Run {
        at: at.to_string(),
        source,
    })?;
    if outcome.success() {
        Ok(())
    } else {
        Err(InitError::failed(at, &cmd.display(), &outcome))
    }
}

/// Upstream's `compare_rpm_versions`: an empty side is older.
pub fn rpm_compare(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (false, false) => rpm_vercmp(a, b),
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (true, true) => Ordering::Equal,
    }
}

/// rpm's `rpmvercmp`: alternating numeric and alphabetic segments, separators ignored,
/// `~` sorting before everything, numbers newer than letters.
pub fn rpm_vercmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~';
    loop {
        while let Some((&c, rest)) = a.split_first()
            && sep(c)
        {
            a = rest;
        }
        while let Some((&c, rest)) = b.split_first()
            && sep(c)
        {
            b = rest;
        }
        match (a.first(), b.first()) {
            (Some(b'~'), Some(b'~')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            _ => {}
        }
        let numeric = a[0].is_ascii_digit();
        let take = |s: &[u8]| {
            s.iter()
                .take_while(|c| {
                    if numeric {
                        c.is_ascii_digit()
                    } else {
                        c.is_ascii_alphabetic()
                    }
                })
                .count()
        };
        let (la, lb) = (take(a), take(b));
        if lb == 0 {
            // Different kinds of segment: a number is newer.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[..la], &b[..lb]);
        let ord = if numeric {
            let strip = |s: &[u8]| {
                let n = s.iter().take_while(|c| **c == b'0').count();
                s[n..].to_vec()
            };
            let (x, y) = (strip(sa), strip(sb));
            x.len().cmp(&y.len()).then_with(|| x.cmp(&y))
        } else {
            sa.cmp(sb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        a = &a[la..];
        b = &b[lb..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::run::FakeRunner;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn managers_run_in_upstream_order() {
        let p = map(
            json!({"zypper": {}, "Python": {}, "apt": {}, "dnf": {}, "rubygems": {}, "dpkg": {}, "yum": {}}),
        );
        assert_eq!(
            manager_order(&p),
            ["dpkg", "apt", "yum", "dnf", "Python", "rubygems", "zypper"]
        );
    }

    #[test]
    fn apt_installs_all_names_noninteractively() {
        let mut r = FakeRunner::default();
        apply(
            &map(json!({"apt": {"nginx": [], "curl": "7.0"}})),
            "P",
            &mut r,
        )
        .unwrap();
        assert_eq!(r.lines(), ["apt-get -y install nginx curl"]);
        let cmd = apt_command(&[]);
        assert_eq!(
            cmd.env,
            [("DEBIAN_FRONTEND".to_string(), "noninteractive".to_string())]
        );
    }

    #[test]
    fn yum_checks_installed_and_available_then_batches() {
        let mut r = FakeRunner::default();
        r.answer("rpm -q httpd", 1, "");
        r.answer(
            "rpm -q --queryformat %{VERSION}-%{RELEASE} mysql",
            0,
            "5.5-1",
        );
        r.answer("rpm -q mysql-", 1, "");
        r.answer("rpm -q --queryformat %{VERSION}-%{RELEASE} php", 0, "5.4-1");
        r.answer("rpm -q php-", 1, "");
        r.answer("rpm -q gone", 1, "");
        r.answer("yum -y --showduplicates list available gone", 1, "");
        apply(
            &map(json!({"yum": {
                "httpd": [],
                "installed": [],
                "mysql": ["5.1", "5.6"],
                "php": "5.3",
                "gone": [],
            }})),
            "P",
            &mut r,
        )
        .unwrap();
        let lines = r.lines();
        assert_eq!(lines[0], "which yum");
        assert!(lines.contains(&"yum -y --showduplicates list available httpd".to_string()));
        assert_eq!(
            &lines[lines.len() - 2..],
            ["yum -y install httpd mysql-5.6", "yum -y downgrade php-5.3"]
        );
        assert!(!lines.iter().any(|l| l.contains("available installed")));
    }

    #[test]
    fn yum_falls_back_to_dnf_and_zypper_has_its_own_verbs() {
        let mut r = FakeRunner::default();
        r.answer("which yum", 1, "");
        r.answer("rpm -q", 1, "");
        apply(&map(json!({"yum": {"httpd": []}})), "P", &mut r).unwrap();
        assert_eq!(
            r.lines(),
            [
                "which yum",
                "rpm -q httpd",
                "dnf -y --showduplicates list available httpd",
                "dnf -y --best install httpd"
            ]
        );
        let mut r = FakeRunner::default();
        r.answer("rpm -q", 1, "");
        apply(&map(json!({"zypper": {"vim": []}})), "P", &mut r).unwrap();
        assert_eq!(
            &r.lines()[1..],
            ["zypper -n --no-refresh search vim", "zypper -n install vim"]
        );
        assert_eq!(
            Rpm::Zypper.downgrade(&["a-1".into()]).display(),
            "zypper -n install --oldpackage a-1"
        );
    }

    #[test]
    fn gems_and_python_one_command_each() {
        let mut r = FakeRunner::default();
        apply(
            &map(json!({"rubygems": {"rails": ["4.0"], "rake": []}, "python": {"boto": []}})),
            "P",
            &mut r,
        )
        .unwrap();
        assert_eq!(
            r.lines(),
            [
                "easy_install boto",
                "gem install -b -y --version 4.0 rails",
                "gem install -b -y rake"
            ]
        );
    }

    #[test]
    fn a_failed_install_names_the_manager() {
        let mut r = FakeRunner::default();
        r.answer("apt-get", 100, "");
        let e = apply(&map(json!({"apt": {"x": []}})), "I.config.packages", &mut r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "I.config.packages.apt: apt-get -y install x exited with status 100"
        );
        let e = apply(&map(json!({"apt": {"x": {"a": 1}}})), "P", &mut r).unwrap_err();
        assert!(
            e.to_string().starts_with("P.apt.x: versions must be"),
            "{e}"
        );
    }

    #[test]
    fn rpm_versions_compare_as_rpm() {
        use Ordering::*;
        for (a, b, want) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.1", Less),
            ("2.2.22-1.fc16", "2.2-1", Greater),
            ("1.10", "1.9", Greater),
            ("1.0a", "1.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.a", "1.1", Less),
            ("010", "10", Equal),
        ] {
            assert_eq!(rpm_vercmp(a, b), want, "{a} vs {b}");
        }
        assert_eq!(rpm_compare("", "1"), Less);
        let p = Package {
            name: "x".into(),
            versions: vec!["2.2".into(), "2.2.22-1.fc16".into(), "2.0".into()],
        };
        assert_eq!(p.newest(), Some("2.2.22-1.fc16"));
    }
}
