//! The RBAC export and kubeconfigs.

use warden_core::command::{ClusterCommand, Key, NamespaceCommand};
use warden_core::k8s::rbac::{RbacBody, Subject};
use warden_core::k8s::*;
use warden_core::*;

use super::*;
use crate::common::Org;

fn exported(f: &Fixture, cluster: &ClusterId) -> Vec<K8sObject> {
    let cluster = &f.state().clusters[cluster];
    export(&f.org.catalog, f.state(), cluster, f.org.now())
}

fn subjects(object: &K8sObject) -> Vec<String> {
    match &object.body {
        RbacBody::RoleBinding { subjects, .. } | RbacBody::ClusterRoleBinding { subjects, .. } => {
            subjects.iter().map(|s: &Subject| s.name.clone()).collect()
        }
        RbacBody::Role { .. } => Vec::new(),
    }
}

#[test]
fn the_export_binds_groups_keys_and_org_tokens_in_a_stable_order() {
    let mut f = fixture();
    let ci = f.org_token(new_token("ci", 9, &["web", "ml"], &[]));
    let dev_only = f.org_token(new_token("dev-ci", 10, &["ml"], &["dev"]));
    let blank = f.org_token(new_token("blank", 11, &[], &[]));
    let objects = exported(&f, &f.prod.clone());
    let heads: Vec<(String, Option<String>, &str)> = objects
        .iter()
        .map(|o| (o.name.clone(), o.namespace.clone(), o.kind()))
        .collect();
    let ns = |n: &str| Some(n.to_string());
    assert_eq!(
        heads,
        [
            ("warden:abc123:admin".into(), None, "ClusterRoleBinding"),
            ("warden:abc123:write".into(), None, "ClusterRoleBinding"),
            ("warden:abc123:read".into(), None, "ClusterRoleBinding"),
            ("warden:org-token".into(), ns("ml"), "Role"),
            ("warden:r:full".into(), ns("ml"), "Role"),
            ("warden:w:deployments".into(), ns("ml"), "Role"),
            ("warden:org-tokens".into(), ns("ml"), "RoleBinding"),
            ("warden:r:full".into(), ns("ml"), "RoleBinding"),
            ("warden:w:deployments".into(), ns("ml"), "RoleBinding"),
            ("warden:org-token".into(), ns("web"), "Role"),
            ("warden:org-tokens".into(), ns("web"), "RoleBinding"),
        ]
    );
    assert_eq!(subjects(&objects[0]), ["warden:abc123:group:admin"]);
    let ci_name = f.name_of(&ci.owner);
    assert_eq!(subjects(&objects[6]), vec![ci_name.clone()]);
    assert_eq!(
        subjects(&objects[7]),
        ["warden:abc123:user:alice@acme.test"]
    );
    let RbacBody::ClusterRoleBinding { role_ref, .. } = &objects[1].body else {
        panic!("a ClusterRoleBinding");
    };
    assert_eq!(
        (role_ref.kind, role_ref.name.as_str()),
        ("ClusterRole", "edit")
    );
    // The dev-only token is bound in dev, not in prod; the blank token nowhere.
    let text = to_yaml_stream(&objects);
    assert!(!text.contains(&f.name_of(&dev_only.owner)));
    assert!(!text.contains(&f.name_of(&blank.owner)));
    let dev = to_yaml_stream(&exported(&f, &f.dev.clone()));
    assert!(dev.contains(&f.name_of(&dev_only.owner)));
    assert!(!dev.contains(&f.name_of(&blank.owner)));

    // The text: RBAC's field names, labels, quoted strings, documents separated.
    assert_eq!(text.matches("\n---\n").count(), objects.len() - 1);
    let expected_binding = format!(
        "\
apiVersion: \"rbac.authorization.k8s.io/v1\"
kind: \"RoleBinding\"
metadata:
  name: \"warden:org-tokens\"
  namespace: \"web\"
  labels:
    app.kubernetes.io/managed-by: \"warden\"
    warden.io/org-id: \"abc123\"
roleRef:
  apiGroup: \"rbac.authorization.k8s.io\"
  kind: \"Role\"
  name: \"warden:org-token\"
subjects:
- kind: \"User\"
  apiGroup: \"rbac.authorization.k8s.io\"
  name: \"{ci_name}\"
"
    );
    assert!(text.ends_with(&expected_binding), "{text}");
    assert!(
        text.contains("rules:\n- apiGroups:\n  - \"apps\"\n  resources:\n  - \"deployments\"\n")
    );
}

#[test]
fn an_expired_org_token_is_left_out_of_the_export() {
    let mut f = fixture();
    f.org_token(new_token("ci", 9, &["web"], &[]));
    let prod = &f.state().clusters[&f.prod];
    let at = |ms: i64| {
        export(
            &f.org.catalog,
            f.state(),
            prod,
            Timestamp(f.org.now().0 + ms),
        )
        .iter()
        .filter(|o| o.namespace.as_deref() == Some("web"))
        .count()
    };
    // The token lives an hour: bound in `web` until then, not after.
    assert_eq!(at(0), 2);
    assert_eq!(at(2 * 3_600_000), 0);
}

#[test]
fn the_export_is_the_same_whatever_the_order_things_were_made_in() {
    let build = |reverse: bool| {
        let mut org = Org::new();
        let mut emails = vec!["a@acme.test", "b@acme.test", "c@acme.test"];
        let mut namespaces = vec!["ml", "web", "data"];
        if reverse {
            emails.reverse();
            namespaces.reverse();
        }
        org.sys(ClusterCommand::Create {
            name: "prod".into(),
            api_server_url: "https://prod.k8s.test".into(),
            ca_bundle: String::new(),
        });
        for email in &emails {
            org.user(email);
        }
        for name in &namespaces {
            org.sys(NamespaceCommand::Create {
                name: (*name).into(),
                access: emails
                    .iter()
                    .map(|e| (Key::from(*e), vec!["w:configmaps".to_string()]))
                    .collect(),
            });
        }
        org
    };
    let export_of = |org: &Org| {
        let cluster = org.state().clusters.values().next().unwrap().clone();
        to_yaml_stream(&export(&org.catalog, org.state(), &cluster, org.now()))
    };
    let (one, other) = (build(false), build(true));
    assert_eq!(export_of(&one), export_of(&other));

    // The same state rebuilt in reverse insertion order, org tokens included.
    let mut f = fixture();
    f.org_token(new_token("ci", 12, &["ml"], &[]));
    f.org_token(new_token("ci2", 13, &["ml", "web"], &[]));
    let state = f.state().clone();
    let mut rebuilt = OrgState::empty(state.org.clone());
    for (id, user) in state.users.iter().rev() {
        rebuilt.users.insert(id.clone(), user.clone());
    }
    for (id, group) in state.groups.iter().rev() {
        rebuilt.groups.insert(id.clone(), group.clone());
    }
    for (group, user) in state.memberships().iter().rev() {
        rebuilt.insert_membership(group.clone(), user.clone());
    }
    for (id, account) in state.service_accounts.iter().rev() {
        rebuilt.service_accounts.insert(id.clone(), account.clone());
    }
    for (id, namespace) in state.namespaces.iter().rev() {
        rebuilt.namespaces.insert(id.clone(), namespace.clone());
    }
    for grant in state.namespace_grants.iter().rev() {
        rebuilt.namespace_grants.insert(grant.clone());
    }
    for (id, token) in state.tokens.iter().rev() {
        rebuilt.tokens.insert(id.clone(), token.clone());
    }
    let cluster = &state.clusters[&f.prod];
    assert_eq!(
        to_yaml_stream(&export(&f.org.catalog, &state, cluster, f.org.now())),
        to_yaml_stream(&export(&f.org.catalog, &rebuilt, cluster, f.org.now()))
    );
}

#[test]
fn a_re_export_after_one_grant_differs_by_that_subject() {
    let mut f = fixture();
    let before = exported(&f, &f.prod.clone());
    let carol = f.carol.clone();
    f.org.sys(NamespaceCommand::SetAccess {
        namespace: Key::from("ml"),
        user: Key::from(&carol),
        keys: vec!["r:full".into()],
    });
    let after = exported(&f, &f.prod.clone());
    assert_eq!(before.len(), after.len());
    let changed: Vec<(&K8sObject, &K8sObject)> =
        before.iter().zip(&after).filter(|(b, a)| b != a).collect();
    assert_eq!(changed.len(), 1);
    let (b, a) = changed[0];
    assert_eq!(
        (a.name.as_str(), a.kind()),
        ("warden:r:full", "RoleBinding")
    );
    let mut expected = subjects(b);
    expected.push("warden:abc123:user:carol@acme.test".into());
    expected.sort();
    assert_eq!(subjects(a), expected);
    // In the text: the subject's three lines, nothing else.
    let (before, after) = (to_yaml_stream(&before), to_yaml_stream(&after));
    let (before, after): (Vec<&str>, Vec<&str>) =
        (before.lines().collect(), after.lines().collect());
    let at = before
        .iter()
        .zip(&after)
        .take_while(|(b, a)| b == a)
        .count();
    assert_eq!(after.len(), before.len() + 3);
    assert_eq!(after[at + 3..], before[at..]);
    assert_eq!(
        after[at..at + 3],
        [
            "- kind: \"User\"",
            "  apiGroup: \"rbac.authorization.k8s.io\"",
            "  name: \"warden:abc123:user:carol@acme.test\""
        ]
    );
}

#[test]
fn a_token_kubeconfig_has_a_context_per_cluster_of_its_scope() {
    use base64::Engine as _;
    let mut f = fixture();
    let alice = f.alice.clone();
    let every = f.personal_token(&alice, new_token("laptop", 14, &["web", "ml"], &[]));
    let text = token_kubeconfig(f.state(), &every, "wdn_secret_1");
    let ca = base64::engine::general_purpose::STANDARD.encode(CA);
    let expected = format!(
        "\
apiVersion: \"v1\"
kind: \"Config\"
clusters:
- name: \"warden-abc123-dev\"
  cluster:
    server: \"https://dev.k8s.test:6443\"
    certificate-authority-data: \"{ca}\"
- name: \"warden-abc123-prod\"
  cluster:
    server: \"https://prod.k8s.test:6443\"
    certificate-authority-data: \"{ca}\"
contexts:
- name: \"warden-abc123-dev\"
  context:
    cluster: \"warden-abc123-dev\"
    user: \"warden-abc123-laptop\"
    namespace: \"ml\"
- name: \"warden-abc123-prod\"
  context:
    cluster: \"warden-abc123-prod\"
    user: \"warden-abc123-laptop\"
    namespace: \"ml\"
current-context: \"warden-abc123-dev\"
users:
- name: \"warden-abc123-laptop\"
  user:
    token: \"wdn_secret_1\"
preferences: {{}}
"
    );
    assert_eq!(text, expected);

    // One chosen cluster; no namespace; an unnamed token is named by its id.
    let prod_only = f.personal_token(&alice, new_token("", 15, &[], &["prod"]));
    let text = token_kubeconfig(f.state(), &prod_only, "wdn_secret_2");
    assert_eq!(text.matches("- name: \"warden-abc123-prod\"").count(), 2);
    assert!(!text.contains("dev"));
    assert!(!text.contains("namespace"));
    assert!(text.contains(&format!("- name: \"warden-abc123-{}\"", prod_only.id)));
    assert!(text.contains("token: \"wdn_secret_2\""));

    // A deleted cluster is left out; with none left, there is no current context.
    let prod = f.prod.clone();
    f.org.sys(ClusterCommand::Delete {
        cluster: Key::from(&prod),
    });
    let text = token_kubeconfig(f.state(), &prod_only, "wdn_secret_2");
    assert!(
        text.contains("clusters: []\ncontexts: []\nusers:"),
        "{text}"
    );
    assert!(!text.contains("current-context"));
}

#[test]
fn a_webhook_kubeconfig_points_the_apiserver_at_warden() {
    let text = webhook_kubeconfig(
        "https://warden.test/k8s/authenticate",
        "wdn_whk_1",
        Some(CA),
    );
    assert!(text.contains(
        "- name: \"warden\"\n  cluster:\n    server: \"https://warden.test/k8s/authenticate\"\n"
    ));
    assert!(text.contains("current-context: \"webhook\""));
    assert!(text.contains("- name: \"kube-apiserver\"\n  user:\n    token: \"wdn_whk_1\"\n"));
    assert!(text.contains("certificate-authority-data"));
}
