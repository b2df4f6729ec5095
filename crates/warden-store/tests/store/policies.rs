//! Access policies and their rules.

use warden_core::command::{
    GroupCommand, Key, PolicyCommand, PrincipalInput, PrincipalKind, RuleInput,
};
use warden_core::*;

use crate::common::{on_both_backends, Db, Org, T0};

on_both_backends!(
    policies_keep_the_order_of_rules_and_roles,
    a_time_bound_rule_keeps_its_expiry,
);

fn rule(kind: PrincipalKind, id: &str, roles: &[&str]) -> RuleInput {
    RuleInput {
        principal: PrincipalInput {
            kind,
            id: id.to_string(),
        },
        roles: roles.iter().map(|r| r.to_string()).collect(),
        expires_at: None,
    }
}

async fn policies_keep_the_order_of_rules_and_roles(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let bob = org.create_user(store, "bob@example.com").await;
    let ops = GroupId::from(
        org.run(
            store,
            GroupCommand::Create {
                name: "ops".to_string(),
                description: String::new(),
            },
        )
        .await
        .target()
        .to_string(),
    );
    let policy = PolicyId::from(
        org.run(
            store,
            PolicyCommand::Create {
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
        .target()
        .to_string(),
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
        PolicyCommand::Replace {
            policy: Key::from(&policy),
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
        .state()
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
        PolicyCommand::Replace {
            policy: Key::from(&read.id),
            name: read.name.clone(),
            description: read.description.clone(),
            rules: vec![
                rule(PrincipalKind::Group, &read_group, &reversed),
                rule(PrincipalKind::User, bob.as_str(), &reversed),
            ],
        },
    )
    .await;
    assert_eq!(org.state().policies[&read.id].rules[1].roles, reversed);
    org.run(
        store,
        PolicyCommand::Delete {
            policy: Key::from(&policy),
        },
    )
    .await;
    org.run(
        store,
        GroupCommand::Delete {
            group: Key::from(&ops),
        },
    )
    .await;
}

async fn a_time_bound_rule_keeps_its_expiry(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let bob = org.create_user(store, "bob@example.com").await;
    let until = |at: i64| RuleInput {
        expires_at: Some(Timestamp(at)),
        ..rule(PrincipalKind::User, bob.as_str(), &["cks-viewer"])
    };
    let rules = vec![
        until(T0 + 3_600_000),
        rule(PrincipalKind::User, bob.as_str(), &["iam-viewer"]),
        until(i64::MAX),
    ];
    let policy = PolicyId::from(
        org.run(
            store,
            PolicyCommand::Create {
                name: "Temporary".to_string(),
                description: "Until the incident is over".to_string(),
                rules,
            },
        )
        .await
        .target()
        .to_string(),
    );
    let loaded = store.load_org(org.id()).await.unwrap().unwrap();
    let expiries: Vec<Option<Timestamp>> = loaded.policies[&policy]
        .rules
        .iter()
        .map(|r| r.expires_at)
        .collect();
    assert_eq!(
        expiries,
        [
            Some(Timestamp(T0 + 3_600_000)),
            None,
            Some(Timestamp(i64::MAX))
        ]
    );
    // Moving an expiry, and dropping one, are written too.
    org.run(
        store,
        PolicyCommand::Replace {
            policy: Key::from(&policy),
            name: "Temporary".to_string(),
            description: String::new(),
            rules: vec![
                rule(PrincipalKind::User, bob.as_str(), &["cks-viewer"]),
                until(T0 + 7_200_000),
            ],
        },
    )
    .await;
    let loaded = store.load_org(org.id()).await.unwrap().unwrap();
    assert_eq!(loaded.policies[&policy].rules[0].expires_at, None);
    assert_eq!(
        loaded.policies[&policy].rules[1].expires_at,
        Some(Timestamp(T0 + 7_200_000))
    );
}
