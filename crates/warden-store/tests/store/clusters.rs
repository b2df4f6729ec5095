//! CKS clusters.

use warden_core::command::{ClusterCommand, Key};
use warden_core::*;

use crate::common::{on_both_backends, Db, Org};

on_both_backends!(clusters_round_trip_through_update_and_delete);

async fn clusters_round_trip_through_update_and_delete(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
    let cluster = ClusterId::from(
        org.run(
            store,
            ClusterCommand::Create {
                name: "gpu-east-1".to_string(),
                api_server_url: "https://k8s.example.com:6443".to_string(),
                ca_bundle: pem.to_string(),
            },
        )
        .await
        .target()
        .to_string(),
    );
    org.run(
        store,
        ClusterCommand::Update {
            cluster: Key::from(&cluster),
            api_server_url: Some("https://k8s2.example.com".to_string()),
            ca_bundle: Some(String::new()),
        },
    )
    .await;
    org.run(
        store,
        ClusterCommand::Delete {
            cluster: Key::from("gpu-east-1"),
        },
    )
    .await;
    assert!(org.state().clusters.is_empty());
}
