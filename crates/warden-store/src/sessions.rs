//! `sessions` and `password_resets`: console sign-in state. Neither is part of an
//! organization's state: they are read by the sign-in paths only, by the hash of a secret.

use sqlx::any::AnyRow;
use sqlx::AnyPool;
use warden_core::{OrgId, Timestamp, UserId};

use crate::codec::{opt_time, text, time};
use crate::exec::Run;
use crate::outbox::OutboxItem;
use crate::StoreError;

/// A console session as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// Hex SHA-256 of the cookie's secret.
    pub secret_hash: String,
    pub org: OrgId,
    pub user: UserId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("org", &self.org)
            .field("user", &self.user)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A password reset as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub org: OrgId,
    pub user: UserId,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

const COLUMNS: &str =
    "SELECT secret_hash, org_id, user_id, created_at, last_seen_at, expires_at FROM sessions";

fn session(row: &AnyRow) -> Result<Session, StoreError> {
    Ok(Session {
        secret_hash: text(row, "secret_hash")?,
        org: OrgId::from(text(row, "org_id")?),
        user: UserId::from(text(row, "user_id")?),
        created_at: time(row, "created_at")?,
        last_seen_at: time(row, "last_seen_at")?,
        expires_at: time(row, "expires_at")?,
    })
}

pub(crate) async fn insert(pool: &AnyPool, s: &Session) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (secret_hash, org_id, user_id, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.secret_hash.as_str())
    .bind(s.org.as_str())
    .bind(s.user.as_str())
    .bind(s.created_at.0)
    .bind(s.last_seen_at.0)
    .bind(s.expires_at.0)
    .run(pool)
    .await?;
    Ok(())
}

pub(crate) async fn get(pool: &AnyPool, secret_hash: &str) -> Result<Option<Session>, StoreError> {
    let sql = format!("{COLUMNS} WHERE secret_hash = $1");
    let row = sqlx::query(&sql).bind(secret_hash).optional(pool).await?;
    row.as_ref().map(session).transpose()
}

pub(crate) async fn touch(
    pool: &AnyPool,
    secret_hash: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE secret_hash = $1")
        .bind(secret_hash)
        .bind(at.0)
        .run(pool)
        .await?;
    Ok(())
}

pub(crate) async fn delete(pool: &AnyPool, secret_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
        .bind(secret_hash)
        .run(pool)
        .await?;
    Ok(())
}

/// Ends every session of a user but `keep` (the one changing the password).
pub(crate) async fn delete_of_user(
    pool: &AnyPool,
    org: &OrgId,
    user: &UserId,
    keep: Option<&str>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND secret_hash <> $3",
    )
    .bind(org.as_str())
    .bind(user.as_str())
    .bind(keep.unwrap_or(""))
    .run(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Records a password reset and the outbox item that emails its link, in one transaction.
/// A password link written with a commit: the first admin's "set your password" of an
/// organization created by email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasswordReset {
    /// The SHA-256 (hex) of the link's secret.
    pub secret_hash: String,
    pub reset: PasswordReset,
    pub created_at: Timestamp,
}

/// Writes `new` inside a commit's transaction (after the user it names).
pub(crate) async fn put_reset(
    conn: &mut sqlx::AnyConnection,
    new: &NewPasswordReset,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO password_resets (secret_hash, org_id, user_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new.secret_hash.as_str())
    .bind(new.reset.org.as_str())
    .bind(new.reset.user.as_str())
    .bind(new.created_at.0)
    .bind(new.reset.expires_at.0)
    .run(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_reset(
    pool: &AnyPool,
    new: &NewPasswordReset,
    email: &OutboxItem,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    put_reset(&mut tx, new).await?;
    crate::outbox::insert(&mut tx, email).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn get_reset(
    pool: &AnyPool,
    secret_hash: &str,
) -> Result<Option<PasswordReset>, StoreError> {
    let row = sqlx::query(
        "SELECT org_id, user_id, expires_at, used_at FROM password_resets WHERE secret_hash = $1",
    )
    .bind(secret_hash)
    .optional(pool)
    .await?;
    row.map(|row| {
        Ok(PasswordReset {
            org: OrgId::from(text(&row, "org_id")?),
            user: UserId::from(text(&row, "user_id")?),
            expires_at: time(&row, "expires_at")?,
            used_at: opt_time(&row, "used_at")?,
        })
    })
    .transpose()
}

/// Uses a reset (once): sets the password and ends every session of the user, in one
/// transaction. `false` if it was used meanwhile.
pub(crate) async fn complete_reset(
    pool: &AnyPool,
    secret_hash: &str,
    reset: &PasswordReset,
    password_hash: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE password_resets SET used_at = $2 WHERE secret_hash = $1 AND used_at IS NULL",
    )
    .bind(secret_hash)
    .bind(at.0)
    .run(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    crate::credentials::set(&mut tx, &reset.org, &reset.user, password_hash, at).await?;
    sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2")
        .bind(reset.org.as_str())
        .bind(reset.user.as_str())
        .run(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Sign-in's part of the store: passwords, sessions and password resets.
impl crate::Store {
    /// The password hash of a user of `org`, if they have one.
    pub async fn password_hash(
        &self,
        org: &OrgId,
        user: &warden_core::UserId,
    ) -> Result<Option<String>, StoreError> {
        crate::credentials::get(&self.pool, org, user).await
    }

    /// Starts a console session.
    pub async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        insert(&self.pool, session).await
    }

    /// The session whose cookie secret has this SHA-256 (hex).
    pub async fn session(&self, secret_hash: &str) -> Result<Option<Session>, StoreError> {
        get(&self.pool, secret_hash).await
    }

    /// Records a session's use.
    pub async fn touch_session(&self, secret_hash: &str, at: Timestamp) -> Result<(), StoreError> {
        touch(&self.pool, secret_hash, at).await
    }

    /// Ends a session (sign-out, or found expired).
    pub async fn delete_session(&self, secret_hash: &str) -> Result<(), StoreError> {
        delete(&self.pool, secret_hash).await
    }

    /// Ends every session of a user but `keep`; returns how many ended.
    pub async fn delete_sessions_of(
        &self,
        org: &OrgId,
        user: &warden_core::UserId,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        delete_of_user(&self.pool, org, user, keep).await
    }

    /// Sets a user's password and ends their other sessions (`keep`), in one transaction.
    pub async fn change_password(
        &self,
        org: &OrgId,
        user: &warden_core::UserId,
        password_hash: &str,
        at: Timestamp,
        keep: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        crate::credentials::set(&mut tx, org, user, password_hash, at).await?;
        sqlx::query(
            "DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND secret_hash <> $3",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(keep.unwrap_or(""))
        .run(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a password reset and the outbox item emailing its link, in one transaction.
    pub async fn insert_password_reset(
        &self,
        new: &NewPasswordReset,
        email: &OutboxItem,
    ) -> Result<(), StoreError> {
        insert_reset(&self.pool, new, email).await
    }

    /// The password reset whose link secret has this SHA-256 (hex).
    pub async fn password_reset(
        &self,
        secret_hash: &str,
    ) -> Result<Option<PasswordReset>, StoreError> {
        get_reset(&self.pool, secret_hash).await
    }

    /// Uses a reset once: the new password, every session ended. `false` if already used.
    pub async fn complete_password_reset(
        &self,
        secret_hash: &str,
        reset: &PasswordReset,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        complete_reset(&self.pool, secret_hash, reset, password_hash, at).await
    }
}
