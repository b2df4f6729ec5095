//! Service accounts over HTTP: IAM viewers list and show them (tokens without secrets, the
//! rules naming them); managing one is privileged, so inside an organization nobody may,
//! not even an admin (403 naming the action), and platform operators do it through
//! `/v1/platform/organizations/{org}/service-accounts`, audited in the organization. A rule
//! names an account by name; a deactivated account's tokens are refused; a deleted one's
//! tokens and rules go with it; the platform's own accounts are not for anyone to change.

use reqwest::Method;
use serde_json::json;
use warden_client::model::{
    AuditEvent, AuditQuery, CheckQuestion, CheckRequest, Outcome, PolicyInput, PrincipalInput,
    PrincipalKind, RuleInput, ServiceAccountInput, ServiceAccountUpdate,
};
use warden_client::Client;
use warden_core::command::{
    Key, NewToken, ScopeInput, ServiceAccountCommand, TokenCommand, TokenLifetime,
};
use warden_core::Actor;
use warden_server::service::new_personal_secret;

use crate::common::{assert_problem, on_both_backends, problem_of, Server};

fn named(name: &str) -> ServiceAccountInput {
    ServiceAccountInput { name: name.into() }
}

fn renamed(name: &str) -> ServiceAccountUpdate {
    ServiceAccountUpdate {
        name: Some(name.into()),
        active: None,
    }
}

fn activated(active: bool) -> ServiceAccountUpdate {
    ServiceAccountUpdate {
        name: None,
        active: Some(active),
    }
}

/// A personal token for the service account `account` (an id), issued by the system.
async fn token_for(s: &Server, account: &str) -> String {
    let secret = new_personal_secret();
    s.system(TokenCommand::CreatePersonal {
        owner: Key::from(account),
        token: NewToken {
            name: "deploy".into(),
            note: String::new(),
            lifetime: TokenLifetime::OneHour,
            secret_hash: secret.hash_hex,
            display_prefix: secret.display_prefix,
            scope: ScopeInput::default(),
        },
    })
    .await;
    secret.secret
}

/// Whether the engine allows `principal` `action`, asked by the admin over HTTP.
async fn allowed(s: &Server, principal: &str, action: &str) -> bool {
    let answer = s
        .admin_client
        .check(&CheckRequest {
            checks: vec![CheckQuestion {
                principal: principal.into(),
                action: action.into(),
                namespace: None,
                explain: false,
            }],
            at_least_revision: None,
        })
        .await
        .unwrap();
    answer.results[0].allowed
}

async fn events(client: &Client) -> Vec<AuditEvent> {
    client
        .audit_events(&AuditQuery::newest(200))
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn an_operator_manages_service_accounts_and_every_change_is_audited() {
    on_both_backends(|s| async move {
        let org = s.org.to_string();
        let operator = s.operator("ops@platform.test").await;
        let (viewer, viewer_token) = s.user("viewer@acme.test").await;
        s.grant(&viewer, &["iam-viewer"]).await;
        let viewer = s.client(&viewer_token);

        let created = operator
            .platform_create_service_account(&org, &named("ci-deployer"))
            .await
            .unwrap();
        let account = created.item.unwrap();
        assert!(account.id.starts_with("sa_"), "{}", account.id);
        assert!(account.active && !account.system_managed);
        assert_eq!(account.created_by, None, "made by the platform");
        assert_eq!(account.token_count, 0);
        assert_eq!(s.revision(), created.revision);
        // Names are unique without regard to case.
        problem_of(
            operator
                .platform_create_service_account(&org, &named("CI-Deployer"))
                .await,
            409,
            "duplicate_name",
        );
        problem_of(
            operator
                .platform_create_service_account("nosuch", &named("x"))
                .await,
            404,
            "not_found",
        );

        // A token acts as it; a rule naming it by name grants it actions.
        let secret = token_for(&s, &account.id).await;
        let robot = s.client(&secret);
        assert_eq!(robot.whoami().await.unwrap().principal.id, account.id);
        assert!(!allowed(&s, &account.id, "cks.clusters.list").await);
        let rule = RuleInput {
            principal: PrincipalInput {
                kind: PrincipalKind::ServiceAccount,
                id: "CI-DEPLOYER".into(),
            },
            roles: vec!["cks-viewer".into()],
            expires_at: None,
        };
        let policy = s
            .admin_client
            .create_policy(&PolicyInput {
                name: "deployers".into(),
                description: String::new(),
                rules: vec![rule],
            })
            .await
            .unwrap()
            .item
            .unwrap();
        assert_eq!(policy.rules[0].principal.id, account.id);
        assert_eq!(policy.rules[0].principal.name, "ci-deployer");
        assert!(allowed(&s, &account.id, "cks.clusters.list").await);
        robot.clusters().await.unwrap();

        // An IAM viewer lists and shows it: its tokens without secrets, the rules naming it.
        let listed = viewer.service_accounts().await.unwrap().items;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].token_count, 1);
        let shown = viewer.service_account("ci-deployer").await.unwrap();
        assert_eq!(shown.id, account.id);
        assert_eq!(shown.tokens.len(), 1);
        assert_eq!(shown.tokens[0].name, "deploy");
        assert!(shown.tokens[0].expires_at.is_some());
        assert_eq!(shown.rules.len(), 1);
        assert_eq!(shown.rules[0].policy_id, policy.id);
        assert_eq!(shown.rules[0].policy_name, "deployers");
        assert_eq!(shown.rules[0].roles, ["cks-viewer"]);
        let (status, raw, _) = s
            .raw(
                Method::GET,
                &format!("/v1/service-accounts/{}", account.id),
                Some(&viewer_token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{raw}");
        let text = raw.to_string();
        for never in ["hash", "secret", "display_prefix", &secret] {
            assert!(!text.contains(never), "{never} in {text}");
        }
        // A typo is answered with the name meant.
        let p = problem_of(viewer.service_account("ci-deployr").await, 404, "not_found");
        assert_eq!(p.did_you_mean.as_deref(), Some("ci-deployer"));
        assert_eq!(
            operator
                .platform_service_account(&org, "CI-deployer")
                .await
                .unwrap()
                .id,
            account.id
        );
        assert_eq!(
            operator
                .platform_service_accounts(&org)
                .await
                .unwrap()
                .items
                .len(),
            1
        );

        // Renamed: found by its new name only.
        let w = operator
            .platform_update_service_account(&org, "ci-deployer", &renamed("deployer"))
            .await
            .unwrap();
        assert_eq!(w.item.unwrap().name, "deployer");
        problem_of(
            viewer.service_account("ci-deployer").await,
            404,
            "not_found",
        );
        // Deactivated: its token is refused at once, and it holds nothing.
        let w = operator
            .platform_update_service_account(&org, "deployer", &activated(false))
            .await
            .unwrap();
        assert!(!w.item.unwrap().active);
        problem_of(robot.whoami().await, 401, "unauthenticated");
        assert!(!allowed(&s, &account.id, "cks.clusters.list").await);
        // Reactivated: back, with its rule.
        operator
            .platform_update_service_account(&org, &account.id, &activated(true))
            .await
            .unwrap();
        robot.whoami().await.unwrap();
        assert!(allowed(&s, &account.id, "cks.clusters.list").await);

        // Deleted: its token and the rule naming it go too; the answer is the revision it
        // made, as for every deletion.
        let (status, body, headers) = s
            .raw(
                Method::DELETE,
                &format!("/v1/platform/organizations/{org}/service-accounts/deployer"),
                Some(&operator_secret(&s).await),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["revision"], s.revision());
        assert_eq!(body["item"], serde_json::Value::Null);
        assert_eq!(
            headers["warden-revision"].to_str().unwrap(),
            s.revision().to_string()
        );
        problem_of(robot.whoami().await, 401, "unauthenticated");
        assert!(viewer.service_accounts().await.unwrap().items.is_empty());
        assert!(s
            .admin_client
            .policy("deployers")
            .await
            .unwrap()
            .rules
            .is_empty());
        let gone = CheckRequest {
            checks: vec![CheckQuestion {
                principal: account.id.clone(),
                action: "cks.clusters.list".into(),
                namespace: None,
                explain: false,
            }],
            at_least_revision: None,
        };
        problem_of(s.admin_client.check(&gone).await, 422, "unknown_principal");
        problem_of(
            operator
                .platform_delete_service_account(&org, "deployer")
                .await,
            404,
            "not_found",
        );

        // Every change is in the organization's audit log, by an operator, with its target.
        let log = events(&s.admin_client).await;
        let by_operator = |action: &str| {
            log.iter()
                .filter(|e| {
                    e.action == action
                        && e.outcome == Outcome::Allowed
                        && e.actor.starts_with("operator:")
                        && e.target == account.id
                })
                .count()
        };
        assert_eq!(by_operator("iam.service_accounts.create"), 1);
        assert_eq!(by_operator("iam.service_accounts.update"), 3);
        assert_eq!(by_operator("iam.service_accounts.delete"), 1);
        assert!(log.iter().any(|e| e.action == "iam.service_accounts.create"
            && e.error_code.as_deref() == Some("duplicate_name")));
    })
    .await;
}

/// A second operator's secret, for a raw call.
async fn operator_secret(s: &Server) -> String {
    let (_, secret) = s
        .service
        .create_operator(&Actor::System, "Raw", "raw@platform.test", false)
        .await
        .unwrap()
        .unwrap();
    secret
}

#[tokio::test]
async fn inside_an_organization_managing_service_accounts_is_refused_to_everyone() {
    let s = Server::start().await;
    let existing = s
        .system(ServiceAccountCommand::Create { name: "ci".into() })
        .await;
    let (viewer, viewer_token) = s.user("viewer@acme.test").await;
    s.grant(&viewer, &["iam-viewer"]).await;
    let (_, nobody_token) = s.user("nobody@acme.test").await;
    let before = s.revision();
    // Not even the admin: no role holds these actions (spec sections 1 and 10).
    for client in [&s.admin_client, &s.client(&viewer_token)] {
        let p = problem_of(
            client.create_service_account(&named("mine")).await,
            403,
            "forbidden",
        );
        assert_eq!(p.action.as_deref(), Some("iam.service_accounts.create"));
        assert!(p.roles.is_empty(), "no role holds it: {:?}", p.roles);
        // The same answer for an account that exists and one that does not.
        for key in ["ci", existing.as_str(), "ghost"] {
            let p = problem_of(
                client.update_service_account(key, &activated(false)).await,
                403,
                "forbidden",
            );
            assert_eq!(p.action.as_deref(), Some("iam.service_accounts.update"));
            let p = problem_of(client.delete_service_account(key).await, 403, "forbidden");
            assert_eq!(p.action.as_deref(), Some("iam.service_accounts.delete"));
        }
    }
    assert_eq!(s.revision(), before, "nothing changed");
    // Every refusal is audited.
    let log = events(&s.admin_client).await;
    for action in [
        "iam.service_accounts.create",
        "iam.service_accounts.update",
        "iam.service_accounts.delete",
    ] {
        assert!(
            log.iter().any(|e| e.action == action
                && e.outcome == Outcome::Denied
                && e.error_code.as_deref() == Some("forbidden")),
            "{action} refusal not audited"
        );
    }
    // Reading takes the viewer's actions; without them, names are not revealed.
    let viewer = s.client(&viewer_token);
    assert_eq!(viewer.service_accounts().await.unwrap().items.len(), 1);
    assert_eq!(viewer.service_account("CI").await.unwrap().id, existing);
    let nobody = s.client(&nobody_token);
    let p = problem_of(nobody.service_accounts().await, 403, "forbidden");
    assert_eq!(p.action.as_deref(), Some("iam.service_accounts.list"));
    for key in ["ci", "ghost"] {
        let (status, problem, _) = s
            .raw(
                Method::GET,
                &format!("/v1/service-accounts/{key}"),
                Some(&nobody_token),
                None,
            )
            .await;
        assert_problem(status, &problem, 403, "forbidden");
        assert_eq!(problem["action"], "iam.service_accounts.get");
    }
    // Bodies are strict, for the admin (refused before anything is authorized) as for an
    // operator: an unknown field is named, an array is no object, nothing is made.
    let operator = operator_secret(&s).await;
    let platform = format!("/v1/platform/organizations/{}/service-accounts", s.org);
    for (method, path, token, body) in [
        (
            Method::POST,
            "/v1/service-accounts".to_string(),
            &s.admin_token,
            json!({"name": "x"}),
        ),
        (
            Method::PATCH,
            "/v1/service-accounts/ci".to_string(),
            &s.admin_token,
            json!({"active": false}),
        ),
        (
            Method::POST,
            platform.clone(),
            &operator,
            json!({"name": "x"}),
        ),
        (
            Method::PATCH,
            format!("{platform}/ci"),
            &operator,
            json!({"active": false}),
        ),
    ] {
        let mut surprise = body.clone();
        surprise["surprise"] = json!(1);
        let (status, problem, _) = s
            .raw(method.clone(), &path, Some(token), Some(surprise))
            .await;
        assert_problem(status, &problem, 400, "unknown_field");
        assert_eq!(problem["field"], "surprise", "{method} {path}");
        let (status, problem, _) = s
            .raw(method.clone(), &path, Some(token), Some(json!([body])))
            .await;
        assert_problem(status, &problem, 422, "invalid_body");
    }
    assert_eq!(s.revision(), before, "nothing changed");
    // An organization's token is no operator's.
    problem_of(
        s.admin_client
            .platform_create_service_account(s.org.as_str(), &named("x"))
            .await,
        401,
        "unauthenticated",
    );
}

#[tokio::test]
async fn the_platforms_own_accounts_are_not_for_anyone_to_change() {
    let s = Server::start().await;
    let id = s
        .system(ServiceAccountCommand::Create {
            name: "platform-agent".into(),
        })
        .await;
    // The platform makes its own accounts outside the API: mark this one so behind the
    // server's back, and serve the database again.
    let touched = s
        .tamper(&format!(
            "UPDATE service_accounts SET system_managed = 1 WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(touched, 1);
    let t = s.reopen().await;
    let org = t.org.to_string();
    let operator = t.operator("ops@platform.test").await;
    let shown = operator
        .platform_service_account(&org, "platform-agent")
        .await
        .unwrap();
    assert!(shown.system_managed);
    let before = t.revision();
    for result in [
        operator
            .platform_update_service_account(&org, "platform-agent", &renamed("mine"))
            .await
            .map(|_| ()),
        operator
            .platform_update_service_account(&org, &id, &activated(false))
            .await
            .map(|_| ()),
        operator
            .platform_delete_service_account(&org, "platform-agent")
            .await
            .map(|_| ()),
    ] {
        let p = problem_of(result, 409, "system_managed");
        assert!(p.detail.contains("platform-agent"), "{}", p.detail);
    }
    assert_eq!(t.revision(), before);
    assert!(t.admin_client.service_account(&id).await.unwrap().active);
}
