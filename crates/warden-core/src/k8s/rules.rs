//! Kubernetes RBAC rules as the catalog states them: what each namespace permission key and
//! each built-in ClusterRole a legacy group binds to allows, validated at load, and the
//! standard RBAC match of one request against them.
//!
//! The rules are data (`data/catalog.toml`). The three ClusterRoles (`view`, `edit`,
//! `cluster-admin`) are Warden's own approximation of Kubernetes' bootstrap policy: Warden uses
//! them only to answer SubjectAccessReviews the way those roles would, while the RBAC export
//! binds the cluster's real built-in roles.

use serde::{Deserialize, Serialize};

use crate::catalog::{CatalogError, LegacyGroup, NamespacePermission};

/// One RBAC policy rule (`rules[]` of a Role or ClusterRole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    /// API groups (`""` is the core group, `"*"` every group).
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// Resources, `resource/subresource` for a subresource, `"*"` for every one.
    #[serde(default)]
    pub resources: Vec<String>,
    /// When not empty, the only object names the rule applies to.
    #[serde(default)]
    pub resource_names: Vec<String>,
    pub verbs: Vec<String>,
    /// Paths of non-resource requests (`/healthz`, `/api/*`); only in ClusterRoles.
    #[serde(default)]
    pub non_resource_urls: Vec<String>,
}

/// A ClusterRole as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterRole {
    pub name: String,
    pub description: String,
    pub rules: Vec<PolicyRule>,
}

/// What a request asks, as RBAC matches it. Borrowed from a review: matching allocates
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    Resource {
        verb: &'a str,
        group: &'a str,
        resource: &'a str,
        subresource: &'a str,
        name: &'a str,
    },
    NonResource {
        verb: &'a str,
        path: &'a str,
    },
}

impl PolicyRule {
    /// Kubernetes' RBAC match: the verb, then the API group, resource (`resource/subresource`
    /// for a subresource; `*/subresource` matches it in any resource) and object name, or the
    /// non-resource path (a trailing `*` matches by prefix).
    pub fn matches(&self, request: &Request<'_>) -> bool {
        match *request {
            Request::Resource {
                verb,
                group,
                resource,
                subresource,
                name,
            } => {
                self.non_resource_urls.is_empty()
                    && any_is(&self.verbs, verb)
                    && any_is(&self.api_groups, group)
                    && self
                        .resources
                        .iter()
                        .any(|r| resource_matches(r, resource, subresource))
                    && (self.resource_names.is_empty()
                        || (!name.is_empty() && self.resource_names.iter().any(|n| n == name)))
            }
            Request::NonResource { verb, path } => {
                any_is(&self.verbs, verb)
                    && self.non_resource_urls.iter().any(|url| {
                        url == "*"
                            || url == path
                            || url
                                .strip_suffix('*')
                                .is_some_and(|prefix| path.starts_with(prefix))
                    })
            }
        }
    }

    /// How much the rule grants, for choosing the smallest grant to suggest: the product of
    /// its list sizes, a wildcard counting as many.
    fn breadth(&self) -> u64 {
        let count = |items: &[String]| -> u64 {
            items
                .iter()
                .map(|i| if i.contains('*') { WILDCARD } else { 1 })
                .sum::<u64>()
                .max(1)
        };
        count(&self.verbs)
            .saturating_mul(count(&self.api_groups))
            .saturating_mul(count(&self.resources))
            .saturating_mul(count(&self.non_resource_urls))
    }
}

/// What a wildcard weighs in [`PolicyRule::breadth`]: more than any list the catalog spells
/// out.
const WILDCARD: u64 = 1_000;

fn any_is(items: &[String], wanted: &str) -> bool {
    items.iter().any(|i| i == "*" || i == wanted)
}

fn resource_matches(rule: &str, resource: &str, subresource: &str) -> bool {
    if rule == "*" {
        return true;
    }
    if subresource.is_empty() {
        return rule == resource;
    }
    rule.split_once('/')
        .is_some_and(|(r, s)| s == subresource && (r == resource || r == "*"))
}

/// The sum of the rules' breadths.
pub fn breadth(rules: &[PolicyRule]) -> u64 {
    rules
        .iter()
        .fold(0u64, |sum, r| sum.saturating_add(r.breadth()))
}

/// The catalog's Kubernetes side beyond each key's own rules: the ClusterRoles, which legacy
/// group binds which, and the orders in which grants are suggested (smallest first).
#[derive(Debug, Clone, Default)]
pub struct KubernetesRules {
    cluster_roles: Vec<ClusterRole>,
    /// Per legacy group (catalog order): the index of its ClusterRole.
    legacy_roles: Vec<Option<usize>>,
    /// Indexes of namespace permission keys, grantable ones first, then by breadth.
    keys_by_breadth: Vec<usize>,
    /// Indexes of ClusterRoles by breadth.
    roles_by_breadth: Vec<usize>,
}

impl KubernetesRules {
    /// Validates the ClusterRoles, every key's rules and every legacy group's ClusterRole.
    pub(crate) fn load(
        cluster_roles: Vec<ClusterRole>,
        keys: &[NamespacePermission],
        legacy_groups: &[LegacyGroup],
    ) -> Result<KubernetesRules, CatalogError> {
        for (i, role) in cluster_roles.iter().enumerate() {
            if !is_rbac_name(&role.name)
                || cluster_roles.iter().take(i).any(|r| r.name == role.name)
            {
                return Err(CatalogError::BadClusterRole(role.name.clone()));
            }
            validate_rules(&format!("ClusterRole `{}`", role.name), &role.rules, true)?;
        }
        for key in keys {
            if !is_rbac_name(&format!("{ROLE_PREFIX}{}", key.key)) {
                return Err(CatalogError::BadNamespaceKey(key.key.clone()));
            }
            validate_rules(&format!("key `{}`", key.key), &key.kubernetes, false)?;
        }
        let mut legacy_roles = Vec::with_capacity(legacy_groups.len());
        for group in legacy_groups {
            let role = match &group.cluster_role {
                None => None,
                Some(name) => Some(
                    cluster_roles
                        .iter()
                        .position(|r| &r.name == name)
                        .ok_or_else(|| CatalogError::UnknownClusterRole {
                            group: group.name.clone(),
                            role: name.clone(),
                        })?,
                ),
            };
            legacy_roles.push(role);
        }
        let mut keys_by_breadth: Vec<usize> = (0..keys.len()).collect();
        keys_by_breadth.sort_by_key(|&i| keys.get(i).map(|k| (k.reserved, breadth(&k.kubernetes))));
        let mut roles_by_breadth: Vec<usize> = (0..cluster_roles.len()).collect();
        roles_by_breadth.sort_by_key(|&i| cluster_roles.get(i).map(|r| breadth(&r.rules)));
        Ok(KubernetesRules {
            cluster_roles,
            legacy_roles,
            keys_by_breadth,
            roles_by_breadth,
        })
    }

    /// The ClusterRoles, in catalog order.
    pub fn cluster_roles(&self) -> &[ClusterRole] {
        &self.cluster_roles
    }

    pub fn cluster_role(&self, name: &str) -> Option<&ClusterRole> {
        self.cluster_roles.iter().find(|r| r.name == name)
    }

    /// The ClusterRole of the `i`-th legacy group of the catalog, if it binds one.
    pub fn legacy_group_role(&self, i: usize) -> Option<&ClusterRole> {
        self.legacy_roles
            .get(i)
            .copied()
            .flatten()
            .and_then(|r| self.cluster_roles.get(r))
    }

    /// Indexes of the namespace permission keys: grantable keys first, each part from the
    /// one granting least.
    pub fn keys_by_breadth(&self) -> &[usize] {
        &self.keys_by_breadth
    }

    /// The ClusterRoles, from the one granting least.
    pub fn roles_by_breadth(&self) -> impl Iterator<Item = &ClusterRole> + '_ {
        self.roles_by_breadth
            .iter()
            .filter_map(|&i| self.cluster_roles.get(i))
    }
}

/// What the exported Role of a key is named after: `warden:` and the key.
pub const ROLE_PREFIX: &str = "warden:";

/// A valid name for an RBAC object: what Kubernetes accepts as a path segment (not `.` or
/// `..`, no `/` or `%`), at most 253 bytes, printable ASCII.
pub fn is_rbac_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'%')
}

/// A rule list as Kubernetes' API validation would accept it: verbs always; a resource
/// rule names API groups and resources; non-resource URLs (ClusterRoles only) go alone, each
/// `*` or a path starting with `/`, with a `*` only at its end.
fn validate_rules(owner: &str, rules: &[PolicyRule], cluster: bool) -> Result<(), CatalogError> {
    let bad = |reason: &str| CatalogError::BadKubernetesRule {
        owner: owner.to_string(),
        reason: reason.to_string(),
    };
    if rules.is_empty() {
        return Err(bad("has no rule"));
    }
    let words_ok = |items: &[String]| {
        items
            .iter()
            .all(|i| !i.chars().any(|c| c.is_whitespace() || c.is_control()))
    };
    for rule in rules {
        if rule.verbs.is_empty() || rule.verbs.iter().any(String::is_empty) {
            return Err(bad("a rule lists no verb, or an empty one"));
        }
        let lists = [
            &rule.api_groups,
            &rule.resources,
            &rule.resource_names,
            &rule.verbs,
            &rule.non_resource_urls,
        ];
        if !lists.iter().all(|l| words_ok(l)) {
            return Err(bad("a rule holds whitespace or a control character"));
        }
        if rule.non_resource_urls.is_empty() {
            if rule.api_groups.is_empty()
                || rule.resources.is_empty()
                || rule.resources.iter().any(String::is_empty)
            {
                return Err(bad("a resource rule needs API groups and resources"));
            }
        } else {
            if !cluster {
                return Err(bad("non-resource URLs belong to ClusterRoles only"));
            }
            if !rule.api_groups.is_empty()
                || !rule.resources.is_empty()
                || !rule.resource_names.is_empty()
            {
                return Err(bad("a rule names either resources or non-resource URLs"));
            }
            let url_ok = |u: &String| {
                (u == "*" || u.starts_with('/')) && u.find('*').is_none_or(|at| at + 1 == u.len())
            };
            if !rule.non_resource_urls.iter().all(url_ok) {
                return Err(bad(
                    "a non-resource URL is `*` or a path, a `*` only at its end",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, BUILTIN_CATALOG};

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
        let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        PolicyRule {
            api_groups: owned(groups),
            resources: owned(resources),
            resource_names: Vec::new(),
            verbs: owned(verbs),
            non_resource_urls: Vec::new(),
        }
    }

    fn resource<'a>(verb: &'a str, group: &'a str, resource: &'a str, sub: &'a str) -> Request<'a> {
        Request::Resource {
            verb,
            group,
            resource,
            subresource: sub,
            name: "",
        }
    }

    #[test]
    fn resources_match_as_rbac_does() {
        let deployments = rule(
            &["apps"],
            &["deployments", "deployments/scale"],
            &["update"],
        );
        assert!(deployments.matches(&resource("update", "apps", "deployments", "")));
        assert!(deployments.matches(&resource("update", "apps", "deployments", "scale")));
        assert!(!deployments.matches(&resource("update", "apps", "deployments", "status")));
        assert!(!deployments.matches(&resource("get", "apps", "deployments", "")));
        assert!(!deployments.matches(&resource("update", "", "deployments", "")));
        let every = rule(&["*"], &["*"], &["*"]);
        assert!(every.matches(&resource("create", "", "pods", "exec")));
        assert!(!every.matches(&Request::NonResource {
            verb: "get",
            path: "/metrics"
        }));
        let scale = rule(&["*"], &["*/scale"], &["get"]);
        assert!(scale.matches(&resource("get", "apps", "statefulsets", "scale")));
        assert!(!scale.matches(&resource("get", "apps", "statefulsets", "")));
        let mut named = rule(&[""], &["configmaps"], &["get"]);
        named.resource_names = vec!["settings".into()];
        let get = |name| Request::Resource {
            verb: "get",
            group: "",
            resource: "configmaps",
            subresource: "",
            name,
        };
        assert!(named.matches(&get("settings")));
        assert!(!named.matches(&get("other")));
        assert!(!named.matches(&get("")));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_prefix() {
        let mut urls = rule(&[], &[], &["get"]);
        urls.non_resource_urls = vec!["/healthz".into(), "/apis/*".into()];
        let get = |path| Request::NonResource { verb: "get", path };
        assert!(urls.matches(&get("/healthz")));
        assert!(urls.matches(&get("/apis/apps/v1")));
        assert!(!urls.matches(&get("/healthz/etcd")));
        assert!(!urls.matches(&get("/api")));
        assert!(!urls.matches(&Request::NonResource {
            verb: "post",
            path: "/healthz"
        }));
        assert!(!urls.matches(&resource("get", "", "pods", "")));
    }

    #[test]
    fn the_builtin_rules_are_loaded_and_ordered() {
        let catalog = Catalog::builtin().unwrap();
        let k8s = catalog.kubernetes();
        let names: Vec<&str> = k8s
            .cluster_roles()
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(names, ["view", "edit", "cluster-admin"]);
        let by_breadth: Vec<&str> = k8s.roles_by_breadth().map(|r| r.name.as_str()).collect();
        assert_eq!(by_breadth, ["view", "edit", "cluster-admin"]);
        let admin = catalog
            .legacy_groups()
            .iter()
            .position(|g| g.name == "admin")
            .unwrap();
        assert_eq!(k8s.legacy_group_role(admin).unwrap().name, "cluster-admin");
        let keys: Vec<&str> = k8s
            .keys_by_breadth()
            .iter()
            .map(|&i| catalog.namespace_permissions()[i].key.as_str())
            .collect();
        // Grantable keys first; `w:full` grants the most of all.
        assert_eq!(keys.last(), Some(&"w:full"));
        assert_eq!(keys[keys.len() - 2], "w:pods");
        for perm in catalog.namespace_permissions() {
            assert!(!perm.kubernetes.is_empty(), "{}", perm.key);
        }
    }

    #[test]
    fn bad_rules_are_refused_at_load() {
        let no_groups = BUILTIN_CATALOG.replacen(
            "{ api_groups = [\"\"], resources = [\"configmaps\"]",
            "{ api_groups = [], resources = [\"configmaps\"]",
            1,
        );
        assert_ne!(no_groups, BUILTIN_CATALOG);
        assert!(matches!(
            Catalog::parse(&no_groups),
            Err(CatalogError::BadKubernetesRule { .. })
        ));
        let unknown_role =
            BUILTIN_CATALOG.replacen("cluster_role = \"edit\"", "cluster_role = \"editor\"", 1);
        assert!(matches!(
            Catalog::parse(&unknown_role),
            Err(CatalogError::UnknownClusterRole { .. })
        ));
        let bad_url = BUILTIN_CATALOG.replacen(
            "non_resource_urls = [\"*\"]",
            "non_resource_urls = [\"/a*b\"]",
            1,
        );
        assert_ne!(bad_url, BUILTIN_CATALOG);
        assert!(matches!(
            Catalog::parse(&bad_url),
            Err(CatalogError::BadKubernetesRule { .. })
        ));
    }

    #[test]
    fn rbac_names_are_path_segments() {
        assert!(is_rbac_name("warden:w:deployments"));
        assert!(!is_rbac_name("warden:a/b"));
        assert!(!is_rbac_name(".."));
        assert!(!is_rbac_name("a b"));
        assert!(!is_rbac_name(""));
    }
}
