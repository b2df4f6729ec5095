//! Personal tokens: shown once, listed without secrets, revocable, and announced to their
//! owner by email through the outbox.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use warden_client::model::{TokenInput, TokenLifetime};
use warden_server::{Mailer, Settings};
use warden_store::Store;

use crate::common::{assert_problem, problem_of, settings, Server};

#[tokio::test]
async fn personal_tokens_are_shown_once_listed_and_revocable() {
    let s = Server::start().await;
    let (status, created, headers) = s
        .raw(
            Method::POST,
            "/v1/tokens",
            Some(&s.admin_token),
            Some(json!({"name": "ci", "expires_in": "8h"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(headers["cache-control"], "no-store");
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("wdn_pat_"));
    let id = created["token"]["id"].as_str().unwrap().to_string();
    assert!(created["token"]["expires_at"].as_i64().is_some());
    assert_eq!(created["token"]["owner"]["id"], s.admin.to_string());
    assert_eq!(created["token"]["owner"]["kind"], "user");
    let me = s.client(&secret).whoami().await.unwrap();
    assert_eq!(me.token_id, id);
    let listed = s.admin_client.tokens().await.unwrap();
    let text = serde_json::to_string(&listed).unwrap();
    assert!(text.contains(&id));
    assert!(
        !text.contains(&secret),
        "a listing must never show a secret"
    );
    assert!(!text.contains("secret_hash"));
    s.admin_client.delete_token(&id).await.unwrap();
    problem_of(s.client(&secret).whoami().await, 401, "unauthenticated");
    // Another user's token is not visible, and without the action nothing is.
    let (_, other) = s.user("o@acme.test").await;
    let (status, problem, _) = s
        .raw(Method::DELETE, "/v1/tokens/tok_unknown", Some(&other), None)
        .await;
    assert_problem(status, &problem, 403, "forbidden");
}

#[tokio::test]
async fn token_details_stay_out_of_the_audit_log() {
    let s = Server::start().await;
    let created = s
        .admin_client
        .create_token(&TokenInput {
            name: "laptop".into(),
            note: String::new(),
            expires_in: Some(TokenLifetime::OneHour),
        })
        .await
        .unwrap();
    assert!(created.secret.starts_with(&created.token.display_prefix));
    let events = s.admin_client.audit_events(Some(1000), None).await.unwrap();
    let text = serde_json::to_string(&events).unwrap();
    assert!(text.contains("laptop"), "the token's creation is audited");
    assert!(
        !text.contains(&created.token.display_prefix),
        "the secret's first characters must not be audited"
    );
    assert!(!text.contains("display_prefix"));
    assert!(!text.contains(&created.secret));
}

/// The `.eml` files in `dir`.
fn emails(dir: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .map(|p| std::fs::read_to_string(p).unwrap())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test]
async fn a_new_token_is_announced_to_its_owner_by_email() {
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("outbox");
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let settings = Settings {
        mailer: Some(Mailer::Directory(mail.clone())),
        ..settings()
    };
    let s = Server::start_on(store, None, settings).await;
    s.service.spawn_background();
    let created = s
        .admin_client
        .create_token(&TokenInput {
            name: "deploy bot".into(),
            ..TokenInput::default()
        })
        .await
        .unwrap();
    // The worker wakes on the commit; give it a moment, not a fixed sleep.
    let mut found = Vec::new();
    for _ in 0..100 {
        found = emails(&mail)
            .into_iter()
            .filter(|m| m.contains(&created.token.id))
            .collect();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), 1, "one email for the token");
    let message = &found[0];
    assert!(message.contains("To: <root@acme.test>\r\n"), "{message}");
    assert!(message.contains("\"deploy bot\""), "{message}");
    assert!(message.contains(&format!("user:{}", s.admin)), "{message}");
    assert!(!message.contains(&created.secret), "never the secret");
}
