//! The `users` table. Emails are unique per organization without regard to ASCII case
//! (`email_lower`), as the core compares them.

use std::collections::BTreeMap;

use sqlx::AnyConnection;
use warden_core::{OrgId, OrgState, User, UserId, UserStatus};

use super::{by_id, Scope, Select};
use crate::codec::{delete_done, opt_text, owner, put_done, text, time};
use crate::exec::Run;
use crate::StoreError;

const PUT: &str = "INSERT INTO users \
     (id, org_id, email, email_lower, first_name, last_name, status, created_at, external_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (id) DO UPDATE SET email = excluded.email, email_lower = excluded.email_lower, \
     first_name = excluded.first_name, last_name = excluded.last_name, status = excluded.status, \
     created_at = excluded.created_at, external_id = excluded.external_id \
     WHERE users.org_id = excluded.org_id";
const DELETE: &str = "DELETE FROM users WHERE id = $1 AND org_id = $2";
const DELETE_CREDENTIALS: &str = "DELETE FROM user_credentials WHERE user_id = $1 AND org_id = $2";
const DELETE_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1 AND org_id = $2";
const DELETE_RESETS: &str = "DELETE FROM password_resets WHERE user_id = $1 AND org_id = $2";
const ROWS: Select = Select {
    from: "SELECT org_id, id, email, first_name, last_name, status, created_at, external_id \
           FROM users",
    org_column: "org_id",
    order_by: "id",
};

pub(super) async fn put(conn: &mut AnyConnection, org: &OrgId, u: &User) -> Result<(), StoreError> {
    let done = sqlx::query(PUT)
        .bind(u.id.as_str())
        .bind(org.as_str())
        .bind(&*u.email)
        // The core compares emails ASCII-case-insensitively (`eq_ignore_ascii_case`).
        .bind(u.email.to_ascii_lowercase())
        .bind(&*u.first_name)
        .bind(&*u.last_name)
        .bind(u.status.as_str())
        .bind(u.created_at.0)
        .bind(u.external_id.as_deref())
        .run(&mut *conn)
        .await?;
    put_done(done, "user", u.id.as_str(), org)
}

pub(super) async fn delete(
    conn: &mut AnyConnection,
    org: &OrgId,
    u: &User,
) -> Result<(), StoreError> {
    // The password, sessions and resets go with the user (they are not entities of the
    // organization's state).
    by_id(conn, DELETE_CREDENTIALS, u.id.as_str(), org).await?;
    by_id(conn, DELETE_SESSIONS, u.id.as_str(), org).await?;
    by_id(conn, DELETE_RESETS, u.id.as_str(), org).await?;
    let done = by_id(conn, DELETE, u.id.as_str(), org).await?;
    delete_done(done, "user", u.id.as_str(), org)
}

pub(super) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
    states: &mut BTreeMap<OrgId, OrgState>,
) -> Result<(), StoreError> {
    for row in ROWS.rows(conn, org).await? {
        let id = UserId::from(text(&row, "id")?);
        let status = text(&row, "status")?;
        let user = User {
            external_id: opt_text(&row, "external_id")?.map(Into::into),
            email: text(&row, "email")?.into(),
            first_name: text(&row, "first_name")?.into(),
            last_name: text(&row, "last_name")?.into(),
            status: UserStatus::parse(&status).ok_or_else(|| {
                StoreError::Corrupt(format!("user `{id}` has unknown status `{status}`"))
            })?,
            created_at: time(&row, "created_at")?,
            id,
        };
        owner(states, &row, "users")?
            .users
            .insert(user.id.clone(), user);
    }
    Ok(())
}
