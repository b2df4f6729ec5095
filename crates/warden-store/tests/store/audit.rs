//! The audit log: immutable events, each organization's a hash chain that `verify_audit`
//! recomputes; listed newest first, filtered, with cursor paging.

use std::collections::HashSet;

use warden_core::audit_chain::Broken;
use warden_core::command::GroupCommand;
use warden_core::*;
use warden_store::{AuditFilter, Store};

use crate::common::{on_both_backends, AuditOf, Db, Org, T0};

on_both_backends!(
    the_audit_log_lists_newest_first_with_cursor_paging,
    each_filter_narrows_the_listing,
    commits_and_refusals_form_one_chain_that_verifies,
    a_deleted_middle_event_is_named_by_its_successor,
    an_altered_event_is_named,
    a_deleted_last_event_is_a_head_mismatch,
    concurrent_refusals_and_commits_never_fork_the_chain,
    events_written_before_the_chain_are_chained_at_start,
);

fn event(org: &OrgId, id: &str, at: i64) -> AuditEvent {
    AuditEvent {
        id: id.to_string(),
        org_id: org.clone(),
        at: Timestamp(at),
        actor: "user:usr_1".to_string(),
        action: "iam.groups.create".to_string(),
        target: "grp_1".to_string(),
        outcome: Outcome::Allowed,
        error_code: None,
        revision: 3,
        request_id: format!("req_{id}"),
        changes: serde_json::json!([{"op": "put", "after": {"entity": "group", "n": 1.5, "ok": true, "x": null}}]),
    }
}

/// A refused call of `actor` on `target` at `at`.
fn refusal(org: &OrgId, id: &str, at: i64, actor: &str, target: &str) -> AuditEvent {
    AuditEvent {
        actor: actor.to_string(),
        target: target.to_string(),
        outcome: Outcome::Denied,
        error_code: Some("forbidden".to_string()),
        revision: 0,
        changes: serde_json::json!([]),
        ..event(org, id, at)
    }
}

async fn the_audit_log_lists_newest_first_with_cursor_paging(db: Db) {
    let store = &db.store;
    let org = OrgId::from("c0ffee");
    let a = event(&org, "evt_a", 100);
    let b = event(&org, "evt_b", 300);
    let c = event(&org, "evt_c", 200);
    let d = refusal(&org, "evt_d", 300, "user:usr_2", "grp_2");
    let other = AuditEvent {
        org_id: OrgId::from("0ther0"),
        ..event(&org, "evt_e", 250)
    };
    for e in [&a, &b, &c, &d, &other] {
        store.record_audit(e).await.unwrap();
    }
    let err = store.record_audit(&a).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");

    // Newest first by place in the chain (the order recorded), not by time.
    let all = AuditFilter::default();
    let page = store.list_audit(&org, &all, 10, None).await.unwrap();
    let ids: Vec<&str> = page.events.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(ids, ["evt_d", "evt_c", "evt_b", "evt_a"]);
    let seqs: Vec<u64> = page.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [4, 3, 2, 1]);
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.events[0].event, d);
    assert!(page.events.iter().all(|e| e.hash.len() == 64));
    assert_eq!(store.events(&org, 10).await.unwrap(), vec![d, c, b, a]);
    assert!(store
        .list_audit(&org, &all, 0, None)
        .await
        .unwrap()
        .events
        .is_empty());

    // Cursor paging walks every event once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_audit(&org, &all, 3, cursor).await.unwrap();
        assert!(page.events.len() <= 3);
        seen.extend(page.events.iter().map(|e| e.seq));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, [4, 3, 2, 1]);
    // An exactly full last page announces no next one.
    let page = store.list_audit(&org, &all, 2, Some(3)).await.unwrap();
    assert_eq!((page.events.len(), page.next_cursor), (2, None));
    // A cursor past the end lists from the newest; one at the start lists nothing.
    let page = store
        .list_audit(&org, &all, 10, Some(u64::MAX))
        .await
        .unwrap();
    assert_eq!(page.events.len(), 4);
    assert!(store
        .list_audit(&org, &all, 10, Some(1))
        .await
        .unwrap()
        .events
        .is_empty());
    assert_eq!(
        store.events(&other.org_id, 10).await.unwrap(),
        vec![other.clone()]
    );
    // Each organization has its own chain.
    let page = store
        .list_audit(&other.org_id, &all, 10, None)
        .await
        .unwrap();
    assert_eq!(page.events[0].seq, 1);
    for o in [&org, &other.org_id] {
        assert!(store.verify_audit(o).await.unwrap().is_ok());
    }
}

async fn each_filter_narrows_the_listing(db: Db) {
    let store = &db.store;
    let org = OrgId::from("f11732");
    let events = [
        event(&org, "evt_1", 1_000),
        refusal(&org, "evt_2", 2_000, "user:usr_2", "grp_2"),
        AuditEvent {
            action: "iam.groups.delete".to_string(),
            ..event(&org, "evt_3", 3_000)
        },
        refusal(&org, "evt_4", 4_000, "system", "grp_1"),
        AuditEvent {
            target: "wdn_[redacted] and more".to_string(),
            ..refusal(&org, "evt_5", 5_000, "user:usr_2", "")
        },
    ];
    for e in &events {
        store.record_audit(e).await.unwrap();
    }
    let org_id = &org;
    let ids = |filter: AuditFilter| async move {
        let page = store.list_audit(org_id, &filter, 100, None).await.unwrap();
        page.events
            .into_iter()
            .map(|e| e.event.id)
            .collect::<Vec<_>>()
    };
    let text = |s: &str| Some(s.to_string());
    assert_eq!(
        ids(AuditFilter {
            actor: text("user:usr_2"),
            ..Default::default()
        })
        .await,
        ["evt_5", "evt_2"]
    );
    assert_eq!(
        ids(AuditFilter {
            target: text("grp_1"),
            ..Default::default()
        })
        .await,
        ["evt_4", "evt_3", "evt_1"]
    );
    assert_eq!(
        ids(AuditFilter {
            target: text("wdn_[redacted] and more"),
            ..Default::default()
        })
        .await,
        ["evt_5"]
    );
    assert_eq!(
        ids(AuditFilter {
            action: text("iam.groups.delete"),
            ..Default::default()
        })
        .await,
        ["evt_3"]
    );
    assert_eq!(
        ids(AuditFilter {
            outcome: Some(Outcome::Allowed),
            ..Default::default()
        })
        .await,
        ["evt_3", "evt_1"]
    );
    assert_eq!(
        ids(AuditFilter {
            outcome: Some(Outcome::Denied),
            ..Default::default()
        })
        .await,
        ["evt_5", "evt_4", "evt_2"]
    );
    // since inclusive, until exclusive.
    assert_eq!(
        ids(AuditFilter {
            since: Some(Timestamp(2_000)),
            until: Some(Timestamp(4_000)),
            ..Default::default()
        })
        .await,
        ["evt_3", "evt_2"]
    );
    assert!(ids(AuditFilter {
        since: Some(Timestamp(4_000)),
        until: Some(Timestamp(2_000)),
        ..Default::default()
    })
    .await
    .is_empty());
    // Filters combine, and a filtered listing pages.
    assert_eq!(
        ids(AuditFilter {
            actor: text("user:usr_2"),
            since: Some(Timestamp(3_000)),
            ..Default::default()
        })
        .await,
        ["evt_5"]
    );
    let denied = AuditFilter {
        outcome: Some(Outcome::Denied),
        ..Default::default()
    };
    let first = store.list_audit(&org, &denied, 2, None).await.unwrap();
    assert_eq!(first.next_cursor, Some(4));
    let rest = store
        .list_audit(&org, &denied, 2, first.next_cursor)
        .await
        .unwrap();
    let ids: Vec<&str> = rest.events.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!((ids, rest.next_cursor), (vec!["evt_2"], None));
    // Nothing matches a value no event holds.
    let none = store
        .list_audit(
            &org,
            &AuditFilter {
                actor: text("user:usr_9"),
                ..Default::default()
            },
            10,
            None,
        )
        .await
        .unwrap();
    assert!(none.events.is_empty());
}

/// An organization with a chain of `n` group creations after its creation event, and a
/// refused call after each: `1 + 2n` events.
async fn chained_org(store: &Store, id: &str, n: usize) -> Org {
    // Ids are global keys: each organization counts its ids from its own base.
    let base = u64::from_str_radix(id, 16).unwrap() << 16;
    let mut org = Org::create(store, id, base).await;
    for i in 0..n {
        org.run(
            store,
            GroupCommand::Create {
                name: format!("team-{i}"),
                description: String::new(),
            },
        )
        .await;
        let at = T0 + 100_000 + i64::try_from(i).unwrap();
        let denied = refusal(
            org.id(),
            &format!("evt_r{id}{i}"),
            at,
            "user:usr_x",
            "grp_x",
        );
        store.record_audit(&denied).await.unwrap();
    }
    org
}

/// The events of `org` oldest first, as listed: (seq, id).
async fn chain_ids(store: &Store, org: &OrgId) -> Vec<(u64, String)> {
    let page = store
        .list_audit(org, &AuditFilter::default(), 1000, None)
        .await
        .unwrap();
    let mut ids: Vec<(u64, String)> = page
        .events
        .into_iter()
        .map(|e| (e.seq, e.event.id))
        .collect();
    ids.reverse();
    ids
}

async fn commits_and_refusals_form_one_chain_that_verifies(db: Db) {
    let store = &db.store;
    let org = chained_org(store, "c4a100", 3).await;
    let ids = chain_ids(store, org.id()).await;
    assert_eq!(ids.len(), 7);
    let seqs: Vec<u64> = ids.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7]);
    let verified = store.verify_audit(org.id()).await.unwrap().unwrap();
    assert_eq!(verified.events, 7);
    let newest = store
        .list_audit(org.id(), &AuditFilter::default(), 1, None)
        .await
        .unwrap();
    assert_eq!(verified.head, newest.events[0].hash);
    // An organization without events has an empty, verified chain.
    let empty = store
        .verify_audit(&OrgId::from("0e0e00"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(empty.events, 0);
}

async fn a_deleted_middle_event_is_named_by_its_successor(db: Db) {
    let store = &db.store;
    let org = chained_org(store, "de1e7e", 3).await;
    let ids = chain_ids(store, org.id()).await;
    let (_, deleted) = &ids[3];
    let (successor_seq, successor) = &ids[4];
    let gone = db
        .tamper(&format!("DELETE FROM audit_events WHERE id = '{deleted}'"))
        .await;
    assert_eq!(gone, 1);
    let broken = store.verify_audit(org.id()).await.unwrap().unwrap_err();
    assert_eq!(broken.event_id.as_ref(), Some(successor));
    assert_eq!(broken.seq, i64::try_from(*successor_seq).unwrap());
    assert_eq!(broken.reason, Broken::Missing);
    assert_eq!(broken.events_checked, 3);
    assert!(
        broken.detail.contains("event 4 is missing"),
        "{}",
        broken.detail
    );
}

async fn an_altered_event_is_named(db: Db) {
    let store = &db.store;
    let org = chained_org(store, "a17e2d", 3).await;
    let ids = chain_ids(store, org.id()).await;
    let (seq, altered) = &ids[2];
    db.tamper(&format!(
        "UPDATE audit_events SET target = 'grp_innocent' WHERE id = '{altered}'"
    ))
    .await;
    let broken = store.verify_audit(org.id()).await.unwrap().unwrap_err();
    assert_eq!(broken.event_id.as_ref(), Some(altered));
    assert_eq!(broken.seq, i64::try_from(*seq).unwrap());
    assert_eq!(broken.reason, Broken::Altered);
    // Changing the JSON's spelling but not its meaning is an alteration too.
    let org = chained_org(store, "a17e2e", 1).await;
    let ids = chain_ids(store, org.id()).await;
    let (_, first) = &ids[0];
    db.tamper(&format!(
        "UPDATE audit_events SET changes = changes || ' ' WHERE id = '{first}'"
    ))
    .await;
    let broken = store.verify_audit(org.id()).await.unwrap().unwrap_err();
    assert_eq!(
        (broken.event_id.as_ref(), broken.reason),
        (Some(first), Broken::Altered)
    );
}

async fn a_deleted_last_event_is_a_head_mismatch(db: Db) {
    let store = &db.store;
    let org = chained_org(store, "1a57e0", 2).await;
    let ids = chain_ids(store, org.id()).await;
    let (last_seq, last) = ids.last().unwrap();
    let (_, before_last) = &ids[ids.len() - 2];
    db.tamper(&format!("DELETE FROM audit_events WHERE id = '{last}'"))
        .await;
    let broken = store.verify_audit(org.id()).await.unwrap().unwrap_err();
    assert_eq!(broken.reason, Broken::HeadMismatch);
    assert_eq!(broken.seq, i64::try_from(*last_seq).unwrap());
    assert_eq!(broken.event_id.as_ref(), Some(before_last));
    assert_eq!(broken.events_checked, u64::try_from(ids.len() - 1).unwrap());
}

/// Many refused calls recorded at once, on many connections, while commits run: every
/// event gets its own place, and the chain verifies.
async fn concurrent_refusals_and_commits_never_fork_the_chain(db: Db) {
    let store = db.store.clone();
    let mut org = Org::create(&store, "c0cc02", 0).await;
    let id = org.id().clone();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        let e = refusal(&id, &format!("evt_c{i}"), T0 + i, "user:usr_x", "grp_x");
        tasks.push(tokio::spawn(async move { store.record_audit(&e).await }));
    }
    for i in 0..5 {
        // Committed without `Org::commit`'s check that its events are the newest: refusals
        // land between them.
        let prepared = org.execute(
            &Actor::System,
            GroupCommand::Create {
                name: format!("busy-{i}"),
                description: String::new(),
            },
        );
        prepared.commit(&store, org.revision()).await.unwrap();
        org.accept(&prepared);
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let ids = chain_ids(&store, &id).await;
    assert_eq!(ids.len(), 1 + 40 + 5);
    let seqs: Vec<u64> = ids.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=46).collect::<Vec<u64>>());
    let distinct: HashSet<&String> = ids.iter().map(|(_, id)| id).collect();
    assert_eq!(distinct.len(), 46);
    assert_eq!(store.verify_audit(&id).await.unwrap().unwrap().events, 46);
}

/// Rows of schema version 3 (no place in a chain) are chained in (at, id) order when a
/// store next connects, after the events already chained; once only.
async fn events_written_before_the_chain_are_chained_at_start(db: Db) {
    let store = &db.store;
    let org = chained_org(store, "01d0e5", 1).await;
    let other = OrgId::from("01d0e6");
    // As a version 3 server wrote them (or one still running beside a newer one).
    for (id, org_id, at) in [
        ("evt_old_b", org.id().as_str(), 20),
        ("evt_old_a", org.id().as_str(), 20),
        ("evt_old_c", org.id().as_str(), 10),
        ("evt_old_x", other.as_str(), 5),
    ] {
        db.tamper(&format!(
            "INSERT INTO audit_events (id, org_id, at, actor, action, target, outcome, \
             error_code, revision, request_id, changes) VALUES ('{id}', '{org_id}', {at}, \
             'system', 'iam.groups.create', '', 'allowed', NULL, 1, '', '[]')"
        ))
        .await;
    }
    // Not listed or verified until chained.
    assert_eq!(chain_ids(store, org.id()).await.len(), 3);
    let reopened = Store::connect(&db.url).await.unwrap();
    let ids = chain_ids(&reopened, org.id()).await;
    let tail: Vec<(u64, &str)> = ids[3..].iter().map(|(s, id)| (*s, id.as_str())).collect();
    assert_eq!(tail, [(4, "evt_old_c"), (5, "evt_old_a"), (6, "evt_old_b")]);
    assert_eq!(
        reopened
            .verify_audit(org.id())
            .await
            .unwrap()
            .unwrap()
            .events,
        6
    );
    assert_eq!(
        reopened.verify_audit(&other).await.unwrap().unwrap().events,
        1
    );
    let head = reopened.verify_audit(org.id()).await.unwrap().unwrap().head;
    reopened.close().await;
    // Idempotent: connecting again changes nothing, and new events follow.
    let again = Store::connect(&db.url).await.unwrap();
    assert_eq!(
        again.verify_audit(org.id()).await.unwrap().unwrap().head,
        head
    );
    again
        .record_audit(&refusal(org.id(), "evt_new", T0, "system", ""))
        .await
        .unwrap();
    assert_eq!(chain_ids(&again, org.id()).await.last().unwrap().0, 7);
    assert_eq!(
        again.verify_audit(org.id()).await.unwrap().unwrap().events,
        7
    );
    again.close().await;
}
