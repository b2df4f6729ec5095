//! The RBAC objects that give an organization's principals their access in one cluster
//! (spec section 8), as Kubernetes YAML.
//!
//! - Per legacy group with a ClusterRole: a ClusterRoleBinding `warden:<org>:<group>` of the
//!   cluster's built-in ClusterRole to the group's Kubernetes group.
//! - Per namespace and per key someone holds there through namespace grants (implied keys
//!   included): a Role `warden:<key>` with the key's rules and a RoleBinding `warden:<key>` to
//!   those users. Org admins hold every key without a grant; their ClusterRoleBinding covers
//!   them, so they are not listed.
//! - Per namespace named by an active org token valid in the cluster: a Role
//!   `warden:org-token` with the rules of every grantable key and a RoleBinding
//!   `warden:org-tokens` to those tokens' service accounts. A blank org token gets nothing:
//!   its rights are whatever RBAC the customer binds to its username.
//!
//! RBAC cannot narrow a user's rights per token: a personal token's scope is enforced by the
//! SubjectAccessReview webhook, which denies outright what a scoped token asks outside it.
//!
//! The order is stable (ClusterRoleBindings in catalog order, then namespaces by name, each
//! with its Roles and then its RoleBindings by name, subjects by name), so the same state
//! always exports the same text and a re-export after a change differs by that change.

use std::collections::{BTreeMap, BTreeSet};

use super::identity::{group_name, service_account_name, user_name};
use super::rules::{PolicyRule, ROLE_PREFIX};
use super::yaml::{to_stream, Yaml};
use crate::catalog::Catalog;
use crate::domain::{Cluster, OrgId, OrgState, PrincipalId, TokenKind, UserStatus};
use crate::Timestamp;

/// The API group of RBAC objects, also their `apiVersion` without the version.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// The Role of org tokens in a namespace.
pub const ORG_TOKEN_ROLE: &str = "warden:org-token";
/// The RoleBinding of org tokens in a namespace.
pub const ORG_TOKEN_BINDING: &str = "warden:org-tokens";

/// An exported RBAC object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct K8sObject {
    pub name: String,
    /// `None` for a cluster-scoped object.
    pub namespace: Option<String>,
    /// `app.kubernetes.io/managed-by: warden` and `warden.io/org-id`.
    pub labels: BTreeMap<String, String>,
    pub body: RbacBody,
}

/// What kind of RBAC object, with what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RbacBody {
    ClusterRoleBinding {
        role_ref: RoleRef,
        subjects: Vec<Subject>,
    },
    Role {
        rules: Vec<PolicyRule>,
    },
    RoleBinding {
        role_ref: RoleRef,
        subjects: Vec<Subject>,
    },
}

/// `roleRef`: a Role or ClusterRole by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    /// `Role` or `ClusterRole`.
    pub kind: &'static str,
    pub name: String,
}

/// A binding's subject: a Kubernetes user or group (never a Kubernetes service account:
/// Warden's service accounts authenticate as users through the webhook).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subject {
    /// `User` or `Group`.
    pub kind: &'static str,
    pub name: String,
}

impl K8sObject {
    pub fn kind(&self) -> &'static str {
        match self.body {
            RbacBody::ClusterRoleBinding { .. } => "ClusterRoleBinding",
            RbacBody::Role { .. } => "Role",
            RbacBody::RoleBinding { .. } => "RoleBinding",
        }
    }

    /// The object as Kubernetes reads it.
    pub fn to_yaml(&self) -> Yaml {
        let mut metadata = vec![("name".to_string(), Yaml::str(&self.name))];
        if let Some(namespace) = &self.namespace {
            metadata.push(("namespace".to_string(), Yaml::str(namespace)));
        }
        metadata.push((
            "labels".to_string(),
            Yaml::map(self.labels.iter().map(|(k, v)| (k.clone(), Yaml::str(v)))),
        ));
        let mut entries = vec![
            (
                "apiVersion".to_string(),
                Yaml::str(format!("{RBAC_GROUP}/v1")),
            ),
            ("kind".to_string(), Yaml::str(self.kind())),
            ("metadata".to_string(), Yaml::Map(metadata)),
        ];
        match &self.body {
            RbacBody::Role { rules } => {
                entries.push((
                    "rules".to_string(),
                    Yaml::List(rules.iter().map(rule_yaml).collect()),
                ));
            }
            RbacBody::ClusterRoleBinding { role_ref, subjects }
            | RbacBody::RoleBinding { role_ref, subjects } => {
                entries.push((
                    "roleRef".to_string(),
                    Yaml::map([
                        ("apiGroup", Yaml::str(RBAC_GROUP)),
                        ("kind", Yaml::str(role_ref.kind)),
                        ("name", Yaml::str(&role_ref.name)),
                    ]),
                ));
                entries.push((
                    "subjects".to_string(),
                    Yaml::List(
                        subjects
                            .iter()
                            .map(|s| {
                                Yaml::map([
                                    ("kind", Yaml::str(s.kind)),
                                    ("apiGroup", Yaml::str(RBAC_GROUP)),
                                    ("name", Yaml::str(&s.name)),
                                ])
                            })
                            .collect(),
                    ),
                ));
            }
        }
        Yaml::Map(entries)
    }
}

/// A rule as Kubernetes spells it; empty lists are left out.
pub fn rule_yaml(rule: &PolicyRule) -> Yaml {
    let fields = [
        ("apiGroups", &rule.api_groups),
        ("resources", &rule.resources),
        ("resourceNames", &rule.resource_names),
        ("nonResourceURLs", &rule.non_resource_urls),
        ("verbs", &rule.verbs),
    ];
    Yaml::map(
        fields
            .into_iter()
            .filter(|(_, items)| !items.is_empty())
            .map(|(key, items)| (key, Yaml::strs(items))),
    )
}

/// The objects as one YAML stream, documents separated by `---`.
pub fn to_yaml_stream(objects: &[K8sObject]) -> String {
    let documents: Vec<Yaml> = objects.iter().map(K8sObject::to_yaml).collect();
    to_stream(&documents)
}

fn labels(org: &OrgId) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_string(),
            "warden".to_string(),
        ),
        ("warden.io/org-id".to_string(), org.to_string()),
    ])
}

fn users(names: BTreeSet<String>) -> Vec<Subject> {
    names
        .into_iter()
        .map(|name| Subject { kind: "User", name })
        .collect()
}

/// Everything one namespace gets: per Role name, its rules and its binding's subjects.
type NamespaceObjects = BTreeMap<String, (Vec<PolicyRule>, BTreeSet<String>)>;

/// The RBAC objects of the organization for `cluster` at `now` (org tokens expired by then are
/// left out), in their stable order.
pub fn export(
    catalog: &Catalog,
    state: &OrgState,
    cluster: &Cluster,
    now: Timestamp,
) -> Vec<K8sObject> {
    let org = &state.org.id;
    let mut objects = Vec::new();
    for (i, legacy) in catalog.legacy_groups().iter().enumerate() {
        let (Some(role), Some(group)) = (
            catalog.kubernetes().legacy_group_role(i),
            state.group_by_name(&legacy.name),
        ) else {
            continue;
        };
        objects.push(K8sObject {
            name: format!("{ROLE_PREFIX}{org}:{}", group.name),
            namespace: None,
            labels: labels(org),
            body: RbacBody::ClusterRoleBinding {
                role_ref: RoleRef {
                    kind: "ClusterRole",
                    name: role.name.clone(),
                },
                subjects: vec![Subject {
                    kind: "Group",
                    name: group_name(org, &group.name),
                }],
            },
        });
    }

    let mut namespaces: BTreeMap<&str, NamespaceObjects> = BTreeMap::new();
    for grant in state.namespace_grants.iter() {
        let (Some(namespace), Some(user)) = (
            state.namespaces.get(&grant.namespace),
            state.users.get(&grant.user),
        ) else {
            continue;
        };
        let Some(perm) = catalog.namespace_permission(&grant.key) else {
            continue;
        };
        if user.status != UserStatus::Active {
            continue;
        }
        let roles = namespaces.entry(namespace.name.as_str()).or_default();
        let held = std::iter::once(&perm.key).chain(&perm.implies);
        for key in held.filter_map(|k| catalog.namespace_permission(k)) {
            roles
                .entry(format!("{ROLE_PREFIX}{}", key.key))
                .or_insert_with(|| (key.kubernetes.clone(), BTreeSet::new()))
                .1
                .insert(user_name(org, &user.email));
        }
    }

    let token_rules: Vec<PolicyRule> = catalog
        .namespace_permissions()
        .iter()
        .filter(|p| !p.reserved)
        .flat_map(|p| p.kubernetes.iter().cloned())
        .collect();
    for token in state.tokens.values() {
        let PrincipalId::ServiceAccount(account) = &token.owner else {
            continue;
        };
        let active = state
            .service_accounts
            .get(account)
            .is_some_and(|a| a.active);
        let expired = token.expires_at.is_some_and(|at| at <= now);
        if token.kind != TokenKind::Org
            || !active
            || expired
            || !token.scope.allows_cluster(&cluster.id)
        {
            continue;
        }
        for id in &token.scope.namespaces {
            let Some(namespace) = state.namespaces.get(id) else {
                continue;
            };
            namespaces
                .entry(namespace.name.as_str())
                .or_default()
                .entry(ORG_TOKEN_ROLE.to_string())
                .or_insert_with(|| (token_rules.clone(), BTreeSet::new()))
                .1
                .insert(service_account_name(org, account));
        }
    }

    for (namespace, roles) in namespaces {
        let object = |name: &str, body| K8sObject {
            name: name.to_string(),
            namespace: Some(namespace.to_string()),
            labels: labels(org),
            body,
        };
        let mut bindings = Vec::new();
        for (role, (rules, subjects)) in roles {
            let binding = if role == ORG_TOKEN_ROLE {
                ORG_TOKEN_BINDING
            } else {
                role.as_str()
            };
            objects.push(object(&role, RbacBody::Role { rules }));
            bindings.push(object(
                binding,
                RbacBody::RoleBinding {
                    role_ref: RoleRef {
                        kind: "Role",
                        name: role.clone(),
                    },
                    subjects: users(subjects),
                },
            ));
        }
        bindings.sort_by(|a, b| a.name.cmp(&b.name));
        objects.extend(bindings);
    }
    objects
}
