//! The `audit_events` table: immutable, one row per change or refused call, each
//! organization's rows a hash chain (`seq`, `prev_hash`, `hash`; warden-core's
//! `audit_chain`), whose head is the organization's row of `audit_heads`.
//!
//! Every event is appended by [`append`], in the transaction that carries it, while that
//! transaction holds the organization's head row: an upsert of the row that changes nothing
//! takes PostgreSQL's row lock (concurrent appenders, on any server, wait for it) and, as a
//! write, SQLite's one write lock. Concurrent appends therefore number their events one after
//! the other and never fork the chain. A transaction's first statement on SQLite is always a
//! write (the revision's update, the organization's insert, or this upsert), so it never
//! needs to upgrade a read snapshot that another writer has made stale.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool};
use warden_core::audit_chain::{self, BrokenLink, Head, Link, StoredEvent, VerifiedChain};
use warden_core::{AuditEvent, OrgId, Outcome, Timestamp};

use crate::codec::{bigint, int, opt_text, text, time, unsigned};
use crate::exec::Run;
use crate::StoreError;

const INSERT: &str = "INSERT INTO audit_events \
     (id, org_id, at, actor, action, target, outcome, error_code, revision, request_id, changes, \
      seq, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
const COLUMNS: &str = "SELECT id, org_id, at, actor, action, target, outcome, error_code, \
     revision, request_id, changes, seq, prev_hash, hash FROM audit_events";
/// Takes the organization's head (creating it at the genesis hash, `seq` 0, if missing) and
/// keeps it locked until the transaction ends.
const LOCK_HEAD: &str = "INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, 0, $2) \
     ON CONFLICT (org_id) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash";
const SET_HEAD: &str = "UPDATE audit_heads SET seq = $2, hash = $3 WHERE org_id = $1";
const HEAD: &str = "SELECT seq, hash FROM audit_heads WHERE org_id = $1";
/// Events read per query when a chain is verified or chained.
const PAGE: i64 = 1000;

/// Which events a listing shows: each field set narrows it. Text fields match exactly;
/// `since` is inclusive and `until` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// `user:<id>`, `service_account:<id>` or `system`.
    pub actor: Option<String>,
    pub target: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// An event as listed: with its place in its organization's chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainedEvent {
    pub event: AuditEvent,
    pub seq: u64,
    pub hash: String,
}

/// One page of a listing, newest first. `next_cursor` (the `seq` to list before) is set
/// when older events match.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub events: Vec<ChainedEvent>,
    pub next_cursor: Option<u64>,
}

/// Appends `events` (all of `org`) to `org`'s chain, in order, inside the caller's
/// transaction.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    org: &OrgId,
    events: &[&AuditEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut head = lock_head(conn, org).await?;
    for event in events {
        if event.org_id != *org {
            return Err(StoreError::Inconsistent(format!(
                "an audit event of `{}` in the chain of `{org}`",
                event.org_id
            )));
        }
        let (link, next) = audit_chain::append(org, Some(&head), stored(event)?);
        insert(conn, &link).await?;
        head = next;
    }
    sqlx::query(SET_HEAD)
        .bind(org.as_str())
        .bind(head.seq)
        .bind(head.hash)
        .run(&mut *conn)
        .await?;
    Ok(())
}

async fn lock_head(conn: &mut AnyConnection, org: &OrgId) -> Result<Head, StoreError> {
    let rows = sqlx::query(LOCK_HEAD)
        .bind(org.as_str())
        .bind(audit_chain::genesis(org))
        .all(&mut *conn)
        .await?;
    let row = rows.first().ok_or_else(|| {
        StoreError::Inconsistent(format!("no audit chain head for `{org}` after its upsert"))
    })?;
    Ok(Head {
        seq: int(row, "seq")?,
        hash: text(row, "hash")?,
    })
}

async fn insert(conn: &mut AnyConnection, link: &Link) -> Result<(), StoreError> {
    let e = &link.event;
    sqlx::query(INSERT)
        .bind(e.id.as_str())
        .bind(e.org_id.as_str())
        .bind(e.at)
        .bind(e.actor.as_str())
        .bind(e.action.as_str())
        .bind(e.target.as_str())
        .bind(e.outcome.as_str())
        .bind(e.error_code.as_deref())
        .bind(e.revision)
        .bind(e.request_id.as_str())
        .bind(e.changes.as_str())
        .bind(link.seq)
        .bind(link.prev_hash.as_str())
        .bind(link.hash.as_str())
        .run(&mut *conn)
        .await?;
    Ok(())
}

/// An event as its row will store it.
fn stored(event: &AuditEvent) -> Result<StoredEvent, StoreError> {
    let changes = serde_json::to_string(&event.changes).map_err(|e| {
        StoreError::Inconsistent(format!("changes of audit event `{}`: {e}", event.id))
    })?;
    Ok(StoredEvent {
        id: event.id.clone(),
        org_id: event.org_id.to_string(),
        at: event.at.0,
        actor: event.actor.clone(),
        action: event.action.clone(),
        target: event.target.clone(),
        outcome: event.outcome.as_str().to_string(),
        error_code: event.error_code.clone(),
        revision: bigint(event.revision, "audit revision")?,
        request_id: event.request_id.clone(),
        changes,
    })
}

/// A page of `org`'s events matching `filter`, newest first (by `seq`), before `cursor` (a
/// `seq`) if given.
pub(crate) async fn list(
    pool: &AnyPool,
    org: &OrgId,
    filter: &AuditFilter,
    limit: u32,
    cursor: Option<u64>,
) -> Result<AuditPage, StoreError> {
    enum Value {
        Text(String),
        Int(i64),
    }
    let mut sql = format!("{COLUMNS} WHERE org_id = $1 AND seq IS NOT NULL");
    let mut values = Vec::new();
    let mut condition = |column: &str, op: &str, value: Value| {
        values.push(value);
        sql.push_str(&format!(" AND {column} {op} ${}", values.len() + 1));
    };
    let texts = [
        ("actor", &filter.actor),
        ("target", &filter.target),
        ("action", &filter.action),
    ];
    for (column, value) in texts {
        if let Some(value) = value {
            condition(column, "=", Value::Text(value.clone()));
        }
    }
    if let Some(outcome) = filter.outcome {
        condition("outcome", "=", Value::Text(outcome.as_str().to_string()));
    }
    if let Some(since) = filter.since {
        condition("at", ">=", Value::Int(since.0));
    }
    if let Some(until) = filter.until {
        condition("at", "<", Value::Int(until.0));
    }
    if let Some(cursor) = cursor {
        // A cursor past every `seq` lists from the newest.
        condition(
            "seq",
            "<",
            Value::Int(i64::try_from(cursor).unwrap_or(i64::MAX)),
        );
    }
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${}", values.len() + 2));
    let mut query = sqlx::query(&sql).bind(org.as_str());
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text),
            Value::Int(int) => query.bind(int),
        };
    }
    // One more than asked: whether there is a next page.
    let rows = query.bind(i64::from(limit) + 1).all(pool).await?;
    let mut events = rows
        .iter()
        .map(|row| {
            Ok(ChainedEvent {
                event: event(row)?,
                seq: unsigned(row, "seq")?,
                hash: opt_text(row, "hash")?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let more = events.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        events.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(AuditPage {
        events,
        next_cursor,
    })
}

/// Verifies `org`'s chain: its head, then its events in `seq` order a page at a time, up to
/// the head (events appended meanwhile are after it and not read).
pub(crate) async fn verify(
    pool: &AnyPool,
    org: &OrgId,
) -> Result<Result<VerifiedChain, BrokenLink>, StoreError> {
    let mut conn = pool.acquire().await?;
    let head = match sqlx::query(HEAD)
        .bind(org.as_str())
        .optional(&mut *conn)
        .await?
    {
        Some(row) => Some(Head {
            seq: int(&row, "seq")?,
            hash: text(&row, "hash")?,
        }),
        None => None,
    };
    let up_to = head.as_ref().map_or(i64::MAX, |h| h.seq);
    let mut verifier = audit_chain::Verifier::new(org);
    let mut after = 0;
    loop {
        let sql =
            format!("{COLUMNS} WHERE org_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4");
        let rows = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(after)
            .bind(up_to)
            .bind(PAGE)
            .all(&mut *conn)
            .await?;
        for row in &rows {
            let link = link(row)?;
            if let Err(broken) = verifier.push(&link) {
                return Ok(Err(broken));
            }
            after = link.seq;
        }
        if i64::try_from(rows.len()).unwrap_or(i64::MAX) < PAGE {
            break;
        }
    }
    Ok(verifier.finish(head.as_ref()))
}

/// Appends the events that have no place in their organization's chain yet (written before
/// schema version 4, or by an older server since) to it, in (at, id) order: one transaction
/// per organization, under its head's lock. Does nothing when every event is chained.
pub(crate) async fn chain_unchained(pool: &AnyPool) -> Result<(), StoreError> {
    let orgs = sqlx::query("SELECT DISTINCT org_id FROM audit_events WHERE seq IS NULL")
        .all(pool)
        .await?
        .iter()
        .map(|row| text(row, "org_id").map(OrgId::from))
        .collect::<Result<Vec<_>, StoreError>>()?;
    for org in orgs {
        let mut tx = pool.begin().await?;
        let mut head = lock_head(&mut tx, &org).await?;
        let mut chained = 0u64;
        loop {
            let sql =
                format!("{COLUMNS} WHERE org_id = $1 AND seq IS NULL ORDER BY at, id LIMIT $2");
            let rows = sqlx::query(&sql)
                .bind(org.as_str())
                .bind(PAGE)
                .all(&mut *tx)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let (link, next) = audit_chain::append(&org, Some(&head), stored_row(row)?);
                sqlx::query(
                    "UPDATE audit_events SET seq = $2, prev_hash = $3, hash = $4 \
                     WHERE id = $1 AND seq IS NULL",
                )
                .bind(link.event.id.as_str())
                .bind(link.seq)
                .bind(link.prev_hash.as_str())
                .bind(link.hash.as_str())
                .run(&mut *tx)
                .await?;
                head = next;
                chained += 1;
            }
        }
        sqlx::query(SET_HEAD)
            .bind(org.as_str())
            .bind(head.seq)
            .bind(head.hash)
            .run(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(org = %org, events = chained, "appended audit events to the organization's hash chain");
    }
    Ok(())
}

/// A row's columns as stored, as the chain hashes them.
fn stored_row(row: &AnyRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        id: text(row, "id")?,
        org_id: text(row, "org_id")?,
        at: int(row, "at")?,
        actor: text(row, "actor")?,
        action: text(row, "action")?,
        target: text(row, "target")?,
        outcome: text(row, "outcome")?,
        error_code: opt_text(row, "error_code")?,
        revision: int(row, "revision")?,
        request_id: text(row, "request_id")?,
        changes: text(row, "changes")?,
    })
}

/// A chained row as the verifier reads it (a missing hash reads as empty: it cannot match).
fn link(row: &AnyRow) -> Result<Link, StoreError> {
    Ok(Link {
        event: stored_row(row)?,
        seq: int(row, "seq")?,
        prev_hash: opt_text(row, "prev_hash")?.unwrap_or_default(),
        hash: opt_text(row, "hash")?.unwrap_or_default(),
    })
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
