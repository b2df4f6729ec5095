//! Every change and every refused management call is in the audit log, recorded before the
//! call is answered.

use warden_client::model::{
    AuditEvent, AuditQuery, AuditVerification, BrokenReason, ChangeOp, GroupInput, Outcome,
    PolicyInput, PrincipalInput, PrincipalKind, RuleInput,
};

use crate::common::{on_both_backends, problem_of, Server};

#[tokio::test]
async fn changes_and_denials_are_audited_before_the_answer() {
    let s = Server::start().await;
    let (_, nobody) = s.user("nobody@acme.test").await;
    s.admin_client
        .create_group(&GroupInput {
            name: "audited".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    problem_of(
        s.client(&nobody)
            .create_group(&GroupInput {
                name: "sneaky".into(),
                description: String::new(),
            })
            .await,
        403,
        "forbidden",
    );
    // No waiting: a refusal is recorded before it is answered.
    let items = s
        .admin_client
        .audit_events(&AuditQuery::newest(50))
        .await
        .unwrap()
        .items;
    let created = items
        .iter()
        .find(|e| e.action == "iam.groups.create" && e.outcome == Outcome::Allowed)
        .expect("the group creation is audited");
    assert_eq!(created.actor, format!("user:{}", s.admin));
    assert_eq!(created.changes.len(), 1);
    assert_eq!(created.changes[0].op, ChangeOp::Put);
    assert!(created.changes[0]
        .after
        .as_ref()
        .unwrap()
        .to_string()
        .contains("audited"));
    assert!(!created.request_id.is_empty());
    let denied = items
        .iter()
        .find(|e| e.outcome == Outcome::Denied)
        .expect("the refused call is audited");
    assert_eq!(denied.action, "iam.groups.create");
    assert_eq!(denied.error_code.as_deref(), Some("forbidden"));
    assert!(denied.changes.is_empty());
    // A refused change to an existing entity names it by id, however the caller named it.
    problem_of(
        s.admin_client
            .remove_group_member("admin", s.admin.as_str())
            .await,
        409,
        "last_admin",
    );
    let admin_group = s.admin_client.group("admin").await.unwrap().id;
    let items = s
        .admin_client
        .audit_events(&AuditQuery::newest(50))
        .await
        .unwrap()
        .items;
    assert!(
        items
            .iter()
            .any(|e| e.error_code.as_deref() == Some("last_admin") && e.target == admin_group),
        "the refused membership change is audited with its group's id"
    );
    // No secret or hash of one ever lands in the audit log, even one pasted into a path.
    let (_, _, _) = s
        .raw(
            reqwest::Method::DELETE,
            &format!("/v1/groups/{}", s.admin_token),
            Some(&nobody),
            None,
        )
        .await;
    let all = serde_json::to_string(
        &s.admin_client
            .audit_events(&AuditQuery::newest(1000))
            .await
            .unwrap(),
    )
    .unwrap();
    let hash = warden_core::token::to_hex(&warden_core::token::hash_secret(&s.admin_token));
    assert!(!all.contains(&s.admin_token), "{all}");
    assert!(!all.contains(&hash));
    assert!(
        all.contains("wdn_[redacted]"),
        "the pasted secret's refusal is audited, redacted"
    );
}

#[tokio::test]
async fn a_batch_is_one_revision_with_one_audit_event_per_command() {
    let s = Server::start().await;
    let before = s.revision();
    // `user` adds a user and their token in one batch (here as if serving request `req-b`).
    let (u, _) = warden_server::service::context::REQUEST_ID
        .scope("req-b".to_string(), s.user("batch@acme.test"))
        .await;
    assert_eq!(s.revision(), before + 1);
    let items = s
        .admin_client
        .audit_events(&AuditQuery::newest(10))
        .await
        .unwrap()
        .items;
    let of_batch: Vec<_> = items.iter().filter(|e| e.revision == before + 1).collect();
    let mut actions: Vec<&str> = of_batch.iter().map(|e| e.action.as_str()).collect();
    actions.sort();
    assert_eq!(actions, ["iam.users.invite", "tokens.personal.create"]);
    assert!(of_batch.iter().any(|e| e.target == u.to_string()));
    assert!(of_batch.iter().all(|e| e.request_id == "req-b"));
}

/// Found by schemathesis (then in `before_id`): a NUL byte reached PostgreSQL, which refuses
/// it, and the caller got a 500. A cursor or filter that cannot match is refused at the edge,
/// on both backends, and a real cursor still pages.
#[tokio::test]
async fn a_cursor_or_filter_that_cannot_match_is_a_bad_parameter() {
    on_both_backends(|s| async move {
        for (bad, field) in [
            ("cursor=B%00x", "cursor"),
            ("cursor=-1", "cursor"),
            ("cursor=12345678901234567890", "cursor"),
            ("cursor=", "cursor"),
            ("actor=user%00x", "actor"),
            ("target=%00", "target"),
            (&format!("action={}", "x".repeat(257)), "action"),
            ("since=yesterday", "since"),
            ("until=2026-02-30T00:00:00Z", "until"),
            ("since=1700000000000", "since"),
        ] {
            let (status, body, _) = s
                .raw(
                    reqwest::Method::GET,
                    &format!("/v1/audit-events?{bad}&limit=5"),
                    Some(&s.admin_token),
                    None,
                )
                .await;
            crate::common::assert_problem(status, &body, 422, "invalid_field");
            assert_eq!(body["field"], field, "{bad}: {body}");
        }
        let first = s.admin_client.audit_events(&AuditQuery::newest(1)).await.unwrap();
        let last = first.items.last().unwrap();
        let (status, _, _) = s
            .raw(
                reqwest::Method::GET,
                &format!(
                    "/v1/audit-events?cursor={}&limit=5&target=%E2%9C%93&since=2026-12-01T02:04:15.5%2B01:00",
                    last.seq
                ),
                Some(&s.admin_token),
                None,
            )
            .await;
        assert_eq!(status, 200);
    })
    .await;
}

/// Issue 13, item 5: every filter narrows the listing, and cursor paging walks the whole log
/// with no event repeated or skipped.
#[tokio::test]
async fn filters_narrow_and_the_cursor_walks_every_event_once() {
    on_both_backends(|s| async move {
        let admin = &s.admin_client;
        let (nobody_id, nobody) = s.user("nobody@acme.test").await;
        for name in ["one", "two", "three"] {
            admin.create_group(&group(name)).await.unwrap();
        }
        let nobody_client = s.client(&nobody);
        for name in ["x", "y"] {
            problem_of(
                nobody_client.create_group(&group(name)).await,
                403,
                "forbidden",
            );
        }
        let all = admin.audit_events(&AuditQuery::newest(1000)).await.unwrap();
        assert_eq!(all.next_cursor, None);
        let query = |q: AuditQuery| async move {
            let page = admin.audit_events(&q).await.unwrap();
            page.items.into_iter().map(|e| e.id).collect::<Vec<_>>()
        };
        let ids_where = |keep: &dyn Fn(&AuditEvent) -> bool| {
            all.items
                .iter()
                .filter(|e| keep(e))
                .map(|e| e.id.clone())
                .collect::<Vec<_>>()
        };
        let nobody_actor = format!("user:{nobody_id}");
        let by_nobody = query(AuditQuery {
            actor: Some(nobody_actor.clone()),
            ..AuditQuery::newest(100)
        })
        .await;
        assert_eq!(by_nobody.len(), 2);
        assert_eq!(by_nobody, ids_where(&|e| e.actor == nobody_actor));
        let denied = query(AuditQuery {
            outcome: Some(Outcome::Denied),
            ..AuditQuery::newest(100)
        })
        .await;
        assert_eq!(denied, by_nobody);
        let allowed = query(AuditQuery {
            outcome: Some(Outcome::Allowed),
            ..AuditQuery::newest(100)
        })
        .await;
        assert_eq!(allowed, ids_where(&|e| e.outcome == Outcome::Allowed));
        assert_eq!(allowed.len() + denied.len(), all.items.len());
        let creations = query(AuditQuery {
            action: Some("iam.groups.create".into()),
            outcome: Some(Outcome::Allowed),
            ..AuditQuery::newest(100)
        })
        .await;
        assert_eq!(creations.len(), 3);
        let two = admin.group("two").await.unwrap().id;
        let on_two = query(AuditQuery {
            target: Some(two.clone()),
            ..AuditQuery::newest(100)
        })
        .await;
        assert_eq!(on_two, ids_where(&|e| e.target == two));
        assert_eq!(on_two.len(), 1);
        // The time range: since inclusive, until exclusive, in RFC 3339.
        let rfc = |ms: i64| warden_core::Timestamp(ms).rfc3339_millis();
        let oldest = all.items.last().unwrap().at;
        let newest = all.items[0].at;
        let range = query(AuditQuery {
            since: Some(rfc(oldest)),
            until: Some(rfc(newest)),
            ..AuditQuery::newest(100)
        })
        .await;
        assert_eq!(range, ids_where(&|e| e.at >= oldest && e.at < newest));
        let at_newest = query(AuditQuery {
            since: Some(rfc(newest)),
            ..AuditQuery::newest(100)
        })
        .await;
        assert_eq!(at_newest, ids_where(&|e| e.at >= newest));
        assert!(!at_newest.is_empty());
        // Pages of 2: every event once, newest first.
        let mut walked = Vec::new();
        let mut cursor = None;
        loop {
            let page = admin
                .audit_events(&AuditQuery {
                    cursor: cursor.clone(),
                    ..AuditQuery::newest(2)
                })
                .await
                .unwrap();
            assert!(page.items.len() <= 2);
            walked.extend(page.items.into_iter().map(|e| e.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(walked, ids_where(&|_| true));
        let seqs: Vec<u64> = all.items.iter().map(|e| e.seq).collect();
        let expected: Vec<u64> = (1..=u64::try_from(seqs.len()).unwrap()).rev().collect();
        assert_eq!(
            seqs, expected,
            "numbered 1, 2, 3, ... in the order recorded"
        );
    })
    .await;
}

fn group(name: &str) -> GroupInput {
    GroupInput {
        name: name.into(),
        description: String::new(),
    }
}

/// Changes and refusals, as a server records them, chained; the chain verifies.
async fn a_log_to_verify(s: &Server) -> Vec<AuditEvent> {
    let (_, nobody) = s.user("nobody@acme.test").await;
    for name in ["one", "two"] {
        s.admin_client.create_group(&group(name)).await.unwrap();
        problem_of(
            s.client(&nobody).create_group(&group(name)).await,
            403,
            "forbidden",
        );
    }
    let all = s
        .admin_client
        .audit_events(&AuditQuery::newest(1000))
        .await
        .unwrap();
    let verified = s.admin_client.verify_audit().await.unwrap();
    assert_eq!(
        verified,
        AuditVerification {
            ok: true,
            events: Some(u64::try_from(all.items.len()).unwrap()),
            head: Some(all.items[0].hash.clone()),
            events_checked: None,
            broken: None,
        }
    );
    let mut events = all.items;
    events.reverse();
    events
}

/// Issue 13, item 5: an altered audit row makes verification fail and name the event; put
/// back, the chain verifies again.
#[tokio::test]
async fn an_altered_row_is_named_by_verification() {
    on_both_backends(|s| async move {
        let events = a_log_to_verify(&s).await;
        let victim = &events[3];
        let touched = s
            .tamper(&format!(
                "UPDATE audit_events SET target = 'grp_innocent' WHERE id = '{}'",
                victim.id
            ))
            .await;
        assert_eq!(touched, 1);
        let verdict = s.admin_client.verify_audit().await.unwrap();
        assert!(!verdict.ok);
        assert_eq!(verdict.events_checked, Some(3));
        let broken = verdict.broken.unwrap();
        assert_eq!(broken.event_id.as_ref(), Some(&victim.id));
        assert_eq!(broken.seq, i64::try_from(victim.seq).unwrap());
        assert_eq!(broken.reason, BrokenReason::Altered);
        // As JSON: the documented shape.
        let (status, body, _) = s
            .raw(
                reqwest::Method::GET,
                "/v1/audit-events/verify",
                Some(&s.admin_token),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["ok"], false);
        assert_eq!(body["broken"]["event_id"], victim.id.as_str());
        assert_eq!(body["broken"]["reason"], "altered");
        assert!(body.get("head").is_none(), "{body}");
        s.tamper(&format!(
            "UPDATE audit_events SET target = '{}' WHERE id = '{}'",
            victim.target, victim.id
        ))
        .await;
        assert!(s.admin_client.verify_audit().await.unwrap().ok);
    })
    .await;
}

/// A deleted row in the middle is found where the chain skips it: its successor is named,
/// with the missing position in the detail.
#[tokio::test]
async fn a_deleted_row_is_named_by_verification() {
    on_both_backends(|s| async move {
        let events = a_log_to_verify(&s).await;
        let (deleted, successor) = (&events[2], &events[3]);
        s.tamper(&format!(
            "DELETE FROM audit_events WHERE id = '{}'",
            deleted.id
        ))
        .await;
        let broken = s.admin_client.verify_audit().await.unwrap().broken.unwrap();
        assert_eq!(broken.event_id.as_ref(), Some(&successor.id));
        assert_eq!(broken.seq, i64::try_from(successor.seq).unwrap());
        assert_eq!(broken.reason, BrokenReason::Missing);
        assert!(
            broken
                .detail
                .contains(&format!("event {} is missing", deleted.seq)),
            "{}",
            broken.detail
        );
    })
    .await;
}

/// The newest row deleted: the chain stops short of its head.
#[tokio::test]
async fn a_deleted_last_row_is_a_head_mismatch() {
    on_both_backends(|s| async move {
        let events = a_log_to_verify(&s).await;
        let last = events.last().unwrap();
        s.tamper(&format!(
            "DELETE FROM audit_events WHERE id = '{}'",
            last.id
        ))
        .await;
        let broken = s.admin_client.verify_audit().await.unwrap().broken.unwrap();
        assert_eq!(broken.reason, BrokenReason::HeadMismatch);
        assert_eq!(broken.seq, i64::try_from(last.seq).unwrap());
        assert_eq!(broken.event_id.as_ref(), Some(&events[events.len() - 2].id));
    })
    .await;
}

/// Issue 12, items 2 and 5: every kind of refusal is in the audit log by the time it is
/// answered, and a secret pasted where an id belongs is never written there.
#[tokio::test]
async fn every_kind_of_refusal_is_audited_before_its_answer() {
    on_both_backends(|s| async move {
        let admin = &s.admin_client;
        let (_, nobody) = s.user("nobody@acme.test").await;
        let group = |name: &str| GroupInput {
            name: name.into(),
            description: String::new(),
        };
        admin.create_group(&group("Ops")).await.unwrap();
        admin
            .create_policy(&PolicyInput {
                name: "ops".into(),
                description: String::new(),
                rules: vec![RuleInput {
                    principal: PrincipalInput {
                        kind: PrincipalKind::Group,
                        id: "ops".into(),
                    },
                    roles: vec!["cks-viewer".into()],
                    expires_at: None,
                }],
            })
            .await
            .unwrap();
        // Each refusal is read back at once: recorded before it was answered.
        let nobody_client = s.client(&nobody);
        audited(
            admin,
            nobody_client.create_group(&group("x")).await,
            "forbidden",
        )
        .await;
        audited(
            admin,
            admin.delete_group("read").await,
            "legacy_group_protected",
        )
        .await;
        audited(
            admin,
            admin.delete_policy("admin").await,
            "default_policy_protected",
        )
        .await;
        audited(
            admin,
            admin.create_group(&group("OPS")).await,
            "duplicate_name",
        )
        .await;
        audited(admin, admin.delete_group("Ops").await, "group_in_use").await;
        audited(
            admin,
            admin.create_group(&group("-x")).await,
            "invalid_field",
        )
        .await;
        // A token's secret pasted into `DELETE /v1/tokens/{id}` by someone who may not
        // delete tokens: refused, audited, and redacted.
        let (status, _, _) = s
            .raw(
                reqwest::Method::DELETE,
                &format!("/v1/tokens/{}", s.admin_token),
                Some(&nobody),
                None,
            )
            .await;
        assert!((400..500).contains(&status), "{status}");
        let all =
            serde_json::to_string(&admin.audit_events(&AuditQuery::newest(1000)).await.unwrap())
                .unwrap();
        assert!(!all.contains(&s.admin_token));
        assert!(
            !all.contains(&s.admin_token[4..]),
            "no part of the secret after its prefix"
        );
        assert!(
            all.contains("wdn_[redacted]"),
            "the refusal is audited, redacted"
        );
    })
    .await;
}

/// `result` is a refusal with `code`, and the newest audit events already hold it.
async fn audited<T: std::fmt::Debug>(
    admin: &warden_client::Client,
    result: Result<T, warden_client::ClientError>,
    code: &str,
) {
    let Err(warden_client::ClientError::Api(problem)) = result else {
        panic!("{code}: expected a refusal, got {result:?}");
    };
    assert_eq!(problem.code, code);
    let events = admin
        .audit_events(&AuditQuery::newest(3))
        .await
        .unwrap()
        .items;
    assert!(
        events
            .iter()
            .any(|e| e.outcome == Outcome::Denied && e.error_code.as_deref() == Some(code)),
        "{code} is audited before it is answered: {events:?}"
    );
}

/// Issue 12, item 5: a secret pasted into a path reaches neither the request log (at the
/// debug level, where the request's URI is recorded) nor the problem's message.
#[tokio::test]
async fn a_pasted_secret_stays_out_of_the_logs() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // The process-wide subscriber (a scoped one misses callsites that tests running in
    // parallel registered first): the request log lines of every test's server land here.
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let captured = CAPTURED.get_or_init(Captured::default).clone();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "tower_http=debug,warden_server::http=debug",
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let s = Server::start().await;
    let (_, nobody) = s.user("nobody@acme.test").await;
    for path in [
        format!("/v1/tokens/{}", s.admin_token),
        format!("/v1/groups/{}?x={}", s.admin_token, s.admin_token),
    ] {
        let (_, body, _) = s
            .raw(reqwest::Method::DELETE, &path, Some(&nobody), None)
            .await;
        assert!(!body.to_string().contains(&s.admin_token[4..]), "{body}");
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("/v1/tokens/wdn_[redacted]"),
        "the request is logged: {logs}"
    );
    assert!(!logs.contains(&s.admin_token[4..]), "{logs}");
}
