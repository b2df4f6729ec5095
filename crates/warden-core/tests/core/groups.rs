//! Groups: renames, deletion of groups in use, the diff of a generated organization.

use warden_core::command::{GroupCommand, Key, PolicyCommand, PrincipalKind};
use warden_core::testkit::{generate_org, Workload};
use warden_core::*;

use crate::common::{rule, Org};

#[test]
fn groups_named_by_policies_cannot_be_deleted_and_legacy_groups_not_renamed() {
    let mut org = Org::new();
    org.sys(GroupCommand::Create {
        name: "ml".into(),
        description: String::new(),
    });
    org.sys(PolicyCommand::Create {
        name: "ml".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::Group, "ml", &["cks-viewer"])],
    });
    let err = org
        .run(
            &Actor::System,
            GroupCommand::Delete {
                group: Key::from("ml"),
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        DomainError::GroupInUse {
            group: "ml".into(),
            policies: "ml".into()
        }
    );
    let err = org
        .run(
            &Actor::System,
            GroupCommand::Update {
                group: Key::from("read"),
                name: Some("readers".into()),
                description: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "legacy_group_protected");
    // A description change of a legacy group is fine; so is a rename of a custom one.
    org.sys(GroupCommand::Update {
        group: Key::from("read"),
        name: None,
        description: Some("Readers".into()),
    });
    let id = org.sys(GroupCommand::Update {
        group: Key::from("ml"),
        name: Some("ml-team".into()),
        description: None,
    });
    assert_eq!(org.state().groups[&GroupId::from(id)].name, "ml-team");
}

#[test]
fn diff_of_identical_states_is_empty() {
    let catalog = Catalog::builtin().unwrap();
    let state = generate_org(
        &catalog,
        Workload {
            users: 50,
            groups: 5,
            ..Workload::REFERENCE
        },
    )
    .unwrap();
    assert!(command::diff(&state, &state).is_empty());
}

#[test]
fn names_and_emails_resolve_through_their_index_after_renames_and_deletions() {
    let mut org = Org::new();
    let id = GroupId::from(org.sys(GroupCommand::Create {
        name: "ml".into(),
        description: String::new(),
    }));
    org.sys(GroupCommand::Update {
        group: Key::from("ml"),
        name: Some("research".into()),
        description: None,
    });
    assert!(org.state().group_by_name("ml").is_none());
    assert_eq!(org.state().group_by_name("research").unwrap().id, id);
    // The old name is free again, and resolves to the new group only.
    let other = GroupId::from(org.sys(GroupCommand::Create {
        name: "ml".into(),
        description: String::new(),
    }));
    assert_eq!(org.state().group_by_name("ml").unwrap().id, other);
    org.sys(GroupCommand::Delete {
        group: Key::from("research"),
    });
    assert!(org.state().group_by_name("research").is_none());
    // Emails compare ASCII case-insensitively, both ways.
    let user = org.user("Ada.Lovelace@Example.COM");
    assert_eq!(
        org.state()
            .user_by_email("ada.lovelace@example.com")
            .unwrap()
            .id,
        user
    );
    let err = org
        .run(
            &Actor::System,
            warden_core::command::UserCommand::Create {
                email: "ADA.LOVELACE@example.com".into(),
                first_name: String::new(),
                last_name: String::new(),
            },
        )
        .unwrap_err();
    assert!(
        matches!(err, DomainError::Duplicate { kind: "user", .. }),
        "{err:?}"
    );
}
