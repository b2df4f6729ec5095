//! The `policies` and `policy_rules` tables. A policy's rules are rewritten with the policy;
//! `roles` is a JSON array of role ids, in order.

use std::collections::BTreeMap;

use sqlx::AnyConnection;
use warden_core::{
    AccessPolicy, GroupId, OrgId, OrgState, PolicyId, PrincipalRef, Rule, ServiceAccountId, UserId,
};

use super::{by_id, Scope, Select};
use crate::codec::{bigint, delete_done, int, opt_text, opt_time, owner, put_done, text, time};
use crate::exec::Run;
use crate::StoreError;

const PUT: &str = "INSERT INTO policies \
     (id, org_id, name, description, legacy_group, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
     legacy_group = excluded.legacy_group, created_at = excluded.created_at, \
     updated_at = excluded.updated_at \
     WHERE policies.org_id = excluded.org_id";
const DELETE: &str = "DELETE FROM policies WHERE id = $1 AND org_id = $2";
/// Deletes the rules of a policy of the organization (none if the policy is another's).
const RULES_DELETE: &str = "DELETE FROM policy_rules WHERE policy_id = $1 \
     AND policy_id IN (SELECT id FROM policies WHERE id = $1 AND org_id = $2)";
const RULE_INSERT: &str = "INSERT INTO policy_rules \
     (policy_id, position, principal_kind, principal_id, roles, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const ROWS: Select = Select {
    from: "SELECT org_id, id, name, description, legacy_group, created_at, updated_at \
           FROM policies",
    org_column: "org_id",
    order_by: "id",
};
const RULE_ROWS: Select = Select {
    from: "SELECT p.org_id AS org_id, r.policy_id AS policy_id, r.position AS position, \
           r.principal_kind AS principal_kind, r.principal_id AS principal_id, \
           r.roles AS roles, r.expires_at AS expires_at \
           FROM policy_rules r JOIN policies p ON p.id = r.policy_id",
    org_column: "p.org_id",
    order_by: "r.policy_id, r.position",
};

pub(super) async fn put(
    conn: &mut AnyConnection,
    org: &OrgId,
    p: &AccessPolicy,
) -> Result<(), StoreError> {
    let done = sqlx::query(PUT)
        .bind(p.id.as_str())
        .bind(org.as_str())
        .bind(p.name.as_str())
        .bind(p.description.as_str())
        .bind(p.legacy_group.as_deref())
        .bind(p.created_at.0)
        .bind(p.updated_at.0)
        .run(&mut *conn)
        .await?;
    put_done(done, "policy", p.id.as_str(), org)?;
    by_id(conn, RULES_DELETE, p.id.as_str(), org).await?;
    for (position, rule) in p.rules.iter().enumerate() {
        let roles = serde_json::to_string(&rule.roles)
            .map_err(|e| StoreError::Inconsistent(format!("roles of policy `{}`: {e}", p.id)))?;
        sqlx::query(RULE_INSERT)
            .bind(p.id.as_str())
            .bind(bigint(position as u64, "rule position")?)
            .bind(rule.principal.kind())
            .bind(rule.principal.id())
            .bind(roles)
            .bind(rule.expires_at.map(|at| at.0))
            .run(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn delete(
    conn: &mut AnyConnection,
    org: &OrgId,
    p: &AccessPolicy,
) -> Result<(), StoreError> {
    by_id(conn, RULES_DELETE, p.id.as_str(), org).await?;
    let done = by_id(conn, DELETE, p.id.as_str(), org).await?;
    delete_done(done, "policy", p.id.as_str(), org)
}

fn principal(kind: &str, id: String) -> Result<PrincipalRef, StoreError> {
    match kind {
        "user" => Ok(PrincipalRef::User(UserId::from(id))),
        "group" => Ok(PrincipalRef::Group(GroupId::from(id))),
        "service_account" => Ok(PrincipalRef::ServiceAccount(ServiceAccountId::from(id))),
        other => Err(StoreError::Corrupt(format!(
            "unknown principal kind `{other}`"
        ))),
    }
}

/// Policies, then their rules.
pub(super) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
    states: &mut BTreeMap<OrgId, OrgState>,
) -> Result<(), StoreError> {
    for row in ROWS.rows(conn, org).await? {
        let policy = AccessPolicy {
            id: PolicyId::from(text(&row, "id")?),
            name: text(&row, "name")?,
            description: text(&row, "description")?,
            legacy_group: opt_text(&row, "legacy_group")?,
            rules: Vec::new(),
            created_at: time(&row, "created_at")?,
            updated_at: time(&row, "updated_at")?,
        };
        owner(states, &row, "policies")?
            .policies
            .insert(policy.id.clone(), policy);
    }
    // Ordered by (policy, position): each rule is appended to its policy, and the positions
    // of a policy must run 0, 1, 2, ... for the order to be the one committed.
    for row in RULE_ROWS.rows(conn, org).await? {
        let policy_id = PolicyId::from(text(&row, "policy_id")?);
        let position = int(&row, "position")?;
        let roles_json = text(&row, "roles")?;
        let roles: Vec<String> = serde_json::from_str(&roles_json).map_err(|e| {
            StoreError::Corrupt(format!(
                "rule {position} of policy `{policy_id}`: roles are not a JSON array of strings: {e}"
            ))
        })?;
        let rule = Rule {
            principal: principal(&text(&row, "principal_kind")?, text(&row, "principal_id")?)?,
            roles,
            expires_at: opt_time(&row, "expires_at")?,
        };
        let state = owner(states, &row, "policy_rules")?;
        let policy = state
            .policies
            .get_mut(&policy_id)
            .ok_or_else(|| StoreError::Corrupt(format!("rules of unknown policy `{policy_id}`")))?;
        if usize::try_from(position).ok() != Some(policy.rules.len()) {
            return Err(StoreError::Corrupt(format!(
                "policy `{policy_id}` has rule position {position} where {} was expected",
                policy.rules.len()
            )));
        }
        policy.rules.push(rule);
    }
    Ok(())
}
