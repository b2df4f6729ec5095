//! Spec section 7, rules 1 to 3: at least one admin, no change to one's own privileges, the
//! default admin protected from org admins.

use warden_core::command::{
    GroupCommand, Key, PolicyCommand, PrincipalKind, RuleInput, UserCommand,
};
use warden_core::*;

use crate::common::{rule, Org};

fn remove(group: &str, user: &UserId) -> GroupCommand {
    GroupCommand::RemoveMember {
        group: Key::from(group),
        user: Key::from(user),
    }
}

#[test]
fn at_least_one_active_admin() {
    let mut org = Org::new();
    let root = org.root();
    // Even the system cannot leave the org without an admin.
    let err = org.run(&Actor::System, remove("admin", &root)).unwrap_err();
    assert_eq!(err, DomainError::LastAdmin);
    let err = org
        .run(
            &Actor::System,
            UserCommand::Deactivate {
                user: Key::from(&root),
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::LastAdmin);
    // With a second admin, the system may remove the first.
    let second = org.user("second@acme.test");
    org.join("admin", &second);
    org.sys(remove("admin", &root));
}

#[test]
fn admins_cannot_change_their_own_privileges() {
    let mut org = Org::new();
    let second = org.user("second@acme.test");
    org.join("admin", &second);
    let actor = Actor::user(second.clone());
    // Granting themselves more: refused.
    let err = org
        .run(
            &actor,
            PolicyCommand::Create {
                name: "me".into(),
                description: String::new(),
                rules: vec![rule(
                    PrincipalKind::User,
                    second.as_str(),
                    &["billing-viewer"],
                )],
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    // Leaving admin themselves: refused.
    let err = org.run(&actor, remove("admin", &second)).unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    // Deactivating themselves: refused.
    let err = org
        .run(
            &actor,
            UserCommand::Deactivate {
                user: Key::from(&second),
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    // Granting a group they are in a role: refused; a group they are not in: fine.
    org.sys(GroupCommand::Create {
        name: "ml".into(),
        description: String::new(),
    });
    org.join("ml", &second);
    let err = org
        .run(
            &actor,
            PolicyCommand::Create {
                name: "ml".into(),
                description: String::new(),
                rules: vec![rule(PrincipalKind::Group, "ml", &["inference-admin"])],
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    org.run(
        &actor,
        PolicyCommand::Create {
            name: "billing".into(),
            description: String::new(),
            rules: vec![rule(
                PrincipalKind::Group,
                "billing_viewer",
                &["billing-viewer"],
            )],
        },
    )
    .unwrap();
    // Another admin may change theirs.
    org.run(&Actor::user(org.root()), remove("admin", &second))
        .unwrap();
}

#[test]
fn default_admin_is_protected_from_org_admins() {
    let mut org = Org::new();
    let second = org.user("second@acme.test");
    org.join("admin", &second);
    let actor = Actor::user(second);
    let root = org.root();
    let err = org.run(&actor, remove("admin", &root)).unwrap_err();
    assert_eq!(err, DomainError::DefaultAdminProtected);
    let err = org
        .run(
            &actor,
            UserCommand::Deactivate {
                user: Key::from(&root),
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::DefaultAdminProtected);
    // Even when the default admin keeps IAM Admin through another policy, another admin
    // may not take them out of `admin` (spec 7.3).
    org.sys(PolicyCommand::Create {
        name: "root-direct".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::User, root.as_str(), &["iam-admin"])],
    });
    let err = org.run(&actor, remove("admin", &root)).unwrap_err();
    assert_eq!(err, DomainError::DefaultAdminProtected);
}

#[test]
fn an_admin_cannot_plant_a_redundant_grant_for_themselves() {
    let mut org = Org::new();
    let second = org.user("second@acme.test");
    org.join("admin", &second);
    let actor = Actor::user(second.clone());
    // Changes nothing today (they are an admin through `admin`), but would outlive a
    // demotion: refused, whatever its effect.
    let plant = PolicyCommand::Create {
        name: "spare-key".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::User, second.as_str(), &["iam-admin"])],
    };
    assert_eq!(
        org.run(&actor, plant.clone()).unwrap_err(),
        DomainError::SelfPrivilegeChange
    );
    // Nor delete or edit a rule naming them, planted by someone else.
    org.sys(plant);
    let err = org
        .run(
            &actor,
            PolicyCommand::Delete {
                policy: Key::from("spare-key"),
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    // Another admin may remove it; then the demotion sticks.
    let root = Actor::user(org.root());
    org.run(
        &root,
        PolicyCommand::Delete {
            policy: Key::from("spare-key"),
        },
    )
    .unwrap();
    org.run(&root, remove("admin", &second)).unwrap();
    assert!(!org.snapshot.is_org_admin(second.as_str(), org.now()));
}

#[test]
fn a_grant_that_ends_cannot_be_made_to_last() {
    let mut org = Org::new();
    let temp = org.user("temp@acme.test");
    let until = Timestamp(org.now().0 + 3_600_000);
    org.sys(GroupCommand::Create {
        name: "on-call".into(),
        description: String::new(),
    });
    org.join("on-call", &temp);
    let on_call = |expires_at| PolicyCommand::Replace {
        policy: Key::from("break-glass"),
        name: "break-glass".into(),
        description: String::new(),
        rules: vec![RuleInput {
            expires_at,
            ..rule(PrincipalKind::Group, "on-call", &["iam-admin"])
        }],
    };
    org.sys(PolicyCommand::Create {
        name: "break-glass".into(),
        description: String::new(),
        rules: vec![],
    });
    org.sys(on_call(Some(until)));
    let actor = Actor::user(temp.clone());
    // Through a group: the same rights now, more after `until`. Refused.
    assert_eq!(
        org.run(&actor, on_call(None)).unwrap_err(),
        DomainError::SelfPrivilegeChange
    );
    // Directly: a permanent self-grant. Refused.
    let err = org
        .run(
            &actor,
            PolicyCommand::Create {
                name: "forever".into(),
                description: String::new(),
                rules: vec![rule(PrincipalKind::User, temp.as_str(), &["iam-admin"])],
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    // Meanwhile they may administer others.
    let other = org.user("other@acme.test");
    org.run(
        &actor,
        GroupCommand::AddMember {
            group: Key::from("read"),
            user: Key::from(&other),
        },
    )
    .unwrap();
}
