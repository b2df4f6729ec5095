//! Users and the organization's own row.

use warden_core::command::{Key, OrganizationCommand, UserCommand};
use warden_core::*;

use crate::common::{on_both_backends, Db, Org};

on_both_backends!(the_organization_and_its_users_round_trip_through_every_change);

async fn the_organization_and_its_users_round_trip_through_every_change(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    org.run(
        store,
        OrganizationCommand::Update {
            name: "Acme Corp".to_string(),
        },
    )
    .await;
    assert_eq!(org.state().org.name, "Acme Corp");
    let bob = org.create_user(store, "Bob@Example.COM").await;
    org.run(
        store,
        UserCommand::Update {
            user: Key::from(&bob),
            first_name: Some("Robert".to_string()),
            last_name: None,
        },
    )
    .await;
    // Natural keys resolve in the core: the store sees the same changes either way.
    org.run(
        store,
        UserCommand::Deactivate {
            user: Key::from("bob@example.com"),
        },
    )
    .await;
    let loaded = store.load_org(org.id()).await.unwrap().unwrap();
    assert_eq!(loaded.users[&bob].status, UserStatus::Deactivated);
    assert_eq!(&*loaded.users[&bob].email, "Bob@Example.COM");
    assert_eq!(&*loaded.users[&bob].first_name, "Robert");
    org.run(
        store,
        UserCommand::Reactivate {
            user: Key::from(&bob),
        },
    )
    .await;
    assert_eq!(org.revision(), 6);
}
