//! Spec section 7, rules 1 to 3, checked on the snapshot a batch of commands would produce,
//! against the snapshot it started from. Both are compiled snapshots: the invariants ask the
//! same evaluator as every check.

use super::Actor;
use crate::domain::{OrgState, Timestamp};
use crate::engine::Snapshot;
use crate::error::DomainError;

pub(super) fn check(
    before: &Snapshot,
    after: &Snapshot,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), DomainError> {
    // Rule 1: at least one active admin, whoever acts.
    if after.org_admins(now).is_empty() {
        return Err(DomainError::LastAdmin);
    }
    let Actor::Principal(caller) = actor else {
        return Ok(());
    };
    // Rule 3: the default admin stays an active admin and a member of `admin`.
    let default_admin = &before.state().org.default_admin;
    let in_admin_group = |state: &OrgState| {
        state.group_by_name("admin").is_some_and(|g| {
            state
                .memberships
                .contains(&(g.id.clone(), default_admin.clone()))
        })
    };
    if (before.is_org_admin(default_admin.as_str(), now)
        && !after.is_org_admin(default_admin.as_str(), now))
        || (in_admin_group(before.state()) && !in_admin_group(after.state()))
    {
        return Err(DomainError::DefaultAdminProtected);
    }
    // Rule 2: the caller's own effective actions do not change by the caller's command
    // (edits through a group the caller belongs to are caught too).
    if before.actions_of(caller.as_str(), now) != after.actions_of(caller.as_str(), now) {
        return Err(DomainError::SelfPrivilegeChange);
    }
    Ok(())
}
