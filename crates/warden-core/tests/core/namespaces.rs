//! Namespace access and the reserved keys.

use warden_core::command::{Key, NamespaceCommand};
use warden_core::*;

use crate::common::Org;

#[test]
fn namespace_access_and_reserved_keys() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let root = org.root();
    let admin = Actor::user(root.clone());
    org.run(
        &admin,
        NamespaceCommand::Create {
            name: "team-a".into(),
            access: vec![(Key::from("u@acme.test"), vec![])],
        },
    )
    .unwrap();
    let allowed = |org: &Org, user: &UserId, ns: &str, key: &str| {
        org.snapshot
            .decide_namespace(user.as_str(), ns, key, org.now())
            .unwrap()
            .allowed
    };
    assert!(allowed(&org, &u, "team-a", "r:full"));
    assert!(!allowed(&org, &u, "team-a", "w:secrets"));
    assert_eq!(
        org.snapshot
            .decide_namespace(u.as_str(), "team-a", "w:secrets", org.now())
            .unwrap()
            .reason,
        Some(DenyReason::NamespacePermissionMissing)
    );
    // Org admins hold every key, reserved ones included.
    assert!(allowed(&org, &root, "team-a", "w:full"));
    assert!(!allowed(&org, &root, "team-b", "r:full"));
    assert_eq!(
        org.snapshot
            .decide_namespace(root.as_str(), "team-b", "r:full", org.now())
            .unwrap()
            .reason,
        Some(DenyReason::UnknownNamespace)
    );
    assert_eq!(
        org.snapshot
            .decide_namespace(root.as_str(), "team-a", "w:everything", org.now())
            .unwrap_err()
            .code(),
        "unknown_namespace_permission"
    );
    let set = |keys: &[&str]| NamespaceCommand::SetAccess {
        namespace: Key::from("team-a"),
        user: Key::from(&u),
        keys: keys.iter().map(|k| k.to_string()).collect(),
    };
    // Org admins cannot grant reserved keys.
    let err = org.run(&admin, set(&["w:pods"])).unwrap_err();
    assert_eq!(err.code(), "reserved_namespace_permission");
    // An operator can; then "Remove All" by an admin keeps the reserved key.
    org.sys(set(&["w:full"]));
    assert!(allowed(&org, &u, "team-a", "w:secrets"));
    org.run(&admin, set(&[])).unwrap();
    assert!(allowed(&org, &u, "team-a", "w:full"));
    // Deleting the namespace removes every grant in it.
    org.run(
        &admin,
        NamespaceCommand::Delete {
            namespace: Key::from("team-a"),
        },
    )
    .unwrap();
    assert!(org.state().namespace_grants.is_empty());
}
