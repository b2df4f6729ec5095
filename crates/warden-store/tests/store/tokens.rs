//! API tokens: owned by a user or a service account, found by the hash of their secret,
//! and touched when used without a new revision.

use warden_core::command::{
    Change, Entity, Key, NewToken, OrganizationCommand, ScopeInput, TokenCommand, TokenLifetime,
};
use warden_core::*;

use crate::common::{hash, on_both_backends, Db, Org, T0};

on_both_backends!(
    tokens_are_found_by_their_secret_hash_until_deleted,
    touching_tokens_records_their_last_use_without_a_new_revision,
    a_token_owned_by_a_service_account_round_trips,
    a_token_cannot_belong_to_a_principal_of_another_organization,
    token_names_are_unique_per_owner_in_the_database_too,
);

async fn tokens_are_found_by_their_secret_hash_until_deleted(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let hour = org
        .create_token(store, &hash(1), TokenLifetime::OneHour)
        .await;
    let forever = org
        .create_token(store, &hash(2), TokenLifetime::Never)
        .await;
    assert!(org.state().tokens[&hour].expires_at.is_some());
    assert_eq!(org.state().tokens[&forever].expires_at, None);
    assert_eq!(
        org.state().tokens[&hour].owner,
        PrincipalId::User(org.admin.clone())
    );
    assert_eq!(
        org.state().tokens[&hour].created_by,
        PrincipalId::User(org.admin.clone())
    );
    assert_eq!(
        store.org_of_token(&hash(1)).await.unwrap().as_ref(),
        Some(org.id())
    );
    assert_eq!(store.org_of_token(&hash(3)).await.unwrap(), None);
    let admin = Actor::user(org.admin.clone());
    org.run_as(
        store,
        &admin,
        TokenCommand::DeletePersonal {
            token: Key::from(&hour),
        },
    )
    .await;
    assert_eq!(store.org_of_token(&hash(1)).await.unwrap(), None);
    assert_eq!(
        store.org_of_token(&hash(2)).await.unwrap().as_ref(),
        Some(org.id())
    );
}

async fn touching_tokens_records_their_last_use_without_a_new_revision(db: Db) {
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
            (TokenId::from("tok_gone"), Timestamp(1)),
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
        vec![(org.id().clone(), org.revision())]
    );
    org.assert_stored(store).await;
    let admin = Actor::user(org.admin.clone());
    org.run_as(
        store,
        &admin,
        TokenCommand::DeletePersonal {
            token: Key::from(&t2),
        },
    )
    .await;
    assert_eq!(
        store.token_last_used(org.id()).await.unwrap(),
        vec![(t1, Timestamp(5_000))]
    );
}

async fn a_token_owned_by_a_service_account_round_trips(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let robot = org.add_service_account(store, "sa_robot", true).await;
    let as_robot = PrincipalId::ServiceAccount(robot.clone());

    // The system issues the account a token: it acts as the account, and is the account's.
    let issued = org
        .run(
            store,
            TokenCommand::CreatePersonal {
                owner: Key::from(&robot),
                token: NewToken {
                    name: "ci".to_string(),
                    note: String::new(),
                    lifetime: TokenLifetime::NinetyDays,
                    secret_hash: hash(5),
                    display_prefix: "wdn_pat_robot".to_string(),
                    scope: ScopeInput::default(),
                },
            },
        )
        .await;
    let issued = TokenId::from(issued.target().to_string());
    let loaded = store.load_org(org.id()).await.unwrap().unwrap();
    assert_eq!(loaded.tokens[&issued].owner, as_robot);
    assert_eq!(loaded.tokens[&issued].created_by, as_robot);
    assert_eq!(
        store.org_of_token(&hash(5)).await.unwrap().as_ref(),
        Some(org.id())
    );

    // A token of the account created by a user (as an admin console would): the owner and
    // the creator are different principals of different kinds.
    let by_admin = TokenId::from("tok_robot_by_admin");
    let mut next = org.state().clone();
    next.tokens.insert(
        by_admin.clone(),
        ApiToken {
            id: by_admin.clone(),
            kind: TokenKind::Personal,
            owner: as_robot.clone(),
            name: "deploys".to_string(),
            note: "rotated monthly".to_string(),
            secret_hash: hash(6),
            display_prefix: "wdn_pat_deploy".to_string(),
            created_by: PrincipalId::User(org.admin.clone()),
            created_at: Timestamp(T0 + 10),
            expires_at: Some(Timestamp(T0 + 86_400_000)),
            // Scope ids are kept as given: a deleted namespace's id stays and matches nothing.
            scope: TokenScope {
                namespaces: vec![NamespaceId::from("ns_a"), NamespaceId::from("ns_b")],
                clusters: vec![ClusterId::from("cls_gone")],
            },
        },
    );
    org.commit_state(store, next).await;
    store
        .touch_tokens(&[(by_admin.clone(), Timestamp(T0 + 20))])
        .await
        .unwrap();
    assert_eq!(
        store.token_last_used(org.id()).await.unwrap(),
        vec![(by_admin.clone(), Timestamp(T0 + 20))]
    );

    // The account's tokens are children of the account: it cannot go while it holds one.
    let account = org.state().service_accounts[&robot].clone();
    let revoke = org.execute(
        &Actor::System,
        TokenCommand::DeletePersonal {
            token: Key::from(&issued),
        },
    );
    let err = revoke
        .commit_followed_by(
            store,
            org.revision(),
            &Change::Delete {
                before: Entity::ServiceAccount(account),
            },
        )
        .await
        .unwrap_err();
    assert!(err.is_foreign_key_violation(), "{err:?}");
    org.assert_stored(store).await;
    org.commit(store, &revoke).await;
    assert_eq!(store.org_of_token(&hash(5)).await.unwrap(), None);
    assert_eq!(
        store.org_of_token(&hash(6)).await.unwrap().as_ref(),
        Some(org.id())
    );
}

async fn a_token_cannot_belong_to_a_principal_of_another_organization(db: Db) {
    let store = &db.store;
    let mut a = Org::create(store, "aaaaaa", 0).await;
    let robot = a.add_service_account(store, "sa_robot", true).await;
    let mut b = Org::create(store, "bbbbbb", 1_000_000).await;
    let b_robot = b.add_service_account(store, "sa_b_robot", true).await;
    let rename = b.execute(
        &Actor::System,
        OrganizationCommand::Update {
            name: "B".to_string(),
        },
    );
    let token = |n: u8, owner: PrincipalId| ApiToken {
        id: TokenId::from(format!("tok_foreign_{n}")),
        kind: TokenKind::Personal,
        owner,
        name: "foreign".to_string(),
        note: String::new(),
        secret_hash: hash(n),
        display_prefix: "wdn_pat_foreign".to_string(),
        created_by: PrincipalId::ServiceAccount(b_robot.clone()),
        created_at: Timestamp(T0),
        expires_at: None,
        scope: TokenScope::default(),
    };
    // Each owner is checked by a foreign key on (organization, owner): a principal of
    // another organization is as absent as one that does not exist at all.
    let owners = [
        PrincipalId::User(a.admin.clone()),
        PrincipalId::ServiceAccount(robot.clone()),
        PrincipalId::User(UserId::from("usr_nobody")),
        PrincipalId::ServiceAccount(ServiceAccountId::from("sa_nobody")),
    ];
    for (n, owner) in (10..).zip(owners) {
        let put = Change::Put {
            before: None,
            after: Entity::Token(token(n, owner)),
        };
        let err = rename
            .commit_followed_by(store, b.revision(), &put)
            .await
            .unwrap_err();
        assert!(err.is_foreign_key_violation(), "{err:?}");
        assert_eq!(store.org_of_token(&hash(n)).await.unwrap(), None);
    }
    a.assert_stored(store).await;
    b.assert_stored(store).await;

    // The same token owned by B's own account is fine.
    let put = Change::Put {
        before: None,
        after: Entity::Token(token(20, PrincipalId::ServiceAccount(b_robot.clone()))),
    };
    rename
        .commit_followed_by(store, b.revision(), &put)
        .await
        .unwrap();
    assert_eq!(
        store.org_of_token(&hash(20)).await.unwrap().as_ref(),
        Some(b.id())
    );
}

/// The core refuses a repeated name (`duplicate_name`); the database backs it, for personal
/// tokens per owner and for org tokens across the organization, without regard to case.
async fn token_names_are_unique_per_owner_in_the_database_too(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let robot = org.add_service_account(store, "sa_robot", true).await;
    let other = org.add_service_account(store, "sa_other", true).await;
    let admin = PrincipalId::User(org.admin.clone());
    let token = |n: u8, kind: TokenKind, owner: &PrincipalId, name: &str| ApiToken {
        id: TokenId::from(format!("tok_named_{n}")),
        kind,
        owner: owner.clone(),
        name: name.to_string(),
        note: String::new(),
        secret_hash: hash(n),
        display_prefix: "wdn_pat_named".to_string(),
        created_by: admin.clone(),
        created_at: Timestamp(T0),
        expires_at: None,
        scope: TokenScope::default(),
    };
    let mut next = org.state().clone();
    for t in [
        token(1, TokenKind::Personal, &admin, "CI"),
        // Another owner may use the same name, and unnamed tokens never collide.
        token(
            2,
            TokenKind::Personal,
            &PrincipalId::ServiceAccount(robot.clone()),
            "ci",
        ),
        token(3, TokenKind::Personal, &admin, ""),
        token(4, TokenKind::Personal, &admin, ""),
        token(
            5,
            TokenKind::Org,
            &PrincipalId::ServiceAccount(other.clone()),
            "deploy",
        ),
    ] {
        next.tokens.insert(t.id.clone(), t);
    }
    org.commit_state(store, next).await;
    let noop = org.execute(
        &Actor::System,
        OrganizationCommand::Update {
            name: "Renamed".to_string(),
        },
    );
    let repeats = [
        token(6, TokenKind::Personal, &admin, "ci"),
        // Org tokens are the organization's: one name across all of them.
        token(
            7,
            TokenKind::Org,
            &PrincipalId::ServiceAccount(robot.clone()),
            "DEPLOY",
        ),
    ];
    for t in repeats {
        let put = Change::Put {
            before: None,
            after: Entity::Token(t),
        };
        let err = noop
            .commit_followed_by(store, org.revision(), &put)
            .await
            .unwrap_err();
        assert!(err.is_unique_violation(), "{err:?}");
    }
    org.assert_stored(store).await;
}
