//! Decisions follow writes at once, explain their grants, and honour time-bound rules.

use std::time::Duration;

use warden_client::model::{
    CheckQuestion, CheckRequest, DenyReason, GroupInput, NamespaceInput, NamespacePermissionsInput,
    PolicyInput, PrincipalInput, PrincipalKind, RuleInput,
};

use crate::common::{on_both_backends, problem_of, Server};

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
    // A principal that does not exist is an error in the question, not a denial.
    let nobody = CheckRequest {
        at_least_revision: None,
        checks: vec![
            question(u.as_str(), "inference.gateways.list", false),
            question("usr_nobody", "inference.gateways.list", false),
        ],
    };
    let problem = problem_of(admin.check(&nobody).await, 422, "unknown_principal");
    assert_eq!(problem.field.as_deref(), Some("checks[1].principal"));
    assert_eq!(
        problem.detail,
        "unknown user or service account `usr_nobody`"
    );

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

fn in_namespace(principal: &str, key: &str, namespace: &str, explain: bool) -> CheckQuestion {
    CheckQuestion {
        namespace: Some(namespace.into()),
        ..question(principal, key, explain)
    }
}

/// Issue 12, items 6–8: a person is named by id, email or `me` everywhere; asking about
/// oneself needs no permission; an unknown name is a 4xx with "did you mean", never a
/// denial; and a caller who may not list namespaces learns nothing about which exist.
#[tokio::test]
async fn people_are_named_alike_everywhere_and_unknown_names_are_errors() {
    on_both_backends(|s| async move {
        let admin = &s.admin_client;
        let (carol, carol_token) = s.user("carol@acme.test").await;
        s.user("dave@acme.test").await;
        let carol_client = s.client(&carol_token);
        admin
            .create_namespace(&NamespaceInput {
                name: "prod".into(),
                access: vec![],
            })
            .await
            .unwrap();

        // Carol asks about herself three ways, holding no permission at all.
        for me in ["me", "Carol@ACME.test", carol.as_str()] {
            let answer = carol_client
                .check(&CheckRequest {
                    at_least_revision: None,
                    checks: vec![question(me, "cks.clusters.list", false)],
                })
                .await
                .unwrap();
            assert_eq!(
                answer.results[0].reason,
                Some(DenyReason::NoMatchingRule),
                "{me}"
            );
            assert_eq!(
                carol_client.user(me).await.unwrap().id,
                carol.as_str(),
                "{me}"
            );
            assert_eq!(
                carol_client.user_permissions(me).await.unwrap().principal,
                carol.as_str()
            );
        }
        // About others she is refused alike whether they exist or not.
        for other in ["dave@acme.test", "nobody@acme.test"] {
            let refused = carol_client
                .check(&CheckRequest {
                    at_least_revision: None,
                    checks: vec![question(other, "cks.clusters.list", false)],
                })
                .await;
            let problem = problem_of(refused, 403, "forbidden");
            assert_eq!(problem.action.as_deref(), Some("iam.permissions.list"));
            problem_of(carol_client.user(other).await, 403, "forbidden");
            problem_of(carol_client.user_permissions(other).await, 403, "forbidden");
        }

        // The admin may name Carol by email: the same answer as by id.
        let by_email = admin
            .check(&CheckRequest {
                at_least_revision: None,
                checks: vec![
                    question("carol@acme.test", "cks.clusters.list", false),
                    question(carol.as_str(), "cks.clusters.list", false),
                ],
            })
            .await
            .unwrap();
        assert_eq!(by_email.results[0], by_email.results[1]);
        // Unknown names: a 422 problem with the name meant, and no request internals in
        // the message.
        let ask = |q: CheckQuestion| CheckRequest {
            at_least_revision: None,
            checks: vec![q],
        };
        let typo = problem_of(
            admin
                .check(&ask(question("me", "cks.cluster.list", false)))
                .await,
            422,
            "unknown_action",
        );
        assert_eq!(typo.did_you_mean.as_deref(), Some("cks.clusters.list"));
        assert!(!typo.detail.contains("checks["), "{}", typo.detail);
        let key = problem_of(
            admin
                .check(&ask(in_namespace("me", "w:deploymnts", "prod", false)))
                .await,
            422,
            "unknown_namespace_permission",
        );
        assert_eq!(key.did_you_mean.as_deref(), Some("w:deployments"));
        let ns = problem_of(
            admin
                .check(&ask(in_namespace("me", "r:full", "prdo", false)))
                .await,
            422,
            "unknown_namespace",
        );
        assert_eq!(ns.did_you_mean.as_deref(), Some("prod"));
        assert_eq!(ns.field.as_deref(), Some("checks[0].namespace"));
        let who = problem_of(
            admin
                .check(&ask(question("carl@acme.test", "cks.clusters.list", false)))
                .await,
            422,
            "unknown_principal",
        );
        assert_eq!(
            who.detail,
            "unknown user or service account `carl@acme.test`"
        );
        let role = problem_of(
            admin
                .create_policy(&PolicyInput {
                    name: "typo".into(),
                    description: String::new(),
                    rules: vec![RuleInput {
                        principal: PrincipalInput {
                            kind: PrincipalKind::User,
                            id: carol.to_string(),
                        },
                        roles: vec!["cks-admn".into()],
                        expires_at: None,
                    }],
                })
                .await,
            422,
            "unknown_role",
        );
        assert_eq!(role.did_you_mean.as_deref(), Some("cks-admin"));

        // Carol may not list namespaces: an existing namespace where she holds no key and
        // one that does not exist get the same answer, explained alike.
        let existing = carol_client
            .check(&ask(in_namespace("me", "r:full", "prod", true)))
            .await
            .unwrap();
        let missing = carol_client
            .check(&ask(in_namespace("me", "r:full", "nope", true)))
            .await
            .unwrap();
        let (existing, missing) = (&existing.results[0], &missing.results[0]);
        assert_eq!(
            existing.reason,
            Some(DenyReason::NamespacePermissionMissing)
        );
        assert_eq!(missing.reason, existing.reason);
        assert_eq!(
            missing
                .explanation
                .as_deref()
                .map(|e| e.replace("`nope`", "`prod`")),
            existing.explanation.clone()
        );
    })
    .await;
}

/// Issue 12, item 9: a decision explains itself, and a refused API call says what would
/// allow it.
#[tokio::test]
async fn a_denial_says_what_would_allow_it() {
    let s = Server::start().await;
    let admin = &s.admin_client;
    let (carol, carol_token) = s.user("carol@acme.test").await;
    s.grant(&carol, &["cks-viewer"]).await;
    let explain = |principal: &str, action: &str| CheckRequest {
        at_least_revision: None,
        checks: vec![question(principal, action, true)],
    };
    let denied = admin
        .check(&explain("carol@acme.test", "cks.clusters.create"))
        .await
        .unwrap();
    let denied = &denied.results[0];
    assert!(!denied.allowed);
    assert_eq!(
        denied
            .roles_with_action
            .as_deref()
            .unwrap()
            .first()
            .map(String::as_str),
        Some("cks-admin")
    );
    let text = denied.explanation.as_deref().unwrap();
    assert!(
        text.starts_with("denied: no policy grants `cks.clusters.create` to `carol@acme.test`"),
        "{text}"
    );
    assert!(
        text.contains("`carol@acme.test` holds `cks-viewer` (policy `grant-"),
        "{text}"
    );
    assert!(
        text.ends_with("a rule granting `cks-admin` to `carol@acme.test`, or to a group they are in, would allow it"),
        "{text}"
    );

    let allowed = admin
        .check(&explain("carol@acme.test", "cks.clusters.list"))
        .await
        .unwrap();
    let text = allowed.results[0].explanation.as_deref().unwrap();
    assert!(
        text.starts_with("allowed: `carol@acme.test` holds `cks-viewer` (policy `grant-"),
        "{text}"
    );

    admin.deactivate_user("carol@acme.test").await.unwrap();
    let inactive = admin
        .check(&explain("carol@acme.test", "cks.clusters.list"))
        .await
        .unwrap();
    let inactive = &inactive.results[0];
    assert_eq!(inactive.reason, Some(DenyReason::PrincipalInactive));
    let text = inactive.explanation.as_deref().unwrap();
    assert!(
        text.starts_with("denied: would be granted by `cks-viewer`"),
        "{text}"
    );
    assert!(text.ends_with("but the user is deactivated"), "{text}");
    admin.reactivate_user("carol@acme.test").await.unwrap();

    // Namespace decisions: the keys held and where from; an org admin holds every key.
    admin
        .create_namespace(&NamespaceInput {
            name: "prod".into(),
            access: vec![],
        })
        .await
        .unwrap();
    admin
        .set_namespace_access(
            "prod",
            "carol@acme.test",
            &NamespacePermissionsInput {
                permissions: vec!["r:full".into()],
            },
        )
        .await
        .unwrap();
    let answer = admin
        .check(&CheckRequest {
            at_least_revision: None,
            checks: vec![
                in_namespace("carol@acme.test", "w:jobs", "prod", true),
                in_namespace("me", "w:pods", "prod", true),
            ],
        })
        .await
        .unwrap();
    let text = answer.results[0].explanation.as_deref().unwrap();
    assert_eq!(
        text,
        "denied: `carol@acme.test` holds `r:full` in `prod` through namespace grants; a namespace grant of `w:jobs` in `prod` to `carol@acme.test` (or the org admin role) would allow it"
    );
    let text = answer.results[1].explanation.as_deref().unwrap();
    assert!(
        text.ends_with("is an org admin: holds every key in every namespace"),
        "{text}"
    );

    // A refused call's problem names the missing action and the roles that would allow it.
    let refused = problem_of(
        s.client(&carol_token)
            .create_group(&GroupInput {
                name: "ops".into(),
                description: String::new(),
            })
            .await,
        403,
        "forbidden",
    );
    assert_eq!(refused.action.as_deref(), Some("iam.groups.create"));
    assert_eq!(refused.roles.first().map(String::as_str), Some("iam-admin"));
    assert!(
        refused.detail.ends_with(
            "a rule granting the role `iam-admin` to the caller, or to a group they are in, would allow it"
        ),
        "{}",
        refused.detail
    );
}
