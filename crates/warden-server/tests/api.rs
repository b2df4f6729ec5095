//! The HTTP API end to end: a real server on a loopback port over a real store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use warden_core::command::{FirstUser, TokenLifetime};
use warden_core::{Actor, Catalog, Command, OrgId, UserId};
use warden_server::{Settings, Warden};
use warden_store::Store;

struct Server {
    base: String,
    warden: Arc<Warden>,
    org: OrgId,
    admin: UserId,
    admin_token: String,
    http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

fn settings() -> Settings {
    Settings {
        revision_wait: Duration::from_millis(300),
        sync_interval: Duration::from_millis(200),
    }
}

async fn start_on(store: Store, dir: Option<tempfile::TempDir>) -> Server {
    let warden = Warden::open(store, Catalog::builtin().unwrap(), settings())
        .await
        .unwrap();
    let (view, admin_token, _) = warden
        .create_organization(
            "Acme",
            FirstUser {
                email: "root@acme.test".into(),
                first_name: "Root".into(),
                last_name: "Admin".into(),
            },
            TokenLifetime::OneHour,
        )
        .await
        .unwrap();
    let org = view.state().org.id.clone();
    let admin = view.state().org.default_admin.clone();
    serve(warden, org, admin, admin_token, dir).await
}

async fn serve(
    warden: Arc<Warden>,
    org: OrgId,
    admin: UserId,
    admin_token: String,
    dir: Option<tempfile::TempDir>,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = warden_server::app(warden.clone());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server {
        base,
        warden,
        org,
        admin,
        admin_token,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    start_on(store, Some(dir)).await
}

impl Server {
    /// A new active user (created as a platform operation) with a personal token.
    async fn user(&self, email: &str) -> (UserId, String) {
        let (_, id) = self
            .warden
            .execute(
                &self.org,
                &Actor::System,
                Command::CreateUser {
                    email: email.into(),
                    first_name: String::new(),
                    last_name: String::new(),
                },
            )
            .await
            .unwrap();
        let user = UserId(id);
        // Creating a token needs tokens.personal.create: grant it for the moment.
        let policy = format!("bootstrap-{email}");
        self.system(Command::CreatePolicy {
            name: policy.clone(),
            description: String::new(),
            rules: vec![warden_core::command::RuleInput {
                principal: warden_core::command::PrincipalInput {
                    kind: warden_core::command::PrincipalKind::User,
                    id: user.0.clone(),
                },
                roles: vec!["access-token-admin".into()],
            }],
        })
        .await;
        let (_, secret, _) = self
            .warden
            .create_personal_token(&self.org, &user, "test", "", TokenLifetime::OneHour)
            .await
            .unwrap();
        let view = self.warden.view(&self.org).unwrap();
        let policy_id = view
            .state()
            .policies
            .values()
            .find(|p| p.name == policy)
            .unwrap()
            .id
            .clone();
        self.system(Command::DeletePolicy { policy: policy_id })
            .await;
        (user, secret)
    }

    async fn system(&self, command: Command) -> String {
        self.warden
            .execute(&self.org, &Actor::System, command)
            .await
            .unwrap()
            .1
    }

    async fn grant(&self, user: &UserId, roles: &[&str]) -> String {
        self.system(Command::CreatePolicy {
            name: format!("grant-{}-{}", user, roles.join("-")),
            description: String::new(),
            rules: vec![warden_core::command::RuleInput {
                principal: warden_core::command::PrincipalInput {
                    kind: warden_core::command::PrincipalKind::User,
                    id: user.0.clone(),
                },
                roles: roles.iter().map(|r| r.to_string()).collect(),
            }],
        })
        .await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value, headers)
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let (s, v, _) = self.call(Method::GET, path, Some(token), None).await;
        (s, v)
    }

    async fn send(&self, method: Method, path: &str, token: &str, body: Value) -> (u16, Value) {
        let (s, v, _) = self.call(method, path, Some(token), Some(body)).await;
        (s, v)
    }

    async fn check(&self, token: &str, principal: &UserId, action: &str) -> bool {
        let (status, body) = self
            .send(
                Method::POST,
                "/v1/authz/check",
                token,
                json!({"checks": [{"principal": principal.0, "action": action}]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["results"][0]["allowed"].as_bool().unwrap()
    }

    fn revision(&self) -> u64 {
        self.warden.view(&self.org).unwrap().revision()
    }
}

fn assert_problem(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], want_status);
    assert_eq!(body["type"], format!("urn:warden:problem:{code}"));
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(body["request_id"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let s = start().await;
    let (status, body, headers) = s.call(Method::GET, "/v1/groups", None, None).await;
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
        let (status, body, _) = s.call(Method::GET, "/v1/groups", Some(bad), None).await;
        assert_problem(status, &body, 401, "unauthenticated");
    }
    // Well formed, valid checksum, but never issued.
    let forged = warden_core::token::encode_secret(
        warden_core::token::SecretKind::Personal,
        &[9u8; warden_core::token::RANDOM_CHARS],
    );
    let (status, body, _) = s.call(Method::GET, "/v1/groups", Some(&forged), None).await;
    assert_problem(status, &body, 401, "unauthenticated");
    let (status, _) = s.get("/v1/groups", &s.admin_token).await;
    assert_eq!(status, 200);
}

/// (method, path, body, the action the endpoint needs)
fn endpoints(
    other: &str,
    group: &str,
    policy: &str,
    ns: &str,
    cluster: &str,
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
            Method::DELETE,
            format!("/v1/clusters/{cluster}"),
            None,
            "cks.clusters.delete",
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
            Method::DELETE,
            "/v1/tokens/{own_token}".into(),
            None,
            "tokens.personal.delete",
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
    ]
}

/// The id of the token a caller uses (whoami needs no action).
async fn own_token(s: &Server, token: &str) -> String {
    let (status, me) = s.get("/v1/whoami", token).await;
    assert_eq!(status, 200, "{me}");
    me["token_id"].as_str().unwrap().to_string()
}

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
    let s = start().await;
    let catalog = Catalog::builtin().unwrap();
    let (other, _) = s.user("other@acme.test").await;
    let (nobody, nobody_token) = s.user("nobody@acme.test").await;
    let _ = nobody;
    let mut n = 0;
    for round in 0..2 {
        // Fresh fixtures each round (some endpoints delete them).
        let suffix = format!("r{round}");
        s.system(Command::CreateGroup {
            name: format!("g-{suffix}"),
            description: String::new(),
        })
        .await;
        s.system(Command::CreatePolicy {
            name: format!("p-{suffix}"),
            description: String::new(),
            rules: vec![],
        })
        .await;
        s.system(Command::CreateNamespace {
            name: format!("ns-{suffix}"),
            access: vec![],
        })
        .await;
        s.system(Command::CreateCluster {
            name: format!("c-{suffix}"),
            api_server_url: "https://k8s.example.com".into(),
            ca_bundle: String::new(),
        })
        .await;
        let list = endpoints(
            other.as_str(),
            &format!("g-{suffix}"),
            &format!("p-{suffix}"),
            &format!("ns-{suffix}"),
            &format!("c-{suffix}"),
        );
        for (method, path, body, action) in list {
            if round == 0 {
                // Without the action: 403 naming it, and nothing changes.
                let before = s.revision();
                let path = path.replace("{own_token}", &own_token(&s, &nobody_token).await);
                let (status, problem, _) = s
                    .call(method.clone(), &path, Some(&nobody_token), body.clone())
                    .await;
                assert_problem(status, &problem, 403, "forbidden");
                assert_eq!(problem["action"], action, "{method} {path}");
                assert_eq!(s.revision(), before, "{method} {path} changed state");
            } else {
                // With exactly a role holding the action: through.
                let email = format!("holder{n}@acme.test");
                n += 1;
                let (holder, token) = s.user(&email).await;
                s.grant(&holder, &[&smallest_role(&catalog, action)]).await;
                let path = path.replace("{own_token}", &own_token(&s, &token).await);
                let (status, response, _) = s
                    .call(method.clone(), &path, Some(&token), body.clone())
                    .await;
                assert!(
                    (200..300).contains(&status),
                    "{method} {path} with {action}: {status} {response}"
                );
            }
        }
    }
}

#[tokio::test]
async fn decisions_follow_writes_immediately_and_explain_names_the_grant() {
    let s = start().await;
    let admin = s.admin_token.clone();
    let (u, _) = s.user("u@acme.test").await;
    assert!(!s.check(&admin, &u, "inference.deployments.create").await);

    let (status, group) = s
        .send(
            Method::POST,
            "/v1/groups",
            &admin,
            json!({"name": "ml", "description": "ML"}),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["item"]["id"].as_str().unwrap().to_string();
    let (status, policy) = s
        .send(
            Method::POST,
            "/v1/policies",
            &admin,
            json!({"name": "inference", "rules": [{"principal": {"kind": "group", "id": "ml"}, "roles": ["inference-admin"]}]}),
        )
        .await;
    assert_eq!(status, 201, "{policy}");
    let policy_id = policy["item"]["id"].as_str().unwrap().to_string();
    assert!(!s.check(&admin, &u, "inference.deployments.create").await);

    let (status, added, headers) = s
        .call(
            Method::PUT,
            &format!("/v1/groups/ml/members/{u}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{added}");
    let revision = added["revision"].as_u64().unwrap();
    assert_eq!(
        headers["warden-revision"].to_str().unwrap(),
        revision.to_string()
    );
    let (status, answer) = s
        .send(
            Method::POST,
            "/v1/authz/check",
            &admin,
            json!({"at_least_revision": revision, "checks": [
                {"principal": u.0, "action": "inference.deployments.create", "explain": true},
                {"principal": u.0, "action": "billing.invoices.list", "explain": true},
                {"principal": u.0, "action": "inference.gateways.list"},
                {"principal": "usr_nobody", "action": "inference.gateways.list"},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["revision"].as_u64().unwrap() >= revision);
    let first = &answer["results"][0];
    assert_eq!(first["allowed"], true);
    let grant = &first["granted_by"][0];
    assert_eq!(grant["policy_id"], policy_id);
    assert_eq!(grant["policy_name"], "inference");
    assert_eq!(grant["rule_index"], 0);
    assert_eq!(grant["via_group"], "ml");
    assert_eq!(grant["via_group_id"], group_id);
    assert_eq!(grant["role_id"], "inference-admin");
    assert_eq!(answer["results"][1]["allowed"], false);
    assert_eq!(answer["results"][1]["reason"], "no_matching_rule");
    assert_eq!(answer["results"][1]["granted_by"], json!([]));
    assert_eq!(answer["results"][2]["allowed"], true);
    assert_eq!(answer["results"][3]["allowed"], false);
    assert_eq!(answer["results"][3]["reason"], "unknown_principal");

    // The user's permissions say where each action came from.
    let (status, perms) = s.get(&format!("/v1/users/{u}/permissions"), &admin).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = perms["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"inference.gateways.delete"));
    assert!(!actions.contains(&"cks.clusters.list"));

    // Removing the membership revokes at once; so does deleting the policy.
    let (status, _) = s
        .send(
            Method::DELETE,
            &format!("/v1/groups/{group_id}/members/u@acme.test"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(!s.check(&admin, &u, "inference.deployments.create").await);
    s.call(
        Method::PUT,
        &format!("/v1/groups/ml/members/{u}"),
        Some(&admin),
        None,
    )
    .await;
    assert!(s.check(&admin, &u, "inference.deployments.create").await);
    let (status, _) = s
        .send(
            Method::DELETE,
            &format!("/v1/policies/{policy_id}"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(!s.check(&admin, &u, "inference.deployments.create").await);

    // A revision from the future: 409 after a short wait.
    let (status, problem) = s
        .send(
            Method::POST,
            "/v1/authz/check",
            &admin,
            json!({"at_least_revision": revision + 1000, "checks": [{"principal": u.0, "action": "iam.users.list"}]}),
        )
        .await;
    assert_problem(status, &problem, 409, "revision_not_reached");
    // Unknown action: 422 naming the question.
    let (status, problem) = s
        .send(
            Method::POST,
            "/v1/authz/check",
            &admin,
            json!({"checks": [{"principal": u.0, "action": "iam.users.list"}, {"principal": u.0, "action": "iam.users.fly"}]}),
        )
        .await;
    assert_problem(status, &problem, 422, "unknown_action");
    assert!(problem["detail"].as_str().unwrap().contains("checks[1]"));
    // Aliases from the seeds are accepted.
    assert!(s.check(&admin, &s.admin, "write_org_users").await);
}

#[tokio::test]
async fn a_user_may_ask_about_themselves_without_iam_rights() {
    let s = start().await;
    let (u, token) = s.user("self@acme.test").await;
    assert!(!s.check(&token, &u, "cks.clusters.list").await);
    let (status, problem) = s
        .send(
            Method::POST,
            "/v1/authz/check",
            &token,
            json!({"checks": [{"principal": s.admin.0, "action": "cks.clusters.list"}]}),
        )
        .await;
    assert_problem(status, &problem, 403, "forbidden");
    let (status, me) = s.get("/v1/whoami", &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["user"]["email"], "self@acme.test");
    assert_eq!(me["actions"], json!([]));
}

#[tokio::test]
async fn bad_input_gets_problem_details_and_changes_nothing() {
    let s = start().await;
    let admin = s.admin_token.clone();
    let before = s.revision();
    let groups_before = s.get("/v1/groups", &admin).await.1["items"]
        .as_array()
        .unwrap()
        .len();

    // Malformed JSON.
    let res = s
        .http
        .post(format!("{}/v1/groups", s.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_problem(400, &body, 400, "malformed_json");
    // Not JSON at all.
    let res = s
        .http
        .post(format!("{}/v1/groups", s.base))
        .bearer_auth(&admin)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    // Wrong shape.
    let (status, body) = s
        .send(Method::POST, "/v1/groups", &admin, json!({"name": 5}))
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
        (
            json!({"name": "p3", "rules": [{"principal": {"kind": "robot", "id": "x"}, "roles": ["cks-viewer"]}]}),
            "/v1/policies",
            422,
            "invalid_field",
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
        (
            json!({"name": "t", "expires_in": "forever"}),
            "/v1/tokens",
            422,
            "invalid_field",
        ),
    ];
    for (body, path, status, code) in cases {
        let (got, problem) = s.send(Method::POST, path, &admin, body.clone()).await;
        assert_problem(got, &problem, status, code);
    }
    // A body over the limit.
    let huge = json!({"name": "big", "description": "z".repeat(2 * 1024 * 1024)});
    let (status, problem) = s.send(Method::POST, "/v1/groups", &admin, huge).await;
    assert_problem(status, &problem, 413, "payload_too_large");
    // Unknown things.
    let (status, problem) = s.get("/v1/groups/no-such-group", &admin).await;
    assert_problem(status, &problem, 404, "not_found");
    let (status, problem) = s.get("/v1/nothing-here", &admin).await;
    assert_problem(status, &problem, 404, "no_such_endpoint");
    let (status, problem, _) = s
        .call(Method::DELETE, "/v1/roles", Some(&admin), None)
        .await;
    assert_problem(status, &problem, 405, "method_not_allowed");
    let (status, problem) = s.get("/v1/users?status=sleeping", &admin).await;
    assert_problem(status, &problem, 422, "invalid_field");

    // Nothing was written by any of it.
    assert_eq!(s.revision(), before);
    let groups_after = s.get("/v1/groups", &admin).await.1["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(groups_before, groups_after);
}

#[tokio::test]
async fn organization_invariants_hold_over_http() {
    let s = start().await;
    let admin = s.admin_token.clone();
    // The only admin may not leave `admin`: the organization would have no admin.
    let (status, problem) = s
        .send(
            Method::DELETE,
            &format!("/v1/groups/admin/members/{}", s.admin),
            &admin,
            json!({}),
        )
        .await;
    assert_problem(status, &problem, 409, "last_admin");
    // A second admin may not demote or deactivate the default admin.
    let (second, second_token) = s.user("second@acme.test").await;
    let (status, _) = s
        .send(
            Method::PUT,
            &format!("/v1/groups/admin/members/{second}"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, problem) = s
        .send(
            Method::POST,
            &format!("/v1/users/{}/deactivate", s.admin),
            &second_token,
            json!({}),
        )
        .await;
    assert_problem(status, &problem, 403, "default_admin_protected");
    // Nor leave `admin` themselves: another admin must change their privileges.
    let (status, problem) = s
        .send(
            Method::DELETE,
            &format!("/v1/groups/admin/members/{second}"),
            &second_token,
            json!({}),
        )
        .await;
    assert_problem(status, &problem, 403, "self_privilege_change");
    // The default admin may demote the second admin.
    let (status, _) = s
        .send(
            Method::DELETE,
            &format!("/v1/groups/admin/members/{second}"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    // Default policies: cannot be deleted; roles fixed.
    let (status, problem) = s
        .send(Method::DELETE, "/v1/policies/admin", &admin, json!({}))
        .await;
    assert_problem(status, &problem, 409, "default_policy_protected");
    let (status, problem) = s
        .send(Method::PUT, "/v1/policies/metrics", &admin, json!({"name": "metrics", "rules": [{"principal": {"kind": "group", "id": "metrics"}, "roles": ["iam-admin"]}]}))
        .await;
    assert_problem(status, &problem, 422, "default_policy_roles_fixed");
    let (status, problem) = s
        .send(Method::DELETE, "/v1/groups/read", &admin, json!({}))
        .await;
    assert_problem(status, &problem, 409, "legacy_group_protected");
    // Reserved namespace keys cannot be granted by an org admin.
    s.send(
        Method::POST,
        "/v1/namespaces",
        &admin,
        json!({"name": "team-a"}),
    )
    .await;
    let (status, problem) = s
        .send(
            Method::PUT,
            &format!("/v1/namespaces/team-a/access/{second}"),
            &admin,
            json!({"permissions": ["w:pods"]}),
        )
        .await;
    assert_problem(status, &problem, 403, "reserved_namespace_permission");
}

#[tokio::test]
async fn deactivation_stops_tokens_at_once_and_reactivation_restores_them() {
    let s = start().await;
    let admin = s.admin_token.clone();
    let (u, token) = s.user("leaver@acme.test").await;
    assert_eq!(s.get("/v1/whoami", &token).await.0, 200);
    let (status, body) = s
        .send(
            Method::POST,
            &format!("/v1/users/{u}/deactivate"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["item"]["status"], "deactivated");
    let (status, problem) = s.get("/v1/whoami", &token).await;
    assert_problem(status, &problem, 401, "unauthenticated");
    s.send(
        Method::POST,
        &format!("/v1/users/{u}/reactivate"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(s.get("/v1/whoami", &token).await.0, 200);
}

#[tokio::test]
async fn personal_tokens_are_shown_once_listed_and_revocable() {
    let s = start().await;
    let admin = s.admin_token.clone();
    let (status, created, headers) = s
        .call(
            Method::POST,
            "/v1/tokens",
            Some(&admin),
            Some(json!({"name": "ci", "expires_in": "8h"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(headers["cache-control"], "no-store");
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("wdn_pat_"));
    let id = created["token"]["id"].as_str().unwrap().to_string();
    assert!(created["token"]["expires_at"].as_i64().is_some());
    let (_, me) = s.get("/v1/whoami", &secret).await;
    assert_eq!(me["token_id"], id);
    let (_, listed) = s.get("/v1/tokens", &admin).await;
    let text = listed.to_string();
    assert!(text.contains(&id));
    assert!(
        !text.contains(&secret),
        "a listing must never show a secret"
    );
    assert!(!text.contains("secret_hash"));
    let (status, _) = s
        .send(
            Method::DELETE,
            &format!("/v1/tokens/{id}"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, problem) = s.get("/v1/whoami", &secret).await;
    assert_problem(status, &problem, 401, "unauthenticated");
    // Another user's token is not visible.
    let (_, other) = s.user("o@acme.test").await;
    let (status, problem) = s
        .send(Method::DELETE, "/v1/tokens/tok_unknown", &other, json!({}))
        .await;
    assert_problem(status, &problem, 403, "forbidden");
}

/// The newest audit events once `done` holds for them (denials are written in the
/// background), or after about 2.5 s.
async fn audit_until(s: &Server, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..50 {
        let (_, body) = s.get("/v1/audit-events?limit=50", &s.admin_token).await;
        items = body["items"].as_array().cloned().unwrap_or_default();
        if done(&items) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    items
}

#[tokio::test]
async fn changes_and_denials_are_audited() {
    let s = start().await;
    let admin = s.admin_token.clone();
    let (_, nobody) = s.user("nobody@acme.test").await;
    s.send(
        Method::POST,
        "/v1/groups",
        &admin,
        json!({"name": "audited"}),
    )
    .await;
    let (status, _) = s
        .send(
            Method::POST,
            "/v1/groups",
            &nobody,
            json!({"name": "sneaky"}),
        )
        .await;
    assert_eq!(status, 403);
    let items = audit_until(&s, |items| items.iter().any(|e| e["outcome"] == "denied")).await;
    let created = items
        .iter()
        .find(|e| e["action"] == "iam.groups.create" && e["outcome"] == "allowed")
        .expect("the group creation is audited");
    assert_eq!(created["actor"], format!("user:{}", s.admin));
    assert!(created["changes"].to_string().contains("audited"));
    assert!(!created["request_id"].as_str().unwrap().is_empty());
    let denied = items
        .iter()
        .find(|e| e["outcome"] == "denied")
        .expect("the refused call is audited");
    assert_eq!(denied["action"], "iam.groups.create");
    assert_eq!(denied["error_code"], "forbidden");
    // A refused change to an existing entity names it.
    let (status, _) = s
        .send(
            Method::DELETE,
            &format!("/v1/groups/admin/members/{}", s.admin),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, 409);
    let admin_group = s
        .warden
        .view(&s.org)
        .unwrap()
        .state()
        .group_by_name("admin")
        .unwrap()
        .id
        .clone();
    let refused =
        |e: &Value| e["error_code"] == "last_admin" && e["target"] == admin_group.as_str();
    let items = audit_until(&s, |items| items.iter().any(refused)).await;
    let found = items.iter().any(refused);
    assert!(
        found,
        "the refused membership change is audited with its group"
    );
    // No secret or hash ever lands in the audit log.
    let all = s
        .get("/v1/audit-events?limit=1000", &admin)
        .await
        .1
        .to_string();
    assert!(!all.contains(&s.admin_token));
    assert!(!all.contains("secret_hash"));
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let s = start().await;
    let (status, doc, _) = s.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for (method, path, _, _) in
        endpoints("{user}", "{group}", "{policy}", "{namespace}", "{cluster}")
    {
        let path = path.split('?').next().unwrap();
        let path = path
            .replace("/v1/roles/iam-admin", "/v1/roles/{role}")
            .replace("{own_token}", "{token}");
        let item = paths
            .get(&path)
            .unwrap_or_else(|| panic!("{path} missing from the OpenAPI document"));
        assert!(
            item.get(method.as_str().to_lowercase()).is_some(),
            "{method} {path} missing"
        );
    }
    assert!(paths.contains_key("/v1/whoami"));
    assert!(paths.contains_key("/v1/tokens/{token}"));
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let s = start_on(store, None).await;
    s.send(
        Method::POST,
        "/v1/groups",
        &s.admin_token,
        json!({"name": "kept"}),
    )
    .await;
    let revision = s.revision();
    let state = s.warden.view(&s.org).unwrap().state().clone();
    drop(s);
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let warden = Warden::open(store, Catalog::builtin().unwrap(), settings())
        .await
        .unwrap();
    let view = warden.view(&state.org.id).unwrap();
    assert_eq!(view.revision(), revision);
    assert_eq!(**view.state(), *state);
}

/// Two servers sharing one PostgreSQL database: a write on one is visible on the other to
/// a check that asks for its revision.
#[tokio::test]
async fn replicas_on_postgres_see_each_others_writes() {
    let Some(url) = postgres_database().await else {
        return;
    };
    let a = start_on(Store::connect(&url).await.unwrap(), None).await;
    let store_b = Store::connect(&url).await.unwrap();
    let warden_b = Warden::open(store_b, Catalog::builtin().unwrap(), settings())
        .await
        .unwrap();
    let b = serve(
        warden_b,
        a.org.clone(),
        a.admin.clone(),
        a.admin_token.clone(),
        None,
    )
    .await;
    let (u, _) = a.user("replica@acme.test").await;
    let (status, written) = a
        .send(
            Method::POST,
            "/v1/policies",
            &a.admin_token,
            json!({"name": "r", "rules": [{"principal": {"kind": "user", "id": u.0}, "roles": ["cks-viewer"]}]}),
        )
        .await;
    assert_eq!(status, 201, "{written}");
    let revision = written["revision"].as_u64().unwrap();
    let (status, answer) = b
        .send(
            Method::POST,
            "/v1/authz/check",
            &b.admin_token,
            json!({"at_least_revision": revision, "checks": [{"principal": u.0, "action": "cks.clusters.list"}]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["allowed"], true);
    // Concurrent writes from both replicas all land (optimistic revisions, retried).
    let mut tasks = Vec::new();
    for (i, server) in [&a, &b, &a, &b].into_iter().enumerate() {
        let http = server.http.clone();
        let url = format!("{}/v1/groups", server.base);
        let token = server.admin_token.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"name": format!("concurrent-{i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 201);
    }
    b.warden.sync_from_store().await.unwrap();
    a.warden.sync_from_store().await.unwrap();
    assert_eq!(a.revision(), b.revision());
}

/// A fresh PostgreSQL database for one test, or None (loudly) outside CI when there is no
/// server. In CI a missing server fails the test.
async fn postgres_database() -> Option<String> {
    use sqlx::Connection;
    let admin_url = std::env::var("WARDEN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(conn) => conn,
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PostgreSQL is required in CI but not reachable at {admin_url}: {e}");
            }
            eprintln!("SKIPPED: PostgreSQL not reachable at {admin_url}: {e}");
            return None;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("warden_api_{}_{nanos}", std::process::id());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin_url.rsplit_once('/').unwrap().0;
    Some(format!("{base}/{name}"))
}

#[tokio::test]
async fn names_are_not_revealed_to_callers_without_the_action_and_paths_are_checked() {
    let s = start().await;
    let (_, nobody) = s.user("nobody@acme.test").await;
    // The same 403 for a user who exists and one who does not: no enumeration.
    for key in ["root@acme.test", "ghost@acme.test"] {
        let (status, problem) = s
            .send(
                Method::PATCH,
                &format!("/v1/users/{key}"),
                &nobody,
                json!({"first_name": "x"}),
            )
            .await;
        assert_problem(status, &problem, 403, "forbidden");
    }
    for path in ["/v1/groups/admin", "/v1/groups/ghost"] {
        let (status, problem) = s.send(Method::DELETE, path, &nobody, json!({})).await;
        assert_problem(status, &problem, 403, "forbidden");
    }
    // A path that is not valid UTF-8 after decoding: a problem, not plain text.
    let (status, problem) = s.get("/v1/users/%FF%FE", &s.admin_token).await;
    assert_problem(status, &problem, 422, "invalid_field");
    // Control characters in a CA bundle are refused (PostgreSQL cannot store NUL).
    let (status, problem) = s
        .send(
            Method::POST,
            "/v1/clusters",
            &s.admin_token,
            json!({"name": "c", "api_server_url": "https://k", "ca_bundle": "-----BEGIN CERTIFICATE-----\u{0}"}),
        )
        .await;
    assert_problem(status, &problem, 422, "invalid_field");
    // A default policy keeps the rule naming its group.
    let (status, problem) = s
        .send(
            Method::PUT,
            "/v1/policies/write",
            &s.admin_token,
            json!({"name": "write", "rules": []}),
        )
        .await;
    assert_problem(status, &problem, 422, "default_policy_group_required");
}

#[tokio::test]
async fn token_details_stay_out_of_the_audit_log() {
    let s = start().await;
    let (_, created, _) = s
        .call(
            Method::POST,
            "/v1/tokens",
            Some(&s.admin_token),
            Some(json!({"name": "laptop"})),
        )
        .await;
    let secret = created["secret"].as_str().unwrap();
    let prefix = created["token"]["display_prefix"].as_str().unwrap();
    assert!(secret.starts_with(prefix));
    let (_, events) = s.get("/v1/audit-events?limit=1000", &s.admin_token).await;
    let text = events.to_string();
    assert!(text.contains("laptop"), "the token's creation is audited");
    assert!(
        !text.contains(prefix),
        "the secret's first characters must not be audited"
    );
    assert!(!text.contains("display_prefix"));
}
