//! Access policies: default policies keep their name and group, their roles change and reset
//! to the catalog's; bad input changes nothing.

use warden_core::command::{
    ClusterCommand, GroupCommand, Key, NamespaceCommand, PolicyCommand, PrincipalKind,
};
use warden_core::*;

use crate::common::{rule, Org};

const READ_ROLES: [&str; 3] = ["iam-viewer", "cks-viewer", "access-token-viewer"];

fn replace_read(rules: Vec<command::RuleInput>) -> PolicyCommand {
    PolicyCommand::Replace {
        policy: Key::from("read"),
        name: "read".into(),
        description: String::new(),
        rules,
    }
}

fn difference(org: &Org, name: &str) -> command::CatalogDifference {
    let policy = org
        .state()
        .policies
        .values()
        .find(|p| p.name == name)
        .unwrap();
    command::catalog_difference(&org.catalog, org.state(), policy).unwrap()
}

#[test]
fn default_policies_keep_their_name_and_group_and_cannot_be_deleted() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let err = org
        .run(
            &Actor::System,
            PolicyCommand::Delete {
                policy: Key::from("read"),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "default_policy_protected");
    // Adding a user as a principal is fine.
    org.sys(replace_read(vec![
        rule(PrincipalKind::Group, "read", &READ_ROLES),
        rule(PrincipalKind::User, u.as_str(), &READ_ROLES),
    ]));
    assert!(org.allowed(&u, "cks.clusters.list"));
    // Emptying a default policy, or dropping its own group, is refused.
    for rules in [
        vec![],
        vec![rule(PrincipalKind::User, u.as_str(), &READ_ROLES)],
    ] {
        let err = org.run(&Actor::System, replace_read(rules)).unwrap_err();
        assert_eq!(err.code(), "default_policy_group_required");
    }
    // The group's own rule does not end.
    let mut ending = rule(PrincipalKind::Group, "read", &READ_ROLES);
    ending.expires_at = Some(Timestamp(org.now().0 + 60_000));
    let err = org
        .run(&Actor::System, replace_read(vec![ending]))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_field");
    assert!(err.to_string().contains("cannot end"), "{err}");
    let err = org
        .run(
            &Actor::System,
            PolicyCommand::Replace {
                policy: Key::from("read"),
                name: "reader".into(),
                description: String::new(),
                rules: vec![rule(PrincipalKind::Group, "read", &READ_ROLES)],
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "default_policy_protected");
    let err = org
        .run(
            &Actor::System,
            GroupCommand::Delete {
                group: Key::from("admin"),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "legacy_group_protected");
}

#[test]
fn default_policy_roles_change_and_reset_to_the_catalogs() {
    let mut org = Org::new();
    let reader = org.user("reader@acme.test");
    org.join("read", &reader);
    let extra = org.user("extra@acme.test");
    assert!(difference(&org, "read").roles_added.is_empty());
    assert!(!org.allowed(&reader, "inference.gateways.list"));
    // "Add the relevant role": the group gains a newer feature's role, loses another.
    org.sys(replace_read(vec![
        rule(
            PrincipalKind::Group,
            "read",
            &["iam-viewer", "cks-viewer", "inference-viewer"],
        ),
        rule(PrincipalKind::User, extra.as_str(), &["billing-viewer"]),
    ]));
    assert!(org.allowed(&reader, "inference.gateways.list"));
    assert!(!org.allowed(&reader, "tokens.personal.list"));
    let d = difference(&org, "read");
    assert_eq!(d.catalog_roles, READ_ROLES.map(String::from).to_vec());
    assert_eq!(d.roles_added, vec!["inference-viewer".to_string()]);
    assert_eq!(d.roles_removed, vec!["access-token-viewer".to_string()]);
    // Reset gives every rule the catalog's roles and keeps the principals.
    org.sys(PolicyCommand::Reset {
        policy: Key::from("read"),
    });
    let policy = org
        .state()
        .policies
        .values()
        .find(|p| p.name == "read")
        .unwrap()
        .clone();
    assert_eq!(policy.rules.len(), 2);
    for r in &policy.rules {
        assert_eq!(r.roles, READ_ROLES.map(String::from).to_vec());
    }
    assert!(!org.allowed(&reader, "inference.gateways.list"));
    assert!(org.allowed(&extra, "cks.clusters.list"));
    let d = difference(&org, "read");
    assert!(d.roles_added.is_empty() && d.roles_removed.is_empty());
    // Only default policies have catalog roles.
    org.sys(PolicyCommand::Create {
        name: "custom".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::User, extra.as_str(), &["cks-viewer"])],
    });
    let err = org
        .run(
            &Actor::System,
            PolicyCommand::Reset {
                policy: Key::from("custom"),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "not_a_default_policy");
}

#[test]
fn an_admin_cannot_change_the_roles_of_their_own_group_and_an_operator_can() {
    let mut org = Org::new();
    let root = Actor::Principal(PrincipalId::User(org.root()));
    let admin_roles = [
        "iam-admin",
        "cks-admin",
        "object-storage-admin",
        "access-token-admin",
        "access-request-approver",
    ];
    let replace_admin = |roles: &[&str]| PolicyCommand::Replace {
        policy: Key::from("admin"),
        name: "admin".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::Group, "admin", roles)],
    };
    // Even a role that gives the admin nothing new is a change to their own group's grants.
    let mut more = admin_roles.to_vec();
    more.push("iam-viewer");
    let err = org.run(&root, replace_admin(&more)).unwrap_err();
    assert_eq!(err.code(), "self_privilege_change");
    assert!(
        err.to_string()
            .contains("warden policies set-roles admin --org"),
        "{err}"
    );
    // Resetting an unchanged policy changes nothing, so nothing is refused.
    org.run(
        &root,
        PolicyCommand::Reset {
            policy: Key::from("admin"),
        },
    )
    .unwrap();
    // The admin is not in `read`: its roles are theirs to change.
    org.run(
        &root,
        replace_read(vec![rule(PrincipalKind::Group, "read", &["iam-viewer"])]),
    )
    .unwrap();
    // An operator belongs to no group.
    let operator = Actor::Operator(OperatorId::from("opr_1"));
    org.run(&operator, replace_admin(&more)).unwrap();
    assert_eq!(
        difference(&org, "admin").roles_added,
        vec!["iam-viewer".to_string()]
    );
    let err = org
        .run(
            &root,
            PolicyCommand::Reset {
                policy: Key::from("admin"),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "self_privilege_change");
    org.run(
        &operator,
        PolicyCommand::Reset {
            policy: Key::from("admin"),
        },
    )
    .unwrap();
    assert!(difference(&org, "admin").roles_added.is_empty());
}

#[test]
fn bad_input_is_refused_without_changes() {
    let mut org = Org::new();
    let before = org.state().clone();
    let cases: Vec<(Command, &str)> = vec![
        (
            PolicyCommand::Create {
                name: "p".into(),
                description: String::new(),
                rules: vec![rule(PrincipalKind::User, "usr_nobody", &["cks-viewer"])],
            }
            .into(),
            "unknown_principal",
        ),
        (
            PolicyCommand::Create {
                name: "p".into(),
                description: String::new(),
                rules: vec![rule(PrincipalKind::Group, "admin", &["god-mode"])],
            }
            .into(),
            "unknown_role",
        ),
        (
            GroupCommand::Create {
                name: "admin".into(),
                description: String::new(),
            }
            .into(),
            "duplicate_name",
        ),
        (
            GroupCommand::Create {
                name: "x".repeat(64),
                description: String::new(),
            }
            .into(),
            "invalid_field",
        ),
        (
            PolicyCommand::Create {
                name: "read".into(),
                description: String::new(),
                rules: vec![],
            }
            .into(),
            "duplicate_name",
        ),
        (
            NamespaceCommand::Create {
                name: "Bad_Name".into(),
                access: vec![],
            }
            .into(),
            "invalid_field",
        ),
        (
            NamespaceCommand::Create {
                name: "ok".into(),
                access: vec![(Key::from("ghost@acme.test"), vec![])],
            }
            .into(),
            "unknown_principal",
        ),
        (
            ClusterCommand::Create {
                name: "c1".into(),
                api_server_url: "ftp://x".into(),
                ca_bundle: String::new(),
            }
            .into(),
            "invalid_field",
        ),
    ];
    for (cmd, code) in cases {
        let err = org.run(&Actor::System, cmd.clone()).unwrap_err();
        assert_eq!(err.code(), code, "{cmd:?}");
        assert_eq!(*org.state(), before, "{cmd:?} changed state");
    }
}
