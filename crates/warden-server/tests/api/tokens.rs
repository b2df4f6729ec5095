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
    assert_eq!(me.token_id.as_deref(), Some(id.as_str()));
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
            ..TokenInput::default()
        })
        .await
        .unwrap();
    assert!(created.secret.starts_with(&created.token.display_prefix));
    let events = s
        .admin_client
        .audit_events(&warden_client::model::AuditQuery::newest(1000))
        .await
        .unwrap();
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
pub(crate) fn emails(dir: &std::path::Path) -> Vec<String> {
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

/// IAM viewers list anyone's tokens and IAM admins revoke them; to everyone else another
/// user's token stays invisible, exactly as before.
#[tokio::test]
async fn iam_admins_list_and_revoke_other_users_tokens() {
    let s = Server::start().await;
    let (bob, bob_secret) = s.user("bob@acme.test").await;
    let (plain, plain_secret) = s.user("plain@acme.test").await;
    // Plain manages their own tokens, no more.
    s.grant(&plain, &["access-token-admin"]).await;
    let bob_token = s
        .client(&bob_secret)
        .whoami()
        .await
        .unwrap()
        .token_id
        .unwrap();

    // The admin lists Bob's tokens, by email or id, and everyone's (with their owners).
    let bobs = s.admin_client.tokens_of("bob@acme.test").await.unwrap();
    let ids: Vec<&str> = bobs.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [bob_token.as_str()]);
    assert_eq!(bobs.items[0].owner.id, bob.to_string());
    assert_eq!(bobs.items[0].owner.name, "bob@acme.test");
    assert_eq!(s.admin_client.tokens_of(bob.as_str()).await.unwrap(), bobs);
    let all = s.admin_client.all_tokens().await.unwrap();
    let mut owners: Vec<String> = all.items.iter().map(|t| t.owner.id.clone()).collect();
    owners.sort();
    let mut expected = vec![s.admin.to_string(), bob.to_string(), plain.to_string()];
    expected.sort();
    assert_eq!(owners, expected);
    assert_eq!(
        s.admin_client.tokens_of("me").await.unwrap(),
        s.admin_client.tokens().await.unwrap()
    );
    // The secret is in no listing.
    for listing in [&bobs, &all] {
        let text = serde_json::to_string(listing).unwrap();
        for secret in [&bob_secret, &plain_secret, &s.admin_token] {
            assert!(!text.contains(secret.as_str()), "a listing shows a secret");
        }
        assert!(!text.contains("secret_hash"));
    }
    let (status, body, _) = s
        .raw(
            Method::GET,
            "/v1/tokens?all=true",
            Some(&s.admin_token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(!body.to_string().contains(&bob_secret));
    // Unknown users and contradictory questions are errors in the question.
    problem_of(
        s.admin_client.tokens_of("ghost@acme.test").await,
        422,
        "unknown_principal",
    );
    let (status, problem, _) = s
        .raw(
            Method::GET,
            "/v1/tokens?all=true&user=bob@acme.test",
            Some(&s.admin_token),
            None,
        )
        .await;
    assert_problem(status, &problem, 422, "invalid_field");

    // A plain user: their own tokens (by `me` or their email), 403 for anyone else's or
    // everyone's, whether the other user exists or not.
    let plain_client = s.client(&plain_secret);
    assert_eq!(plain_client.tokens_of("me").await.unwrap().items.len(), 1);
    assert_eq!(
        plain_client
            .tokens_of("plain@acme.test")
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    for path in [
        "/v1/tokens?user=bob@acme.test",
        "/v1/tokens?user=ghost@acme.test",
        "/v1/tokens?all=true",
    ] {
        let (status, problem, _) = s.raw(Method::GET, path, Some(&plain_secret), None).await;
        assert_problem(status, &problem, 403, "forbidden");
        assert_eq!(problem["action"], "iam.api_tokens.list", "{path}");
    }
    // ... and Bob's token is as absent to them as one that does not exist.
    for id in [bob_token.as_str(), "tok_unknown"] {
        problem_of(plain_client.token(id).await, 404, "not_found");
        problem_of(plain_client.delete_token(id).await, 404, "not_found");
    }
    s.client(&bob_secret).whoami().await.unwrap();

    // The admin sees Bob's token and revokes it; Bob's next request is refused.
    assert_eq!(
        s.admin_client.token(&bob_token).await.unwrap().id,
        bob_token
    );
    s.admin_client.delete_token(&bob_token).await.unwrap();
    problem_of(s.client(&bob_secret).whoami().await, 401, "unauthenticated");
    problem_of(
        s.admin_client.delete_token(&bob_token).await,
        404,
        "not_found",
    );
    assert!(s
        .admin_client
        .tokens_of("bob@acme.test")
        .await
        .unwrap()
        .items
        .is_empty());
    let events = s
        .admin_client
        .audit_events(&warden_client::model::AuditQuery::newest(10))
        .await
        .unwrap();
    assert!(events
        .items
        .iter()
        .any(|e| e.action == "iam.api_tokens.delete" && e.target == bob_token));
}

/// The document says which action each token endpoint needs, for oneself and for others.
#[tokio::test]
async fn the_token_endpoints_document_their_actions() {
    let s = Server::start().await;
    let doc = s.admin_client.openapi().await.unwrap();
    let description = |method: &str, path: &str| {
        doc["paths"][path][method]["description"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let list = description("get", "/v1/tokens");
    for action in ["`tokens.personal.list`", "`iam.api_tokens.list`"] {
        assert!(list.contains(action), "{list}");
    }
    let get = description("get", "/v1/tokens/{token}");
    assert!(get.contains("`iam.api_tokens.get`"), "{get}");
    let delete = description("delete", "/v1/tokens/{token}");
    for action in ["`tokens.personal.delete`", "`iam.api_tokens.delete`"] {
        assert!(delete.contains(action), "{delete}");
    }
    let params: Vec<&str> = doc["paths"]["/v1/tokens"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["user", "all"]);
}
