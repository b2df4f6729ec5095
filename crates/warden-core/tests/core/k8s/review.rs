//! Identities and the SubjectAccessReview decision.

use std::collections::BTreeMap;

use warden_core::command::{Key, UserCommand};
use warden_core::k8s::identity::{parse_username, NamedPrincipal, EXTRA_TOKEN_ID};
use warden_core::k8s::*;
use warden_core::*;

use super::*;

#[test]
fn a_user_is_known_by_email_with_the_org_group_first() {
    let mut f = fixture();
    let bob = f.bob.clone();
    f.org.join("read", &bob);
    let token = f.personal_token(&bob, new_token("laptop", 1, &[], &[]));
    let id = identity(f.state(), &token).unwrap();
    assert_eq!(id.username, "warden:abc123:user:bob@acme.test");
    assert_eq!(id.uid, bob.as_str());
    assert_eq!(
        id.groups,
        [
            "warden:abc123",
            "warden:abc123:group:read",
            "warden:abc123:group:write"
        ]
    );
    assert_eq!(
        id.extra,
        BTreeMap::from([
            ("warden.io/org-id".to_string(), vec!["abc123".to_string()]),
            ("warden.io/token-id".to_string(), vec![token.id.to_string()]),
        ])
    );
    // The email is lowercased; the name parses back to the user, in this organization only.
    let alice = f.name_of(&PrincipalId::User(f.alice.clone()));
    assert_eq!(alice, "warden:abc123:user:alice@acme.test");
    let parsed = parse_username(&f.state().org.id, &alice).unwrap();
    assert_eq!(
        parsed.resolve(f.state()),
        Some(PrincipalId::User(f.alice.clone()))
    );
    assert_eq!(parse_username(&OrgId::from("def456"), &alice), None);
    assert_eq!(
        group_name(&f.state().org.id, "ml-team"),
        "warden:abc123:group:ml-team"
    );
}

#[test]
fn an_org_token_is_its_service_account() {
    let mut f = fixture();
    let token = f.org_token(new_token("ci", 2, &["ml"], &[]));
    let PrincipalId::ServiceAccount(account) = &token.owner else {
        panic!("an org token acts as a service account");
    };
    let id = identity(f.state(), &token).unwrap();
    assert_eq!(
        id.username,
        format!("warden:abc123:serviceaccount:{account}")
    );
    assert_eq!(id.uid, account.as_str());
    assert_eq!(id.groups, ["warden:abc123"]);
    assert_eq!(id.extra["warden.io/token-id"], [token.id.to_string()]);
    assert_eq!(
        parse_username(&f.state().org.id, &id.username),
        Some(NamedPrincipal::ServiceAccount {
            id: account.as_str()
        })
    );
    for name in [
        "warden:def456:serviceaccount:sa_1",
        "warden:abc123:group:admin",
        "warden:abc123:robot:x",
        "warden:abc123:serviceaccount:",
        "warden:abc123:user:Alice@acme.test",
        "warden::user:alice@acme.test",
        "system:admin",
    ] {
        assert_eq!(parse_username(&f.state().org.id, name), None, "{name}");
    }
}

#[test]
fn grants_come_from_legacy_groups_namespace_keys_and_org_tokens() {
    let mut f = fixture();
    let bob = f.name_of(&PrincipalId::User(f.bob.clone()));
    let verdict = f.ask(&resource(&bob, "web", "create", "apps", "deployments"));
    assert!(allowed(&verdict), "{verdict:?}");
    assert_eq!(verdict.reason, "group `write` → ClusterRole `edit`");
    // `edit` writes no RBAC objects.
    let verdict = f.ask(&resource(
        &bob,
        "web",
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
    ));
    assert!(no_opinion(&verdict), "{verdict:?}");

    let alice = f.name_of(&PrincipalId::User(f.alice.clone()));
    let verdict = f.ask(&resource(&alice, "ml", "patch", "apps", "deployments"));
    assert!(allowed(&verdict), "{verdict:?}");
    assert_eq!(verdict.reason, "namespace key `w:deployments` in `ml`");
    let mut scale = resource(&alice, "ml", "update", "apps", "statefulsets");
    scale.resource_attributes.as_mut().unwrap().subresource = "scale".into();
    assert!(allowed(&f.ask(&scale)));
    assert!(allowed(
        &f.ask(&resource(&alice, "ml", "list", "", "secrets"))
    ));
    // Not in another namespace, not for another resource.
    assert!(no_opinion(
        &f.ask(&resource(&alice, "web", "get", "", "pods"))
    ));
    assert!(no_opinion(
        &f.ask(&resource(&alice, "ml", "create", "", "pods"))
    ));

    // An org admin holds every key in every namespace.
    let root = f.name_of(&PrincipalId::User(f.org.root()));
    let verdict = f.ask(&resource(&root, "web", "get", "", "pods"));
    assert!(allowed(&verdict), "{verdict:?}");

    let token = f.org_token(new_token("ci", 3, &["ml"], &[]));
    let account = f.name_of(&token.owner);
    let verdict = f.ask(&with_token(
        resource(&account, "ml", "create", "batch", "jobs"),
        &token,
    ));
    assert!(allowed(&verdict), "{verdict:?}");
    assert_eq!(
        verdict.reason,
        "org token `ci` in namespace `ml` (key `w:jobs`)"
    );
    // Not the reserved keys, not outside its namespaces, not without the token.
    let pods = with_token(resource(&account, "ml", "create", "", "pods"), &token);
    assert!(no_opinion(&f.ask(&pods)));
    let web = with_token(resource(&account, "web", "create", "batch", "jobs"), &token);
    let verdict = f.ask(&web);
    assert!(no_opinion(&verdict), "{verdict:?}");
    assert!(
        verdict.reason.contains("naming `web`"),
        "{}",
        verdict.reason
    );
    assert!(no_opinion(
        &f.ask(&resource(&account, "ml", "create", "batch", "jobs"))
    ));
}

#[test]
fn deactivated_principals_and_bad_tokens_are_denied_outright() {
    let mut f = fixture();
    let alice_id = f.alice.clone();
    let bob_id = f.bob.clone();
    let alice = f.name_of(&PrincipalId::User(alice_id.clone()));
    let bob = f.name_of(&PrincipalId::User(bob_id.clone()));
    let ask = resource(&alice, "ml", "get", "", "pods");

    // Another principal's token.
    let bobs = f.personal_token(&bob_id, new_token("bobs", 4, &[], &[]));
    let verdict = f.ask(&with_token(ask.clone(), &bobs));
    assert!(denied(&verdict), "{verdict:?}");
    // A token that does not exist.
    let mut gone = ask.clone();
    gone.extra
        .insert(EXTRA_TOKEN_ID.into(), vec!["tok_nope".into()]);
    assert!(denied(&f.ask(&gone)));
    // Out of its clusters.
    let dev_only = f.personal_token(&alice_id, new_token("dev", 5, &[], &["dev"]));
    let verdict = f.ask(&with_token(ask.clone(), &dev_only));
    assert!(denied(&verdict), "{verdict:?}");
    assert!(
        verdict.reason.contains("cluster `prod`"),
        "{}",
        verdict.reason
    );
    assert!(allowed(&authorize(
        &f.org.snapshot,
        &f.dev,
        &with_token(ask.clone(), &dev_only),
        f.org.now()
    )));
    // Out of its namespaces: namespaced, cluster-wide and non-resource requests alike,
    // discovery aside.
    let web_only = f.personal_token(&alice_id, new_token("web", 6, &["web"], &[]));
    let verdict = f.ask(&with_token(ask.clone(), &web_only));
    assert!(denied(&verdict), "{verdict:?}");
    assert!(
        verdict.reason.contains("namespace `web`"),
        "{}",
        verdict.reason
    );
    let nodes = with_token(resource(&bob, "", "list", "", "nodes"), &bobs);
    assert!(no_opinion(&f.ask(&nodes)));
    let scoped_bob = f.personal_token(&bob_id, new_token("scoped", 7, &["ml"], &[]));
    let nodes = with_token(resource(&bob, "", "list", "", "namespaces"), &scoped_bob);
    assert!(denied(&f.ask(&nodes)));
    assert!(allowed(&f.ask(&with_token(
        resource(&bob, "", "list", "", "namespaces"),
        &bobs
    ))));
    assert!(denied(
        &f.ask(&with_token(path(&bob, "get", "/metrics"), &scoped_bob))
    ));
    assert!(allowed(&f.ask(&with_token(
        path(&bob, "get", "/apis/apps/v1"),
        &scoped_bob
    ))));
    assert!(allowed(&f.ask(&with_token(
        resource(&bob, "ml", "get", "apps", "deployments"),
        &scoped_bob
    ))));

    // Expired.
    let token = f.personal_token(&alice_id, new_token("short", 8, &[], &[]));
    assert!(allowed(&f.ask(&with_token(ask.clone(), &token))));
    f.org.advance(3_600_000);
    let verdict = f.ask(&with_token(ask.clone(), &token));
    assert!(denied(&verdict), "{verdict:?}");
    assert!(verdict.reason.contains("expired"), "{}", verdict.reason);

    // Deactivated, with or without a token.
    f.org.sys(UserCommand::Deactivate {
        user: Key::from(&alice_id),
    });
    let verdict = f.ask(&ask);
    assert!(denied(&verdict), "{verdict:?}");
    assert!(verdict.reason.contains("deactivated"), "{}", verdict.reason);
    // A uid that is not the principal's.
    let mut other_uid = resource(&bob, "ml", "get", "", "pods");
    other_uid.uid = alice_id.to_string();
    assert!(denied(&f.ask(&other_uid)));
    // A user this organization does not have.
    assert!(denied(&f.ask(&resource(
        "warden:abc123:user:nobody@acme.test",
        "ml",
        "get",
        "",
        "pods"
    ))));
}

#[test]
fn names_that_are_not_this_organizations_get_no_opinion() {
    let f = fixture();
    for user in [
        "jane",
        "system:serviceaccount:kube-system:default",
        "warden:def456:user:alice@acme.test",
        "warden:abc123:group:admin",
    ] {
        let verdict = f.ask(&resource(user, "ml", "get", "", "pods"));
        assert!(no_opinion(&verdict), "{user}: {verdict:?}");
        assert!(
            verdict.reason.contains("not a Warden user"),
            "{}",
            verdict.reason
        );
    }
}

#[test]
fn without_a_grant_the_reason_names_the_smallest_that_would_allow_it() {
    let f = fixture();
    let dave = f.name_of(&PrincipalId::User(f.dave.clone()));
    let verdict = f.ask(&resource(&dave, "ml", "create", "apps", "deployments"));
    assert!(no_opinion(&verdict), "{verdict:?}");
    assert_eq!(
        verdict.reason,
        "no Warden grant for create deployments.apps in `ml`: the namespace key `w:deployments` there would allow it"
    );
    let verdict = f.ask(&resource(&dave, "ml", "create", "", "pods"));
    assert!(verdict.reason.contains("`w:pods`"), "{}", verdict.reason);
    assert!(verdict.reason.contains("reserved"), "{}", verdict.reason);
    let verdict = f.ask(&resource(&dave, "", "list", "", "namespaces"));
    assert!(no_opinion(&verdict));
    assert!(
        verdict.reason.contains("group `read` (ClusterRole `view`)"),
        "{}",
        verdict.reason
    );
    // Read through `view`, everywhere; not Secrets.
    let carol = f.name_of(&PrincipalId::User(f.carol.clone()));
    assert!(allowed(&f.ask(&resource(
        &carol,
        "web",
        "watch",
        "apps",
        "deployments"
    ))));
    assert!(no_opinion(
        &f.ask(&resource(&carol, "web", "get", "", "secrets"))
    ));
}

#[test]
fn discovery_is_open_and_metrics_only_to_cluster_admins() {
    let f = fixture();
    let dave = f.name_of(&PrincipalId::User(f.dave.clone()));
    for p in [
        "/api",
        "/api/v1",
        "/apis/apps/v1",
        "/version",
        "/healthz",
        "/openapi/v3",
    ] {
        assert!(allowed(&f.ask(&path(&dave, "get", p))), "{p}");
    }
    assert!(no_opinion(&f.ask(&path(&dave, "post", "/api"))));
    let review = resource(
        &dave,
        "",
        "create",
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
    );
    assert!(allowed(&f.ask(&review)));

    let bob = f.name_of(&PrincipalId::User(f.bob.clone()));
    let verdict = f.ask(&path(&bob, "get", "/metrics"));
    assert!(no_opinion(&verdict));
    assert!(
        verdict
            .reason
            .contains("group `admin` (ClusterRole `cluster-admin`)"),
        "{}",
        verdict.reason
    );
    let root = f.name_of(&PrincipalId::User(f.org.root()));
    let verdict = f.ask(&path(&root, "get", "/metrics"));
    assert!(allowed(&verdict), "{verdict:?}");
    assert_eq!(
        verdict.reason,
        "group `admin` → ClusterRole `cluster-admin`"
    );
}

#[test]
fn reviews_parse_as_apiservers_send_them() {
    // The example of Kubernetes' webhook-mode documentation, in v1beta1 (`group`) and v1
    // (`groups`), with fields newer apiservers add.
    let v1beta1 = r#"{
        "apiVersion": "authorization.k8s.io/v1beta1",
        "kind": "SubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "namespace": "kittensandponies",
                "verb": "get",
                "group": "unicorn.example.org",
                "resource": "pods"
            },
            "user": "jane",
            "group": ["group1", "group2"]
        }
    }"#;
    let review: SubjectAccessReview = serde_json::from_str(v1beta1).unwrap();
    assert_eq!(review.spec.user, "jane");
    assert_eq!(review.spec.groups, ["group1", "group2"]);
    let attributes = review.spec.resource_attributes.as_ref().unwrap();
    assert_eq!(attributes.namespace, "kittensandponies");
    assert_eq!(attributes.group, "unicorn.example.org");
    assert_eq!(attributes.resource, "pods");
    assert_eq!(attributes.verb, "get");

    let v1 = r#"{
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "metadata": {"creationTimestamp": null},
        "spec": {
            "resourceAttributes": {
                "namespace": "kittensandponies", "verb": "list", "version": "v1",
                "resource": "pods", "labelSelector": {"rawSelector": "app=x"},
                "fieldSelector": {"requirements": []}
            },
            "user": "warden:abc123:user:carol@acme.test",
            "uid": null,
            "groups": ["warden:abc123", "system:authenticated"],
            "extra": {"warden.io/org-id": ["abc123"]}
        },
        "status": {"allowed": false}
    }"#;
    let review: SubjectAccessReview = serde_json::from_str(v1).unwrap();
    assert_eq!(review.spec.groups.len(), 2);
    assert_eq!(review.spec.extra["warden.io/org-id"], ["abc123"]);
    let f = fixture();
    let verdict = f.ask(&review.spec);
    // carol reads pods everywhere through `read` → `view`, even in a namespace Warden lacks.
    assert!(allowed(&verdict), "{verdict:?}");
    let answer = serde_json::to_value(warden_core::k8s::review::SubjectAccessReviewResponse::new(
        &review, &verdict,
    ))
    .unwrap();
    assert_eq!(
        answer,
        serde_json::json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "status": {"allowed": true, "reason": "group `read` → ClusterRole `view`"}
        })
    );
    let denial = AccessVerdict::deny("no".into());
    let answer = serde_json::to_value(denial.status()).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"allowed": false, "denied": true, "reason": "no"})
    );

    let token_review: TokenReview = serde_json::from_str(
        r#"{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
            "spec": {"token": "wdn_x", "audiences": ["https://prod"]}}"#,
    )
    .unwrap();
    assert_eq!(token_review.spec.token, "wdn_x");
    let refused = warden_core::k8s::review::TokenReviewResponse::unauthenticated(
        &token_review,
        "unknown token",
    );
    assert_eq!(
        serde_json::to_value(&refused).unwrap(),
        serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "status": {"authenticated": false, "error": "unknown token"}
        })
    );
}
