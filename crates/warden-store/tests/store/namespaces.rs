//! Namespaces and the permission keys users hold in them.

use warden_core::command::{Key, NamespaceCommand};
use warden_core::*;

use crate::common::{on_both_backends, Db, Org};

on_both_backends!(namespaces_and_their_grants_round_trip);

async fn namespaces_and_their_grants_round_trip(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let bob = org.create_user(store, "bob@example.com").await;
    let admin = Key::from(&org.admin);
    let team_a = NamespaceId::from(
        org.run(
            store,
            NamespaceCommand::Create {
                name: "team-a".to_string(),
                access: vec![
                    (
                        Key::from(&bob),
                        vec!["w:deployments".to_string(), "w:pods".to_string()],
                    ),
                    (admin, vec![]),
                ],
            },
        )
        .await
        .target()
        .to_string(),
    );
    assert_eq!(org.state().namespace_grants.len(), 3);
    org.run(
        store,
        NamespaceCommand::SetAccess {
            namespace: Key::from(&team_a),
            user: Key::from(&bob),
            keys: vec!["r:full".to_string(), "w:secrets".to_string()],
        },
    )
    .await;
    org.run(
        store,
        NamespaceCommand::Create {
            name: "team-b".to_string(),
            access: vec![(Key::from("bob@example.com"), vec!["r:full".to_string()])],
        },
    )
    .await;
    org.run(
        store,
        NamespaceCommand::Delete {
            namespace: Key::from(&team_a),
        },
    )
    .await;
    assert_eq!(org.state().namespaces.len(), 1);
    assert_eq!(org.state().namespace_grants.len(), 1);
}
