//! The `clusters` table.

use std::collections::BTreeMap;

use sqlx::AnyConnection;
use warden_core::{Cluster, ClusterId, OrgId, OrgState};

use super::{by_id, Scope, Select};
use crate::codec::{delete_done, opt_text, owner, put_done, text, time};
use crate::exec::Run;
use crate::StoreError;

const PUT: &str = "INSERT INTO clusters \
     (id, org_id, name, api_server_url, ca_bundle, created_at, webhook_secret_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
     api_server_url = excluded.api_server_url, ca_bundle = excluded.ca_bundle, \
     created_at = excluded.created_at, webhook_secret_hash = excluded.webhook_secret_hash \
     WHERE clusters.org_id = excluded.org_id";
const DELETE: &str = "DELETE FROM clusters WHERE id = $1 AND org_id = $2";
const ROWS: Select = Select {
    from: "SELECT org_id, id, name, api_server_url, ca_bundle, created_at, webhook_secret_hash \
           FROM clusters",
    org_column: "org_id",
    order_by: "id",
};

pub(super) async fn put(
    conn: &mut AnyConnection,
    org: &OrgId,
    c: &Cluster,
) -> Result<(), StoreError> {
    let done = sqlx::query(PUT)
        .bind(c.id.as_str())
        .bind(org.as_str())
        .bind(c.name.as_str())
        .bind(c.api_server_url.as_str())
        .bind(c.ca_bundle.as_str())
        .bind(c.created_at.0)
        .bind(c.webhook_secret_hash.as_deref())
        .run(&mut *conn)
        .await?;
    put_done(done, "cluster", c.id.as_str(), org)
}

pub(super) async fn delete(
    conn: &mut AnyConnection,
    org: &OrgId,
    c: &Cluster,
) -> Result<(), StoreError> {
    let done = by_id(conn, DELETE, c.id.as_str(), org).await?;
    delete_done(done, "cluster", c.id.as_str(), org)
}

pub(super) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
    states: &mut BTreeMap<OrgId, OrgState>,
) -> Result<(), StoreError> {
    for row in ROWS.rows(conn, org).await? {
        let cluster = Cluster {
            id: ClusterId::from(text(&row, "id")?),
            name: text(&row, "name")?,
            api_server_url: text(&row, "api_server_url")?,
            ca_bundle: text(&row, "ca_bundle")?,
            created_at: time(&row, "created_at")?,
            webhook_secret_hash: opt_text(&row, "webhook_secret_hash")?,
        };
        owner(states, &row, "clusters")?
            .clusters
            .insert(cluster.id.clone(), cluster);
    }
    Ok(())
}
