//! The harness (every test on both backends) and the fixture that drives an organization
//! through commands and commits them as the server does.

use std::future::Future;
use std::sync::Arc;

use warden_core::command::{
    diff, Change, FirstUser, Key, NewToken, ScopeInput, TokenCommand, TokenLifetime, UserCommand,
};
use warden_core::testkit::FixedContext;
use warden_core::*;
use warden_store::{AuditFilter, Backend, Commit, OutboxItem, Store, StoreError};

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// What a test gets: a store on a fresh, empty database, and the URL to reach it again.
pub struct Db {
    pub store: Store,
    pub url: String,
    pub backend: Backend,
}

/// Generates, for each test function `f` of the calling module, the tests `f::sqlite` and
/// `f::postgres`.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                crate::common::on_sqlite(super::$test).await
            }

            #[tokio::test]
            async fn postgres() {
                crate::common::on_postgres(super::$test).await
            }
        }
    )*};
}
pub(crate) use on_both_backends;

/// Runs `test` on a new SQLite file in a temporary directory.
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let url = format!("sqlite://{}", dir.path().join("warden.db").display());
    let pool = store.clone();
    test(Db {
        store,
        url,
        backend: Backend::Sqlite,
    })
    .await;
    pool.close().await;
}

/// Runs `test` on a new PostgreSQL database (see `warden_testing::with_postgres`: skipped
/// loudly when the server is unreachable, a failure with `CI=true`).
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Db) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    warden_testing::with_postgres(|url| async move {
        let store = Store::connect(&url).await.unwrap();
        let pool = store.clone();
        test(Db {
            store,
            url,
            backend: Backend::Postgres,
        })
        .await;
        // Every connection is returned before the harness drops the database.
        pool.close().await;
    })
    .await;
}

impl Db {
    /// Runs one SQL statement on the database behind the store's back (a test that tampers
    /// with rows), on a connection of its own.
    pub async fn tamper(&self, sql: &str) -> u64 {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url)
            .await
            .unwrap();
        let done = sqlx::Executor::execute(&mut conn, sql).await.unwrap();
        sqlx::Connection::close(conn).await.unwrap();
        done.rows_affected()
    }
}

/// The newest events of an organization, without filter or chain positions.
pub trait AuditOf {
    async fn events(&self, org: &OrgId, limit: u32) -> Result<Vec<AuditEvent>, StoreError>;
}

impl AuditOf for Store {
    async fn events(&self, org: &OrgId, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        let page = self
            .list_audit(org, &AuditFilter::default(), limit, None)
            .await?;
        Ok(page.events.into_iter().map(|e| e.event).collect())
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

pub const T0: i64 = 1_700_000_000_000;

pub fn catalog() -> Arc<Catalog> {
    Catalog::builtin().unwrap()
}

/// A secret hash (64 hex digits) per `n`.
pub fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// A command or a batch of commands computed against an organization, with what the server
/// writes in the same commit: one audit event per command (its action, target and changes,
/// the batch's request id and new revision) and one outbox item per effect.
pub struct Prepared {
    pub executed: Executed,
    pub audit: Vec<AuditEvent>,
    pub outbox: Vec<OutboxItem>,
}

impl Prepared {
    pub fn new(ctx: &mut FixedContext, actor: &Actor, executed: Executed) -> Prepared {
        let org = executed.state().org.id.clone();
        let revision = executed.revision();
        let request_id = format!("req_{}", ctx.random_suffix());
        let audit = executed
            .applied
            .iter()
            .map(|applied| AuditEvent {
                id: format!("evt_{}", ctx.random_suffix()),
                org_id: org.clone(),
                at: ctx.now,
                actor: actor.describe(),
                action: applied.action.to_string(),
                target: applied.target.clone(),
                outcome: Outcome::Allowed,
                error_code: None,
                revision,
                request_id: request_id.clone(),
                changes: serde_json::to_value(&applied.changes).unwrap(),
            })
            .collect();
        let outbox = executed
            .effects
            .iter()
            .map(|effect| {
                let id = format!("obx_{}", ctx.random_suffix());
                OutboxItem::new(id, org.clone(), effect.clone(), ctx.now)
            })
            .collect();
        Prepared {
            executed,
            audit,
            outbox,
        }
    }

    pub fn state(&self) -> &OrgState {
        self.executed.state()
    }

    pub fn org_id(&self) -> &OrgId {
        &self.state().org.id
    }

    pub fn target(&self) -> &str {
        self.executed.target()
    }

    /// Every row change, commands in order, each command's changes in order.
    pub fn changes(&self) -> Vec<&Change> {
        self.executed.changes().collect()
    }

    /// Writes a new organization (the result of `new_organization` or `as_created`).
    pub async fn create(&self, store: &Store) -> Result<(), StoreError> {
        let changes = self.changes();
        let state = self.state();
        store
            .create_organization(&state.org, state.revision, self.commit_of(&changes))
            .await
    }

    /// Commits the changes, audit events and outbox items, expecting `expected_revision`.
    pub async fn commit(&self, store: &Store, expected_revision: u64) -> Result<u64, StoreError> {
        self.commit_changes(store, expected_revision, self.changes())
            .await
    }

    /// Commits as [`Prepared::commit`], with one more change at the end.
    pub async fn commit_followed_by(
        &self,
        store: &Store,
        expected_revision: u64,
        last: &Change,
    ) -> Result<u64, StoreError> {
        let mut changes = self.changes();
        changes.push(last);
        self.commit_changes(store, expected_revision, changes).await
    }

    async fn commit_changes(
        &self,
        store: &Store,
        expected_revision: u64,
        changes: Vec<&Change>,
    ) -> Result<u64, StoreError> {
        store
            .commit(self.org_id(), expected_revision, self.commit_of(&changes))
            .await
    }

    fn commit_of<'a>(&'a self, changes: &'a [&'a Change]) -> Commit<'a> {
        Commit {
            changes,
            audit: &self.audit,
            outbox: &self.outbox,
            credentials: &[],
            password_resets: &[],
        }
    }

    /// The commit was written: its audit events are the newest of the organization (one
    /// instant, ids ascending, so listed in reverse) and its outbox items are stored as
    /// given.
    pub async fn assert_recorded(&self, store: &Store) {
        let limit = u32::try_from(self.audit.len()).unwrap();
        let mut newest = store.events(self.org_id(), limit).await.unwrap();
        newest.reverse();
        assert_eq!(newest, self.audit);
        for item in &self.outbox {
            assert_eq!(
                store.outbox_item(&item.id).await.unwrap().as_ref(),
                Some(item)
            );
        }
    }
}

/// An organization as the server holds it: the snapshot last committed (or accepted), and
/// a context to run commands with. `counter_base` keeps the ids of two organizations apart
/// (ids are global keys in the store; `FixedContext` counts from its counter).
pub struct Org {
    pub catalog: Arc<Catalog>,
    pub ctx: FixedContext,
    pub snapshot: Snapshot,
    pub admin: UserId,
}

impl Org {
    /// Creates the organization `id` (first user Ada, the admin) in the store.
    pub async fn create(store: &Store, id: &str, counter_base: u64) -> Org {
        let catalog = catalog();
        let mut ctx = FixedContext {
            now: Timestamp(T0),
            counter: counter_base,
        };
        let first = FirstUser {
            email: "Ada@Example.com".to_string(),
            first_name: "Ada".to_string(),
            last_name: "Lovelace".to_string(),
        };
        let executed = new_organization(
            &catalog,
            OrgId::from(id.to_string()),
            "Acme",
            first,
            &mut ctx,
        )
        .unwrap();
        let created = Prepared::new(&mut ctx, &Actor::System, executed);
        created.create(store).await.unwrap();
        let org = Org::at(catalog, ctx, created.state().clone());
        org.assert_stored(store).await;
        created.assert_recorded(store).await;
        org
    }

    /// An organization already in the store at `state`.
    pub fn at(catalog: Arc<Catalog>, ctx: FixedContext, state: OrgState) -> Org {
        Org {
            admin: state.org.default_admin.clone(),
            snapshot: Snapshot::compile(catalog.clone(), Arc::new(state), ctx.now),
            catalog,
            ctx,
        }
    }

    pub fn state(&self) -> &OrgState {
        self.snapshot.state()
    }

    pub fn id(&self) -> &OrgId {
        self.snapshot.org_id()
    }

    pub fn revision(&self) -> u64 {
        self.snapshot.revision()
    }

    /// Computes a command against the current state, one second later than the last one,
    /// without committing it (or moving the organization to its result).
    pub fn execute(&mut self, actor: &Actor, command: impl Into<Command>) -> Prepared {
        self.ctx.now.0 += 1_000;
        let executed = execute(&self.snapshot, actor, command.into(), &mut self.ctx).unwrap();
        Prepared::new(&mut self.ctx, actor, executed)
    }

    /// Computes a batch against the current state, without committing it.
    pub fn execute_all(
        &mut self,
        actor: &Actor,
        commands: Vec<Command>,
    ) -> Result<Prepared, BatchError> {
        self.ctx.now.0 += 1_000;
        let executed = execute_all(&self.snapshot, actor, commands, &mut self.ctx)?;
        Ok(Prepared::new(&mut self.ctx, actor, executed))
    }

    /// Moves the organization to the result of `prepared` (committed, or about to be).
    pub fn accept(&mut self, prepared: &Prepared) {
        let state = prepared.executed.state().clone();
        self.snapshot = Snapshot::compile(self.catalog.clone(), state, self.ctx.now);
    }

    /// Commits what was computed against the current state, then checks the store holds
    /// exactly the new state, the commit's audit events and its outbox items.
    pub async fn commit(&mut self, store: &Store, prepared: &Prepared) {
        let revision = prepared.commit(store, self.revision()).await.unwrap();
        assert_eq!(revision, prepared.executed.revision());
        assert_eq!(revision, self.revision() + 1);
        self.accept(prepared);
        self.assert_stored(store).await;
        prepared.assert_recorded(store).await;
    }

    /// Runs and commits a command, as a server does.
    pub async fn run_as(
        &mut self,
        store: &Store,
        actor: &Actor,
        command: impl Into<Command>,
    ) -> Prepared {
        let prepared = self.execute(actor, command);
        self.commit(store, &prepared).await;
        prepared
    }

    pub async fn run(&mut self, store: &Store, command: impl Into<Command>) -> Prepared {
        self.run_as(store, &Actor::System, command).await
    }

    /// Commits the changes that turn the current state into `next` (for what no command
    /// does, such as service accounts), then checks the store holds exactly `next`.
    pub async fn commit_state(&mut self, store: &Store, mut next: OrgState) {
        next.revision = self.revision() + 1;
        let changes = diff(self.state(), &next);
        self.ctx.now.0 += 1_000;
        let audit = AuditEvent {
            id: format!("evt_{}", self.ctx.random_suffix()),
            org_id: self.id().clone(),
            at: self.ctx.now,
            actor: Actor::System.describe(),
            action: "test.diff".to_string(),
            target: String::new(),
            outcome: Outcome::Allowed,
            error_code: None,
            revision: next.revision,
            request_id: format!("req_{}", self.ctx.random_suffix()),
            changes: serde_json::to_value(&changes).unwrap(),
        };
        let commit = Commit {
            changes: &changes.iter().collect::<Vec<_>>(),
            audit: std::slice::from_ref(&audit),
            outbox: &[],
            credentials: &[],
            password_resets: &[],
        };
        let revision = store
            .commit(self.id(), self.revision(), commit)
            .await
            .unwrap();
        assert_eq!(revision, next.revision);
        self.snapshot = Snapshot::compile(self.catalog.clone(), Arc::new(next), self.ctx.now);
        self.assert_stored(store).await;
    }

    /// The store holds exactly (`==`) the organization's current state.
    pub async fn assert_stored(&self, store: &Store) {
        let loaded = store.load_org(self.id()).await.unwrap();
        assert_eq!(loaded.as_ref(), Some(self.state()));
    }

    pub async fn create_user(&mut self, store: &Store, email: &str) -> UserId {
        let created = self
            .run(
                store,
                UserCommand::Create {
                    email: email.to_string(),
                    first_name: "Bob".to_string(),
                    last_name: "Builder".to_string(),
                },
            )
            .await;
        UserId::from(created.target().to_string())
    }

    /// A personal token of the admin, created by the admin.
    pub async fn create_token(
        &mut self,
        store: &Store,
        secret_hash: &str,
        lifetime: TokenLifetime,
    ) -> TokenId {
        let admin = Actor::user(self.admin.clone());
        let created = self
            .run_as(
                store,
                &admin,
                TokenCommand::CreatePersonal {
                    owner: Key::from(&self.admin),
                    token: NewToken {
                        // Names are unique per owner: one per secret.
                        name: format!("laptop {}", secret_hash.get(..8).unwrap_or(secret_hash)),
                        note: "for the CLI".to_string(),
                        lifetime,
                        secret_hash: secret_hash.to_string(),
                        display_prefix: "wdn_pat_abcdef".to_string(),
                        scope: ScopeInput::default(),
                    },
                },
            )
            .await;
        TokenId::from(created.target().to_string())
    }

    /// Adds a service account through a raw state diff (no command creates one).
    pub async fn add_service_account(
        &mut self,
        store: &Store,
        id: &str,
        active: bool,
    ) -> ServiceAccountId {
        let id = ServiceAccountId::from(id.to_string());
        let mut next = self.state().clone();
        next.service_accounts.insert(
            id.clone(),
            ServiceAccount {
                id: id.clone(),
                name: format!("robot {id}"),
                created_by: Some(self.admin.clone()),
                active,
                system_managed: false,
                created_at: self.ctx.now,
            },
        );
        self.commit_state(store, next).await;
        id
    }
}
