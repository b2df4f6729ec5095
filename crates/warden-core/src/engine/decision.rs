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
            None => Err(self.catalog.unknown_action(action)),
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
            .ok_or_else(|| self.catalog.unknown_namespace_permission(key))?;
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

    /// The namespace permission keys `principal` holds in the namespace named `namespace` at
    /// `now`, as bits in catalog order (implied keys included): every key for an org admin,
    /// none for an inactive or unknown principal or an unknown namespace. What
    /// [`Snapshot::decide_namespace`] tests, for every key at once.
    pub fn namespace_keys_held(&self, principal: &str, namespace: &str, now: Timestamp) -> u32 {
        let Some(entry) = self.entry(principal) else {
            return 0;
        };
        let Some(users) = self.namespace_keys.get(namespace) else {
            return 0;
        };
        if !entry.active() || !entry.is_user() {
            return 0;
        }
        if self.is_org_admin(principal, now) {
            let keys = self.catalog.namespace_permissions().len();
            return 1u32
                .checked_shl(u32::try_from(keys).unwrap_or(u32::MAX))
                .map_or(u32::MAX, |bit| bit - 1);
        }
        InlineId::new(principal)
            .and_then(|user| users.get(&user).copied())
            .unwrap_or(0)
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

/// A decision told as a person would want it told: what grants the action, or what is
/// missing and the smallest change that would allow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub decision: Decision,
    /// The catalog's roles that contain the action, narrowest first (empty for a namespace
    /// question).
    pub roles_with_action: Vec<String>,
    /// One paragraph: the decision, what it rests on, and what would change it.
    pub summary: String,
}

/// `policy `p`, rule 2, through group `eng``: where a grant comes from.
fn origin(source: &GrantSource) -> String {
    let group = source
        .via_group
        .as_ref()
        .map(|g| format!(", through group `{}`", g.name))
        .unwrap_or_default();
    format!(
        "policy `{}`, rule {}{group}",
        source.policy_name,
        source.rule_index + 1
    )
}

/// `a`, `b` and `c`.
fn listed(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

impl Snapshot {
    /// How a person names a principal: a user by email, a service account by name.
    fn display_name(&self, principal: &str) -> String {
        let state = &self.state;
        state
            .users
            .get(principal)
            .map(|u| u.email.to_string())
            .or_else(|| {
                state
                    .service_accounts
                    .get(principal)
                    .map(|s| s.name.clone())
            })
            .unwrap_or_else(|| principal.to_string())
    }

    /// [`Snapshot::decide`] with its explanation.
    pub fn explain(
        &self,
        principal: &str,
        action: &str,
        now: Timestamp,
    ) -> Result<Explanation, DomainError> {
        let decision = self.decide(principal, action, now)?;
        let roles_with_action = self.catalog.roles_with(action);
        let who = self.display_name(principal);
        let kind = if self
            .principal(principal)
            .is_some_and(|p| p.user().is_none())
        {
            "service account"
        } else {
            "user"
        };
        let grants = |sources: &[GrantSource]| -> String {
            let each: Vec<String> = sources
                .iter()
                .map(|s| format!("`{}` ({})", s.role_id, origin(s)))
                .collect();
            match each.split_last() {
                None => String::new(),
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            }
        };
        let summary = match decision.reason {
            None => format!(
                "allowed: `{who}` holds {}, which grants `{action}`",
                grants(&decision.granted_by)
            ),
            Some(DenyReason::PrincipalInactive) if !decision.granted_by.is_empty() => format!(
                "denied: would be granted by {}, but the {kind} is deactivated",
                grants(&decision.granted_by)
            ),
            Some(DenyReason::PrincipalInactive) => format!(
                "denied: the {kind} `{who}` is deactivated, and no role it holds grants `{action}`"
            ),
            Some(DenyReason::UnknownPrincipal) => {
                format!("denied: this organization has no user or service account `{who}`")
            }
            Some(_) => {
                let mut held = Vec::new();
                if let Some(entry) = self.entry(principal) {
                    self.for_each_grant(principal, entry, now, |source, _, _| {
                        held.push(source());
                    });
                }
                let names: Vec<&str> = roles_with_action.iter().map(String::as_str).collect();
                let holds = if held.is_empty() {
                    format!("`{who}` holds no role")
                } else {
                    format!("`{who}` holds {}", grants(&held))
                };
                let remedy = roles_with_action
                    .first()
                    .map(|role| {
                        format!(
                            "; a rule granting `{role}` to `{who}`, or to a group they are in, would allow it"
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "denied: no policy grants `{action}` to `{who}`; the roles that contain it are {}; {holds}{remedy}",
                    if names.is_empty() { "none".to_string() } else { listed(&names) }
                )
            }
        };
        Ok(Explanation {
            decision,
            roles_with_action,
            summary,
        })
    }

    /// [`Snapshot::decide_namespace`] with its explanation: the keys held and where from.
    pub fn explain_namespace(
        &self,
        principal: &str,
        namespace: &str,
        key: &str,
        now: Timestamp,
    ) -> Result<Explanation, DomainError> {
        let decision = self.decide_namespace(principal, namespace, key, now)?;
        let who = self.display_name(principal);
        let held: Vec<&str> = InlineId::new(principal)
            .and_then(|user| {
                self.namespace_keys
                    .get(namespace)
                    .and_then(|users| users.get(&user))
            })
            .map(|bits| {
                self.catalog
                    .namespace_permissions()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i < 32 && bits & (1 << i) != 0)
                    .map(|(_, p)| p.key.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let holds = if held.is_empty() {
            format!("`{who}` holds no key in `{namespace}`")
        } else {
            format!(
                "`{who}` holds {} in `{namespace}` through namespace grants",
                listed(&held)
            )
        };
        let summary = match decision.reason {
            None if self.is_org_admin(principal, now) => {
                format!("allowed: `{who}` is an org admin: holds every key in every namespace")
            }
            None => format!("allowed: {holds}"),
            Some(DenyReason::PrincipalInactive) => {
                format!("denied: `{who}` is deactivated")
            }
            Some(DenyReason::UnknownPrincipal) => {
                format!("denied: this organization has no user or service account `{who}`")
            }
            // Told as a namespace where the principal holds no key: a caller who may not list
            // namespaces is not to learn which exist (one who may is told before this).
            Some(_) => format!(
                "denied: {holds}; a namespace grant of `{key}` in `{namespace}` to `{who}` (or the org admin role) would allow it"
            ),
        };
        Ok(Explanation {
            decision,
            roles_with_action: Vec::new(),
            summary,
        })
    }
}
