//! Group commit: concurrent writes to one organization share transactions, yet each is its own
//! revision with its own audit events, and a refused write never touches its neighbours.

use std::collections::BTreeSet;

use tokio::task::JoinSet;
use warden_client::model::{GroupInput, Outcome};

use crate::common::{assert_problem, on_both_backends, Server};

fn group(name: &str) -> GroupInput {
    GroupInput {
        name: name.into(),
        description: String::new(),
    }
}

#[tokio::test]
async fn concurrent_writes_share_transactions_and_each_get_a_revision() {
    let s = Server::start().await;
    let before = s.revision();
    let counters = s.service.metrics();
    let (writes, transactions) = (counters.writes(), counters.transactions());
    let n = 48u64;
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let client = s.admin_client.clone();
        tasks.spawn(async move { client.create_group(&group(&format!("g{i}"))).await });
    }
    while let Some(created) = tasks.join_next().await {
        created.unwrap().unwrap();
    }
    assert_eq!(s.revision(), before + n);
    let events = s
        .admin_client
        .audit_events(&warden_client::model::AuditQuery::newest(1000))
        .await
        .unwrap()
        .items;
    let revisions: BTreeSet<u64> = events
        .iter()
        .filter(|e| e.action == "iam.groups.create" && e.outcome == Outcome::Allowed)
        .map(|e| e.revision)
        .collect();
    assert_eq!(revisions, (before + 1..=before + n).collect());
    let counters = s.service.metrics();
    assert_eq!(counters.writes() - writes, n);
    let used = counters.transactions() - transactions;
    assert!(
        used < n,
        "{n} concurrent writes took {used} transactions: no group commit"
    );
}

#[tokio::test]
async fn a_refused_write_in_a_batch_leaves_its_neighbours_alone_and_is_audited() {
    let s = Server::start().await;
    let (_, nobody) = s.user("nobody@acme.test").await;
    let before = s.revision();
    let mut allowed = JoinSet::new();
    let mut refused = JoinSet::new();
    for i in 0..16 {
        let client = s.admin_client.clone();
        allowed.spawn(async move { client.create_group(&group(&format!("ok-{i}"))).await });
        if i % 2 == 0 {
            // Refused: the caller may not create groups.
            let request = s
                .request(reqwest::Method::POST, "/v1/groups")
                .bearer_auth(&nobody)
                .json(&group(&format!("sneaky-{i}")));
            refused.spawn(async move { request.send().await });
        }
        if i % 4 == 0 {
            // Four writes of one name: the first in the queue wins, the others see it.
            let client = s.admin_client.clone();
            allowed.spawn(async move { client.create_group(&group("twin")).await });
        }
    }
    let mut twins = 0;
    let mut duplicates = 0;
    while let Some(created) = allowed.join_next().await {
        match created.unwrap() {
            Ok(g) if g.item.as_ref().unwrap().name == "twin" => twins += 1,
            Ok(_) => {}
            Err(e) => {
                assert_eq!(
                    e.problem().map(|p| p.code.as_str()),
                    Some("duplicate_name"),
                    "{e:?}"
                );
                duplicates += 1;
            }
        }
    }
    assert_eq!((twins, duplicates), (1, 3));
    let mut refusal_ids = BTreeSet::new();
    while let Some(sent) = refused.join_next().await {
        let response = sent.unwrap().unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_problem(status, &body, 403, "forbidden");
        refusal_ids.insert(body["request_id"].as_str().unwrap().to_string());
    }
    assert_eq!(refusal_ids.len(), 8);
    assert_eq!(s.revision(), before + 17, "16 groups and one twin");
    let names: BTreeSet<String> = s
        .admin_client
        .groups()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert!((0..16).all(|i| names.contains(&format!("ok-{i}"))));
    assert!(names.iter().all(|n| !n.starts_with("sneaky")));
    // Each refusal is audited under the request that was refused.
    let events = s
        .admin_client
        .audit_events(&warden_client::model::AuditQuery::newest(1000))
        .await
        .unwrap()
        .items;
    let audited: BTreeSet<String> = events
        .iter()
        .filter(|e| e.outcome == Outcome::Denied && e.error_code.as_deref() == Some("forbidden"))
        .map(|e| e.request_id.clone())
        .collect();
    assert_eq!(audited, refusal_ids);
    let duplicates_audited = events
        .iter()
        .filter(|e| e.error_code.as_deref() == Some("duplicate_name"))
        .count();
    assert_eq!(duplicates_audited, 3);
}

/// Spec 7.7: a write that changes nothing (re-adding a member, deactivating a deactivated
/// user, a policy replaced by itself) succeeds at the current revision, writes no revision
/// and is not audited as a change.
#[tokio::test]
async fn a_write_that_changes_nothing_keeps_the_revision_and_is_not_audited() {
    on_both_backends(|s: Server| async move {
        let (bob, _) = s.user("bob@acme.test").await;
        s.admin_client.create_group(&group("team")).await.unwrap();
        let added = s
            .admin_client
            .add_group_member("team", bob.as_str())
            .await
            .unwrap();
        let deactivated = s.admin_client.deactivate_user(bob.as_str()).await.unwrap();
        let events_before = s
            .admin_client
            .audit_events(&warden_client::model::AuditQuery::newest(100))
            .await
            .unwrap();
        let again = s
            .admin_client
            .add_group_member("team", "bob@acme.test")
            .await
            .unwrap();
        assert_eq!(again.revision, deactivated.revision, "no new revision");
        assert!(again.revision > added.revision);
        let again = s.admin_client.deactivate_user(bob.as_str()).await.unwrap();
        assert_eq!(again.revision, deactivated.revision);
        assert_eq!(
            again.item.unwrap().status,
            warden_client::model::UserStatus::Deactivated
        );
        assert_eq!(
            s.service
                .organization(&s.org)
                .await
                .unwrap()
                .unwrap()
                .revision(),
            deactivated.revision
        );
        let events_after = s
            .admin_client
            .audit_events(&warden_client::model::AuditQuery::newest(100))
            .await
            .unwrap();
        assert_eq!(
            events_after.items.len(),
            events_before.items.len(),
            "nothing audited as a change"
        );
        // A real change still moves on.
        let changed = s.admin_client.reactivate_user(bob.as_str()).await.unwrap();
        assert_eq!(changed.revision, deactivated.revision + 1);
    })
    .await;
}
