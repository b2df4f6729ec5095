//! The `invitations` table. What an invitation gives is kept as JSON (see the migration).

use std::collections::BTreeMap;

use sqlx::AnyConnection;
use warden_core::{
    GroupId, Invitation, InvitationId, InvitationStatus, InvitedNamespace, OrgId, OrgState, UserId,
};

use super::{by_id, Scope, Select};
use crate::codec::{delete_done, flag, opt_text, owner, put_done, text, time, to_flag};
use crate::exec::Run;
use crate::StoreError;

const PUT: &str = "INSERT INTO invitations \
     (id, org_id, email, invited_by, namespaces, admin, billing, groups, secret_hash, nonce, \
      status, created_at, sent_at, expires_at, accepted_user) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (id) DO UPDATE SET email = excluded.email, namespaces = excluded.namespaces, \
     admin = excluded.admin, billing = excluded.billing, groups = excluded.groups, \
     secret_hash = excluded.secret_hash, nonce = excluded.nonce, status = excluded.status, \
     sent_at = excluded.sent_at, expires_at = excluded.expires_at, \
     accepted_user = excluded.accepted_user \
     WHERE invitations.org_id = excluded.org_id";
const DELETE: &str = "DELETE FROM invitations WHERE id = $1 AND org_id = $2";
const ROWS: Select = Select {
    from: "SELECT org_id, id, email, invited_by, namespaces, admin, billing, groups, \
           secret_hash, nonce, status, created_at, sent_at, expires_at, accepted_user \
           FROM invitations",
    org_column: "org_id",
    order_by: "id",
};

fn json<T: serde::Serialize>(value: &T, id: &InvitationId) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Inconsistent(format!("invitation `{id}`: {e}")))
}

pub(super) async fn put(
    conn: &mut AnyConnection,
    org: &OrgId,
    i: &Invitation,
) -> Result<(), StoreError> {
    let done = sqlx::query(PUT)
        .bind(i.id.as_str())
        .bind(org.as_str())
        .bind(i.email.as_str())
        .bind(i.invited_by.as_str())
        .bind(json(&i.namespaces, &i.id)?)
        .bind(to_flag(i.admin))
        .bind(to_flag(i.billing))
        .bind(json(&i.groups, &i.id)?)
        .bind(i.secret_hash.as_str())
        .bind(i.nonce.as_str())
        .bind(i.status.as_str())
        .bind(i.created_at.0)
        .bind(i.sent_at.0)
        .bind(i.expires_at.0)
        .bind(i.accepted_user.as_ref().map(|u| u.as_str()))
        .run(&mut *conn)
        .await?;
    put_done(done, "invitation", i.id.as_str(), org)
}

pub(super) async fn delete(
    conn: &mut AnyConnection,
    org: &OrgId,
    i: &Invitation,
) -> Result<(), StoreError> {
    let done = by_id(conn, DELETE, i.id.as_str(), org).await?;
    delete_done(done, "invitation", i.id.as_str(), org)
}

pub(super) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
    states: &mut BTreeMap<OrgId, OrgState>,
) -> Result<(), StoreError> {
    for row in ROWS.rows(conn, org).await? {
        let id = InvitationId::from(text(&row, "id")?);
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("{what} of invitation `{id}`: {e}"))
        };
        let namespaces: Vec<InvitedNamespace> = serde_json::from_str(&text(&row, "namespaces")?)
            .map_err(|e| corrupt("namespaces", &e))?;
        let groups: Vec<GroupId> =
            serde_json::from_str(&text(&row, "groups")?).map_err(|e| corrupt("groups", &e))?;
        let status = text(&row, "status")?;
        let invitation = Invitation {
            email: text(&row, "email")?,
            invited_by: text(&row, "invited_by")?,
            namespaces,
            admin: flag(&row, "admin")?,
            billing: flag(&row, "billing")?,
            groups,
            secret_hash: text(&row, "secret_hash")?,
            nonce: text(&row, "nonce")?,
            status: InvitationStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            created_at: time(&row, "created_at")?,
            sent_at: time(&row, "sent_at")?,
            expires_at: time(&row, "expires_at")?,
            accepted_user: opt_text(&row, "accepted_user")?.map(UserId::from),
            id,
        };
        owner(states, &row, "invitations")?
            .invitations
            .insert(invitation.id.clone(), invitation);
    }
    Ok(())
}
