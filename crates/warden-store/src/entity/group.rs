//! The `groups` and `memberships` tables. Group names are unique per organization.

use std::collections::BTreeMap;

use sqlx::AnyConnection;
use warden_core::{Group, GroupId, OrgId, OrgState, UserId};

use super::{by_id, Scope, Select};
use crate::codec::{delete_done, flag, opt_text, owner, put_done, text, time, to_flag};
use crate::exec::Run;
use crate::StoreError;

const PUT: &str =
    "INSERT INTO groups (id, org_id, name, description, legacy, created_at, external_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
     legacy = excluded.legacy, created_at = excluded.created_at, \
     external_id = excluded.external_id \
     WHERE groups.org_id = excluded.org_id";
const DELETE: &str = "DELETE FROM groups WHERE id = $1 AND org_id = $2";
const ROWS: Select = Select {
    from: "SELECT org_id, id, name, description, legacy, created_at, external_id FROM groups",
    org_column: "org_id",
    order_by: "id",
};

const MEMBER_PUT: &str = "INSERT INTO memberships (org_id, group_id, user_id) \
     VALUES ($1, $2, $3) ON CONFLICT (group_id, user_id) DO NOTHING";
const MEMBER_DELETE: &str =
    "DELETE FROM memberships WHERE group_id = $1 AND user_id = $2 AND org_id = $3";
const MEMBER_ROWS: Select = Select {
    from: "SELECT org_id, group_id, user_id FROM memberships",
    org_column: "org_id",
    order_by: "group_id, user_id",
};

pub(super) async fn put(
    conn: &mut AnyConnection,
    org: &OrgId,
    g: &Group,
) -> Result<(), StoreError> {
    let done = sqlx::query(PUT)
        .bind(g.id.as_str())
        .bind(org.as_str())
        .bind(g.name.as_str())
        .bind(g.description.as_str())
        .bind(to_flag(g.legacy))
        .bind(g.created_at.0)
        .bind(g.external_id.as_deref())
        .run(&mut *conn)
        .await?;
    put_done(done, "group", g.id.as_str(), org)
}

pub(super) async fn delete(
    conn: &mut AnyConnection,
    org: &OrgId,
    g: &Group,
) -> Result<(), StoreError> {
    let done = by_id(conn, DELETE, g.id.as_str(), org).await?;
    delete_done(done, "group", g.id.as_str(), org)
}

pub(super) async fn put_member(
    conn: &mut AnyConnection,
    org: &OrgId,
    group: &GroupId,
    user: &UserId,
) -> Result<(), StoreError> {
    // Already present is fine; the foreign keys on (org_id, group_id) and (org_id, user_id)
    // keep it inside the organization.
    sqlx::query(MEMBER_PUT)
        .bind(org.as_str())
        .bind(group.as_str())
        .bind(user.as_str())
        .run(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn delete_member(
    conn: &mut AnyConnection,
    org: &OrgId,
    group: &GroupId,
    user: &UserId,
) -> Result<(), StoreError> {
    let done = sqlx::query(MEMBER_DELETE)
        .bind(group.as_str())
        .bind(user.as_str())
        .bind(org.as_str())
        .run(&mut *conn)
        .await?;
    delete_done(done, "membership", &format!("{group}/{user}"), org)
}

/// Groups, then memberships.
pub(super) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
    states: &mut BTreeMap<OrgId, OrgState>,
) -> Result<(), StoreError> {
    for row in ROWS.rows(conn, org).await? {
        let group = Group {
            external_id: opt_text(&row, "external_id")?.map(Into::into),
            id: GroupId::from(text(&row, "id")?),
            name: text(&row, "name")?,
            description: text(&row, "description")?,
            legacy: flag(&row, "legacy")?,
            created_at: time(&row, "created_at")?,
        };
        owner(states, &row, "groups")?
            .groups
            .insert(group.id.clone(), group);
    }
    for row in MEMBER_ROWS.rows(conn, org).await? {
        let group = GroupId::from(text(&row, "group_id")?);
        let user = UserId::from(text(&row, "user_id")?);
        owner(states, &row, "memberships")?.insert_membership(group, user);
    }
    Ok(())
}
