//! Runs a graph of resource actions: each node starts once the nodes it waits for are done,
//! independent nodes run concurrently up to a limit, and the first failure stops the rest.
//!
//! The limit counts nodes that *work*: a node waiting for something outside the engine (a
//! deployment's or wait condition's signal) gives its slot back while it waits
//! ([`idle_while`]). Otherwise 16 waiting deployments or wait conditions would hold every
//! slot and the servers whose agents send those signals would never be created.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// The slot a running node holds, reachable from inside its future.
struct Slot {
    slots: Arc<Semaphore>,
    permit: Mutex<Option<OwnedSemaphorePermit>>,
}

tokio::task_local! {
    static SLOT: Arc<Slot>;
}

/// Awaits `wait` (a wait on something outside the engine) with this node's slot given back,
/// so other nodes of the graph can run meanwhile; takes a slot again before returning.
/// Outside a graph run it simply awaits `wait`.
pub async fn idle_while<T>(wait: impl Future<Output = T>) -> T {
    let Ok(slot) = SLOT.try_with(Arc::clone) else {
        return wait.await;
    };
    let released = slot.permit.lock().ok().and_then(|mut p| p.take());
    let was_held = released.is_some();
    drop(released);
    let out = wait.await;
    if was_held
        && let Ok(permit) = slot.slots.clone().acquire_owned().await
        && let Ok(mut p) = slot.permit.lock()
    {
        *p = Some(permit);
    }
    out
}

/// How a graph run ended badly.
#[derive(Debug)]
pub struct GraphFailure {
    /// The node that failed first.
    pub node: String,
    /// Its failure reason.
    pub reason: String,
    /// Nodes that were still running and were stopped.
    pub stopped: Vec<String>,
}

/// Runs `act` for every node, respecting `waits_for` (node → nodes that must finish first).
pub async fn run_graph<F, Fut>(
    nodes: &[String],
    waits_for: &HashMap<String, Vec<String>>,
    limit: usize,
    act: F,
) -> Result<(), GraphFailure>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let node_set: HashSet<&String> = nodes.iter().collect();
    let mut pending: HashMap<String, usize> = HashMap::new();
    let mut dependents: HashMap<String, Vec<String>> = HashMap::new();
    for n in nodes {
        let deps: Vec<&String> = waits_for
            .get(n)
            .map(|d| d.iter().filter(|x| node_set.contains(x)).collect())
            .unwrap_or_default();
        pending.insert(n.clone(), deps.len());
        for d in deps {
            dependents.entry(d.clone()).or_default().push(n.clone());
        }
    }
    // Only `limit` nodes work at a time; the rest wait as names in `ready`, so a
    // 10,000-member group holds 16 resource futures in memory, not 10,000.
    let slots = Arc::new(Semaphore::new(limit.max(1)));
    let mut ready: VecDeque<String> = nodes
        .iter()
        .filter(|n| pending.get(*n) == Some(&0))
        .cloned()
        .collect();
    let mut set: JoinSet<(String, Result<(), String>)> = JoinSet::new();
    let mut running: HashSet<String> = HashSet::new();
    loop {
        // Start ready nodes while slots are free; otherwise wait for a node to end or for
        // a slot to be given back by a node that went idle.
        let joined = if ready.is_empty() {
            match set.join_next().await {
                Some(joined) => joined,
                None => break,
            }
        } else {
            tokio::select! {
                biased;
                Some(joined) = set.join_next() => joined,
                permit = slots.clone().acquire_owned() => {
                    let Ok(permit) = permit else { break };
                    if let Some(name) = ready.pop_front() {
                        let fut = act(name.clone());
                        running.insert(name.clone());
                        let slot = Arc::new(Slot {
                            slots: slots.clone(),
                            permit: Mutex::new(Some(permit)),
                        });
                        set.spawn(SLOT.scope(slot, async move { (name, fut.await) }));
                    }
                    continue;
                }
            }
        };
        let (name, result) = match joined {
            Ok(r) => r,
            Err(e) => {
                set.abort_all();
                return Err(GraphFailure {
                    node: String::new(),
                    reason: format!("internal error: a resource task ended abnormally: {e}"),
                    stopped: running.into_iter().collect(),
                });
            }
        };
        running.remove(&name);
        if let Err(reason) = result {
            set.abort_all();
            while set.join_next().await.is_some() {}
            return Err(GraphFailure {
                node: name,
                reason,
                stopped: running.into_iter().collect(),
            });
        }
        for dependent in dependents.get(&name).cloned().unwrap_or_default() {
            if let Some(count) = pending.get_mut(&dependent) {
                *count -= 1;
                if *count == 0 {
                    ready.push_back(dependent);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn idle_nodes_give_their_slot_to_the_nodes_they_wait_on() {
        // 20 "wait conditions" that only end once the 20 "servers" have run, with 16 slots:
        // without idle_while the waiters would hold every slot forever.
        let mut nodes: Vec<String> = (0..20).map(|i| format!("a-wait{i}")).collect();
        nodes.extend((0..20).map(|i| format!("b-server{i}")));
        let servers_done = Arc::new(AtomicUsize::new(0));
        let working = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let no_deps = HashMap::new();
        let run = run_graph(&nodes, &no_deps, 16, |name| {
            let (done, working, most) = (servers_done.clone(), working.clone(), most.clone());
            async move {
                let now = working.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                if name.starts_with("a-wait") {
                    working.fetch_sub(1, Ordering::SeqCst);
                    idle_while(async {
                        while done.load(Ordering::SeqCst) < 20 {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    })
                    .await;
                    working.fetch_add(1, Ordering::SeqCst);
                } else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    done.fetch_add(1, Ordering::SeqCst);
                }
                working.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            }
        });
        tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("the graph deadlocked")
            .unwrap();
        assert!(
            most.load(Ordering::SeqCst) <= 16,
            "{}",
            most.load(Ordering::SeqCst)
        );
    }

    #[tokio::test]
    async fn respects_order_and_stops_on_failure() {
        let nodes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let waits = HashMap::from([("c".to_string(), vec!["a".to_string(), "b".to_string()])]);
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        run_graph(&nodes, &waits, 4, move |n| {
            let l = l.clone();
            async move {
                l.lock().unwrap().push(n);
                Ok(())
            }
        })
        .await
        .unwrap();
        let log = log.lock().unwrap().clone();
        assert_eq!(log.last().map(String::as_str), Some("c"));
        let err = run_graph(&nodes, &waits, 4, |n| async move {
            if n == "b" {
                Err("boom".to_string())
            } else {
                Ok(())
            }
        })
        .await
        .unwrap_err();
        assert_eq!((err.node.as_str(), err.reason.as_str()), ("b", "boom"));
    }
}
