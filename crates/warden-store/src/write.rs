//! Writing: one statement set per entity kind, valid on SQLite and PostgreSQL alike.
//!
//! Puts are upserts keyed on the primary key. An upsert only updates a row of the same
//! organization (`DO UPDATE ... WHERE <table>.org_id = excluded.org_id`); a put or delete
//! that touches no row is refused with [`StoreError::Inconsistent`], which rolls the whole
//! transaction back.

use sqlx::any::AnyQueryResult;
use sqlx::AnyConnection;
use warden_core::command::{Change, Entity};
use warden_core::{AuditEvent, OrgId, Organization, Timestamp, TokenId};

use crate::exec::Run;
use crate::StoreError;

const ORG_INSERT: &str =
    "INSERT INTO organizations (id, name, default_admin, revision, created_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING";
const ORG_UPDATE: &str =
    "UPDATE organizations SET name = $2, default_admin = $3, created_at = $4 WHERE id = $1";
const ORG_BUMP: &str = "UPDATE organizations SET revision = $3 WHERE id = $1 AND revision = $2";

const USER_PUT: &str = "INSERT INTO users \
     (id, org_id, email, email_lower, first_name, last_name, status, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (id) DO UPDATE SET email = excluded.email, email_lower = excluded.email_lower, \
     first_name = excluded.first_name, last_name = excluded.last_name, status = excluded.status, \
     created_at = excluded.created_at \
     WHERE users.org_id = excluded.org_id";
const USER_DELETE: &str = "DELETE FROM users WHERE id = $1 AND org_id = $2";

const SERVICE_ACCOUNT_PUT: &str = "INSERT INTO service_accounts \
     (id, org_id, name, created_by, active, system_managed, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, created_by = excluded.created_by, \
     active = excluded.active, system_managed = excluded.system_managed, \
     created_at = excluded.created_at \
     WHERE service_accounts.org_id = excluded.org_id";
const SERVICE_ACCOUNT_DELETE: &str = "DELETE FROM service_accounts WHERE id = $1 AND org_id = $2";

const GROUP_PUT: &str = "INSERT INTO groups (id, org_id, name, description, legacy, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
     legacy = excluded.legacy, created_at = excluded.created_at \
     WHERE groups.org_id = excluded.org_id";
const GROUP_DELETE: &str = "DELETE FROM groups WHERE id = $1 AND org_id = $2";

const MEMBERSHIP_PUT: &str = "INSERT INTO memberships (org_id, group_id, user_id) \
     VALUES ($1, $2, $3) ON CONFLICT (group_id, user_id) DO NOTHING";
const MEMBERSHIP_DELETE: &str =
    "DELETE FROM memberships WHERE group_id = $1 AND user_id = $2 AND org_id = $3";

const POLICY_PUT: &str = "INSERT INTO policies \
     (id, org_id, name, description, legacy_group, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
     legacy_group = excluded.legacy_group, created_at = excluded.created_at, \
     updated_at = excluded.updated_at \
     WHERE policies.org_id = excluded.org_id";
const POLICY_DELETE: &str = "DELETE FROM policies WHERE id = $1 AND org_id = $2";
/// Deletes the rules of a policy of the organization (none if the policy is another's).
const POLICY_RULES_DELETE: &str = "DELETE FROM policy_rules WHERE policy_id = $1 \
     AND policy_id IN (SELECT id FROM policies WHERE id = $1 AND org_id = $2)";
const POLICY_RULE_INSERT: &str = "INSERT INTO policy_rules \
     (policy_id, position, principal_kind, principal_id, roles) VALUES ($1, $2, $3, $4, $5)";

const NAMESPACE_PUT: &str = "INSERT INTO namespaces (id, org_id, name, created_at) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, created_at = excluded.created_at \
     WHERE namespaces.org_id = excluded.org_id";
const NAMESPACE_DELETE: &str = "DELETE FROM namespaces WHERE id = $1 AND org_id = $2";

const GRANT_PUT: &str = "INSERT INTO namespace_grants (org_id, namespace_id, user_id, key) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (namespace_id, user_id, key) DO NOTHING";
const GRANT_DELETE: &str = "DELETE FROM namespace_grants \
     WHERE namespace_id = $1 AND user_id = $2 AND key = $3 AND org_id = $4";

const CLUSTER_PUT: &str = "INSERT INTO clusters \
     (id, org_id, name, api_server_url, ca_bundle, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
     api_server_url = excluded.api_server_url, ca_bundle = excluded.ca_bundle, \
     created_at = excluded.created_at \
     WHERE clusters.org_id = excluded.org_id";
const CLUSTER_DELETE: &str = "DELETE FROM clusters WHERE id = $1 AND org_id = $2";

/// `last_used_at` is left alone: it is not part of the token as the core knows it.
const TOKEN_PUT: &str = "INSERT INTO api_tokens \
     (id, org_id, kind, user_id, name, note, secret_hash, display_prefix, created_by, \
     created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id, \
     name = excluded.name, note = excluded.note, secret_hash = excluded.secret_hash, \
     display_prefix = excluded.display_prefix, created_by = excluded.created_by, \
     created_at = excluded.created_at, expires_at = excluded.expires_at \
     WHERE api_tokens.org_id = excluded.org_id";
const TOKEN_DELETE: &str = "DELETE FROM api_tokens WHERE id = $1 AND org_id = $2";
const TOKEN_TOUCH: &str = "UPDATE api_tokens SET last_used_at = $2 \
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";

const AUDIT_INSERT: &str = "INSERT INTO audit_events \
     (id, org_id, at, actor, action, target, outcome, error_code, revision, request_id, changes) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// A `u64` as the BIGINT column holding it.
fn bigint(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Inconsistent(format!("{what} {value} does not fit a BIGINT")))
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// Inserts the organization row; `false` if the id is taken.
pub(crate) async fn insert_organization(
    conn: &mut AnyConnection,
    org: &Organization,
    revision: u64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(ORG_INSERT)
        .bind(org.id.as_str())
        .bind(org.name.as_str())
        .bind(org.default_admin.as_str())
        .bind(bigint(revision, "revision")?)
        .bind(org.created_at.0)
        .run(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the organization from `expected` to `new`; `false` if it is not at `expected`.
pub(crate) async fn bump_revision(
    conn: &mut AnyConnection,
    org: &OrgId,
    expected: u64,
    new: u64,
) -> Result<bool, StoreError> {
    // A revision beyond BIGINT cannot be stored, so an organization cannot be at it.
    let (Ok(expected), Ok(new)) = (i64::try_from(expected), i64::try_from(new)) else {
        return Ok(false);
    };
    let done = sqlx::query(ORG_BUMP)
        .bind(org.as_str())
        .bind(expected)
        .bind(new)
        .run(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Applies one change to the rows of `org`.
pub(crate) async fn apply(
    conn: &mut AnyConnection,
    org: &OrgId,
    change: &Change,
) -> Result<(), StoreError> {
    match change {
        Change::Put { after, .. } => put(conn, org, after).await,
        Change::Delete { before } => delete(conn, org, before).await,
    }
}

/// The put touched exactly one row of the organization.
fn put_done(done: AnyQueryResult, kind: &str, id: &str, org: &OrgId) -> Result<(), StoreError> {
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Inconsistent(format!(
            "{kind} `{id}` belongs to another organization than `{org}`"
        )))
    }
}

/// The delete removed exactly one row of the organization.
fn delete_done(done: AnyQueryResult, kind: &str, id: &str, org: &OrgId) -> Result<(), StoreError> {
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Inconsistent(format!(
            "cannot delete {kind} `{id}`: organization `{org}` has none"
        )))
    }
}

async fn put(conn: &mut AnyConnection, org: &OrgId, entity: &Entity) -> Result<(), StoreError> {
    let o = org.as_str();
    match entity {
        Entity::Organization(row) => {
            if row.id != *org {
                return Err(StoreError::Inconsistent(format!(
                    "a change of organization `{org}` puts organization `{}`",
                    row.id
                )));
            }
            let done = sqlx::query(ORG_UPDATE)
                .bind(o)
                .bind(row.name.as_str())
                .bind(row.default_admin.as_str())
                .bind(row.created_at.0)
                .run(&mut *conn)
                .await?;
            if done.rows_affected() == 1 {
                Ok(())
            } else {
                Err(StoreError::Inconsistent(format!(
                    "organization `{org}` does not exist"
                )))
            }
        }
        Entity::User(u) => {
            let done = sqlx::query(USER_PUT)
                .bind(u.id.as_str())
                .bind(o)
                .bind(u.email.as_str())
                // The core compares emails ASCII-case-insensitively (`eq_ignore_ascii_case`).
                .bind(u.email.to_ascii_lowercase())
                .bind(u.first_name.as_str())
                .bind(u.last_name.as_str())
                .bind(u.status.as_str())
                .bind(u.created_at.0)
                .run(&mut *conn)
                .await?;
            put_done(done, "user", u.id.as_str(), org)
        }
        Entity::ServiceAccount(sa) => {
            let done = sqlx::query(SERVICE_ACCOUNT_PUT)
                .bind(sa.id.as_str())
                .bind(o)
                .bind(sa.name.as_str())
                .bind(sa.created_by.as_ref().map(|u| u.as_str()))
                .bind(flag(sa.active))
                .bind(flag(sa.system_managed))
                .bind(sa.created_at.0)
                .run(&mut *conn)
                .await?;
            put_done(done, "service account", sa.id.as_str(), org)
        }
        Entity::Group(g) => {
            let done = sqlx::query(GROUP_PUT)
                .bind(g.id.as_str())
                .bind(o)
                .bind(g.name.as_str())
                .bind(g.description.as_str())
                .bind(flag(g.legacy))
                .bind(g.created_at.0)
                .run(&mut *conn)
                .await?;
            put_done(done, "group", g.id.as_str(), org)
        }
        Entity::Membership { group, user } => {
            // Already present is fine; the foreign keys on (org_id, group_id) and
            // (org_id, user_id) keep it inside the organization.
            sqlx::query(MEMBERSHIP_PUT)
                .bind(o)
                .bind(group.as_str())
                .bind(user.as_str())
                .run(&mut *conn)
                .await?;
            Ok(())
        }
        Entity::Policy(p) => {
            let done = sqlx::query(POLICY_PUT)
                .bind(p.id.as_str())
                .bind(o)
                .bind(p.name.as_str())
                .bind(p.description.as_str())
                .bind(p.legacy_group.as_deref())
                .bind(p.created_at.0)
                .bind(p.updated_at.0)
                .run(&mut *conn)
                .await?;
            put_done(done, "policy", p.id.as_str(), org)?;
            sqlx::query(POLICY_RULES_DELETE)
                .bind(p.id.as_str())
                .bind(o)
                .run(&mut *conn)
                .await?;
            for (position, rule) in p.rules.iter().enumerate() {
                let roles = serde_json::to_string(&rule.roles).map_err(|e| {
                    StoreError::Inconsistent(format!("roles of policy `{}`: {e}", p.id))
                })?;
                sqlx::query(POLICY_RULE_INSERT)
                    .bind(p.id.as_str())
                    .bind(bigint(position as u64, "rule position")?)
                    .bind(rule.principal.kind())
                    .bind(rule.principal.id())
                    .bind(roles)
                    .run(&mut *conn)
                    .await?;
            }
            Ok(())
        }
        Entity::Namespace(n) => {
            let done = sqlx::query(NAMESPACE_PUT)
                .bind(n.id.as_str())
                .bind(o)
                .bind(n.name.as_str())
                .bind(n.created_at.0)
                .run(&mut *conn)
                .await?;
            put_done(done, "namespace", n.id.as_str(), org)
        }
        Entity::NamespaceGrant(g) => {
            sqlx::query(GRANT_PUT)
                .bind(o)
                .bind(g.namespace.as_str())
                .bind(g.user.as_str())
                .bind(g.key.as_str())
                .run(&mut *conn)
                .await?;
            Ok(())
        }
        Entity::Cluster(c) => {
            let done = sqlx::query(CLUSTER_PUT)
                .bind(c.id.as_str())
                .bind(o)
                .bind(c.name.as_str())
                .bind(c.api_server_url.as_str())
                .bind(c.ca_bundle.as_str())
                .bind(c.created_at.0)
                .run(&mut *conn)
                .await?;
            put_done(done, "cluster", c.id.as_str(), org)
        }
        Entity::Token(t) => {
            let done = sqlx::query(TOKEN_PUT)
                .bind(t.id.as_str())
                .bind(o)
                .bind(t.kind.as_str())
                .bind(t.user.as_str())
                .bind(t.name.as_str())
                .bind(t.note.as_str())
                .bind(t.secret_hash.as_str())
                .bind(t.display_prefix.as_str())
                .bind(t.created_by.as_str())
                .bind(t.created_at.0)
                .bind(t.expires_at.map(|at| at.0))
                .run(&mut *conn)
                .await?;
            put_done(done, "token", t.id.as_str(), org)
        }
    }
}

async fn delete(conn: &mut AnyConnection, org: &OrgId, entity: &Entity) -> Result<(), StoreError> {
    let o = org.as_str();
    let by_id =
        |sql: &'static str, id: &str| sqlx::query(sql).bind(id.to_string()).bind(o.to_string());
    match entity {
        Entity::Organization(row) => Err(StoreError::Inconsistent(format!(
            "organization `{}` cannot be deleted by a commit",
            row.id
        ))),
        Entity::User(u) => {
            let done = by_id(USER_DELETE, u.id.as_str()).run(&mut *conn).await?;
            delete_done(done, "user", u.id.as_str(), org)
        }
        Entity::ServiceAccount(sa) => {
            let done = by_id(SERVICE_ACCOUNT_DELETE, sa.id.as_str())
                .run(&mut *conn)
                .await?;
            delete_done(done, "service account", sa.id.as_str(), org)
        }
        Entity::Group(g) => {
            let done = by_id(GROUP_DELETE, g.id.as_str()).run(&mut *conn).await?;
            delete_done(done, "group", g.id.as_str(), org)
        }
        Entity::Membership { group, user } => {
            let done = sqlx::query(MEMBERSHIP_DELETE)
                .bind(group.as_str())
                .bind(user.as_str())
                .bind(o)
                .run(&mut *conn)
                .await?;
            delete_done(done, "membership", &format!("{group}/{user}"), org)
        }
        Entity::Policy(p) => {
            by_id(POLICY_RULES_DELETE, p.id.as_str())
                .run(&mut *conn)
                .await?;
            let done = by_id(POLICY_DELETE, p.id.as_str()).run(&mut *conn).await?;
            delete_done(done, "policy", p.id.as_str(), org)
        }
        Entity::Namespace(n) => {
            let done = by_id(NAMESPACE_DELETE, n.id.as_str())
                .run(&mut *conn)
                .await?;
            delete_done(done, "namespace", n.id.as_str(), org)
        }
        Entity::NamespaceGrant(g) => {
            let done = sqlx::query(GRANT_DELETE)
                .bind(g.namespace.as_str())
                .bind(g.user.as_str())
                .bind(g.key.as_str())
                .bind(o)
                .run(&mut *conn)
                .await?;
            let id = format!("{}/{}/{}", g.namespace, g.user, g.key);
            delete_done(done, "namespace grant", &id, org)
        }
        Entity::Cluster(c) => {
            let done = by_id(CLUSTER_DELETE, c.id.as_str()).run(&mut *conn).await?;
            delete_done(done, "cluster", c.id.as_str(), org)
        }
        Entity::Token(t) => {
            let done = by_id(TOKEN_DELETE, t.id.as_str()).run(&mut *conn).await?;
            delete_done(done, "token", t.id.as_str(), org)
        }
    }
}

pub(crate) async fn insert_audit(
    conn: &mut AnyConnection,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let changes = serde_json::to_string(&event.changes).map_err(|e| {
        StoreError::Inconsistent(format!("changes of audit event `{}`: {e}", event.id))
    })?;
    sqlx::query(AUDIT_INSERT)
        .bind(event.id.as_str())
        .bind(event.org_id.as_str())
        .bind(event.at.0)
        .bind(event.actor.as_str())
        .bind(event.action.as_str())
        .bind(event.target.as_str())
        .bind(event.outcome.as_str())
        .bind(event.error_code.as_deref())
        .bind(bigint(event.revision, "audit revision")?)
        .bind(event.request_id.as_str())
        .bind(changes)
        .run(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) async fn touch_token(
    conn: &mut AnyConnection,
    token: &TokenId,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(TOKEN_TOUCH)
        .bind(token.as_str())
        .bind(at.0)
        .run(&mut *conn)
        .await?;
    Ok(())
}
