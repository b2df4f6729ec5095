//! What a commit guarantees: optimistic concurrency, all or nothing, no reach into another
//! organization, and loads that see one commit or the next, never half of one.

use std::collections::BTreeSet;

use warden_core::command::{
    Change, ClusterCommand, Entity, GroupCommand, Key, NamespaceCommand, OrganizationCommand,
    TokenLifetime,
};
use warden_core::*;
use warden_store::{Commit, NewPasswordReset, PasswordReset, Store, StoreError};

use crate::common::{hash, on_both_backends, AuditOf, Db, Org, Prepared};

on_both_backends!(
    a_commit_at_a_stale_revision_writes_nothing,
    a_failing_change_rolls_back_the_whole_commit,
    rows_of_another_organization_are_untouchable,
    of_two_concurrent_commits_exactly_one_wins,
    loads_are_snapshots,
    reopening_the_store_keeps_everything,
    a_group_commit_is_one_revision_per_write_in_one_transaction,
    a_group_commit_at_a_stale_revision_writes_nothing,
    a_failing_write_rolls_back_its_whole_group,
    refusals_alone_move_no_revision,
    a_password_link_is_written_with_its_commit_and_only_for_its_organization,
);

fn create_group(name: &str) -> GroupCommand {
    GroupCommand::Create {
        name: name.to_string(),
        description: String::new(),
    }
}

async fn a_commit_at_a_stale_revision_writes_nothing(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let first = org.execute(&Actor::System, create_group("first"));
    let second = org.execute(
        &Actor::System,
        ClusterCommand::Create {
            name: "second".to_string(),
            api_server_url: "https://k8s.example.com".to_string(),
            ca_bundle: String::new(),
        },
    );
    assert_eq!(first.commit(store, 1).await.unwrap(), 2);
    let err = second.commit(store, 1).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::RevisionConflict { org: o, expected: 1, actual: Some(2) } if o == "a1b2c3"),
        "{err:?}"
    );
    org.accept(&first);
    org.assert_stored(store).await;
    let audit = store.events(org.id(), 10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit
        .iter()
        .all(|e| second.audit.iter().all(|s| e.id != s.id)));

    // Ahead of the store, or an organization that does not exist.
    let err = second.commit(store, 5).await.unwrap_err();
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
    let nowhere = Commit {
        changes: &[],
        audit: &second.audit,
        outbox: &second.outbox,
        credentials: &[],
        password_resets: &[],
    };
    let err = store
        .commit(&OrgId::from("ffffff"), 1, nowhere)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::RevisionConflict { org, expected: 1, actual: None } if org == "ffffff"),
        "{err:?}"
    );
    org.assert_stored(store).await;
    assert_eq!(store.events(org.id(), 10).await.unwrap().len(), 2);
    assert_eq!(store.org_revision(org.id()).await.unwrap(), Some(2));
}

async fn a_failing_change_rolls_back_the_whole_commit(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let bob = org.create_user(store, "bob@example.com").await;
    let before = org.state().clone();
    let valid = org.execute(&Actor::System, create_group("valid"));
    assert_eq!(valid.changes().len(), 1);

    // 2nd change: a user whose email differs from Ada's only by case.
    let mut twin = before.users[&org.admin].clone();
    twin.id = UserId::from("usr_twin");
    twin.email = "ADA@example.COM".into();
    let twin = Change::Put {
        before: None,
        after: Entity::User(twin),
    };
    let err = valid
        .commit_followed_by(store, before.revision, &twin)
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    org.assert_stored(store).await;

    // 2nd change: a membership naming a user that does not exist.
    let nobody = Change::Put {
        before: None,
        after: Entity::Membership {
            group: GroupId::from("grp_nobody"),
            user: UserId::from("usr_nobody"),
        },
    };
    let err = valid
        .commit_followed_by(store, before.revision, &nobody)
        .await
        .unwrap_err();
    assert!(err.is_foreign_key_violation(), "{err:?}");
    org.assert_stored(store).await;

    // 2nd change: deleting a user who still has memberships (children first, or fail).
    let ada_leaves = Change::Delete {
        before: Entity::User(before.users[&org.admin].clone()),
    };
    let err = valid
        .commit_followed_by(store, before.revision, &ada_leaves)
        .await
        .unwrap_err();
    assert!(err.is_foreign_key_violation(), "{err:?}");

    // 2nd change: deleting a row that is not there.
    let missing = Change::Delete {
        before: Entity::Membership {
            group: GroupId::from("grp_none"),
            user: bob,
        },
    };
    let err = valid
        .commit_followed_by(store, before.revision, &missing)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Inconsistent(_)), "{err:?}");

    org.assert_stored(store).await;
    assert_eq!(
        store.org_revisions().await.unwrap(),
        vec![(org.id().clone(), before.revision)]
    );
    assert!(store
        .events(org.id(), 100)
        .await
        .unwrap()
        .iter()
        .all(|e| valid.audit.iter().all(|v| e.id != v.id)));
    // Nothing was bumped: the valid change alone still commits at the old revision.
    org.commit(store, &valid).await;
    assert_eq!(org.revision(), before.revision + 1);
}

async fn rows_of_another_organization_are_untouchable(db: Db) {
    let store = &db.store;
    let mut a = Org::create(store, "aaaaaa", 0).await;
    let cluster = ClusterId::from(
        a.run(
            store,
            ClusterCommand::Create {
                name: "mine".to_string(),
                api_server_url: "https://k8s.example.com".to_string(),
                ca_bundle: String::new(),
            },
        )
        .await
        .target()
        .to_string(),
    );
    let token = a.create_token(store, &hash(1), TokenLifetime::Never).await;
    let mut b = Org::create(store, "bbbbbb", 1_000_000).await;
    let rename = b.execute(
        &Actor::System,
        OrganizationCommand::Update {
            name: "B".to_string(),
        },
    );
    let stolen_group = a.state().groups.values().next().unwrap().clone();
    let stolen_token = a.state().tokens[&token].clone();
    let attempts = [
        Change::Put {
            before: None,
            after: Entity::Group(Group {
                name: "hijack".to_string(),
                ..stolen_group.clone()
            }),
        },
        Change::Delete {
            before: Entity::Cluster(a.state().clusters[&cluster].clone()),
        },
        Change::Delete {
            before: Entity::Group(stolen_group),
        },
        Change::Put {
            before: None,
            after: Entity::Organization(Organization {
                name: "hijack".to_string(),
                ..a.state().org.clone()
            }),
        },
        Change::Delete {
            before: Entity::Token(stolen_token.clone()),
        },
        Change::Put {
            before: None,
            after: Entity::Token(ApiToken {
                name: "hijack".to_string(),
                ..stolen_token
            }),
        },
    ];
    for attempt in attempts {
        let err = rename
            .commit_followed_by(store, b.revision(), &attempt)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Inconsistent(_)),
            "{attempt:?}: {err:?}"
        );
    }
    a.assert_stored(store).await;
    b.assert_stored(store).await;
    assert_eq!(
        store.org_of_token(&hash(1)).await.unwrap().as_ref(),
        Some(a.id())
    );
}

async fn of_two_concurrent_commits_exactly_one_wins(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let x = org.execute(&Actor::System, create_group("x"));
    let y = org.execute(&Actor::System, create_group("y"));
    let (rx, ry) = tokio::join!(x.commit(store, 1), y.commit(store, 1));
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
    org.accept(&winner);
    org.assert_stored(store).await;
    winner.assert_recorded(store).await;
    assert_eq!(store.events(org.id(), 10).await.unwrap().len(), 2);
}

/// While commits land, every load returns exactly one committed state, never a mix of two.
async fn loads_are_snapshots(db: Db) {
    let store = db.store.clone();
    let mut org = Org::create(&store, "a1b2c3", 0).await;
    let admin = Key::from(&org.admin);
    let mut expected = vec![org.state().clone()];
    let mut commits: Vec<Prepared> = Vec::new();
    for i in 0..40 {
        let prepared = org.execute(
            &Actor::System,
            NamespaceCommand::Create {
                name: format!("ns-{i}"),
                access: vec![(
                    admin.clone(),
                    vec!["r:full".to_string(), "w:jobs".to_string()],
                )],
            },
        );
        org.accept(&prepared);
        expected.push(prepared.state().clone());
        commits.push(prepared);
    }
    let writer = tokio::spawn({
        let store = store.clone();
        async move {
            for (revision, prepared) in (1..).zip(commits) {
                prepared.commit(&store, revision).await.unwrap();
                tokio::task::yield_now().await;
            }
        }
    });
    let at = |state: &OrgState| &expected[usize::try_from(state.revision - 1).unwrap()];
    let mut revisions_seen = BTreeSet::new();
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

async fn reopening_the_store_keeps_everything(db: Db) {
    let mut org = Org::create(&db.store, "a1b2c3", 0).await;
    org.create_user(&db.store, "bob@example.com").await;
    org.create_token(&db.store, &hash(4), TokenLifetime::Never)
        .await;
    let token = org.state().tokens.keys().next().unwrap().clone();
    db.store
        .touch_tokens(&[(token.clone(), Timestamp(42))])
        .await
        .unwrap();
    let audit = db.store.events(org.id(), 100).await.unwrap();
    let outbox = db.store.outbox_of(org.id()).await.unwrap();
    assert_eq!(outbox.len(), 1);
    db.store.close().await;

    // Migrations run again (nothing to do) and everything is still there.
    let store = Store::connect(&db.url).await.unwrap();
    assert_eq!(store.backend(), db.backend);
    org.assert_stored(&store).await;
    assert_eq!(
        store.token_last_used(org.id()).await.unwrap(),
        vec![(token, Timestamp(42))]
    );
    assert_eq!(store.events(org.id(), 100).await.unwrap(), audit);
    assert_eq!(store.outbox_of(org.id()).await.unwrap(), outbox);
    org.run(&store, create_group("after-reopen")).await;
    store.close().await;
}

/// An audit event for a refused call: it changes nothing and names no revision of its own.
fn refusal(org: &Org, id: &str) -> AuditEvent {
    AuditEvent {
        id: id.to_string(),
        org_id: org.id().clone(),
        at: Timestamp(org.ctx.now.0 + 1),
        actor: "user:usr_nobody".to_string(),
        action: "iam.groups.create".to_string(),
        target: String::new(),
        outcome: Outcome::Denied,
        error_code: Some("forbidden".to_string()),
        revision: org.revision(),
        request_id: "req_refused".to_string(),
        changes: serde_json::Value::Array(Vec::new()),
    }
}

/// Two writes, the second computed on the first's result, committed together.
fn two_writes(org: &mut Org) -> (Prepared, Prepared) {
    let first = org.execute(&Actor::System, create_group("first"));
    org.accept(&first);
    let second = org.execute(&Actor::System, create_group("second"));
    (first, second)
}

fn commit_of<'a>(prepared: &'a Prepared, changes: &'a [&'a Change]) -> Commit<'a> {
    Commit {
        changes,
        audit: &prepared.audit,
        outbox: &prepared.outbox,
        credentials: &[],
        password_resets: &[],
    }
}

async fn a_group_commit_is_one_revision_per_write_in_one_transaction(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let (first, second) = two_writes(&mut org);
    let refused = refusal(&org, "evt_refused");
    let (c1, c2) = (first.changes(), second.changes());
    let revision = store
        .commit_all(
            org.id(),
            1,
            &[commit_of(&first, &c1), commit_of(&second, &c2)],
            std::slice::from_ref(&refused),
        )
        .await
        .unwrap();
    assert_eq!(revision, 3);
    assert_eq!(second.executed.revision(), 3);
    org.accept(&second);
    org.assert_stored(store).await;
    assert_eq!(store.org_revision(org.id()).await.unwrap(), Some(3));
    let audit = store.events(org.id(), 10).await.unwrap();
    let revisions: BTreeSet<(u64, String)> = audit
        .iter()
        .map(|e| (e.revision, e.action.clone()))
        .collect();
    assert!(revisions.contains(&(2, "iam.groups.create".to_string())));
    assert!(revisions.contains(&(3, "iam.groups.create".to_string())));
    assert!(
        audit.contains(&refused),
        "the refusal is recorded with the batch"
    );
}

async fn a_group_commit_at_a_stale_revision_writes_nothing(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let before = org.state().clone();
    let (first, second) = two_writes(&mut org);
    // Another server moved the organization on meanwhile.
    let elsewhere = {
        let mut other = Org::at(org.catalog.clone(), org.ctx.clone(), before.clone());
        other
            .run(
                store,
                ClusterCommand::Create {
                    name: "elsewhere".to_string(),
                    api_server_url: "https://k8s.example.com".to_string(),
                    ca_bundle: String::new(),
                },
            )
            .await
    };
    let (c1, c2) = (first.changes(), second.changes());
    let err = store
        .commit_all(
            org.id(),
            1,
            &[commit_of(&first, &c1), commit_of(&second, &c2)],
            &[refusal(&org, "evt_refused")],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::RevisionConflict {
                expected: 1,
                actual: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        store.load_org(org.id()).await.unwrap().as_ref(),
        Some(elsewhere.state())
    );
    let audit = store.events(org.id(), 10).await.unwrap();
    assert_eq!(audit.len(), 2, "creation and the other server's write only");
    assert!(audit.iter().all(|e| e.id != "evt_refused"));
}

async fn a_failing_write_rolls_back_its_whole_group(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let before = org.state().clone();
    let (first, second) = two_writes(&mut org);
    // The second write also adds a user whose email differs from Ada's only by case.
    let mut twin = before.users[&before.org.default_admin].clone();
    twin.id = UserId::from("usr_twin");
    twin.email = "ADA@example.COM".into();
    let twin = Change::Put {
        before: None,
        after: Entity::User(twin),
    };
    let c1 = first.changes();
    let mut c2 = second.changes();
    c2.push(&twin);
    let err = store
        .commit_all(
            org.id(),
            1,
            &[commit_of(&first, &c1), commit_of(&second, &c2)],
            &[refusal(&org, "evt_refused")],
        )
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    assert_eq!(
        store.load_org(org.id()).await.unwrap().as_ref(),
        Some(&before)
    );
    assert_eq!(store.events(org.id(), 10).await.unwrap().len(), 1);
    for item in first.outbox.iter().chain(&second.outbox) {
        assert_eq!(store.outbox_item(&item.id).await.unwrap(), None);
    }
}

async fn refusals_alone_move_no_revision(db: Db) {
    let store = &db.store;
    let org = Org::create(store, "a1b2c3", 0).await;
    let refused = refusal(&org, "evt_refused");
    let revision = store
        .commit_all(org.id(), 1, &[], std::slice::from_ref(&refused))
        .await
        .unwrap();
    assert_eq!(revision, 1);
    assert_eq!(store.org_revision(org.id()).await.unwrap(), Some(1));
    org.assert_stored(store).await;
    let audit = store.events(org.id(), 10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit.contains(&refused));
}

/// The first admin's "set your password" link of an organization created by email is written
/// in the commit's transaction; a link of another organization refuses the whole commit.
async fn a_password_link_is_written_with_its_commit_and_only_for_its_organization(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let admin = org.state().org.default_admin.clone();
    let link = |org_id: &str, n: u8| NewPasswordReset {
        secret_hash: hash(n),
        reset: PasswordReset {
            org: OrgId::from(org_id),
            user: admin.clone(),
            expires_at: Timestamp(i64::MAX / 2),
            used_at: None,
        },
        created_at: Timestamp(1),
    };
    // Another organization's link: nothing of the commit is written.
    let refused = org.execute(&Actor::System, create_group("refused"));
    let changes = refused.changes();
    let stray = [link("ffffff", 8)];
    let err = store
        .commit(
            org.id(),
            1,
            Commit {
                changes: &changes,
                audit: &refused.audit,
                outbox: &refused.outbox,
                credentials: &[],
                password_resets: &stray,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Inconsistent(_)), "{err:?}");
    assert_eq!(store.password_reset(&hash(8)).await.unwrap(), None);
    org.assert_stored(store).await;
    // Its own: written with the change.
    let mut org = Org::create(store, "d4e5f6", 100).await;
    let admin = org.state().org.default_admin.clone();
    let accepted = org.execute(&Actor::System, create_group("kept"));
    let changes = accepted.changes();
    let own = [NewPasswordReset {
        reset: PasswordReset {
            user: admin,
            ..link("d4e5f6", 9).reset
        },
        ..link("d4e5f6", 9)
    }];
    store
        .commit(
            org.id(),
            1,
            Commit {
                changes: &changes,
                audit: &accepted.audit,
                outbox: &accepted.outbox,
                credentials: &[],
                password_resets: &own,
            },
        )
        .await
        .unwrap();
    org.accept(&accepted);
    org.assert_stored(store).await;
    let stored = store.password_reset(&hash(9)).await.unwrap().unwrap();
    assert_eq!(stored, own[0].reset);
}
