//! Warden's storage: organizations ([`OrgState`]), the audit log and the outbox, on SQLite
//! or PostgreSQL behind one API, [`Store`]. Both backends go through sqlx's `Any` driver and
//! share one copy of every SQL statement: one file per entity under `entity/`, plus
//! `audit.rs` and `outbox.rs`.
//!
//! What the store guarantees:
//! - **Exact round trip.** [`Store::load_org`] returns exactly (`==`) the [`OrgState`] that
//!   was committed, revision included. Loads read one consistent snapshot.
//! - **One transaction per change.** [`Store::create_organization`] and [`Store::commit`]
//!   write the revision, every [`Change`] (in the order given), the audit events and the
//!   outbox items together, or nothing at all.
//! - **Optimistic concurrency.** A commit names the revision its changes were computed from;
//!   if the organization is no longer at it, the commit fails with
//!   [`StoreError::RevisionConflict`] and writes nothing.
//! - A change never reaches into another organization: every row carries its organization,
//!   and a put or delete that does not match the rows of the organization committed to
//!   fails with [`StoreError::Inconsistent`].
//!
//! The schema is created and upgraded by forward-only migrations embedded in the binary
//! (`migrations/`), run by [`Store::connect`].

mod audit;
mod changelog;
mod codec;
mod credentials;
mod entity;
mod error;
mod exec;
mod migrate;
mod outbox;
mod platform;
mod saml;
mod sessions;
mod url;

use std::path::Path;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::{Any, Executor, Transaction};

use crate::exec::Run;
use warden_core::audit_chain::{BrokenLink, VerifiedChain};
use warden_core::command::Change;
use warden_core::{AuditEvent, OrgId, OrgState, Organization, Timestamp, TokenId};

pub use crate::audit::{AuditFilter, AuditPage, ChainedEvent};
pub use crate::changelog::{ChangeListener, Heard, CHANGES_CHANNEL, KEPT_REVISIONS};
pub use crate::credentials::Credential;
pub use crate::error::StoreError;
pub use crate::outbox::OutboxItem;
pub use crate::platform::{Operator, OperatorToken};
pub use crate::sessions::{NewPasswordReset, PasswordReset, Session};
pub use crate::url::redact_url;
use crate::url::{percent_encode, sqlite_in_memory, sqlite_url_creating};

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of_url(url: &str) -> Result<Backend, StoreError> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Ok(Backend::Sqlite),
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            _ => Err(StoreError::Database(sqlx::Error::Configuration(
                "the database URL must start with sqlite:// or postgres://".into(),
            ))),
        }
    }
}

/// What one commit writes besides the revision: row changes in order, the audit events (one
/// per command), the outbox items, and the passwords of users it creates.
#[derive(Debug, Clone, Copy)]
pub struct Commit<'a> {
    pub changes: &'a [&'a Change],
    pub audit: &'a [AuditEvent],
    pub outbox: &'a [OutboxItem],
    pub credentials: &'a [Credential],
    /// Password links created with the change (written after its rows).
    pub password_resets: &'a [NewPasswordReset],
}

/// Per-connection settings of SQLite: enforce foreign keys, wait up to 5 s for a lock, and
/// sync the WAL on every commit (a commit that returned survives a power cut).
const SQLITE_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;";

/// A connection pool to Warden's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Where to open a listening connection (PostgreSQL only).
    listen_url: Option<DatabaseUrl>,
}

/// A database URL that `Debug` prints with its password redacted.
#[derive(Clone)]
struct DatabaseUrl(pub(crate) String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl Store {
    /// Connects to `sqlite://path/to/file.db` (the file is created if missing, unless the URL
    /// sets `mode=`) or `postgres://...`, and runs the embedded migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let mut options = AnyPoolOptions::new();
        let url = match backend {
            Backend::Sqlite => {
                if sqlite_in_memory(url) {
                    // The Any driver parses the URL again for every new connection, and each
                    // parse of an in-memory URL names a new, empty database: keep exactly one
                    // connection, forever.
                    options = options
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None);
                }
                options = options.after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute(SQLITE_PRAGMAS).await?;
                        Ok(())
                    })
                });
                sqlite_url_creating(url)
            }
            Backend::Postgres => url.to_string(),
        };
        let pool = options.connect(&url).await?;
        if backend == Backend::Sqlite {
            // The journal mode is a property of the file. Switching it needs an exclusive
            // lock that busy_timeout does not wait for, so it is done once, here, while the
            // pool holds its first connection only.
            let mut conn = pool.acquire().await?;
            conn.execute("PRAGMA journal_mode = WAL").await?;
        }
        migrate::run(&pool, backend).await?;
        let listen_url = (backend == Backend::Postgres).then(|| DatabaseUrl(url.clone()));
        Ok(Store {
            pool,
            backend,
            listen_url,
        })
    }

    /// SQLite at `<dir>/warden.db`, creating the directory and the file if missing.
    pub async fn open_data_dir(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        let file = dir.join("warden.db");
        let url = format!(
            "sqlite://{}?mode=rwc",
            percent_encode(file.as_os_str().as_encoded_bytes())
        );
        Store::connect(&url).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection of the pool (waiting for those in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Inserts a new organization at `revision`: its row, then every change, the audit
    /// events and the outbox items, in one transaction. [`StoreError::OrgExists`] if the id
    /// is taken.
    pub async fn create_organization(
        &self,
        org: &Organization,
        revision: u64,
        commit: Commit<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if !entity::organization::insert(&mut tx, org, revision).await? {
            tx.rollback().await?;
            return Err(StoreError::OrgExists(org.id.to_string()));
        }
        write_commit(&mut tx, &org.id, &commit).await?;
        let audit: Vec<&AuditEvent> = commit.audit.iter().collect();
        audit::append(&mut tx, &org.id, &audit).await?;
        changelog::append(&mut tx, &org.id, revision, commit.changes).await?;
        self.notify(&mut tx, &org.id, revision).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Commits one change of `org`: its entity changes, audit events and outbox items, in one
    /// transaction, if the organization is still at `expected_revision` (which becomes
    /// `expected_revision + 1`). Returns the new revision.
    pub async fn commit(
        &self,
        org: &OrgId,
        expected_revision: u64,
        commit: Commit<'_>,
    ) -> Result<u64, StoreError> {
        self.commit_all(org, expected_revision, std::slice::from_ref(&commit), &[])
            .await
    }

    /// Group commit: several changes of `org`, each its own revision (`expected_revision +
    /// 1`, `+ 2`, ...), plus `extra_audit` (events that change nothing, such as refused calls),
    /// in **one** transaction: one sync to disk for all of them. All or nothing, and only if
    /// the organization is still at `expected_revision`. Returns the last revision.
    pub async fn commit_all(
        &self,
        org: &OrgId,
        expected_revision: u64,
        commits: &[Commit<'_>],
        extra_audit: &[AuditEvent],
    ) -> Result<u64, StoreError> {
        let count = u64::try_from(commits.len())
            .map_err(|_| StoreError::Inconsistent("too many commits".to_string()))?;
        let new_revision = expected_revision
            .checked_add(count)
            .ok_or_else(|| StoreError::Inconsistent("revision overflow".to_string()))?;
        let mut tx = self.pool.begin().await?;
        if count > 0
            && !entity::organization::bump_revision(&mut tx, org, expected_revision, new_revision)
                .await?
        {
            let actual = entity::organization::revision(&mut tx, org).await?;
            tx.rollback().await?;
            return Err(StoreError::RevisionConflict {
                org: org.to_string(),
                expected: expected_revision,
                actual,
            });
        }
        for (revision, commit) in (expected_revision + 1..).zip(commits) {
            write_commit(&mut tx, org, commit).await?;
            changelog::append(&mut tx, org, revision, commit.changes).await?;
        }
        if count > 0 {
            self.notify(&mut tx, org, new_revision).await?;
        }
        // Every event of the transaction, in order, appended under one hold of the head.
        let audit: Vec<&AuditEvent> = commits
            .iter()
            .flat_map(|c| c.audit)
            .chain(extra_audit)
            .collect();
        audit::append(&mut tx, org, &audit).await?;
        tx.commit().await?;
        Ok(new_revision)
    }

    /// The organization as last committed, or `None` if it does not exist.
    pub async fn load_org(&self, org: &OrgId) -> Result<Option<OrgState>, StoreError> {
        let mut tx = self.begin_read().await?;
        let mut states = entity::load(&mut tx, entity::Scope::One(org)).await?;
        tx.rollback().await?;
        Ok(states.remove(org))
    }

    /// Every organization, by id (one query per table, not per organization).
    pub async fn load_all(&self) -> Result<Vec<OrgState>, StoreError> {
        let mut tx = self.begin_read().await?;
        let states = entity::load(&mut tx, entity::Scope::All).await?;
        tx.rollback().await?;
        Ok(states.into_values().collect())
    }

    /// The organizations whose ids lie from `first` to `last` (both included), by id: one
    /// query per table, using the tables' `org_id` indexes. Loads of disjoint ranges on
    /// separate connections run side by side (a cold start loads many at once).
    pub async fn load_range(
        &self,
        first: &OrgId,
        last: &OrgId,
    ) -> Result<Vec<OrgState>, StoreError> {
        let mut tx = self.begin_read().await?;
        let states = entity::load(&mut tx, entity::Scope::Range { first, last }).await?;
        tx.rollback().await?;
        Ok(states.into_values().collect())
    }

    /// Every token's secret hash (hex) and organization: what a server needs to tell a known
    /// token from a made-up one before it has loaded the organizations themselves.
    pub async fn token_index(&self) -> Result<Vec<(String, OrgId)>, StoreError> {
        entity::token::index(&self.pool).await
    }

    /// Whether the database answers (one trivial query).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").run(&self.pool).await?;
        Ok(())
    }

    /// The revision of every organization, by id.
    pub async fn org_revisions(&self) -> Result<Vec<(OrgId, u64)>, StoreError> {
        entity::organization::revisions(&self.pool).await
    }

    /// The revision of one organization (`None` if it does not exist): one row, cheap.
    pub async fn org_revision(&self, org: &OrgId) -> Result<Option<u64>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        entity::organization::revision(&mut conn, org).await
    }

    /// The organization of the token whose secret has this hex SHA-256.
    pub async fn org_of_token(&self, secret_hash_hex: &str) -> Result<Option<OrgId>, StoreError> {
        entity::token::org_of(&self.pool, secret_hash_hex).await
    }

    /// Records an audit event outside any organization change (a refused call): appended
    /// to its organization's chain in a transaction of its own.
    pub async fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        audit::append(&mut tx, &event.org_id, &[event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// At most `limit` audit events of `org` that pass `filter`, newest first (by their
    /// place in the chain); with `cursor` (a page's `next_cursor`), those after that page.
    pub async fn list_audit(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        limit: u32,
        cursor: Option<u64>,
    ) -> Result<AuditPage, StoreError> {
        audit::list(&self.pool, org, filter, limit, cursor).await
    }

    /// Recomputes `org`'s audit chain from its head back to its first event: the chain, or
    /// its first broken link (an event altered, events missing, or a head the chain does not
    /// end at).
    pub async fn verify_audit(
        &self,
        org: &OrgId,
    ) -> Result<Result<VerifiedChain, BrokenLink>, StoreError> {
        audit::verify(&self.pool, org).await
    }

    /// Records when tokens were last used. A time earlier than the one stored is ignored;
    /// unknown tokens are ignored. Does not change any organization's revision.
    pub async fn touch_tokens(&self, used: &[(TokenId, Timestamp)]) -> Result<(), StoreError> {
        if used.is_empty() {
            return Ok(());
        }
        // Rows are locked in id order, so two concurrent batches cannot deadlock.
        let mut sorted: Vec<&(TokenId, Timestamp)> = used.iter().collect();
        sorted.sort();
        let mut tx = self.pool.begin().await?;
        for (token, at) in sorted {
            entity::token::touch(&mut tx, token, *at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// When each token of `org` that was ever used was last used, by token id.
    pub async fn token_last_used(
        &self,
        org: &OrgId,
    ) -> Result<Vec<(TokenId, Timestamp)>, StoreError> {
        entity::token::last_used(&self.pool, org).await
    }

    /// Claims up to `limit` due outbox items for `worker` until `now + lease_ms`.
    pub async fn claim_outbox(
        &self,
        worker: &str,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        outbox::claim(&self.pool, worker, now, lease_ms, limit).await
    }

    /// Marks an outbox item delivered; `false` if `worker` no longer holds its claim.
    pub async fn outbox_delivered(
        &self,
        id: &str,
        worker: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        outbox::delivered(&self.pool, id, worker, at).await
    }

    /// Records a failed delivery of an outbox item, to be tried again at `retry_at`;
    /// `false` if `worker` no longer holds its claim (nothing changes then).
    pub async fn outbox_failed(
        &self,
        id: &str,
        worker: &str,
        error: &str,
        retry_at: Timestamp,
    ) -> Result<bool, StoreError> {
        outbox::failed(&self.pool, id, worker, error, retry_at).await
    }

    /// One outbox item, delivered or not.
    pub async fn outbox_item(&self, id: &str) -> Result<Option<OutboxItem>, StoreError> {
        outbox::get(&self.pool, id).await
    }

    /// Every outbox item of an organization, oldest first.
    pub async fn outbox_of(&self, org: &OrgId) -> Result<Vec<OutboxItem>, StoreError> {
        outbox::of_org(&self.pool, org).await
    }

    /// How many outbox items wait for delivery.
    pub async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        outbox::backlog(&self.pool).await
    }

    /// A transaction whose reads all see one snapshot of the database.
    async fn begin_read(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // SQLite (WAL) keeps one snapshot for a whole read transaction; PostgreSQL's default
        // READ COMMITTED takes a new one per statement.
        if self.backend == Backend::Postgres {
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await?;
        }
        Ok(tx)
    }
}

/// Writes a commit's changes and outbox items inside `tx` (its audit events are appended to
/// the chain after every commit of the transaction).
async fn write_commit(
    tx: &mut Transaction<'static, Any>,
    org: &OrgId,
    commit: &Commit<'_>,
) -> Result<(), StoreError> {
    for change in commit.changes {
        entity::apply(tx, org, change).await?;
    }
    if let Some(event) = commit.audit.iter().find(|e| e.org_id != *org) {
        return Err(StoreError::Inconsistent(format!(
            "a commit of `{org}` carries an audit event of `{}`",
            event.org_id
        )));
    }
    for item in commit.outbox {
        if item.org_id != *org {
            return Err(StoreError::Inconsistent(format!(
                "a commit of `{org}` carries an outbox item of `{}`",
                item.org_id
            )));
        }
        outbox::insert(tx, item).await?;
    }
    for credential in commit.credentials {
        credentials::put(tx, org, credential).await?;
    }
    for new in commit.password_resets {
        if new.reset.org != *org {
            return Err(StoreError::Inconsistent(format!(
                "a commit of `{org}` carries a password link of `{}`",
                new.reset.org
            )));
        }
        sessions::put_reset(tx, new).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use sqlx::Row;

    #[test]
    fn backends_by_url() {
        assert!(Backend::of_url("mysql://x").is_err());
        assert_eq!(
            Backend::of_url("postgresql://x").unwrap(),
            Backend::Postgres
        );
    }

    /// Every future of the API is `Send`, so it can run on a multi-threaded runtime (and
    /// in axum handlers). Compile-time only.
    #[allow(dead_code, clippy::let_underscore_future)]
    fn futures_are_send(store: &Store, commit: Commit<'_>, audit: &AuditEvent, org: &Organization) {
        fn send<T: Send>(_: T) {}
        send(Store::connect("sqlite://x"));
        send(Store::open_data_dir(Path::new("x")));
        send(store.create_organization(org, 1, commit));
        let org = &org.id;
        send(store.commit(org, 1, commit));
        send(store.claim_outbox("w", Timestamp(0), 1, 1));
        send(store.outbox_delivered("x", "w", Timestamp(0)));
        send(store.outbox_failed("x", "w", "e", Timestamp(0)));
        send(store.outbox_item("x"));
        send(store.outbox_of(org));
        send(store.outbox_backlog());
        send(store.load_org(org));
        send(store.load_all());
        send(store.org_revisions());
        send(store.org_of_token("x"));
        send(store.record_audit(audit));
        send(store.list_audit(org, &AuditFilter::default(), 1, None));
        send(store.verify_audit(org));
        send(store.touch_tokens(&[]));
        send(store.token_last_used(org));
        send(store.close());
    }

    /// An in-memory SQLite store is one database, not one per pooled connection.
    #[tokio::test]
    async fn sqlite_in_memory_is_one_database() {
        for url in ["sqlite::memory:", "sqlite://warden?mode=memory"] {
            assert!(sqlite_in_memory(url));
            let store = Store::connect(url).await.unwrap();
            let catalog = warden_core::Catalog::builtin().unwrap();
            let mut ctx = warden_core::testkit::FixedContext::new(1);
            let first = warden_core::command::FirstUser {
                email: "ada@example.com".into(),
                first_name: "Ada".into(),
                last_name: "L".into(),
            };
            let executed = warden_core::new_organization(
                &catalog,
                OrgId::from("abcdef"),
                "A",
                first,
                &mut ctx,
            )
            .unwrap();
            let audit = AuditEvent {
                id: "evt_1".into(),
                org_id: OrgId::from("abcdef"),
                at: Timestamp(1),
                actor: "system".into(),
                action: "create".into(),
                target: String::new(),
                outcome: warden_core::Outcome::Allowed,
                error_code: None,
                revision: 1,
                request_id: String::new(),
                changes: serde_json::Value::Null,
            };
            let changes: Vec<&Change> = executed.changes().collect();
            let state = executed.state();
            let commit = Commit {
                changes: &changes,
                audit: std::slice::from_ref(&audit),
                outbox: &[],
                credentials: &[],
                password_resets: &[],
            };
            store
                .create_organization(&state.org, state.revision, commit)
                .await
                .unwrap();
            let org = OrgId::from("abcdef");
            let (a, b) = tokio::join!(store.load_all(), store.load_org(&org));
            assert_eq!(a.unwrap(), vec![OrgState::clone(state)]);
            assert_eq!(b.unwrap().as_ref(), Some(state.as_ref()));
        }
        assert!(!sqlite_in_memory("sqlite://memory.db"));
    }

    /// The SQLite settings hold on every pooled connection.
    #[tokio::test]
    async fn sqlite_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(&dir.path().join("odd name?#%"))
            .await
            .unwrap();
        assert!(dir.path().join("odd name?#%").join("warden.db").is_file());
        let mut conns = Vec::new();
        for _ in 0..3 {
            let mut conn = store.pool.acquire().await.unwrap();
            let pragma = |name: &'static str| format!("PRAGMA {name}");
            let journal: String = sqlx::query(&pragma("journal_mode"))
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .get(0);
            assert_eq!(journal, "wal");
            for (name, want) in [
                ("foreign_keys", 1),
                ("synchronous", 2),
                ("busy_timeout", 5000),
            ] {
                let got: i64 = sqlx::query(&pragma(name))
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap()
                    .get(0);
                assert_eq!(got, want, "PRAGMA {name}");
            }
            conns.push(conn);
        }
    }
}
