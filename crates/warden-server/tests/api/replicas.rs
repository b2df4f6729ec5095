//! Two servers sharing one PostgreSQL database.

use reqwest::Method;
use serde_json::json;
use warden_client::model::{
    CheckQuestion, CheckRequest, PolicyInput, PrincipalInput, PrincipalKind, RuleInput,
};
use warden_core::Catalog;
use warden_server::Service;
use warden_store::Store;

use std::time::{Duration, Instant};

use warden_client::model::GroupInput;
use warden_server::Settings;

use crate::common::{problem_of, settings, Server};

/// Two servers on the database at `url` (the first creates the organization), each
/// listening for the other's commits; polling every minute only, so nothing but a pushed
/// notification can tell one of the other's commits within a test.
async fn listening_pair(url: &str) -> (Server, Server) {
    let pushed_only = Settings {
        sync_interval: Duration::from_secs(60),
        ..settings()
    };
    let (a, b) = pair(url, pushed_only).await;
    a.service.spawn_background();
    b.service.spawn_background();
    let start = Instant::now();
    while !(a.service.is_listening() && b.service.is_listening()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not listening after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (a, b)
}

/// Two servers on the database at `url`; the first creates the organization.
async fn pair(url: &str, settings: Settings) -> (Server, Server) {
    let a = Server::start_on(Store::connect(url).await.unwrap(), None, settings.clone()).await;
    let service_b = Service::open(
        Store::connect(url).await.unwrap(),
        Catalog::builtin().unwrap(),
        settings,
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
    (a, b)
}

/// Waits until `server` is at `revision`; returns how long that took, or `None` after 5 s.
async fn until_revision(server: &Server, revision: u64) -> Option<Duration> {
    let start = Instant::now();
    while server.revision() < revision {
        if start.elapsed() > Duration::from_secs(5) {
            return None;
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    Some(start.elapsed())
}

#[tokio::test]
async fn a_write_on_one_replica_reaches_the_other_within_100_ms_pushed() {
    warden_testing::with_postgres(|url: String| async move {
        let (a, b) = listening_pair(&url).await;
        let caught_up = b.service.metrics().caught_up();
        let mut took = Vec::new();
        for i in 0..100 {
            let written = a
                .admin_client
                .create_group(&GroupInput {
                    name: format!("pushed-{i}"),
                    description: String::new(),
                })
                .await
                .unwrap();
            let elapsed = until_revision(&b, written.revision)
                .await
                .expect("the other replica never saw the write");
            took.push(elapsed);
        }
        took.sort();
        let (p50, p99) = (took[49], took[98]);
        eprintln!("replica propagation over 100 writes: p50 {p50:?}, p99 {p99:?}");
        assert!(p99 <= Duration::from_millis(100), "p99 {p99:?}");
        // Replayed from the change log, not reloaded.
        assert!(b.service.metrics().caught_up() - caught_up >= 100);
        assert_eq!(
            **b.service.compiled(&b.org).unwrap().state(),
            **a.service.compiled(&a.org).unwrap().state()
        );
    })
    .await;
}

#[tokio::test]
async fn a_token_revoked_or_a_user_deactivated_on_one_replica_is_refused_by_the_other() {
    warden_testing::with_postgres(|url: String| async move {
        let (a, b) = listening_pair(&url).await;
        let (u, token) = a.user("leaving@acme.test").await;
        a.grant(&u, &["access-token-viewer", "access-token-admin"])
            .await;
        until_revision(&b, a.revision()).await.unwrap();
        b.client(&token).whoami().await.unwrap();
        // Revoked on A by its owner: B refuses it on its next request once told (≤ 100 ms).
        let id = a.client(&token).tokens().await.unwrap().items[0].id.clone();
        let revoked = a.client(&token).delete_token(&id).await.unwrap();
        let took = until_revision(&b, revoked.revision).await.unwrap();
        assert!(took <= Duration::from_millis(100), "{took:?}");
        problem_of(b.client(&token).whoami().await, 401, "unauthenticated");
        // Deactivated on A: B refuses every token of the user.
        let (v, other) = a.user("deactivated@acme.test").await;
        until_revision(&b, a.revision()).await.unwrap();
        b.client(&other).whoami().await.unwrap();
        let done = a.admin_client.deactivate_user(v.as_str()).await.unwrap();
        until_revision(&b, done.revision).await.unwrap();
        problem_of(b.client(&other).whoami().await, 401, "unauthenticated");
    })
    .await;
}

/// A request authenticated just before its token was revoked on another replica, and
/// executed after: the write runs against the state that knows, and writes nothing.
#[tokio::test]
async fn a_write_in_flight_when_its_token_is_revoked_elsewhere_writes_nothing() {
    warden_testing::with_postgres(|url: String| async move {
        let (a, b) = listening_pair(&url).await;
        let (u, token) = a.user("racer@acme.test").await;
        a.grant(
            &u,
            &["iam-admin", "access-token-viewer", "access-token-admin"],
        )
        .await;
        until_revision(&b, a.revision()).await.unwrap();
        let caller = b.service.authenticate(&token).await.unwrap();
        let id = a.client(&token).tokens().await.unwrap().items[0].id.clone();
        let revoked = a.client(&token).delete_token(&id).await.unwrap();
        until_revision(&b, revoked.revision).await.unwrap();
        let before = b.revision();
        let err = b
            .service
            .execute_for(
                &caller,
                warden_core::command::GroupCommand::Create {
                    name: "too-late".into(),
                    description: String::new(),
                }
                .into(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, warden_server::ServiceError::Unauthenticated(_)),
            "{err:?}"
        );
        assert_eq!(b.revision(), before);
    })
    .await;
}

/// Sixteen writers split across two replicas, writing to one organization as fast as they
/// can: every write lands, none surfaces as a conflict (the servers retry on fresh state).
#[tokio::test]
async fn a_write_storm_across_replicas_surfaces_no_conflict() {
    warden_testing::with_postgres(|url: String| async move {
        let (a, b) = listening_pair(&url).await;
        let before = a.revision();
        let mut tasks = Vec::new();
        for w in 0..16 {
            let client = if w % 2 == 0 {
                a.admin_client.clone()
            } else {
                b.admin_client.clone()
            };
            tasks.push(tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..20 {
                    let result = client
                        .create_group(&GroupInput {
                            name: format!("storm-{w}-{i}"),
                            description: String::new(),
                        })
                        .await;
                    statuses.push(result.map(|_| ()).map_err(|e| format!("{e:?}")));
                }
                statuses
            }));
        }
        let mut failures = Vec::new();
        for task in tasks {
            failures.extend(task.await.unwrap().into_iter().filter_map(Result::err));
        }
        assert!(
            failures.is_empty(),
            "{} of 320 writes failed: {:?}",
            failures.len(),
            &failures[..failures.len().min(3)]
        );
        until_revision(&a, before + 320).await.unwrap();
        until_revision(&b, before + 320).await.unwrap();
        assert_eq!(a.revision(), before + 320);
    })
    .await;
}

/// A write on one replica is visible on the other to a check that asks for its revision,
/// and concurrent writes on both all land.
#[tokio::test]
async fn replicas_on_postgres_see_each_others_writes() {
    warden_testing::with_postgres(|url: String| async move {
        let (a, b) = pair(&url, settings()).await;
        let (u, _) = a.user("replica@acme.test").await;
        let written = a
            .admin_client
            .create_policy(&PolicyInput {
                name: "r".into(),
                description: String::new(),
                rules: vec![RuleInput {
                    principal: PrincipalInput {
                        kind: PrincipalKind::User,
                        id: u.to_string(),
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
                    principal: u.to_string(),
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
