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
    assert_eq!(org.state().groups[&GroupId(id)].name, "ml-team");
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
