//! The Kubernetes side over HTTP (issue 14, items 5 and 6): the webhooks as a kube-apiserver
//! calls them (TokenReview, SubjectAccessReview v1 and v1beta1, bodies in the shape the
//! Kubernetes documentation gives), the per-cluster webhook credential, and the RBAC export.

use reqwest::Method;
use serde_json::{json, Value};
use warden_client::model::{
    NamespaceAccessInput, NamespaceInput, TokenInput, WebhookCredentialInput,
};

use crate::common::{problem_of, Server};
use crate::org_tokens::with_namespaces_and_clusters;

/// The cluster `prod`'s webhook credential.
async fn credential(s: &Server, cluster: &str) -> String {
    s.admin_client
        .issue_webhook_credential(cluster, &WebhookCredentialInput::default())
        .await
        .unwrap()
        .secret
}

/// A webhook call with `credential`: status and body.
async fn call(s: &Server, path: &str, credential: &str, body: Value) -> (u16, Value) {
    let (status, body, _) = s
        .raw(Method::POST, path, Some(credential), Some(body))
        .await;
    (status, body)
}

fn token_review(token: &str) -> Value {
    // The shape of the Kubernetes documentation's example (webhook token authentication).
    json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {
            "token": token,
            "audiences": ["https://myserver.example.com", "https://myserver.internal.example.com"]
        }
    })
}

fn access_review(version: &str, user: &str, extra: Value, attributes: Value) -> Value {
    let mut spec = json!({"user": user, "extra": extra});
    let groups = if version.ends_with("v1beta1") {
        "group"
    } else {
        "groups"
    };
    spec[groups] = json!(["system:authenticated"]);
    for (key, value) in attributes.as_object().unwrap() {
        spec[key] = value.clone();
    }
    json!({"apiVersion": version, "kind": "SubjectAccessReview", "spec": spec})
}

#[tokio::test]
async fn the_webhooks_take_only_a_clusters_current_credential() {
    let s = Server::start().await;
    with_namespaces_and_clusters(&s.admin_client).await;
    let body = token_review(&s.admin_token);
    for path in ["/k8s/authenticate", "/k8s/authorize"] {
        // No credential, a user's token, a made-up credential: 401 problems.
        let (status, problem, _) = s.raw(Method::POST, path, None, Some(body.clone())).await;
        assert_eq!(status, 401, "{problem}");
        assert_eq!(problem["code"], "unauthenticated");
        let (status, problem) = call(&s, path, &s.admin_token, body.clone()).await;
        assert_eq!(status, 401, "{problem}");
    }
    let first = credential(&s, "prod").await;
    assert!(first.starts_with("wdn_whk_"));
    let (status, answer) = call(&s, "/k8s/authenticate", &first, body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    // A new credential replaces the old one at once.
    let second = credential(&s, "prod").await;
    let (status, _) = call(&s, "/k8s/authenticate", &first, body.clone()).await;
    assert_eq!(status, 401);
    let (status, _) = call(&s, "/k8s/authenticate", &second, body.clone()).await;
    assert_eq!(status, 200);
    // The credential is a cluster's, not an API caller's.
    problem_of(s.client(&second).whoami().await, 401, "unauthenticated");
    // Only its hash is stored.
    let stored = s
        .stored("SELECT webhook_secret_hash FROM clusters WHERE name = 'prod'")
        .await;
    assert_eq!(
        stored,
        vec![warden_core::token::to_hex(
            &warden_core::token::hash_secret(&second)
        )]
    );
    // A body that is not JSON is a 400 problem, never a 5xx.
    let (status, problem, _) = s
        .send(
            s.request(Method::POST, "/k8s/authorize")
                .bearer_auth(&second)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(status, 400, "{problem}");
}

#[tokio::test]
async fn a_token_review_names_the_tokens_identity_or_says_why_not() {
    let s = Server::start().await;
    with_namespaces_and_clusters(&s.admin_client).await;
    let prod = credential(&s, "prod").await;
    let org = s.org.to_string();

    // The admin's personal token: the user, their groups (org-qualified, as the RBAC export
    // binds them), the organization's group, and the token's id for the authorizer.
    let (status, answer) = call(&s, "/k8s/authenticate", &prod, token_review(&s.admin_token)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["apiVersion"], "authentication.k8s.io/v1");
    assert_eq!(answer["kind"], "TokenReview");
    let status_ = &answer["status"];
    assert_eq!(status_["authenticated"], true, "{answer}");
    assert_eq!(
        status_["user"]["username"],
        format!("warden:{org}:user:root@acme.test")
    );
    assert_eq!(status_["user"]["uid"], s.admin.to_string());
    let groups: Vec<&str> = status_["user"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    assert!(
        groups.contains(&format!("warden:{org}").as_str()),
        "{groups:?}"
    );
    assert!(
        groups.contains(&format!("warden:{org}:group:admin").as_str()),
        "{groups:?}"
    );
    assert_eq!(
        status_["audiences"],
        json!([
            "https://myserver.example.com",
            "https://myserver.internal.example.com"
        ])
    );
    let token_id = s.admin_client.whoami().await.unwrap().token_id.unwrap();
    assert_eq!(
        status_["user"]["extra"]["warden.io/token-id"],
        json!([token_id])
    );

    // An org token: its own service account.
    let org_token = s
        .admin_client
        .create_org_token(&TokenInput {
            name: "ci".into(),
            namespaces: vec!["ml".into()],
            ..TokenInput::default()
        })
        .await
        .unwrap();
    let (_, answer) = call(
        &s,
        "/k8s/authenticate",
        &prod,
        token_review(&org_token.secret),
    )
    .await;
    assert_eq!(
        answer["status"]["user"]["username"],
        org_token.token.kubernetes_username.as_str()
    );

    // Refusals: 200 with `authenticated: false` and an error, never the token echoed.
    let dev_only = s
        .admin_client
        .create_token(&TokenInput {
            name: "dev-only".into(),
            clusters: vec!["dev".into()],
            ..TokenInput::default()
        })
        .await
        .unwrap();
    let (_, user_token) = s.user("leaver@acme.test").await;
    s.admin_client
        .deactivate_user("leaver@acme.test")
        .await
        .unwrap();
    let revoked = s
        .admin_client
        .create_token(&TokenInput {
            name: "revoked".into(),
            ..TokenInput::default()
        })
        .await
        .unwrap();
    s.admin_client
        .delete_token(&revoked.token.id)
        .await
        .unwrap();
    let mut typo = dev_only.secret.clone().into_bytes();
    typo[12] = if typo[12] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    for (token, why) in [
        (dev_only.secret.as_str(), "not valid for this cluster"),
        (user_token.as_str(), "deactivated"),
        (revoked.secret.as_str(), "unknown or revoked"),
        (typo.as_str(), "checksum"),
        ("not-a-token", "not a Warden access token"),
        ("", "not a Warden access token"),
        (prod.as_str(), "not a Warden access token"),
    ] {
        let (status, answer) = call(&s, "/k8s/authenticate", &prod, token_review(token)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["status"]["authenticated"], false,
            "{token}: {answer}"
        );
        assert!(answer["status"].get("user").is_none(), "{answer}");
        let error = answer["status"]["error"].as_str().unwrap();
        assert!(error.contains(why), "{token}: {error}");
        assert!(token.is_empty() || !answer.to_string().contains(token));
    }
    // Valid in the cluster it names.
    let dev = credential(&s, "dev").await;
    let (_, answer) = call(
        &s,
        "/k8s/authenticate",
        &dev,
        token_review(&dev_only.secret),
    )
    .await;
    assert_eq!(answer["status"]["authenticated"], true, "{answer}");
    // An older apiserver's v1beta1 review is answered in v1beta1.
    let mut beta = token_review(&s.admin_token);
    beta["apiVersion"] = json!("authentication.k8s.io/v1beta1");
    let (status, answer) = call(&s, "/k8s/authenticate", &prod, beta).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["apiVersion"], "authentication.k8s.io/v1beta1");
    assert_eq!(answer["status"]["authenticated"], true, "{answer}");
    // An empty body is a review of no token: refused, not an error.
    let (status, answer) = call(&s, "/k8s/authenticate", &prod, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"]["authenticated"], false);
}

#[tokio::test]
async fn an_expired_token_is_not_authenticated() {
    let s = Server::start().await;
    with_namespaces_and_clusters(&s.admin_client).await;
    let prod = credential(&s, "prod").await;
    let created = s
        .admin_client
        .create_token(&TokenInput {
            name: "old".into(),
            ..TokenInput::default()
        })
        .await
        .unwrap();
    // Its end, moved into the past behind the server's back; then the database is served
    // again (the server reads what is stored).
    s.tamper(&format!(
        "UPDATE api_tokens SET expires_at = 1 WHERE id = '{}'",
        created.token.id
    ))
    .await;
    let t = s.reopen().await;
    let (status, answer) = call(
        &t,
        "/k8s/authenticate",
        &prod,
        token_review(&created.secret),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"]["authenticated"], false);
    assert!(
        answer["status"]["error"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_subject_access_review_is_answered_from_the_snapshot_and_the_grants() {
    let s = Server::start().await;
    with_namespaces_and_clusters(&s.admin_client).await;
    let prod = credential(&s, "prod").await;
    let org = s.org.to_string();
    let (_, dev_token) = s.user("dev@acme.test").await;
    s.admin_client
        .create_namespace(&NamespaceInput {
            name: "team".into(),
            access: vec![NamespaceAccessInput {
                user: "dev@acme.test".into(),
                permissions: vec!["r:full".into(), "w:deployments".into()],
            }],
        })
        .await
        .unwrap();
    let dev = format!("warden:{org}:user:dev@acme.test");
    let create_deployment = |ns: &str| {
        json!({"resourceAttributes": {
            "namespace": ns, "verb": "create", "group": "apps", "version": "v1",
            "resource": "deployments"
        }})
    };
    let ask = |version: &str, user: &str, extra: Value, attributes: Value| {
        let body = access_review(version, user, extra, attributes);
        let s = &s;
        let prod = prod.clone();
        async move { call(s, "/k8s/authorize", &prod, body).await }
    };
    // Allowed through a namespace key, in both API versions, each answered in its own.
    for version in ["authorization.k8s.io/v1", "authorization.k8s.io/v1beta1"] {
        let (status, answer) = ask(version, &dev, json!({}), create_deployment("team")).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["apiVersion"], version);
        assert_eq!(answer["kind"], "SubjectAccessReview");
        assert_eq!(answer["status"]["allowed"], true, "{answer}");
        let reason = answer["status"]["reason"].as_str().unwrap();
        assert!(reason.contains("w:deployments"), "{reason}");
    }
    // Not granted: no opinion (so the cluster's own RBAC may still allow), and the reason
    // names what would allow it.
    let (_, answer) = ask(
        "authorization.k8s.io/v1",
        &dev,
        json!({}),
        create_deployment("ml"),
    )
    .await;
    assert_eq!(answer["status"]["allowed"], false, "{answer}");
    assert!(
        answer["status"].get("denied").is_none_or(|d| d == false),
        "{answer}"
    );
    let reason = answer["status"]["reason"].as_str().unwrap();
    assert!(reason.contains("w:deployments"), "{reason}");
    // A reserved key is not the user's: pods are not theirs to create.
    let pods = json!({"resourceAttributes": {"namespace": "team", "verb": "create", "resource": "pods", "version": "v1"}});
    let (_, answer) = ask("authorization.k8s.io/v1", &dev, json!({}), pods.clone()).await;
    assert_eq!(answer["status"]["allowed"], false, "{answer}");
    // The admin (legacy `admin` → cluster-admin) may.
    let root = format!("warden:{org}:user:root@acme.test");
    let (_, answer) = ask("authorization.k8s.io/v1", &root, json!({}), pods).await;
    assert_eq!(answer["status"]["allowed"], true, "{answer}");
    // Non-resource requests: discovery for everyone of the organization, /metrics not.
    let get = |path: &str| json!({"nonResourceAttributes": {"path": path, "verb": "get"}});
    let (_, answer) = ask("authorization.k8s.io/v1", &dev, json!({}), get("/apis")).await;
    assert_eq!(answer["status"]["allowed"], true, "{answer}");
    let (_, answer) = ask("authorization.k8s.io/v1", &dev, json!({}), get("/metrics")).await;
    assert_eq!(answer["status"]["allowed"], false, "{answer}");
    let (_, answer) = ask("authorization.k8s.io/v1", &root, json!({}), get("/metrics")).await;
    assert_eq!(answer["status"]["allowed"], true, "{answer}");
    // A token narrowed to another namespace: explicitly denied, whatever the user holds.
    let scoped = s
        .client(&dev_token)
        .create_token(&TokenInput {
            name: "ml-only".into(),
            namespaces: vec!["ml".into()],
            ..TokenInput::default()
        })
        .await;
    // dev holds no Access Token Admin role: the admin makes one to show the rule.
    problem_of(scoped, 403, "forbidden");
    let admin_scoped = s
        .admin_client
        .create_token(&TokenInput {
            name: "ml-only".into(),
            namespaces: vec!["ml".into()],
            ..TokenInput::default()
        })
        .await
        .unwrap();
    let extra = json!({"warden.io/token-id": [admin_scoped.token.id]});
    let (_, answer) = ask(
        "authorization.k8s.io/v1",
        &root,
        extra.clone(),
        create_deployment("team"),
    )
    .await;
    assert_eq!(answer["status"]["allowed"], false, "{answer}");
    assert_eq!(answer["status"]["denied"], true, "{answer}");
    let (_, answer) = ask(
        "authorization.k8s.io/v1",
        &root,
        extra,
        create_deployment("ml"),
    )
    .await;
    assert_eq!(answer["status"]["allowed"], true, "{answer}");
    // A deactivated user: denied outright.
    s.admin_client
        .deactivate_user("dev@acme.test")
        .await
        .unwrap();
    let (_, answer) = ask(
        "authorization.k8s.io/v1",
        &dev,
        json!({}),
        create_deployment("team"),
    )
    .await;
    assert_eq!(answer["status"]["denied"], true, "{answer}");
    // Someone Warden does not know: no opinion.
    let (_, answer) = ask(
        "authorization.k8s.io/v1",
        "system:serviceaccount:kube-system:default",
        json!({}),
        create_deployment("team"),
    )
    .await;
    assert_eq!(answer["status"]["allowed"], false, "{answer}");
    assert!(
        answer["status"].get("denied").is_none_or(|d| d == false),
        "{answer}"
    );
}

#[tokio::test]
async fn the_documentations_own_subject_access_review_is_read_as_sent() {
    let s = Server::start().await;
    with_namespaces_and_clusters(&s.admin_client).await;
    let prod = credential(&s, "prod").await;
    // Recorded from the Kubernetes documentation (webhook mode, "Request payloads"): a
    // resource request, verbatim.
    let documented = r#"{
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
    "group": [
      "group1",
      "group2"
    ]
  }
}"#;
    let (status, answer, _) = s
        .send(
            s.request(Method::POST, "/k8s/authorize")
                .bearer_auth(&prod)
                .header("content-type", "application/json")
                .body(documented),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["apiVersion"], "authorization.k8s.io/v1beta1");
    // `jane` is nobody Warden knows: no opinion, said why.
    assert_eq!(answer["status"]["allowed"], false);
    assert!(
        answer["status"]["reason"]
            .as_str()
            .unwrap()
            .contains("jane"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_rbac_export_is_yaml_in_a_stable_order() {
    let s = Server::start().await;
    with_namespaces_and_clusters(&s.admin_client).await;
    let first = s.admin_client.cluster_rbac("prod").await.unwrap();
    assert!(first.contains("kind: \"ClusterRoleBinding\""), "{first}");
    assert!(first.contains("cluster-admin"), "{first}");
    assert_eq!(first, s.admin_client.cluster_rbac("prod").await.unwrap());
    let (status, _, headers) = s
        .raw(
            Method::GET,
            "/v1/clusters/prod/rbac",
            Some(&s.admin_token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/yaml");
    problem_of(s.admin_client.cluster_rbac("nope").await, 404, "not_found");
}
