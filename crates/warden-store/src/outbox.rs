//! The outbox: side effects of commits ([`Effect`]s) written in the commit's transaction and
//! carried out afterwards by a worker, so that a crash between the commit and the delivery
//! loses none.
//!
//! A worker claims due items for a lease (`claimed_until`), delivers them and marks them
//! delivered; a failed delivery is retried later with a back-off. An item whose worker died
//! is claimed again once its lease has run out. Several servers may run workers on one
//! database: a claim is an `UPDATE ... WHERE` that only one of them wins.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};
use warden_core::{Effect, OrgId, Timestamp};

use crate::codec::{int, opt_text, opt_time, text, time, unsigned};
use crate::exec::Run;
use crate::StoreError;

/// One side effect waiting (or done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Unique id; delivery is idempotent by it (an email's file name or Message-ID).
    pub id: String,
    pub org_id: OrgId,
    pub effect: Effect,
    pub created_at: Timestamp,
    /// Delivery attempts so far (claims, including the current one).
    pub attempts: u64,
    pub delivered_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

impl OutboxItem {
    /// A new item, due at once.
    pub fn new(id: String, org_id: OrgId, effect: Effect, created_at: Timestamp) -> OutboxItem {
        OutboxItem {
            id,
            org_id,
            effect,
            created_at,
            attempts: 0,
            delivered_at: None,
            last_error: None,
        }
    }

    fn kind(&self) -> &'static str {
        match self.effect {
            Effect::NotifyTokenCreated { .. } => "notify_token_created",
            Effect::SendInvitation { .. } => "send_invitation",
            Effect::SendPasswordReset { .. } => "send_password_reset",
        }
    }
}

const INSERT: &str = "INSERT INTO outbox \
     (id, org_id, kind, payload, created_at, attempts, next_attempt_at) \
     VALUES ($1, $2, $3, $4, $5, 0, $5)";
const COLUMNS: &str = "SELECT id, org_id, kind, payload, created_at, attempts, delivered_at, \
     last_error FROM outbox";
const DUE: &str = "SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
     AND (claimed_until IS NULL OR claimed_until <= $1) ORDER BY created_at, id LIMIT $2";
/// The claim repeats every condition of `DUE`: between the select and this update another
/// worker may have claimed the item, failed, and set a later `next_attempt_at`.
const CLAIM: &str = "UPDATE outbox SET claimed_by = $2, claimed_until = $3, \
     attempts = attempts + 1 WHERE id = $1 AND delivered_at IS NULL \
     AND next_attempt_at <= $4 AND (claimed_until IS NULL OR claimed_until <= $4)";
const DELIVERED: &str = "UPDATE outbox SET delivered_at = $3, claimed_by = NULL, \
     claimed_until = NULL, last_error = NULL WHERE id = $1 AND claimed_by = $2";
const FAILED: &str = "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL, \
     last_error = $3, next_attempt_at = $4 WHERE id = $1 AND claimed_by = $2";
const BACKLOG: &str = "SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL";

pub(crate) async fn insert(conn: &mut AnyConnection, item: &OutboxItem) -> Result<(), StoreError> {
    let payload = serde_json::to_string(&item.effect)
        .map_err(|e| StoreError::Inconsistent(format!("effect `{}`: {e}", item.id)))?;
    sqlx::query(INSERT)
        .bind(item.id.as_str())
        .bind(item.org_id.as_str())
        .bind(item.kind())
        .bind(payload)
        .bind(item.created_at.0)
        .run(&mut *conn)
        .await?;
    Ok(())
}

fn item(row: &AnyRow) -> Result<OutboxItem, StoreError> {
    let id = text(row, "id")?;
    let effect = serde_json::from_str(&text(row, "payload")?).map_err(|e| {
        StoreError::Corrupt(format!("outbox item `{id}` has an unreadable payload: {e}"))
    })?;
    Ok(OutboxItem {
        org_id: OrgId::from(text(row, "org_id")?),
        effect,
        created_at: time(row, "created_at")?,
        attempts: unsigned(row, "attempts")?,
        delivered_at: opt_time(row, "delivered_at")?,
        last_error: opt_text(row, "last_error")?,
        id,
    })
}

/// Claims up to `limit` due items for `worker` until `now + lease_ms`.
pub(crate) async fn claim(
    pool: &AnyPool,
    worker: &str,
    now: Timestamp,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<OutboxItem>, StoreError> {
    let due: Vec<String> = sqlx::query(DUE)
        .bind(now.0)
        .bind(i64::from(limit))
        .all(pool)
        .await?
        .iter()
        .map(|row| text(row, "id"))
        .collect::<Result<_, _>>()?;
    let mut claimed = Vec::with_capacity(due.len());
    for id in due {
        let won = sqlx::query(CLAIM)
            .bind(id.as_str())
            .bind(worker)
            .bind(now.0.saturating_add(lease_ms))
            .bind(now.0)
            .run(pool)
            .await?
            .rows_affected()
            == 1;
        if won {
            let Some(row) = sqlx::query(&format!("{COLUMNS} WHERE id = $1"))
                .bind(id.as_str())
                .optional(pool)
                .await?
            else {
                continue;
            };
            match item(&row) {
                Ok(item) => claimed.push(item),
                // An item this version cannot read is set aside (never due again), with the
                // reason, rather than blocking every item behind it.
                Err(e) => {
                    tracing::error!(item = %id, error = %e, "outbox item set aside");
                    sqlx::query(FAILED)
                        .bind(id.as_str())
                        .bind(worker)
                        .bind(e.to_string())
                        .bind(i64::MAX)
                        .run(pool)
                        .await?;
                }
            }
        }
    }
    Ok(claimed)
}

/// Marks an item delivered; `false` if `worker` no longer holds its claim.
pub(crate) async fn delivered(
    pool: &AnyPool,
    id: &str,
    worker: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query(DELIVERED)
        .bind(id)
        .bind(worker)
        .bind(at.0)
        .run(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed delivery and when to try again; `false` if `worker` no longer holds
/// the claim (then nothing changes).
pub(crate) async fn failed(
    pool: &AnyPool,
    id: &str,
    worker: &str,
    error: &str,
    retry_at: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query(FAILED)
        .bind(id)
        .bind(worker)
        .bind(error)
        .bind(retry_at.0)
        .run(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn get(pool: &AnyPool, id: &str) -> Result<Option<OutboxItem>, StoreError> {
    sqlx::query(&format!("{COLUMNS} WHERE id = $1"))
        .bind(id)
        .optional(pool)
        .await?
        .map(|row| item(&row))
        .transpose()
}

pub(crate) async fn of_org(pool: &AnyPool, org: &OrgId) -> Result<Vec<OutboxItem>, StoreError> {
    sqlx::query(&format!(
        "{COLUMNS} WHERE org_id = $1 ORDER BY created_at, id"
    ))
    .bind(org.as_str())
    .all(pool)
    .await?
    .iter()
    .map(item)
    .collect()
}

pub(crate) async fn backlog(pool: &AnyPool) -> Result<u64, StoreError> {
    let n = sqlx::query(BACKLOG)
        .optional(pool)
        .await?
        .map(|row| int(&row, "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}
