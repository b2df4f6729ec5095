//! Spec section 7, rules 1 to 3: at least one admin, no change to one's own privileges, the
//! default admin protected from org admins.

use warden_core::command::{GroupCommand, Key, PolicyCommand, PrincipalKind, UserCommand};
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
