//! Creating organizations and loading them back.

use warden_core::command::{FirstUser, GroupCommand, Key, NamespaceCommand, TokenLifetime};
use warden_core::testkit::{as_created, generate_org, FixedContext, Workload};
use warden_core::*;
use warden_store::StoreError;

use crate::common::{catalog, hash, on_both_backends, AuditOf, Db, Org, Prepared, T0};

on_both_backends!(
    a_new_organization_loads_exactly_as_created,
    an_organization_id_is_taken_once,
    load_all_returns_every_organization_by_id,
    a_generated_organization_round_trips,
);

async fn a_new_organization_loads_exactly_as_created(db: Db) {
    let store = &db.store;
    assert_eq!(store.backend(), db.backend);
    assert!(store.load_all().await.unwrap().is_empty());
    let org = Org::create(store, "a1b2c3", 0).await;
    assert_eq!(org.revision(), 1);
    assert_eq!(org.state().groups.len(), 5);
    assert_eq!(org.state().policies.len(), 5);
    assert_eq!(org.state().memberships().len(), 1);
    assert_eq!(store.load_org(&OrgId::from("ffffff")).await.unwrap(), None);
    assert_eq!(
        store.org_revisions().await.unwrap(),
        vec![(org.id().clone(), 1)]
    );
    assert_eq!(store.org_revision(org.id()).await.unwrap(), Some(1));
    assert_eq!(
        store.org_revision(&OrgId::from("ffffff")).await.unwrap(),
        None
    );
    assert_eq!(store.load_all().await.unwrap(), vec![org.state().clone()]);
    let audit = store.events(org.id(), 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "iam.organizations.create");
    assert_eq!(audit[0].revision, 1);
    // Creating an organization asks for no side effect.
    assert!(store.outbox_of(org.id()).await.unwrap().is_empty());
}

async fn an_organization_id_is_taken_once(db: Db) {
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
    let again = Prepared::new(&mut ctx, &Actor::System, again);
    let err = again.create(store).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::OrgExists(id) if id == "a1b2c3"),
        "{err:?}"
    );
    org.assert_stored(store).await;
    assert_eq!(store.events(org.id(), 10).await.unwrap().len(), 1);
}

async fn load_all_returns_every_organization_by_id(db: Db) {
    let store = &db.store;
    let mut b = Org::create(store, "b0b0b0", 1_000_000).await;
    let mut a = Org::create(store, "0a0a0a", 0).await;
    a.create_user(store, "bob@example.com").await;
    // The same email in another organization is fine.
    b.create_user(store, "bob@example.com").await;
    let b_admin = Key::from(&b.admin);
    b.run(
        store,
        NamespaceCommand::Create {
            name: "team".to_string(),
            access: vec![(b_admin, vec![])],
        },
    )
    .await;
    b.create_token(store, &hash(9), TokenLifetime::OneYear)
        .await;
    assert_eq!(
        store.load_all().await.unwrap(),
        vec![a.state().clone(), b.state().clone()]
    );
    assert_eq!(
        store.org_revisions().await.unwrap(),
        vec![(a.id().clone(), 2), (b.id().clone(), 4)]
    );
}

async fn a_generated_organization_round_trips(db: Db) {
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
    let executed = as_created(&catalog, state.clone());
    assert!(executed.changes().count() > 900);
    let mut ctx = FixedContext::new(T0);
    ctx.counter = 10_000_000;
    let created = Prepared::new(&mut ctx, &Actor::System, executed);
    created.create(store).await.unwrap();
    assert_eq!(
        store.load_org(&state.org.id).await.unwrap().as_ref(),
        Some(&state)
    );
    assert_eq!(store.load_all().await.unwrap(), vec![state.clone()]);
    created.assert_recorded(store).await;

    // Commands keep working on top of it.
    let mut org = Org::at(catalog, ctx, state);
    org.run(
        store,
        GroupCommand::Update {
            group: Key::from("grp_00000000"),
            name: Some("renamed".to_string()),
            description: Some("after generation".to_string()),
        },
    )
    .await;
}
