//! The audit log: immutable events, listed newest first with keyset paging.

use warden_core::*;

use crate::common::{on_both_backends, Db};

on_both_backends!(the_audit_log_lists_newest_first_with_keyset_paging);

async fn the_audit_log_lists_newest_first_with_keyset_paging(db: Db) {
    let store = &db.store;
    let org = OrgId::from("c0ffee");
    let event = |id: &str, at: i64| AuditEvent {
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
    };
    let a = event("evt_a", 100);
    let b = event("evt_b", 300);
    let c = event("evt_c", 200);
    let d = AuditEvent {
        outcome: Outcome::Denied,
        error_code: Some("forbidden".to_string()),
        revision: 0,
        changes: serde_json::json!([]),
        ..event("evt_d", 300)
    };
    let other = AuditEvent {
        org_id: OrgId::from("0ther0"),
        ..event("evt_e", 250)
    };
    for e in [&a, &b, &c, &d, &other] {
        store.record_audit(e).await.unwrap();
    }
    let err = store.record_audit(&a).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");

    let list = |limit, before: Option<i64>| {
        store.list_audit(&org, limit, before.map(|at| (Timestamp(at), "")))
    };
    assert_eq!(
        list(10, None).await.unwrap(),
        vec![d.clone(), b.clone(), c.clone(), a.clone()]
    );
    assert_eq!(list(2, None).await.unwrap(), vec![d.clone(), b.clone()]);
    assert_eq!(
        list(10, Some(300)).await.unwrap(),
        vec![c.clone(), a.clone()]
    );
    assert_eq!(list(10, Some(101)).await.unwrap(), vec![a.clone()]);
    assert_eq!(list(10, Some(100)).await.unwrap(), vec![]);
    assert_eq!(list(0, None).await.unwrap(), vec![]);
    // Keyset paging on (at, id): a page that ends inside a millisecond resumes inside it.
    let first = list(1, None).await.unwrap();
    assert_eq!(first, vec![d.clone()]);
    let last = first.last().unwrap();
    let rest = store
        .list_audit(&org, 10, Some((last.at, last.id.as_str())))
        .await
        .unwrap();
    let mut all = first.clone();
    all.extend(rest);
    assert_eq!(all, list(10, None).await.unwrap());
    assert_eq!(
        store.list_audit(&other.org_id, 10, None).await.unwrap(),
        vec![other]
    );
}
