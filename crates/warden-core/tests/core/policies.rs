//! Access policies: default policies keep their roles and their group; bad input changes
//! nothing.

use warden_core::command::{
    ClusterCommand, GroupCommand, Key, NamespaceCommand, PolicyCommand, PrincipalKind,
};
use warden_core::*;

use crate::common::{rule, Org};

#[test]
fn default_policies_keep_their_roles_and_cannot_be_deleted() {
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
    let replace = |rules| PolicyCommand::Replace {
        policy: Key::from("read"),
        name: "read".into(),
        description: String::new(),
        rules,
    };
    let err = org
        .run(
            &Actor::System,
            replace(vec![rule(PrincipalKind::User, u.as_str(), &["iam-admin"])]),
        )
        .unwrap_err();
    assert_eq!(err.code(), "default_policy_roles_fixed");
    // Adding a user as a principal with the fixed roles is fine.
    org.sys(replace(vec![
        rule(
            PrincipalKind::Group,
            "read",
            &["iam-viewer", "cks-viewer", "access-token-viewer"],
        ),
        rule(
            PrincipalKind::User,
            u.as_str(),
            &["cks-viewer", "iam-viewer", "access-token-viewer"],
        ),
    ]));
    assert!(org.allowed(&u, "cks.clusters.list"));
    // Emptying a default policy, or dropping its own group, is refused.
    for rules in [
        vec![],
        vec![rule(
            PrincipalKind::User,
            u.as_str(),
            &["cks-viewer", "iam-viewer", "access-token-viewer"],
        )],
    ] {
        let err = org.run(&Actor::System, replace(rules)).unwrap_err();
        assert_eq!(err.code(), "default_policy_group_required");
    }
    let err = org
        .run(
            &Actor::System,
            PolicyCommand::Replace {
                policy: Key::from("read"),
                name: "reader".into(),
                description: String::new(),
                rules: vec![rule(
                    PrincipalKind::Group,
                    "read",
                    &["iam-viewer", "cks-viewer", "access-token-viewer"],
                )],
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
