//! Platform operators and their tokens (`operators`, `operator_tokens`): principals outside
//! every organization. Few, and asked about only by operator calls, so they are read from
//! the database on each call (a revoked operator token fails at once on every server) and
//! never held in memory.

use sqlx::any::AnyRow;
use sqlx::AnyPool;
use warden_core::{AuditEvent, OperatorId, Timestamp};

use crate::codec::{opt_time, text, time};
use crate::exec::Run;
use crate::StoreError;

/// A platform operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: OperatorId,
    pub name: String,
    pub email: String,
    /// Who created it: `operator:<id>`, or `system` for the first (bootstrap).
    pub created_by: String,
    pub created_at: Timestamp,
}

/// An operator's token as stored: the SHA-256 of its secret, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorToken {
    pub id: String,
    pub operator: OperatorId,
    pub secret_hash: String,
    pub display_prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorToken")
            .field("id", &self.id)
            .field("operator", &self.operator)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

const INSERT_OPERATOR: &str =
    "INSERT INTO operators (id, name, email, created_by, created_at) VALUES ($1, $2, $3, $4, $5)";
const INSERT_TOKEN: &str = "INSERT INTO operator_tokens \
     (id, operator_id, secret_hash, display_prefix, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const OPERATORS: &str = "SELECT id, name, email, created_by, created_at FROM operators";
const BY_TOKEN: &str = "SELECT o.id, o.name, o.email, o.created_by, o.created_at, \
     t.id AS token_id, t.expires_at FROM operator_tokens t \
     JOIN operators o ON o.id = t.operator_id WHERE t.secret_hash = $1";

fn operator(row: &AnyRow) -> Result<Operator, StoreError> {
    Ok(Operator {
        id: OperatorId::from(text(row, "id")?),
        name: text(row, "name")?,
        email: text(row, "email")?,
        created_by: text(row, "created_by")?,
        created_at: time(row, "created_at")?,
    })
}

/// Inserts an operator with its first token and the audit event that records it, in one
/// transaction. With `only_first`, refuses (returns `false`, writes nothing) when an
/// operator exists already: the bootstrap runs once.
pub(crate) async fn create(
    pool: &AnyPool,
    operator: &Operator,
    token: &OperatorToken,
    event: &AuditEvent,
    only_first: bool,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    if only_first {
        let existing = sqlx::query("SELECT id FROM operators LIMIT 1")
            .optional(&mut *tx)
            .await?;
        if existing.is_some() {
            tx.rollback().await?;
            return Ok(false);
        }
    }
    sqlx::query(INSERT_OPERATOR)
        .bind(operator.id.as_str())
        .bind(operator.name.as_str())
        .bind(operator.email.as_str())
        .bind(operator.created_by.as_str())
        .bind(operator.created_at.0)
        .run(&mut *tx)
        .await?;
    sqlx::query(INSERT_TOKEN)
        .bind(token.id.as_str())
        .bind(token.operator.as_str())
        .bind(token.secret_hash.as_str())
        .bind(token.display_prefix.as_str())
        .bind(token.created_at.0)
        .bind(token.expires_at.map(|t| t.0))
        .run(&mut *tx)
        .await?;
    crate::audit::append(&mut tx, &event.org_id, &[event]).await?;
    tx.commit().await?;
    Ok(true)
}

/// The operator a token hash belongs to, with the token's id and expiry.
pub(crate) async fn by_token(
    pool: &AnyPool,
    secret_hash_hex: &str,
) -> Result<Option<(Operator, String, Option<Timestamp>)>, StoreError> {
    let Some(row) = sqlx::query(BY_TOKEN)
        .bind(secret_hash_hex)
        .optional(pool)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((
        operator(&row)?,
        text(&row, "token_id")?,
        opt_time(&row, "expires_at")?,
    )))
}

/// Every operator, oldest first.
pub(crate) async fn list(pool: &AnyPool) -> Result<Vec<Operator>, StoreError> {
    let sql = format!("{OPERATORS} ORDER BY created_at, id");
    let rows = sqlx::query(&sql).all(pool).await?;
    rows.iter().map(operator).collect()
}

/// The platform's part of the store: operators and their tokens.
impl crate::Store {
    /// Creates a platform operator with its first token, recording `event` (of the
    /// platform's audit trail) in the same transaction. With `only_first`, does nothing and
    /// returns `false` when an operator exists (the bootstrap runs once).
    pub async fn create_operator(
        &self,
        operator: &Operator,
        token: &OperatorToken,
        event: &AuditEvent,
        only_first: bool,
    ) -> Result<bool, StoreError> {
        create(&self.pool, operator, token, event, only_first).await
    }

    /// The operator holding the token with this SHA-256 (hex), with the token's id and
    /// expiry.
    pub async fn operator_of_token(
        &self,
        secret_hash_hex: &str,
    ) -> Result<Option<(Operator, String, Option<Timestamp>)>, StoreError> {
        by_token(&self.pool, secret_hash_hex).await
    }

    /// Every platform operator, oldest first.
    pub async fn operators(&self) -> Result<Vec<Operator>, StoreError> {
        list(&self.pool).await
    }
}
