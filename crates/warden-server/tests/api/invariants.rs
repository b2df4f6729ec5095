//! Spec section 7 over HTTP: the last admin, the default admin, one's own privileges,
//! default policies, legacy groups and reserved namespace keys.

use warden_client::model::{
    NamespaceInput, NamespacePermissionsInput, PolicyInput, PrincipalInput, PrincipalKind,
    RuleInput,
};

use crate::common::{on_both_backends, problem_of, Server};

#[tokio::test]
async fn organization_invariants_hold_over_http() {
    let s = Server::start().await;
    let admin = &s.admin_client;
    // The only admin may not leave `admin`: the organization would have no admin.
    problem_of(
        admin.remove_group_member("admin", s.admin.as_str()).await,
        409,
        "last_admin",
    );
    // A second admin may not demote or deactivate the default admin.
    let (second, second_token) = s.user("second@acme.test").await;
    admin
        .add_group_member("admin", second.as_str())
        .await
        .unwrap();
    let second_client = s.client(&second_token);
    problem_of(
        second_client.deactivate_user(s.admin.as_str()).await,
        403,
        "default_admin_protected",
    );
    // Nor leave `admin` themselves: another admin must change their privileges.
    problem_of(
        second_client
            .remove_group_member("admin", second.as_str())
            .await,
        403,
        "self_privilege_change",
    );
    // The default admin may demote the second admin.
    admin
        .remove_group_member("admin", second.as_str())
        .await
        .unwrap();
    // Default policies: cannot be deleted; their group kept (their roles change: see
    // default_policies.rs).
    problem_of(
        admin.delete_policy("admin").await,
        409,
        "default_policy_protected",
    );
    let emptied = PolicyInput {
        name: "write".into(),
        description: String::new(),
        rules: vec![],
    };
    problem_of(
        admin.replace_policy("write", &emptied).await,
        422,
        "default_policy_group_required",
    );
    problem_of(
        admin.delete_group("read").await,
        409,
        "legacy_group_protected",
    );
    // Reserved namespace keys cannot be granted by an org admin.
    admin
        .create_namespace(&NamespaceInput {
            name: "team-a".into(),
            access: vec![],
        })
        .await
        .unwrap();
    problem_of(
        admin
            .set_namespace_access(
                "team-a",
                second.as_str(),
                &NamespacePermissionsInput {
                    permissions: vec!["w:pods".into()],
                },
            )
            .await,
        403,
        "reserved_namespace_permission",
    );
}

/// Issue 12, item 1: an admin cannot entrench themselves. Planting a redundant grant for
/// oneself is refused at once (it changes nothing yet, but would outlive a demotion), and so
/// is removing a rule that names oneself, whatever its effect.
#[tokio::test]
async fn an_admin_cannot_plant_a_grant_that_outlives_their_demotion() {
    on_both_backends(|s| async move {
        let admin = &s.admin_client;
        let (second, second_token) = s.user("second@acme.test").await;
        admin
            .add_group_member("admin", second.as_str())
            .await
            .unwrap();
        let second_client = s.client(&second_token);
        let self_grant = PolicyInput {
            name: "insurance".into(),
            description: String::new(),
            rules: vec![RuleInput {
                principal: PrincipalInput {
                    kind: PrincipalKind::User,
                    id: "second@acme.test".into(),
                },
                roles: [
                    "iam-admin",
                    "access-token-admin",
                    "cks-admin",
                    "inference-admin",
                    "object-storage-admin",
                ]
                .map(String::from)
                .to_vec(),
                expires_at: None,
            }],
        };
        let before = s.revision();
        problem_of(
            second_client.create_policy(&self_grant).await,
            403,
            "self_privilege_change",
        );
        assert_eq!(s.revision(), before, "nothing was written");
        // So the demotion that follows holds.
        admin
            .remove_group_member("admin", second.as_str())
            .await
            .unwrap();
        let whoami = second_client.whoami().await.unwrap();
        assert!(!whoami.user.unwrap().is_org_admin);
        assert!(!whoami.actions.iter().any(|a| a == "iam.policies.create"));

        // A rule naming oneself may not be removed either, even when it is redundant.
        admin
            .add_group_member("admin", second.as_str())
            .await
            .unwrap();
        admin
            .create_policy(&PolicyInput {
                name: "viewer".into(),
                ..self_grant.clone()
            })
            .await
            .unwrap();
        problem_of(
            second_client.delete_policy("viewer").await,
            403,
            "self_privilege_change",
        );
        // Every refusal above is in the audit log, with its code.
        let events = admin
            .audit_events(&warden_client::model::AuditQuery::newest(100))
            .await
            .unwrap()
            .items;
        let refused: Vec<&str> = events
            .iter()
            .filter_map(|e| e.error_code.as_deref())
            .collect();
        assert_eq!(
            refused
                .iter()
                .filter(|c| **c == "self_privilege_change")
                .count(),
            2,
            "{refused:?}"
        );
    })
    .await;
}
