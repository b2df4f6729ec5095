//! The `org_changes` table and commit notifications: each commit's row changes by revision,
//! so a server that learns of another server's commit (PostgreSQL `NOTIFY`, heard through a
//! [`ChangeListener`]) loads just what changed ([`Store::changes_since`]) instead of the whole
//! organization. The latest [`KEPT_REVISIONS`] of each organization are kept.
//!
//! Changes are stored as the JSON the core serializes them to, plus what that JSON leaves out
//! on purpose: a token's secret hash and display prefix (kept out of audit events, needed by
//! a replica to authenticate the token), and an invitation's link hash and nonce. The hashes
//! are stored as in their tables; never a secret.

use serde_json::Value;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use warden_core::command::{Change, Entity};
use warden_core::{OrgId, Timestamp};

use crate::codec::{bigint, text, unsigned};
use crate::exec::Run;
use crate::{Backend, Store, StoreError};

/// The PostgreSQL channel a commit notifies, with the payload `<org id> <revision> <ms since
/// the epoch>`.
pub const CHANGES_CHANNEL: &str = "warden_changes";

/// Notifications of commits to the database, from every server (PostgreSQL `LISTEN`).
#[derive(Debug)]
pub struct ChangeListener {
    listener: sqlx::postgres::PgListener,
}

/// What a [`ChangeListener`] heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// `org` was committed at `revision` (or created at it), at `at` by the database's clock.
    Commit {
        org: OrgId,
        revision: u64,
        at: Option<Timestamp>,
    },
    /// The connection was lost and is being re-established: notifications may have been
    /// missed, so look at every organization's revision.
    Reconnected,
}

impl ChangeListener {
    /// Waits for the next notification.
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(Heard::Reconnected);
            };
            let mut words = notification.payload().split(' ');
            let org = words.next();
            let revision = words.next().and_then(|r| r.parse().ok());
            let at = words.next().and_then(|t| t.parse().ok()).map(Timestamp);
            // Anything else on the channel is not ours: ignore it.
            if let (Some(org), Some(revision)) = (org, revision) {
                return Ok(Heard::Commit {
                    org: OrgId::from(org.to_string()),
                    revision,
                    at,
                });
            }
        }
    }
}

impl Store {
    /// Tells every listening server (PostgreSQL) that `org` is at `revision`, when `tx`
    /// commits (PostgreSQL delivers a notification only if its transaction commits).
    pub(crate) async fn notify(
        &self,
        tx: &mut Transaction<'static, Any>,
        org: &OrgId,
        revision: u64,
    ) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            // The database's clock stamps the notification, for the listeners' lag.
            sqlx::query(
                "SELECT pg_notify($1, $2 || ' ' || \
                 (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT::TEXT)",
            )
            .bind(CHANGES_CHANNEL)
            .bind(format!("{org} {revision}"))
            .run(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Starts listening for other servers' commits: `None` on SQLite (no notifications;
    /// servers sharing a SQLite file poll [`Store::org_revisions`]).
    pub async fn listen(&self) -> Result<Option<ChangeListener>, StoreError> {
        let Some(url) = &self.listen_url else {
            return Ok(None);
        };
        let mut listener = sqlx::postgres::PgListener::connect(&url.0).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        Ok(Some(ChangeListener { listener }))
    }

    /// What changed in `org` since `after`: its current revision and the changes of every
    /// revision after `after`, in order. `None` if the organization does not exist or some of
    /// those revisions are no longer recorded (only the latest [`KEPT_REVISIONS`] are): load
    /// the organization instead.
    pub async fn changes_since(
        &self,
        org: &OrgId,
        after: u64,
    ) -> Result<Option<(u64, Vec<(u64, Vec<Change>)>)>, StoreError> {
        let Some(current) = self.org_revision(org).await? else {
            return Ok(None);
        };
        if current <= after {
            return Ok(Some((current, Vec::new())));
        }
        Ok(between(&self.pool, org, after, current)
            .await?
            .map(|changes| (current, changes)))
    }
}

/// How many of an organization's latest revisions keep their changes. A server further
/// behind than this reloads the whole organization.
pub const KEPT_REVISIONS: u64 = 1_000;

const INSERT: &str = "INSERT INTO org_changes (org_id, revision, changes) VALUES ($1, $2, $3)";
const PRUNE: &str = "DELETE FROM org_changes WHERE org_id = $1 AND revision <= $2";
const SINCE: &str = "SELECT revision, changes FROM org_changes \
     WHERE org_id = $1 AND revision > $2 AND revision <= $3 ORDER BY revision";

/// Records the changes of `org` at `revision`, and forgets revisions that are now too old.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    org: &OrgId,
    revision: u64,
    changes: &[&Change],
) -> Result<(), StoreError> {
    sqlx::query(INSERT)
        .bind(org.as_str())
        .bind(bigint(revision, "revision")?)
        .bind(encode(changes)?)
        .run(&mut *conn)
        .await?;
    if revision > KEPT_REVISIONS && revision.is_multiple_of(64) {
        // Pruned every 64 revisions, so the DELETE is amortized over many commits.
        sqlx::query(PRUNE)
            .bind(org.as_str())
            .bind(bigint(revision - KEPT_REVISIONS, "revision")?)
            .run(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The changes of every revision after `after` up to `upto`, in order; `None` unless every
/// one of them is still recorded.
pub(crate) async fn between(
    pool: &AnyPool,
    org: &OrgId,
    after: u64,
    upto: u64,
) -> Result<Option<Vec<(u64, Vec<Change>)>>, StoreError> {
    let rows = sqlx::query(SINCE)
        .bind(org.as_str())
        .bind(bigint(after, "revision")?)
        .bind(bigint(upto, "revision")?)
        .all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut expected = after;
    for row in &rows {
        let revision = unsigned(row, "revision")?;
        expected += 1;
        if revision != expected {
            return Ok(None);
        }
        out.push((revision, decode(&text(row, "changes")?)?));
    }
    Ok((expected == upto).then_some(out))
}

fn encode(changes: &[&Change]) -> Result<String, StoreError> {
    let mut values = Vec::with_capacity(changes.len());
    for change in changes {
        let mut value = serde_json::to_value(change)
            .map_err(|e| StoreError::Inconsistent(format!("unencodable change: {e}")))?;
        let (before, after) = match change {
            Change::Put { before, after } => (before.as_ref(), Some(after)),
            Change::Delete { before } => (Some(before), None),
        };
        for (field, entity) in [("before", before), ("after", after)] {
            match (entity, value.get_mut(field)) {
                (Some(Entity::Token(token)), Some(Value::Object(object))) => {
                    object.insert("secret_hash".into(), token.secret_hash.clone().into());
                    object.insert("display_prefix".into(), token.display_prefix.clone().into());
                }
                (Some(Entity::Cluster(cluster)), Some(Value::Object(object))) => {
                    if let Some(hash) = &cluster.webhook_secret_hash {
                        object.insert("webhook_secret_hash".into(), hash.clone().into());
                    }
                }
                // The hash of the link's secret and its nonce, as in `invitations`.
                (Some(Entity::Invitation(invitation)), Some(Value::Object(object))) => {
                    object.insert("secret_hash".into(), invitation.secret_hash.clone().into());
                    object.insert("nonce".into(), invitation.nonce.clone().into());
                }
                _ => {}
            }
        }
        values.push(value);
    }
    Ok(Value::Array(values).to_string())
}

fn decode(json: &str) -> Result<Vec<Change>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("org_changes: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use warden_core::*;

    use super::*;

    #[test]
    fn token_and_webhook_changes_keep_their_secret_hashes_through_the_log() {
        let token = ApiToken {
            id: TokenId::from("tok_a"),
            kind: TokenKind::Personal,
            owner: PrincipalId::User(UserId::from("usr_a")),
            name: "laptop".into(),
            note: String::new(),
            secret_hash: "ab".repeat(32),
            display_prefix: "wdn_pat_abcd".into(),
            created_by: PrincipalId::User(UserId::from("usr_a")),
            created_at: Timestamp(1),
            expires_at: None,
            scope: TokenScope {
                namespaces: vec![NamespaceId::from("ns_a")],
                clusters: Vec::new(),
            },
        };
        let put = Change::Put {
            before: None,
            after: Entity::Token(token.clone()),
        };
        let delete = Change::Delete {
            before: Entity::Token(token),
        };
        let cluster = Change::Put {
            before: None,
            after: Entity::Cluster(Cluster {
                id: ClusterId::from("cls_a"),
                name: "a".into(),
                api_server_url: "https://k8s.example.com".into(),
                ca_bundle: String::new(),
                created_at: Timestamp(1),
                webhook_secret_hash: Some("cd".repeat(32)),
            }),
        };
        let decoded = decode(&encode(&[&put, &delete, &cluster]).unwrap()).unwrap();
        assert_eq!(decoded, vec![put, delete, cluster]);
    }
}
