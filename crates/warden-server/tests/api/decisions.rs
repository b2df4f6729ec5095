//! Decisions follow writes at once, explain their grants, and honour time-bound rules.

use std::time::Duration;

use warden_client::model::{
    CheckQuestion, CheckRequest, DenyReason, GroupInput, PolicyInput, PrincipalInput,
    PrincipalKind, RuleInput,
};

use crate::common::{problem_of, Server};

fn question(principal: &str, action: &str, explain: bool) -> CheckQuestion {
    CheckQuestion {
        principal: principal.into(),
        action: action.into(),
        namespace: None,
        explain,
    }
}

#[tokio::test]
async fn decisions_follow_writes_immediately_and_explain_names_the_grant() {
    let s = Server::start().await;
    let admin = &s.admin_client;
    let (u, _) = s.user("u@acme.test").await;
    assert!(
        !s.check(&s.admin_token, &u, "inference.deployments.create")
            .await
    );

    let group = admin
        .create_group(&GroupInput {
            name: "ml".into(),
            description: "ML".into(),
        })
        .await
        .unwrap()
        .item
        .unwrap();
    let policy = admin
        .create_policy(&PolicyInput {
            name: "inference".into(),
            description: String::new(),
            rules: vec![RuleInput {
                principal: PrincipalInput {
                    kind: PrincipalKind::Group,
                    id: "ml".into(),
                },
                roles: vec!["inference-admin".into()],
                expires_at: None,
            }],
        })
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(
        !s.check(&s.admin_token, &u, "inference.deployments.create")
            .await
    );

    let added = admin.add_group_member("ml", u.as_str()).await.unwrap();
    let answer = admin
        .check(&CheckRequest {
            at_least_revision: Some(added.revision),
            checks: vec![
                question(u.as_str(), "inference.deployments.create", true),
                question(u.as_str(), "billing.invoices.list", true),
                question(u.as_str(), "inference.gateways.list", false),
                question("usr_nobody", "inference.gateways.list", false),
            ],
        })
        .await
        .unwrap();
    assert!(answer.revision >= added.revision);
    let first = &answer.results[0];
    assert!(first.allowed);
    let grant = &first.granted_by.as_ref().unwrap()[0];
    assert_eq!(grant.policy_id, policy.id);
    assert_eq!(grant.policy_name, "inference");
    assert_eq!(grant.rule_index, 0);
    assert_eq!(grant.via_group.as_deref(), Some("ml"));
    assert_eq!(grant.via_group_id.as_deref(), Some(group.id.as_str()));
    assert_eq!(grant.role_id, "inference-admin");
    assert!(!answer.results[1].allowed);
    assert_eq!(answer.results[1].reason, Some(DenyReason::NoMatchingRule));
    assert_eq!(answer.results[1].granted_by, Some(vec![]));
    assert!(answer.results[2].allowed);
    assert!(!answer.results[3].allowed);
    assert_eq!(answer.results[3].reason, Some(DenyReason::UnknownPrincipal));

    // The user's permissions say where each action came from.
    let perms = admin.user_permissions(u.as_str()).await.unwrap();
    let actions: Vec<&str> = perms.actions.iter().map(|a| a.action.as_str()).collect();
    assert!(actions.contains(&"inference.gateways.delete"));
    assert!(!actions.contains(&"cks.clusters.list"));

    // Removing the membership revokes at once; so does deleting the policy.
    admin
        .remove_group_member(&group.id, "u@acme.test")
        .await
        .unwrap();
    assert!(
        !s.check(&s.admin_token, &u, "inference.deployments.create")
            .await
    );
    admin.add_group_member("ml", u.as_str()).await.unwrap();
    assert!(
        s.check(&s.admin_token, &u, "inference.deployments.create")
            .await
    );
    admin.delete_policy(&policy.id).await.unwrap();
    assert!(
        !s.check(&s.admin_token, &u, "inference.deployments.create")
            .await
    );

    // A revision from the future: 409 after a short wait.
    let future = CheckRequest {
        at_least_revision: Some(added.revision + 1000),
        checks: vec![question(u.as_str(), "iam.users.list", false)],
    };
    let problem = problem_of(admin.check(&future).await, 409, "revision_not_reached");
    assert_eq!(problem.revision, Some(s.revision()));
    // Unknown action: 422 naming the question it was in.
    let unknown = CheckRequest {
        at_least_revision: None,
        checks: vec![
            question(u.as_str(), "iam.users.list", false),
            question(u.as_str(), "iam.users.fly", false),
        ],
    };
    let problem = problem_of(admin.check(&unknown).await, 422, "unknown_action");
    assert_eq!(problem.field.as_deref(), Some("checks[1].action"));
    assert!(problem.detail.contains("iam.users.fly"));
    // Aliases from the seeds are accepted.
    assert!(s.check(&s.admin_token, &s.admin, "write_org_users").await);
}

#[tokio::test]
async fn a_time_bound_rule_grants_until_its_instant_without_a_write() {
    let s = Server::start().await;
    let (u, _) = s.user("temp@acme.test").await;
    // Far enough ahead for the writes and checks before it on a loaded machine.
    let until = warden_server::service::now().0 + 3_000;
    s.admin_client
        .create_policy(&PolicyInput {
            name: "break-glass".into(),
            description: String::new(),
            rules: vec![RuleInput {
                principal: PrincipalInput {
                    kind: PrincipalKind::User,
                    id: "temp@acme.test".into(),
                },
                roles: vec!["cks-admin".into()],
                expires_at: Some(until),
            }],
        })
        .await
        .unwrap();
    assert!(s.check(&s.admin_token, &u, "cks.clusters.create").await);
    let revision = s.revision();
    let answer = s
        .admin_client
        .check(&CheckRequest {
            at_least_revision: None,
            checks: vec![question(u.as_str(), "cks.clusters.create", true)],
        })
        .await
        .unwrap();
    assert_eq!(
        answer.results[0].granted_by.as_ref().unwrap()[0].expires_at,
        Some(until)
    );
    while warden_server::service::now().0 < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!s.check(&s.admin_token, &u, "cks.clusters.create").await);
    assert_eq!(s.revision(), revision, "expiry needed no write");
    // The background tick puts the organization back on the fast path: the same revision,
    // recompiled, with no window left to leave.
    assert_eq!(s.service.refresh_expired(warden_server::service::now()), 1);
    let compiled = s.service.compiled(&s.org).unwrap();
    assert_eq!(compiled.revision(), revision);
    assert_eq!(compiled.snapshot.valid_until(), None);
    assert!(!s.check(&s.admin_token, &u, "cks.clusters.create").await);
    assert_eq!(s.service.refresh_expired(warden_server::service::now()), 0);
    // A rule may not be written already expired.
    let problem = problem_of(
        s.admin_client
            .create_policy(&PolicyInput {
                name: "late".into(),
                description: String::new(),
                rules: vec![RuleInput {
                    principal: PrincipalInput {
                        kind: PrincipalKind::User,
                        id: u.to_string(),
                    },
                    roles: vec!["cks-admin".into()],
                    expires_at: Some(until),
                }],
            })
            .await,
        422,
        "invalid_field",
    );
    assert_eq!(problem.field.as_deref(), Some("rules[0].expires_at"));
}
