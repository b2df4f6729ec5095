//! Service accounts: created, renamed, (de)activated and deleted by holders of the
//! `iam.service_accounts.*` actions (privileged: no role holds them); named by rules like users; an inactive account holds no
//! rights; deleting one takes its tokens and the rules naming it; the platform's own accounts
//! are not for users to change.

use std::sync::Arc;

use warden_core::command::{
    Key, NewToken, PolicyCommand, PrincipalKind, ScopeInput, ServiceAccountCommand, TokenCommand,
    TokenLifetime,
};
use warden_core::*;

use crate::common::{rule, Org};

fn create(name: &str) -> ServiceAccountCommand {
    ServiceAccountCommand::Create { name: name.into() }
}

fn update(account: &str, name: Option<&str>, active: Option<bool>) -> ServiceAccountCommand {
    ServiceAccountCommand::Update {
        account: Key::from(account),
        name: name.map(String::from),
        active,
    }
}

fn can(org: &Org, principal: &str, action: &str) -> bool {
    org.snapshot
        .check(principal, action, org.now())
        .unwrap_or(false)
}

#[test]
fn service_accounts_are_principals_that_can_be_deactivated_and_renamed() {
    let mut org = Org::new();
    // Managing service accounts is privileged (spec sections 1 and 10): no role holds the
    // actions, so not even an IAM Admin manages them until a privileged grant exists; the
    // platform does.
    let admin = Actor::Principal(PrincipalId::User(org.root()));
    let err = org.run(&admin, create("ci-deployer")).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let root = Actor::System;
    let ci = org.run(&root, create("ci-deployer")).unwrap();
    let account = org
        .state()
        .service_accounts
        .get(&ServiceAccountId::from(ci.clone()))
        .unwrap()
        .clone();
    assert!(ci.starts_with("sa_"), "{ci}");
    assert_eq!(account.created_by, None, "made by the platform, not a user");
    assert!(account.active && !account.system_managed);
    // Names are unique without regard to case.
    let err = org.run(&root, create("CI-Deployer")).unwrap_err();
    assert_eq!(err.code(), "duplicate_name");
    // Default deny, then a rule naming it grants.
    assert!(!can(&org, &ci, "cks.clusters.list"));
    org.sys(PolicyCommand::Create {
        name: "deployers".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::ServiceAccount, &ci, &["cks-viewer"])],
    });
    assert!(can(&org, &ci, "cks.clusters.list"));
    // Deactivated, it holds nothing; reactivated, its rules apply again.
    org.run(&root, update("ci-deployer", None, Some(false)))
        .unwrap();
    assert!(!can(&org, &ci, "cks.clusters.list"));
    org.run(&root, update(&ci, None, Some(true))).unwrap();
    assert!(can(&org, &ci, "cks.clusters.list"));
    // Renamed (found by its old name no more), a re-casing of its own name is no clash.
    org.run(&root, update(&ci, Some("deployer"), None)).unwrap();
    org.run(&root, update("deployer", Some("Deployer"), None))
        .unwrap();
    let err = org
        .run(&root, update("ci-deployer", None, None))
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let err = org.run(&root, update("Deployr", None, None)).unwrap_err();
    assert_eq!(err.did_you_mean(), Some("Deployer"));
}

#[test]
fn deleting_a_service_account_takes_its_tokens_and_rules_along() {
    let mut org = Org::new();
    let ci = org.sys(create("ci"));
    let keep = org.sys(create("keep"));
    org.sys(PolicyCommand::Create {
        name: "both".into(),
        description: String::new(),
        rules: vec![
            rule(PrincipalKind::ServiceAccount, &ci, &["cks-viewer"]),
            rule(PrincipalKind::ServiceAccount, &keep, &["cks-viewer"]),
        ],
    });
    let token = org.sys(TokenCommand::CreatePersonal {
        owner: Key::from(ci.as_str()),
        token: NewToken {
            name: "deploy".into(),
            note: String::new(),
            lifetime: TokenLifetime::OneHour,
            secret_hash: "ab".repeat(32),
            display_prefix: "wdn_x".into(),
            scope: ScopeInput::default(),
        },
    });
    assert!(org
        .state()
        .tokens
        .contains_key(&TokenId::from(token.clone())));
    org.sys(ServiceAccountCommand::Delete {
        account: Key::from("ci"),
    });
    assert!(!org
        .state()
        .service_accounts
        .contains_key(&ServiceAccountId::from(ci.clone())));
    assert!(!org.state().tokens.contains_key(&TokenId::from(token)));
    let policy = org
        .state()
        .policies
        .values()
        .find(|p| p.name == "both")
        .unwrap();
    assert_eq!(policy.rules.len(), 1);
    assert!(can(&org, &keep, "cks.clusters.list"));
    assert!(!can(&org, &ci, "cks.clusters.list"));
}

#[test]
fn managing_service_accounts_takes_its_actions_and_spares_the_platforms_own() {
    let mut org = Org::new();
    let nobody = org.user("nobody@acme.test");
    let as_nobody = Actor::Principal(PrincipalId::User(nobody));
    let err = org.run(&as_nobody, create("sneaky")).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert!(org.state().service_accounts.is_empty());
    // An account the platform manages itself (made as the platform would, outside commands).
    let mut state = org.state().clone();
    let managed = ServiceAccount {
        id: ServiceAccountId::from("sa_platform"),
        name: "platform-agent".into(),
        created_by: None,
        active: true,
        system_managed: true,
        created_at: org.now(),
    };
    state
        .service_accounts
        .insert(managed.id.clone(), managed.clone());
    org.snapshot = Snapshot::compile(org.catalog.clone(), Arc::new(state), org.now());
    for command in [
        update("platform-agent", Some("mine"), None),
        update("platform-agent", None, Some(false)),
        ServiceAccountCommand::Delete {
            account: Key::from("sa_platform"),
        },
    ] {
        let err = org.run(&Actor::System, command).unwrap_err();
        assert_eq!(err.code(), "system_managed");
        assert!(err.to_string().contains("platform-agent"), "{err}");
    }
    assert_eq!(
        org.state().service_accounts.get(&managed.id),
        Some(&managed)
    );
    // Bad names change nothing.
    for bad in ["", "   ", "a\u{200b}b"] {
        let err = org.run(&Actor::System, create(bad)).unwrap_err();
        assert_eq!(err.code(), "invalid_field", "{bad:?}");
    }
    assert_eq!(org.state().service_accounts.len(), 1);
}

#[test]
fn a_rule_names_a_service_account_by_id_or_by_name() {
    let mut org = Org::new();
    let ci = org.sys(create("CI-Deployer"));
    // By name, without regard to case, as a group is named by its name.
    org.sys(PolicyCommand::Create {
        name: "deployers".into(),
        description: String::new(),
        rules: vec![rule(
            PrincipalKind::ServiceAccount,
            "ci-deployer",
            &["cks-viewer"],
        )],
    });
    let policy = org
        .state()
        .policies
        .values()
        .find(|p| p.name == "deployers")
        .unwrap();
    assert_eq!(
        policy.rules[0].principal,
        PrincipalRef::ServiceAccount(ServiceAccountId::from(ci.clone()))
    );
    assert!(can(&org, &ci, "cks.clusters.list"));
    // A name nobody has: unknown_principal, with the closest account's name.
    let err = org
        .run(
            &Actor::System,
            PolicyCommand::Create {
                name: "typo".into(),
                description: String::new(),
                rules: vec![rule(
                    PrincipalKind::ServiceAccount,
                    "ci-deployr",
                    &["cks-viewer"],
                )],
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "unknown_principal");
    assert_eq!(err.did_you_mean(), Some("CI-Deployer"));
}
