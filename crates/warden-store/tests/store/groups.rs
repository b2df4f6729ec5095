//! Groups and memberships.

use warden_core::command::{GroupCommand, Key};
use warden_core::*;

use crate::common::{on_both_backends, Db, Org};

on_both_backends!(groups_and_memberships_round_trip_and_a_deleted_group_takes_its_memberships);

async fn groups_and_memberships_round_trip_and_a_deleted_group_takes_its_memberships(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let bob = org.create_user(store, "bob@example.com").await;
    let group = GroupId::from(
        org.run(
            store,
            GroupCommand::Create {
                name: "ml-engineers".to_string(),
                description: "Trains models\nand serves them".to_string(),
            },
        )
        .await
        .target()
        .to_string(),
    );
    for user in [bob.clone(), org.admin.clone()] {
        org.run(
            store,
            GroupCommand::AddMember {
                group: Key::from(&group),
                user: Key::from(&user),
            },
        )
        .await;
    }
    assert_eq!(org.state().members_of(&group).count(), 2);
    org.run(
        store,
        GroupCommand::Update {
            group: Key::from(&group),
            name: Some("ml-team".to_string()),
            description: Some(String::new()),
        },
    )
    .await;
    org.run(
        store,
        GroupCommand::RemoveMember {
            group: Key::from("ml-team"),
            user: Key::from(&bob),
        },
    )
    .await;
    // Deleting the group deletes its remaining membership first (explicit child delete).
    let deleted = org
        .run(
            store,
            GroupCommand::Delete {
                group: Key::from(&group),
            },
        )
        .await;
    assert_eq!(deleted.changes().len(), 2);
    assert!(!org.state().groups.contains_key(&group));
}
