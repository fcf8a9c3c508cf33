//! `services`: `{sysvinit|systemd: {name: {enabled, ensureRunning}}}`. With `systemctl`
//! on `PATH`: `systemctl enable|disable|start|stop|status <name>.service`; otherwise
//! `service <name> start|stop|status` with `chkconfig <name> on|off` when it is on `PATH`,
//! else `update-rc.d <name> enable|disable`. (Upstream checks fixed paths such as
//! `/bin/systemctl`; looking on `PATH` finds the same tools and lets tests use fakes.)
//! Other managers are skipped with a warning, as upstream. Unlike upstream, a failing
//! enable, start or stop stops cfn-init.

use serde_json::{Map, Value};

use super::packages::run_checked;
use super::{InitError, kind, to_boolean};
use crate::cfn::run::{Cmd, Runner};

/// The service tools present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tools {
    /// `systemctl` is on `PATH`.
    pub systemctl: bool,
    /// `chkconfig` is on `PATH` (used without systemctl).
    pub chkconfig: bool,
}

impl Tools {
    /// Looks the tools up.
    pub fn detect(runner: &dyn Runner) -> Self {
        Tools {
            systemctl: runner.on_path("systemctl"),
            chkconfig: runner.on_path("chkconfig"),
        }
    }
}

/// An action on a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start at boot.
    Enable,
    /// Do not start at boot.
    Disable,
    /// Start now.
    Start,
    /// Stop now.
    Stop,
    /// Is it running (exit 0)?
    Status,
}

/// The command for `action` on `service`.
pub fn command(tools: Tools, service: &str, action: Action) -> Cmd {
    use Action::*;
    if tools.systemctl {
        let verb = match action {
            Enable => "enable",
            Disable => "disable",
            Start => "start",
            Stop => "stop",
            Status => "status",
        };
        return Cmd::new(&["systemctl", verb, &format!("{service}.service")]);
    }
    match action {
        Start => Cmd::new(&["service", service, "start"]),
        Stop => Cmd::new(&["service", service, "stop"]),
        Status => Cmd::new(&["service", service, "status"]),
        Enable if tools.chkconfig => Cmd::new(&["chkconfig", service, "on"]),
        Disable if tools.chkconfig => Cmd::new(&["chkconfig", service, "off"]),
        Enable => Cmd::new(&["update-rc.d", service, "enable"]),
        Disable => Cmd::new(&["update-rc.d", service, "disable"]),
    }
}

/// One service: where it is, its name, its properties.
type Entry<'a> = (String, &'a str, &'a Map<String, Value>);

/// The services of each known manager.
fn entries<'a>(services: &'a Map<String, Value>, at: &str) -> Result<Vec<Entry<'a>>, InitError> {
    let mut out = Vec::new();
    for (manager, list) in services {
        let here = format!("{at}.{manager}");
        if manager != "sysvinit" && manager != "systemd" {
            tracing::warn!(at = %here, "skipping the unknown service manager {manager:?}");
            continue;
        }
        let list = match list {
            Value::Object(m) => m,
            Value::Null => continue,
            other => {
                return Err(InitError::invalid(
                    &here,
                    format!("must be a map, not {}", kind(other)),
                ));
            }
        };
        for (name, props) in list {
            let at = format!("{here}.{name}");
            match props {
                Value::Object(p) => out.push((at, name.as_str(), p)),
                other => {
                    return Err(InitError::invalid(
                        &at,
                        format!("must be a map, not {}", kind(other)),
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn is_running(
    runner: &mut dyn Runner,
    tools: Tools,
    name: &str,
    at: &str,
) -> Result<bool, InitError> {
    runner
        .run(&command(tools, name, Action::Status))
        .map(|o| o.success())
        .map_err(|source| InitError::Run {
            at: at.to_string(),
            source,
        })
}

/// Enables, disables, starts and stops services as asked.
pub fn apply(
    services: &Map<String, Value>,
    at: &str,
    runner: &mut dyn Runner,
) -> Result<(), InitError> {
    let tools = Tools::detect(runner);
    for (here, name, props) in entries(services, at)? {
        if let Some(enabled) = props.get("enabled") {
            let action = if to_boolean(enabled) {
                Action::Enable
            } else {
                Action::Disable
            };
            run_checked(runner, &command(tools, name, action), &here)?;
        }
        if let Some(ensure) = props.get("ensureRunning") {
            let want = to_boolean(ensure);
            let running = is_running(runner, tools, name, &here)?;
            if want && !running {
                run_checked(runner, &command(tools, name, Action::Start), &here)?;
            } else if !want && running {
                run_checked(runner, &command(tools, name, Action::Stop), &here)?;
            }
        }
    }
    Ok(())
}

/// cfn-hup's monitoring: starts every `ensureRunning` service that is not running;
/// returns the services it (tried to) restart, for `service.restarted` hooks.
pub fn monitor(
    services: &Map<String, Value>,
    at: &str,
    runner: &mut dyn Runner,
) -> Result<Vec<String>, InitError> {
    let tools = Tools::detect(runner);
    let mut restarted = Vec::new();
    for (here, name, props) in entries(services, at)? {
        if !props.get("ensureRunning").is_some_and(to_boolean) {
            continue;
        }
        if is_running(runner, tools, name, &here)? {
            continue;
        }
        tracing::warn!(at = %here, "service {name} is not running; starting it");
        if let Err(e) = run_checked(runner, &command(tools, name, Action::Start), &here) {
            // As upstream: the hooks still hear of it.
            tracing::warn!("{e}");
        }
        restarted.push(name.to_string());
    }
    Ok(restarted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::run::FakeRunner;
    use serde_json::json;

    #[test]
    fn argv_per_tool_set() {
        let systemd = Tools {
            systemctl: true,
            chkconfig: true,
        };
        let chk = Tools {
            systemctl: false,
            chkconfig: true,
        };
        let deb = Tools {
            systemctl: false,
            chkconfig: false,
        };
        assert_eq!(
            command(systemd, "nginx", Action::Enable).display(),
            "systemctl enable nginx.service"
        );
        assert_eq!(
            command(systemd, "nginx", Action::Status).display(),
            "systemctl status nginx.service"
        );
        assert_eq!(
            command(chk, "nginx", Action::Enable).display(),
            "chkconfig nginx on"
        );
        assert_eq!(
            command(chk, "nginx", Action::Disable).display(),
            "chkconfig nginx off"
        );
        assert_eq!(
            command(chk, "nginx", Action::Start).display(),
            "service nginx start"
        );
        assert_eq!(
            command(deb, "nginx", Action::Enable).display(),
            "update-rc.d nginx enable"
        );
        assert_eq!(
            command(deb, "nginx", Action::Stop).display(),
            "service nginx stop"
        );
    }

    #[test]
    fn ensure_running_starts_or_stops_by_status() {
        let mut r = FakeRunner {
            present: vec!["systemctl".into()],
            ..Default::default()
        };
        r.answer("systemctl status down.service", 3, "");
        let services = json!({"systemd": {
            "down": {"enabled": "true", "ensureRunning": "true"},
            "up": {"enabled": false, "ensureRunning": false},
        }, "windows": {"x": {}}});
        apply(services.as_object().unwrap(), "S", &mut r).unwrap();
        assert_eq!(
            r.lines(),
            [
                "systemctl enable down.service",
                "systemctl status down.service",
                "systemctl start down.service",
                "systemctl disable up.service",
                "systemctl status up.service",
                "systemctl stop up.service",
            ]
        );
        let mut r = FakeRunner::default();
        r.answer("service a status", 1, "");
        let restarted = monitor(
            services.as_object().unwrap(),
            "S",
            &mut FakeRunner::default(),
        )
        .unwrap();
        assert!(restarted.is_empty());
        let s = json!({"sysvinit": {"a": {"ensureRunning": true}, "b": {"ensureRunning": true}}});
        assert_eq!(monitor(s.as_object().unwrap(), "S", &mut r).unwrap(), ["a"]);
        assert_eq!(
            r.lines(),
            ["service a status", "service a start", "service b status"]
        );
        let e = apply(json!({"sysvinit": []}).as_object().unwrap(), "S", &mut r).unwrap_err();
        assert_eq!(e.to_string(), "S.sysvinit: must be a map, not a list");
    }
}
