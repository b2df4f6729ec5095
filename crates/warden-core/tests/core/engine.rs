//! The engine's answers: default deny, grants through rules and groups, legacy groups,
//! aliases, deactivation, explanations.

use std::collections::BTreeSet;

use warden_core::command::{GroupCommand, Key, PolicyCommand, PrincipalKind, UserCommand};
use warden_core::*;

use crate::common::{rule, Org};

#[test]
fn new_org_has_legacy_groups_default_policies_and_an_admin() {
    let org = Org::new();
    let names: BTreeSet<&str> = org
        .state()
        .groups
        .values()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["admin", "billing_viewer", "metrics", "read", "write"]
            .into_iter()
            .collect()
    );
    assert_eq!(org.state().policies.len(), 5);
    assert!(org
        .state()
        .policies
        .values()
        .all(|p| p.legacy_group.is_some()));
    let root = org.root();
    assert!(org.snapshot.is_org_admin(root.as_str(), org.now()));
    assert!(org.allowed(&root, "iam.policies.create"));
    assert_eq!(org.state().revision, 1);
}

#[test]
fn default_deny() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let now = org.now();
    let snap = &org.snapshot;
    for action in org.catalog.actions() {
        assert!(!snap.check(u.as_str(), action, now).unwrap(), "{action}");
    }
    let decision = snap.decide(u.as_str(), "cks.clusters.list", now).unwrap();
    assert!(!decision.allowed);
    assert_eq!(decision.reason, Some(DenyReason::NoMatchingRule));
    assert!(decision.granted_by.is_empty());
    // Unknown principals and actions.
    assert!(!snap.check("usr_nobody", "cks.clusters.list", now).unwrap());
    assert_eq!(
        snap.decide("usr_nobody", "cks.clusters.list", now)
            .unwrap()
            .reason,
        Some(DenyReason::UnknownPrincipal)
    );
    assert_eq!(
        snap.check(u.as_str(), "cks.clusters.fly", now).unwrap_err(),
        DomainError::UnknownAction {
            name: "cks.clusters.fly".into(),
            did_you_mean: None
        }
    );
    // A typo is answered with the action meant.
    let typo = snap.check(u.as_str(), "cks.cluster.list", now).unwrap_err();
    assert_eq!(typo.did_you_mean(), Some("cks.clusters.list"));
    assert_eq!(
        typo.to_string(),
        "`cks.cluster.list` is not a catalog action or alias; did you mean `cks.clusters.list`?"
    );
}

#[test]
fn grant_via_direct_rule_and_revocation_by_removing_the_rule() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let policy = PolicyId::from(org.sys(PolicyCommand::Create {
        name: "ops".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::User, "u@acme.test", &["cks-viewer"])],
    }));
    assert!(org.allowed(&u, "cks.clusters.list"));
    assert!(!org.allowed(&u, "cks.clusters.create"));
    let why = org
        .snapshot
        .decide(u.as_str(), "cks.clusters.get", org.now())
        .unwrap();
    assert!(why.allowed);
    assert_eq!(why.granted_by.len(), 1);
    assert_eq!(why.granted_by[0].policy_id, policy);
    assert_eq!(why.granted_by[0].policy_name, "ops");
    assert_eq!(why.granted_by[0].rule_index, 0);
    assert_eq!(why.granted_by[0].via_group, None);
    assert_eq!(why.granted_by[0].role_id, "cks-viewer");

    org.sys(PolicyCommand::Replace {
        policy: Key::from(&policy),
        name: "ops".into(),
        description: String::new(),
        rules: vec![],
    });
    assert!(!org.allowed(&u, "cks.clusters.list"));
    org.sys(PolicyCommand::Replace {
        policy: Key::from("ops"),
        name: "ops".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::User, u.as_str(), &["cks-viewer"])],
    });
    assert!(org.allowed(&u, "cks.clusters.list"));
    org.sys(PolicyCommand::Delete {
        policy: Key::from(&policy),
    });
    assert!(!org.allowed(&u, "cks.clusters.list"));
}

#[test]
fn grant_via_group_and_revocation_by_removing_the_membership() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let group = GroupId::from(org.sys(GroupCommand::Create {
        name: "ml".into(),
        description: "ML engineers".into(),
    }));
    org.sys(PolicyCommand::Create {
        name: "inference".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::Group, "ml", &["inference-admin"])],
    });
    assert!(!org.allowed(&u, "inference.deployments.create"));
    org.sys(GroupCommand::AddMember {
        group: Key::from(&group),
        user: Key::from(&u),
    });
    assert!(org.allowed(&u, "inference.deployments.create"));
    // Includes: inference-admin includes inference-viewer.
    assert!(org.allowed(&u, "inference.deployments.list"));
    let why = org
        .snapshot
        .decide(u.as_str(), "inference.deployments.list", org.now())
        .unwrap();
    assert_eq!(why.granted_by.len(), 1);
    let source = &why.granted_by[0];
    assert_eq!(source.policy_name, "inference");
    assert_eq!(source.via_group.as_ref().unwrap().name, "ml");
    assert_eq!(source.role_id, "inference-admin");
    // Members may be named by email, groups by name.
    org.sys(GroupCommand::RemoveMember {
        group: Key::from("ml"),
        user: Key::from("u@acme.test"),
    });
    assert!(!org.allowed(&u, "inference.deployments.create"));
}

#[test]
fn legacy_groups_give_exactly_their_mapped_roles() {
    let expected: [(&str, &[&str]); 5] = [
        (
            "admin",
            &[
                "iam-admin",
                "cks-admin",
                "object-storage-admin",
                "access-token-admin",
                "access-request-approver",
            ],
        ),
        (
            "write",
            &["cks-admin", "object-storage-admin", "access-token-admin"],
        ),
        ("read", &["iam-viewer", "cks-viewer", "access-token-viewer"]),
        ("metrics", &["observability-viewer"]),
        ("billing_viewer", &["billing-viewer"]),
    ];
    for (group, roles) in expected {
        let mut org = Org::new();
        let u = org.user("member@acme.test");
        org.join(group, &u);
        let mut want = ActionSet::EMPTY;
        for role in roles {
            want.union_with(&org.catalog.role(role).unwrap().action_set);
        }
        for (i, action) in org.catalog.actions().iter().enumerate() {
            let expected = want.contains(ActionId(u16::try_from(i).unwrap()));
            assert_eq!(
                org.allowed(&u, action),
                expected,
                "group {group}, action {action}"
            );
        }
        // And nothing else: the legacy admin group does not get newer roles.
        assert!(!org.allowed(&u, "inference.gateways.list"));
        assert!(!org.allowed(&u, "telemetry.pipelines.list"));
    }
}

#[test]
fn aliases_need_every_action_they_stand_for() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let root = org.root();
    assert!(org.allowed(&root, "write_groups_user_assignments"));
    assert!(org.allowed(&root, "write_org_users"));
    org.join("read", &u);
    assert!(!org.allowed(&u, "write_org_users"));
}

#[test]
fn deactivated_users_are_denied_everything_and_reactivation_restores() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    org.join("read", &u);
    assert!(org.allowed(&u, "iam.users.list"));
    org.sys(UserCommand::Deactivate {
        user: Key::from(&u),
    });
    assert!(!org.allowed(&u, "iam.users.list"));
    let why = org
        .snapshot
        .decide(u.as_str(), "iam.users.list", org.now())
        .unwrap();
    assert_eq!(why.reason, Some(DenyReason::PrincipalInactive));
    // The paths that would grant it once reactivated are still shown.
    assert!(!why.granted_by.is_empty());
    org.sys(UserCommand::Reactivate {
        user: Key::from("u@acme.test"),
    });
    assert!(org.allowed(&u, "iam.users.list"));
}

#[test]
fn commands_are_authorized_by_the_engine() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let actor = Actor::user(u.clone());
    let create = || GroupCommand::Create {
        name: "x".into(),
        description: String::new(),
    };
    let err = org.run(&actor, create()).unwrap_err();
    assert!(matches!(&err, DomainError::Forbidden { action, .. } if action == "iam.groups.create"));
    // The refusal names the role that would allow it, narrowest first.
    assert_eq!(err.roles().first().map(String::as_str), Some("iam-admin"));
    assert!(err.to_string().contains(
        "a rule granting the role `iam-admin` to the caller, or to a group they are in, would allow it"
    ), "{err}");
    org.join("read", &u);
    assert_eq!(
        org.run(&Actor::user(u.clone()), create())
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let revision = org.state().revision;
    org.run(&Actor::user(org.root()), create()).unwrap();
    assert_eq!(org.state().revision, revision + 1);
}

#[test]
fn names_resolve_to_ids_in_commands_and_reads() {
    let mut org = Org::new();
    let u = org.user("Mixed.Case@Acme.test");
    assert_eq!(
        warden_core::resolve::user(org.state(), "mixed.case@acme.TEST")
            .unwrap()
            .id,
        u
    );
    assert_eq!(
        warden_core::resolve::group(org.state(), "nope").unwrap_err(),
        DomainError::NotFound {
            kind: "group",
            id: "nope".into(),
            did_you_mean: None
        }
    );
    let err = org
        .run(
            &Actor::System,
            UserCommand::Deactivate {
                user: Key::from("ghost@acme.test"),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
}
