//! Bad input gets a problem document with a stable code, and changes nothing: malformed
//! JSON, the wrong shape, unknown fields (on every endpoint that takes a body), unknown
//! names, over-long values, over-large bodies, targets and headers.

use reqwest::Method;
use serde_json::{json, Value};

use warden_client::model::{GroupInput, PolicyInput, PrincipalInput, PrincipalKind, RuleInput};

use crate::common::{assert_problem, on_both_backends, problem_of, Server};

#[tokio::test]
async fn bad_input_gets_problem_details_and_changes_nothing() {
    let s = Server::start().await;
    let admin = s.admin_token.clone();
    let before = s.revision();
    let groups_before = s.admin_client.groups().await.unwrap().items.len();

    // Malformed JSON.
    let (status, body, _) = s
        .send(
            s.request(Method::POST, "/v1/groups")
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .body("{\"name\": "),
        )
        .await;
    assert_problem(status, &body, 400, "malformed_json");
    // Trailing garbage after the object.
    let (status, body, _) = s
        .send(
            s.request(Method::POST, "/v1/groups")
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .body("{\"name\": \"g\"} x"),
        )
        .await;
    assert_problem(status, &body, 400, "malformed_json");
    // Not JSON at all.
    let (status, body, _) = s
        .send(
            s.request(Method::POST, "/v1/groups")
                .bearer_auth(&admin)
                .body("name=x"),
        )
        .await;
    assert_problem(status, &body, 415, "unsupported_media_type");
    // Wrong shape.
    let (status, body, _) = s
        .raw(
            Method::POST,
            "/v1/groups",
            Some(&admin),
            Some(json!({"name": 5})),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_body");
    let cases = [
        (
            json!({"name": "p1", "rules": [{"principal": {"kind": "group", "id": "admin"}, "roles": ["god-mode"]}]}),
            "/v1/policies",
            422,
            "unknown_role",
        ),
        (
            json!({"name": "p2", "rules": [{"principal": {"kind": "user", "id": "ghost@acme.test"}, "roles": ["cks-viewer"]}]}),
            "/v1/policies",
            422,
            "unknown_principal",
        ),
        // Principal kinds and token lifetimes are enums of the schema.
        (
            json!({"name": "p3", "rules": [{"principal": {"kind": "robot", "id": "x"}, "roles": ["cks-viewer"]}]}),
            "/v1/policies",
            422,
            "invalid_body",
        ),
        (
            json!({"name": "admin"}),
            "/v1/groups",
            409,
            "duplicate_name",
        ),
        (
            json!({"name": "read", "rules": []}),
            "/v1/policies",
            409,
            "duplicate_name",
        ),
        (
            json!({"name": "x".repeat(10_000)}),
            "/v1/groups",
            422,
            "invalid_field",
        ),
        (
            json!({"name": "y".repeat(200), "rules": []}),
            "/v1/policies",
            422,
            "invalid_field",
        ),
        (
            json!({"name": "ok", "description": "d".repeat(5000)}),
            "/v1/groups",
            422,
            "invalid_field",
        ),
        (
            json!({"name": "Not A Label"}),
            "/v1/namespaces",
            422,
            "invalid_field",
        ),
        (
            json!({"name": "ns1", "access": [{"user": "ghost@acme.test"}]}),
            "/v1/namespaces",
            422,
            "unknown_principal",
        ),
        (
            json!({"name": "c", "api_server_url": "http://plain"}),
            "/v1/clusters",
            422,
            "invalid_field",
        ),
        // Control characters in a CA bundle are refused (PostgreSQL cannot store NUL).
        (
            json!({"name": "c", "api_server_url": "https://k", "ca_bundle": "-----BEGIN CERTIFICATE-----\u{0}"}),
            "/v1/clusters",
            422,
            "invalid_field",
        ),
        (
            json!({"name": "t", "expires_in": "forever"}),
            "/v1/tokens",
            422,
            "invalid_body",
        ),
    ];
    for (body, path, status, code) in cases {
        let (got, problem, _) = s.raw(Method::POST, path, Some(&admin), Some(body)).await;
        assert_problem(got, &problem, status, code);
    }
    // A body over the limit.
    let huge = json!({"name": "big", "description": "z".repeat(2 * 1024 * 1024)});
    let (status, problem, _) = s
        .raw(Method::POST, "/v1/groups", Some(&admin), Some(huge))
        .await;
    assert_problem(status, &problem, 413, "payload_too_large");
    // Unknown things.
    let (status, problem, _) = s
        .raw(Method::GET, "/v1/groups/no-such-group", Some(&admin), None)
        .await;
    assert_problem(status, &problem, 404, "not_found");
    let (status, problem, _) = s
        .raw(Method::GET, "/v1/nothing-here", Some(&admin), None)
        .await;
    assert_problem(status, &problem, 404, "no_such_endpoint");
    let (status, problem, _) = s.raw(Method::DELETE, "/v1/roles", Some(&admin), None).await;
    assert_problem(status, &problem, 405, "method_not_allowed");
    let (status, problem, _) = s
        .raw(Method::GET, "/v1/users?status=sleeping", Some(&admin), None)
        .await;
    assert_problem(status, &problem, 422, "invalid_field");

    // Nothing was written by any of it.
    assert_eq!(s.revision(), before);
    assert_eq!(
        s.admin_client.groups().await.unwrap().items.len(),
        groups_before
    );
}

/// Every endpoint that takes a body, with a valid body for it: `(method, path, body)`.
fn bodies(user: &str) -> Vec<(Method, String, Value)> {
    let rule = json!({"principal": {"kind": "user", "id": user}, "roles": ["cks-viewer"]});
    vec![
        (
            Method::PATCH,
            "/v1/organization".into(),
            json!({"name": "Acme Corp"}),
        ),
        (
            Method::PATCH,
            format!("/v1/users/{user}"),
            json!({"first_name": "O"}),
        ),
        (
            Method::POST,
            "/v1/groups".into(),
            json!({"name": "strict", "description": ""}),
        ),
        (
            Method::PATCH,
            "/v1/groups/read".into(),
            json!({"description": "d"}),
        ),
        (
            Method::POST,
            "/v1/policies".into(),
            json!({"name": "strict", "rules": [rule]}),
        ),
        (
            Method::PUT,
            "/v1/policies/metrics".into(),
            json!({"name": "metrics", "rules": [
            {"principal": {"kind": "group", "id": "metrics"}, "roles": ["observability-viewer"]}]}),
        ),
        (
            Method::POST,
            "/v1/namespaces".into(),
            json!({"name": "strict", "access": [{"user": user}]}),
        ),
        (
            Method::PUT,
            format!("/v1/namespaces/base/access/{user}"),
            json!({"permissions": ["r:full"]}),
        ),
        (
            Method::POST,
            "/v1/clusters".into(),
            json!({"name": "strict", "api_server_url": "https://k8s.example.com"}),
        ),
        (
            Method::PATCH,
            "/v1/clusters/base".into(),
            json!({"ca_bundle": ""}),
        ),
        (
            Method::POST,
            "/v1/clusters/base/webhook-credential".into(),
            json!({"warden_ca_bundle": ""}),
        ),
        (Method::POST, "/v1/tokens".into(), json!({"name": "strict"})),
        // `own-token` and `org-token`: the admin's token and an org token, filled in at call
        // time.
        (
            Method::PATCH,
            "/v1/tokens/own-token".into(),
            json!({"note": "strict"}),
        ),
        (
            Method::POST,
            "/v1/org-tokens".into(),
            json!({"name": "strict", "namespaces": ["base"]}),
        ),
        (
            Method::PATCH,
            "/v1/org-tokens/org-token".into(),
            json!({"namespaces": []}),
        ),
        (
            Method::POST,
            "/v1/invitations".into(),
            json!({"email": "strict@example.com", "namespaces": [{"namespace": "base"}]}),
        ),
        (
            Method::PATCH,
            "/v1/invitations/strict@example.com".into(),
            json!({"namespaces": [{"namespace": "base", "permissions": ["r:full"]}]}),
        ),
        (
            Method::POST,
            "/v1/authz/check".into(),
            json!({"checks": [{"principal": user, "action": "cks.clusters.list"}]}),
        ),
    ]
}

/// Adds `field` to the object at `path` (a list of keys and indexes) inside `body`.
fn with_field(mut body: Value, path: &[&str], field: &str) -> Value {
    let mut at = &mut body;
    for step in path {
        at = match step.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*step],
        };
    }
    at[field] = json!(true);
    body
}

#[tokio::test]
async fn every_body_refuses_an_unknown_field_naming_it_and_an_array_for_an_object() {
    let s = Server::start().await;
    let (u, _) = s.user("strict@acme.test").await;
    s.admin_client
        .create_namespace(&warden_client::model::NamespaceInput {
            name: "base".into(),
            access: vec![],
        })
        .await
        .unwrap();
    s.admin_client
        .create_cluster(&warden_client::model::ClusterInput {
            name: "base".into(),
            api_server_url: "https://k8s.example.com".into(),
            ca_bundle: String::new(),
        })
        .await
        .unwrap();
    let admin = s.admin_token.clone();
    let own_token = s.admin_client.whoami().await.unwrap().token_id.unwrap();
    let org_token = s
        .admin_client
        .create_org_token(&warden_client::model::TokenInput::default())
        .await
        .unwrap()
        .token
        .id;
    for (method, path, body) in bodies(u.as_str()) {
        let path = path
            .replace("/v1/tokens/own-token", &format!("/v1/tokens/{own_token}"))
            .replace(
                "/v1/org-tokens/org-token",
                &format!("/v1/org-tokens/{org_token}"),
            );
        let before = s.revision();
        // At the top level.
        let (status, problem, _) = s
            .raw(
                method.clone(),
                &path,
                Some(&admin),
                Some(with_field(body.clone(), &[], "surprise")),
            )
            .await;
        assert_problem(status, &problem, 400, "unknown_field");
        assert_eq!(problem["field"], "surprise", "{method} {path}");
        // An array where the object is expected.
        let values: Vec<Value> = body.as_object().unwrap().values().cloned().collect();
        let (status, problem, _) = s
            .raw(
                method.clone(),
                &path,
                Some(&admin),
                Some(Value::Array(values)),
            )
            .await;
        assert_problem(status, &problem, 422, "invalid_body");
        assert_eq!(s.revision(), before, "{method} {path} wrote something");
        // The valid body goes through.
        let (status, answer, _) = s.raw(method.clone(), &path, Some(&admin), Some(body)).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
    }
    // The table covers every operation of the document that takes a body.
    let doc = s.admin_client.openapi().await.unwrap();
    let mut with_body = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("requestBody").is_some() {
                with_body.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let tested: std::collections::BTreeSet<(String, String)> = bodies("{user}")
        .into_iter()
        .map(|(m, p, _)| {
            let p = p
                .replace("/v1/groups/read", "/v1/groups/{group}")
                .replace("/v1/policies/metrics", "/v1/policies/{policy}")
                .replace(
                    "/v1/namespaces/base/access/",
                    "/v1/namespaces/{namespace}/access/",
                )
                .replace("/v1/clusters/base", "/v1/clusters/{cluster}")
                .replace("/v1/tokens/own-token", "/v1/tokens/{token}")
                .replace("/v1/org-tokens/org-token", "/v1/org-tokens/{token_id}")
                .replace(
                    "/v1/invitations/strict@example.com",
                    "/v1/invitations/{invitation}",
                );
            (m.as_str().to_string(), p)
        })
        .collect();
    // Accepting and inspecting an invitation (no token), the platform's operations (an
    // operator's token), sign-in (a cookie) and managing service accounts (which no admin
    // may) refuse unknown fields in invitations.rs, platform.rs, sessions.rs and
    // service_accounts.rs.
    with_body.retain(|(_, path)| {
        !path.starts_with("/v1/platform/")
            && !path.starts_with("/v1/service-accounts")
            && !path.starts_with("/v1/sessions")
            && !path.starts_with("/v1/password-resets")
            && path != "/v1/invitations/accept"
            && path != "/v1/invitations/inspect"
    });
    assert_eq!(
        with_body, tested,
        "every body-taking operation is in the table"
    );
    // Nested objects refuse unknown fields too, named by their path.
    let nested = [
        (
            "/v1/policies",
            json!({"name": "n1", "rules": [{"principal": {"kind": "user", "id": u.to_string()}, "roles": ["cks-viewer"], "effect": "deny"}]}),
            "rules[0].effect",
        ),
        (
            "/v1/policies",
            json!({"name": "n2", "rules": [{"principal": {"kind": "user", "id": u.to_string(), "tenant": "x"}, "roles": ["cks-viewer"]}]}),
            "rules[0].principal.tenant",
        ),
        (
            "/v1/namespaces",
            json!({"name": "n3", "access": [{"user": u.to_string(), "role": "admin"}]}),
            "access[0].role",
        ),
        (
            "/v1/authz/check",
            json!({"checks": [{"principal": u.to_string(), "action": "cks.clusters.list", "resource": "x"}]}),
            "checks[0].resource",
        ),
    ];
    for (path, body, field) in nested {
        let (status, problem, _) = s.raw(Method::POST, path, Some(&admin), Some(body)).await;
        assert_problem(status, &problem, 400, "unknown_field");
        assert_eq!(problem["field"], field);
    }
}

#[tokio::test]
async fn fields_that_used_to_be_dropped_silently_are_refused() {
    let s = Server::start().await;
    let admin = s.admin_token.clone();
    let before = s.revision();
    // A deny rule would have become a grant: there are no deny rules.
    let (u, _) = s.user("deny@acme.test").await;
    let (status, problem, _) = s
        .raw(
            Method::POST,
            "/v1/policies",
            Some(&admin),
            Some(json!({"name": "deny-it", "rules": [{"principal": {"kind": "user", "id": u.to_string()}, "roles": ["cks-admin"], "effect": "deny"}]})),
        )
        .await;
    assert_problem(status, &problem, 400, "unknown_field");
    assert!(!s.check(&admin, &u, "cks.clusters.create").await);
    // The default admin is changed by a platform operator only.
    let (status, problem, _) = s
        .raw(
            Method::PATCH,
            "/v1/organization",
            Some(&admin),
            Some(json!({"name": "Acme", "default_admin": u.to_string()})),
        )
        .await;
    assert_problem(status, &problem, 400, "unknown_field");
    assert_eq!(problem["field"], "default_admin");
    // A token does not take scopes (yet): it would carry the user's full rights.
    let (status, problem, _) = s
        .raw(
            Method::POST,
            "/v1/tokens",
            Some(&admin),
            Some(json!({"name": "narrow", "scopes": ["cks.clusters.list"]})),
        )
        .await;
    assert_problem(status, &problem, 400, "unknown_field");
    assert_eq!(problem["field"], "scopes");
    assert_eq!(
        s.revision(),
        before + 1,
        "only the user's creation was written"
    );
}

#[tokio::test]
async fn over_long_targets_and_headers_get_problem_documents() {
    let s = Server::start().await;
    let long = format!("/v1/groups/{}", "a".repeat(10_000));
    let (status, problem, headers) = s.raw(Method::GET, &long, Some(&s.admin_token), None).await;
    assert_problem(status, &problem, 414, "uri_too_long");
    assert_eq!(headers["content-type"], "application/problem+json");
    let (status, problem, headers) = s
        .send(
            s.request(Method::GET, "/v1/groups")
                .bearer_auth(&s.admin_token)
                .header("x-padding", "p".repeat(70 * 1024)),
        )
        .await;
    assert_problem(status, &problem, 431, "request_headers_too_large");
    assert_eq!(headers["content-type"], "application/problem+json");
}

/// Issue 12, item 4: names as people write them. Group names keep their case and are unique
/// without it; roles are found by display name; names are NFC and refuse invisible
/// characters; a name that could be mistaken for another is refused, naming it.
#[tokio::test]
async fn names_keep_their_case_and_none_may_deceive() {
    on_both_backends(|s| async move {
        let admin = &s.admin_client;
        let group = |name: &str| GroupInput {
            name: name.into(),
            description: String::new(),
        };
        let created = admin.create_group(&group("Engineering")).await.unwrap();
        assert_eq!(created.item.unwrap().name, "Engineering");
        problem_of(
            admin.create_group(&group("engineering")).await,
            409,
            "duplicate_name",
        );
        assert_eq!(
            admin.group("ENGINEERING").await.unwrap().name,
            "Engineering"
        );
        // A look-alike: a zero for an `O`.
        admin.create_group(&group("Ops")).await.unwrap();
        let lookalike = problem_of(
            admin.create_group(&group("0ps")).await,
            409,
            "confusable_name",
        );
        assert!(lookalike.detail.contains("`Ops`"), "{}", lookalike.detail);

        let policy = |name: &str, role: &str| PolicyInput {
            name: name.into(),
            description: String::new(),
            rules: vec![RuleInput {
                principal: PrincipalInput {
                    kind: PrincipalKind::Group,
                    id: "engineering".into(),
                },
                roles: vec![role.into()],
                expires_at: None,
            }],
        };
        // A role by its display name, in any case, is stored by id.
        let written = admin
            .create_policy(&policy("eng", "inference admin"))
            .await
            .unwrap()
            .item
            .unwrap();
        assert_eq!(written.rules[0].roles, vec!["inference-admin".to_string()]);
        // Invisible characters, alone or beside a real name, are refused.
        for name in ["\u{200b}\u{200b}", "admin\u{200b}", "eng\u{202e}"] {
            let problem = problem_of(
                admin.create_policy(&policy(name, "cks-viewer")).await,
                422,
                "invalid_field",
            );
            assert_eq!(problem.field.as_deref(), Some("name"));
        }
        // Cyrillic `а` for Latin `a`, beside the default `admin` policy.
        let cyrillic = problem_of(
            admin
                .create_policy(&policy("\u{430}dmin", "cks-viewer"))
                .await,
            409,
            "confusable_name",
        );
        assert!(cyrillic.detail.contains("`admin`"), "{}", cyrillic.detail);
        // One name however its accent was typed.
        let composed = admin
            .create_policy(&policy("Caf\u{e9}", "cks-viewer"))
            .await
            .unwrap();
        assert_eq!(composed.item.unwrap().name, "Caf\u{e9}");
        problem_of(
            admin
                .create_policy(&policy("Cafe\u{301}", "cks-viewer"))
                .await,
            409,
            "duplicate_name",
        );
    })
    .await;
}
