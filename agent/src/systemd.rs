//! systemd integration (`Type=notify`): readiness, watchdog pings, reload and stop
//! notices. Every call is a no-op when `NOTIFY_SOCKET` is unset, i.e. outside systemd.
//!
//! Failures to notify are logged at debug and otherwise ignored: the agent's work never
//! depends on the service manager hearing from it.

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    if let Err(err) = sd_notify::notify(states) {
        tracing::debug!("cannot notify systemd: {err}");
    }
}

/// `READY=1` with a status line: start-up is over and the agent polls.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// `STATUS=…`: what the agent is doing, shown by `systemctl status`.
pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// `RELOADING=1` (with `MONOTONIC_USEC`, as `Type=notify-reload` wants); follow with
/// [`ready`] once reloaded.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// `STOPPING=1`.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// The interval between watchdog pings: half of `WATCHDOG_USEC`, when systemd set one
/// for this process.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .filter(|timeout| !timeout.is_zero())
        .map(|timeout| timeout / 2)
}

/// Spawns a task sending `WATCHDOG=1` every [`watchdog_interval`], if the watchdog is on.
/// It runs on the agent's runtime, so a wedged runtime stops the pings; hooks may run far
/// longer than the watchdog timeout, so the pings cannot come from the poll loop itself.
pub fn spawn_watchdog() -> Option<tokio::task::JoinHandle<()>> {
    let interval = watchdog_interval()?;
    tracing::debug!(
        interval_ms = interval.as_millis() as u64,
        "systemd watchdog enabled"
    );
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        loop {
            ticks.tick().await;
            send(&[NotifyState::Watchdog]);
        }
    }))
}
