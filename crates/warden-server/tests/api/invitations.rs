//! Invitations over HTTP (spec section 7.4), on SQLite and PostgreSQL: invite → accept gives
//! exactly what was recorded; links die on resend, revoke, expiry and use, each with its own
//! code; an accepted invitation is no longer editable.

use std::time::Duration;

use warden_client::model::{
    InvitationAcceptance, InvitationInput, InvitationStatus, InvitationUpdate,
    InvitedNamespaceInput, NamespaceInput,
};
use warden_client::Client;

use crate::common::{on_both_backends, on_both_backends_with, problem_of, settings, Server};

fn acceptance(link: &str) -> InvitationAcceptance {
    InvitationAcceptance {
        token: link.to_string(),
        first_name: "Bea".into(),
        last_name: "Bauer".into(),
        password: "correct horse battery".into(),
    }
}

async fn with_namespace_and_group(s: &Server) {
    s.admin_client
        .create_namespace(&NamespaceInput {
            name: "ml".into(),
            access: vec![],
        })
        .await
        .unwrap();
    s.admin_client
        .create_group(&warden_client::model::GroupInput {
            name: "Researchers".into(),
            description: String::new(),
        })
        .await
        .unwrap();
}

fn invitation(email: &str) -> InvitationInput {
    InvitationInput {
        email: email.into(),
        namespaces: vec![InvitedNamespaceInput {
            namespace: "ml".into(),
            permissions: vec!["r:full".into(), "w:configmaps".into()],
        }],
        admin: false,
        billing: true,
        groups: vec!["researchers".into()],
    }
}

#[tokio::test]
async fn an_accepted_invitation_creates_the_user_with_exactly_what_it_records() {
    on_both_backends(|s| async move {
        with_namespace_and_group(&s).await;
        let sent = s
            .admin_client
            .invite(&invitation("bea@example.com"))
            .await
            .unwrap();
        assert_eq!(sent.invitation.status, InvitationStatus::Pending);
        assert!(
            sent.link.contains("/invitations/accept#wdn_inv_"),
            "{}",
            sent.link
        );
        assert_eq!(
            sent.invitation.invited_by_email.as_deref(),
            Some("root@acme.test")
        );
        // "Copy link" gives the same link again; the database does not hold it.
        let copied = s
            .admin_client
            .invitation_link(&sent.invitation.id)
            .await
            .unwrap();
        assert_eq!(copied.link, sent.link);
        let anonymous = s.anonymous();
        let preview = anonymous.inspect_invitation(&sent.link).await.unwrap();
        assert_eq!(
            (preview.organization_name.as_str(), preview.email.as_str()),
            ("Acme", "bea@example.com")
        );
        let accepted = anonymous
            .accept_invitation(&acceptance(&sent.link))
            .await
            .unwrap();
        let user = accepted.user;
        assert_eq!(
            (user.email.as_str(), user.first_name.as_str()),
            ("bea@example.com", "Bea")
        );
        let mut groups = user.groups.clone();
        groups.sort();
        assert_eq!(groups, ["Researchers", "billing_viewer"]);
        let ns = s.admin_client.namespace("ml").await.unwrap();
        let access = ns.access.iter().find(|a| a.user_id == user.id).unwrap();
        assert_eq!(access.permissions, ["r:full", "w:configmaps"]);
        // The password is stored as an argon2id hash, in the same commit.
        let hash = s
            .service
            .store()
            .password_hash(&s.org, &warden_core::UserId::from(user.id.as_str()))
            .await
            .unwrap()
            .unwrap();
        assert!(hash.starts_with("$argon2id$") && !hash.contains("correct horse"));
        let listed = s.admin_client.invitation("bea@example.com").await.unwrap();
        assert_eq!(listed.status, InvitationStatus::Accepted);
        assert_eq!(listed.accepted_user.as_deref(), Some(user.id.as_str()));
        // A link works once; an accepted invitation is not editable.
        problem_of(
            anonymous.accept_invitation(&acceptance(&sent.link)).await,
            410,
            "invitation_already_accepted",
        );
        problem_of(
            s.admin_client
                .update_invitation(
                    &sent.invitation.id,
                    &InvitationUpdate {
                        admin: Some(true),
                        ..Default::default()
                    },
                )
                .await,
            409,
            "invitation_not_pending",
        );
        // The email went to the outbox with the rest of the commit.
        let outbox = s.service.store().outbox_of(&s.org).await.unwrap();
        assert!(outbox.iter().any(|i| matches!(&i.effect,
            warden_core::Effect::SendInvitation { email, .. } if email == "bea@example.com")));
    })
    .await;
}

#[tokio::test]
async fn resent_revoked_and_wrong_links_fail_with_their_own_codes() {
    on_both_backends(|s| async move {
        let admin = &s.admin_client;
        let anonymous = s.anonymous();
        let first = admin.invite(&InvitationInput { email: "a@example.com".into(), ..Default::default() }).await.unwrap();
        let resent = admin.resend_invitation("a@example.com").await.unwrap();
        assert_ne!(resent.link, first.link);
        problem_of(anonymous.accept_invitation(&acceptance(&first.link)).await, 404, "invitation_link_invalid");
        problem_of(anonymous.inspect_invitation(&first.link).await, 404, "invitation_link_invalid");
        let revoked = admin.revoke_invitation("a@example.com").await.unwrap();
        assert_eq!(revoked.item.unwrap().status, InvitationStatus::Revoked);
        problem_of(anonymous.accept_invitation(&acceptance(&resent.link)).await, 410, "invitation_revoked");
        problem_of(admin.invitation_link("a@example.com").await, 409, "invitation_not_pending");
        // Made-up and mangled links.
        problem_of(anonymous.accept_invitation(&acceptance("wdn_inv_abc123_nothing")).await, 404, "invitation_link_invalid");
        let mangled = resent.link.replace("wdn_inv_", "wdn_inx_");
        problem_of(anonymous.accept_invitation(&acceptance(&mangled)).await, 404, "invitation_link_invalid");
        // Strict bodies: an unknown field is named.
        for path in ["/v1/invitations/accept", "/v1/invitations/inspect"] {
            let (status, problem) = anonymous
                .raw(
                    reqwest::Method::POST,
                    path,
                    Some(serde_json::json!({"token": resent.link, "first_name": "B", "password": "0123456789", "surprise": 1})),
                )
                .await
                .unwrap();
            assert_eq!((status, problem["code"].as_str()), (400, Some("unknown_field")), "{path}");
        }
        // A weak password is refused before anything else, and changes nothing.
        let other = admin.invite(&InvitationInput { email: "b@example.com".into(), ..Default::default() }).await.unwrap();
        let mut weak = acceptance(&other.link);
        weak.password = "short".into();
        let p = problem_of(anonymous.accept_invitation(&weak).await, 422, "invalid_field");
        assert_eq!(p.field.as_deref(), Some("password"));
        assert_eq!(admin.invitation("b@example.com").await.unwrap().status, InvitationStatus::Pending);
    })
    .await;
}

fn short_lived() -> warden_server::Settings {
    warden_server::Settings {
        invitation_ttl: Duration::from_millis(600),
        ..settings()
    }
}

#[tokio::test]
async fn an_expired_link_fails_and_a_resend_revives_the_invitation() {
    on_both_backends_with(short_lived, |s| async move {
        let admin = &s.admin_client;
        let anonymous = s.anonymous();
        let sent = admin
            .invite(&InvitationInput {
                email: "late@example.com".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(700)).await;
        problem_of(
            anonymous.accept_invitation(&acceptance(&sent.link)).await,
            410,
            "invitation_expired",
        );
        assert_eq!(
            admin.invitation(&sent.invitation.id).await.unwrap().status,
            InvitationStatus::Expired
        );
        // The address may be invited again once the invitation expired; or it is resent.
        let again = admin.resend_invitation(&sent.invitation.id).await.unwrap();
        anonymous
            .accept_invitation(&acceptance(&again.link))
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn members_and_pending_addresses_are_clear_errors_and_editing_works_until_accepted() {
    on_both_backends(|s| async move {
        with_namespace_and_group(&s).await;
        let admin = &s.admin_client;
        problem_of(
            admin
                .invite(&InvitationInput {
                    email: "ROOT@acme.test".into(),
                    ..Default::default()
                })
                .await,
            409,
            "already_member",
        );
        let sent = admin
            .invite(&InvitationInput {
                email: "c@example.com".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let p = problem_of(
            admin
                .invite(&InvitationInput {
                    email: "C@Example.com".into(),
                    ..Default::default()
                })
                .await,
            409,
            "already_invited",
        );
        assert!(p.detail.contains(&sent.invitation.id), "{}", p.detail);
        let edited = admin
            .update_invitation(
                "c@example.com",
                &InvitationUpdate {
                    namespaces: Some(vec![InvitedNamespaceInput {
                        namespace: "ml".into(),
                        permissions: vec![],
                    }]),
                    admin: Some(true),
                    groups: Some(vec!["Researchers".into()]),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .item
            .unwrap();
        assert!(edited.admin && !edited.billing);
        assert_eq!(edited.namespaces[0].permissions, ["r:full"]);
        assert_eq!(edited.groups[0].name, "Researchers");
        // Reserved keys are not an admin's to give.
        problem_of(
            admin
                .update_invitation(
                    "c@example.com",
                    &InvitationUpdate {
                        namespaces: Some(vec![InvitedNamespaceInput {
                            namespace: "ml".into(),
                            permissions: vec!["w:pods".into()],
                        }]),
                        ..Default::default()
                    },
                )
                .await,
            403,
            "reserved_namespace_permission",
        );
        let accepted = s
            .anonymous()
            .accept_invitation(&acceptance(&sent.link))
            .await
            .unwrap();
        assert!(accepted.user.is_org_admin);
    })
    .await;
}

#[tokio::test]
async fn inviting_needs_the_invite_action_and_refusals_are_audited() {
    on_both_backends(|s| async move {
        let (_, token) = s.user("viewer@acme.test").await;
        let viewer: Client = s.client(&token);
        let p = problem_of(
            viewer
                .invite(&InvitationInput {
                    email: "x@example.com".into(),
                    ..Default::default()
                })
                .await,
            403,
            "forbidden",
        );
        assert_eq!(p.action.as_deref(), Some("iam.users.invite"));
        problem_of(viewer.invitations().await, 403, "forbidden");
        // A refused acceptance is recorded in the organization's audit log.
        let sent = s
            .admin_client
            .invite(&InvitationInput {
                email: "y@example.com".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        s.admin_client
            .revoke_invitation(&sent.invitation.id)
            .await
            .unwrap();
        problem_of(
            s.anonymous()
                .accept_invitation(&acceptance(&sent.link))
                .await,
            410,
            "invitation_revoked",
        );
        let events = s
            .admin_client
            .audit_events(&warden_client::model::AuditQuery::newest(20))
            .await
            .unwrap();
        assert!(
            events
                .items
                .iter()
                .any(|e| e.actor == format!("invitation:{}", sent.invitation.id)
                    && e.error_code.as_deref() == Some("invitation_revoked")),
            "{:?}",
            events.items
        );
    })
    .await;
}
