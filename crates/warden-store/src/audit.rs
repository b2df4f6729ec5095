//! The `audit_events` table: immutable, one row per change or refused call.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};
use warden_core::{AuditEvent, OrgId, Outcome, Timestamp};

use crate::codec::{bigint, opt_text, text, time, unsigned};
use crate::exec::Run;
use crate::StoreError;

const INSERT: &str = "INSERT INTO audit_events \
     (id, org_id, at, actor, action, target, outcome, error_code, revision, request_id, changes) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const COLUMNS: &str = "SELECT id, org_id, at, actor, action, target, outcome, error_code, \
     revision, request_id, changes FROM audit_events";

pub(crate) async fn insert(conn: &mut AnyConnection, event: &AuditEvent) -> Result<(), StoreError> {
    let changes = serde_json::to_string(&event.changes).map_err(|e| {
        StoreError::Inconsistent(format!("changes of audit event `{}`: {e}", event.id))
    })?;
    sqlx::query(INSERT)
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

pub(crate) async fn list(
    pool: &AnyPool,
    org: &OrgId,
    limit: u32,
    before: Option<(Timestamp, &str)>,
) -> Result<Vec<AuditEvent>, StoreError> {
    let limit = i64::from(limit);
    let rows = match before {
        Some((at, id)) => {
            // Keyset pagination on (at, id), the order of the listing: events sharing a
            // millisecond with the page boundary are neither skipped nor repeated.
            let sql = format!(
                "{COLUMNS} WHERE org_id = $1 AND (at < $2 OR (at = $2 AND id < $3)) \
                 ORDER BY at DESC, id DESC LIMIT $4"
            );
            sqlx::query(&sql)
                .bind(org.as_str())
                .bind(at.0)
                .bind(id)
                .bind(limit)
                .all(pool)
                .await?
        }
        None => {
            let sql = format!("{COLUMNS} WHERE org_id = $1 ORDER BY at DESC, id DESC LIMIT $2");
            sqlx::query(&sql)
                .bind(org.as_str())
                .bind(limit)
                .all(pool)
                .await?
        }
    };
    rows.iter().map(event).collect()
}

fn event(row: &AnyRow) -> Result<AuditEvent, StoreError> {
    let id = text(row, "id")?;
    let changes = serde_json::from_str(&text(row, "changes")?).map_err(|e| {
        StoreError::Corrupt(format!("changes of audit event `{id}` are not JSON: {e}"))
    })?;
    let outcome = text(row, "outcome")?;
    Ok(AuditEvent {
        org_id: OrgId::from(text(row, "org_id")?),
        at: time(row, "at")?,
        actor: text(row, "actor")?,
        action: text(row, "action")?,
        target: text(row, "target")?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| {
            StoreError::Corrupt(format!("audit event `{id}` has outcome `{outcome}`"))
        })?,
        error_code: opt_text(row, "error_code")?,
        revision: unsigned(row, "revision")?,
        request_id: text(row, "request_id")?,
        changes,
        id,
    })
}
