//! The five default policies over HTTP, on SQLite and PostgreSQL: their roles change (and the
//! change shows against the catalog), `reset` restores the catalog's, an admin cannot touch the
//! roles of their own group `admin` and an operator can, audited in the organization.

use warden_client::model::{
    AuditQuery, Outcome, PolicyInput, PrincipalInput, PrincipalKind, RuleInput,
};
use warden_core::command::{GroupCommand, Key};

use crate::common::{on_both_backends, problem_of};

fn group_rule(group: &str, roles: &[&str]) -> RuleInput {
    RuleInput {
        principal: PrincipalInput {
            kind: PrincipalKind::Group,
            id: group.into(),
        },
        roles: roles.iter().map(|r| r.to_string()).collect(),
        expires_at: None,
    }
}

fn policy_input(name: &str, rules: Vec<RuleInput>) -> PolicyInput {
    PolicyInput {
        name: name.into(),
        description: String::new(),
        rules,
    }
}

const ADMIN_ROLES: [&str; 5] = [
    "iam-admin",
    "cks-admin",
    "object-storage-admin",
    "access-token-admin",
    "access-request-approver",
];

#[tokio::test]
async fn default_policy_roles_change_show_their_difference_and_reset() {
    on_both_backends(|s| async move {
        let (reader, reader_token) = s.user("reader@acme.test").await;
        s.system(GroupCommand::AddMember {
            group: Key::from("read"),
            user: Key::from(reader.as_str()),
        })
        .await;
        let read = s.admin_client.policy("read").await.unwrap();
        let d = read.catalog_difference.clone().unwrap();
        assert_eq!(
            d.catalog_roles,
            ["iam-viewer", "cks-viewer", "access-token-viewer"]
        );
        assert!(d.is_unchanged());
        assert!(
            !s.check(&reader_token, &reader, "inference.gateways.list")
                .await
        );
        // The seeds' advice for a newer feature: add the relevant role to the group.
        let changed = s
            .admin_client
            .replace_policy(
                "read",
                &policy_input(
                    "read",
                    vec![group_rule(
                        "read",
                        &["iam-viewer", "cks-viewer", "inference-viewer"],
                    )],
                ),
            )
            .await
            .unwrap();
        let d = changed.item.unwrap().catalog_difference.unwrap();
        assert_eq!(d.roles_added, ["inference-viewer"]);
        assert_eq!(d.roles_removed, ["access-token-viewer"]);
        assert!(
            s.check(&reader_token, &reader, "inference.gateways.list")
                .await
        );
        assert!(
            !s.check(&reader_token, &reader, "tokens.personal.list")
                .await
        );
        // Custom policies have no catalog roles to differ from or reset to.
        let custom = s
            .admin_client
            .create_policy(&policy_input(
                "custom",
                vec![group_rule("read", &["cks-viewer"])],
            ))
            .await
            .unwrap();
        assert_eq!(custom.item.unwrap().catalog_difference, None);
        let p = problem_of(
            s.admin_client.reset_policy("custom").await,
            409,
            "not_a_default_policy",
        );
        assert!(p.detail.contains("default"), "{}", p.detail);
        problem_of(
            s.admin_client.reset_policy("nothing").await,
            404,
            "not_found",
        );
        // Reset restores the catalog's roles, audited like every change.
        let reset = s.admin_client.reset_policy("read").await.unwrap();
        let policy = reset.item.unwrap();
        assert!(policy.catalog_difference.unwrap().is_unchanged());
        assert_eq!(
            policy.rules[0].roles,
            ["iam-viewer", "cks-viewer", "access-token-viewer"]
        );
        assert!(
            !s.check(&reader_token, &reader, "inference.gateways.list")
                .await
        );
        let events = s
            .admin_client
            .audit_events(&AuditQuery {
                action: Some("iam.policies.update".into()),
                outcome: Some(Outcome::Allowed),
                ..AuditQuery::newest(10)
            })
            .await
            .unwrap();
        assert_eq!(events.items.len(), 2, "{:?}", events.items);
        // A reader cannot reset anything: the same engine answers.
        let p = problem_of(
            s.client(&reader_token).reset_policy("read").await,
            403,
            "forbidden",
        );
        assert!(p.detail.contains("iam.policies.update"), "{}", p.detail);
    })
    .await;
}

#[tokio::test]
async fn only_an_operator_changes_the_roles_of_the_admin_policy() {
    on_both_backends(|s| async move {
        let mut more = ADMIN_ROLES.to_vec();
        more.push("inference-admin");
        let admin_policy = policy_input("admin", vec![group_rule("admin", &more)]);
        let p = problem_of(
            s.admin_client.replace_policy("admin", &admin_policy).await,
            403,
            "self_privilege_change",
        );
        assert!(
            p.detail.contains("warden policies set-roles admin --org"),
            "{}",
            p.detail
        );
        let org = s.org.to_string();
        // Organization tokens do not open the platform's routes.
        problem_of(
            s.admin_client
                .platform_replace_policy(&org, "admin", &admin_policy)
                .await,
            401,
            "unauthenticated",
        );
        let operator = s.operator("ops@platform.test").await;
        let seen = operator.platform_policy(&org, "admin").await.unwrap();
        assert!(seen.catalog_difference.unwrap().is_unchanged());
        let changed = operator
            .platform_replace_policy(&org, "admin", &admin_policy)
            .await
            .unwrap();
        let d = changed.item.unwrap().catalog_difference.unwrap();
        assert_eq!(d.roles_added, ["inference-admin"]);
        assert!(
            s.check(&s.admin_token, &s.admin, "inference.deployments.create")
                .await
        );
        // The admin sees the change and still cannot undo it; the operator can.
        let seen = s.admin_client.policy("admin").await.unwrap();
        assert_eq!(
            seen.catalog_difference.unwrap().roles_added,
            ["inference-admin"]
        );
        problem_of(
            s.admin_client.reset_policy("admin").await,
            403,
            "self_privilege_change",
        );
        operator.platform_reset_policy(&org, "admin").await.unwrap();
        assert!(
            !s.check(&s.admin_token, &s.admin, "inference.deployments.create")
                .await
        );
        problem_of(
            operator.platform_reset_policy("nosuchorg", "admin").await,
            404,
            "not_found",
        );
        // Both operator changes are in the organization's audit log, by the operator.
        let events = s
            .admin_client
            .audit_events(&AuditQuery {
                action: Some("iam.policies.update".into()),
                outcome: Some(Outcome::Allowed),
                ..AuditQuery::newest(10)
            })
            .await
            .unwrap();
        assert_eq!(events.items.len(), 2, "{:?}", events.items);
        assert!(events
            .items
            .iter()
            .all(|e| e.actor.starts_with("operator:")));
    })
    .await;
}
