//! Platform operators over HTTP, on SQLite and PostgreSQL: organizations created through the
//! API, the default admin changed, reserved keys granted, users removed completely.

use warden_client::model::{
    AdminAccess, NamespaceInput, NamespaceKeysInput, NamespacePermissionsInput, OperatorInput,
    OrganizationInput, PlatformUserInput,
};

use crate::common::{on_both_backends, problem_of};

#[tokio::test]
async fn operator_and_organization_tokens_each_work_only_where_they_belong() {
    on_both_backends(|s| async move {
        let operator = s.operator("ops@platform.test").await;
        let p = problem_of(operator.organization().await, 401, "unauthenticated");
        assert!(p.detail.contains("/v1/platform"), "{}", p.detail);
        let p = problem_of(
            s.admin_client.platform_organizations().await,
            401,
            "unauthenticated",
        );
        assert!(p.detail.contains("operator"), "{}", p.detail);
        problem_of(s.anonymous().operators().await, 401, "unauthenticated");
        // Operators add operators; each token is shown once.
        let created = operator
            .create_operator(&OperatorInput {
                name: "Second".into(),
                email: "two@platform.test".into(),
            })
            .await
            .unwrap();
        assert!(created.secret.starts_with("wdn_opr_"));
        let second = s.client(&created.secret);
        assert_eq!(second.operators().await.unwrap().items.len(), 2);
        // Bodies are strict here as everywhere: an unknown field is named, nothing is made.
        for (path, body) in [
            (
                "/v1/platform/organizations",
                serde_json::json!({"name": "X", "admin": {"email": "x@x.test"}, "surprise": 1}),
            ),
            (
                "/v1/platform/operators",
                serde_json::json!({"name": "X", "email": "x@x.test", "surprise": 1}),
            ),
            (
                &*format!("/v1/platform/organizations/{}/users", s.org),
                serde_json::json!({"email": "x@x.test", "surprise": 1}),
            ),
            (
                &*format!("/v1/platform/organizations/{}/namespace-keys", s.org),
                serde_json::json!({"namespace": "x", "user": "x", "surprise": 1}),
            ),
            (
                &*format!("/v1/platform/organizations/{}/invitations", s.org),
                serde_json::json!({"email": "x@x.test", "surprise": 1}),
            ),
        ] {
            let (status, problem) = second
                .raw(reqwest::Method::POST, path, Some(body))
                .await
                .unwrap();
            assert_eq!(
                (status, problem["code"].as_str()),
                (400, Some("unknown_field")),
                "{path}"
            );
        }
        let (status, problem) = second
            .raw(
                reqwest::Method::PUT,
                &format!("/v1/platform/organizations/{}/default-admin", s.org),
                Some(serde_json::json!({"user": "x", "surprise": 1})),
            )
            .await
            .unwrap();
        assert_eq!(
            (status, problem["code"].as_str()),
            (400, Some("unknown_field"))
        );
        assert_eq!(second.operators().await.unwrap().items.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn an_operator_creates_an_organization_whose_admin_acts_at_once() {
    on_both_backends(|s| async move {
        let operator = s.operator("ops@platform.test").await;
        let created = operator
            .create_organization(&OrganizationInput {
                name: "Globex".into(),
                admin: PlatformUserInput {
                    email: "hank@globex.test".into(),
                    ..Default::default()
                },
                admin_access: Default::default(),
            })
            .await
            .unwrap();
        assert!(created.admin.is_default_admin && created.admin.is_org_admin);
        assert_eq!(created.welcome_email_sent_to, None);
        let admin = s.client(&created.token.unwrap().secret);
        assert_eq!(admin.organization().await.unwrap().name, "Globex");
        let listed = operator.platform_organizations().await.unwrap();
        let globex = listed.items.iter().find(|o| o.name == "Globex").unwrap();
        assert_eq!(globex.default_admin_email, "hank@globex.test");
        // Audited in the organization, as the operator.
        let events = admin
            .audit_events(&warden_client::model::AuditQuery::newest(50))
            .await
            .unwrap();
        assert!(
            events
                .items
                .iter()
                .all(|e| e.actor.starts_with("operator:op_")),
            "{:?}",
            events.items
        );
        // Added users get a token; a group that does not exist adds nothing.
        problem_of(
            operator
                .platform_add_user(
                    &created.organization.id,
                    &PlatformUserInput {
                        email: "x@globex.test".into(),
                        groups: vec!["nope".into()],
                        ..Default::default()
                    },
                )
                .await,
            404,
            "not_found",
        );
        let added = operator
            .platform_add_user(
                &created.organization.id,
                &PlatformUserInput {
                    email: "x@globex.test".into(),
                    groups: vec!["read".into()],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(added.user.groups, ["read"]);
        s.client(&added.token.secret).organization().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn only_an_operator_changes_the_default_admin_or_reserved_keys() {
    on_both_backends(|s| async move {
        let operator = s.operator("ops@platform.test").await;
        let org = s.org.to_string();
        let (bea, _) = s.user("bea@acme.test").await;
        s.admin_client
            .create_namespace(&NamespaceInput {
                name: "ml".into(),
                access: vec![],
            })
            .await
            .unwrap();
        let p = problem_of(
            s.admin_client
                .set_namespace_access(
                    "ml",
                    bea.as_str(),
                    &NamespacePermissionsInput {
                        permissions: vec!["w:pods".into()],
                    },
                )
                .await,
            403,
            "reserved_namespace_permission",
        );
        assert!(
            p.detail.contains("warden org namespace-keys"),
            "{}",
            p.detail
        );
        let keys = operator
            .platform_namespace_keys(
                &org,
                &NamespaceKeysInput {
                    namespace: "ml".into(),
                    user: "bea@acme.test".into(),
                    add: vec!["w:pods".into(), "r:full".into()],
                    remove: vec![],
                },
            )
            .await
            .unwrap();
        assert_eq!(keys.item.unwrap().permissions, ["r:full", "w:pods"]);
        // "Remove All" by an admin leaves the operator's reserved key.
        s.admin_client
            .set_namespace_access(
                "ml",
                bea.as_str(),
                &NamespacePermissionsInput {
                    permissions: vec![],
                },
            )
            .await
            .unwrap();
        let ns = s.admin_client.namespace("ml").await.unwrap();
        assert_eq!(
            ns.access
                .iter()
                .find(|a| a.user_id == bea.as_str())
                .unwrap()
                .permissions,
            ["w:pods"]
        );
        // The default admin.
        let changed = operator
            .set_default_admin(&org, "bea@acme.test")
            .await
            .unwrap();
        assert_eq!(changed.item.unwrap().default_admin, bea.as_str());
        let bea_user = s.admin_client.user(bea.as_str()).await.unwrap();
        assert!(bea_user.is_default_admin && bea_user.groups.contains(&"admin".to_string()));
        problem_of(
            operator.set_default_admin(&org, "nobody@acme.test").await,
            404,
            "not_found",
        );
        problem_of(
            operator.set_default_admin("ffffff", "bea@acme.test").await,
            404,
            "not_found",
        );
    })
    .await;
}

#[tokio::test]
async fn removing_a_user_kills_their_tokens_and_keeps_the_default_admin() {
    on_both_backends(|s| async move {
        let operator = s.operator("ops@platform.test").await;
        let org = s.org.to_string();
        let (bea, token) = s.user("bea@acme.test").await;
        s.admin_client
            .add_group_member("write", bea.as_str())
            .await
            .unwrap();
        let bea_client = s.client(&token);
        bea_client.user("me").await.unwrap();
        let p = problem_of(
            operator.platform_remove_user(&org, s.admin.as_str()).await,
            403,
            "default_admin_protected",
        );
        assert!(p.detail.contains("set-default-admin"), "{}", p.detail);
        let removed = operator
            .platform_remove_user(&org, "bea@acme.test")
            .await
            .unwrap();
        assert_eq!(removed.user.id, bea.as_str());
        assert_eq!(removed.tokens_deleted, 1);
        assert!(removed.tokens_created_for_others.is_empty());
        problem_of(bea_client.user("me").await, 401, "unauthenticated");
        problem_of(s.admin_client.user(bea.as_str()).await, 404, "not_found");
        let write = s.admin_client.group("write").await.unwrap();
        assert_eq!(write.member_count, 0);
        // The address may be invited back.
        s.admin_client
            .invite(&warden_client::model::InvitationInput {
                email: "bea@acme.test".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    })
    .await;
}

/// An organization whose first admin is invited by email: no token in the answer; the email
/// (written with the organization) carries a link that sets their password, once; then they
/// sign in.
#[tokio::test]
async fn an_organization_created_by_email_mails_its_admin_a_link_to_set_a_password() {
    on_both_backends(|s| async move {
        let operator = s.operator("ops@platform.test").await;
        let created = operator
            .create_organization(&OrganizationInput {
                name: "Initech".into(),
                admin: PlatformUserInput {
                    email: "peter@initech.test".into(),
                    first_name: "Peter".into(),
                    ..Default::default()
                },
                admin_access: AdminAccess::Email,
            })
            .await
            .unwrap();
        assert_eq!(created.token, None);
        assert_eq!(
            created.welcome_email_sent_to.as_deref(),
            Some("peter@initech.test")
        );
        assert!(created.admin.is_default_admin && created.admin.is_org_admin);
        let org = warden_core::OrgId::from(created.organization.id.as_str());
        let outbox = s.service.store().outbox_of(&org).await.unwrap();
        let welcomes: Vec<_> = outbox
            .iter()
            .filter_map(|i| match &i.effect {
                effect @ warden_core::Effect::SendPasswordReset {
                    org_id,
                    nonce,
                    welcome: true,
                    ..
                } => Some((
                    effect,
                    s.service.settings().link_key.reset_secret(org_id, nonce),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(welcomes.len(), 1, "{outbox:?}");
        let (effect, secret) = &welcomes[0];
        let email = warden_server::service::outbox::email_of(effect, "LINK");
        assert_eq!(email.to, "peter@initech.test");
        assert!(
            email.subject.contains("Initech is ready"),
            "{}",
            email.subject
        );
        assert!(email.body.contains("LINK"), "{}", email.body);
        // The link sets the first password, once; then the admin signs in.
        let complete =
            serde_json::json!({"token": secret, "new_password": "a long first password"});
        let (status, _, _) = s
            .raw(
                reqwest::Method::POST,
                "/v1/password-resets/complete",
                None,
                Some(complete.clone()),
            )
            .await;
        assert_eq!(status, 204);
        let (status, problem, _) = s
            .raw(
                reqwest::Method::POST,
                "/v1/password-resets/complete",
                None,
                Some(complete),
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (410, Some("password_reset_used"))
        );
        let (status, session, _) = s
            .raw(
                reqwest::Method::POST,
                "/v1/sessions",
                None,
                Some(serde_json::json!({
                    "email": "peter@initech.test",
                    "password": "a long first password",
                    "organization": created.organization.id,
                })),
            )
            .await;
        assert!((200..300).contains(&status), "{status} {session}");
        // The creation is audited in the new organization, by the operator.
        let page = s
            .service
            .store()
            .list_audit(&org, &Default::default(), 100, None)
            .await
            .unwrap();
        assert!(!page.events.is_empty());
        assert!(
            page.events
                .iter()
                .all(|e| e.event.actor.starts_with("operator:")),
            "{:?}",
            page.events
        );
        // Nothing of the link reached the audit log.
        let text = format!("{:?}", page.events);
        assert!(!text.contains(secret.as_str()));
    })
    .await;
}
