//! `groups` (`groupadd g [--gid N]`) and `users` (`useradd u [--uid N] [--home DIR]
//! [--groups a,b] --shell /sbin/nologin`: always nologin, as upstream and AWS).
//!
//! Exit status 9 (the name exists) is not an error, so cfn-init can run again; any other
//! failure stops cfn-init (upstream only logs it), with useradd's/groupadd's meaning of
//! the status in the message.

use serde_json::{Map, Value};

use super::{InitError, kind};
use crate::cfn::run::{Cmd, Runner};

fn properties<'a>(v: &'a Value, at: &str) -> Result<Option<&'a Map<String, Value>>, InitError> {
    match v {
        Value::Object(m) => Ok(Some(m)),
        Value::Null => Ok(None),
        other => Err(InitError::invalid(
            at,
            format!("must be a map, not {}", kind(other)),
        )),
    }
}

/// A number or string property as an argument.
fn id_arg(
    props: Option<&Map<String, Value>>,
    key: &str,
    at: &str,
) -> Result<Option<String>, InitError> {
    match props.and_then(|p| p.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(InitError::invalid(
            &format!("{at}.{key}"),
            format!("must be a number or a string, not {}", kind(other)),
        )),
    }
}

/// `groupadd` for one group.
pub fn group_command(
    name: &str,
    props: Option<&Map<String, Value>>,
    at: &str,
) -> Result<Cmd, InitError> {
    let mut cmd = Cmd::new(&["groupadd", name]);
    if let Some(gid) = id_arg(props, "gid", at)? {
        cmd.args.extend(["--gid".into(), gid]);
    }
    Ok(cmd)
}

/// `useradd` for one user.
pub fn user_command(
    name: &str,
    props: Option<&Map<String, Value>>,
    at: &str,
) -> Result<Cmd, InitError> {
    let mut cmd = Cmd::new(&["useradd", name]);
    if let Some(uid) = id_arg(props, "uid", at)? {
        cmd.args.extend(["--uid".into(), uid]);
    }
    if let Some(home) = id_arg(props, "homeDir", at)? {
        cmd.args.extend(["--home".into(), home]);
    }
    match props.and_then(|p| p.get("groups")) {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            let names = list
                .iter()
                .map(|g| match g {
                    Value::String(s) => Ok(s.as_str()),
                    other => Err(InitError::invalid(
                        &format!("{at}.groups"),
                        format!("a group must be a string, not {}", kind(other)),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if !names.is_empty() {
                cmd.args.extend(["--groups".into(), names.join(",")]);
            }
        }
        Some(other) => {
            return Err(InitError::invalid(
                &format!("{at}.groups"),
                format!("must be a list, not {}", kind(other)),
            ));
        }
    }
    cmd.args.extend(["--shell".into(), "/sbin/nologin".into()]);
    Ok(cmd)
}

fn run_add(runner: &mut dyn Runner, cmd: &Cmd, at: &str, what: &str) -> Result<(), InitError> {
    let outcome = runner.run(cmd).map_err(|source| InitError::Run {
        at: at.to_string(),
        source,
    })?;
    match outcome.status {
        Some(0) => {
            tracing::info!(at, "{what} created");
            Ok(())
        }
        Some(9) => {
            tracing::info!(at, "{what} already exists");
            Ok(())
        }
        _ => {
            let meaning = match (what, outcome.status) {
                (_, Some(2)) => " (invalid syntax)",
                (_, Some(3)) => " (invalid argument)",
                ("group", Some(4)) => " (GID not unique)",
                ("user", Some(4)) => " (UID not unique)",
                ("user", Some(6)) => " (a group does not exist)",
                _ => "",
            };
            let mut err = InitError::failed(at, &cmd.display(), &outcome);
            if let InitError::Failed { status, .. } = &mut err {
                status.push_str(meaning);
            }
            Err(err)
        }
    }
}

/// Creates every group.
pub fn apply_groups(
    groups: &Map<String, Value>,
    at: &str,
    runner: &mut dyn Runner,
) -> Result<(), InitError> {
    for (name, props) in groups {
        let here = format!("{at}.{name}");
        let cmd = group_command(name, properties(props, &here)?, &here)?;
        run_add(runner, &cmd, &here, "group")?;
    }
    Ok(())
}

/// Creates every user.
pub fn apply_users(
    users: &Map<String, Value>,
    at: &str,
    runner: &mut dyn Runner,
) -> Result<(), InitError> {
    for (name, props) in users {
        let here = format!("{at}.{name}");
        let cmd = user_command(name, properties(props, &here)?, &here)?;
        run_add(runner, &cmd, &here, "user")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::run::FakeRunner;
    use serde_json::json;

    #[test]
    fn argv_as_upstream() {
        let p = json!({"uid": 501, "homeDir": "/srv/app", "groups": ["web", "ops"]});
        assert_eq!(
            user_command("app", p.as_object(), "U").unwrap().display(),
            "useradd app --uid 501 --home /srv/app --groups web,ops --shell /sbin/nologin"
        );
        assert_eq!(
            user_command("plain", None, "U").unwrap().display(),
            "useradd plain --shell /sbin/nologin"
        );
        assert_eq!(
            group_command("web", json!({"gid": "45"}).as_object(), "G")
                .unwrap()
                .display(),
            "groupadd web --gid 45"
        );
        assert_eq!(
            group_command("g", None, "G").unwrap().display(),
            "groupadd g"
        );
        let e = user_command("u", json!({"groups": "web"}).as_object(), "U.u").unwrap_err();
        assert_eq!(e.to_string(), "U.u.groups: must be a list, not a string");
    }

    #[test]
    fn an_existing_name_is_fine_other_failures_stop() {
        let mut r = FakeRunner::default();
        r.answer("useradd old", 9, "");
        r.answer("useradd bad", 6, "");
        apply_users(json!({"old": {}}).as_object().unwrap(), "U", &mut r).unwrap();
        let e = apply_users(
            json!({"bad": {"groups": ["x"]}}).as_object().unwrap(),
            "U",
            &mut r,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "U.bad: useradd bad --groups x --shell /sbin/nologin exited with status 6 (a group does not exist)"
        );
        let e = apply_groups(json!({"g": [1]}).as_object().unwrap(), "G", &mut r).unwrap_err();
        assert_eq!(e.to_string(), "G.g: must be a map, not a list");
    }
}
