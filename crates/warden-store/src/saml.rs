//! `saml_requests` and `saml_assertions`: the state of SAML sign-ins that is not part of an
//! organization's state. A pending AuthnRequest id is consumed once (a response naming it in
//! `InResponseTo` takes it), and an assertion id is recorded once (a second sign-in with it is
//! a replay). Both are single statements whose outcome is decided by the database, so two
//! replicas given the same response cannot both accept it.

use warden_core::{OrgId, Timestamp};

use crate::codec::text;
use crate::exec::Run;
use crate::StoreError;

/// SAML's part of the store.
impl crate::Store {
    /// Records an SP-initiated sign-in's AuthnRequest id, with where to go after it.
    pub async fn insert_saml_request(
        &self,
        org: &OrgId,
        id: &str,
        relay_state: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO saml_requests (org_id, id, relay_state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org.as_str())
        .bind(id)
        .bind(relay_state)
        .bind(at.0)
        .bind(expires_at.0)
        .run(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes a pending AuthnRequest of `org` that has not expired at `now`: its relay state,
    /// or `None` when there is no such request (unknown, used, or expired). Each request is
    /// taken at most once.
    pub async fn take_saml_request(
        &self,
        org: &OrgId,
        id: &str,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM saml_requests WHERE org_id = $1 AND id = $2 AND expires_at > $3 \
             RETURNING relay_state",
        )
        .bind(org.as_str())
        .bind(id)
        .bind(now.0)
        .optional(&self.pool)
        .await?;
        row.map(|row| text(&row, "relay_state")).transpose()
    }

    /// Records that an assertion was used to sign in; `false` if it was used before (a
    /// replay). Kept until `expires_at`, after which the assertion is refused as expired
    /// anyway.
    pub async fn record_saml_assertion(
        &self,
        org: &OrgId,
        assertion_id: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO saml_assertions (org_id, assertion_id, used_at, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, assertion_id) DO NOTHING",
        )
        .bind(org.as_str())
        .bind(assertion_id)
        .bind(at.0)
        .bind(expires_at.0)
        .run(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets expired requests and assertion ids; returns how many rows went.
    pub async fn purge_saml(&self, now: Timestamp) -> Result<u64, StoreError> {
        let requests = sqlx::query("DELETE FROM saml_requests WHERE expires_at <= $1")
            .bind(now.0)
            .run(&self.pool)
            .await?;
        let assertions = sqlx::query("DELETE FROM saml_assertions WHERE expires_at <= $1")
            .bind(now.0)
            .run(&self.pool)
            .await?;
        Ok(requests.rows_affected() + assertions.rows_affected())
    }
}
