//! Access policies: named lists of rules `principal → roles`. The five default policies (one
//! per legacy group) cannot be deleted or renamed and keep a rule for their group; their roles
//! may be changed (the seeds' advice for a new platform feature: "add the relevant role") and
//! reset to the catalog's.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Apply, AreaCommand, Key, PrincipalInput};
use crate::catalog::Catalog;
use crate::domain::*;
use crate::error::DomainError;
use crate::{resolve, validate};

/// A rule as a caller writes it: the principal by id or natural key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInput {
    pub principal: PrincipalInput,
    pub roles: Vec<String>,
    /// A time-bound rule grants nothing from this instant on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyCommand {
    Create {
        name: String,
        description: String,
        rules: Vec<RuleInput>,
    },
    /// Replaces a policy's name, description and rules.
    Replace {
        policy: Key,
        name: String,
        description: String,
        rules: Vec<RuleInput>,
    },
    Delete {
        policy: Key,
    },
    /// Gives every rule of a default policy the catalog's roles for its legacy group again
    /// (principals and ends are kept).
    Reset {
        policy: Key,
    },
}

impl AreaCommand for PolicyCommand {
    fn required_action(&self) -> &'static str {
        match self {
            PolicyCommand::Create { .. } => "iam.policies.create",
            PolicyCommand::Replace { .. } | PolicyCommand::Reset { .. } => "iam.policies.update",
            PolicyCommand::Delete { .. } => "iam.policies.delete",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            PolicyCommand::Create { .. } => None,
            PolicyCommand::Replace { policy, .. }
            | PolicyCommand::Delete { policy }
            | PolicyCommand::Reset { policy } => Some(policy.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        resolve::policy(state, key).ok().map(|p| p.id.to_string())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            PolicyCommand::Create {
                name,
                description,
                rules,
            } => {
                let name = validate::display_name("name", &name)?;
                if cx.state.policies.values().any(|p| p.name == name) {
                    return Err(DomainError::Duplicate {
                        kind: "policy",
                        name,
                    });
                }
                refuse_lookalike(cx.state, &name, None)?;
                let rules = resolve_rules(cx.catalog, cx.state, cx.now, rules)?;
                let policy = AccessPolicy {
                    id: PolicyId::from(cx.new_id(PolicyId::PREFIX)),
                    name,
                    description: validate::description("description", &description)?,
                    legacy_group: None,
                    rules,
                    created_at: cx.now,
                    updated_at: cx.now,
                };
                let id = policy.id.to_string();
                cx.put_policy(policy);
                Ok(id)
            }
            PolicyCommand::Replace {
                policy,
                name,
                description,
                rules,
            } => {
                let current = resolve::policy(cx.state, policy.as_str())?.clone();
                let name = validate::display_name("name", &name)?;
                let description = validate::description("description", &description)?;
                let rules = resolve_rules(cx.catalog, cx.state, cx.now, rules)?;
                if let Some(legacy) = &current.legacy_group {
                    keep_default_policy(cx.state, &current, legacy, &name, &rules)?;
                } else if cx
                    .state
                    .policies
                    .values()
                    .any(|p| p.name == name && p.id != current.id)
                {
                    return Err(DomainError::Duplicate {
                        kind: "policy",
                        name,
                    });
                } else if name != current.name {
                    refuse_lookalike(cx.state, &name, Some(&current.id))?;
                }
                let id = current.id.to_string();
                let now = cx.now;
                cx.put_policy(AccessPolicy {
                    name,
                    description,
                    rules,
                    updated_at: now,
                    ..current
                });
                Ok(id)
            }
            PolicyCommand::Delete { policy } => {
                let p = resolve::policy(cx.state, policy.as_str())?;
                if p.legacy_group.is_some() {
                    return Err(DomainError::DefaultPolicyProtected(p.name.clone()));
                }
                let id = p.id.clone();
                cx.delete_policy(&id);
                Ok(id.to_string())
            }
            PolicyCommand::Reset { policy } => {
                let current = resolve::policy(cx.state, policy.as_str())?.clone();
                let Some(legacy) = &current.legacy_group else {
                    return Err(DomainError::NotADefaultPolicy(current.name));
                };
                let roles = cx
                    .catalog
                    .legacy_group(legacy)
                    .map(|g| g.roles.clone())
                    .unwrap_or_default();
                let rules = current
                    .rules
                    .iter()
                    .map(|r| Rule {
                        roles: roles.clone(),
                        ..r.clone()
                    })
                    .collect();
                let id = current.id.to_string();
                let now = cx.now;
                cx.put_policy(AccessPolicy {
                    rules,
                    updated_at: now,
                    ..current
                });
                Ok(id)
            }
        }
    }
}

/// How the roles a default policy gives its legacy group differ from the catalog's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogDifference {
    /// The catalog's roles for the group, in catalog order.
    pub catalog_roles: Vec<String>,
    /// Roles the policy gives the group that the catalog does not.
    pub roles_added: Vec<String>,
    /// Catalog roles the policy no longer gives the group.
    pub roles_removed: Vec<String>,
}

/// For a default policy, how the roles on its group's rule differ from the catalog's; `None`
/// for other policies.
pub fn catalog_difference(
    catalog: &Catalog,
    state: &OrgState,
    policy: &AccessPolicy,
) -> Option<CatalogDifference> {
    let legacy = policy.legacy_group.as_deref()?;
    let catalog_roles = catalog
        .legacy_group(legacy)
        .map(|g| g.roles.clone())
        .unwrap_or_default();
    let group = state.group_by_name(legacy).map(|g| g.id.clone());
    let given: BTreeSet<&String> = policy
        .rules
        .iter()
        .filter(|r| matches!((&r.principal, &group), (PrincipalRef::Group(id), Some(g)) if id == g))
        .flat_map(|r| r.roles.iter())
        .collect();
    let roles_added = given
        .iter()
        .filter(|r| !catalog_roles.contains(r))
        .map(|r| (*r).clone())
        .collect();
    let roles_removed = catalog_roles
        .iter()
        .filter(|r| !given.contains(r))
        .cloned()
        .collect();
    Some(CatalogDifference {
        catalog_roles,
        roles_added,
        roles_removed,
    })
}

/// A default policy keeps its name and a rule for its group that does not end; the roles
/// are the admin's to change.
fn keep_default_policy(
    state: &OrgState,
    current: &AccessPolicy,
    legacy: &str,
    name: &str,
    rules: &[Rule],
) -> Result<(), DomainError> {
    if name != current.name {
        return Err(DomainError::DefaultPolicyProtected(current.name.clone()));
    }
    // The policy keeps binding its own group: only other principals come and go.
    let group = state.group_by_name(legacy).map(|g| g.id.clone());
    let binds_group = |r: &Rule| match (&r.principal, &group) {
        (PrincipalRef::Group(id), Some(g)) => id == g,
        _ => false,
    };
    if !rules.iter().any(binds_group) {
        return Err(DomainError::DefaultPolicyGroupRequired {
            policy: current.name.clone(),
            group: legacy.to_string(),
        });
    }
    if let Some(i) = rules
        .iter()
        .position(|r| binds_group(r) && r.expires_at.is_some())
    {
        return Err(DomainError::invalid(
            &format!("rules[{i}].expires_at"),
            format!(
                "the rule binding the legacy group `{legacy}` to its default policy cannot end"
            ),
        ));
    }
    Ok(())
}

/// Resolves the principals of rules (ids, group names, user emails) and validates roles.
fn resolve_rules(
    catalog: &Catalog,
    state: &OrgState,
    now: Timestamp,
    rules: Vec<RuleInput>,
) -> Result<Vec<Rule>, DomainError> {
    if rules.len() > validate::MAX_RULES {
        return Err(DomainError::invalid(
            "rules",
            format!("a policy holds at most {} rules", validate::MAX_RULES),
        ));
    }
    let mut out = Vec::with_capacity(rules.len());
    for (i, rule) in rules.into_iter().enumerate() {
        let principal = resolve::rule_principal(state, &rule.principal)?;
        if rule.roles.is_empty() || rule.roles.len() > validate::MAX_ROLES_PER_RULE {
            return Err(DomainError::invalid(
                &format!("rules[{i}].roles"),
                format!("a rule grants 1 to {} roles", validate::MAX_ROLES_PER_RULE),
            ));
        }
        if rule.expires_at.is_some_and(|at| at <= now) {
            return Err(DomainError::invalid(
                &format!("rules[{i}].expires_at"),
                "must be in the future",
            ));
        }
        let mut roles: Vec<String> = Vec::with_capacity(rule.roles.len());
        for name in rule.roles {
            let role = catalog
                .find_role(&name)
                .ok_or_else(|| catalog.unknown_role(&name))?;
            if !roles.contains(&role.id) {
                roles.push(role.id.clone());
            }
        }
        out.push(Rule {
            principal,
            roles,
            expires_at: rule.expires_at,
        });
    }
    Ok(out)
}

/// Refuses a policy name a reader could mistake for another policy's. `replaced`: the policy
/// being replaced, which may look like itself.
fn refuse_lookalike(
    state: &OrgState,
    name: &str,
    replaced: Option<&PolicyId>,
) -> Result<(), DomainError> {
    let others = state
        .policies
        .values()
        .filter(|policy| Some(&policy.id) != replaced)
        .map(|policy| policy.name.as_str());
    validate::refuse_lookalike("policy", name, others)
}
