//! The `namespaces` and `namespace_grants` tables.

use std::collections::BTreeMap;

use sqlx::AnyConnection;
use warden_core::{Namespace, NamespaceGrant, NamespaceId, OrgId, OrgState, UserId};

use super::{by_id, Scope, Select};
use crate::codec::{delete_done, owner, put_done, text, time};
use crate::exec::Run;
use crate::StoreError;

const PUT: &str = "INSERT INTO namespaces (id, org_id, name, created_at) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, created_at = excluded.created_at \
     WHERE namespaces.org_id = excluded.org_id";
const DELETE: &str = "DELETE FROM namespaces WHERE id = $1 AND org_id = $2";
const ROWS: Select = Select {
    from: "SELECT org_id, id, name, created_at FROM namespaces",
    org_column: "org_id",
    order_by: "id",
};

const GRANT_PUT: &str = "INSERT INTO namespace_grants (org_id, namespace_id, user_id, key) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (namespace_id, user_id, key) DO NOTHING";
const GRANT_DELETE: &str = "DELETE FROM namespace_grants \
     WHERE namespace_id = $1 AND user_id = $2 AND key = $3 AND org_id = $4";
const GRANT_ROWS: Select = Select {
    from: "SELECT org_id, namespace_id, user_id, key FROM namespace_grants",
    org_column: "org_id",
    order_by: "namespace_id, user_id, key",
};

pub(super) async fn put(
    conn: &mut AnyConnection,
    org: &OrgId,
    n: &Namespace,
) -> Result<(), StoreError> {
    let done = sqlx::query(PUT)
        .bind(n.id.as_str())
        .bind(org.as_str())
        .bind(n.name.as_str())
        .bind(n.created_at.0)
        .run(&mut *conn)
        .await?;
    put_done(done, "namespace", n.id.as_str(), org)
}

pub(super) async fn delete(
    conn: &mut AnyConnection,
    org: &OrgId,
    n: &Namespace,
) -> Result<(), StoreError> {
    let done = by_id(conn, DELETE, n.id.as_str(), org).await?;
    delete_done(done, "namespace", n.id.as_str(), org)
}

pub(super) async fn put_grant(
    conn: &mut AnyConnection,
    org: &OrgId,
    g: &NamespaceGrant,
) -> Result<(), StoreError> {
    sqlx::query(GRANT_PUT)
        .bind(org.as_str())
        .bind(g.namespace.as_str())
        .bind(g.user.as_str())
        .bind(g.key.as_str())
        .run(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn delete_grant(
    conn: &mut AnyConnection,
    org: &OrgId,
    g: &NamespaceGrant,
) -> Result<(), StoreError> {
    let done = sqlx::query(GRANT_DELETE)
        .bind(g.namespace.as_str())
        .bind(g.user.as_str())
        .bind(g.key.as_str())
        .bind(org.as_str())
        .run(&mut *conn)
        .await?;
    let id = format!("{}/{}/{}", g.namespace, g.user, g.key);
    delete_done(done, "namespace grant", &id, org)
}

/// Namespaces, then grants.
pub(super) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
    states: &mut BTreeMap<OrgId, OrgState>,
) -> Result<(), StoreError> {
    for row in ROWS.rows(conn, org).await? {
        let namespace = Namespace {
            id: NamespaceId::from(text(&row, "id")?),
            name: text(&row, "name")?,
            created_at: time(&row, "created_at")?,
        };
        owner(states, &row, "namespaces")?
            .namespaces
            .insert(namespace.id.clone(), namespace);
    }
    for row in GRANT_ROWS.rows(conn, org).await? {
        let grant = NamespaceGrant {
            namespace: NamespaceId::from(text(&row, "namespace_id")?),
            user: UserId::from(text(&row, "user_id")?),
            key: text(&row, "key")?,
        };
        owner(states, &row, "namespace_grants")?
            .namespace_grants
            .insert(grant);
    }
    Ok(())
}
