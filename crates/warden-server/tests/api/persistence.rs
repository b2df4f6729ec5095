//! What a server wrote is there after a restart: the organizations, and the side effects
//! (the outbox) not yet carried out, which are then carried out exactly once.

use std::future::Future;

use warden_client::model::{GroupInput, TokenInput};
use warden_core::Catalog;
use warden_server::{Mailer, Service, Settings};
use warden_store::Store;

use crate::common::{settings, Server};

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let s = Server::start_on(store, None, settings()).await;
    s.admin_client
        .create_group(&GroupInput {
            name: "kept".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let revision = s.revision();
    let state = s.service.compiled(&s.org).unwrap().state().clone();
    s.service.store().close().await;
    drop(s);
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let service = Service::open(store, Catalog::builtin().unwrap(), settings())
        .await
        .unwrap();
    let compiled = service.compiled(&state.org.id).unwrap();
    assert_eq!(compiled.revision(), revision);
    assert_eq!(**compiled.state(), *state);
}

/// Runs `test` with a way to open the same database again: on SQLite (a data directory)
/// and on PostgreSQL (a fresh database).
async fn on_both_backends<F, Fut>(test: F)
where
    F: Fn(String) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("warden.db").display()
    );
    test.clone()(url).await;
    warden_testing::with_postgres(test).await;
}

fn eml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_effect_survives_a_restart_between_commit_and_delivery_and_is_delivered_once() {
    on_both_backends(|url: String| async move {
        let mail = tempfile::tempdir().unwrap();
        // A server with no mailer: the token's email waits in the outbox, committed.
        let store = Store::connect(&url).await.unwrap();
        let s = Server::start_on(store, None, settings()).await;
        let created = s
            .admin_client
            .create_token(&TokenInput {
                name: "before the crash".into(),
                ..TokenInput::default()
            })
            .await
            .unwrap();
        let org = s.org.clone();
        let pending = s.service.store().outbox_of(&org).await.unwrap();
        // The first admin's token and this one.
        assert_eq!(pending.len(), 2);
        assert!(pending.iter().all(|i| i.delivered_at.is_none()));
        s.service.store().close().await;
        drop(s);

        // After the restart, with a mailer: every pending email is delivered, once.
        let store = Store::connect(&url).await.unwrap();
        let service = Service::open(
            store,
            Catalog::builtin().unwrap(),
            Settings {
                mailer: Some(Mailer::Directory(mail.path().to_path_buf())),
                ..settings()
            },
        )
        .await
        .unwrap();
        assert_eq!(service.deliver_outbox().await.unwrap(), 2);
        assert_eq!(service.deliver_outbox().await.unwrap(), 0);
        let files = eml_files(mail.path());
        assert_eq!(files.len(), 2, "{files:?}");
        let texts: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        assert!(texts.iter().any(|t| t.contains(&created.token.id)));
        let delivered = service.store().outbox_of(&org).await.unwrap();
        assert!(delivered.iter().all(|i| i.delivered_at.is_some()));
        assert_eq!(service.store().outbox_backlog().await.unwrap(), 0);
        // A second server on the same database finds nothing left to send.
        let again = Service::open(
            Store::connect(&url).await.unwrap(),
            Catalog::builtin().unwrap(),
            Settings {
                mailer: Some(Mailer::Directory(mail.path().to_path_buf())),
                ..settings()
            },
        )
        .await
        .unwrap();
        assert_eq!(again.deliver_outbox().await.unwrap(), 0);
        assert_eq!(eml_files(mail.path()).len(), 2);
        again.store().close().await;
        service.store().close().await;
    })
    .await;
}

#[tokio::test]
async fn an_email_written_by_a_worker_that_died_before_marking_it_is_sent_once() {
    on_both_backends(|url: String| async move {
        let mail = tempfile::tempdir().unwrap();
        let store = Store::connect(&url).await.unwrap();
        let s = Server::start_on(store, None, settings()).await;
        let created = s
            .admin_client
            .create_token(&TokenInput {
                name: "crash test".into(),
                ..TokenInput::default()
            })
            .await
            .unwrap();
        let store = s.service.store().clone();
        // A worker claims every pending email for 10 ms, writes this one, and dies before
        // marking anything delivered.
        let now = warden_server::service::now();
        let claimed = store.claim_outbox("wrk_dead", now, 10, 50).await.unwrap();
        let item = claimed
            .iter()
            .find(|i| match &i.effect {
                warden_core::Effect::NotifyTokenCreated { token_id, .. } => {
                    token_id.to_string() == created.token.id
                }
                _ => false,
            })
            .unwrap();
        let message = warden_server::service::outbox::email_of(&item.effect, "")
            .render(&item.id, item.created_at);
        std::fs::write(mail.path().join(format!("{}.eml", item.id)), &message).unwrap();
        // Its lease runs out; a live worker takes the items over and delivers them.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let live = Service::open(
            Store::connect(&url).await.unwrap(),
            Catalog::builtin().unwrap(),
            Settings {
                mailer: Some(Mailer::Directory(mail.path().to_path_buf())),
                ..settings()
            },
        )
        .await
        .unwrap();
        assert_eq!(live.deliver_outbox().await.unwrap(), claimed.len());
        let files = eml_files(mail.path());
        assert_eq!(files.len(), claimed.len(), "one file per email: {files:?}");
        let rewritten =
            std::fs::read_to_string(mail.path().join(format!("{}.eml", item.id))).unwrap();
        assert_eq!(
            rewritten, message,
            "the retry replaced the file with the same message"
        );
        let again = store.outbox_item(&item.id).await.unwrap().unwrap();
        assert_eq!(again.attempts, 2);
        assert!(again.delivered_at.is_some());
        assert_eq!(live.deliver_outbox().await.unwrap(), 0);
        live.store().close().await;
        store.close().await;
    })
    .await;
}

/// `open_lazily` (what `warden serve` uses) serves before the organizations are loaded: a
/// caller's organization is loaded on demand, a made-up token is refused from memory, and the
/// background load ends with every organization served exactly as stored.
#[tokio::test]
async fn a_lazy_start_serves_at_once_and_loads_everything_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let service = Service::open(store, Catalog::builtin().unwrap(), settings())
        .await
        .unwrap();
    let mut tenants = Vec::new();
    for i in 0..300 {
        let (compiled, token, _) = service
            .create_organization(
                &format!("Tenant {i}"),
                warden_core::command::FirstUser {
                    email: format!("admin{i}@tenant.test"),
                    first_name: String::new(),
                    last_name: String::new(),
                },
                warden_core::command::TokenLifetime::OneHour,
            )
            .await
            .unwrap();
        let state = compiled.state();
        tenants.push((state.org.id.clone(), state.org.default_admin.clone(), token));
    }
    service.store().close().await;
    drop(service);

    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let lazy = Service::open_lazily(store, Catalog::builtin().unwrap(), settings())
        .await
        .unwrap();
    let warming = !lazy.is_loaded();
    let (org, admin, token) = tenants.last().unwrap().clone();
    let s = Server::serve(lazy.clone(), org.clone(), admin, token, None).await;
    if warming {
        let (status, body, _) = s.raw(reqwest::Method::GET, "/readyz", None, None).await;
        assert!(status == 503 || status == 200, "{status} {body}");
    }
    // Callers of organizations at both ends of the id range are served at once.
    for (org, _, token) in [&tenants[0], &tenants[299], &tenants[150]] {
        let me = s.client(token).whoami().await.unwrap();
        assert_eq!(me.organization_id, org.to_string());
    }
    let forged = warden_core::token::encode_secret(
        warden_core::token::SecretKind::Personal,
        &[3u8; warden_core::token::RANDOM_CHARS],
    );
    crate::common::problem_of(s.client(&forged).whoami().await, 401, "unauthenticated");
    let start = std::time::Instant::now();
    while !lazy.is_loaded() {
        assert!(start.elapsed().as_secs() < 60, "still loading after 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (status, body, _) = s.raw(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(lazy.org_ids().len(), 300);
    for (org, _, _) in &tenants {
        let stored = lazy.store().load_org(org).await.unwrap().unwrap();
        assert_eq!(**lazy.compiled(org).unwrap().state(), stored);
    }
}
