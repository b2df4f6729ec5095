//! Namespaces and the per-user namespace permission keys held in them. The reserved keys
//! (`w:pods`, `w:full`) are granted and removed only by platform operators.

use std::collections::BTreeSet;

use super::{Apply, AreaCommand, Key};
use crate::domain::*;
use crate::error::DomainError;
use crate::{resolve, validate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceCommand {
    Create {
        name: String,
        /// Users (id or email) who get access, with the keys each gets (empty → `r:full`).
        access: Vec<(Key, Vec<String>)>,
    },
    Delete {
        namespace: Key,
    },
    /// Replaces the grantable keys one user holds in one namespace.
    SetAccess {
        namespace: Key,
        user: Key,
        keys: Vec<String>,
    },
    /// Adds and removes keys of one user in one namespace, leaving the others as they are:
    /// how a platform operator grants and removes the reserved keys.
    ChangeKeys {
        namespace: Key,
        user: Key,
        add: Vec<String>,
        remove: Vec<String>,
    },
}

impl AreaCommand for NamespaceCommand {
    fn required_action(&self) -> &'static str {
        match self {
            NamespaceCommand::Create { .. } => "iam.namespaces.create",
            NamespaceCommand::Delete { .. } => "iam.namespaces.delete",
            NamespaceCommand::SetAccess { .. } | NamespaceCommand::ChangeKeys { .. } => {
                "iam.namespace_access.update"
            }
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            NamespaceCommand::Create { .. } => None,
            NamespaceCommand::Delete { namespace }
            | NamespaceCommand::SetAccess { namespace, .. }
            | NamespaceCommand::ChangeKeys { namespace, .. } => Some(namespace.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        resolve::namespace(state, key)
            .ok()
            .map(|n| n.id.to_string())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            NamespaceCommand::Create { name, access } => {
                let name = validate::dns_label("name", &name)?;
                if cx.state.namespaces.values().any(|n| n.name == name) {
                    return Err(DomainError::Duplicate {
                        kind: "namespace",
                        name,
                    });
                }
                let namespace = Namespace {
                    id: NamespaceId::from(cx.new_id(NamespaceId::PREFIX)),
                    name,
                    created_at: cx.now,
                };
                let id = namespace.id.clone();
                cx.put_namespace(namespace);
                for (user, keys) in access {
                    let user = resolve::body_user(cx.state, user.as_str())?.id.clone();
                    let keys = if keys.is_empty() {
                        vec!["r:full".to_string()]
                    } else {
                        keys
                    };
                    set_keys(cx, &id, &user, keys)?;
                }
                Ok(id.to_string())
            }
            NamespaceCommand::Delete { namespace } => {
                let id = resolve::namespace(cx.state, namespace.as_str())?.id.clone();
                cx.delete_namespace(&id);
                Ok(id.to_string())
            }
            NamespaceCommand::SetAccess {
                namespace,
                user,
                keys,
            } => {
                let id = resolve::namespace(cx.state, namespace.as_str())?.id.clone();
                let user = resolve::user(cx.state, user.as_str())?.id.clone();
                set_keys(cx, &id, &user, keys)?;
                Ok(id.to_string())
            }
            NamespaceCommand::ChangeKeys {
                namespace,
                user,
                add,
                remove,
            } => {
                let id = resolve::namespace(cx.state, namespace.as_str())?.id.clone();
                let user = resolve::user(cx.state, user.as_str())?.id.clone();
                let operator = cx.actor.is_platform();
                for key in add.iter().chain(&remove) {
                    let perm = cx
                        .catalog
                        .namespace_permission(key)
                        .ok_or_else(|| cx.catalog.unknown_namespace_permission(key))?;
                    if perm.reserved && !operator {
                        return Err(DomainError::ReservedNamespacePermission(key.clone()));
                    }
                }
                // What `set_keys` replaces: the keys it may change (every key for an operator,
                // the grantable ones otherwise), less `remove`, plus `add`.
                let mut wanted: BTreeSet<String> = held(cx.state, &id, &user)
                    .into_iter()
                    .map(|g| g.key)
                    .filter(|k| {
                        operator
                            || !cx
                                .catalog
                                .namespace_permission(k)
                                .is_some_and(|p| p.reserved)
                    })
                    .collect();
                for key in &remove {
                    wanted.remove(key);
                }
                wanted.extend(add);
                set_keys(cx, &id, &user, wanted.into_iter().collect())?;
                Ok(id.to_string())
            }
        }
    }
}

/// The keys `user` holds in `namespace`.
fn held(state: &OrgState, namespace: &NamespaceId, user: &UserId) -> Vec<NamespaceGrant> {
    state
        .namespace_grants
        .range(
            NamespaceGrant {
                namespace: namespace.clone(),
                user: user.clone(),
                key: String::new(),
            }..,
        )
        .take_while(|g| g.namespace == *namespace && g.user == *user)
        .cloned()
        .collect()
}

/// Replaces the grantable namespace keys of one user in one namespace, keeping the
/// reserved keys an operator granted (only an operator may add or remove those).
fn set_keys(
    cx: &mut Apply<'_>,
    namespace: &NamespaceId,
    user: &UserId,
    keys: Vec<String>,
) -> Result<(), DomainError> {
    let operator = cx.actor.is_platform();
    if keys.len() > validate::MAX_NAMESPACE_KEYS {
        return Err(DomainError::invalid(
            "permissions",
            format!("at most {} keys", validate::MAX_NAMESPACE_KEYS),
        ));
    }
    let mut wanted = BTreeSet::new();
    for key in keys {
        let perm = cx
            .catalog
            .namespace_permission(&key)
            .ok_or_else(|| cx.catalog.unknown_namespace_permission(&key))?;
        if perm.reserved && !operator {
            return Err(DomainError::ReservedNamespacePermission(key));
        }
        wanted.insert(key);
    }
    for grant in held(cx.state, namespace, user) {
        let reserved = cx
            .catalog
            .namespace_permission(&grant.key)
            .is_some_and(|p| p.reserved);
        if (operator || !reserved) && !wanted.contains(&grant.key) {
            cx.delete_grant(&grant);
        }
    }
    for key in wanted {
        cx.put_grant(NamespaceGrant {
            namespace: namespace.clone(),
            user: user.clone(),
            key,
        });
    }
    Ok(())
}
