//! Keeping up with other servers' commits.
//!
//! On PostgreSQL every commit sends `NOTIFY` (organization, revision) and every server
//! `LISTEN`s: told of a revision it does not have, a server loads just that organization's
//! changes since its own revision ([`Store::changes_since`]), replays them on its state and
//! patches its snapshot, as if it had run the commands itself. Polling every organization's
//! revision remains as the fallback: after the listening connection is (re-)established,
//! and all the time on SQLite, which has no notifications (several processes may still share
//! one SQLite file, such as `warden org create` next to a running server).
//!
//! [`Store::changes_since`]: warden_store::Store::changes_since

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use warden_core::OrgId;
use warden_store::Heard;

use super::context::now;
use super::{CompiledOrg, Service, ServiceError};

/// On SQLite, a token this server does not know makes it look for other processes' commits,
/// at most this often (the look is shared: a flood of made-up tokens costs one query per
/// interval, not one per token, and each made-up token waits for it).
const MISS_POLL_INTERVAL: Duration = Duration::from_millis(100);

impl Service {
    /// Reloads an organization from the store (written by another server).
    pub async fn reload(&self, org: &OrgId) -> Result<Option<Arc<CompiledOrg>>, ServiceError> {
        let now = now();
        Ok(self
            .store
            .load_org(org)
            .await?
            .map(|s| self.install_state(s.packed(), now)))
    }

    /// Brings an organization up to the store's revision: replays the changes committed since
    /// this server's revision, or reloads it when they are no longer all recorded (or it is
    /// new here).
    pub async fn catch_up(&self, org: &OrgId) -> Result<Option<Arc<CompiledOrg>>, ServiceError> {
        let Some(current) = self.compiled(org) else {
            return self.reload(org).await;
        };
        let Some((revision, commits)) = self.store.changes_since(org, current.revision()).await?
        else {
            return self.reload(org).await;
        };
        if revision <= current.revision() {
            return Ok(Some(current));
        }
        let mut state = (**current.state()).clone();
        let mut changes = Vec::new();
        for (revision, commit) in commits {
            for change in &commit {
                state.replay(change);
            }
            state.revision = revision;
            changes.extend(commit);
        }
        let snapshot = current
            .snapshot
            .patch(Arc::new(state), changes.iter(), now());
        let (next, tokens) = current.patched(snapshot, changes.iter());
        self.metrics.catch_ups.inc();
        Ok(Some(self.install(Arc::new(next), &tokens)))
    }

    /// Picks up organizations other servers created or changed, by comparing every
    /// organization's revision.
    pub async fn sync_from_store(&self) -> Result<usize, ServiceError> {
        let mut caught_up = 0;
        self.metrics.polls.inc();
        let began = Instant::now();
        let warming_up = !self.is_loaded();
        for (org, revision) in self.store.org_revisions().await? {
            let known = self.compiled(&org).map(|v| v.revision());
            // While warming up, the background load brings in what is not loaded yet.
            if known.is_none() && warming_up {
                continue;
            }
            if known.is_none_or(|r| r < revision) && self.catch_up(&org).await?.is_some() {
                caught_up += 1;
            }
        }
        if let Ok(mut last) = self.last_poll.lock() {
            *last = Some(last.map_or(began, |previous| previous.max(began)));
        }
        Ok(caught_up)
    }

    /// A token this server does not know: on SQLite, another process may have just created
    /// it. Waits for a look at other processes' commits that began after the miss: one
    /// already under way is not enough, and a new one starts at most every
    /// [`MISS_POLL_INTERVAL`], shared by every caller waiting. On PostgreSQL commits are
    /// pushed: nothing to do. Returns whether such a look was made.
    pub(super) async fn poll_after_miss(&self) -> bool {
        if self.listening.load(Ordering::Relaxed) {
            return false;
        }
        let missed_at = Instant::now();
        let _polling = self.poll_lock.lock().await;
        let last = self.last_poll.lock().ok().and_then(|last| *last);
        if last.is_some_and(|began| began >= missed_at) {
            return true;
        }
        if let Some(began) = last {
            tokio::time::sleep_until((began + MISS_POLL_INTERVAL).into()).await;
        }
        if let Err(e) = self.sync_from_store().await {
            tracing::warn!(error = %e, "sync from store failed");
        }
        true
    }

    /// After a name this server does not know (a principal asked about by email): on
    /// SQLite another process may have just written it. Looks at the store as
    /// [`Service::poll_after_miss`] does and answers the organization as now served, or
    /// `None` when there was nothing to look at.
    pub async fn refresh_after_miss(&self, org: &OrgId) -> Option<Arc<CompiledOrg>> {
        if self.poll_after_miss().await {
            self.compiled(org)
        } else {
            None
        }
    }

    /// Listens for other servers' commits (PostgreSQL) until the task is dropped: catches up
    /// with each organization it is told of, and with all of them after (re)connecting.
    /// Returns at once on SQLite.
    pub(super) async fn listen_for_commits(self: Arc<Self>) {
        loop {
            match self.store.listen().await {
                Ok(Some(mut listener)) => {
                    self.listening.store(true, Ordering::Relaxed);
                    tracing::info!("listening for other servers' commits");
                    // What was committed before listening began.
                    if let Err(e) = self.sync_from_store().await {
                        tracing::warn!(error = %e, "sync from store failed");
                    }
                    loop {
                        match listener.next().await {
                            Ok(Heard::Commit { org, revision, at }) => {
                                let known = self.compiled(&org).map(|c| c.revision());
                                // Our own commits come back too: nothing to do for them.
                                if known.is_none_or(|r| r < revision) {
                                    match self.catch_up(&org).await {
                                        Ok(_) => {
                                            if let Some(at) = at {
                                                let lag_ms = (now().0 - at.0).max(0);
                                                #[allow(clippy::cast_precision_loss)]
                                                self.metrics
                                                    .sync_lag_seconds
                                                    .observe(lag_ms as f64 / 1000.0);
                                            }
                                        }
                                        Err(e) => {
                                            tracing::warn!(error = %e, org = %org, "catch-up failed");
                                        }
                                    }
                                }
                            }
                            Ok(Heard::Reconnected) => {
                                tracing::warn!("commit notifications interrupted; polling");
                                if let Err(e) = self.sync_from_store().await {
                                    tracing::warn!(error = %e, "sync from store failed");
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "listening for commits failed");
                                break;
                            }
                        }
                    }
                    self.listening.store(false, Ordering::Relaxed);
                }
                Ok(None) => return,
                Err(e) => tracing::warn!(error = %e, "cannot listen for commits; polling"),
            }
            tokio::time::sleep(self.settings.sync_interval).await;
        }
    }
}
