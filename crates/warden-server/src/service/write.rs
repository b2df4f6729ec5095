//! The write path, with group commit.
//!
//! A write joins its organization's queue and a task drains it: whoever holds the
//! organization's write lock takes everything queued (up to [`MAX_BATCH`]), runs each write in
//! the core against the result of the previous one (each still its own revision, audit events
//! and all-or-nothing outcome), and commits them together in one transaction: one sync to disk
//! for the whole batch. Writers that queued while a commit was in flight form the next batch,
//! so throughput grows with concurrency instead of queueing behind one fsync each.
//!
//! The draining runs in a task of its own: a caller that goes away mid-write (a closed
//! connection drops its future) must not abandon the other writes of the batch it leads, nor
//! leave a commit unpublished.

use std::sync::Arc;

use tokio::sync::oneshot;
use warden_core::command::{Applied, Change, Effect};
use warden_core::{
    Actor, AuditEvent, Command, CommandContext, Executed, OrgId, Timestamp, TokenId, UserId,
};
use warden_store::{Commit, Credential, OutboxItem, StoreError};

use super::context::{self, current_request_id, SystemContext};
use super::{audit, Caller, OrgEntry, Service, ServiceError, Written};

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 256;

/// Attempts at a batch whose organization another server changed meanwhile. Each attempt
/// after a conflict first catches up (one query), so only a storm of writes from other
/// servers to the same organization exhausts them; a client then gets
/// `concurrent_modification`.
const MAX_ATTEMPTS: u32 = 40;

/// A write waiting in its organization's queue.
pub(super) struct WriteRequest {
    actor: Actor,
    /// The token the caller authenticated with: checked again against the state each
    /// write runs on, so a token revoked meanwhile (on this server or another) writes nothing.
    token: Option<TokenId>,
    commands: Vec<Command>,
    /// A password hash (PHC string) for the user the write's first command creates
    /// (accepting an invitation), stored in the commit's transaction.
    password_hash: Option<String>,
    /// The request it came from, for its audit events (the batch runs in another task).
    request_id: String,
    reply: oneshot::Sender<Result<Written, ServiceError>>,
}

/// What the store writes for one accepted write.
type Records<'a> = (Vec<&'a Change>, Vec<AuditEvent>, Vec<OutboxItem>);

/// One write of a batch as the core ran it.
struct Accepted {
    index: usize,
    applied: Vec<Applied>,
    effects: Vec<Effect>,
    revision: u64,
    at: Timestamp,
}

impl Service {
    /// Runs a command for `actor` and commits it; the new snapshot is published before
    /// this returns.
    pub async fn execute(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        command: Command,
    ) -> Result<Written, ServiceError> {
        self.execute_all(org, actor, vec![command])
            .await
            .map_err(|e| match e {
                ServiceError::Batch(batch) => ServiceError::Domain(batch.error),
                other => other,
            })
    }

    /// Runs a command for an API caller: as [`Service::execute`], and only while the token
    /// the caller authenticated with is still valid in the state the command runs on.
    pub async fn execute_for(
        self: &Arc<Self>,
        caller: &Caller,
        command: Command,
    ) -> Result<Written, ServiceError> {
        self.execute_presenting(&caller.org, &caller.actor(), caller.token.clone(), command)
            .await
    }

    /// Runs a command for `actor` as [`Service::execute`]; with `presented` (the token an API
    /// caller authenticated with), only while that token is still valid in the state the
    /// command runs on.
    pub async fn execute_presenting(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        presented: Option<TokenId>,
        command: Command,
    ) -> Result<Written, ServiceError> {
        self.submit(org, actor, presented, vec![command], None)
            .await
            .map_err(|e| match e {
                ServiceError::Batch(batch) => ServiceError::Domain(batch.error),
                other => other,
            })
    }

    /// Runs several commands as one change (one revision, one audit event per command, all
    /// or nothing) and commits it, possibly in one transaction with other writes to the same
    /// organization.
    pub async fn execute_all(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        commands: Vec<Command>,
    ) -> Result<Written, ServiceError> {
        self.submit(org, actor, None, commands, None).await
    }

    /// Runs a command that creates a user (its target) and stores `password_hash` for them in
    /// the same transaction: accepting an invitation.
    pub(super) async fn execute_with_password(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        command: Command,
        password_hash: String,
    ) -> Result<Written, ServiceError> {
        self.submit(org, actor, None, vec![command], Some(password_hash))
            .await
            .map_err(|e| match e {
                ServiceError::Batch(batch) => ServiceError::Domain(batch.error),
                other => other,
            })
    }

    /// Queues a write and waits for its answer.
    async fn submit(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        token: Option<TokenId>,
        commands: Vec<Command>,
        password_hash: Option<String>,
    ) -> Result<Written, ServiceError> {
        let entry = self.entry(org)?;
        let (reply, answer) = oneshot::channel();
        if let Ok(mut queue) = entry.queue.lock() {
            queue.push(WriteRequest {
                actor: actor.clone(),
                token,
                commands,
                password_hash,
                request_id: current_request_id(),
                reply,
            });
        }
        let service = Arc::clone(self);
        let org = org.clone();
        tokio::spawn(async move { service.drain(&org, &entry).await });
        answer.await.unwrap_or_else(|_| {
            Err(ServiceError::Internal(
                "the write was abandoned before it was answered".to_string(),
            ))
        })
    }

    /// Takes the write lock and commits what is queued. Every write spawns one drain, after
    /// queueing, so every write is taken by its own drain or an earlier one.
    async fn drain(&self, org: &OrgId, entry: &OrgEntry) {
        let _write = entry.write_lock.lock().await;
        let batch: Vec<WriteRequest> = match entry.queue.lock() {
            Ok(mut queue) => {
                let n = queue.len().min(MAX_BATCH);
                queue.drain(..n).collect()
            }
            Err(_) => Vec::new(),
        };
        if batch.is_empty() {
            return;
        }
        // A batch the store refuses for a reason other than a concurrent write is split:
        // each write then commits (or fails) on its own, so one cannot fail its neighbours.
        let mut pending = vec![batch];
        while let Some(batch) = pending.pop() {
            if let Some(split) = self.run_batch(org, entry, batch).await {
                pending.extend(split.into_iter().rev().map(|w| vec![w]));
            }
        }
    }

    /// Runs and commits one batch, answering every write in it; or, if the store refused it
    /// and it holds more than one write, hands the writes back unanswered to be run alone.
    async fn run_batch(
        &self,
        org: &OrgId,
        entry: &OrgEntry,
        batch: Vec<WriteRequest>,
    ) -> Option<Vec<WriteRequest>> {
        for attempt in 0..MAX_ATTEMPTS {
            if attempt >= 2 {
                // Servers that keep colliding on one organization step out of each other's
                // way: a random pause, growing with the attempts (at most ~10 ms).
                let [jitter] = context::random_bytes::<1>();
                let micros = u64::from(attempt.min(10)) * 4 * u64::from(jitter);
                tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
            }
            match self.try_batch(org, entry, &batch).await {
                Ok(results) => {
                    for (write, result) in batch.into_iter().zip(results) {
                        let _ = write.reply.send(result);
                    }
                    return None;
                }
                Err(ServiceError::Store(StoreError::RevisionConflict { .. })) => {
                    // Another server wrote first: take its state and run the writes again
                    // (authorization and invariants included).
                    if let Err(e) = self.catch_up(org).await {
                        return self.fail(batch, &e);
                    }
                }
                Err(e) => return self.fail(batch, &e),
            }
        }
        for write in batch {
            let _ = write.reply.send(Err(ServiceError::ConcurrentModification));
        }
        None
    }

    /// A batch failed: several writes go back to run alone; a single one gets the error.
    fn fail(
        &self,
        mut batch: Vec<WriteRequest>,
        error: &ServiceError,
    ) -> Option<Vec<WriteRequest>> {
        if batch.len() > 1 {
            return Some(batch);
        }
        if let Some(write) = batch.pop() {
            let _ = write.reply.send(Err(ServiceError::Failed {
                code: warden_core::ErrorCode::error_code(error),
                message: error.to_string(),
            }));
        }
        None
    }

    /// Runs every write of the batch in the core, in order, each against the result of the
    /// previous, then commits the accepted ones (and the refusals' audit events) in one
    /// transaction and publishes the result. Returns each write's answer.
    async fn try_batch(
        &self,
        org: &OrgId,
        entry: &OrgEntry,
        batch: &[WriteRequest],
    ) -> Result<Vec<Result<Written, ServiceError>>, ServiceError> {
        let started = std::time::Instant::now();
        let current = entry.compiled.load_full();
        let mut latest = Arc::clone(&current);
        let mut answers = Vec::with_capacity(batch.len());
        let mut accepted = Vec::new();
        let mut refusals = Vec::new();
        let mut new_tokens = Vec::new();
        for (index, write) in batch.iter().enumerate() {
            if let Some(token) = &write.token {
                let valid = latest
                    .state()
                    .tokens
                    .get(token)
                    .is_some_and(|t| t.expires_at.is_none_or(|at| at > context::now()));
                if !valid {
                    answers.push(Err(ServiceError::Unauthenticated(
                        "unknown or revoked token",
                    )));
                    continue;
                }
            }
            let mut ctx = SystemContext::new();
            match warden_core::execute_all(
                &latest.snapshot,
                &write.actor,
                write.commands.clone(),
                &mut ctx,
            ) {
                Ok(executed) if !executed.changed() => {
                    // Nothing to commit or audit: success at the current revision.
                    answers.push(Ok(Written {
                        compiled: Arc::clone(&latest),
                        targets: executed.applied.iter().map(|a| a.target.clone()).collect(),
                    }));
                }
                Ok(executed) => {
                    let revision = executed.revision();
                    let Executed {
                        snapshot,
                        applied,
                        effects,
                    } = executed;
                    let changes = applied.iter().flat_map(|a| &a.changes);
                    let (next, tokens) = latest.patched(snapshot, changes);
                    new_tokens.extend(tokens);
                    latest = Arc::new(next);
                    answers.push(Ok(Written {
                        compiled: Arc::clone(&latest),
                        targets: applied.iter().map(|a| a.target.clone()).collect(),
                    }));
                    accepted.push(Accepted {
                        index,
                        applied,
                        effects,
                        revision,
                        at: ctx.now(),
                    });
                }
                Err(e) => {
                    let refused = write.commands.get(e.index);
                    let action = refused.map_or("", |c| c.required_action());
                    let target = refused
                        .map(|c| c.audit_target(latest.state()))
                        .unwrap_or_default();
                    refusals.push(audit::refusal(
                        org,
                        &write.actor,
                        action,
                        &target,
                        e.error.code(),
                        &write.request_id,
                    ));
                    answers.push(Err(ServiceError::Batch(e)));
                }
            }
        }
        let records = accepted
            .iter()
            .filter_map(|a| {
                let write = batch.get(a.index)?;
                Some(Self::records_of(
                    org,
                    &write.actor,
                    &a.applied,
                    &a.effects,
                    a.revision,
                    a.at,
                    &write.request_id,
                ))
            })
            .collect::<Result<Vec<Records<'_>>, ServiceError>>()?;
        let credentials: Vec<Vec<Credential>> = accepted
            .iter()
            .map(|a| {
                let hash = batch.get(a.index).and_then(|w| w.password_hash.clone());
                let user = a.applied.first().map(|applied| applied.target.clone());
                match (hash, user) {
                    (Some(password_hash), Some(user)) => vec![Credential {
                        user: UserId::from(user),
                        password_hash,
                        at: a.at,
                    }],
                    _ => Vec::new(),
                }
            })
            .collect();
        let commits: Vec<Commit<'_>> = records
            .iter()
            .zip(&credentials)
            .map(|((changes, audit, outbox), credentials)| Commit {
                changes,
                audit,
                outbox,
                credentials,
                password_resets: &[],
            })
            .collect();
        let committed = self
            .store
            .commit_all(org, current.revision(), &commits, &refusals)
            .await;
        match committed {
            Ok(_) => {}
            // Refusals alone change nothing: a failure to record them is logged, and the
            // calls stay refused.
            Err(e) if commits.is_empty() => {
                tracing::error!(error = %e, "could not record refused calls in the audit log");
            }
            Err(e) => return Err(e.into()),
        }
        if !commits.is_empty() {
            self.install(latest, &new_tokens);
            self.metrics.writes.inc_by(commits.len() as u64);
            self.metrics.write_transactions.inc();
        }
        if accepted.iter().any(|a| !a.effects.is_empty()) {
            self.outbox_ready.notify_one();
        }
        self.metrics
            .write_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(answers)
    }

    /// What a commit of `executed` writes besides its revision.
    pub(super) fn records<'a>(
        org: &OrgId,
        actor: &Actor,
        executed: &'a Executed,
        at: Timestamp,
    ) -> Result<Records<'a>, ServiceError> {
        Self::records_of(
            org,
            actor,
            &executed.applied,
            &executed.effects,
            executed.revision(),
            at,
            &current_request_id(),
        )
    }

    /// The row changes, an audit event per command and an outbox item per effect of one
    /// write at `revision`.
    fn records_of<'a>(
        org: &OrgId,
        actor: &Actor,
        applied: &'a [Applied],
        effects: &[Effect],
        revision: u64,
        at: Timestamp,
        request_id: &str,
    ) -> Result<Records<'a>, ServiceError> {
        let changes = applied.iter().flat_map(|a| &a.changes).collect();
        let events = applied
            .iter()
            .map(|applied| audit::of_change(org, actor, at, revision, applied, request_id))
            .collect::<Result<Vec<_>, _>>()?;
        let outbox = effects
            .iter()
            .map(|effect| OutboxItem::new(context::new_id("eff"), org.clone(), effect.clone(), at))
            .collect();
        Ok((changes, events, outbox))
    }
}
