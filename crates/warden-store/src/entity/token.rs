//! The `api_tokens` table: tokens with the SHA-256 of their secret, owned by a user or a
//! service account; and when each was last used (not part of the organization's state).

use std::collections::BTreeMap;

use sqlx::{AnyConnection, AnyPool};
use warden_core::{
    ApiToken, OrgId, OrgState, PrincipalId, ServiceAccountId, Timestamp, TokenId, TokenKind,
    TokenScope, UserId,
};

use super::{by_id, Scope, Select};
use crate::codec::{delete_done, opt_text, opt_time, owner, put_done, text, time};
use crate::exec::Run;
use crate::StoreError;

/// `last_used_at` is left alone: it is not part of the token as the core knows it.
const PUT: &str = "INSERT INTO api_tokens \
     (id, org_id, kind, user_id, service_account_id, name, note, secret_hash, display_prefix, \
     created_by, created_at, expires_at, namespaces, clusters) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id, \
     service_account_id = excluded.service_account_id, \
     name = excluded.name, note = excluded.note, secret_hash = excluded.secret_hash, \
     display_prefix = excluded.display_prefix, created_by = excluded.created_by, \
     created_at = excluded.created_at, expires_at = excluded.expires_at, \
     namespaces = excluded.namespaces, clusters = excluded.clusters \
     WHERE api_tokens.org_id = excluded.org_id";
const DELETE: &str = "DELETE FROM api_tokens WHERE id = $1 AND org_id = $2";
const ROWS: Select = Select {
    from: "SELECT org_id, id, kind, user_id, service_account_id, name, note, secret_hash, \
           display_prefix, created_by, created_at, expires_at, namespaces, clusters \
           FROM api_tokens",
    org_column: "org_id",
    order_by: "id",
};
const TOUCH: &str = "UPDATE api_tokens SET last_used_at = $2 \
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";
const ORG_OF: &str = "SELECT org_id FROM api_tokens WHERE secret_hash = $1";
/// Every secret that opens something of an organization: tokens, and clusters' webhook
/// credentials.
const INDEX: &str = "SELECT secret_hash, org_id FROM api_tokens UNION ALL \
     SELECT webhook_secret_hash, org_id FROM clusters WHERE webhook_secret_hash IS NOT NULL";
const LAST_USED: &str = "SELECT id, last_used_at FROM api_tokens \
     WHERE org_id = $1 AND last_used_at IS NOT NULL ORDER BY id";

pub(super) async fn put(
    conn: &mut AnyConnection,
    org: &OrgId,
    t: &ApiToken,
) -> Result<(), StoreError> {
    let (user, account) = match &t.owner {
        PrincipalId::User(id) => (Some(id.as_str()), None),
        PrincipalId::ServiceAccount(id) => (None, Some(id.as_str())),
    };
    let done = sqlx::query(PUT)
        .bind(t.id.as_str())
        .bind(org.as_str())
        .bind(t.kind.as_str())
        .bind(user)
        .bind(account)
        .bind(t.name.as_str())
        .bind(t.note.as_str())
        .bind(t.secret_hash.as_str())
        .bind(t.display_prefix.as_str())
        .bind(t.created_by.as_str())
        .bind(t.created_at.0)
        .bind(t.expires_at.map(|at| at.0))
        .bind(ids_json(&t.scope.namespaces)?)
        .bind(ids_json(&t.scope.clusters)?)
        .run(&mut *conn)
        .await?;
    put_done(done, "token", t.id.as_str(), org)
}

fn ids_json<T: serde::Serialize>(ids: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(ids).map_err(|e| StoreError::Inconsistent(format!("token scope: {e}")))
}

fn ids<T: serde::de::DeserializeOwned>(token: &TokenId, json: &str) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("token `{token}` has an unreadable scope: {e}")))
}

pub(super) async fn delete(
    conn: &mut AnyConnection,
    org: &OrgId,
    t: &ApiToken,
) -> Result<(), StoreError> {
    let done = by_id(conn, DELETE, t.id.as_str(), org).await?;
    delete_done(done, "token", t.id.as_str(), org)
}

pub(super) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
    states: &mut BTreeMap<OrgId, OrgState>,
) -> Result<(), StoreError> {
    for row in ROWS.rows(conn, org).await? {
        let id = TokenId::from(text(&row, "id")?);
        let kind = text(&row, "kind")?;
        let owner_id = match (
            opt_text(&row, "user_id")?,
            opt_text(&row, "service_account_id")?,
        ) {
            (Some(user), None) => PrincipalId::User(UserId::from(user)),
            (None, Some(account)) => PrincipalId::ServiceAccount(ServiceAccountId::from(account)),
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "token `{id}` has not exactly one owner"
                )))
            }
        };
        let created_by = text(&row, "created_by")?;
        let token = ApiToken {
            kind: TokenKind::parse(&kind).ok_or_else(|| {
                StoreError::Corrupt(format!("token `{id}` has unknown kind `{kind}`"))
            })?,
            owner: owner_id,
            name: text(&row, "name")?,
            note: text(&row, "note")?,
            secret_hash: text(&row, "secret_hash")?,
            display_prefix: text(&row, "display_prefix")?,
            created_by: PrincipalId::parse(&created_by).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "token `{id}` was created by `{created_by}`, not a principal id"
                ))
            })?,
            created_at: time(&row, "created_at")?,
            expires_at: opt_time(&row, "expires_at")?,
            scope: TokenScope {
                namespaces: ids(&id, &text(&row, "namespaces")?)?,
                clusters: ids(&id, &text(&row, "clusters")?)?,
            },
            id,
        };
        owner(states, &row, "api_tokens")?
            .tokens
            .insert(token.id.clone(), token);
    }
    Ok(())
}

pub(crate) async fn touch(
    conn: &mut AnyConnection,
    token: &TokenId,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(TOUCH)
        .bind(token.as_str())
        .bind(at.0)
        .run(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) async fn org_of(pool: &AnyPool, secret_hash: &str) -> Result<Option<OrgId>, StoreError> {
    sqlx::query(ORG_OF)
        .bind(secret_hash)
        .optional(pool)
        .await?
        .map(|row| Ok(OrgId::from(text(&row, "org_id")?)))
        .transpose()
}

pub(crate) async fn last_used(
    pool: &AnyPool,
    org: &OrgId,
) -> Result<Vec<(TokenId, Timestamp)>, StoreError> {
    sqlx::query(LAST_USED)
        .bind(org.as_str())
        .all(pool)
        .await?
        .iter()
        .map(|row| Ok((TokenId::from(text(row, "id")?), time(row, "last_used_at")?)))
        .collect()
}

/// Every token's secret hash and organization.
pub(crate) async fn index(pool: &AnyPool) -> Result<Vec<(String, OrgId)>, StoreError> {
    sqlx::query(INDEX)
        .all(pool)
        .await?
        .iter()
        .map(|row| Ok((text(row, "secret_hash")?, OrgId::from(text(row, "org_id")?))))
        .collect()
}
