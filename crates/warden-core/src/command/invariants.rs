//! Spec section 7, rules 1 to 3, checked on the snapshot a batch of commands would produce,
//! against the snapshot it started from. Both are compiled snapshots: the invariants ask the
//! same evaluator as every check.
//!
//! Rules may end at an instant, so "the caller's privileges do not change" and "an admin
//! remains" are checked at `now` and at every instant at which a rule of either snapshot
//! stops granting: otherwise a holder of a grant that ends could make it last (same rights
//! now, more later).

use std::collections::BTreeSet;

use super::Actor;
use crate::domain::{OrgState, PolicyId, PrincipalId, PrincipalRef, Rule, Timestamp};
use crate::engine::Snapshot;
use crate::error::DomainError;

pub(super) fn check(
    before: &Snapshot,
    after: &Snapshot,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), DomainError> {
    let instants = instants(before, after, now);
    // Rule 1: at least one active admin, whoever acts, now and as rules end.
    if !instants.iter().all(|t| after.has_org_admin(*t)) {
        return Err(DomainError::LastAdmin);
    }
    // While SSO is enforced, its break-glass admin stays an active admin: the way in when
    // the identity provider is down (spec section 10).
    if let Some(sso) = after.state().org.sso.as_deref().filter(|s| s.enforced) {
        let break_glass = sso.break_glass.as_ref();
        if !break_glass.is_some_and(|user| after.is_org_admin(user.as_str(), now)) {
            let name = break_glass
                .and_then(|user| after.state().users.get(user))
                .map_or_else(|| "(none)".to_string(), |u| u.email.to_string());
            return Err(DomainError::BreakGlassRequired(name));
        }
    }
    let Actor::Principal(caller) = actor else {
        return Ok(());
    };
    // Rule 3: the default admin stays an active admin and a member of `admin`.
    let default_admin = &before.state().org.default_admin;
    let in_admin_group = |state: &OrgState| {
        state
            .group_by_name("admin")
            .is_some_and(|g| state.is_member(&g.id, default_admin))
    };
    if (before.is_org_admin(default_admin.as_str(), now)
        && !after.is_org_admin(default_admin.as_str(), now))
        || (in_admin_group(before.state()) && !in_admin_group(after.state()))
    {
        return Err(DomainError::DefaultAdminProtected);
    }
    // Rule 2, structurally: the caller's own grants are not touched, whatever the effect (so
    // a redundant self-grant cannot be planted to outlive a later demotion).
    if own_grants(before, caller) != own_grants(after, caller) {
        return Err(DomainError::SelfPrivilegeChange);
    }
    // Rule 2, by effect: the caller's effective actions are the same, now and as rules end
    // (edits through a group the caller belongs to are caught here).
    let same = instants
        .iter()
        .all(|t| before.actions_of(caller.as_str(), *t) == after.actions_of(caller.as_str(), *t));
    if !same {
        return Err(DomainError::SelfPrivilegeChange);
    }
    Ok(())
}

/// `now` and every later instant at which a rule of either snapshot stops granting.
fn instants(before: &Snapshot, after: &Snapshot, now: Timestamp) -> BTreeSet<Timestamp> {
    let mut out = BTreeSet::from([now]);
    out.extend(before.rule_ends_after(now));
    out.extend(after.rule_ends_after(now));
    out
}

/// One rule naming the caller, as compared: its policy, its roles as a set, its end.
type OwnRule<'a> = (&'a str, BTreeSet<&'a str>, Option<Timestamp>);

/// What of a principal's own standing a command could change: the rules naming it or one of
/// its groups (by policy, in any order), its memberships and its status.
fn own_grants<'a>(
    snapshot: &'a Snapshot,
    principal: &'a PrincipalId,
) -> (Vec<OwnRule<'a>>, Vec<&'a str>, Option<&'static str>) {
    let me = principal.as_ref();
    let state = snapshot.state();
    // The rules naming the principal, and those naming a group it belongs to: a redundant
    // role added to the caller's own group (the default `admin` policy, say) is a change to
    // their own grants too.
    let mut named = vec![me];
    if let PrincipalId::User(user) = principal {
        named.extend(
            state
                .groups_of(user)
                .map(|g| PrincipalRef::Group(g.clone())),
        );
    }
    let mut rules: Vec<OwnRule<'a>> = named
        .iter()
        .flat_map(|p| snapshot.rules_of_principal(p))
        .map(|(policy, r): (&PolicyId, &Rule)| {
            (
                policy.as_str(),
                r.roles.iter().map(String::as_str).collect(),
                r.expires_at,
            )
        })
        .collect();
    rules.sort();
    let (groups, status) = match principal {
        PrincipalId::User(user) => (
            state.groups_of(user).map(|g| g.as_str()).collect(),
            state.users.get(user).map(|u| u.status.as_str()),
        ),
        PrincipalId::ServiceAccount(id) => (
            Vec::new(),
            state
                .service_accounts
                .get(id)
                .map(|a| if a.active { "active" } else { "inactive" }),
        ),
    };
    (rules, groups, status)
}
