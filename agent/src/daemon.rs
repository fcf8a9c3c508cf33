//! The agent loop: poll the metadata, run each new deployment once, deliver its signal.
//!
//! Per deployment, in document order: record it, run its hook, store the payload, deliver
//! the signal, mark it signalled (see [`crate::state`]). After each document the agent
//! follows its `os-collect-config` section: when that names another collector, or other
//! settings for it, the next poll uses them (and they are saved in the state directory). In daemon mode each signal is
//! delivered by its own task that retries until the server acknowledges, so a server that
//! is down never stops the agent from picking up new metadata; `--one-time` delivers inline
//! with a bounded number of attempts.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use updraft_hooks::hook::{HookOutcome, run_deployment};
use updraft_hooks::{Deployment, SignalPayload};

use crate::backoff::{Backoff, BackoffPolicy};
use crate::collectors::saved::{self, Saved};
use crate::collectors::settings::SettingsError;
use crate::collectors::{Change, Collector, CollectorSettings, FetchError};
use crate::config::AgentConfig;
use crate::http::{self, ClientError};
use crate::metadata::MetadataDocument;
use crate::notify::{Notifier, RetryLimit, SignalTarget};
use crate::shutdown::{self, Reloads};
use crate::state::{
    Progress, SignalMarker, StateDir, StateError, interrupted_payload, unreadable_payload,
};
use crate::systemd;

/// Shortest time between the starts of two polls that found nothing new when the server
/// long-polls, so a server that answers at once cannot make the agent spin.
pub const MIN_POLL_GAP: Duration = Duration::from_millis(200);

/// On a stop request, the longest wait for in-flight signals (within the stop grace).
pub const SIGNAL_DRAIN: Duration = Duration::from_secs(5);

/// Why the agent stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The state directory is unusable.
    #[error(transparent)]
    State(#[from] StateError),
    /// The metadata could not be fetched (`--one-time`) or the URL is invalid.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The collector options are unusable.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Neither the command line nor the state directory names a collector.
    #[error(
        "no collector configured: give --metadata-url, the --cfn-… options or the --heat-… options"
    )]
    NoCollector,
    /// `--one-time` finished, but not everything went through.
    #[error("{}", summarise(.0))]
    Incomplete(Vec<String>),
}

fn summarise(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => format!("{} problems: {}", many.len(), many.join("; ")),
    }
}

/// How signals are delivered in a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// In the cycle, with [`RetryLimit::ONE_TIME`].
    Inline,
    /// In a spawned task per signal, with [`RetryLimit::DAEMON`].
    Background,
}

/// Ids whose signal a background task is delivering.
#[derive(Debug, Clone, Default)]
struct InFlight(Arc<Mutex<HashSet<String>>>);

/// Holds an id in [`InFlight`] until dropped (also when its task is aborted).
struct Claim {
    set: InFlight,
    id: String,
}

impl InFlight {
    fn contains(&self, id: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
    }

    fn claim(&self, id: &str) -> Option<Claim> {
        let fresh = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_string());
        fresh.then(|| Claim {
            set: self.clone(),
            id: id.to_string(),
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.set
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// `deployment <name> (<id>)`, for messages.
fn label(d: &Deployment) -> String {
    format!("deployment {} ({})", d.name, d.id)
}

/// A running agent.
struct Agent {
    config: AgentConfig,
    state: StateDir,
    client: reqwest::Client,
    /// The settings in effect (saved in the state directory).
    saved: Saved,
    collector: Collector,
    /// The last problem met reading a document's collector section (warned once).
    section_problem: Option<String>,
    notifier: Notifier,
    in_flight: InFlight,
    tasks: JoinSet<()>,
    /// Set once a stop was requested: no further deployment is started.
    stopping: Arc<AtomicBool>,
}

impl Agent {
    /// Opens the state (settling hooks a previous process left interrupted) and the client.
    async fn start(config: AgentConfig) -> Result<Self, AgentError> {
        let state = StateDir::open(&config.state_dir)?;
        state.recover_interrupted().await?;
        let client = http::client()?;
        let on_disk = match saved::load(&config.state_dir).await {
            // The command line names a collector: a corrupt saved copy is only replaced.
            Err(err @ StateError::Corrupt { .. }) if config.collector.is_some() => {
                tracing::warn!("{err}; replacing it with the collector the command line names");
                None
            }
            other => other?,
        };
        let chosen = saved::choose(config.collector.as_ref(), on_disk.clone())
            .ok_or(AgentError::NoCollector)?;
        if on_disk.as_ref() != Some(&chosen) {
            saved::store(&config.state_dir, &chosen).await?;
        } else if config.collector.as_ref() != Some(&chosen.settings) {
            tracing::info!(
                collector = chosen.settings.summary(),
                "using the collector saved by an earlier run"
            );
        }
        let collector = Collector::new(client.clone(), &chosen.settings)?;
        let notifier = Notifier::new(
            client.clone(),
            BackoffPolicy::for_poll_interval(config.poll_interval),
        );
        Ok(Agent {
            config,
            state,
            client,
            saved: chosen,
            collector,
            section_problem: None,
            notifier,
            in_flight: InFlight::default(),
            tasks: JoinSet::new(),
            stopping: Arc::default(),
        })
    }

    /// Follows the document's `os-collect-config` section: switches to the collector it
    /// names when that differs from the one in effect. Returns whether it switched.
    async fn follow(&mut self, doc: &MetadataDocument) -> bool {
        let Some(section) = &doc.collect_config else {
            return false;
        };
        let wanted = match CollectorSettings::from_section(section) {
            Ok(Some(wanted)) => wanted,
            Ok(None) => return false,
            Err(err) => {
                let problem = err.to_string();
                if self.section_problem.as_ref() != Some(&problem) {
                    tracing::warn!("ignoring the metadata's os-collect-config section: {problem}");
                    self.section_problem = Some(problem);
                }
                return false;
            }
        };
        self.section_problem = None;
        if wanted == self.saved.settings {
            return false;
        }
        let collector = match Collector::new(self.client.clone(), &wanted) {
            Ok(collector) => collector,
            Err(err) => {
                tracing::warn!(
                    collector = wanted.name(),
                    "not switching to the collector the metadata names: {err}"
                );
                return false;
            }
        };
        let next = Saved {
            configured: self.saved.configured.clone(),
            settings: wanted,
        };
        if let Err(err) = saved::store(&self.config.state_dir, &next).await {
            // Still switch: the server moved; a restart would only find the old one again.
            tracing::error!("cannot save the new collector settings: {err}");
        }
        tracing::info!(
            from = self.saved.settings.summary(),
            to = next.settings.summary(),
            "the metadata names another collector; switching to {}",
            next.settings.name()
        );
        self.saved = next;
        self.collector = collector;
        true
    }

    /// The long-poll wait to ask for: only the `request` collector long-polls.
    fn wait(&self) -> Option<Duration> {
        match self.collector {
            Collector::Request(_) => self.config.long_poll,
            _ => None,
        }
    }

    /// Keeps the document for the `apply-config` hook; a failure is logged, not fatal (only
    /// apply-config deployments need it).
    async fn keep_metadata(&self, doc: &MetadataDocument) {
        if let Err(err) = self.state.write_metadata(&doc.content).await {
            tracing::warn!("cannot keep the metadata document for os-apply-config: {err}");
        }
    }

    /// Acts on each deployment in order; returns the problems met (already logged).
    async fn process(&mut self, deployments: &[Deployment], delivery: Delivery) -> Vec<String> {
        // Before the hooks, as heat-agents' 50-heat-config-docker-* run before 55-heat-config.
        let timeout = self.config.hooks.timeout;
        crate::docker_reconcile::cycle(&self.config.state_dir, deployments, timeout).await;
        let mut problems = Vec::new();
        for deployment in deployments {
            if self.stopping.load(Ordering::SeqCst) {
                break;
            }
            let mut deployment = deployment.clone();
            deployment.sanitise_inputs();
            if !deployment.select_component() {
                // As heat-config: not recorded, so a later document can still run it.
                tracing::warn!(id = %deployment.id, name = %deployment.name, action = deployment.action(), "skipping component deployment: no config for its deploy action");
                continue;
            }
            if let Err(problem) = self.process_one(&deployment, delivery).await {
                let problem = format!("{}: {problem}", label(&deployment));
                tracing::error!("{problem}");
                problems.push(problem);
            }
        }
        problems
    }

    async fn process_one(&mut self, d: &Deployment, delivery: Delivery) -> Result<(), String> {
        let progress = self
            .state
            .progress(&d.id)
            .await
            .map_err(|e| e.to_string())?;
        let payload = match progress {
            Progress::Done => return Ok(()),
            Progress::New => match self.run_hook(d).await.map_err(|e| e.to_string())? {
                Some(payload) => payload,
                None => return Ok(()),
            },
            Progress::HookInterrupted => {
                tracing::warn!(id = %d.id, name = %d.name, "hook was interrupted by an agent restart; reporting it failed, not running it again");
                let payload = interrupted_payload();
                self.state
                    .write_notify(&d.id, &payload)
                    .await
                    .map_err(|e| e.to_string())?;
                payload
            }
            Progress::AwaitingSignal => {
                if self.in_flight.contains(&d.id) {
                    return Ok(());
                }
                // A task may have settled it (marker written, then claim released) between
                // the progress read and the in-flight check: read again now that no task
                // holds it.
                if self
                    .state
                    .progress(&d.id)
                    .await
                    .map_err(|e| e.to_string())?
                    == Progress::Done
                {
                    return Ok(());
                }
                tracing::info!(id = %d.id, name = %d.name, "re-delivering pending signal");
                match self.state.read_notify(&d.id).await {
                    Ok(payload) => payload,
                    Err(err @ StateError::Corrupt { .. }) => {
                        // The hook ran: never run it again, but report that its result is lost.
                        tracing::error!(id = %d.id, name = %d.name, "{err}; reporting the deployment failed");
                        let payload = unreadable_payload();
                        self.state
                            .write_notify(&d.id, &payload)
                            .await
                            .map_err(|e| e.to_string())?;
                        payload
                    }
                    Err(err) => return Err(err.to_string()),
                }
            }
        };
        self.signal(d, &payload, delivery).await
    }

    /// Records `d`, runs its hook and stores the payload; `None` when nothing is to be sent.
    async fn run_hook(&self, d: &Deployment) -> Result<Option<SignalPayload>, StateError> {
        tracing::info!(id = %d.id, name = %d.name, group = %d.group, action = d.action(), "running deployment");
        // Recorded before the hook runs: a crash from here on never runs it again.
        self.state.record(d).await?;
        let payload = match run_deployment(d, &self.config.hooks).await {
            HookOutcome::Signal(payload) => payload,
            HookOutcome::NoHook { group, searched } => {
                let dirs: Vec<_> = searched.iter().map(|p| p.display().to_string()).collect();
                let message = format!("no hook for group {group:?}: searched {}", dirs.join(", "));
                tracing::error!(id = %d.id, name = %d.name, "{message}");
                SignalPayload::new("", message, 1)
            }
            HookOutcome::NotSignalled => {
                tracing::info!(id = %d.id, name = %d.name, group = %d.group, "group is never signalled; recorded only");
                self.state
                    .mark_signalled(&d.id, &SignalMarker::NotSignalled)
                    .await?;
                return Ok(None);
            }
        };
        tracing::info!(id = %d.id, name = %d.name, status = ?payload.status_code(), "deployment finished");
        self.state.write_notify(&d.id, &payload).await?;
        Ok(Some(payload))
    }

    /// Sends (or settles) the signal of `d`.
    async fn signal(
        &mut self,
        d: &Deployment,
        payload: &SignalPayload,
        delivery: Delivery,
    ) -> Result<(), String> {
        let mark = |marker: SignalMarker| {
            let state = self.state.clone();
            let id = d.id.clone();
            async move {
                state
                    .mark_signalled(&id, &marker)
                    .await
                    .map_err(|e| e.to_string())
            }
        };
        let target = match SignalTarget::of(d) {
            Ok(target) => target,
            Err(err) => {
                mark(SignalMarker::GaveUp {
                    error: err.to_string(),
                })
                .await?;
                return Err(format!("cannot signal: {err}"));
            }
        };
        let signal = match target {
            SignalTarget::NoSignal => return mark(SignalMarker::NoSignal).await,
            SignalTarget::Unsupported { transport } => {
                tracing::warn!(id = %d.id, name = %d.name, "{transport} is not supported by this agent; the deployment is not signalled (use CFN_SIGNAL, TEMP_URL_SIGNAL or HEAT_SIGNAL)");
                return mark(SignalMarker::UnsupportedTransport {
                    transport: transport.to_string(),
                })
                .await;
            }
            SignalTarget::Send(signal) => signal,
        };
        let body = payload.to_body();
        match delivery {
            Delivery::Inline => {
                match self
                    .notifier
                    .deliver(&signal, &body, RetryLimit::ONE_TIME)
                    .await
                {
                    Ok(status) => {
                        tracing::info!(id = %d.id, name = %d.name, status, "signal delivered");
                        mark(SignalMarker::Delivered {
                            http_status: status,
                        })
                        .await
                    }
                    Err(err) => {
                        if err.is_permanent() {
                            mark(SignalMarker::GaveUp {
                                error: err.to_string(),
                            })
                            .await?;
                        }
                        // A transient failure stays pending: the next run re-delivers it.
                        Err(err.to_string())
                    }
                }
            }
            Delivery::Background => {
                let Some(claim) = self.in_flight.claim(&d.id) else {
                    return Ok(());
                };
                let notifier = self.notifier.clone();
                let state = self.state.clone();
                let (id, name) = (d.id.clone(), d.name.clone());
                self.tasks.spawn(async move {
                    let _claim = claim;
                    let marker = match notifier.deliver(&signal, &body, RetryLimit::DAEMON).await {
                        Ok(status) => {
                            tracing::info!(id = %id, name = %name, status, "signal delivered");
                            SignalMarker::Delivered {
                                http_status: status,
                            }
                        }
                        Err(err) => {
                            tracing::error!(id = %id, name = %name, "giving up: {err}");
                            SignalMarker::GaveUp {
                                error: err.to_string(),
                            }
                        }
                    };
                    if let Err(err) = state.mark_signalled(&id, &marker).await {
                        // Left pending: the next cycle delivers it again (duplicates are harmless).
                        tracing::error!(id = %id, name = %name, "{err}");
                    }
                });
                Ok(())
            }
        }
    }

    /// SIGHUP: re-reads the collector settings saved in the state directory (an operator
    /// may have edited them) and switches to them when they differ from those in effect.
    async fn reload(&mut self) {
        let on_disk = match saved::load(&self.config.state_dir).await {
            Ok(on_disk) => on_disk,
            Err(err) => {
                tracing::error!("SIGHUP: keeping the current collector settings: {err}");
                return;
            }
        };
        let Some(chosen) = saved::choose(self.config.collector.as_ref(), on_disk) else {
            tracing::info!("SIGHUP: no saved collector settings; polling again now");
            return;
        };
        if chosen == self.saved {
            tracing::info!("SIGHUP: collector settings unchanged; polling again now");
            return;
        }
        match Collector::new(self.client.clone(), &chosen.settings) {
            Ok(collector) => {
                tracing::info!(
                    collector = chosen.settings.summary(),
                    "SIGHUP: reloaded the saved collector settings; polling again now"
                );
                self.collector = collector;
                self.saved = chosen;
            }
            Err(err) => {
                tracing::error!("SIGHUP: keeping the current collector settings: {err}");
            }
        }
    }

    /// Gives in-flight signal tasks until `deadline` to finish, then aborts the rest (their
    /// signals stay pending and are delivered on the next start).
    async fn drain(&mut self, deadline: Instant) {
        while !self.tasks.is_empty() {
            match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(
                        pending = self.tasks.len(),
                        "stopping with signals undelivered; they are sent on the next start"
                    );
                    break;
                }
            }
        }
        self.tasks.abort_all();
    }

    /// Collects finished signal tasks.
    fn reap(&mut self) {
        while let Some(done) = self.tasks.try_join_next() {
            if let Err(err) = done
                && err.is_panic()
            {
                tracing::error!("a signal task panicked");
            }
        }
    }
}

/// `--one-time`: one fetch (no long-poll), run new deployments, deliver their signals.
pub async fn run_once(config: AgentConfig) -> Result<(), AgentError> {
    let mut agent = Agent::start(config).await?;
    let fetched = agent.collector.fetch(None).await?;
    let problems = match fetched.change {
        Change::Document(doc) => {
            agent.keep_metadata(&doc).await;
            let problems = agent.process(&doc.deployments, Delivery::Inline).await;
            // Saved for the next run.
            agent.follow(&doc).await;
            problems
        }
        Change::Unchanged => Vec::new(),
    };
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AgentError::Incomplete(problems))
    }
}

/// How one wait of the loop ended.
enum Woken {
    /// SIGTERM or Ctrl-C.
    Stop,
    /// SIGHUP.
    Reload,
}

/// Daemon mode: poll until SIGTERM/Ctrl-C; SIGHUP reloads the saved collector settings
/// and polls again at once.
///
/// On a stop request no new deployment is started; a running hook gets `stop_grace` to
/// finish (its signal too), after which its process group is killed. A killed hook leaves
/// only its record, so the next start reports it failed rather than running it twice;
/// unsettled signals are re-delivered on the next start.
pub async fn run(config: AgentConfig) -> Result<(), AgentError> {
    let mut agent = Agent::start(config).await?;
    let poll_interval = agent.config.poll_interval;
    let grace = agent.config.stop_grace;
    let mut backoff = Backoff::new(BackoffPolicy::for_poll_interval(poll_interval));
    let mut current: Option<Vec<Deployment>> = None;
    let stop = shutdown::requested();
    tokio::pin!(stop);
    let mut reloads = Reloads::listen();
    let watchdog = systemd::spawn_watchdog();
    tracing::info!(
        collector = agent.collector.name(),
        url = agent.collector.shown_url(),
        "agent started"
    );
    // Ready once the state and collector are usable, not after a first good poll: a server
    // that is down at boot must not make systemd fail (and restart) the unit.
    systemd::ready(&format!(
        "polling with the {} collector",
        agent.collector.name()
    ));

    let mut stopped_at = None;
    loop {
        let started = Instant::now();
        let wait = agent.wait();
        let fetched = tokio::select! {
            () = &mut stop => break,
            () = reloads.next() => {
                reload(&mut agent).await;
                continue;
            }
            fetched = agent.collector.fetch(wait) => fetched,
        };
        let pause = match fetched {
            Ok(fetched) => {
                if backoff.failures() > 0 {
                    tracing::info!(after = backoff.failures(), "metadata fetch recovered");
                }
                backoff.reset();
                tracing::debug!(
                    changed = matches!(fetched.change, Change::Document(_)),
                    long_poll = fetched.long_poll_applied,
                    "metadata polled"
                );
                let changed = matches!(fetched.change, Change::Document(_));
                let mut section = None;
                if let Change::Document(doc) = fetched.change {
                    agent.keep_metadata(&doc).await;
                    let ids =
                        |ds: &[Deployment]| ds.iter().map(|d| d.id.clone()).collect::<Vec<_>>();
                    if current.as_deref().map(ids) != Some(ids(&doc.deployments)) {
                        tracing::info!(deployments = doc.deployments.len(), "new metadata");
                    }
                    current = Some(doc.deployments);
                    section = Some(MetadataDocument {
                        collect_config: doc.collect_config,
                        ..MetadataDocument::default()
                    });
                }
                if let Some(deployments) = &current {
                    let stopping = agent.stopping.clone();
                    let work = agent.process(deployments, Delivery::Background);
                    tokio::pin!(work);
                    let interrupted = tokio::select! {
                        () = &mut stop => true,
                        _ = &mut work => false,
                    };
                    if interrupted {
                        stopping.store(true, Ordering::SeqCst);
                        systemd::stopping();
                        let at = Instant::now();
                        stopped_at = Some(at);
                        if tokio::time::timeout_at(at + grace, &mut work)
                            .await
                            .is_err()
                        {
                            // Dropping `work` kills the hook's process group.
                            tracing::warn!(
                                grace_secs = grace.as_secs(),
                                "stop grace over: killed the running hook; its deployment is reported failed on the next start"
                            );
                        } else {
                            tracing::info!("the running hook finished within the stop grace");
                        }
                        break;
                    }
                }
                let switched = match &section {
                    Some(doc) => agent.follow(doc).await,
                    None => false,
                };
                if changed || switched {
                    // More changes are likely on their way (the next deployment of a chain).
                    Duration::ZERO
                } else if fetched.long_poll_applied {
                    MIN_POLL_GAP.saturating_sub(started.elapsed())
                } else {
                    poll_interval
                }
            }
            Err(err) => {
                let delay = backoff.next_delay();
                tracing::warn!(
                    attempt = backoff.failures(),
                    "{err}; retrying in {:.1}s",
                    delay.as_secs_f64()
                );
                delay
            }
        };
        agent.reap();
        let woken = tokio::select! {
            () = &mut stop => Some(Woken::Stop),
            () = reloads.next() => Some(Woken::Reload),
            () = tokio::time::sleep(pause) => None,
        };
        match woken {
            Some(Woken::Stop) => break,
            Some(Woken::Reload) => reload(&mut agent).await,
            None => {}
        }
    }
    let at = match stopped_at {
        Some(at) => at,
        None => {
            systemd::stopping();
            Instant::now()
        }
    };
    // Pending signals are safe on disk: wait for them briefly, not for the whole grace (a
    // server that is down would otherwise hold every stop for the full grace).
    agent
        .drain((at + grace).min(Instant::now() + SIGNAL_DRAIN))
        .await;
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    tracing::info!("agent stopped");
    Ok(())
}

/// SIGHUP, with systemd told about it.
async fn reload(agent: &mut Agent) {
    systemd::reloading();
    agent.reload().await;
    systemd::ready(&format!(
        "polling with the {} collector",
        agent.collector.name()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_claims_are_exclusive_and_released_on_drop() {
        let set = InFlight::default();
        let claim = set.claim("a");
        assert!(claim.is_some());
        assert!(set.claim("a").is_none());
        assert!(set.contains("a"));
        drop(claim);
        assert!(!set.contains("a"));
        assert!(set.claim("a").is_some());
    }

    #[test]
    fn problems_summarise_on_one_line() {
        assert_eq!(summarise(&["x".into()]), "x");
        assert_eq!(summarise(&["x".into(), "y".into()]), "2 problems: x; y");
    }
}
