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
