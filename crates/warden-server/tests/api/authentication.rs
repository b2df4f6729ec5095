//! Bearer tokens: required, verified, and refused once their principal is deactivated.

use reqwest::Method;
use warden_core::command::{Key, UserCommand};

use crate::common::{assert_problem, problem_of, Server};

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let s = Server::start().await;
    let (status, body, headers) = s.raw(Method::GET, "/v1/groups", None, None).await;
    assert_problem(status, &body, 401, "unauthenticated");
    assert_eq!(
        headers["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    assert!(headers.contains_key("www-authenticate"));
    for bad in [
        "nonsense",
        "wdn_pat_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ] {
        problem_of(s.client(bad).groups().await, 401, "unauthenticated");
    }
    // Well formed, valid checksum, but never issued.
    let forged = warden_core::token::encode_secret(
        warden_core::token::SecretKind::Personal,
        &[9u8; warden_core::token::RANDOM_CHARS],
    );
    problem_of(s.client(&forged).groups().await, 401, "unauthenticated");
    // Not a bearer token at all.
    let (status, body, _) = s
        .send(
            s.request(Method::GET, "/v1/groups")
                .header("authorization", "Basic YWRhOnB3"),
        )
        .await;
    assert_problem(status, &body, 401, "unauthenticated");
    s.admin_client.groups().await.unwrap();
}

#[tokio::test]
async fn deactivation_stops_tokens_at_once_and_reactivation_restores_them() {
    let s = Server::start().await;
    let (u, token) = s.user("leaver@acme.test").await;
    let leaver = s.client(&token);
    leaver.whoami().await.unwrap();
    let written = s.admin_client.deactivate_user(u.as_str()).await.unwrap();
    assert_eq!(
        written.item.unwrap().status,
        warden_client::model::UserStatus::Deactivated
    );
    problem_of(leaver.whoami().await, 401, "unauthenticated");
    s.admin_client
        .reactivate_user("leaver@acme.test")
        .await
        .unwrap();
    leaver.whoami().await.unwrap();
    // Deactivation by the core command works the same as through the API.
    s.system(UserCommand::Deactivate {
        user: Key::from(&u),
    })
    .await;
    problem_of(leaver.whoami().await, 401, "unauthenticated");
}

/// A well-formed token with a valid checksum that was never issued; distinct for each `i`.
fn forged(i: usize) -> String {
    let mut random = [7u8; warden_core::token::RANDOM_CHARS];
    for (k, byte) in random.iter_mut().take(4).enumerate() {
        *byte = u8::try_from((i >> (5 * k)) & 31).unwrap();
    }
    warden_core::token::encode_secret(warden_core::token::SecretKind::Personal, &random)
}

/// Sends `n` requests with distinct forged tokens, `workers` at a time; each must be a 401.
async fn flood(s: &Server, n: usize, workers: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let requests: Vec<_> = (0..n / workers)
            .map(|i| {
                s.request(Method::GET, "/v1/groups")
                    .bearer_auth(forged(w * n + i))
            })
            .collect();
        tasks.spawn(async move {
            for request in requests {
                let status = request.send().await.unwrap().status().as_u16();
                assert_eq!(status, 401);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

/// Forged tokens are refused from memory. On PostgreSQL (other servers' tokens arrive with
/// their commits, pushed) the flood is sent with the store's connections closed: one query
/// would turn a 401 into a 500. On SQLite (other processes' commits are polled) a miss looks
/// at the store at most once per 100 ms, shared by every request waiting.
#[tokio::test]
async fn a_flood_of_forged_tokens_costs_no_store_query() {
    let s = Server::start().await;
    let polls = s.service.metrics().polls();
    let start = std::time::Instant::now();
    flood(&s, 1_024, 64).await;
    let elapsed = start.elapsed().as_millis();
    let used = u128::from(s.service.metrics().polls() - polls);
    // One look per 100 ms after misses, plus the background poll (every 200 ms in tests).
    assert!(
        used <= elapsed * 3 / 200 + 2 && used < 100,
        "1,024 forged tokens in {elapsed} ms caused {used} polls of the store"
    );
    warden_testing::with_postgres(|url: String| async move {
        let store = warden_store::Store::connect(&url).await.unwrap();
        let s = Server::start_on(store, None, crate::common::settings()).await;
        s.service.spawn_background();
        let start = std::time::Instant::now();
        while !s.service.is_listening() {
            assert!(start.elapsed().as_secs() < 10, "not listening after 10 s");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        s.service.store().close().await;
        flood(&s, 2_000, 8).await;
        // A real token is still honoured, from memory.
        s.admin_client.whoami().await.unwrap();
    })
    .await;
}
