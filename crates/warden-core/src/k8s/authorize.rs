//! The SubjectAccessReview decision: what Warden answers a cluster's kube-apiserver about one
//! request of one of the organization's principals.
//!
//! 1. A username that is not this organization's (see [`super::identity`]): no opinion; the
//!    cluster's other authorizers (its own RBAC) decide.
//! 2. A principal Warden does not know, or an inactive one, or a uid that is not the
//!    principal's: denied.
//! 3. The token named by the `warden.io/token-id` extra must exist, be the principal's and
//!    be unexpired, and its scope must allow the cluster; a personal token narrowed to
//!    namespaces is denied outright anything outside them (cluster-scoped and non-resource
//!    requests too, discovery aside): RBAC would otherwise allow it through the user's group
//!    bindings, and a token never does more than its scope.
//! 4. Grants: discovery for every active principal; a user's legacy groups' ClusterRoles,
//!    everywhere; in the request's namespace, the user's namespace keys (org admins hold
//!    every key); an org token's grantable keys in each namespace it names.
//! 5. Nothing grants it: no opinion (so RBAC a customer bound to a blank token's username
//!    still applies), with the smallest catalog grant that would allow it.
//!
//! Warden decides from its own state, not from the groups in the review: they were Warden's
//! answer at authentication, and memberships may have changed since. Rule matches compare
//! borrowed strings and allocate nothing; what allocates is finding a user by email (its
//! lowercase form) and the reason's text (well under a microsecond in all, `benches/k8s.rs`).

use std::sync::LazyLock;

use super::identity::{parse_username, EXTRA_TOKEN_ID};
use super::review::{AccessVerdict, SubjectAccessSpec};
use super::rules::{PolicyRule, Request};
use crate::catalog::Catalog;
use crate::domain::{ApiToken, ClusterId, OrgState, PrincipalId, Timestamp, TokenKind};
use crate::engine::Snapshot;
use crate::error::cut;

/// What every active principal may do, like Kubernetes' `system:discovery` and
/// `system:basic-user`: read the API's discovery documents and health, and ask about its own
/// access.
static DISCOVERY: LazyLock<Vec<PolicyRule>> = LazyLock::new(|| {
    let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
    let create = |group: &str, resources: &[&str]| PolicyRule {
        api_groups: owned(&[group]),
        resources: owned(resources),
        resource_names: Vec::new(),
        verbs: owned(&["create"]),
        non_resource_urls: Vec::new(),
    };
    vec![
        PolicyRule {
            api_groups: Vec::new(),
            resources: Vec::new(),
            resource_names: Vec::new(),
            verbs: owned(&["get"]),
            non_resource_urls: owned(&[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/version",
                "/healthz",
                "/livez",
                "/readyz",
                "/openapi/*",
            ]),
        },
        create(
            "authorization.k8s.io",
            &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        ),
        create("authentication.k8s.io", &["selfsubjectreviews"]),
    ]
});

/// The rules every active principal of the organization holds in every cluster.
pub fn discovery_rules() -> &'static [PolicyRule] {
    &DISCOVERY
}

/// May the request of `spec` be done in `cluster`, at `now`? See the module's documentation.
pub fn authorize(
    snapshot: &Snapshot,
    cluster: &ClusterId,
    spec: &SubjectAccessSpec,
    now: Timestamp,
) -> AccessVerdict {
    let state = snapshot.state();
    let catalog = snapshot.catalog();
    let org = &state.org.id;
    let Some(named) = parse_username(org, &spec.user) else {
        return AccessVerdict::no_opinion(format!(
            "`{}` is not a Warden user of organization `{org}`",
            cut(&spec.user)
        ));
    };
    if !state.clusters.contains_key(cluster) {
        return AccessVerdict::no_opinion(format!(
            "cluster `{}` is not a cluster of organization `{org}`",
            cut(cluster.as_str())
        ));
    }
    let Some(principal) = named.resolve(state) else {
        return AccessVerdict::deny(format!(
            "organization `{org}` has no user or service account `{}`",
            cut(&spec.user)
        ));
    };
    if !snapshot.is_active(principal.as_str()) {
        return AccessVerdict::deny(format!("`{}` is deactivated", cut(&spec.user)));
    }
    if !spec.uid.is_empty() && spec.uid != principal.as_str() {
        return AccessVerdict::deny(format!(
            "uid `{}` is not the uid of `{}`",
            cut(&spec.uid),
            cut(&spec.user)
        ));
    }
    let token = match request_token(state, spec, &principal, cluster, now) {
        Ok(token) => token,
        Err(verdict) => return verdict,
    };
    let (request, namespace) = match (&spec.resource_attributes, &spec.non_resource_attributes) {
        (Some(r), _) => (
            Request::Resource {
                verb: &r.verb,
                group: &r.group,
                resource: &r.resource,
                subresource: &r.subresource,
                name: &r.name,
            },
            r.namespace.as_str(),
        ),
        (None, Some(n)) => (
            Request::NonResource {
                verb: &n.verb,
                path: &n.path,
            },
            "",
        ),
        (None, None) => {
            return AccessVerdict::no_opinion(
                "the review names neither a resource nor a non-resource request".to_string(),
            )
        }
    };

    if any_matches(&DISCOVERY, &request) {
        return AccessVerdict::allow(
            "discovery, open to every active principal of the organization".to_string(),
        );
    }
    if let Some(token) = token.filter(|t| t.kind == TokenKind::Personal) {
        if !token.scope.namespaces.is_empty() && !names_namespace(state, token, namespace) {
            return AccessVerdict::deny(format!(
                "token `{}` acts only in {}: {} is outside its scope",
                cut(token_label(token)),
                scope_names(state, token),
                describe(&request, namespace)
            ));
        }
    }

    if let PrincipalId::User(user) = &principal {
        for group in state.groups_of(user).filter_map(|g| state.groups.get(g)) {
            let Some(role) = group
                .legacy
                .then(|| legacy_role(catalog, &group.name))
                .flatten()
            else {
                continue;
            };
            if any_matches(&role.rules, &request) {
                return AccessVerdict::allow(format!(
                    "group `{}` → ClusterRole `{}`",
                    group.name, role.name
                ));
            }
        }
        if !namespace.is_empty() {
            let held = snapshot.namespace_keys_held(user.as_str(), namespace, now);
            if let Some(key) = smallest_key(catalog, &request, |i, _| bit(held, i)) {
                let admin = if snapshot.is_org_admin(user.as_str(), now) {
                    " (an org admin holds every key)"
                } else {
                    ""
                };
                return AccessVerdict::allow(format!(
                    "namespace key `{key}` in `{namespace}`{admin}"
                ));
            }
        }
    }
    if let Some(token) = token.filter(|t| t.kind == TokenKind::Org) {
        if !namespace.is_empty() && names_namespace(state, token, namespace) {
            if let Some(key) = smallest_key(catalog, &request, |_, reserved| !reserved) {
                return AccessVerdict::allow(format!(
                    "org token `{}` in namespace `{namespace}` (key `{key}`)",
                    cut(token_label(token))
                ));
            }
        }
    }
    AccessVerdict::no_opinion(remedy(catalog, &request, namespace, token))
}

/// The token the review's extra names, checked: `Ok(None)` when it names none.
fn request_token<'a>(
    state: &'a OrgState,
    spec: &SubjectAccessSpec,
    principal: &PrincipalId,
    cluster: &ClusterId,
    now: Timestamp,
) -> Result<Option<&'a ApiToken>, AccessVerdict> {
    let Some(ids) = spec.extra.get(EXTRA_TOKEN_ID) else {
        return Ok(None);
    };
    let [id] = ids.as_slice() else {
        return Err(AccessVerdict::deny(format!(
            "`{EXTRA_TOKEN_ID}` must name exactly one token"
        )));
    };
    let Some(token) = state.tokens.get(id.as_str()) else {
        return Err(AccessVerdict::deny(format!(
            "token `{}` no longer exists",
            cut(id)
        )));
    };
    if token.owner != *principal {
        return Err(AccessVerdict::deny(format!(
            "token `{}` does not belong to `{principal}`",
            cut(id)
        )));
    }
    if token.expires_at.is_some_and(|at| now >= at) {
        return Err(AccessVerdict::deny(format!(
            "token `{}` has expired",
            cut(token_label(token))
        )));
    }
    if !token.scope.allows_cluster(cluster) {
        let name = state
            .clusters
            .get(cluster)
            .map_or(cluster.as_str(), |c| c.name.as_str());
        return Err(AccessVerdict::deny(format!(
            "token `{}` is not valid in cluster `{name}`",
            cut(token_label(token))
        )));
    }
    Ok(Some(token))
}

fn any_matches(rules: &[PolicyRule], request: &Request<'_>) -> bool {
    rules.iter().any(|r| r.matches(request))
}

fn bit(bits: u32, i: usize) -> bool {
    u32::try_from(i)
        .ok()
        .and_then(|i| 1u32.checked_shl(i))
        .is_some_and(|b| bits & b != 0)
}

/// The ClusterRole a legacy group of this name binds, if any.
fn legacy_role<'a>(catalog: &'a Catalog, group: &str) -> Option<&'a super::rules::ClusterRole> {
    let i = catalog
        .legacy_groups()
        .iter()
        .position(|g| g.name == group)?;
    catalog.kubernetes().legacy_group_role(i)
}

/// The smallest key among those `eligible(index, reserved)` whose rules match the request.
fn smallest_key<'a>(
    catalog: &'a Catalog,
    request: &Request<'_>,
    eligible: impl Fn(usize, bool) -> bool,
) -> Option<&'a str> {
    let keys = catalog.namespace_permissions();
    catalog
        .kubernetes()
        .keys_by_breadth()
        .iter()
        .filter_map(|&i| keys.get(i).map(|k| (i, k)))
        .find(|(i, k)| eligible(*i, k.reserved) && any_matches(&k.kubernetes, request))
        .map(|(_, k)| k.key.as_str())
}

fn token_label(token: &ApiToken) -> &str {
    if token.name.is_empty() {
        token.id.as_str()
    } else {
        &token.name
    }
}

/// Does the token's scope name the namespace called `namespace` (one that still exists)?
fn names_namespace(state: &OrgState, token: &ApiToken, namespace: &str) -> bool {
    !namespace.is_empty()
        && token.scope.namespaces.iter().any(|id| {
            state
                .namespaces
                .get(id)
                .is_some_and(|n| n.name == namespace)
        })
}

/// "namespace `a`" or "namespaces `a`, `b`": the existing namespaces of a token's scope.
fn scope_names(state: &OrgState, token: &ApiToken) -> String {
    let mut names: Vec<String> = token
        .scope
        .namespaces
        .iter()
        .filter_map(|id| state.namespaces.get(id))
        .map(|n| format!("`{}`", n.name))
        .collect();
    names.sort();
    match names.len() {
        0 => "namespaces that no longer exist".to_string(),
        1 => format!("namespace {}", names.join("")),
        _ => format!("namespaces {}", names.join(", ")),
    }
}

/// The request as a person reads it: `create deployments.apps in `ml``, `get /metrics`.
fn describe(request: &Request<'_>, namespace: &str) -> String {
    match *request {
        Request::Resource {
            verb,
            group,
            resource,
            subresource,
            name,
        } => {
            let sub = if subresource.is_empty() {
                String::new()
            } else {
                format!("/{subresource}")
            };
            let group = if group.is_empty() {
                String::new()
            } else {
                format!(".{group}")
            };
            let name = if name.is_empty() {
                String::new()
            } else {
                format!(" `{}`", cut(name))
            };
            let place = if namespace.is_empty() {
                " cluster-wide".to_string()
            } else {
                format!(" in `{}`", cut(namespace))
            };
            cut(&format!("{verb} {resource}{sub}{group}{name}{place}"))
        }
        Request::NonResource { verb, path } => cut(&format!("{verb} {path}")),
    }
}

/// Why nothing granted the request, and the smallest grant of the catalog that would.
fn remedy(
    catalog: &Catalog,
    request: &Request<'_>,
    namespace: &str,
    token: Option<&ApiToken>,
) -> String {
    let what = describe(request, namespace);
    if let Some(token) = token.filter(|t| t.kind == TokenKind::Org) {
        let label = cut(token_label(token));
        let grantable = !namespace.is_empty()
            && smallest_key(catalog, request, |_, reserved| !reserved).is_some();
        return if grantable {
            format!(
                "no Warden grant for {what}: org token `{label}` acts only in the namespaces it names; naming `{namespace}` would allow it"
            )
        } else {
            format!(
                "no Warden grant for {what}: an org token holds only the grantable namespace keys of its namespaces; RBAC bound to its username may allow it"
            )
        };
    }
    if !namespace.is_empty() {
        if let Some(key) = smallest_key(catalog, request, |_, _| true) {
            let reserved = catalog
                .namespace_permission(key)
                .is_some_and(|k| k.reserved);
            let by = if reserved {
                " (a reserved key: granted by a platform operator)"
            } else {
                ""
            };
            return format!(
                "no Warden grant for {what}: the namespace key `{key}` there would allow it{by}"
            );
        }
    }
    let k8s = catalog.kubernetes();
    for role in k8s.roles_by_breadth() {
        if !any_matches(&role.rules, request) {
            continue;
        }
        let group = catalog.legacy_groups().iter().enumerate().find(|(i, _)| {
            k8s.legacy_group_role(*i)
                .is_some_and(|r| r.name == role.name)
        });
        if let Some((_, group)) = group {
            return format!(
                "no Warden grant for {what}: membership in group `{}` (ClusterRole `{}`) would allow it",
                group.name, role.name
            );
        }
    }
    format!("no Warden grant for {what}, and no grant of Warden's catalog would allow it")
}
