//! Several commands, one commit: one revision, one audit event per command, all or nothing.

use warden_core::command::{
    Change, Entity, GroupCommand, Key, NewToken, ScopeInput, TokenCommand, TokenLifetime,
    UserCommand,
};
use warden_core::*;
use warden_store::{Store, StoreError};

use crate::common::{hash, on_both_backends, AuditOf, Db, Org, T0};

on_both_backends!(
    a_batch_is_one_revision_with_one_audit_event_per_command,
    a_failing_third_command_leaves_the_first_two_unwritten,
);

/// Adds a user, puts them in a group and issues them a first token, all by natural keys.
fn onboarding(email: &str, group: &str, token_owner: &str) -> Vec<Command> {
    vec![
        UserCommand::Create {
            email: email.to_string(),
            first_name: "Bob".to_string(),
            last_name: "Builder".to_string(),
        }
        .into(),
        GroupCommand::AddMember {
            group: Key::from(group),
            user: Key::from(email),
        }
        .into(),
        TokenCommand::CreatePersonal {
            owner: Key::from(token_owner),
            token: NewToken {
                name: "initial token".to_string(),
                note: String::new(),
                lifetime: TokenLifetime::OneHour,
                secret_hash: hash(7),
                display_prefix: "wdn_pat_first".to_string(),
                scope: ScopeInput::default(),
            },
        }
        .into(),
    ]
}

async fn a_batch_is_one_revision_with_one_audit_event_per_command(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let before = org.revision();
    let audit_before = store.events(org.id(), 100).await.unwrap();
    let batch = org
        .execute_all(
            &Actor::System,
            onboarding("bob@example.com", "read", "bob@example.com"),
        )
        .unwrap();
    assert_eq!(batch.audit.len(), 3);

    // One commit: the organization moves by one revision.
    let revision = batch.commit(store, before).await.unwrap();
    assert_eq!(revision, before + 1);
    assert_eq!(
        store.org_revision(org.id()).await.unwrap(),
        Some(before + 1)
    );
    assert_eq!(
        store.load_org(org.id()).await.unwrap().as_ref(),
        Some(batch.state())
    );
    org.accept(&batch);

    // Three audit events, one per command, in order, each with its own changes.
    let audit = store.events(org.id(), 100).await.unwrap();
    assert_eq!(audit.len(), audit_before.len() + 3);
    assert_eq!(audit[3..], audit_before[..]);
    let mut newest = audit[..3].to_vec();
    newest.reverse();
    assert_eq!(newest, batch.audit);
    let actions: Vec<&str> = newest.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "iam.users.invite",
            "iam.memberships.create",
            "tokens.personal.create"
        ]
    );
    for (event, applied) in newest.iter().zip(&batch.executed.applied) {
        assert_eq!(event.revision, before + 1);
        assert_eq!(event.request_id, newest[0].request_id);
        assert_eq!(event.target, applied.target);
        assert_eq!(applied.changes.len(), 1);
        assert_eq!(
            event.changes,
            serde_json::to_value(&applied.changes).unwrap()
        );
    }

    // What the batch did, as loaded: the user, their membership, their token, and the
    // notification of the token, committed with it.
    let bob = org
        .state()
        .user_by_email("bob@example.com")
        .unwrap()
        .id
        .clone();
    let read = org.state().group_by_name("read").unwrap().id.clone();
    assert!(org.state().memberships().contains(&(read, bob.clone())));
    let token = TokenId::from(batch.executed.applied[2].target.clone());
    assert_eq!(org.state().tokens[&token].owner, PrincipalId::User(bob));
    assert_eq!(
        store.org_of_token(&hash(7)).await.unwrap().as_ref(),
        Some(org.id())
    );
    assert_eq!(batch.outbox.len(), 1);
    assert_eq!(store.outbox_of(org.id()).await.unwrap(), batch.outbox);
}

/// What the store holds of an organization, to compare before and after.
async fn everything_of(store: &Store, org: &OrgId) -> impl PartialEq + std::fmt::Debug {
    (
        store.load_org(org).await.unwrap(),
        store.org_revision(org).await.unwrap(),
        store.events(org, 1_000).await.unwrap(),
        store.outbox_of(org).await.unwrap(),
        store.outbox_backlog().await.unwrap(),
        store.org_of_token(&hash(7)).await.unwrap(),
    )
}

async fn a_failing_third_command_leaves_the_first_two_unwritten(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let before = everything_of(store, org.id()).await;

    // The core refuses the batch: the third command names a token owner that does not
    // exist. There is nothing to commit, and the store is as it was.
    let refused = org.execute_all(
        &Actor::System,
        onboarding("bob@example.com", "read", "nobody@example.com"),
    );
    let err = refused.err().unwrap();
    assert_eq!(err.index, 2);
    assert_eq!(err.error.code(), "not_found");
    assert_eq!(everything_of(store, org.id()).await, before);

    // The store refuses a commit: its last change deletes a row that is not there. The
    // changes before it, the audit events and the outbox items of the commit are all
    // rolled back.
    let batch = org
        .execute_all(
            &Actor::System,
            onboarding("bob@example.com", "read", "bob@example.com"),
        )
        .unwrap();
    assert_eq!(batch.changes().len(), 3);
    assert_eq!(batch.outbox.len(), 1);
    let missing = Change::Delete {
        before: Entity::Cluster(Cluster {
            id: ClusterId::from("cls_missing"),
            name: "missing".to_string(),
            api_server_url: "https://k8s.example.com".to_string(),
            ca_bundle: String::new(),
            created_at: Timestamp(T0),
            webhook_secret_hash: None,
        }),
    };
    let err = batch
        .commit_followed_by(store, org.revision(), &missing)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Inconsistent(_)), "{err:?}");
    assert_eq!(everything_of(store, org.id()).await, before);
    for item in &batch.outbox {
        assert_eq!(store.outbox_item(&item.id).await.unwrap(), None);
    }

    // Nothing was bumped: the batch alone commits at the revision it was computed from.
    org.commit(store, &batch).await;
}
