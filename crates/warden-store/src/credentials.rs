//! The `user_credentials` table: users' password hashes (argon2id PHC strings). They are not
//! part of an organization's state (never in memory, the change log or the audit log); a
//! commit writes one in its transaction when it creates a user with a password, and sign-in
//! reads one by user.

use sqlx::{AnyConnection, AnyPool};
use warden_core::{OrgId, Timestamp, UserId};

use crate::codec::text;
use crate::exec::Run;
use crate::StoreError;

/// A password to store for a user, as a commit writes it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub user: UserId,
    /// The PHC string of the password's hash; never the password.
    pub password_hash: String,
    pub at: Timestamp,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("user", &self.user)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

const PUT: &str = "INSERT INTO user_credentials (user_id, org_id, password_hash, updated_at) \
     SELECT $1, $2, $3, $4 FROM users WHERE id = $1 AND org_id = $2 \
     ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, \
     updated_at = excluded.updated_at WHERE user_credentials.org_id = excluded.org_id";
const GET: &str = "SELECT password_hash FROM user_credentials WHERE user_id = $1 AND org_id = $2";

/// Stores `credential` for a user of `org` (in the commit's transaction, after the user's
/// row): a user of another organization, or none, is refused.
pub(crate) async fn put(
    conn: &mut AnyConnection,
    org: &OrgId,
    credential: &Credential,
) -> Result<(), StoreError> {
    let done = sqlx::query(PUT)
        .bind(credential.user.as_str())
        .bind(org.as_str())
        .bind(credential.password_hash.as_str())
        .bind(credential.at.0)
        .run(&mut *conn)
        .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Inconsistent(format!(
            "a password for user `{}`, who is not a user of `{org}`",
            credential.user
        )))
    }
}

/// Sets the password of a user of `org` (a change or a reset).
pub(crate) async fn set(
    conn: &mut AnyConnection,
    org: &OrgId,
    user: &UserId,
    password_hash: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    put(
        conn,
        org,
        &Credential {
            user: user.clone(),
            password_hash: password_hash.to_string(),
            at,
        },
    )
    .await
}

/// The password hash of a user of `org`, if they have one.
pub(crate) async fn get(
    pool: &AnyPool,
    org: &OrgId,
    user: &UserId,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(GET)
        .bind(user.as_str())
        .bind(org.as_str())
        .optional(pool)
        .await?;
    row.map(|row| text(&row, "password_hash")).transpose()
}
