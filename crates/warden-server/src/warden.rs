//! The running service: every organization's compiled snapshot in memory, the write path
//! that keeps them in step with the store, and token authentication.
//!
//! Reads and checks never touch SQL: they load the organization's current [`OrgView`]
//! (lock-free, `ArcSwap`). A write takes the organization's write lock, runs the command in
//! the core against the current state, commits the resulting changes with an optimistic
//! revision check (so replicas sharing a PostgreSQL database serialize per organization),
//! and swaps in the new snapshot before the write's response is sent.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use rustc_hash::FxHashMap;
use tokio::sync::watch;
use warden_core::command::{self, FirstUser, TokenLifetime};
use warden_core::token::{self, SecretKind};
use warden_core::{
    Actor, AuditEvent, Catalog, Command, CommandContext, DomainError, OrgId, OrgState, Snapshot,
    Timestamp, TokenId, UserId,
};
use warden_store::{Store, StoreError};

use crate::problem::{current_request_id, ApiError};

/// What authentication needs of one token, found by the SHA-256 of its secret.
#[derive(Debug)]
struct TokenEntry {
    id: TokenId,
    user: UserId,
    expires_at: Option<Timestamp>,
    /// When this view last queued the token's use for the store (ms), so a busy token
    /// costs one atomic load per request, not a lock.
    last_recorded: AtomicI64,
}

/// How stale a token's recorded last use may get.
const TOKEN_USE_RESOLUTION_MS: i64 = 60_000;

/// An organization's snapshot plus the index that authenticates its tokens.
#[derive(Debug)]
pub struct OrgView {
    pub snapshot: Snapshot,
    tokens: FxHashMap<[u8; 32], TokenEntry>,
}

impl OrgView {
    fn compile(catalog: Arc<Catalog>, state: Arc<OrgState>) -> OrgView {
        let mut tokens = FxHashMap::default();
        for token in state.tokens.values() {
            if let Some(hash) = from_hex32(&token.secret_hash) {
                tokens.insert(
                    hash,
                    TokenEntry {
                        id: token.id.clone(),
                        user: token.user.clone(),
                        expires_at: token.expires_at,
                        last_recorded: AtomicI64::new(0),
                    },
                );
            }
        }
        OrgView {
            snapshot: Snapshot::compile(catalog, state),
            tokens,
        }
    }

    pub fn state(&self) -> &Arc<OrgState> {
        self.snapshot.state()
    }

    pub fn revision(&self) -> u64 {
        self.snapshot.revision()
    }
}

struct OrgEntry {
    view: ArcSwap<OrgView>,
    /// Makes "compare revisions, then publish" atomic, so a slow reload can never publish
    /// an older view over a newer one.
    install_lock: Mutex<()>,
    /// Serializes this server's writes to the organization (the store's revision check
    /// serializes them across servers).
    write_lock: tokio::sync::Mutex<()>,
    revision: watch::Sender<u64>,
}

/// Who is calling: an active user of an organization, authenticated by a token.
#[derive(Clone)]
pub struct Caller {
    pub org: OrgId,
    pub user: UserId,
    pub token: TokenId,
    pub view: Arc<OrgView>,
}

/// Server settings that affect behaviour (not where it listens).
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a check with `at_least_revision` waits for this server to catch up.
    pub revision_wait: Duration,
    /// How often to look for changes written by other servers sharing the database.
    pub sync_interval: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            revision_wait: Duration::from_secs(2),
            sync_interval: Duration::from_secs(2),
        }
    }
}

pub struct Warden {
    catalog: Arc<Catalog>,
    store: Store,
    settings: Settings,
    orgs: ArcSwap<FxHashMap<OrgId, Arc<OrgEntry>>>,
    /// Serializes additions to `orgs` (rare: a new organization).
    orgs_add: Mutex<()>,
    /// Token hash → organization, for every token ever seen by this server. Stale entries
    /// are harmless: the organization's view is the authority.
    token_orgs: RwLock<FxHashMap<[u8; 32], OrgId>>,
    /// Tokens used since the last flush, with when.
    token_usage: Mutex<FxHashMap<TokenId, Timestamp>>,
    /// Hashes the store recently did not know, with when it said so.
    token_misses: Mutex<FxHashMap<[u8; 32], Timestamp>>,
}

/// How long a token the store did not know is refused without asking again. A token
/// created on another server becomes usable here after at most this long (or at once
/// after this server's next sync).
const TOKEN_MISS_TTL_MS: i64 = 2_000;
/// Most remembered misses; past it, stale ones are dropped (or all, under a flood).
const TOKEN_MISS_CAPACITY: usize = 100_000;

pub fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    )
}

/// Fresh identifiers from the operating system's random source.
pub struct SystemContext {
    now: Timestamp,
}

impl SystemContext {
    pub fn new() -> SystemContext {
        SystemContext { now: now() }
    }
}

impl Default for SystemContext {
    fn default() -> Self {
        SystemContext::new()
    }
}

impl CommandContext for SystemContext {
    fn now(&self) -> Timestamp {
        self.now
    }

    fn random_suffix(&mut self) -> String {
        random_base32(16)
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS random source failing is not recoverable; a zeroed buffer would be a
    // predictable secret, so refuse loudly instead.
    if getrandom::fill(&mut bytes).is_err() {
        tracing::error!("the operating system's random source failed");
        std::process::abort();
    }
    bytes
}

fn random_base32(n: usize) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bytes: [u8; 32] = random_bytes();
    bytes
        .iter()
        .take(n)
        .map(|b| ALPHABET[(b & 31) as usize] as char)
        .collect()
}

fn from_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A new secret and the values the core stores for it.
pub struct NewSecret {
    pub secret: String,
    pub hash_hex: String,
    pub display_prefix: String,
}

pub fn new_personal_secret() -> NewSecret {
    let secret = token::encode_secret(SecretKind::Personal, &random_bytes());
    NewSecret {
        hash_hex: token::to_hex(&token::hash_secret(&secret)),
        display_prefix: token::display_prefix(&secret),
        secret,
    }
}

impl Warden {
    /// Loads every organization from the store and compiles its snapshot.
    pub async fn open(
        store: Store,
        catalog: Arc<Catalog>,
        settings: Settings,
    ) -> Result<Arc<Warden>, StoreError> {
        let warden = Arc::new(Warden {
            catalog,
            store,
            settings,
            orgs: ArcSwap::from_pointee(FxHashMap::default()),
            orgs_add: Mutex::new(()),
            token_orgs: RwLock::new(FxHashMap::default()),
            token_usage: Mutex::new(FxHashMap::default()),
            token_misses: Mutex::new(FxHashMap::default()),
        });
        for state in warden.store.load_all().await? {
            warden.install(state);
        }
        Ok(warden)
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn entry(&self, org: &OrgId) -> Result<Arc<OrgEntry>, ApiError> {
        self.orgs
            .load()
            .get(org)
            .cloned()
            .ok_or_else(|| ApiError::not_found("organization", org.as_str()))
    }

    /// The current view of an organization.
    pub fn view(&self, org: &OrgId) -> Option<Arc<OrgView>> {
        self.orgs.load().get(org).map(|e| e.view.load_full())
    }

    pub fn org_ids(&self) -> Vec<OrgId> {
        self.orgs.load().keys().cloned().collect()
    }

    /// Compiles and publishes a state, unless a newer one is already published.
    fn install(&self, state: OrgState) -> Arc<OrgView> {
        let state = Arc::new(state);
        let view = Arc::new(OrgView::compile(self.catalog.clone(), state.clone()));
        if let Ok(mut index) = self.token_orgs.write() {
            for hash in view.tokens.keys() {
                index.insert(*hash, state.org.id.clone());
            }
        }
        let entry = match self.orgs.load().get(&state.org.id).cloned() {
            Some(entry) => entry,
            None => {
                let _adding = self.orgs_add.lock();
                // Another caller may have added it meanwhile: look again under the lock.
                match self.orgs.load().get(&state.org.id).cloned() {
                    Some(entry) => entry,
                    None => {
                        let mut map = FxHashMap::clone(&self.orgs.load());
                        let (tx, _rx) = watch::channel(view.revision());
                        map.insert(
                            state.org.id.clone(),
                            Arc::new(OrgEntry {
                                view: ArcSwap::new(view.clone()),
                                install_lock: Mutex::new(()),
                                write_lock: tokio::sync::Mutex::new(()),
                                revision: tx,
                            }),
                        );
                        self.orgs.store(Arc::new(map));
                        return view;
                    }
                }
            }
        };
        let _installing = entry.install_lock.lock();
        let current = entry.view.load_full();
        if current.revision() >= view.revision() {
            return current;
        }
        entry.view.store(view.clone());
        entry.revision.send_replace(view.revision());
        view
    }

    /// Reloads an organization from the store (written by another server).
    pub async fn reload(&self, org: &OrgId) -> Result<Option<Arc<OrgView>>, ApiError> {
        Ok(self.store.load_org(org).await?.map(|s| self.install(s)))
    }

    /// Picks up organizations other servers created or changed.
    pub async fn sync_from_store(&self) -> Result<usize, StoreError> {
        let mut reloaded = 0;
        for (org, revision) in self.store.org_revisions().await? {
            let known = self.view(&org).map(|v| v.revision());
            if known.is_none_or(|r| r < revision) {
                if let Some(state) = self.store.load_org(&org).await? {
                    self.install(state);
                    reloaded += 1;
                }
            }
        }
        Ok(reloaded)
    }

    /// Waits until this server's snapshot of `org` is at least `revision`.
    pub async fn wait_for_revision(
        &self,
        org: &OrgId,
        revision: u64,
    ) -> Result<Arc<OrgView>, ApiError> {
        let entry = self.entry(org)?;
        if entry.view.load().revision() >= revision {
            return Ok(entry.view.load_full());
        }
        // Another server may have written it: ask the store for the revision (one row) and
        // load the organization only if that reaches the one asked for.
        if self
            .store
            .org_revision(org)
            .await?
            .is_some_and(|stored| stored >= revision)
        {
            if let Some(view) = self.reload(org).await? {
                if view.revision() >= revision {
                    return Ok(view);
                }
            }
        }
        let mut rx = entry.revision.subscribe();
        let reached = tokio::time::timeout(self.settings.revision_wait, async {
            rx.wait_for(|r| *r >= revision).await.is_ok()
        })
        .await
        .unwrap_or(false);
        let view = entry.view.load_full();
        if reached || view.revision() >= revision {
            Ok(view)
        } else {
            Err(ApiError::RevisionNotReached {
                requested: revision,
                current: view.revision(),
            })
        }
    }

    /// Verifies a bearer secret: format and checksum first (no look-up), then the hash.
    pub async fn authenticate(&self, secret: &str) -> Result<Caller, ApiError> {
        token::parse_secret(secret).map_err(|_| {
            ApiError::Unauthenticated("the bearer token is not a valid Warden token")
        })?;
        let hash = token::hash_secret(secret);
        let known = self
            .token_orgs
            .read()
            .ok()
            .and_then(|index| index.get(&hash).cloned());
        let org = match known {
            Some(org) => org,
            // Perhaps created on another server: ask the store, unless it said no recently
            // (a stream of well-formed made-up tokens must not become a stream of queries).
            None => {
                let now = now();
                let recently_missed = self
                    .token_misses
                    .lock()
                    .ok()
                    .and_then(|misses| misses.get(&hash).copied())
                    .is_some_and(|at| now.0 - at.0 < TOKEN_MISS_TTL_MS);
                if recently_missed {
                    return Err(ApiError::Unauthenticated("unknown or revoked token"));
                }
                let Some(org) = self.store.org_of_token(&token::to_hex(&hash)).await? else {
                    if let Ok(mut misses) = self.token_misses.lock() {
                        if misses.len() >= TOKEN_MISS_CAPACITY {
                            misses.retain(|_, at| now.0 - at.0 < TOKEN_MISS_TTL_MS);
                            if misses.len() >= TOKEN_MISS_CAPACITY {
                                misses.clear();
                            }
                        }
                        misses.insert(hash, now);
                    }
                    return Err(ApiError::Unauthenticated("unknown or revoked token"));
                };
                self.reload(&org).await?;
                org
            }
        };
        let view = self
            .view(&org)
            .ok_or(ApiError::Unauthenticated("unknown or revoked token"))?;
        let token = view
            .tokens
            .get(&hash)
            .ok_or(ApiError::Unauthenticated("unknown or revoked token"))?;
        let now = now();
        if token.expires_at.is_some_and(|at| at <= now) {
            return Err(ApiError::TokenExpired);
        }
        if !view.snapshot.is_active(token.user.as_str()) {
            return Err(ApiError::Unauthenticated("the token's user is deactivated"));
        }
        let recorded = token.last_recorded.load(Ordering::Relaxed);
        if now.0 - recorded >= TOKEN_USE_RESOLUTION_MS {
            token.last_recorded.store(now.0, Ordering::Relaxed);
            if let Ok(mut usage) = self.token_usage.lock() {
                usage.insert(token.id.clone(), now);
            }
        }
        let (user, token_id) = (token.user.clone(), token.id.clone());
        Ok(Caller {
            org,
            user,
            token: token_id,
            view,
        })
    }

    /// Writes the last-used times collected since the previous call.
    pub async fn flush_token_usage(&self) -> Result<(), StoreError> {
        let used: Vec<(TokenId, Timestamp)> = match self.token_usage.lock() {
            Ok(mut usage) => usage.drain().collect(),
            Err(_) => return Ok(()),
        };
        if used.is_empty() {
            return Ok(());
        }
        self.store.touch_tokens(&used).await
    }

    /// Authorizes a read: the engine answers from the caller's snapshot; a denial is audited.
    pub fn require(&self, caller: &Caller, action: &'static str) -> Result<(), ApiError> {
        if caller
            .view
            .snapshot
            .check(caller.user.as_str(), action)
            .unwrap_or(false)
        {
            return Ok(());
        }
        self.audit_denied(
            &caller.org,
            &Actor::User(caller.user.clone()),
            action,
            "",
            "forbidden",
        );
        Err(ApiError::Forbidden(action.to_string()))
    }

    fn audit_denied(&self, org: &OrgId, actor: &Actor, action: &str, target: &str, code: &str) {
        let event = AuditEvent {
            id: format!("evt_{}", random_base32(16)),
            org_id: org.clone(),
            at: now(),
            actor: actor.describe(),
            action: action.to_string(),
            target: target.to_string(),
            outcome: "denied".to_string(),
            error_code: Some(code.to_string()),
            revision: 0,
            request_id: current_request_id(),
            changes: serde_json::Value::Null,
        };
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.record_audit(&event).await {
                tracing::error!(error = %e, "could not record an audit event");
            }
        });
    }

    /// Runs a command for `actor` and commits it; the new snapshot is published before
    /// this returns. Returns the new revision and the target id.
    pub async fn execute(
        &self,
        org: &OrgId,
        actor: &Actor,
        command: Command,
    ) -> Result<(Arc<OrgView>, String), ApiError> {
        let entry = self.entry(org)?;
        let _write = entry.write_lock.lock().await;
        let action = command.required_action();
        let target = command.target().unwrap_or_default().to_string();
        for _attempt in 0..5 {
            let current = entry.view.load_full();
            let mut ctx = SystemContext::new();
            let executed = match command::execute(
                &self.catalog,
                current.state(),
                actor,
                command.clone(),
                &mut ctx,
            ) {
                Ok(executed) => executed,
                Err(e) => {
                    if refusal_is_audited(&e) {
                        self.audit_denied(org, actor, action, &target, e.code());
                    }
                    return Err(e.into());
                }
            };
            let audit = AuditEvent {
                id: format!("evt_{}", random_base32(16)),
                org_id: org.clone(),
                at: ctx.now(),
                actor: actor.describe(),
                action: action.to_string(),
                target: executed.target.clone(),
                outcome: "allowed".to_string(),
                error_code: None,
                revision: executed.state.revision,
                request_id: current_request_id(),
                changes: serde_json::to_value(&executed.changes)
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            };
            match self
                .store
                .commit(org, current.revision(), &executed.changes, &audit)
                .await
            {
                Ok(_) => {
                    let target = executed.target.clone();
                    let view = self.install(executed.state);
                    return Ok((view, target));
                }
                Err(StoreError::RevisionConflict { .. }) => {
                    // Another server wrote first: take its state and run the command again.
                    self.reload(org).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::ConcurrentModification)
    }

    /// Creates an organization with its first admin, and a personal token for that admin.
    /// Returns the state and the token's secret (shown once).
    pub async fn create_organization(
        &self,
        name: &str,
        first: FirstUser,
        lifetime: TokenLifetime,
    ) -> Result<(Arc<OrgView>, String, TokenId), ApiError> {
        let mut ctx = SystemContext::new();
        let mut created = None;
        for _ in 0..10 {
            let bytes: [u8; 3] = random_bytes();
            let id = OrgId(token::to_hex(&bytes));
            if self.view(&id).is_some() {
                continue;
            }
            let executed = command::new_organization(
                &self.catalog,
                id.clone(),
                name,
                first.clone(),
                &mut ctx,
            )?;
            let audit = AuditEvent {
                id: format!("evt_{}", random_base32(16)),
                org_id: id.clone(),
                at: ctx.now(),
                actor: Actor::System.describe(),
                action: "iam.organizations.create".to_string(),
                target: id.0.clone(),
                outcome: "allowed".to_string(),
                error_code: None,
                revision: executed.state.revision,
                request_id: current_request_id(),
                changes: serde_json::to_value(&executed.changes)
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            };
            match self.store.create_organization(&executed, &audit).await {
                Ok(()) => {
                    created = Some(executed.state);
                    break;
                }
                Err(StoreError::OrgExists(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let state = created.ok_or_else(|| {
            ApiError::Internal("no free organization id after 10 attempts".to_string())
        })?;
        let org = state.org.id.clone();
        let admin = state.org.default_admin.clone();
        self.install(state);
        let (view, secret, token) = self
            .create_personal_token(&org, &admin, "initial admin token", "", lifetime)
            .await?;
        Ok((view, secret, token))
    }

    /// Creates a personal token for `user`, acting as that user.
    pub async fn create_personal_token(
        &self,
        org: &OrgId,
        user: &UserId,
        name: &str,
        note: &str,
        lifetime: TokenLifetime,
    ) -> Result<(Arc<OrgView>, String, TokenId), ApiError> {
        self.issue_personal_token(org, &Actor::User(user.clone()), user, name, note, lifetime)
            .await
    }

    /// Creates a personal token for `user` on behalf of `actor` (the user, or the system).
    pub async fn issue_personal_token(
        &self,
        org: &OrgId,
        actor: &Actor,
        user: &UserId,
        name: &str,
        note: &str,
        lifetime: TokenLifetime,
    ) -> Result<(Arc<OrgView>, String, TokenId), ApiError> {
        let secret = new_personal_secret();
        let (view, id) = self
            .execute(
                org,
                actor,
                Command::CreatePersonalToken {
                    user: user.clone(),
                    name: name.to_string(),
                    note: note.to_string(),
                    lifetime,
                    secret_hash: secret.hash_hex,
                    display_prefix: secret.display_prefix,
                },
            )
            .await?;
        Ok((view, secret.secret, TokenId(id)))
    }

    /// Background upkeep: picks up other servers' writes and flushes token usage.
    pub fn spawn_background(self: &Arc<Self>) {
        let warden = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(warden.settings.sync_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = warden.sync_from_store().await {
                    tracing::warn!(error = %e, "sync from store failed");
                }
                if let Err(e) = warden.flush_token_usage().await {
                    tracing::warn!(error = %e, "token usage flush failed");
                }
            }
        });
    }
}

/// Refusals that are denials of a management call (as opposed to malformed input).
fn refusal_is_audited(e: &DomainError) -> bool {
    matches!(
        e,
        DomainError::Forbidden { .. }
            | DomainError::SelfPrivilegeChange
            | DomainError::DefaultAdminProtected
            | DomainError::LastAdmin
            | DomainError::ReservedNamespacePermission(_)
            | DomainError::OperatorOnly
    )
}
