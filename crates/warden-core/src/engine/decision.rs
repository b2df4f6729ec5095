//! Decisions with their diagnostics: why an action or a namespace permission is allowed (every
//! path that grants it) or denied (the reason), and the listings built on them.

use serde::Serialize;

use super::inline_id::InlineId;
use super::Snapshot;
use crate::actionset::{ActionId, ActionSet};
use crate::catalog::ResolvedAction;
use crate::domain::{GroupId, PolicyId, PrincipalId, Timestamp};
use crate::error::DomainError;

/// Why a question was answered "deny".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// No rule in force grants the action to the principal or any of its groups.
    NoMatchingRule,
    /// The principal is not a user or service account of this organization.
    UnknownPrincipal,
    /// The principal exists but is deactivated (or not yet active).
    PrincipalInactive,
    /// The organization has no namespace of that name.
    UnknownNamespace,
    /// The principal holds no key implying the one asked about in that namespace.
    NamespacePermissionMissing,
}

impl DenyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::NoMatchingRule => "no_matching_rule",
            DenyReason::UnknownPrincipal => "unknown_principal",
            DenyReason::PrincipalInactive => "principal_inactive",
            DenyReason::UnknownNamespace => "unknown_namespace",
            DenyReason::NamespacePermissionMissing => "namespace_permission_missing",
        }
    }
}

/// One path by which an action is granted: policy → rule → (group) → role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantSource {
    pub policy_id: PolicyId,
    pub policy_name: String,
    /// Index of the rule within its policy.
    pub rule_index: usize,
    /// The group through which the rule reaches the principal, if it names a group.
    pub via_group: Option<GroupRef>,
    pub role_id: String,
    /// When the rule stops granting, if it is time-bound.
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRef {
    pub id: GroupId,
    pub name: String,
}

/// A decision with the reasons behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// Set when denied.
    pub reason: Option<DenyReason>,
    /// Every path that grants the action (all of them, not only the first). For an
    /// inactive principal: the paths that would grant it once reactivated.
    pub granted_by: Vec<GrantSource>,
}

impl Decision {
    fn deny(reason: DenyReason) -> Decision {
        Decision {
            allowed: false,
            reason: Some(reason),
            granted_by: Vec::new(),
        }
    }
}

impl Snapshot {
    fn wanted(&self, action: &str) -> Result<ActionSet, DomainError> {
        match self.catalog.resolve(action) {
            Some(ResolvedAction::Action(id)) => {
                let mut set = ActionSet::EMPTY;
                set.insert(id);
                Ok(set)
            }
            Some(ResolvedAction::Alias(set)) => Ok(*set),
            None => Err(DomainError::UnknownAction(
                action.chars().take(crate::validate::MAX_NAME).collect(),
            )),
        }
    }

    /// Why a denied principal was denied an action (for a principal that is denied it).
    pub fn deny_reason(&self, principal: &str) -> DenyReason {
        match self.entry(principal) {
            None => DenyReason::UnknownPrincipal,
            Some(e) if !e.active() => DenyReason::PrincipalInactive,
            Some(_) => DenyReason::NoMatchingRule,
        }
    }

    /// A check and its explanation: which policy, rule, group and role grant `action` to
    /// `principal` at `now`, or why nothing does.
    pub fn decide(
        &self,
        principal: &str,
        action: &str,
        now: Timestamp,
    ) -> Result<Decision, DomainError> {
        let wanted = self.wanted(action)?;
        let Some(entry) = self.entry(principal) else {
            return Ok(Decision::deny(DenyReason::UnknownPrincipal));
        };
        let mut granted_by = Vec::new();
        let mut covered = ActionSet::EMPTY;
        self.for_each_grant(principal, entry, now, |source, _, role_set| {
            let hit = role_set.intersection(&wanted);
            if !hit.is_empty() {
                covered.union_with(&hit);
                granted_by.push(source());
            }
        });
        let allowed = entry.active() && covered.contains_all(&wanted);
        let reason = if allowed {
            None
        } else if !entry.active() {
            Some(DenyReason::PrincipalInactive)
        } else {
            // A partial grant of an alias is no grant.
            granted_by.clear();
            Some(DenyReason::NoMatchingRule)
        };
        Ok(Decision {
            allowed,
            reason,
            granted_by,
        })
    }

    /// A decision without its explanation (no allocation): the check plus a deny reason.
    pub fn decide_quickly(
        &self,
        principal: &str,
        action: &str,
        now: Timestamp,
    ) -> Result<(bool, Option<DenyReason>), DomainError> {
        let allowed = self.check(principal, action, now)?;
        Ok((allowed, (!allowed).then(|| self.deny_reason(principal))))
    }

    /// May `principal` hold namespace permission `key` in the namespace named `namespace`?
    /// Org admins hold every key in every namespace of their org, reserved keys included.
    /// An unknown key is an error; an unknown namespace a denial.
    pub fn decide_namespace(
        &self,
        principal: &str,
        namespace: &str,
        key: &str,
        now: Timestamp,
    ) -> Result<Decision, DomainError> {
        let bit = self
            .catalog
            .namespace_permissions()
            .iter()
            .position(|p| p.key == key)
            .filter(|&i| i < 32)
            .ok_or_else(|| {
                DomainError::UnknownNamespacePermission(
                    key.chars().take(crate::validate::MAX_NAME).collect(),
                )
            })?;
        let Some(entry) = self.entry(principal) else {
            return Ok(Decision::deny(DenyReason::UnknownPrincipal));
        };
        if !entry.active() {
            return Ok(Decision::deny(DenyReason::PrincipalInactive));
        }
        let Some(users) = self.namespace_keys.get(namespace) else {
            return Ok(Decision::deny(DenyReason::UnknownNamespace));
        };
        let allowed = self.is_org_admin(principal, now)
            || (entry.is_user()
                && InlineId::new(principal).is_some_and(|user| {
                    users.get(&user).is_some_and(|bits| bits & (1 << bit) != 0)
                }));
        Ok(Decision {
            allowed,
            reason: (!allowed).then_some(DenyReason::NamespacePermissionMissing),
            granted_by: Vec::new(),
        })
    }

    /// Every action the principal may perform at `now`, each with the paths that grant it.
    pub fn permissions(&self, principal: &str, now: Timestamp) -> Vec<(String, Vec<GrantSource>)> {
        let Some(entry) = self.entry(principal) else {
            return Vec::new();
        };
        if !entry.active() {
            return Vec::new();
        }
        let mut by_action: Vec<Vec<GrantSource>> = vec![Vec::new(); self.catalog.actions().len()];
        self.for_each_grant(principal, entry, now, |source, _, role_set| {
            let source = source();
            for id in role_set.iter() {
                if let Some(list) = by_action.get_mut(usize::from(id.0)) {
                    list.push(source.clone());
                }
            }
        });
        by_action
            .into_iter()
            .enumerate()
            .filter(|(_, sources)| !sources.is_empty())
            .filter_map(|(i, sources)| {
                let id = ActionId(u16::try_from(i).ok()?);
                Some((self.catalog.action_name(id).to_string(), sources))
            })
            .collect()
    }

    /// Active principals (users and service accounts) allowed to perform `action` at `now`.
    pub fn who_can(&self, action: &str, now: Timestamp) -> Result<Vec<PrincipalId>, DomainError> {
        self.wanted(action)?;
        let mut out = Vec::new();
        let ids = self
            .state
            .users
            .keys()
            .map(|u| u.as_str())
            .chain(self.state.service_accounts.keys().map(|a| a.as_str()));
        for id in ids {
            if self.check(id, action, now)? {
                out.extend(self.principal(id));
            }
        }
        out.sort();
        Ok(out)
    }
}
