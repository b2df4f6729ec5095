//! Console sign-in over HTTP, on SQLite and PostgreSQL: the cookie's attributes, CSRF, the
//! failed-attempt limits, deactivation and removal ending sessions at once, password change
//! and reset.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use warden_client::model::{InvitationAcceptance, InvitationInput};

use crate::common::{on_both_backends, Server};

const PASSWORD: &str = "correct horse battery";

/// A member with a password: invited by the admin, accepted.
async fn member(s: &Server, email: &str) -> String {
    let sent = s
        .admin_client
        .invite(&InvitationInput {
            email: email.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let accepted = s
        .anonymous()
        .accept_invitation(&InvitationAcceptance {
            token: sent.link,
            first_name: "Bea".into(),
            last_name: String::new(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    accepted.user.id
}

/// A client whose connections come from `address` (any 127.x.y.z reaches the server).
fn from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn sign_in(
    s: &Server,
    http: &reqwest::Client,
    email: &str,
    password: &str,
) -> (StatusCode, Value, Option<String>, Option<String>) {
    let response = http
        .post(format!("{}/v1/sessions", s.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string());
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let cookie = set_cookie.map(|c| {
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
        assert!(!c.contains("Secure"), "plain http: {c}");
        c.split(';').next().unwrap().to_string()
    });
    (status, body, cookie, retry_after)
}

async fn call(
    s: &Server,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", s.base))
        .header(COOKIE, cookie);
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_session_is_a_strict_cookie_and_its_changes_need_the_csrf_token() {
    on_both_backends(|s| async move {
        member(&s, "bea@example.com").await;
        let (status, body, cookie, _) = sign_in(&s, &reqwest::Client::new(), "Bea@Example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let cookie = cookie.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_string();
        assert_eq!(body["user"]["email"], "bea@example.com");
        assert_eq!(body["organization_name"], "Acme");
        let (status, me) = call(&s, reqwest::Method::GET, "/v1/sessions/current", &cookie, None, None).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["csrf_token"], csrf);
        // Without (or with a wrong) CSRF token a change is refused and the session lives on.
        let (status, problem) = call(&s, reqwest::Method::DELETE, "/v1/sessions/current", &cookie, None, None).await;
        assert_eq!((status.as_u16(), problem["code"].as_str()), (403, Some("csrf_failed")));
        let (status, _) = call(&s, reqwest::Method::DELETE, "/v1/sessions/current", &cookie, Some("00"), None).await;
        assert_eq!(status.as_u16(), 403);
        let (status, _) = call(&s, reqwest::Method::DELETE, "/v1/sessions/current", &cookie, Some(&csrf), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, problem) = call(&s, reqwest::Method::GET, "/v1/sessions/current", &cookie, None, None).await;
        assert_eq!((status.as_u16(), problem["code"].as_str()), (401, Some("unauthenticated")));
        // Strict bodies, as everywhere.
        let (status, problem) = call(&s, reqwest::Method::POST, "/v1/sessions", "x=1", None, Some(json!({"email": "a@b.c", "password": "x", "surprise": 1}))).await;
        assert_eq!((status.as_u16(), problem["code"].as_str()), (400, Some("unknown_field")));
        for path in ["/v1/password-resets", "/v1/password-resets/complete"] {
            let (status, problem) = call(&s, reqwest::Method::POST, path, "x=1", None, Some(json!({"email": "a@b.c", "token": "t", "new_password": "0123456789", "surprise": 1}))).await;
            assert_eq!((status.as_u16(), problem["code"].as_str()), (400, Some("unknown_field")), "{path}");
        }
        // No cookie at all.
        let (status, _) = call(&s, reqwest::Method::GET, "/v1/sessions/current", "other=1", None, None).await;
        assert_eq!(status.as_u16(), 401);
    })
    .await;
}

#[tokio::test]
async fn wrong_passwords_are_limited_per_account_and_address_with_retry_after() {
    on_both_backends(|s| async move {
        member(&s, "bea@example.com").await;
        let guesser = from("127.0.0.1");
        for _ in 0..5 {
            let (status, body, cookie, _) =
                sign_in(&s, &guesser, "bea@example.com", "wrong password!").await;
            assert_eq!(
                (status.as_u16(), body["code"].as_str()),
                (401, Some("unauthenticated"))
            );
            assert!(cookie.is_none());
        }
        // The sixth, even with the right password, waits.
        let (status, body, _, retry_after) =
            sign_in(&s, &guesser, "bea@example.com", PASSWORD).await;
        assert_eq!(
            (status.as_u16(), body["code"].as_str()),
            (429, Some("too_many_failed_authentications"))
        );
        assert!(retry_after.unwrap().parse::<u64>().unwrap() > 0);
        // The owner, from elsewhere, signs in.
        let (status, body, cookie, _) =
            sign_in(&s, &from("127.0.0.2"), "bea@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(cookie.is_some());
        // An unknown account is answered as a wrong password.
        let (status, body, _, _) =
            sign_in(&s, &from("127.0.0.3"), "nobody@example.com", PASSWORD).await;
        assert_eq!(
            (status.as_u16(), body["detail"].as_str()),
            (401, Some("wrong email or password"))
        );
    })
    .await;
}

#[tokio::test]
async fn deactivation_and_removal_end_sessions_at_once() {
    on_both_backends(|s| async move {
        let bea = member(&s, "bea@example.com").await;
        let http = reqwest::Client::new();
        let (_, _, cookie, _) = sign_in(&s, &http, "bea@example.com", PASSWORD).await;
        let cookie = cookie.unwrap();
        s.admin_client.deactivate_user(&bea).await.unwrap();
        let (status, _) = call(
            &s,
            reqwest::Method::GET,
            "/v1/sessions/current",
            &cookie,
            None,
            None,
        )
        .await;
        assert_eq!(status.as_u16(), 401);
        let (status, body, _, _) = sign_in(&s, &http, "bea@example.com", PASSWORD).await;
        assert_eq!(status.as_u16(), 401);
        assert!(
            body["detail"].as_str().unwrap().contains("deactivated"),
            "{body}"
        );
        // Reactivated: a new sign-in works; the old session stays ended.
        s.admin_client.reactivate_user(&bea).await.unwrap();
        let (status, _, new_cookie, _) = sign_in(&s, &http, "bea@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = call(
            &s,
            reqwest::Method::GET,
            "/v1/sessions/current",
            &cookie,
            None,
            None,
        )
        .await;
        assert_eq!(status.as_u16(), 401);
        // Removed by an operator: the session dies with the user.
        let operator = s.operator("ops@platform.test").await;
        operator
            .platform_remove_user(s.org.as_str(), &bea)
            .await
            .unwrap();
        let (status, _) = call(
            &s,
            reqwest::Method::GET,
            "/v1/sessions/current",
            &new_cookie.unwrap(),
            None,
            None,
        )
        .await;
        assert_eq!(status.as_u16(), 401);
    })
    .await;
}

#[tokio::test]
async fn a_password_change_and_a_reset_end_the_other_sessions() {
    on_both_backends(|s| async move {
        member(&s, "bea@example.com").await;
        let http = reqwest::Client::new();
        let (_, body, first, _) = sign_in(&s, &http, "bea@example.com", PASSWORD).await;
        let (first, csrf) = (
            first.unwrap(),
            body["csrf_token"].as_str().unwrap().to_string(),
        );
        let (_, _, second, _) = sign_in(&s, &http, "bea@example.com", PASSWORD).await;
        let second = second.unwrap();
        let change =
            |current: &str, new: &str| json!({"current_password": current, "new_password": new});
        let (status, problem) = call(
            &s,
            reqwest::Method::POST,
            "/v1/sessions/current/password",
            &first,
            Some(&csrf),
            Some(change("nope", "another long password")),
        )
        .await;
        assert_eq!(
            (status.as_u16(), problem["field"].as_str()),
            (422, Some("current_password"))
        );
        let (status, _) = call(
            &s,
            reqwest::Method::POST,
            "/v1/sessions/current/password",
            &first,
            Some(&csrf),
            Some(change(PASSWORD, "another long password")),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            call(
                &s,
                reqwest::Method::GET,
                "/v1/sessions/current",
                &first,
                None,
                None
            )
            .await
            .0,
            StatusCode::OK
        );
        assert_eq!(
            call(
                &s,
                reqwest::Method::GET,
                "/v1/sessions/current",
                &second,
                None,
                None
            )
            .await
            .0
            .as_u16(),
            401
        );
        assert_eq!(
            sign_in(&s, &from("127.0.0.4"), "bea@example.com", PASSWORD)
                .await
                .0
                .as_u16(),
            401
        );
        // Reset by email: the link (made from the outbox item's nonce, as the mailer makes it)
        // sets a new password once and ends every session.
        let (status, _) = call(
            &s,
            reqwest::Method::POST,
            "/v1/password-resets",
            "x=1",
            None,
            Some(json!({"email": "bea@example.com"})),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let (status, _) = call(
            &s,
            reqwest::Method::POST,
            "/v1/password-resets",
            "x=1",
            None,
            Some(json!({"email": "nobody@example.com"})),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "the same answer for a stranger"
        );
        let outbox = s.service.store().outbox_of(&s.org).await.unwrap();
        let secret = outbox
            .iter()
            .find_map(|i| match &i.effect {
                warden_core::Effect::SendPasswordReset { org_id, nonce, .. } => {
                    Some(s.service.settings().link_key.reset_secret(org_id, nonce))
                }
                _ => None,
            })
            .unwrap();
        let complete =
            |token: &str| json!({"token": token, "new_password": "a third long password"});
        let (status, problem) = call(
            &s,
            reqwest::Method::POST,
            "/v1/password-resets/complete",
            "x=1",
            None,
            Some(complete("wdn_rst_abc123_nothing")),
        )
        .await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (404, Some("password_reset_invalid"))
        );
        let link = format!("http://x/password-reset#{secret}");
        let (status, _) = call(
            &s,
            reqwest::Method::POST,
            "/v1/password-resets/complete",
            "x=1",
            None,
            Some(complete(&link)),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, problem) = call(
            &s,
            reqwest::Method::POST,
            "/v1/password-resets/complete",
            "x=1",
            None,
            Some(complete(&secret)),
        )
        .await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (410, Some("password_reset_used"))
        );
        assert_eq!(
            call(
                &s,
                reqwest::Method::GET,
                "/v1/sessions/current",
                &first,
                None,
                None
            )
            .await
            .0
            .as_u16(),
            401
        );
        assert_eq!(
            sign_in(
                &s,
                &from("127.0.0.5"),
                "bea@example.com",
                "a third long password"
            )
            .await
            .0,
            StatusCode::CREATED
        );
    })
    .await;
}

/// A signed-in user calls the API with the session's cookie as they would with a token: the
/// same engine answers, changes need the CSRF token, a token presented wins, sign-out ends it.
#[tokio::test]
async fn a_session_calls_the_api_as_its_user_and_changes_need_the_csrf_token() {
    on_both_backends(|s| async move {
        let bea = member(&s, "bea@example.com").await;
        s.admin_client
            .add_group_member("write", &bea)
            .await
            .unwrap();
        let (status, body, cookie, _) =
            sign_in(&s, &reqwest::Client::new(), "bea@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let cookie = cookie.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_string();
        let (status, me) = call(&s, reqwest::Method::GET, "/v1/whoami", &cookie, None, None).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["principal"]["id"], bea.as_str());
        assert!(me.get("token_id").is_none(), "{me}");
        // The engine answers for her: `write` gives tokens, not the user list.
        let (status, problem) =
            call(&s, reqwest::Method::GET, "/v1/users", &cookie, None, None).await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (403, Some("forbidden"))
        );
        let new_token = json!({"name": "from the console"});
        let (status, problem) = call(
            &s,
            reqwest::Method::POST,
            "/v1/tokens",
            &cookie,
            None,
            Some(new_token.clone()),
        )
        .await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (403, Some("csrf_failed"))
        );
        let (status, created) = call(
            &s,
            reqwest::Method::POST,
            "/v1/tokens",
            &cookie,
            Some(&csrf),
            Some(new_token),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let events = s
            .admin_client
            .audit_events(&warden_client::model::AuditQuery {
                action: Some("tokens.personal.create".into()),
                ..warden_client::model::AuditQuery::newest(5)
            })
            .await
            .unwrap();
        assert!(
            events
                .items
                .iter()
                .any(|e| e.actor == format!("user:{bea}")),
            "{:?}",
            events.items
        );
        // A bearer token, when presented, is the credential.
        let response = reqwest::Client::new()
            .get(format!("{}/v1/whoami", s.base))
            .header(COOKIE, &cookie)
            .bearer_auth(&s.admin_token)
            .send()
            .await
            .unwrap();
        let me: Value = response.json().await.unwrap();
        assert_eq!(me["principal"]["id"], s.admin.as_str());
        // Signed out, the cookie opens nothing.
        let (status, _) = call(
            &s,
            reqwest::Method::DELETE,
            "/v1/sessions/current",
            &cookie,
            Some(&csrf),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, problem) =
            call(&s, reqwest::Method::GET, "/v1/whoami", &cookie, None, None).await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (401, Some("unauthenticated"))
        );
    })
    .await;
}

/// The reset email the mailer writes carries the link, whose secret resets the password once.
#[tokio::test]
async fn a_password_reset_email_carries_its_link() {
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("outbox");
    let store = warden_store::Store::open_data_dir(dir.path())
        .await
        .unwrap();
    let settings = warden_server::Settings {
        mailer: Some(warden_server::service::Mailer::Directory(mail.clone())),
        ..crate::common::settings()
    };
    let s = Server::start_on(store, None, settings).await;
    s.service.spawn_background();
    member(&s, "bea@example.com").await;
    let (status, _) = call(
        &s,
        reqwest::Method::POST,
        "/v1/password-resets",
        "x=1",
        None,
        Some(json!({"email": "bea@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mut found = Vec::new();
    for _ in 0..100 {
        found = crate::tokens::emails(&mail)
            .into_iter()
            .filter(|m| m.contains("Subject: Reset your Warden password"))
            .collect();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), 1, "one reset email");
    let message = &found[0];
    assert!(message.contains("To: <bea@example.com>\r\n"), "{message}");
    let public = s
        .service
        .settings()
        .public_url
        .trim_end_matches('/')
        .to_string();
    let prefix = format!("{public}/password-reset#wdn_rst_");
    let link = message
        .split_whitespace()
        .find(|w| w.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no link in {message}"));
    let complete = json!({"token": link, "new_password": "a brand new password"});
    for want in [StatusCode::NO_CONTENT, StatusCode::GONE] {
        let (status, _) = call(
            &s,
            reqwest::Method::POST,
            "/v1/password-resets/complete",
            "x=1",
            None,
            Some(complete.clone()),
        )
        .await;
        assert_eq!(status, want);
    }
}

/// A malformed email or organization id is refused as such, never answered as a wrong
/// password or an accepted reset (found by schemathesis: a 7-character organization got 202).
#[tokio::test]
async fn malformed_sign_in_and_reset_requests_are_refused_as_such() {
    let s = Server::start().await;
    for (path, body) in [
        (
            "/v1/password-resets",
            json!({"email": "a@b.c", "organization": "0000000"}),
        ),
        ("/v1/password-resets", json!({"email": "a@"})),
        (
            "/v1/password-resets",
            json!({"email": format!("{}@b.c", "a".repeat(260))}),
        ),
        (
            "/v1/sessions",
            json!({"email": "a@b.c", "password": "p", "organization": "zzzzzz"}),
        ),
    ] {
        let (status, problem) = call(
            &s,
            reqwest::Method::POST,
            path,
            "x=1",
            None,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (422, Some("invalid_field")),
            "{path} {body}"
        );
    }
}
