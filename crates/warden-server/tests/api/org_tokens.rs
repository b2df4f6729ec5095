//! Scoped personal tokens and org tokens over HTTP (spec section 6, issue 14 items 1–4): the
//! secret shown once and stored only as a hash, scopes by name, names unique per owner, org
//! tokens managed only by IAM admins and unaffected by users' namespace access, roles removed
//! from a user gone from their tokens at once, and leaving users' org tokens listed and
//! revoked in one call.

use reqwest::Method;
use warden_client::model::{
    ClusterInput, NamespaceInput, NamespacePermissionsInput, TokenInput, TokenKind, TokenUpdate,
};
use warden_client::Client;

use crate::common::{on_both_backends, problem_of, Server};

pub const CA: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUWardenTestCA\n-----END CERTIFICATE-----\n";

/// Namespaces `ml` and `web`, clusters `prod` and `dev`.
pub async fn with_namespaces_and_clusters(admin: &Client) {
    for name in ["ml", "web"] {
        admin
            .create_namespace(&NamespaceInput {
                name: name.into(),
                access: Vec::new(),
            })
            .await
            .unwrap();
    }
    for (name, url) in [
        ("prod", "https://prod.k8s.example.com:6443"),
        ("dev", "https://dev.k8s.example.com"),
    ] {
        admin
            .create_cluster(&ClusterInput {
                name: name.into(),
                api_server_url: url.into(),
                ca_bundle: CA.into(),
            })
            .await
            .unwrap();
    }
}

fn scoped(name: &str, namespaces: &[&str], clusters: &[&str]) -> TokenInput {
    TokenInput {
        name: name.into(),
        namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
        clusters: clusters.iter().map(|c| c.to_string()).collect(),
        ..TokenInput::default()
    }
}

#[tokio::test]
async fn a_token_secret_is_shown_once_and_only_its_hash_is_stored() {
    on_both_backends(|s| async move {
        with_namespaces_and_clusters(&s.admin_client).await;
        for org_token in [false, true] {
            let input = scoped(&format!("ci-{org_token}"), &["ml"], &["prod"]);
            let created = if org_token {
                s.admin_client.create_org_token(&input).await.unwrap()
            } else {
                s.admin_client.create_token(&input).await.unwrap()
            };
            let prefix = if org_token { "wdn_org_" } else { "wdn_pat_" };
            assert!(created.secret.starts_with(prefix), "{prefix}");
            assert!(created.kubeconfig.contains(&created.secret));
            // What the database holds: the SHA-256 of the secret, and its first characters.
            let stored = s
                .stored(&format!(
                    "SELECT secret_hash FROM api_tokens WHERE id = '{}'",
                    created.token.id
                ))
                .await;
            let hash =
                warden_core::token::to_hex(&warden_core::token::hash_secret(&created.secret));
            assert_eq!(stored, vec![hash]);
            let everything = s
                .stored(
                    "SELECT id || name || note || secret_hash || display_prefix FROM api_tokens",
                )
                .await
                .concat();
            assert!(!everything.contains(&created.secret));
            // Never again: not in a listing, not in the token's page.
            let again = if org_token {
                serde_json::to_string(&s.admin_client.org_token(&created.token.id).await.unwrap())
            } else {
                serde_json::to_string(&s.admin_client.token(&created.token.id).await.unwrap())
            }
            .unwrap();
            assert!(!again.contains(&created.secret) && !again.contains("kubeconfig"));
            // It works.
            let me = s.client(&created.secret).whoami().await.unwrap();
            assert_eq!(me.principal.id, created.token.owner.id);
        }
    })
    .await;
}

#[tokio::test]
async fn a_personal_token_is_narrowed_by_name_and_edited_without_its_secret() {
    on_both_backends(|s| async move {
        with_namespaces_and_clusters(&s.admin_client).await;
        let created = s
            .admin_client
            .create_token(&scoped("deploy", &["web", "ml"], &["prod"]))
            .await
            .unwrap();
        let names = |items: &[warden_client::model::ScopeItem]| -> Vec<String> {
            items.iter().map(|i| i.name.clone().unwrap()).collect()
        };
        let token = &created.token;
        assert_eq!(token.kind, TokenKind::Personal);
        assert_eq!(names(&token.namespaces), ["ml", "web"]);
        assert_eq!(names(&token.clusters), ["prod"]);
        assert_eq!(
            token.kubernetes_username,
            format!("warden:{}:user:root@acme.test", s.org)
        );
        // Unknown namespaces and clusters are refused with a suggestion; nothing is created.
        let before = s.revision();
        let p = problem_of(
            s.admin_client
                .create_token(&scoped("x", &["mll"], &[]))
                .await,
            422,
            "unknown_namespace",
        );
        // No name is suggested to a personal token's owner (who may not list namespaces);
        // an admin making an org token is told.
        assert!(!p.detail.contains("`ml`"), "{}", p.detail);
        let p = problem_of(
            s.admin_client
                .create_org_token(&scoped("x", &["mll"], &[]))
                .await,
            422,
            "unknown_namespace",
        );
        assert!(p.detail.contains("`ml`"), "{}", p.detail);
        problem_of(
            s.admin_client
                .create_token(&scoped("x", &[], &["prd"]))
                .await,
            422,
            "unknown_cluster",
        );
        assert_eq!(s.revision(), before);
        // Names are unique per owner.
        problem_of(
            s.admin_client
                .create_token(&scoped("DEPLOY", &[], &[]))
                .await,
            409,
            "duplicate_name",
        );
        // The owner edits name and scope; the secret keeps working.
        let edited = s
            .admin_client
            .update_token(
                &token.id,
                &TokenUpdate {
                    name: Some("deploys".into()),
                    namespaces: Some(vec!["web".into()]),
                    clusters: Some(Vec::new()),
                    ..TokenUpdate::default()
                },
            )
            .await
            .unwrap()
            .item
            .unwrap();
        assert_eq!(edited.name, "deploys");
        assert_eq!(names(&edited.namespaces), ["web"]);
        assert!(edited.clusters.is_empty());
        s.client(&created.secret).whoami().await.unwrap();
        // Another user's token is not theirs to edit: it does not exist for them.
        let (_, other) = s.user("other@acme.test").await;
        problem_of(
            s.client(&other)
                .update_token(
                    &token.id,
                    &TokenUpdate {
                        name: Some("mine".into()),
                        ..TokenUpdate::default()
                    },
                )
                .await,
            403,
            "forbidden",
        );
    })
    .await;
}

#[tokio::test]
async fn a_role_removed_from_a_user_is_gone_from_their_tokens_on_the_next_request() {
    on_both_backends(|s| async move {
        let (user, token) = s.user("dev@acme.test").await;
        s.admin_client
            .add_group_member("read", user.as_ref())
            .await
            .unwrap();
        let client = s.client(&token);
        client.users(None).await.unwrap();
        s.admin_client
            .remove_group_member("read", user.as_ref())
            .await
            .unwrap();
        // No wait, no new token: the very next call is refused.
        problem_of(client.users(None).await, 403, "forbidden");
    })
    .await;
}

#[tokio::test]
async fn only_iam_admins_manage_org_tokens_and_user_access_never_changes_them() {
    on_both_backends(|s| async move {
        with_namespaces_and_clusters(&s.admin_client).await;
        let (writer, writer_token) = s.user("writer@acme.test").await;
        s.admin_client
            .add_group_member("write", writer.as_ref())
            .await
            .unwrap();
        let (viewer, viewer_token) = s.user("viewer@acme.test").await;
        s.admin_client
            .add_group_member("read", viewer.as_ref())
            .await
            .unwrap();
        let created = s
            .admin_client
            .create_org_token(&scoped("ci", &["ml"], &[]))
            .await
            .unwrap();
        let id = created.token.id.clone();
        assert_eq!(created.token.kind, TokenKind::Org);
        assert!(created
            .token
            .kubernetes_username
            .starts_with(&format!("warden:{}:serviceaccount:sa_", s.org)));
        // Only org admins list, create, edit and delete them: not writers (no IAM role), not
        // IAM viewers, who do not see them among everyone's personal tokens either.
        let writer_client = s.client(&writer_token);
        let viewer_client = s.client(&viewer_token);
        for client in [&writer_client, &viewer_client] {
            problem_of(client.org_tokens().await, 403, "forbidden");
            problem_of(client.org_token(&id).await, 403, "forbidden");
            problem_of(
                client.org_tokens_created_by("root@acme.test").await,
                403,
                "forbidden",
            );
        }
        let everyones = viewer_client.all_tokens().await.unwrap();
        assert!(everyones
            .items
            .iter()
            .all(|t| t.kind == TokenKind::Personal));
        problem_of(viewer_client.token(&id).await, 404, "not_found");
        for client in [&writer_client, &viewer_client] {
            let before = s.revision();
            problem_of(
                client.create_org_token(&scoped("x", &[], &[])).await,
                403,
                "forbidden",
            );
            problem_of(
                client
                    .update_org_token(
                        &id,
                        &TokenUpdate {
                            namespaces: Some(vec!["web".into()]),
                            ..TokenUpdate::default()
                        },
                    )
                    .await,
                403,
                "forbidden",
            );
            problem_of(client.delete_org_token(&id).await, 403, "forbidden");
            assert_eq!(s.revision(), before);
        }
        let listed = s.admin_client.org_tokens().await.unwrap();
        assert_eq!(listed.items.len(), 1);
        // An org token is not a personal token: `/v1/org-tokens/{id}` finds only org tokens.
        let mine = s
            .admin_client
            .create_token(&scoped("mine", &[], &[]))
            .await
            .unwrap();
        problem_of(
            s.admin_client.org_token(&mine.token.id).await,
            404,
            "not_found",
        );
        // A user's namespace access never changes a token.
        s.admin_client
            .set_namespace_access(
                "ml",
                "writer@acme.test",
                &NamespacePermissionsInput {
                    permissions: vec!["w:deployments".into()],
                },
            )
            .await
            .unwrap();
        s.admin_client.delete_namespace("web").await.unwrap();
        let after = s.admin_client.org_token(&id).await.unwrap();
        assert_eq!(after, created.token);
        // The admin makes it a blank token, then deletes it: it stops working at once.
        let blank = s
            .admin_client
            .update_org_token(
                &id,
                &TokenUpdate {
                    namespaces: Some(Vec::new()),
                    ..TokenUpdate::default()
                },
            )
            .await
            .unwrap()
            .item
            .unwrap();
        assert!(blank.namespaces.is_empty());
        s.client(&created.secret).whoami().await.unwrap();
        s.admin_client.delete_org_token(&id).await.unwrap();
        problem_of(
            s.client(&created.secret).whoami().await,
            401,
            "unauthenticated",
        );
        assert!(s.admin_client.org_tokens().await.unwrap().items.is_empty());
        // Its service account went with it.
        let accounts = s.admin_client.service_accounts().await.unwrap();
        assert!(accounts.items.is_empty(), "{accounts:?}");
    })
    .await;
}

#[tokio::test]
async fn a_leaving_users_org_tokens_keep_working_are_listed_and_revoked_in_one_call() {
    on_both_backends(|s| async move {
        with_namespaces_and_clusters(&s.admin_client).await;
        let (second, second_token) = s.user("second@acme.test").await;
        s.admin_client
            .add_group_member("admin", second.as_ref())
            .await
            .unwrap();
        let second_client = s.client(&second_token);
        let mut secrets = Vec::new();
        for name in ["ci", "backup"] {
            let created = second_client
                .create_org_token(&scoped(name, &["ml"], &[]))
                .await
                .unwrap();
            secrets.push(created.secret);
        }
        // Deactivated: their personal token fails at once, their org tokens keep working,
        // and the deactivation's answer lists them.
        let deactivated = s
            .admin_client
            .deactivate_user("second@acme.test")
            .await
            .unwrap()
            .item
            .unwrap();
        let mut listed: Vec<String> = deactivated
            .org_tokens_created
            .iter()
            .map(|t| t.name.clone())
            .collect();
        listed.sort();
        assert_eq!(listed, ["backup", "ci"]);
        problem_of(second_client.whoami().await, 401, "unauthenticated");
        for secret in &secrets {
            s.client(secret).whoami().await.unwrap();
        }
        let page = s.admin_client.user("second@acme.test").await.unwrap();
        assert_eq!(page.org_tokens_created.len(), 2);
        let created = s
            .admin_client
            .org_tokens_created_by("second@acme.test")
            .await
            .unwrap();
        assert_eq!(created.items.len(), 2);
        // One call revokes them all, audited.
        s.admin_client
            .revoke_org_tokens_created_by("second@acme.test")
            .await
            .unwrap();
        for secret in &secrets {
            problem_of(s.client(secret).whoami().await, 401, "unauthenticated");
        }
        assert!(s
            .admin_client
            .user("second@acme.test")
            .await
            .unwrap()
            .org_tokens_created
            .is_empty());
        let (status, body, _) = s
            .raw(
                Method::GET,
                "/v1/audit-events?limit=5",
                Some(&s.admin_token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.to_string().contains("iam.org_tokens.delete"), "{body}");
    })
    .await;
}

#[tokio::test]
async fn removing_a_user_lists_the_org_tokens_they_created_which_keep_working() {
    let s = Server::start().await;
    with_namespaces_and_clusters(&s.admin_client).await;
    let (second, second_token) = s.user("second@acme.test").await;
    s.admin_client
        .add_group_member("admin", second.as_ref())
        .await
        .unwrap();
    let created = s
        .client(&second_token)
        .create_org_token(&scoped("nightly", &["ml"], &[]))
        .await
        .unwrap();
    let operator = s.operator("ops@platform.test").await;
    let removed = operator
        .platform_remove_user(s.org.as_ref(), "second@acme.test")
        .await
        .unwrap();
    assert_eq!(removed.user.org_tokens_created.len(), 1);
    assert_eq!(removed.user.org_tokens_created[0].name, "nightly");
    let listed: Vec<&str> = removed
        .tokens_created_for_others
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(listed, [created.token.id.as_str()]);
    problem_of(
        s.client(&second_token).whoami().await,
        401,
        "unauthenticated",
    );
    s.client(&created.secret).whoami().await.unwrap();
}
