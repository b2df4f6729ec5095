//! The `service_accounts` table: non-human principals of an organization.

use std::collections::BTreeMap;

use sqlx::AnyConnection;
use warden_core::{OrgId, OrgState, ServiceAccount, ServiceAccountId, UserId};

use super::{by_id, Scope, Select};
use crate::codec::{delete_done, flag, opt_text, owner, put_done, text, time, to_flag};
use crate::exec::Run;
use crate::StoreError;

const PUT: &str = "INSERT INTO service_accounts \
     (id, org_id, name, created_by, active, system_managed, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, created_by = excluded.created_by, \
     active = excluded.active, system_managed = excluded.system_managed, \
     created_at = excluded.created_at \
     WHERE service_accounts.org_id = excluded.org_id";
const DELETE: &str = "DELETE FROM service_accounts WHERE id = $1 AND org_id = $2";
const ROWS: Select = Select {
    from: "SELECT org_id, id, name, created_by, active, system_managed, created_at \
           FROM service_accounts",
    org_column: "org_id",
    order_by: "id",
};

pub(super) async fn put(
    conn: &mut AnyConnection,
    org: &OrgId,
    sa: &ServiceAccount,
) -> Result<(), StoreError> {
    let done = sqlx::query(PUT)
        .bind(sa.id.as_str())
        .bind(org.as_str())
        .bind(sa.name.as_str())
        .bind(sa.created_by.as_ref().map(|u| u.as_str()))
        .bind(to_flag(sa.active))
        .bind(to_flag(sa.system_managed))
        .bind(sa.created_at.0)
        .run(&mut *conn)
        .await?;
    put_done(done, "service account", sa.id.as_str(), org)
}

pub(super) async fn delete(
    conn: &mut AnyConnection,
    org: &OrgId,
    sa: &ServiceAccount,
) -> Result<(), StoreError> {
    let done = by_id(conn, DELETE, sa.id.as_str(), org).await?;
    delete_done(done, "service account", sa.id.as_str(), org)
}

pub(super) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
    states: &mut BTreeMap<OrgId, OrgState>,
) -> Result<(), StoreError> {
    for row in ROWS.rows(conn, org).await? {
        let account = ServiceAccount {
            id: ServiceAccountId::from(text(&row, "id")?),
            name: text(&row, "name")?,
            created_by: opt_text(&row, "created_by")?.map(UserId::from),
            active: flag(&row, "active")?,
            system_managed: flag(&row, "system_managed")?,
            created_at: time(&row, "created_at")?,
        };
        owner(states, &row, "service_accounts")?
            .service_accounts
            .insert(account.id.clone(), account);
    }
    Ok(())
}
