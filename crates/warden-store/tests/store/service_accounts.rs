//! Service accounts (no command creates them yet: they are written as raw state diffs).

use warden_core::*;

use crate::common::{on_both_backends, Db, Org, T0};

on_both_backends!(service_accounts_and_rules_naming_them_round_trip);

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
