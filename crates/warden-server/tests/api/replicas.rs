//! Two servers sharing one PostgreSQL database.

use reqwest::Method;
use serde_json::json;
use warden_client::model::{
    CheckQuestion, CheckRequest, PolicyInput, PrincipalInput, PrincipalKind, RuleInput,
};
use warden_core::Catalog;
use warden_server::Service;
use warden_store::Store;

use crate::common::{settings, Server};

/// A write on one replica is visible on the other to a check that asks for its revision,
/// and concurrent writes on both all land.
#[tokio::test]
async fn replicas_on_postgres_see_each_others_writes() {
    warden_testing::with_postgres(|url: String| async move {
        let a = Server::start_on(Store::connect(&url).await.unwrap(), None, settings()).await;
        let service_b = Service::open(
            Store::connect(&url).await.unwrap(),
            Catalog::builtin().unwrap(),
            settings(),
        )
        .await
        .unwrap();
        let b = Server::serve(
            service_b,
            a.org.clone(),
            a.admin.clone(),
            a.admin_token.clone(),
            None,
        )
        .await;
        let (u, _) = a.user("replica@acme.test").await;
        let written = a
            .admin_client
            .create_policy(&PolicyInput {
                name: "r".into(),
                description: String::new(),
                rules: vec![RuleInput {
                    principal: PrincipalInput {
                        kind: PrincipalKind::User,
                        id: u.0.clone(),
                    },
                    roles: vec!["cks-viewer".into()],
                    expires_at: None,
                }],
            })
            .await
            .unwrap();
        let answer = b
            .admin_client
            .check(&CheckRequest {
                at_least_revision: Some(written.revision),
                checks: vec![CheckQuestion {
                    principal: u.0.clone(),
                    action: "cks.clusters.list".into(),
                    namespace: None,
                    explain: false,
                }],
            })
            .await
            .unwrap();
        assert!(answer.results[0].allowed);
        // Concurrent writes from both replicas all land (optimistic revisions, retried).
        let mut tasks = Vec::new();
        for (i, server) in [&a, &b, &a, &b].into_iter().enumerate() {
            let request = server
                .request(Method::POST, "/v1/groups")
                .bearer_auth(&server.admin_token)
                .json(&json!({"name": format!("concurrent-{i}")}));
            tasks.push(tokio::spawn(async move {
                request.send().await.unwrap().status().as_u16()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 201);
        }
        b.service.sync_from_store().await.unwrap();
        a.service.sync_from_store().await.unwrap();
        assert_eq!(a.revision(), b.revision());
        a.service.store().close().await;
        b.service.store().close().await;
    })
    .await;
}
