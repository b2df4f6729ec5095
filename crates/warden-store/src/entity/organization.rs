//! The `organizations` table: one row per tenant, with its revision.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::{AnyConnection, AnyPool};
use warden_core::{OrgId, OrgState, Organization, UserId};

use super::{Scope, Select};
use crate::codec::{bigint, opt_text, text, time, unsigned};
use crate::exec::Run;
use crate::StoreError;

const INSERT: &str =
    "INSERT INTO organizations (id, name, default_admin, revision, created_at, sso) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING";
const UPDATE: &str = "UPDATE organizations SET name = $2, default_admin = $3, created_at = $4, \
     sso = $5 WHERE id = $1";
const BUMP: &str = "UPDATE organizations SET revision = $3 WHERE id = $1 AND revision = $2";
const REVISION: &str = "SELECT revision FROM organizations WHERE id = $1";
const REVISIONS: &str = "SELECT id, revision FROM organizations ORDER BY id";
const ROWS: Select = Select {
    from: "SELECT id, name, default_admin, revision, created_at, sso FROM organizations",
    org_column: "id",
    order_by: "id",
};

/// The organization's SSO settings as stored: JSON, or NULL.
fn sso_json(org: &Organization) -> Result<Option<String>, StoreError> {
    org.sso
        .as_deref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("SSO settings of `{}`: {e}", org.id)))
}

/// Inserts the organization row; `false` if the id is taken.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    org: &Organization,
    revision: u64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(INSERT)
        .bind(org.id.as_str())
        .bind(org.name.as_str())
        .bind(org.default_admin.as_str())
        .bind(bigint(revision, "revision")?)
        .bind(org.created_at.0)
        .bind(sso_json(org)?)
        .run(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn put(
    conn: &mut AnyConnection,
    org: &OrgId,
    row: &Organization,
) -> Result<(), StoreError> {
    if row.id != *org {
        return Err(StoreError::Inconsistent(format!(
            "a change of organization `{org}` puts organization `{}`",
            row.id
        )));
    }
    let done = sqlx::query(UPDATE)
        .bind(org.as_str())
        .bind(row.name.as_str())
        .bind(row.default_admin.as_str())
        .bind(row.created_at.0)
        .bind(sso_json(row)?)
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
    let done = sqlx::query(BUMP)
        .bind(org.as_str())
        .bind(expected)
        .bind(new)
        .run(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn revision(
    conn: &mut AnyConnection,
    org: &OrgId,
) -> Result<Option<u64>, StoreError> {
    sqlx::query(REVISION)
        .bind(org.as_str())
        .optional(&mut *conn)
        .await?
        .map(|row| unsigned(&row, "revision"))
        .transpose()
}

pub(crate) async fn revisions(pool: &AnyPool) -> Result<Vec<(OrgId, u64)>, StoreError> {
    sqlx::query(REVISIONS)
        .all(pool)
        .await?
        .iter()
        .map(|row| Ok((OrgId::from(text(row, "id")?), unsigned(row, "revision")?)))
        .collect()
}

/// The organizations' rows, each an empty state at its revision.
pub(super) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
) -> Result<BTreeMap<OrgId, OrgState>, StoreError> {
    let mut states = BTreeMap::new();
    for row in ROWS.rows(conn, org).await? {
        let mut state = OrgState::empty(Organization {
            sso: opt_text(&row, "sso")?
                .map(|json| serde_json::from_str(&json).map(Arc::new))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("an organization's SSO settings: {e}")))?,
            id: OrgId::from(text(&row, "id")?),
            name: text(&row, "name")?,
            default_admin: UserId::from(text(&row, "default_admin")?),
            created_at: time(&row, "created_at")?,
        });
        state.revision = unsigned(&row, "revision")?;
        states.insert(state.org.id.clone(), state);
    }
    Ok(states)
}
