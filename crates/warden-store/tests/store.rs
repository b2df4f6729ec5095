//! The store contract, checked on both backends: every test below runs once on a fresh
//! SQLite file (`<test>::sqlite`) and once on a fresh PostgreSQL database
//! (`<test>::postgres`).
//!
//! PostgreSQL: `WARDEN_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! names a server and a database to connect to; each test creates its own database
//! `warden_t_<random hex>` there and drops it afterwards. If the server cannot be reached the
//! PostgreSQL half is skipped with a loud message, or fails when `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, Executor};
use warden_core::command::{
    diff, Change, Entity, FirstUser, PrincipalInput, PrincipalKind, RuleInput, TokenLifetime,
};
use warden_core::testkit::{as_created, generate_org, FixedContext, Workload};
use warden_core::*;
use warden_store::{Backend, Store, StoreError};

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// What a test gets: a store on a fresh, empty database, and the URL to reach it again.
struct Db {
    store: Store,
    url: String,
    backend: Backend,
}

/// Generates, for each test function `f`, the tests `f::sqlite` and `f::postgres`.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                crate::on_sqlite(super::$test).await
            }

            #[tokio::test]
            async fn postgres() {
                crate::on_postgres(super::$test).await
            }
        }
    )*};
}

on_both_backends!(
    create_and_load,
    org_exists,
    users_and_organization,
    groups_and_memberships,
    policies_keep_rule_and_role_order,
    service_accounts,
    namespaces_and_grants,
    clusters,
    tokens_and_lookup,
    touch_tokens_keeps_revision,
    revision_conflict_writes_nothing,
    failing_change_rolls_back,
    rows_of_other_orgs_are_untouchable,
    load_all_two_orgs,
    audit_log,
    generated_org_round_trip,
    concurrent_commits_one_wins,
    loads_are_snapshots,
    reopen_keeps_everything,
);

async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let url = format!("sqlite://{}", dir.path().join("warden.db").display());
    test(Db {
        store,
        url,
        backend: Backend::Sqlite,
    })
    .await;
}

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Db) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let server = std::env::var("WARDEN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
    let connecting = sqlx::PgConnection::connect(&server);
    let mut admin = match tokio::time::timeout(Duration::from_secs(10), connecting).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return postgres_unreachable(&server, &e.to_string()),
        Err(_) => return postgres_unreachable(&server, "connection timed out after 10 s"),
    };
    let name = format!("warden_t_{}", random_hex());
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let url = with_database(&server, &name);

    // The test runs in its own task so that a failing test still drops its database.
    let outcome = tokio::spawn({
        let url = url.clone();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let pool = store.clone();
            test(Db {
                store,
                url,
                backend: Backend::Postgres,
            })
            .await;
            pool.close().await;
        }
    })
    .await;

    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    if let Err(e) = admin.execute(drop.as_str()).await {
        eprintln!("warning: could not drop test database {name}: {e}");
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn postgres_unreachable(server: &str, why: &str) {
    let server = redact(server);
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("PostgreSQL not reachable at {server} (CI=true, so this is a failure): {why}");
    }
    eprintln!(
        "\n**********\nSKIPPED: PostgreSQL not reachable at {server}: {why}\n\
         (set WARDEN_TEST_POSTGRES_URL to test the PostgreSQL backend)\n**********\n"
    );
}

/// The URL without its password.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// The server URL with its database replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    format!("{:016x}", hasher.finish())
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

const T0: i64 = 1_700_000_000_000;

fn catalog() -> Arc<Catalog> {
    Catalog::builtin().unwrap()
}

/// An organization as the server would hold it: the state last committed, and a context to
/// run commands with. `counter_base` keeps the ids of two organizations apart (ids are
/// global keys in the store; `FixedContext` counts from its counter).
struct Org {
    catalog: Arc<Catalog>,
    ctx: FixedContext,
    state: OrgState,
    admin: UserId,
}

fn audit_for(
    ctx: &mut FixedContext,
    state: &OrgState,
    action: &str,
    target: &str,
    changes: &[Change],
) -> AuditEvent {
    AuditEvent {
        id: format!("evt_{}", ctx.random_suffix()),
        org_id: state.org.id.clone(),
        at: ctx.now,
        actor: "system".to_string(),
        action: action.to_string(),
        target: target.to_string(),
        outcome: "allowed".to_string(),
        error_code: None,
        revision: state.revision,
        request_id: format!("req_{}", ctx.random_suffix()),
        changes: serde_json::to_value(changes).unwrap(),
    }
}

impl Org {
    async fn create(store: &Store, id: &str, counter_base: u64) -> Org {
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
        let executed =
            new_organization(&catalog, OrgId(id.to_string()), "Acme", first, &mut ctx).unwrap();
        let audit = audit_for(
            &mut ctx,
            &executed.state,
            "iam.organizations.create",
            &executed.target,
            &executed.changes,
        );
        store.create_organization(&executed, &audit).await.unwrap();
        let org = Org {
            catalog,
            ctx,
            admin: executed.state.org.default_admin.clone(),
            state: executed.state,
        };
        org.assert_stored(store).await;
        org
    }

    fn id(&self) -> &OrgId {
        &self.state.org.id
    }

    /// Computes a command against the current state without committing it.
    fn execute(&mut self, actor: &Actor, command: Command) -> (Executed, AuditEvent) {
        self.ctx.now.0 += 1_000;
        let action = command.required_action();
        let executed = execute(&self.catalog, &self.state, actor, command, &mut self.ctx).unwrap();
        let audit = audit_for(
            &mut self.ctx,
            &executed.state,
            action,
            &executed.target,
            &executed.changes,
        );
        (executed, audit)
    }

    /// Runs and commits a command, then checks the store holds exactly the new state.
    async fn run_as(&mut self, store: &Store, actor: &Actor, command: Command) -> Executed {
        let (executed, audit) = self.execute(actor, command);
        let revision = store
            .commit(self.id(), self.state.revision, &executed.changes, &audit)
            .await
            .unwrap();
        assert_eq!(revision, executed.state.revision);
        assert_eq!(revision, self.state.revision + 1);
        self.state = executed.state.clone();
        self.assert_stored(store).await;
        executed
    }

    async fn run(&mut self, store: &Store, command: Command) -> Executed {
        self.run_as(store, &Actor::System, command).await
    }

    /// Commits the changes that turn the current state into `next` (for what no command
    /// does, such as service accounts), then checks the store holds exactly `next`.
    async fn commit_state(&mut self, store: &Store, mut next: OrgState) {
        next.revision = self.state.revision + 1;
        let changes = diff(&self.state, &next);
        self.ctx.now.0 += 1_000;
        let audit = audit_for(&mut self.ctx, &next, "test.diff", "", &changes);
        let revision = store
            .commit(self.id(), self.state.revision, &changes, &audit)
            .await
            .unwrap();
        assert_eq!(revision, next.revision);
        self.state = next;
        self.assert_stored(store).await;
    }

    async fn assert_stored(&self, store: &Store) {
        let loaded = store.load_org(self.id()).await.unwrap();
        assert_eq!(loaded.as_ref(), Some(&self.state));
    }

    async fn create_user(&mut self, store: &Store, email: &str) -> UserId {
        let executed = self
            .run(
                store,
                Command::CreateUser {
                    email: email.to_string(),
                    first_name: "Bob".to_string(),
                    last_name: "Builder".to_string(),
                },
            )
            .await;
        UserId(executed.target)
    }

    async fn create_token(
        &mut self,
        store: &Store,
        secret_hash: &str,
        lifetime: TokenLifetime,
    ) -> TokenId {
        let admin = Actor::User(self.admin.clone());
        let executed = self
            .run_as(
                store,
                &admin,
                Command::CreatePersonalToken {
                    user: self.admin.clone(),
                    name: "laptop".to_string(),
                    note: "for the CLI".to_string(),
                    lifetime,
                    secret_hash: secret_hash.to_string(),
                    display_prefix: "wdn_pat_abcdef".to_string(),
                },
            )
            .await;
        TokenId(executed.target)
    }
}

fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn is_unique_violation(err: &StoreError) -> bool {
    matches!(err, StoreError::Database(e)
        if e.as_database_error().is_some_and(|d| d.is_unique_violation()))
}

fn is_foreign_key_violation(err: &StoreError) -> bool {
    matches!(err, StoreError::Database(e)
        if e.as_database_error().is_some_and(|d| d.is_foreign_key_violation()))
}

// ---------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------

async fn create_and_load(db: Db) {
    let store = &db.store;
    assert_eq!(store.backend(), db.backend);
    assert!(store.load_all().await.unwrap().is_empty());
    let org = Org::create(store, "a1b2c3", 0).await;
    assert_eq!(org.state.revision, 1);
    assert_eq!(org.state.groups.len(), 5);
    assert_eq!(org.state.policies.len(), 5);
    assert_eq!(org.state.memberships.len(), 1);
    assert_eq!(store.load_org(&OrgId("ffffff".into())).await.unwrap(), None);
    assert_eq!(
        store.org_revisions().await.unwrap(),
        vec![(org.id().clone(), 1)]
    );
    assert_eq!(store.load_all().await.unwrap(), vec![org.state.clone()]);
    let audit = store.list_audit(org.id(), 10, None).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "iam.organizations.create");
    assert_eq!(audit[0].revision, 1);
}

async fn org_exists(db: Db) {
    let store = &db.store;
    let org = Org::create(store, "a1b2c3", 0).await;
    let mut ctx = FixedContext {
        now: Timestamp(T0 + 5),
        counter: 500,
    };
    let first = FirstUser {
        email: "eve@example.com".to_string(),
        first_name: "Eve".to_string(),
        last_name: "Else".to_string(),
    };
    let again = new_organization(&catalog(), org.id().clone(), "Other", first, &mut ctx).unwrap();
    let audit = audit_for(&mut ctx, &again.state, "x", "", &again.changes);
    let err = store.create_organization(&again, &audit).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::OrgExists(id) if id == "a1b2c3"),
        "{err:?}"
    );
    org.assert_stored(store).await;
    assert_eq!(store.list_audit(org.id(), 10, None).await.unwrap().len(), 1);
}

async fn users_and_organization(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    org.run(
        store,
        Command::UpdateOrganization {
            name: "Acme Corp".to_string(),
        },
    )
    .await;
    assert_eq!(org.state.org.name, "Acme Corp");
    let bob = org.create_user(store, "Bob@Example.COM").await;
    org.run(
        store,
        Command::UpdateUser {
            user: bob.clone(),
            first_name: Some("Robert".to_string()),
            last_name: None,
        },
    )
    .await;
    org.run(store, Command::DeactivateUser { user: bob.clone() })
        .await;
    let loaded = store.load_org(org.id()).await.unwrap().unwrap();
    assert_eq!(loaded.users[&bob].status, UserStatus::Deactivated);
    assert_eq!(loaded.users[&bob].email, "Bob@Example.COM");
    org.run(store, Command::ReactivateUser { user: bob }).await;
    assert_eq!(org.state.revision, 6);
}

async fn groups_and_memberships(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let bob = org.create_user(store, "bob@example.com").await;
    let group = GroupId(
        org.run(
            store,
            Command::CreateGroup {
                name: "ml-engineers".to_string(),
                description: "Trains models\nand serves them".to_string(),
            },
        )
        .await
        .target,
    );
    for user in [bob.clone(), org.admin.clone()] {
        org.run(
            store,
            Command::AddGroupMember {
                group: group.clone(),
                user,
            },
        )
        .await;
    }
    assert_eq!(org.state.members_of(&group).count(), 2);
    org.run(
        store,
        Command::UpdateGroup {
            group: group.clone(),
            name: Some("ml-team".to_string()),
            description: Some(String::new()),
        },
    )
    .await;
    org.run(
        store,
        Command::RemoveGroupMember {
            group: group.clone(),
            user: bob,
        },
    )
    .await;
    // Deleting the group deletes its remaining membership first (explicit child delete).
    let executed = org
        .run(
            store,
            Command::DeleteGroup {
                group: group.clone(),
            },
        )
        .await;
    assert_eq!(executed.changes.len(), 2);
    assert!(!org.state.groups.contains_key(&group));
}

async fn policies_keep_rule_and_role_order(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let bob = org.create_user(store, "bob@example.com").await;
    let ops = GroupId(
        org.run(
            store,
            Command::CreateGroup {
                name: "ops".to_string(),
                description: String::new(),
            },
        )
        .await
        .target,
    );
    let rule = |kind: PrincipalKind, id: &str, roles: &[&str]| RuleInput {
        principal: PrincipalInput {
            kind,
            id: id.to_string(),
        },
        roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    let policy = PolicyId(
        org.run(
            store,
            Command::CreatePolicy {
                name: "Operations".to_string(),
                description: "On-call".to_string(),
                rules: vec![
                    rule(
                        PrincipalKind::Group,
                        "ops",
                        &["cks-viewer", "iam-viewer", "billing-viewer"],
                    ),
                    rule(
                        PrincipalKind::User,
                        "bob@example.com",
                        &["observability-viewer", "access-token-viewer"],
                    ),
                    rule(PrincipalKind::Group, ops.as_str(), &["inference-viewer"]),
                ],
            },
        )
        .await
        .target,
    );
    let loaded = store.load_org(org.id()).await.unwrap().unwrap();
    let rules = &loaded.policies[&policy].rules;
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0].principal, PrincipalRef::Group(ops.clone()));
    assert_eq!(
        rules[0].roles,
        vec!["cks-viewer", "iam-viewer", "billing-viewer"]
    );
    assert_eq!(rules[1].principal, PrincipalRef::User(bob.clone()));
    org.run(
        store,
        Command::ReplacePolicy {
            policy: policy.clone(),
            name: "Operations".to_string(),
            description: "On-call, reduced".to_string(),
            rules: vec![
                rule(
                    PrincipalKind::User,
                    bob.as_str(),
                    &["iam-viewer", "cks-viewer"],
                ),
                rule(PrincipalKind::Group, "ops", &["billing-viewer"]),
            ],
        },
    )
    .await;
    // A default policy: its roles are fixed as a set, but the order given is kept.
    let read = org
        .state
        .policies
        .values()
        .find(|p| p.legacy_group.as_deref() == Some("read"))
        .unwrap()
        .clone();
    let mut reversed = read.rules[0].roles.clone();
    reversed.reverse();
    let reversed: Vec<&str> = reversed.iter().map(String::as_str).collect();
    let read_group = read.rules[0].principal.id().to_string();
    org.run(
        store,
        Command::ReplacePolicy {
            policy: read.id.clone(),
            name: read.name.clone(),
            description: read.description.clone(),
            rules: vec![
                rule(PrincipalKind::Group, &read_group, &reversed),
                rule(PrincipalKind::User, bob.as_str(), &reversed),
            ],
        },
    )
    .await;
    assert_eq!(org.state.policies[&read.id].rules[1].roles, reversed);
    org.run(store, Command::DeletePolicy { policy }).await;
    org.run(store, Command::DeleteGroup { group: ops }).await;
}

async fn service_accounts(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let robot = ServiceAccountId("sa_robot".into());
    let system = ServiceAccountId("sa_system".into());
    let mut next = org.state.clone();
    next.service_accounts.insert(
        robot.clone(),
        ServiceAccount {
            id: robot.clone(),
            name: "CI robot".to_string(),
            created_by: Some(org.admin.clone()),
            active: true,
            system_managed: false,
            created_at: Timestamp(T0 + 1),
        },
    );
    next.service_accounts.insert(
        system.clone(),
        ServiceAccount {
            id: system.clone(),
            name: "Platform".to_string(),
            created_by: None,
            active: false,
            system_managed: true,
            created_at: Timestamp(T0 + 2),
        },
    );
    next.policies.insert(
        PolicyId("pol_robot".into()),
        AccessPolicy {
            id: PolicyId("pol_robot".into()),
            name: "Robot".to_string(),
            description: String::new(),
            legacy_group: None,
            rules: vec![Rule {
                principal: PrincipalRef::ServiceAccount(robot.clone()),
                roles: vec!["cks-admin".to_string(), "cks-admin".to_string()],
            }],
            created_at: Timestamp(T0 + 3),
            updated_at: Timestamp(T0 + 4),
        },
    );
    org.commit_state(store, next).await;

    let mut next = org.state.clone();
    next.service_accounts.get_mut(&robot).unwrap().active = false;
    next.service_accounts.remove(&system);
    next.policies.remove(&PolicyId("pol_robot".into()));
    org.commit_state(store, next).await;
    assert_eq!(org.state.service_accounts.len(), 1);
}

async fn namespaces_and_grants(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let bob = org.create_user(store, "bob@example.com").await;
    let team_a = NamespaceId(
        org.run(
            store,
            Command::CreateNamespace {
                name: "team-a".to_string(),
                access: vec![
                    (
                        bob.clone(),
                        vec!["w:deployments".to_string(), "w:pods".to_string()],
                    ),
                    (org.admin.clone(), vec![]),
                ],
            },
        )
        .await
        .target,
    );
    assert_eq!(org.state.namespace_grants.len(), 3);
    org.run(
        store,
        Command::SetNamespaceAccess {
            namespace: team_a.clone(),
            user: bob.clone(),
            keys: vec!["r:full".to_string(), "w:secrets".to_string()],
        },
    )
    .await;
    org.run(
        store,
        Command::CreateNamespace {
            name: "team-b".to_string(),
            access: vec![(bob, vec!["r:full".to_string()])],
        },
    )
    .await;
    org.run(store, Command::DeleteNamespace { namespace: team_a })
        .await;
    assert_eq!(org.state.namespaces.len(), 1);
    assert_eq!(org.state.namespace_grants.len(), 1);
}

async fn clusters(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
    let cluster = ClusterId(
        org.run(
            store,
            Command::CreateCluster {
                name: "gpu-east-1".to_string(),
                api_server_url: "https://k8s.example.com:6443".to_string(),
                ca_bundle: pem.to_string(),
            },
        )
        .await
        .target,
    );
    org.run(
        store,
        Command::UpdateCluster {
            cluster: cluster.clone(),
            api_server_url: Some("https://k8s2.example.com".to_string()),
            ca_bundle: Some(String::new()),
        },
    )
    .await;
    org.run(store, Command::DeleteCluster { cluster }).await;
    assert!(org.state.clusters.is_empty());
}

async fn tokens_and_lookup(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let hour = org
        .create_token(store, &hash(1), TokenLifetime::OneHour)
        .await;
    let forever = org
        .create_token(store, &hash(2), TokenLifetime::Never)
        .await;
    assert!(org.state.tokens[&hour].expires_at.is_some());
    assert_eq!(org.state.tokens[&forever].expires_at, None);
    assert_eq!(
        store.org_of_token(&hash(1)).await.unwrap().as_ref(),
        Some(org.id())
    );
    assert_eq!(store.org_of_token(&hash(3)).await.unwrap(), None);
    let admin = Actor::User(org.admin.clone());
    org.run_as(store, &admin, Command::DeletePersonalToken { token: hour })
        .await;
    assert_eq!(store.org_of_token(&hash(1)).await.unwrap(), None);
    assert_eq!(
        store.org_of_token(&hash(2)).await.unwrap().as_ref(),
        Some(org.id())
    );
}

async fn touch_tokens_keeps_revision(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let t1 = org
        .create_token(store, &hash(1), TokenLifetime::Never)
        .await;
    let t2 = org
        .create_token(store, &hash(2), TokenLifetime::Never)
        .await;
    assert!(t1 < t2);
    assert!(store.token_last_used(org.id()).await.unwrap().is_empty());
    store.touch_tokens(&[]).await.unwrap();
    store
        .touch_tokens(&[
            (t2.clone(), Timestamp(7_000)),
            (t1.clone(), Timestamp(5_000)),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.token_last_used(org.id()).await.unwrap(),
        vec![
            (t1.clone(), Timestamp(5_000)),
            (t2.clone(), Timestamp(7_000))
        ]
    );
    // Older times never move last_used_at back; unknown tokens are ignored.
    store
        .touch_tokens(&[
            (t1.clone(), Timestamp(4_000)),
            (TokenId("tok_gone".into()), Timestamp(1)),
            (t2.clone(), Timestamp(9_000)),
            (t2.clone(), Timestamp(8_000)),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.token_last_used(org.id()).await.unwrap(),
        vec![
            (t1.clone(), Timestamp(5_000)),
            (t2.clone(), Timestamp(9_000))
        ]
    );
    assert_eq!(
        store.org_revisions().await.unwrap(),
        vec![(org.id().clone(), org.state.revision)]
    );
    org.assert_stored(store).await;
    let admin = Actor::User(org.admin.clone());
    org.run_as(store, &admin, Command::DeletePersonalToken { token: t2 })
        .await;
    assert_eq!(
        store.token_last_used(org.id()).await.unwrap(),
        vec![(t1, Timestamp(5_000))]
    );
}

async fn revision_conflict_writes_nothing(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let (first, first_audit) = org.execute(
        &Actor::System,
        Command::CreateGroup {
            name: "first".to_string(),
            description: String::new(),
        },
    );
    let (second, second_audit) = org.execute(
        &Actor::System,
        Command::CreateCluster {
            name: "second".to_string(),
            api_server_url: "https://k8s.example.com".to_string(),
            ca_bundle: String::new(),
        },
    );
    assert_eq!(
        store
            .commit(org.id(), 1, &first.changes, &first_audit)
            .await
            .unwrap(),
        2
    );
    let err = store
        .commit(org.id(), 1, &second.changes, &second_audit)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::RevisionConflict { org: o, expected: 1, actual: Some(2) } if o == "a1b2c3"),
        "{err:?}"
    );
    org.state = first.state;
    org.assert_stored(store).await;
    let audit = store.list_audit(org.id(), 10, None).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|e| e.id != second_audit.id));

    // Ahead of the store, or an organization that does not exist.
    let err = store
        .commit(org.id(), 5, &second.changes, &second_audit)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::RevisionConflict {
                expected: 5,
                actual: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .commit(&OrgId("ffffff".into()), 1, &[], &second_audit)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::RevisionConflict { org, expected: 1, actual: None } if org == "ffffff"),
        "{err:?}"
    );
    org.assert_stored(store).await;
    assert_eq!(store.list_audit(org.id(), 10, None).await.unwrap().len(), 2);
}

async fn failing_change_rolls_back(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let bob = org.create_user(store, "bob@example.com").await;
    let before = org.state.clone();
    let (valid, audit) = org.execute(
        &Actor::System,
        Command::CreateGroup {
            name: "valid".to_string(),
            description: String::new(),
        },
    );
    assert_eq!(valid.changes.len(), 1);

    // 2nd change: a user whose email differs from Ada's only by case.
    let mut twin = before.users[&org.admin].clone();
    twin.id = UserId("usr_twin".into());
    twin.email = "ADA@example.COM".to_string();
    let mut changes = valid.changes.clone();
    changes.push(Change::Put {
        before: None,
        after: Entity::User(twin),
    });
    let err = store
        .commit(org.id(), before.revision, &changes, &audit)
        .await
        .unwrap_err();
    assert!(is_unique_violation(&err), "{err:?}");
    org.assert_stored(store).await;

    // 2nd change: a membership naming a user that does not exist.
    let mut changes = valid.changes.clone();
    changes.push(Change::Put {
        before: None,
        after: Entity::Membership {
            group: GroupId("grp_nobody".into()),
            user: UserId("usr_nobody".into()),
        },
    });
    let err = store
        .commit(org.id(), before.revision, &changes, &audit)
        .await
        .unwrap_err();
    assert!(is_foreign_key_violation(&err), "{err:?}");
    org.assert_stored(store).await;

    // 2nd change: deleting a user who still has memberships (children first, or fail).
    let mut changes = valid.changes.clone();
    changes.push(Change::Delete {
        before: Entity::User(before.users[&org.admin].clone()),
    });
    let err = store
        .commit(org.id(), before.revision, &changes, &audit)
        .await
        .unwrap_err();
    assert!(is_foreign_key_violation(&err), "{err:?}");

    // 2nd change: deleting a row that is not there.
    let mut changes = valid.changes.clone();
    changes.push(Change::Delete {
        before: Entity::Membership {
            group: GroupId("grp_none".into()),
            user: bob,
        },
    });
    let err = store
        .commit(org.id(), before.revision, &changes, &audit)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Inconsistent(_)), "{err:?}");

    org.assert_stored(store).await;
    assert_eq!(
        store.org_revisions().await.unwrap(),
        vec![(org.id().clone(), before.revision)]
    );
    assert!(store
        .list_audit(org.id(), 100, None)
        .await
        .unwrap()
        .iter()
        .all(|e| e.id != audit.id));
    // Nothing was bumped: the valid change alone still commits at the old revision.
    store
        .commit(org.id(), before.revision, &valid.changes, &audit)
        .await
        .unwrap();
    org.state = valid.state;
    org.assert_stored(store).await;
}

async fn rows_of_other_orgs_are_untouchable(db: Db) {
    let store = &db.store;
    let mut a = Org::create(store, "aaaaaa", 0).await;
    let cluster = ClusterId(
        a.run(
            store,
            Command::CreateCluster {
                name: "mine".to_string(),
                api_server_url: "https://k8s.example.com".to_string(),
                ca_bundle: String::new(),
            },
        )
        .await
        .target,
    );
    let mut b = Org::create(store, "bbbbbb", 1_000_000).await;
    let (_, audit) = b.execute(
        &Actor::System,
        Command::UpdateOrganization {
            name: "B".to_string(),
        },
    );
    let stolen_group = a.state.groups.values().next().unwrap().clone();
    let attempts = [
        Change::Put {
            before: None,
            after: Entity::Group(Group {
                name: "hijack".to_string(),
                ..stolen_group.clone()
            }),
        },
        Change::Delete {
            before: Entity::Cluster(a.state.clusters[&cluster].clone()),
        },
        Change::Delete {
            before: Entity::Group(stolen_group),
        },
        Change::Put {
            before: None,
            after: Entity::Organization(Organization {
                name: "hijack".to_string(),
                ..a.state.org.clone()
            }),
        },
    ];
    for attempt in attempts {
        let err = store
            .commit(b.id(), b.state.revision, &[attempt], &audit)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Inconsistent(_)), "{err:?}");
    }
    a.assert_stored(store).await;
    b.assert_stored(store).await;
}

async fn load_all_two_orgs(db: Db) {
    let store = &db.store;
    let mut b = Org::create(store, "b0b0b0", 1_000_000).await;
    let mut a = Org::create(store, "0a0a0a", 0).await;
    a.create_user(store, "bob@example.com").await;
    // The same email in another organization is fine.
    b.create_user(store, "bob@example.com").await;
    b.run(
        store,
        Command::CreateNamespace {
            name: "team".to_string(),
            access: vec![(b.admin.clone(), vec![])],
        },
    )
    .await;
    b.create_token(store, &hash(9), TokenLifetime::OneYear)
        .await;
    assert_eq!(
        store.load_all().await.unwrap(),
        vec![a.state.clone(), b.state.clone()]
    );
    assert_eq!(
        store.org_revisions().await.unwrap(),
        vec![(a.id().clone(), 2), (b.id().clone(), 4)]
    );
}

async fn audit_log(db: Db) {
    let store = &db.store;
    let org = OrgId("c0ffee".into());
    let event = |id: &str, at: i64| AuditEvent {
        id: id.to_string(),
        org_id: org.clone(),
        at: Timestamp(at),
        actor: "user:usr_1".to_string(),
        action: "iam.groups.create".to_string(),
        target: "grp_1".to_string(),
        outcome: "allowed".to_string(),
        error_code: None,
        revision: 3,
        request_id: format!("req_{id}"),
        changes: serde_json::json!([{"op": "put", "after": {"entity": "group", "n": 1.5, "ok": true, "x": null}}]),
    };
    let a = event("evt_a", 100);
    let b = event("evt_b", 300);
    let c = event("evt_c", 200);
    let d = AuditEvent {
        outcome: "denied".to_string(),
        error_code: Some("forbidden".to_string()),
        revision: 0,
        changes: serde_json::json!([]),
        ..event("evt_d", 300)
    };
    let other = AuditEvent {
        org_id: OrgId("0ther0".into()),
        ..event("evt_e", 250)
    };
    for e in [&a, &b, &c, &d, &other] {
        store.record_audit(e).await.unwrap();
    }
    let err = store.record_audit(&a).await.unwrap_err();
    assert!(is_unique_violation(&err), "{err:?}");

    let list = |limit, before: Option<i64>| {
        store.list_audit(&org, limit, before.map(|at| (Timestamp(at), "")))
    };
    assert_eq!(
        list(10, None).await.unwrap(),
        vec![d.clone(), b.clone(), c.clone(), a.clone()]
    );
    assert_eq!(list(2, None).await.unwrap(), vec![d.clone(), b.clone()]);
    assert_eq!(
        list(10, Some(300)).await.unwrap(),
        vec![c.clone(), a.clone()]
    );
    assert_eq!(list(10, Some(101)).await.unwrap(), vec![a.clone()]);
    assert_eq!(list(10, Some(100)).await.unwrap(), vec![]);
    assert_eq!(list(0, None).await.unwrap(), vec![]);
    // Keyset paging on (at, id): a page that ends inside a millisecond resumes inside it.
    let first = list(1, None).await.unwrap();
    assert_eq!(first, vec![d.clone()]);
    let last = first.last().unwrap();
    let rest = store
        .list_audit(&org, 10, Some((last.at, last.id.as_str())))
        .await
        .unwrap();
    let mut all = first.clone();
    all.extend(rest);
    assert_eq!(all, list(10, None).await.unwrap());
    assert_eq!(
        store.list_audit(&other.org_id, 10, None).await.unwrap(),
        vec![other]
    );
}

async fn generated_org_round_trip(db: Db) {
    let store = &db.store;
    let catalog = catalog();
    let workload = Workload {
        users: 300,
        groups: 30,
        memberships_per_user: 2,
        policies: 20,
        rules_per_policy: 3,
        group_rule_percent: 80,
        seed: 7,
    };
    let state = generate_org(&catalog, workload).unwrap();
    let executed = as_created(state.clone());
    assert!(executed.changes.len() > 900);
    let mut ctx = FixedContext::new(T0);
    ctx.counter = 10_000_000;
    let audit = audit_for(&mut ctx, &state, "generate", "", &[]);
    store.create_organization(&executed, &audit).await.unwrap();
    assert_eq!(
        store.load_org(&state.org.id).await.unwrap().as_ref(),
        Some(&state)
    );
    assert_eq!(store.load_all().await.unwrap(), vec![state.clone()]);

    // Commands keep working on top of it.
    let mut org = Org {
        catalog,
        ctx,
        admin: state.org.default_admin.clone(),
        state,
    };
    org.run(
        store,
        Command::UpdateGroup {
            group: GroupId("grp_00000000".into()),
            name: Some("renamed".to_string()),
            description: Some("after generation".to_string()),
        },
    )
    .await;
}

async fn concurrent_commits_one_wins(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let (x, x_audit) = org.execute(
        &Actor::System,
        Command::CreateGroup {
            name: "x".to_string(),
            description: String::new(),
        },
    );
    let (y, y_audit) = org.execute(
        &Actor::System,
        Command::CreateGroup {
            name: "y".to_string(),
            description: String::new(),
        },
    );
    let (rx, ry) = tokio::join!(
        store.commit(org.id(), 1, &x.changes, &x_audit),
        store.commit(org.id(), 1, &y.changes, &y_audit),
    );
    let winner = match (rx, ry) {
        (
            Ok(2),
            Err(StoreError::RevisionConflict {
                actual: Some(2), ..
            }),
        ) => x,
        (
            Err(StoreError::RevisionConflict {
                actual: Some(2), ..
            }),
            Ok(2),
        ) => y,
        other => panic!("expected exactly one winner, got {other:?}"),
    };
    org.state = winner.state;
    org.assert_stored(store).await;
}

/// While commits land, every load returns exactly one committed state, never a mix of two.
async fn loads_are_snapshots(db: Db) {
    let store = db.store.clone();
    let mut org = Org::create(&store, "a1b2c3", 0).await;
    let mut expected = vec![org.state.clone()];
    let mut commits = Vec::new();
    for i in 0..40 {
        let (executed, audit) = org.execute(
            &Actor::System,
            Command::CreateNamespace {
                name: format!("ns-{i}"),
                access: vec![(
                    org.admin.clone(),
                    vec!["r:full".to_string(), "w:jobs".to_string()],
                )],
            },
        );
        org.state = executed.state.clone();
        expected.push(executed.state);
        commits.push((executed.changes, audit));
    }
    let writer = tokio::spawn({
        let store = store.clone();
        let org = org.id().clone();
        async move {
            for (revision, (changes, audit)) in (1..).zip(commits) {
                store
                    .commit(&org, revision, &changes, &audit)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
        }
    });
    let at = |state: &OrgState| &expected[usize::try_from(state.revision - 1).unwrap()];
    let mut revisions_seen = std::collections::BTreeSet::new();
    loop {
        let finished = writer.is_finished();
        let loaded = store.load_org(org.id()).await.unwrap().unwrap();
        assert_eq!(&loaded, at(&loaded));
        revisions_seen.insert(loaded.revision);
        let all = store.load_all().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(&all[0], at(&all[0]));
        if finished {
            break;
        }
    }
    writer.await.unwrap();
    assert!(revisions_seen.contains(&41));
    org.assert_stored(&store).await;
}

async fn reopen_keeps_everything(db: Db) {
    let mut org = Org::create(&db.store, "a1b2c3", 0).await;
    org.create_user(&db.store, "bob@example.com").await;
    org.create_token(&db.store, &hash(4), TokenLifetime::Never)
        .await;
    let token = org.state.tokens.keys().next().unwrap().clone();
    db.store
        .touch_tokens(&[(token.clone(), Timestamp(42))])
        .await
        .unwrap();
    db.store.close().await;

    // Migrations run again (nothing to do) and everything is still there.
    let store = Store::connect(&db.url).await.unwrap();
    assert_eq!(store.backend(), db.backend);
    org.assert_stored(&store).await;
    assert_eq!(
        store.token_last_used(org.id()).await.unwrap(),
        vec![(token, Timestamp(42))]
    );
    org.run(
        &store,
        Command::CreateGroup {
            name: "after-reopen".to_string(),
            description: String::new(),
        },
    )
    .await;
    store.close().await;
}
