//! Runs a graph of resource actions: each node starts once the nodes it waits for are done,
//! independent nodes run concurrently up to a limit, and the first failure stops the rest.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;

use tokio::task::JoinSet;

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
    // Only `limit` nodes are started at a time; the rest wait as names in `ready`, so a
    // 10,000-member group holds 16 resource futures in memory, not 10,000.
    let limit = limit.max(1);
    let mut ready: VecDeque<String> = nodes
        .iter()
        .filter(|n| pending.get(*n) == Some(&0))
        .cloned()
        .collect();
    let mut set: JoinSet<(String, Result<(), String>)> = JoinSet::new();
    let mut running: HashSet<String> = HashSet::new();
    loop {
        while running.len() < limit {
            let Some(name) = ready.pop_front() else { break };
            let fut = act(name.clone());
            running.insert(name.clone());
            set.spawn(async move { (name, fut.await) });
        }
        let Some(joined) = set.join_next().await else {
            break;
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
    use std::sync::{Arc, Mutex};

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
