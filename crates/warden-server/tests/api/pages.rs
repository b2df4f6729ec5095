//! The pages behind emailed links (`/invitations/accept`, `/password-reset`) and their
//! assets: HTML for people, outside the OpenAPI document, with a strict Content Security
//! Policy, and without disturbing the API's own 404 and 405 problem documents.

use reqwest::header::HeaderMap;
use reqwest::Method;
use warden_client::model::InvitationInput;

use crate::common::{assert_problem, Server};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
     img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const PAGES: [&str; 2] = ["/invitations/accept", "/password-reset"];

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
        .to_str()
        .unwrap()
}

/// `GET path`: the status, the headers and the body as text.
async fn get(s: &Server, path: &str) -> (u16, HeaderMap, String) {
    let res = s.request(Method::GET, path).send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

/// The headers every page and asset carries.
fn assert_guarded(path: &str, headers: &HeaderMap) {
    assert_eq!(header(headers, "content-security-policy"), CSP, "{path}");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer", "{path}");
    assert_eq!(
        header(headers, "x-content-type-options"),
        "nosniff",
        "{path}"
    );
}

#[tokio::test]
async fn the_pages_answer_html_under_a_strict_content_security_policy() {
    let s = Server::start().await;
    for path in PAGES {
        let (status, headers, body) = get(&s, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            header(&headers, "content-type"),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(header(&headers, "cache-control"), "no-store", "{path}");
        assert_guarded(path, &headers);
        assert!(body.starts_with("<!doctype html>"), "{path}: {body}");
        // One script and one style sheet, both from /assets; nothing inline for the CSP to
        // block.
        assert_eq!(body.matches("<script").count(), 1, "{path}");
        assert!(
            body.contains(r#"<script src="/assets/pages.js" defer></script>"#),
            "{path}"
        );
        assert!(
            body.contains(r#"<link rel="stylesheet" href="/assets/pages.css">"#),
            "{path}"
        );
        assert!(
            !body.contains("<style") && !body.contains(" style="),
            "{path}"
        );
        // Accessible: every input labelled, password managers told what each field is, and
        // errors announced.
        assert!(body.contains(r#"role="alert""#), "{path}");
        assert!(body.contains(r#"autocomplete="new-password""#), "{path}");
        for id in ["password", "password-confirmation"] {
            assert!(
                body.contains(&format!(r#"<label for="{id}">"#)),
                "{path}: {id}"
            );
        }
        // The form only posts where the script sends it: never a password in a URL.
        assert!(body.contains(r#"<form id="form" method="post""#), "{path}");
        // HEAD answers too, with the same headers.
        let head = s.request(Method::HEAD, path).send().await.unwrap();
        assert_eq!(head.status().as_u16(), 200, "HEAD {path}");
        assert_guarded(path, head.headers());
    }
    let (_, _, accept) = get(&s, "/invitations/accept").await;
    assert!(accept.contains(r#"autocomplete="given-name""#));
    assert!(accept.contains(r#"autocomplete="family-name""#));
    assert!(accept.contains(r#"<label for="first-name">"#));
    assert!(accept.contains(r#"<label for="last-name">"#));
}

#[tokio::test]
async fn the_assets_answer_with_their_types_and_unknown_ones_are_not_found() {
    let s = Server::start().await;
    for (path, kind, needle) in [
        (
            "/assets/pages.js",
            "text/javascript; charset=utf-8",
            "/v1/invitations/inspect",
        ),
        ("/assets/pages.css", "text/css; charset=utf-8", ".error"),
    ] {
        let (status, headers, body) = get(&s, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), kind, "{path}");
        assert_guarded(path, &headers);
        assert!(body.contains(needle), "{path}");
    }
    for path in [
        "/assets/x",
        "/assets/pages.js.map",
        "/assets/",
        "/invitations/accept/x",
    ] {
        let (status, problem, headers) = s.raw(Method::GET, path, None, None).await;
        assert_problem(status, &problem, 404, "no_such_endpoint");
        assert!(
            header(&headers, "content-type").starts_with("application/problem+json"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_pages_leave_the_api_and_its_document_as_they_were() {
    let s = Server::start().await;
    // Only GET (and HEAD): anything else is the API's 405 problem document.
    for path in PAGES.iter().chain(&["/assets/pages.js"]) {
        let (status, problem, _) = s.raw(Method::POST, path, None, None).await;
        assert_problem(status, &problem, 405, "method_not_allowed");
    }
    let (status, problem, _) = s.raw(Method::GET, "/v1/nothing-here", None, None).await;
    assert_problem(status, &problem, 404, "no_such_endpoint");
    let (status, problem, _) = s.raw(Method::DELETE, "/v1/roles", None, None).await;
    assert_problem(status, &problem, 405, "method_not_allowed");
    // The API endpoints the pages call are still there, JSON as before.
    let (status, problem, _) = s
        .raw(
            Method::POST,
            "/v1/invitations/inspect",
            None,
            Some(serde_json::json!({"token": "wdn_inv_nope"})),
        )
        .await;
    assert_problem(status, &problem, 404, "invitation_link_invalid");
    // The document describes the API, not the pages.
    let doc = s.admin_client.openapi().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/v1/invitations/accept"));
    for path in paths.keys() {
        assert!(
            path.starts_with("/v1/") || ["/healthz", "/readyz", "/metrics"].contains(&&**path),
            "{path} in the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn no_secret_is_ever_in_a_page() {
    let s = Server::start().await;
    let sent = s
        .admin_client
        .invite(&InvitationInput {
            email: "bea@example.com".into(),
            namespaces: vec![],
            admin: false,
            billing: false,
            groups: vec![],
        })
        .await
        .unwrap();
    let secret = warden_client::model::link_secret(&sent.link).to_string();
    assert!(secret.starts_with("wdn_inv_"), "{}", sent.link);
    let (_, _, plain) = get(&s, "/invitations/accept").await;
    // Whatever the request carries (a secret pasted into the query by mistake, a cookie),
    // the page is the same static text, with no secret in it.
    let pasted = s
        .request(Method::GET, &format!("/invitations/accept?token={secret}"))
        .header("cookie", format!("warden_session={secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(pasted.status().as_u16(), 200);
    assert_eq!(pasted.text().await.unwrap(), plain);
    for path in PAGES
        .iter()
        .chain(&["/assets/pages.js", "/assets/pages.css"])
    {
        let (_, _, body) = get(&s, path).await;
        assert!(!body.contains(&secret), "{path}");
        assert!(!body.contains("wdn_"), "{path}: a token-shaped string");
        assert!(!body.contains(&s.admin_token), "{path}");
    }
}
