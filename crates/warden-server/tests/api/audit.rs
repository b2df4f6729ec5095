//! Every change and every refused management call is in the audit log, recorded before the
//! call is answered.

use warden_client::model::{
    ChangeOp, GroupInput, Outcome, PolicyInput, PrincipalInput, PrincipalKind, RuleInput,
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
        .audit_events(Some(50), None)
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
        .audit_events(Some(50), None)
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
    let all = serde_json::to_string(&s.admin_client.audit_events(Some(1000), None).await.unwrap())
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
        .audit_events(Some(10), None)
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

/// Found by schemathesis: a NUL byte in `before_id` reached PostgreSQL, which refuses it, and
/// the caller got a 500. A cursor that cannot name an event is refused at the edge, on both
/// backends, and a real cursor still pages.
#[tokio::test]
async fn a_paging_cursor_that_cannot_name_an_event_is_a_bad_parameter() {
    async fn on(s: Server) {
        for bad in ["B%00x", "a%20b", "%C3%A9v", &"x".repeat(65)] {
            let (status, body, _) = s
                .raw(
                    reqwest::Method::GET,
                    &format!("/v1/audit-events?before=234&before_id={bad}&limit=5"),
                    Some(&s.admin_token),
                    None,
                )
                .await;
            crate::common::assert_problem(status, &body, 422, "invalid_field");
        }
        let first = s.admin_client.audit_events(Some(1), None).await.unwrap();
        let last = first.items.last().unwrap();
        let (status, _, _) = s
            .raw(
                reqwest::Method::GET,
                &format!(
                    "/v1/audit-events?before={}&before_id={}&limit=5",
                    last.at, last.id
                ),
                Some(&s.admin_token),
                None,
            )
            .await;
        assert_eq!(status, 200);
    }
    on(Server::start().await).await;
    warden_testing::with_postgres(|url: String| async move {
        let store = warden_store::Store::connect(&url).await.unwrap();
        on(Server::start_on(store, None, crate::common::settings()).await).await;
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
            serde_json::to_string(&admin.audit_events(Some(1000), None).await.unwrap()).unwrap();
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
    let events = admin.audit_events(Some(3), None).await.unwrap().items;
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
