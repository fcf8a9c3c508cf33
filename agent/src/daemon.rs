//! The agent loop: poll the metadata, run each new deployment once, deliver its signal.
//!
//! Per deployment, in document order: record it, run its hook, store the payload, deliver
//! the signal, mark it signalled (see [`crate::state`]). In daemon mode each signal is
//! delivered by its own task that retries until the server acknowledges, so a server that
//! is down never stops the agent from picking up new metadata; `--one-time` delivers inline
//! with a bounded number of attempts.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use updraft_hooks::hook::{HookOutcome, run_deployment};
use updraft_hooks::{Deployment, SignalPayload};

use crate::backoff::{Backoff, BackoffPolicy};
use crate::collectors::request::{Change, FetchError, RequestCollector};
use crate::config::AgentConfig;
use crate::http::{self, ClientError};
use crate::notify::{Notifier, RetryLimit, SignalTarget};
use crate::shutdown;
use crate::state::{Progress, SignalMarker, StateDir, StateError, interrupted_payload};

/// Shortest time between the starts of two polls that found nothing new when the server
/// long-polls, so a server that answers at once cannot make the agent spin.
pub const MIN_POLL_GAP: Duration = Duration::from_millis(200);

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
    collector: RequestCollector,
    notifier: Notifier,
    in_flight: InFlight,
    tasks: JoinSet<()>,
}

impl Agent {
    /// Opens the state (settling hooks a previous process left interrupted) and the client.
    async fn start(config: AgentConfig) -> Result<Self, AgentError> {
        let state = StateDir::open(&config.state_dir)?;
        state.recover_interrupted().await?;
        let client = http::client()?;
        let collector = RequestCollector::new(client.clone(), &config.metadata_url)?;
        let notifier = Notifier::new(
            client,
            BackoffPolicy::for_poll_interval(config.poll_interval),
        );
        Ok(Agent {
            config,
            state,
            collector,
            notifier,
            in_flight: InFlight::default(),
            tasks: JoinSet::new(),
        })
    }

    /// Acts on each deployment in order; returns the problems met (already logged).
    async fn process(&mut self, deployments: &[Deployment], delivery: Delivery) -> Vec<String> {
        let mut problems = Vec::new();
        for deployment in deployments {
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
                tracing::info!(id = %d.id, name = %d.name, "re-delivering pending signal");
                self.state
                    .read_notify(&d.id)
                    .await
                    .map_err(|e| e.to_string())?
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
                tracing::warn!(id = %d.id, name = %d.name, "{transport} is not supported by this agent yet; the deployment is not signalled");
                return mark(SignalMarker::UnsupportedTransport {
                    transport: transport.to_string(),
                })
                .await;
            }
            SignalTarget::Url(signal) => signal,
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
    let deployments = match fetched.change {
        Change::Document(doc) => doc.deployments,
        Change::Unchanged => Vec::new(),
    };
    let problems = agent.process(&deployments, Delivery::Inline).await;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AgentError::Incomplete(problems))
    }
}

/// Daemon mode: poll until SIGTERM/Ctrl-C. Stopping interrupts a running hook (its
/// process group is killed); the state files make the next start report it failed rather
/// than run it twice. Unsettled signals are re-delivered on the next start.
pub async fn run(config: AgentConfig) -> Result<(), AgentError> {
    let mut agent = Agent::start(config).await?;
    let poll_interval = agent.config.poll_interval;
    let long_poll = agent.config.long_poll;
    let mut backoff = Backoff::new(BackoffPolicy::for_poll_interval(poll_interval));
    let mut current: Option<Vec<Deployment>> = None;
    let stop = shutdown::requested();
    tokio::pin!(stop);
    tracing::info!(url = agent.collector.shown_url(), "agent started");

    loop {
        let started = Instant::now();
        let fetched = tokio::select! {
            () = &mut stop => break,
            fetched = agent.collector.fetch(long_poll) => fetched,
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
                if let Change::Document(doc) = fetched.change {
                    let ids =
                        |ds: &[Deployment]| ds.iter().map(|d| d.id.clone()).collect::<Vec<_>>();
                    if current.as_deref().map(ids) != Some(ids(&doc.deployments)) {
                        tracing::info!(deployments = doc.deployments.len(), "new metadata");
                    }
                    current = Some(doc.deployments);
                }
                if let Some(deployments) = &current {
                    tokio::select! {
                        () = &mut stop => break,
                        _ = agent.process(deployments, Delivery::Background) => {}
                    }
                }
                if changed {
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
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    agent.tasks.abort_all();
    tracing::info!("agent stopped");
    Ok(())
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
