//! The role catalog: actions, roles, legacy groups and namespace permission keys, with the
//! Kubernetes RBAC rules of each key and of the ClusterRoles legacy groups bind to.
//!
//! The catalog is data (`data/catalog.toml`), embedded at build time and validated when it
//! is loaded: a role naming an unknown action, an include cycle, a legacy group naming an
//! unknown role or ClusterRole, or a Kubernetes rule the API would refuse is an error, and the
//! server refuses to start on it.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::action_index::ActionIndex;
use crate::actionset::{ActionId, ActionSet, MAX_ACTIONS};
use crate::error::{cut, DomainError};
use crate::k8s::rules::{ClusterRole, KubernetesRules, PolicyRule};
use crate::suggest::closest;

/// The catalog text compiled into the binary.
pub const BUILTIN_CATALOG: &str = include_str!("../data/catalog.toml");

/// Why a catalog could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog is not valid TOML: {0}")]
    Parse(String),
    #[error("action `{0}` is not of the form service.resource.verb")]
    BadActionName(String),
    #[error("action `{0}` is listed twice")]
    DuplicateAction(String),
    #[error("the catalog lists {0} actions; at most {MAX_ACTIONS} are supported")]
    TooManyActions(usize),
    #[error("the catalog lists {0} roles; at most 64 are supported")]
    TooManyRoles(usize),
    #[error("role `{0}` is defined twice")]
    DuplicateRole(String),
    #[error("role `{role}` names unknown action `{action}`")]
    UnknownActionInRole { role: String, action: String },
    #[error("role `{role}` includes unknown role `{included}`")]
    UnknownIncludedRole { role: String, included: String },
    #[error("roles include each other in a cycle: {0}")]
    IncludeCycle(String),
    #[error("alias `{alias}` names unknown action `{action}`")]
    UnknownActionInAlias { alias: String, action: String },
    #[error("alias `{0}` collides with an action name or is empty")]
    BadAlias(String),
    #[error("legacy group `{group}` names unknown role `{role}`")]
    UnknownRoleInLegacyGroup { group: String, role: String },
    #[error("legacy group `{0}` is defined twice")]
    DuplicateLegacyGroup(String),
    #[error("namespace permission key `{0}` is malformed or duplicated")]
    BadNamespaceKey(String),
    #[error("namespace permission key `{key}` implies unknown key `{implied}`")]
    UnknownImpliedKey { key: String, implied: String },
    #[error("the Kubernetes rules of {owner} are invalid: {reason}")]
    BadKubernetesRule { owner: String, reason: String },
    #[error("ClusterRole `{0}` is defined twice or is not a valid RBAC name")]
    BadClusterRole(String),
    #[error("legacy group `{group}` names unknown ClusterRole `{role}`")]
    UnknownClusterRole { group: String, role: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    actions: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    aliases: BTreeMap<String, Vec<String>>,
    roles: Vec<RoleFile>,
    legacy_groups: Vec<LegacyGroupFile>,
    namespace_permissions: Vec<NamespacePermissionFile>,
    kubernetes_cluster_roles: Vec<ClusterRole>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    id: String,
    name: String,
    description: String,
    #[serde(default)]
    includes: Vec<String>,
    actions: Vec<String>,
    #[serde(default)]
    for_machines: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyGroupFile {
    name: String,
    roles: Vec<String>,
    cluster_role: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamespacePermissionFile {
    key: String,
    description: String,
    #[serde(default)]
    reserved: bool,
    #[serde(default)]
    implies: Vec<String>,
    kubernetes: Vec<PolicyRule>,
}

/// Index of a role in [`Catalog::roles`].
pub type RoleIndex = u16;

/// A predefined role with its effective (include-expanded) actions.
#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Roles this one includes directly.
    pub includes: Vec<String>,
    /// Every action of the role, its includes expanded, in catalog order.
    pub actions: Vec<String>,
    /// Held by machines (SCIM tokens' accounts), never suggested to a person as the way to
    /// be allowed something.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub for_machines: bool,
    #[serde(skip)]
    pub action_set: ActionSet,
}

/// A legacy group and the roles its default policy binds it to.
#[derive(Debug, Clone, Serialize)]
pub struct LegacyGroup {
    pub name: String,
    pub roles: Vec<String>,
    /// The Kubernetes ClusterRole the group maps to, if any.
    pub cluster_role: Option<String>,
}

/// A per-namespace permission key such as `r:full` or `w:pods`.
#[derive(Debug, Clone, Serialize)]
pub struct NamespacePermission {
    pub key: String,
    pub description: String,
    /// Reserved keys are granted and removed only by platform operators.
    pub reserved: bool,
    /// Keys a holder of this one also holds.
    pub implies: Vec<String>,
    /// What the key allows in its namespace in Kubernetes: the rules of its exported Role.
    pub kubernetes: Vec<PolicyRule>,
}

/// The validated catalog.
#[derive(Debug)]
pub struct Catalog {
    actions: Vec<String>,
    action_ids: FxHashMap<Box<str>, ActionId>,
    /// The hot-path index of action names (see [`ActionIndex`]).
    action_index: ActionIndex,
    aliases: BTreeMap<String, ActionSet>,
    alias_names: BTreeMap<String, Vec<String>>,
    roles: Vec<Role>,
    role_ids: FxHashMap<Box<str>, RoleIndex>,
    legacy_groups: Vec<LegacyGroup>,
    namespace_permissions: Vec<NamespacePermission>,
    kubernetes: KubernetesRules,
}

/// What an action name resolves to: one action, or an alias standing for several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedAction<'a> {
    Action(ActionId),
    Alias(&'a ActionSet),
}

impl Catalog {
    /// The catalog compiled into the binary, parsed and validated once.
    pub fn builtin() -> Result<Arc<Catalog>, CatalogError> {
        static BUILTIN: OnceLock<Result<Arc<Catalog>, CatalogError>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Catalog::parse(BUILTIN_CATALOG).map(Arc::new))
            .clone()
    }

    /// Parses and validates catalog text.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile =
            toml::from_str(text).map_err(|e| CatalogError::Parse(e.message().to_string()))?;

        let mut actions = Vec::new();
        let mut action_ids = FxHashMap::default();
        for name in file.actions.values().flatten() {
            if !is_action_name(name) {
                return Err(CatalogError::BadActionName(name.clone()));
            }
            if actions.len() >= MAX_ACTIONS {
                return Err(CatalogError::TooManyActions(
                    file.actions.values().map(Vec::len).sum(),
                ));
            }
            let id = ActionId(u16::try_from(actions.len()).map_err(|_| {
                CatalogError::TooManyActions(file.actions.values().map(Vec::len).sum())
            })?);
            if action_ids
                .insert(name.clone().into_boxed_str(), id)
                .is_some()
            {
                return Err(CatalogError::DuplicateAction(name.clone()));
            }
            actions.push(name.clone());
        }

        let mut aliases = BTreeMap::new();
        for (alias, names) in &file.aliases {
            if names.is_empty() || action_ids.contains_key(alias.as_str()) {
                return Err(CatalogError::BadAlias(alias.clone()));
            }
            let mut set = ActionSet::EMPTY;
            for name in names {
                let id = action_ids.get(name.as_str()).copied().ok_or_else(|| {
                    CatalogError::UnknownActionInAlias {
                        alias: alias.clone(),
                        action: name.clone(),
                    }
                })?;
                set.insert(id);
            }
            aliases.insert(alias.clone(), set);
        }

        // The engine keeps a role mask of 64 bits per principal.
        if file.roles.len() > 64 {
            return Err(CatalogError::TooManyRoles(file.roles.len()));
        }
        let mut role_ids: FxHashMap<Box<str>, RoleIndex> = FxHashMap::default();
        for (i, role) in file.roles.iter().enumerate() {
            if role_ids
                .insert(
                    role.id.clone().into_boxed_str(),
                    RoleIndex::try_from(i)
                        .map_err(|_| CatalogError::TooManyRoles(file.roles.len()))?,
                )
                .is_some()
            {
                return Err(CatalogError::DuplicateRole(role.id.clone()));
            }
        }
        let mut own_sets = Vec::with_capacity(file.roles.len());
        for role in &file.roles {
            let mut set = ActionSet::EMPTY;
            for name in &role.actions {
                let id = action_ids.get(name.as_str()).copied().ok_or_else(|| {
                    CatalogError::UnknownActionInRole {
                        role: role.id.clone(),
                        action: name.clone(),
                    }
                })?;
                set.insert(id);
            }
            for included in &role.includes {
                if !role_ids.contains_key(included.as_str()) {
                    return Err(CatalogError::UnknownIncludedRole {
                        role: role.id.clone(),
                        included: included.clone(),
                    });
                }
            }
            own_sets.push(set);
        }
        // Expand includes depth-first; a role met again on the current path is a cycle.
        let mut expanded: Vec<Option<ActionSet>> = vec![None; file.roles.len()];
        for i in 0..file.roles.len() {
            let mut path = Vec::new();
            expand_role(
                i,
                &file.roles,
                &role_ids,
                &own_sets,
                &mut expanded,
                &mut path,
            )?;
        }
        let roles = file
            .roles
            .into_iter()
            .zip(expanded)
            .map(|(role, set)| {
                let action_set = set.unwrap_or(ActionSet::EMPTY);
                Role {
                    actions: action_set
                        .iter()
                        .filter_map(|id| actions.get(usize::from(id.0)).cloned())
                        .collect(),
                    id: role.id,
                    name: role.name,
                    description: role.description,
                    includes: role.includes,
                    for_machines: role.for_machines,
                    action_set,
                }
            })
            .collect();

        let mut legacy_groups: Vec<LegacyGroup> = Vec::new();
        for group in file.legacy_groups {
            if legacy_groups.iter().any(|g| g.name == group.name) {
                return Err(CatalogError::DuplicateLegacyGroup(group.name));
            }
            for role in &group.roles {
                if !role_ids.contains_key(role.as_str()) {
                    return Err(CatalogError::UnknownRoleInLegacyGroup {
                        group: group.name.clone(),
                        role: role.clone(),
                    });
                }
            }
            legacy_groups.push(LegacyGroup {
                name: group.name,
                roles: group.roles,
                cluster_role: group.cluster_role,
            });
        }

        let mut namespace_permissions: Vec<NamespacePermission> = Vec::new();
        for perm in &file.namespace_permissions {
            let well_formed = perm
                .key
                .split_once(':')
                .is_some_and(|(a, b)| (a == "r" || a == "w") && !b.is_empty());
            if !well_formed || namespace_permissions.iter().any(|p| p.key == perm.key) {
                return Err(CatalogError::BadNamespaceKey(perm.key.clone()));
            }
            namespace_permissions.push(NamespacePermission {
                key: perm.key.clone(),
                description: perm.description.clone(),
                reserved: perm.reserved,
                implies: perm.implies.clone(),
                kubernetes: perm.kubernetes.clone(),
            });
        }
        for perm in &namespace_permissions {
            for implied in &perm.implies {
                if !namespace_permissions.iter().any(|p| &p.key == implied) {
                    return Err(CatalogError::UnknownImpliedKey {
                        key: perm.key.clone(),
                        implied: implied.clone(),
                    });
                }
            }
        }

        let kubernetes = KubernetesRules::load(
            file.kubernetes_cluster_roles,
            &namespace_permissions,
            &legacy_groups,
        )?;

        Ok(Catalog {
            kubernetes,
            action_index: ActionIndex::build(&actions),
            actions,
            action_ids,
            alias_names: file.aliases,
            aliases,
            roles,
            role_ids,
            legacy_groups,
            namespace_permissions,
        })
    }

    /// Every action, in catalog order (index = [`ActionId`]).
    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    /// The id of an action name (not an alias): the check's hot path.
    #[inline]
    pub fn action_id(&self, name: &str) -> Option<ActionId> {
        self.action_index.get(&self.actions, name)
    }

    pub fn action_name(&self, id: ActionId) -> &str {
        self.actions.get(id.0 as usize).map_or("", String::as_str)
    }

    /// Resolves an action name or one of the seeds' aliases.
    pub fn resolve(&self, name: &str) -> Option<ResolvedAction<'_>> {
        if let Some(id) = self.action_ids.get(name) {
            return Some(ResolvedAction::Action(*id));
        }
        self.aliases.get(name).map(ResolvedAction::Alias)
    }

    /// Aliases and the action names they stand for.
    pub fn aliases(&self) -> &BTreeMap<String, Vec<String>> {
        &self.alias_names
    }

    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.role_index(id)
            .and_then(|i| self.roles.get(usize::from(i)))
    }

    pub fn role_index(&self, id: &str) -> Option<RoleIndex> {
        self.role_ids.get(id).copied()
    }

    /// A role as a person names it: by id (`inference-admin`) or by display name
    /// (`Inference Admin`), either without regard to case.
    pub fn find_role(&self, name: &str) -> Option<&Role> {
        self.role(name).or_else(|| {
            self.roles.iter().find(|r| {
                r.id.eq_ignore_ascii_case(name) || r.name.to_lowercase() == name.to_lowercase()
            })
        })
    }

    /// The roles that contain every action `action` stands for, narrowest (fewest actions)
    /// first: what a rule would have to grant for a check of it to be allowed.
    pub fn roles_with(&self, action: &str) -> Vec<String> {
        let wanted = match self.resolve(action) {
            Some(ResolvedAction::Action(id)) => {
                let mut set = ActionSet::EMPTY;
                set.insert(id);
                set
            }
            Some(ResolvedAction::Alias(set)) => *set,
            None => return Vec::new(),
        };
        let mut roles: Vec<&Role> = self
            .roles
            .iter()
            .filter(|r| !r.for_machines && r.action_set.contains_all(&wanted))
            .collect();
        roles.sort_by_key(|r| r.actions.len());
        roles.into_iter().map(|r| r.id.clone()).collect()
    }

    /// `forbidden` for a caller who lacks `action`, naming the roles that would allow it.
    pub fn forbidden(&self, action: &str) -> DomainError {
        DomainError::Forbidden {
            action: action.to_string(),
            roles: self.roles_with(action),
        }
    }

    /// `unknown_role`, with the closest role id as a suggestion.
    pub fn unknown_role(&self, name: &str) -> DomainError {
        DomainError::UnknownRole {
            name: cut(name),
            did_you_mean: closest(
                name,
                self.roles
                    .iter()
                    .flat_map(|r| [r.id.as_str(), r.name.as_str()]),
            ),
        }
    }

    /// `unknown_action`, with the closest action or alias as a suggestion.
    pub fn unknown_action(&self, name: &str) -> DomainError {
        DomainError::UnknownAction {
            name: cut(name),
            did_you_mean: closest(
                name,
                self.actions
                    .iter()
                    .map(String::as_str)
                    .chain(self.alias_names.keys().map(String::as_str)),
            ),
        }
    }

    /// `unknown_namespace_permission`, with the closest key as a suggestion.
    pub fn unknown_namespace_permission(&self, key: &str) -> DomainError {
        DomainError::UnknownNamespacePermission {
            key: cut(key),
            did_you_mean: closest(
                key,
                self.namespace_permissions.iter().map(|p| p.key.as_str()),
            ),
        }
    }

    pub fn legacy_groups(&self) -> &[LegacyGroup] {
        &self.legacy_groups
    }

    pub fn legacy_group(&self, name: &str) -> Option<&LegacyGroup> {
        self.legacy_groups.iter().find(|g| g.name == name)
    }

    pub fn namespace_permissions(&self) -> &[NamespacePermission] {
        &self.namespace_permissions
    }

    pub fn namespace_permission(&self, key: &str) -> Option<&NamespacePermission> {
        self.namespace_permissions.iter().find(|p| p.key == key)
    }

    /// The ClusterRoles and the Kubernetes side of legacy groups and keys.
    pub fn kubernetes(&self) -> &KubernetesRules {
        &self.kubernetes
    }
}

fn expand_role(
    i: usize,
    roles: &[RoleFile],
    role_ids: &FxHashMap<Box<str>, RoleIndex>,
    own_sets: &[ActionSet],
    expanded: &mut [Option<ActionSet>],
    path: &mut Vec<usize>,
) -> Result<ActionSet, CatalogError> {
    if let Some(Some(set)) = expanded.get(i) {
        return Ok(*set);
    }
    let Some(role) = roles.get(i) else {
        return Ok(ActionSet::EMPTY);
    };
    if path.contains(&i) {
        let mut names: Vec<&str> = path
            .iter()
            .filter_map(|&p| roles.get(p))
            .map(|r| r.id.as_str())
            .collect();
        names.push(role.id.as_str());
        return Err(CatalogError::IncludeCycle(names.join(" -> ")));
    }
    path.push(i);
    let mut set = own_sets.get(i).copied().unwrap_or(ActionSet::EMPTY);
    for included in &role.includes {
        if let Some(&j) = role_ids.get(included.as_str()) {
            set.union_with(&expand_role(
                usize::from(j),
                roles,
                role_ids,
                own_sets,
                expanded,
                path,
            )?);
        }
    }
    path.pop();
    if let Some(slot) = expanded.get_mut(i) {
        *slot = Some(set);
    }
    Ok(set)
}

/// `service.resource.verb`: three non-empty segments of lowercase letters, digits and `_`.
pub fn is_action_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_is_valid_and_complete() {
        let catalog = Catalog::builtin().unwrap();
        // Spec section 3's 19, and `scim-provisioner` (spec section 10's SCIM tokens).
        assert_eq!(catalog.roles().len(), 20);
        assert_eq!(catalog.legacy_groups().len(), 5);
        assert!(
            catalog.actions().len() >= 120,
            "{}",
            catalog.actions().len()
        );
        let reserved: Vec<_> = catalog
            .namespace_permissions()
            .iter()
            .filter(|p| p.reserved)
            .map(|p| p.key.as_str())
            .collect();
        assert_eq!(reserved, vec!["w:pods", "w:full"]);
        // includes are expanded
        let admin = catalog.role("iam-admin").unwrap();
        assert!(admin.actions.iter().any(|a| a == "iam.users.list"));
        assert!(admin.actions.iter().any(|a| a == "iam.users.invite"));
        let viewer = catalog.role("iam-viewer").unwrap();
        assert!(!viewer.actions.iter().any(|a| a == "iam.users.invite"));
        assert!(matches!(
            catalog.resolve("write_org_users"),
            Some(ResolvedAction::Alias(_))
        ));
    }

    #[test]
    fn unknown_action_in_role_is_refused() {
        let text = BUILTIN_CATALOG.replacen(
            "actions = [\"tokens.personal.list\", \"tokens.personal.get\"]",
            "actions = [\"tokens.personal.list\", \"tokens.personal.steal\"]",
            1,
        );
        assert_eq!(
            Catalog::parse(&text).unwrap_err(),
            CatalogError::UnknownActionInRole {
                role: "access-token-viewer".into(),
                action: "tokens.personal.steal".into()
            }
        );
    }

    #[test]
    fn include_cycle_is_refused() {
        let text = BUILTIN_CATALOG.replacen(
            "id = \"access-token-viewer\"",
            "id = \"access-token-viewer\"\nincludes = [\"access-token-admin\"]",
            1,
        );
        let err = Catalog::parse(&text).unwrap_err();
        assert!(
            matches!(err, CatalogError::IncludeCycle(ref s) if s.contains("access-token-admin")),
            "{err}"
        );
    }

    #[test]
    fn unknown_role_in_legacy_group_is_refused() {
        let text = BUILTIN_CATALOG.replacen(
            "roles = [\"observability-viewer\"]",
            "roles = [\"observability-admin\"]",
            1,
        );
        assert!(matches!(
            Catalog::parse(&text).unwrap_err(),
            CatalogError::UnknownRoleInLegacyGroup { .. }
        ));
    }

    #[test]
    fn the_action_index_finds_every_action_and_nothing_else() {
        let catalog = Catalog::builtin().unwrap();
        for (i, name) in catalog.actions().iter().enumerate() {
            assert_eq!(
                catalog.action_id(name),
                Some(ActionId(u16::try_from(i).unwrap())),
                "{name}"
            );
        }
        for other in [
            "",
            "iam",
            "iam.users.lis",
            "iam.users.listt",
            "write_org_users",
            "x",
        ] {
            assert_eq!(catalog.action_id(other), None, "{other}");
        }
    }

    #[test]
    fn action_names_are_checked() {
        assert!(is_action_name("iam.users.list"));
        assert!(!is_action_name("iam.users"));
        assert!(!is_action_name("IAM.users.list"));
        assert!(!is_action_name("iam..list"));
    }
}
