//! Service accounts are principals like users: rules name them, the same snapshot answers
//! for them, and they can act (issue commands) through it.

use std::sync::Arc;

use warden_core::command::{
    GroupCommand, Key, NewToken, PolicyCommand, PrincipalKind, ScopeInput, TokenCommand,
    TokenLifetime,
};
use warden_core::*;

use crate::common::{rule, Org};

fn with_service_account(org: &mut Org, id: &str, active: bool) -> ServiceAccountId {
    let id = ServiceAccountId::from(id);
    let mut state = org.state().clone();
    state.service_accounts.insert(
        id.clone(),
        ServiceAccount {
            id: id.clone(),
            name: "ci-bot".into(),
            created_by: Some(org.root()),
            active,
            system_managed: false,
            created_at: org.now(),
        },
    );
    org.snapshot = Snapshot::compile(org.catalog.clone(), Arc::new(state), org.now());
    id
}

#[test]
fn a_service_account_authorizes_through_the_same_snapshot_as_a_user() {
    let mut org = Org::new();
    let sa = with_service_account(&mut org, "sa_ci0000000000000001", true);
    let actor = Actor::Principal(PrincipalId::ServiceAccount(sa.clone()));
    let now = org.now();
    assert!(!org
        .snapshot
        .check(sa.as_str(), "iam.groups.create", now)
        .unwrap());
    let create = |name: &str| GroupCommand::Create {
        name: name.into(),
        description: String::new(),
    };
    assert_eq!(
        org.run(&actor, create("bots")).unwrap_err().code(),
        "forbidden"
    );
    // A rule naming the service account grants it, exactly as it would a user.
    org.sys(PolicyCommand::Create {
        name: "automation".into(),
        description: String::new(),
        rules: vec![rule(
            PrincipalKind::ServiceAccount,
            sa.as_str(),
            &["iam-admin"],
        )],
    });
    let decision = org
        .snapshot
        .decide(sa.as_str(), "iam.groups.create", org.now())
        .unwrap();
    assert!(decision.allowed);
    assert_eq!(decision.granted_by[0].policy_name, "automation");
    assert!(org
        .snapshot
        .who_can("iam.groups.create", org.now())
        .unwrap()
        .contains(&PrincipalId::ServiceAccount(sa.clone())));
    // It acts through the same evaluator: the command is authorized and applied.
    org.run(&actor, create("bots")).unwrap();
    // A service account is never an organization admin (those are users) ...
    assert!(!org.snapshot.is_org_admin(sa.as_str(), org.now()));
    // ... and cannot change its own privileges either.
    let err = org
        .run(
            &actor,
            PolicyCommand::Create {
                name: "more".into(),
                description: String::new(),
                rules: vec![rule(
                    PrincipalKind::ServiceAccount,
                    sa.as_str(),
                    &["cks-admin"],
                )],
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    // The system may issue it a token; nobody is emailed about it.
    let executed = execute(
        &org.snapshot,
        &Actor::System,
        TokenCommand::CreatePersonal {
            owner: Key::from(&sa),
            token: NewToken {
                name: "ci".into(),
                note: String::new(),
                lifetime: TokenLifetime::OneHour,
                secret_hash: "33".repeat(32),
                display_prefix: "wdn_pat_s".into(),
                scope: ScopeInput::default(),
            },
        }
        .into(),
        &mut org.ctx,
    )
    .unwrap();
    assert!(executed.effects.is_empty());
    let token = executed.state().tokens.values().next().unwrap();
    assert_eq!(token.owner, PrincipalId::ServiceAccount(sa));
}

#[test]
fn an_inactive_service_account_is_denied() {
    let mut org = Org::new();
    let sa = with_service_account(&mut org, "sa_ci0000000000000002", false);
    org.sys(PolicyCommand::Create {
        name: "automation".into(),
        description: String::new(),
        rules: vec![rule(
            PrincipalKind::ServiceAccount,
            sa.as_str(),
            &["cks-viewer"],
        )],
    });
    let decision = org
        .snapshot
        .decide(sa.as_str(), "cks.clusters.list", org.now())
        .unwrap();
    assert!(!decision.allowed);
    assert_eq!(decision.reason, Some(DenyReason::PrincipalInactive));
    let err = org
        .run(
            &Actor::Principal(PrincipalId::ServiceAccount(sa)),
            GroupCommand::Create {
                name: "x".into(),
                description: String::new(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}
