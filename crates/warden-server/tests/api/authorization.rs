//! Every endpoint is authorized by the engine with one catalog action: refused without it
//! (403 naming it, nothing written, nothing revealed), allowed with the smallest role that
//! holds it. The table below covers every operation of the OpenAPI document.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};
use warden_client::model::{CheckQuestion, CheckRequest};
use warden_core::command::{
    ClusterCommand, GroupCommand, NamespaceCommand, NewToken, PolicyCommand, ScopeInput,
    ServiceAccountCommand, TokenCommand, TokenLifetime,
};
use warden_core::Catalog;

use crate::common::{assert_problem, problem_of, Server};
use warden_server::service::new_personal_secret;

/// (method, path, body, the action the endpoint needs)
fn endpoints(
    other: &str,
    group: &str,
    policy: &str,
    ns: &str,
    cluster: &str,
    invitation: &str,
) -> Vec<(Method, String, Option<Value>, &'static str)> {
    let rule = json!([{"principal": {"kind": "user", "id": other}, "roles": ["cks-viewer"]}]);
    vec![
        (
            Method::GET,
            "/v1/organization".into(),
            None,
            "iam.organizations.get",
        ),
        (
            Method::PATCH,
            "/v1/organization".into(),
            Some(json!({"name": "Acme Corp"})),
            "iam.organizations.update",
        ),
        (Method::GET, "/v1/users".into(), None, "iam.users.list"),
        (
            Method::GET,
            format!("/v1/users/{other}"),
            None,
            "iam.users.get",
        ),
        (
            Method::PATCH,
            format!("/v1/users/{other}"),
            Some(json!({"first_name": "O"})),
            "iam.users.update",
        ),
        (
            Method::POST,
            format!("/v1/users/{other}/deactivate"),
            None,
            "iam.users.deactivate",
        ),
        (
            Method::POST,
            format!("/v1/users/{other}/reactivate"),
            None,
            "iam.users.reactivate",
        ),
        (
            Method::GET,
            format!("/v1/users/{other}/permissions"),
            None,
            "iam.permissions.list",
        ),
        (Method::GET, "/v1/groups".into(), None, "iam.groups.list"),
        (
            Method::POST,
            "/v1/groups".into(),
            Some(json!({"name": "new-group"})),
            "iam.groups.create",
        ),
        (
            Method::GET,
            format!("/v1/groups/{group}"),
            None,
            "iam.groups.get",
        ),
        (
            Method::PATCH,
            format!("/v1/groups/{group}"),
            Some(json!({"description": "d"})),
            "iam.groups.update",
        ),
        (
            Method::GET,
            format!("/v1/groups/{group}/members"),
            None,
            "iam.memberships.list",
        ),
        (
            Method::PUT,
            format!("/v1/groups/{group}/members/{other}"),
            None,
            "iam.memberships.create",
        ),
        (
            Method::DELETE,
            format!("/v1/groups/{group}/members/{other}"),
            None,
            "iam.memberships.delete",
        ),
        (
            Method::DELETE,
            format!("/v1/groups/{group}"),
            None,
            "iam.groups.delete",
        ),
        (
            Method::GET,
            "/v1/policies".into(),
            None,
            "iam.policies.list",
        ),
        (
            Method::POST,
            "/v1/policies".into(),
            Some(json!({"name": "new-policy", "rules": rule})),
            "iam.policies.create",
        ),
        (
            Method::GET,
            format!("/v1/policies/{policy}"),
            None,
            "iam.policies.get",
        ),
        (
            Method::PUT,
            format!("/v1/policies/{policy}"),
            Some(json!({"name": policy, "rules": rule})),
            "iam.policies.update",
        ),
        (
            Method::DELETE,
            format!("/v1/policies/{policy}"),
            None,
            "iam.policies.delete",
        ),
        // Only default policies reset: the `metrics` one stands for `{policy}`.
        (
            Method::POST,
            "/v1/policies/metrics/reset".into(),
            None,
            "iam.policies.update",
        ),
        (Method::GET, "/v1/roles".into(), None, "iam.roles.list"),
        (
            Method::GET,
            "/v1/roles/iam-admin".into(),
            None,
            "iam.roles.get",
        ),
        (Method::GET, "/v1/catalog".into(), None, "iam.roles.list"),
        (
            Method::GET,
            "/v1/namespaces".into(),
            None,
            "iam.namespaces.list",
        ),
        (
            Method::POST,
            "/v1/namespaces".into(),
            Some(json!({"name": "new-ns", "access": [{"user": other}]})),
            "iam.namespaces.create",
        ),
        (
            Method::GET,
            format!("/v1/namespaces/{ns}"),
            None,
            "iam.namespaces.get",
        ),
        (
            Method::GET,
            format!("/v1/namespaces/{ns}/access"),
            None,
            "iam.namespace_access.list",
        ),
        (
            Method::PUT,
            format!("/v1/namespaces/{ns}/access/{other}"),
            Some(json!({"permissions": ["r:full"]})),
            "iam.namespace_access.update",
        ),
        (
            Method::DELETE,
            format!("/v1/namespaces/{ns}"),
            None,
            "iam.namespaces.delete",
        ),
        (
            Method::GET,
            "/v1/clusters".into(),
            None,
            "cks.clusters.list",
        ),
        (
            Method::POST,
            "/v1/clusters".into(),
            Some(json!({"name": "new-cluster", "api_server_url": "https://k8s.example.com"})),
            "cks.clusters.create",
        ),
        (
            Method::GET,
            format!("/v1/clusters/{cluster}"),
            None,
            "cks.clusters.get",
        ),
        (
            Method::PATCH,
            format!("/v1/clusters/{cluster}"),
            Some(json!({"api_server_url": "https://k9s.example.com"})),
            "cks.clusters.update",
        ),
        (
            Method::GET,
            format!("/v1/clusters/{cluster}/rbac"),
            None,
            "iam.namespace_access.list",
        ),
        (
            Method::POST,
            format!("/v1/clusters/{cluster}/webhook-credential"),
            Some(json!({})),
            "cks.clusters.update",
        ),
        (
            Method::DELETE,
            format!("/v1/clusters/{cluster}"),
            None,
            "cks.clusters.delete",
        ),
        // `{account}`: the round's service account, filled in at call time.
        (
            Method::GET,
            "/v1/service-accounts".into(),
            None,
            "iam.service_accounts.list",
        ),
        (
            Method::POST,
            "/v1/service-accounts".into(),
            Some(json!({"name": "new-account"})),
            "iam.service_accounts.create",
        ),
        (
            Method::GET,
            "/v1/service-accounts/{account}".into(),
            None,
            "iam.service_accounts.get",
        ),
        (
            Method::PATCH,
            "/v1/service-accounts/{account}".into(),
            Some(json!({"active": false})),
            "iam.service_accounts.update",
        ),
        (
            Method::DELETE,
            "/v1/service-accounts/{account}".into(),
            None,
            "iam.service_accounts.delete",
        ),
        (
            Method::GET,
            "/v1/tokens".into(),
            None,
            "tokens.personal.list",
        ),
        (
            Method::POST,
            "/v1/tokens".into(),
            Some(json!({"name": "ci"})),
            "tokens.personal.create",
        ),
        // `{own_token}`: the id of the caller's own token, filled in at call time.
        (
            Method::GET,
            "/v1/tokens/{own_token}".into(),
            None,
            "tokens.personal.get",
        ),
        (
            Method::PATCH,
            "/v1/tokens/{own_token}".into(),
            Some(json!({"note": "renamed"})),
            "tokens.personal.update",
        ),
        (
            Method::DELETE,
            "/v1/tokens/{own_token}".into(),
            None,
            "tokens.personal.delete",
        ),
        (
            Method::GET,
            "/v1/org-tokens".into(),
            None,
            "iam.org_tokens.list",
        ),
        (
            Method::POST,
            "/v1/org-tokens".into(),
            Some(json!({"note": "ci"})),
            "iam.org_tokens.create",
        ),
        // `{org_token}`: a fresh org token's id, made at call time.
        (
            Method::GET,
            "/v1/org-tokens/{org_token}".into(),
            None,
            "iam.org_tokens.get",
        ),
        (
            Method::PATCH,
            "/v1/org-tokens/{org_token}".into(),
            Some(json!({"namespaces": []})),
            "iam.org_tokens.update",
        ),
        (
            Method::DELETE,
            "/v1/org-tokens/{org_token}".into(),
            None,
            "iam.org_tokens.delete",
        ),
        (
            Method::GET,
            format!("/v1/users/{other}/org-tokens"),
            None,
            "iam.org_tokens.list",
        ),
        (
            Method::DELETE,
            format!("/v1/users/{other}/org-tokens"),
            None,
            "iam.org_tokens.delete",
        ),
        (
            Method::POST,
            "/v1/authz/check".into(),
            Some(json!({"checks": [{"principal": other, "action": "cks.clusters.list"}]})),
            "iam.permissions.list",
        ),
        (
            Method::GET,
            "/v1/authz/principals?action=cks.clusters.list".into(),
            None,
            "iam.permissions.list",
        ),
        (
            Method::GET,
            "/v1/audit-events".into(),
            None,
            "iam.audit_events.list",
        ),
        (
            Method::GET,
            "/v1/audit-events/verify".into(),
            None,
            "iam.audit_events.list",
        ),
        (
            Method::POST,
            "/v1/invitations".into(),
            Some(json!({"email": "invited@example.com"})),
            "iam.users.invite",
        ),
        (
            Method::GET,
            "/v1/invitations".into(),
            None,
            "iam.invitations.list",
        ),
        (
            Method::GET,
            format!("/v1/invitations/{invitation}"),
            None,
            "iam.invitations.get",
        ),
        (
            Method::PATCH,
            format!("/v1/invitations/{invitation}"),
            Some(json!({"namespaces": []})),
            "iam.invitations.update",
        ),
        (
            Method::GET,
            format!("/v1/invitations/{invitation}/link"),
            None,
            "iam.users.invite",
        ),
        (
            Method::POST,
            format!("/v1/invitations/{invitation}/resend"),
            None,
            "iam.invitations.resend",
        ),
        (
            Method::DELETE,
            format!("/v1/invitations/{invitation}"),
            None,
            "iam.invitations.revoke",
        ),
    ]
}

/// A fresh org token's id, created by the system.
async fn org_token(s: &Server) -> String {
    s.system(TokenCommand::CreateOrg {
        token: NewToken {
            name: String::new(),
            note: String::new(),
            lifetime: TokenLifetime::OneHour,
            secret_hash: new_personal_secret().hash_hex,
            display_prefix: "wdn_org_test".into(),
            scope: ScopeInput::default(),
        },
    })
    .await
}

/// The id of the token a caller uses (whoami needs no action).
async fn own_token(s: &Server, token: &str) -> String {
    s.client(token).whoami().await.unwrap().token_id.unwrap()
}

/// Privileged actions (spec sections 1 and 10): no catalog role holds them, so no rule can
/// grant them today; a privileged access request will. Callers in an organization are
/// refused them (round 0), and nobody can be given them (round 1 skips them).
const PRIVILEGED: [&str; 3] = [
    "iam.service_accounts.create",
    "iam.service_accounts.update",
    "iam.service_accounts.delete",
];

/// The smallest catalog role that holds `action`.
fn smallest_role(catalog: &Catalog, action: &str) -> String {
    catalog
        .roles()
        .iter()
        .filter(|r| r.actions.iter().any(|a| a == action))
        .min_by_key(|r| r.actions.len())
        .unwrap()
        .id
        .clone()
}

#[tokio::test]
async fn every_endpoint_refuses_a_caller_without_its_action_and_allows_one_with_it() {
    let s = Server::start().await;
    let catalog = Catalog::builtin().unwrap();
    let (other, _) = s.user("other@acme.test").await;
    let (_, nobody_token) = s.user("nobody@acme.test").await;
    for action in PRIVILEGED {
        assert!(
            catalog
                .roles()
                .iter()
                .all(|r| r.actions.iter().all(|a| a != action)),
            "{action} is privileged, yet a role holds it"
        );
    }
    let mut n = 0;
    for round in 0..2 {
        // Fresh fixtures each round (some endpoints delete them).
        let suffix = format!("r{round}");
        s.system(GroupCommand::Create {
            name: format!("g-{suffix}"),
            description: String::new(),
        })
        .await;
        s.system(PolicyCommand::Create {
            name: format!("p-{suffix}"),
            description: String::new(),
            rules: vec![],
        })
        .await;
        s.system(NamespaceCommand::Create {
            name: format!("ns-{suffix}"),
            access: vec![],
        })
        .await;
        s.system(ClusterCommand::Create {
            name: format!("c-{suffix}"),
            api_server_url: "https://k8s.example.com".into(),
            ca_bundle: String::new(),
        })
        .await;
        let account = format!("sa-{suffix}");
        s.system(ServiceAccountCommand::Create {
            name: account.clone(),
        })
        .await;
        let invited = format!("inv-{suffix}@example.com");
        s.service
            .invite(
                &s.org,
                &warden_core::Actor::System,
                None,
                invited.clone(),
                warden_core::command::Offer::default(),
            )
            .await
            .unwrap();
        let list = endpoints(
            other.as_str(),
            &format!("g-{suffix}"),
            &format!("p-{suffix}"),
            &format!("ns-{suffix}"),
            &format!("c-{suffix}"),
            &invited,
        );
        for (method, path, body, action) in list {
            let path = path.replace("{account}", &account);
            if round == 0 {
                // Without the action: 403 naming it, and nothing changes.
                let path = path.replace("{own_token}", &own_token(&s, &nobody_token).await);
                let path = if path.contains("{org_token}") {
                    path.replace("{org_token}", &org_token(&s).await)
                } else {
                    path
                };
                let before = s.revision();
                let (status, problem, _) = s
                    .raw(method.clone(), &path, Some(&nobody_token), body.clone())
                    .await;
                assert_problem(status, &problem, 403, "forbidden");
                assert_eq!(problem["action"], action, "{method} {path}");
                assert_eq!(s.revision(), before, "{method} {path} changed state");
            } else if PRIVILEGED.contains(&action) {
                // No role holds it to grant: an access request will (spec section 10).
                continue;
            } else {
                // With exactly a role holding the action: through.
                let email = format!("holder{n}@acme.test");
                n += 1;
                let (holder, token) = s.user(&email).await;
                s.grant(&holder, &[&smallest_role(&catalog, action)]).await;
                let path = path.replace("{own_token}", &own_token(&s, &token).await);
                let path = if path.contains("{org_token}") {
                    path.replace("{org_token}", &org_token(&s).await)
                } else {
                    path
                };
                let (status, response, _) = s
                    .raw(method.clone(), &path, Some(&token), body.clone())
                    .await;
                assert!(
                    (200..300).contains(&status),
                    "{method} {path} with {action}: {status} {response}"
                );
            }
        }
    }
}

/// The operations of the OpenAPI document, as `(method, path template)`.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

/// The table's paths as templates of the OpenAPI document.
fn templates() -> BTreeSet<(String, String, &'static str)> {
    endpoints(
        "{user}",
        "{group}",
        "{policy}",
        "{namespace}",
        "{cluster}",
        "{invitation}",
    )
    .into_iter()
    .map(|(method, path, _, action)| {
        let path = path.split('?').next().unwrap().to_string();
        let path = path
            .replace("/v1/roles/iam-admin", "/v1/roles/{role}")
            .replace("/v1/policies/metrics/reset", "/v1/policies/{policy}/reset")
            .replace("{own_token}", "{token}")
            .replace("{org_token}", "{token_id}");
        (method.as_str().to_string(), path, action)
    })
    .collect()
}

#[tokio::test]
async fn the_table_and_the_openapi_document_name_the_same_operations_and_actions() {
    let s = Server::start().await;
    let doc = s.admin_client.openapi().await.unwrap();
    let documented = documented_operations(&doc);
    let tested: BTreeSet<(String, String)> =
        templates().into_iter().map(|(m, p, _)| (m, p)).collect();
    // Operations that need no action: health, readiness and metrics (no tenant data), this
    // document, who am I.
    let open: BTreeSet<(String, String)> = [
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/v1/openapi.json"),
        ("GET", "/v1/whoami"),
        // The link's secret is the credential (invitations.rs).
        ("POST", "/v1/invitations/inspect"),
        ("POST", "/v1/invitations/accept"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    // Platform operations take an operator's token, not an action (platform.rs); console
    // sessions and password resets are a signed-in user's own (sessions.rs).
    let missing: Vec<_> = documented
        .difference(&tested)
        .filter(|op| {
            !open.contains(op)
                && !op.1.starts_with("/v1/platform/")
                && !op.1.starts_with("/v1/sessions")
                && !op.1.starts_with("/v1/password-resets")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "operations missing from the table: {missing:?}"
    );
    let undocumented: Vec<_> = tested.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "operations missing from the document: {undocumented:?}"
    );
    // Each operation's description names the action the table says it needs.
    for (method, path, action) in templates() {
        let description = doc["paths"][&path][method.to_lowercase()]["description"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            description.contains(&format!("`{action}`")),
            "{method} {path}: the document does not name `{action}`: {description}"
        );
    }
}

#[tokio::test]
async fn a_user_may_ask_about_themselves_without_iam_rights() {
    let s = Server::start().await;
    let (u, token) = s.user("self@acme.test").await;
    assert!(!s.check(&token, &u, "cks.clusters.list").await);
    let about_root = CheckRequest {
        checks: vec![CheckQuestion {
            principal: s.admin.to_string(),
            action: "cks.clusters.list".into(),
            namespace: None,
            explain: false,
        }],
        at_least_revision: None,
    };
    problem_of(s.client(&token).check(&about_root).await, 403, "forbidden");
    let me = s.client(&token).whoami().await.unwrap();
    assert_eq!(me.user.unwrap().email, "self@acme.test");
    assert_eq!(me.principal.id, u.to_string());
    assert!(me.actions.is_empty());
}

#[tokio::test]
async fn names_are_not_revealed_to_callers_without_the_action_and_paths_are_checked() {
    let s = Server::start().await;
    let (_, nobody) = s.user("nobody@acme.test").await;
    // The same 403 for a user who exists and one who does not: no enumeration.
    for key in ["root@acme.test", "ghost@acme.test"] {
        let (status, problem, _) = s
            .raw(
                Method::PATCH,
                &format!("/v1/users/{key}"),
                Some(&nobody),
                Some(json!({"first_name": "x"})),
            )
            .await;
        assert_problem(status, &problem, 403, "forbidden");
    }
    for path in ["/v1/groups/admin", "/v1/groups/ghost"] {
        let (status, problem, _) = s.raw(Method::DELETE, path, Some(&nobody), None).await;
        assert_problem(status, &problem, 403, "forbidden");
    }
    // A path that is not valid UTF-8 after decoding: a problem, not plain text.
    let (status, problem, _) = s
        .raw(Method::GET, "/v1/users/%FF%FE", Some(&s.admin_token), None)
        .await;
    assert_problem(status, &problem, 422, "invalid_field");
}
