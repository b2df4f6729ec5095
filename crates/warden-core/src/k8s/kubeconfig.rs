//! Kubeconfig files: the one shown with a new token's secret (`cw-kubeconfig`, spec section
//! 6), and the one a cluster's kube-apiserver reads to call Warden's webhooks.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::yaml::Yaml;
use crate::domain::{ApiToken, Cluster, OrgState};

/// A kubeconfig for a token: one cluster and one context per cluster of the token's scope
/// (every cluster of the organization when it names none; clusters deleted since are left
/// out), by name; one user holding the secret. Each context's namespace is the first, by
/// name, of the token's namespaces that still exist (none: no namespace). The first context
/// is the current one.
pub fn token_kubeconfig(state: &OrgState, token: &ApiToken, secret: &str) -> String {
    let org = &state.org.id;
    let mut clusters: Vec<&Cluster> = if token.scope.clusters.is_empty() {
        state.clusters.values().collect()
    } else {
        token
            .scope
            .clusters
            .iter()
            .filter_map(|id| state.clusters.get(id))
            .collect()
    };
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    let namespace = token
        .scope
        .namespaces
        .iter()
        .filter_map(|id| state.namespaces.get(id))
        .map(|n| n.name.as_str())
        .min();
    let label = if token.name.is_empty() {
        token.id.as_str()
    } else {
        token.name.as_str()
    };
    let user = format!("warden-{org}-{label}");
    let named: Vec<(String, &Cluster)> = clusters
        .into_iter()
        .map(|c| (format!("warden-{org}-{}", c.name), c))
        .collect();

    let cluster_entries = named
        .iter()
        .map(|(name, c)| {
            named_entry(
                name,
                "cluster",
                cluster_body(&c.api_server_url, Some(&c.ca_bundle)),
            )
        })
        .collect();
    let context_entries = named
        .iter()
        .map(|(name, _)| {
            let mut context = vec![
                ("cluster".to_string(), Yaml::str(name)),
                ("user".to_string(), Yaml::str(&user)),
            ];
            if let Some(namespace) = namespace {
                context.push(("namespace".to_string(), Yaml::str(namespace)));
            }
            named_entry(name, "context", Yaml::Map(context))
        })
        .collect();
    let user_entry = named_entry(&user, "user", Yaml::map([("token", Yaml::str(secret))]));
    config(
        cluster_entries,
        context_entries,
        named.first().map(|(name, _)| name.as_str()),
        user_entry,
    )
}

/// The kubeconfig of a kube-apiserver's `--authentication-token-webhook-config-file` and
/// `--authorization-webhook-config-file`: the cluster `warden` is Warden's endpoint (with the
/// CA that signed its certificate, when given), the user `kube-apiserver` presents the
/// cluster's webhook credential.
pub fn webhook_kubeconfig(endpoint_url: &str, secret: &str, ca_pem: Option<&str>) -> String {
    config(
        vec![named_entry(
            "warden",
            "cluster",
            cluster_body(endpoint_url, ca_pem),
        )],
        vec![named_entry(
            "webhook",
            "context",
            Yaml::map([
                ("cluster", Yaml::str("warden")),
                ("user", Yaml::str("kube-apiserver")),
            ]),
        )],
        Some("webhook"),
        named_entry(
            "kube-apiserver",
            "user",
            Yaml::map([("token", Yaml::str(secret))]),
        ),
    )
}

/// `{name: .., <field>: body}`: how a kubeconfig lists clusters, contexts and users.
fn named_entry(name: &str, field: &str, body: Yaml) -> Yaml {
    Yaml::map([("name", Yaml::str(name)), (field, body)])
}

/// A cluster's server, and its CA as base64 of the PEM text when there is one.
fn cluster_body(server: &str, ca_pem: Option<&str>) -> Yaml {
    let mut body = vec![("server".to_string(), Yaml::str(server))];
    if let Some(ca) = ca_pem.filter(|ca| !ca.trim().is_empty()) {
        body.push((
            "certificate-authority-data".to_string(),
            Yaml::str(STANDARD.encode(ca.as_bytes())),
        ));
    }
    Yaml::Map(body)
}

fn config(clusters: Vec<Yaml>, contexts: Vec<Yaml>, current: Option<&str>, user: Yaml) -> String {
    let mut entries = vec![
        ("apiVersion".to_string(), Yaml::str("v1")),
        ("kind".to_string(), Yaml::str("Config")),
        ("clusters".to_string(), Yaml::List(clusters)),
        ("contexts".to_string(), Yaml::List(contexts)),
    ];
    if let Some(current) = current {
        entries.push(("current-context".to_string(), Yaml::str(current)));
    }
    entries.push(("users".to_string(), Yaml::List(vec![user])));
    entries.push(("preferences".to_string(), Yaml::Map(Vec::new())));
    Yaml::Map(entries).to_document()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_kubeconfig_names_warden_and_the_apiserver() {
        let text = webhook_kubeconfig(
            "https://warden.test/k8s/authorize",
            "wdn_whk_s",
            Some("PEM"),
        );
        let expected = "\
apiVersion: \"v1\"
kind: \"Config\"
clusters:
- name: \"warden\"
  cluster:
    server: \"https://warden.test/k8s/authorize\"
    certificate-authority-data: \"UEVN\"
contexts:
- name: \"webhook\"
  context:
    cluster: \"warden\"
    user: \"kube-apiserver\"
current-context: \"webhook\"
users:
- name: \"kube-apiserver\"
  user:
    token: \"wdn_whk_s\"
preferences: {}
";
        assert_eq!(text, expected);
        let without_ca = webhook_kubeconfig("https://w/k8s/authenticate", "s", None);
        assert!(!without_ca.contains("certificate-authority-data"));
    }
}
