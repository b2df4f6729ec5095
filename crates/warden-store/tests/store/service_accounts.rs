//! Service accounts: as raw state diffs (the platform's own accounts), and through their
//! commands, whose deletion takes the account's tokens and the rules naming it in one commit.

use warden_core::command::{
    Key, NewToken, PolicyCommand, PrincipalInput, PrincipalKind, RuleInput, ScopeInput,
    ServiceAccountCommand, TokenCommand, TokenLifetime,
};
use warden_core::*;

use crate::common::{hash, on_both_backends, Db, Org, T0};

on_both_backends!(
    service_accounts_and_rules_naming_them_round_trip,
    a_deleted_service_account_takes_its_tokens_and_rules_in_one_commit,
);

async fn service_accounts_and_rules_naming_them_round_trip(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let robot = ServiceAccountId::from("sa_robot");
    let system = ServiceAccountId::from("sa_system");
    let mut next = org.state().clone();
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
        PolicyId::from("pol_robot"),
        AccessPolicy {
            id: PolicyId::from("pol_robot"),
            name: "Robot".to_string(),
            description: String::new(),
            legacy_group: None,
            rules: vec![Rule {
                principal: PrincipalRef::ServiceAccount(robot.clone()),
                roles: vec!["cks-admin".to_string(), "cks-admin".to_string()],
                expires_at: None,
            }],
            created_at: Timestamp(T0 + 3),
            updated_at: Timestamp(T0 + 4),
        },
    );
    org.commit_state(store, next).await;

    let mut next = org.state().clone();
    next.service_accounts.get_mut(&robot).unwrap().active = false;
    next.service_accounts.remove(&system);
    next.policies.remove(&PolicyId::from("pol_robot"));
    org.commit_state(store, next).await;
    assert_eq!(org.state().service_accounts.len(), 1);
}

async fn a_deleted_service_account_takes_its_tokens_and_rules_in_one_commit(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let created = org.execute(
        &Actor::System,
        ServiceAccountCommand::Create { name: "ci".into() },
    );
    let account = created.target().to_string();
    org.commit(store, &created).await;
    let commands: Vec<Command> = vec![
        PolicyCommand::Create {
            name: "ci".into(),
            description: String::new(),
            rules: vec![RuleInput {
                principal: PrincipalInput {
                    kind: PrincipalKind::ServiceAccount,
                    id: account.clone(),
                },
                roles: vec!["cks-viewer".into()],
                expires_at: None,
            }],
        }
        .into(),
        TokenCommand::CreatePersonal {
            owner: Key::from(account.as_str()),
            token: NewToken {
                name: "deploy".into(),
                note: String::new(),
                lifetime: TokenLifetime::OneHour,
                secret_hash: hash(3),
                display_prefix: "wdn_x".into(),
                scope: ScopeInput::default(),
            },
        }
        .into(),
        ServiceAccountCommand::Update {
            account: Key::from("ci"),
            name: Some("CI".into()),
            active: Some(false),
        }
        .into(),
        ServiceAccountCommand::Delete {
            account: Key::from("CI"),
        }
        .into(),
    ];
    for command in commands {
        let step = org.execute(&Actor::System, command);
        org.commit(store, &step).await;
    }
    assert!(org.state().service_accounts.is_empty());
    assert!(org
        .state()
        .tokens
        .values()
        .all(|t| t.owner.as_str() != account));
    let policy = org
        .state()
        .policies
        .values()
        .find(|p| p.name == "ci")
        .unwrap();
    assert!(policy.rules.is_empty());
}
