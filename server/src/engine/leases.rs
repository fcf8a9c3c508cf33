//! Stack leases and resumption: the node running a stack's action holds its lease and
//! renews it; an in-progress stack whose lease lapsed (its node died) or that this node
//! held before a restart is resumed here — at start and then every third of a lease. A
//! node whose stack was taken over (a delete on another node) stops its own work on it.
//!
//! With SQLite there is one node by construction, so its leases are always claimable.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::lifecycle::Prepared;
use super::{Engine, EngineError, events, stack_actions, stored_definition};
use crate::store::{StackRow, now_millis};

impl Engine {
    fn lease_until(&self) -> i64 {
        now_millis() + self.services.node.lease.as_millis() as i64
    }

    /// Takes the stack's lease for this process, whoever held it: called by the API paths
    /// before the stack shows `IN_PROGRESS`, so no other node resumes it meanwhile.
    pub(crate) async fn claim(&self, stack_id: &str) -> Result<(), EngineError> {
        let node = &self.services.node;
        self.services
            .store
            .claim_stack(stack_id, &node.engine_id, self.lease_until(), true)
            .await?;
        Ok(())
    }

    fn running_here(&self, stack_id: &str) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(stack_id)
            .is_some_and(|h| !h.is_finished())
    }

    /// Resumes, at start, every in-progress stack this node may take: with SQLite all of
    /// them (one node by construction), otherwise those held by this node before a restart,
    /// never claimed, or whose lease lapsed. Returns how many were resumed.
    pub async fn resume_interrupted(&self) -> Result<usize, EngineError> {
        self.resume_takeable(true).await
    }

    async fn resume_takeable(&self, startup: bool) -> Result<usize, EngineError> {
        let store = &self.services.store;
        let node = &self.services.node;
        let me = &node.engine_id;
        let now = now_millis();
        let lease_ms = node.lease.as_millis() as i64;
        let mut resumed = 0;
        for lease in store.leases_in_progress().await? {
            if self.running_here(&lease.stack_id) {
                continue;
            }
            let takeable = (startup && store.is_single_node())
                || lease.until < now
                || match &lease.engine_id {
                    // This node before a restart: its work stopped with it.
                    Some(e) => node.is_predecessor(e),
                    // Never claimed: a create between storing and claiming, on some
                    // node; only once it is a lease old.
                    None => lease.created_at_millis + lease_ms < now,
                };
            if !takeable {
                continue;
            }
            if !store
                .claim_stack(&lease.stack_id, me, self.lease_until(), true)
                .await?
            {
                continue;
            }
            let Some(stack) = store.stack(&lease.stack_id).await? else {
                continue;
            };
            if stack.status != "IN_PROGRESS" {
                continue;
            }
            tracing::info!(stack = %stack.name, action = %stack.action, from = ?lease.engine_id, "resuming an interrupted stack action");
            self.resume_stack(&stack).await?;
            resumed += 1;
        }
        Ok(resumed)
    }

    /// Carries on the stack's interrupted action: create, update and rollback converge
    /// again from the stored state (resources mid-action pick up their persisted intent),
    /// delete carries on, suspend/resume/check traverse again.
    async fn resume_stack(&self, stack: &StackRow) -> Result<(), EngineError> {
        match stack.action.as_str() {
            "DELETE" => self.spawn_delete(stack),
            "SUSPEND" | "RESUME" | "CHECK" => {
                if let Some(t) = stack_actions::Traversal::from_action(&stack.action) {
                    self.spawn_traversal(stack, t);
                }
            }
            action @ ("CREATE" | "UPDATE" | "ROLLBACK" | "RESTORE") => {
                match stored_definition(stack) {
                    Ok((template, params)) => {
                        let action = match action {
                            "CREATE" => "CREATE",
                            "UPDATE" => "UPDATE",
                            "RESTORE" => "RESTORE",
                            _ => "ROLLBACK",
                        };
                        let prepared = Prepared {
                            template,
                            params,
                            environment: stack.environment.clone(),
                        };
                        self.spawn_converge(stack, action, prepared);
                    }
                    Err(e) => {
                        let reason = format!("Resource {action} failed: {e}");
                        events::stack_state(
                            &self.services,
                            &stack.id,
                            &stack.name,
                            action,
                            "FAILED",
                            &reason,
                        )
                        .await?;
                    }
                }
            }
            other => {
                let reason = format!("Engine went down during stack {other}");
                events::stack_state(
                    &self.services,
                    &stack.id,
                    &stack.name,
                    other,
                    "FAILED",
                    &reason,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// One round: renew this node's leases, stop work on stacks another node took over,
    /// resume what lapsed.
    async fn lease_round(&self) -> Result<(), EngineError> {
        let store = &self.services.store;
        let me = &self.services.node.engine_id;
        store.renew_leases(me, self.lease_until()).await?;
        self.report_service().await?;
        let ids: Vec<String> = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, h)| !h.is_finished())
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            if let Some(owner) = store.stack_engine(&id).await?
                && &owner != me
            {
                tracing::warn!(stack_id = %id, owner, "another node took this stack over; stopping here");
                self.stop(&id).await;
            }
        }
        self.resume_takeable(false).await?;
        Ok(())
    }

    /// Seconds between this node's reports in `GET /services`: one lease round.
    pub fn report_interval(&self) -> i64 {
        (self.services.node.lease / 3).as_secs().max(1) as i64
    }

    /// Records in the `services` table that this process is alive.
    pub async fn report_service(&self) -> Result<(), EngineError> {
        let node = &self.services.node;
        // The machine's name as the kernel has it (Heat's `hostname`); the node id if unreadable.
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| node.id.clone());
        self.services
            .store
            .report_service(&node.engine_id, &node.id, &hostname, self.report_interval())
            .await?;
        Ok(())
    }

    /// Keeps leases renewed and lapsed stacks resumed until `shutdown`.
    pub fn run_leases(&self, shutdown: CancellationToken) {
        let engine = self.clone();
        let period = (self.services.node.lease / 3).max(Duration::from_millis(200));
        tokio::spawn(async move {
            if let Err(e) = engine.report_service().await {
                tracing::warn!(error = %e, "could not record this node in the services table");
            }
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(period) => {}
                }
                if let Err(e) = engine.lease_round().await {
                    tracing::warn!(error = %e, "stack lease round failed");
                }
            }
        });
    }
}
