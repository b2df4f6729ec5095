//! The running service, free of HTTP: every organization's compiled snapshot in memory, the
//! write path that keeps them in step with the store, token authentication, the audit log
//! and the outbox worker. The HTTP layer (`crate::http`) translates requests into calls
//! here and [`ServiceError`]s into problem details.
//!
//! Checks and reads of an organization's state never touch SQL: they load its current
//! [`CompiledOrg`] (lock-free, `ArcSwap`); only the audit log and tokens' last-use times are
//! read from the store. A write takes the organization's write lock, runs the commands in
//! the core against the current snapshot, commits the resulting changes, audit events and
//! outbox items with an optimistic revision check (so replicas sharing a PostgreSQL database
//! serialize per organization), and publishes the new snapshot before the write returns.

mod audit;
mod auth;
mod compiled;
pub mod context;
mod error;
pub mod invitations;
mod k8s;
mod load;
mod metrics;
pub mod outbox;
mod platform;
pub mod sessions;
pub mod smtp;
mod sync;
mod throttle;
mod tokens;
mod write;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use rustc_hash::FxHashMap;
use tokio::sync::{watch, Notify};
use warden_core::command::{FirstUser, Key, NewToken, ScopeInput, TokenCommand, TokenLifetime};
use warden_core::token;
use warden_core::{Actor, Catalog, CommandContext, OrgId, OrgState, Timestamp, TokenId};
use warden_store::{Commit, Store, StoreError};

pub use self::auth::Caller;
pub use self::compiled::CompiledOrg;
pub use self::context::{new_personal_secret, now, NewSecret, SystemContext};
pub use self::error::ServiceError;
pub use self::k8s::{ClusterCaller, TokenReviewOutcome};
pub use self::metrics::{DecisionLabels, Metrics, RouteLabels};
pub use self::throttle::AuthFailureLimit;
pub use self::tokens::{IssuedToken, TokenFor, TokenSpec};

impl Service {
    /// Whether this server is being told of other servers' commits (PostgreSQL `LISTEN`).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }
}
pub use self::invitations::LinkKey;
pub use self::outbox::{MailError, MailFrom, Mailer};
pub use self::platform::{
    AddedUser, FirstAdminAccess, OperatorCaller, RemovedUser, PLATFORM_AUDIT,
};
pub use self::sessions::{SessionCaller, SessionLimits, SignInLimit, SESSION_COOKIE};
pub use self::smtp::{Password, SmtpLogin, SmtpMailer, SmtpSecurity, SmtpSettings};

struct OrgEntry {
    compiled: ArcSwap<CompiledOrg>,
    /// Makes "compare revisions, then publish" atomic, so a slow reload can never publish
    /// an older snapshot over a newer one.
    install_lock: Mutex<()>,
    /// Serializes this server's writes to the organization (the store's revision check
    /// serializes them across servers).
    write_lock: tokio::sync::Mutex<()>,
    /// Writes waiting for the write lock: whoever takes it commits all of them together.
    queue: Mutex<Vec<write::WriteRequest>>,
    revision: watch::Sender<u64>,
}

impl OrgEntry {
    fn new(compiled: Arc<CompiledOrg>) -> OrgEntry {
        let (revision, _rx) = watch::channel(compiled.revision());
        OrgEntry {
            compiled: ArcSwap::new(compiled),
            install_lock: Mutex::new(()),
            write_lock: tokio::sync::Mutex::new(()),
            queue: Mutex::new(Vec::new()),
            revision,
        }
    }
}

/// Server settings that affect behaviour (not where it listens).
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a check with `at_least_revision` waits for this server to catch up.
    pub revision_wait: Duration,
    /// How often to look for changes written by other servers sharing the database.
    pub sync_interval: Duration,
    /// Where emails go; `None` leaves them waiting in the outbox.
    pub mailer: Option<Mailer>,
    /// Who emails are from (default `Warden <warden@localhost>`).
    pub mail_from: MailFrom,
    /// How often the outbox worker looks for due items (it also wakes after each commit).
    pub outbox_interval: Duration,
    /// Failed authentications allowed per client address (`None`: unlimited).
    pub auth_failure_limit: Option<AuthFailureLimit>,
    /// The address users reach this server at, for the links in emails
    /// (`http://127.0.0.1:8080`).
    pub public_url: String,
    /// How long an invitation's link works (7 days).
    pub invitation_ttl: Duration,
    /// The key invitation links are made with (see `invitations.rs`).
    pub link_key: LinkKey,
    /// How failed sign-ins are limited.
    pub sign_in_limit: SignInLimit,
    /// How long console sessions and reset links last.
    pub sessions: SessionLimits,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            revision_wait: Duration::from_secs(2),
            sync_interval: Duration::from_secs(2),
            mailer: None,
            mail_from: MailFrom::default(),
            outbox_interval: Duration::from_secs(5),
            auth_failure_limit: Some(AuthFailureLimit::default()),
            public_url: "http://127.0.0.1:8080".to_string(),
            invitation_ttl: Duration::from_secs(7 * 24 * 3600),
            link_key: LinkKey::random(),
            sign_in_limit: SignInLimit::default(),
            sessions: SessionLimits::default(),
        }
    }
}

/// What a write returns: the organization after it, and the ids of what each command
/// created or changed.
#[derive(Debug, Clone)]
pub struct Written {
    pub compiled: Arc<CompiledOrg>,
    pub targets: Vec<String>,
}

impl Written {
    /// The target of the first (for a single command, the only) command.
    pub fn target(&self) -> &str {
        self.targets.first().map_or("", String::as_str)
    }
}

pub struct Service {
    catalog: Arc<Catalog>,
    store: Store,
    settings: Settings,
    orgs: ArcSwap<FxHashMap<OrgId, Arc<OrgEntry>>>,
    /// Serializes additions to `orgs` (rare: a new organization).
    orgs_add: Mutex<()>,
    /// Token hash → organization, for every token ever seen by this server. Stale entries
    /// are harmless: the organization's compiled token index is the authority.
    token_orgs: RwLock<FxHashMap<[u8; 32], OrgId>>,
    /// Tokens used since the last flush, with when.
    token_usage: Mutex<FxHashMap<TokenId, Timestamp>>,
    /// This server's name when it claims outbox items.
    worker_id: String,
    /// Wakes the outbox worker after a commit that asked for effects.
    outbox_ready: Notify,
    /// What `/metrics` reports.
    metrics: metrics::Metrics,
    /// Whether commit notifications are being received (PostgreSQL); polling otherwise.
    listening: AtomicBool,
    /// When every organization's revision was last compared with the store's.
    last_poll: Mutex<Option<Instant>>,
    /// One poll after an unknown token at a time.
    poll_lock: tokio::sync::Mutex<()>,
    /// Failed authentications per client address.
    throttle: throttle::Throttle,
    /// Failed sign-ins, per account and address and per address.
    sign_in_failures: sessions::FailureCounter,
    /// Organizations are still being loaded in the background (`open_lazily`): one that is
    /// not loaded yet is loaded on demand.
    warming_up: AtomicBool,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("organizations", &self.orgs.load().len())
            .field("worker_id", &self.worker_id)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// A service over `store` that serves nothing yet (see `load.rs` for the ways to fill it).
    fn new(store: Store, catalog: Arc<Catalog>, settings: Settings) -> Arc<Service> {
        let auth_failure_limit = settings.auth_failure_limit;
        Arc::new(Service {
            catalog,
            store,
            settings,
            orgs: ArcSwap::from_pointee(FxHashMap::default()),
            orgs_add: Mutex::new(()),
            token_orgs: RwLock::new(FxHashMap::default()),
            token_usage: Mutex::new(FxHashMap::default()),
            worker_id: context::new_id("wrk"),
            outbox_ready: Notify::new(),
            metrics: metrics::Metrics::new(),
            listening: AtomicBool::new(false),
            last_poll: Mutex::new(None),
            poll_lock: tokio::sync::Mutex::new(()),
            throttle: throttle::Throttle::new(auth_failure_limit),
            warming_up: AtomicBool::new(false),
            sign_in_failures: sessions::FailureCounter::default(),
        })
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn entry(&self, org: &OrgId) -> Result<Arc<OrgEntry>, ServiceError> {
        self.orgs.load().get(org).cloned().ok_or_else(|| {
            ServiceError::Domain(warden_core::DomainError::not_found(
                "organization",
                org.as_str(),
            ))
        })
    }

    /// The organization as this server currently serves it.
    pub fn compiled(&self, org: &OrgId) -> Option<Arc<CompiledOrg>> {
        self.orgs.load().get(org).map(|e| e.compiled.load_full())
    }

    /// Every organization this server serves now (while warming up, those loaded so far).
    pub fn organizations(&self) -> Vec<Arc<CompiledOrg>> {
        self.orgs
            .load()
            .values()
            .map(|e| e.compiled.load_full())
            .collect()
    }

    pub fn org_ids(&self) -> Vec<OrgId> {
        self.orgs.load().keys().cloned().collect()
    }

    fn install_state(&self, state: OrgState, now: Timestamp) -> Arc<CompiledOrg> {
        self.install_all(CompiledOrg::compile(
            self.catalog.clone(),
            Arc::new(state),
            now,
        ))
    }

    /// Publishes a compiled organization, indexing all its tokens server-wide.
    fn install_all(&self, compiled: CompiledOrg) -> Arc<CompiledOrg> {
        let hashes: Vec<[u8; 32]> = compiled.token_hashes().copied().collect();
        self.install(Arc::new(compiled), &hashes)
    }

    /// Recompiles the organizations whose snapshots a rule's end has left on the slow path
    /// (their precomputed sets no longer cover `now`), at the same revision.
    pub fn refresh_expired(&self, now: Timestamp) -> usize {
        let mut refreshed = 0;
        for entry in self.orgs.load().values() {
            let current = entry.compiled.load_full();
            if current
                .snapshot
                .valid_until()
                .is_some_and(|until| until <= now)
            {
                let fresh =
                    CompiledOrg::compile(self.catalog.clone(), current.state().clone(), now);
                let _installing = entry.install_lock.lock();
                // Only over the snapshot it replaces: a write may have published a newer one.
                if Arc::ptr_eq(&entry.compiled.load_full(), &current) {
                    entry.compiled.store(Arc::new(fresh));
                    refreshed += 1;
                }
            }
        }
        refreshed
    }

    /// Publishes many compiled organizations at once (a start-up load): the organization map
    /// is copied once for all the new ones, not once each; one already served is replaced only
    /// by a newer revision, as [`Service::install`] does.
    fn install_many(&self, compiled: Vec<CompiledOrg>) {
        if let Ok(mut index) = self.token_orgs.write() {
            for c in &compiled {
                for hash in c.token_hashes() {
                    index.insert(*hash, c.state().org.id.clone());
                }
            }
        }
        let mut served = Vec::new();
        {
            let _adding = self.orgs_add.lock();
            let current = self.orgs.load();
            let mut map: Option<FxHashMap<OrgId, Arc<OrgEntry>>> = None;
            for c in compiled {
                let org = c.state().org.id.clone();
                if current.contains_key(&org) {
                    served.push(c);
                    continue;
                }
                map.get_or_insert_with(|| FxHashMap::clone(&current))
                    .insert(org, Arc::new(OrgEntry::new(Arc::new(c))));
            }
            if let Some(map) = map {
                self.orgs.store(Arc::new(map));
            }
        }
        for c in served {
            self.install(Arc::new(c), &[]);
        }
    }

    /// Publishes a compiled organization, unless a newer one is already published;
    /// `new_tokens` (secret hashes) join the server-wide token → organization index.
    fn install(&self, compiled: Arc<CompiledOrg>, new_tokens: &[[u8; 32]]) -> Arc<CompiledOrg> {
        let org = compiled.state().org.id.clone();
        if !new_tokens.is_empty() {
            if let Ok(mut index) = self.token_orgs.write() {
                for hash in new_tokens {
                    index.insert(*hash, org.clone());
                }
            }
        }
        let entry = match self.orgs.load().get(&org).cloned() {
            Some(entry) => entry,
            None => {
                let _adding = self.orgs_add.lock();
                // Another caller may have added it meanwhile: look again under the lock.
                match self.orgs.load().get(&org).cloned() {
                    Some(entry) => entry,
                    None => {
                        let mut map = FxHashMap::clone(&self.orgs.load());
                        map.insert(org, Arc::new(OrgEntry::new(compiled.clone())));
                        self.orgs.store(Arc::new(map));
                        return compiled;
                    }
                }
            }
        };
        let _installing = entry.install_lock.lock();
        let current = entry.compiled.load_full();
        if current.revision() >= compiled.revision() {
            return current;
        }
        entry.compiled.store(compiled.clone());
        entry.revision.send_replace(compiled.revision());
        compiled
    }

    /// Waits until this server's snapshot of `org` is at least `revision`.
    pub async fn wait_for_revision(
        &self,
        org: &OrgId,
        revision: u64,
    ) -> Result<Arc<CompiledOrg>, ServiceError> {
        let entry = self.entry(org)?;
        if entry.compiled.load().revision() >= revision {
            return Ok(entry.compiled.load_full());
        }
        // Another server may have written it: ask the store for the revision (one row) and
        // load the organization only if that reaches the one asked for.
        if self
            .store
            .org_revision(org)
            .await?
            .is_some_and(|stored| stored >= revision)
        {
            if let Some(compiled) = self.reload(org).await? {
                if compiled.revision() >= revision {
                    return Ok(compiled);
                }
            }
        }
        let mut rx = entry.revision.subscribe();
        let reached = tokio::time::timeout(self.settings.revision_wait, async {
            rx.wait_for(|r| *r >= revision).await.is_ok()
        })
        .await
        .unwrap_or(false);
        let compiled = entry.compiled.load_full();
        if reached || compiled.revision() >= revision {
            Ok(compiled)
        } else {
            Err(ServiceError::RevisionNotReached {
                requested: revision,
                current: compiled.revision(),
            })
        }
    }

    /// Authorizes a read: the engine answers from the caller's snapshot; a denial is
    /// audited before it is answered.
    pub async fn require(&self, caller: &Caller, action: &'static str) -> Result<(), ServiceError> {
        if caller
            .compiled
            .snapshot
            .check(caller.principal.as_str(), action, now())
            .unwrap_or(false)
        {
            return Ok(());
        }
        self.record_refusal(&caller.org, &caller.actor(), action, "", "forbidden")
            .await;
        Err(ServiceError::Domain(self.catalog().forbidden(action)))
    }

    /// Creates an organization with its first admin and a personal token for that admin, in
    /// one transaction (a failure leaves no organization behind). Returns the organization,
    /// the token's secret (shown once) and its id.
    pub async fn create_organization(
        &self,
        name: &str,
        first: FirstUser,
        lifetime: TokenLifetime,
    ) -> Result<(Arc<CompiledOrg>, String, TokenId), ServiceError> {
        let (compiled, token) = self
            .create_organization_by(
                &Actor::System,
                name,
                first,
                FirstAdminAccess::Token(lifetime),
            )
            .await?;
        let (secret, token) =
            token.ok_or_else(|| ServiceError::Internal("no first token".to_string()))?;
        Ok((compiled, secret, token))
    }

    /// [`Service::create_organization`], recorded in the audit log as done by `actor` (a
    /// platform operator, or the system), the first admin getting in by `access`: a token
    /// (its secret and id returned) or an email with a link to set their password, written
    /// with the organization in its transaction (so neither exists without the other).
    pub async fn create_organization_by(
        &self,
        actor: &Actor,
        name: &str,
        first: FirstUser,
        access: FirstAdminAccess,
    ) -> Result<(Arc<CompiledOrg>, Option<(String, TokenId)>), ServiceError> {
        let mut ctx = SystemContext::new();
        for _ in 0..10 {
            let bytes: [u8; 3] = context::random_bytes();
            let id = OrgId::from(token::to_hex(&bytes));
            if self.compiled(&id).is_some() {
                continue;
            }
            let created = warden_core::new_organization(
                &self.catalog,
                id.clone(),
                name,
                first.clone(),
                &mut ctx,
            )?;
            let admin = created.state().org.default_admin.clone();
            let secret = match access {
                FirstAdminAccess::Token(_) => Some(new_personal_secret()),
                FirstAdminAccess::Email => None,
            };
            let with_token = match (access, &secret) {
                (FirstAdminAccess::Token(lifetime), Some(secret)) => Some(warden_core::execute(
                    &created.snapshot,
                    &Actor::System,
                    TokenCommand::CreatePersonal {
                        owner: Key::from(&admin),
                        token: NewToken {
                            name: "initial admin token".to_string(),
                            note: String::new(),
                            lifetime,
                            secret_hash: secret.hash_hex.clone(),
                            display_prefix: secret.display_prefix.clone(),
                            scope: ScopeInput::default(),
                        },
                    }
                    .into(),
                    &mut ctx,
                )?),
                _ => None,
            };
            let (mut changes, mut events, mut outbox) =
                Self::records(&id, actor, &created, ctx.now())?;
            let mut resets = Vec::new();
            match &with_token {
                Some(with_token) => {
                    let (more_changes, more_events, more_outbox) =
                        Self::records(&id, actor, with_token, ctx.now())?;
                    changes.extend(more_changes);
                    events.extend(more_events);
                    outbox.extend(more_outbox);
                }
                None => {
                    let (reset, item) = self
                        .welcome(created.state(), ctx.now())
                        .ok_or_else(|| ServiceError::Internal("no default admin".to_string()))?;
                    resets.push(reset);
                    outbox.push(item);
                }
            }
            let state = with_token.as_ref().unwrap_or(&created).state().clone();
            let commit = Commit {
                changes: &changes,
                audit: &events,
                outbox: &outbox,
                credentials: &[],
                password_resets: &resets,
            };
            match self
                .store
                .create_organization(&state.org, state.revision, commit)
                .await
            {
                Ok(()) => {}
                Err(StoreError::OrgExists(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            drop(changes);
            let token = match (secret, &with_token) {
                (Some(secret), Some(w)) => {
                    Some((secret.secret, TokenId::from(w.target().to_string())))
                }
                _ => None,
            };
            let last = with_token.unwrap_or(created);
            let compiled = self.install_all(CompiledOrg::new(last.snapshot));
            self.outbox_ready.notify_one();
            return Ok((compiled, token));
        }
        Err(ServiceError::Internal(
            "no free organization id after 10 attempts".to_string(),
        ))
    }

    /// Background upkeep: listens for (or polls) other servers' commits, flushes token usage,
    /// and carries out the outbox.
    pub fn spawn_background(self: &Arc<Self>) {
        let service = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(service.settings.sync_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // Polling is the fallback: not while commits are being pushed.
                if !service.listening.load(Ordering::Relaxed) {
                    if let Err(e) = service.sync_from_store().await {
                        tracing::warn!(error = %e, "sync from store failed");
                    }
                }
                if let Err(e) = service.flush_token_usage().await {
                    tracing::warn!(error = %e, "token usage flush failed");
                }
                service.refresh_expired(now());
            }
        });
        tokio::spawn(Arc::clone(self).listen_for_commits());
        if self.settings.mailer.is_some() {
            let service = Arc::clone(self);
            tokio::spawn(async move {
                loop {
                    match service.deliver_outbox().await {
                        // Something was delivered: there may be more waiting.
                        Ok(n) if n > 0 => continue,
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "outbox delivery failed"),
                    }
                    let _ = tokio::time::timeout(
                        service.settings.outbox_interval,
                        service.outbox_ready.notified(),
                    )
                    .await;
                }
            });
        }
    }
}
