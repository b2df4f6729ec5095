//! The organization's entities, one file each: the SQL that puts, deletes and loads one kind
//! of row, valid on SQLite and PostgreSQL alike.
//!
//! Puts are upserts keyed on the primary key. An upsert only updates a row of the same
//! organization (`DO UPDATE ... WHERE <table>.org_id = excluded.org_id`); a put or delete
//! that touches no row is refused with [`StoreError::Inconsistent`], which rolls the whole
//! transaction back. Loads read one table at a time (one query per table, whether for one
//! organization or all of them) and distribute the rows by `org_id`.

mod cluster;
mod group;
mod invitation;
mod namespace;
pub(crate) mod organization;
mod policy;
mod service_account;
pub(crate) mod token;
mod user;

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use warden_core::command::{Change, Entity};
use warden_core::{OrgId, OrgState};

use crate::exec::Run;
use crate::StoreError;

/// Applies one change to the rows of `org`.
pub(crate) async fn apply(
    conn: &mut AnyConnection,
    org: &OrgId,
    change: &Change,
) -> Result<(), StoreError> {
    match change {
        Change::Put { after, .. } => put(conn, org, after).await,
        Change::Delete { before } => delete(conn, org, before).await,
    }
}

async fn put(conn: &mut AnyConnection, org: &OrgId, entity: &Entity) -> Result<(), StoreError> {
    match entity {
        Entity::Organization(row) => organization::put(conn, org, row).await,
        Entity::User(row) => user::put(conn, org, row).await,
        Entity::ServiceAccount(row) => service_account::put(conn, org, row).await,
        Entity::Group(row) => group::put(conn, org, row).await,
        Entity::Membership { group, user } => group::put_member(conn, org, group, user).await,
        Entity::Policy(row) => policy::put(conn, org, row).await,
        Entity::Namespace(row) => namespace::put(conn, org, row).await,
        Entity::NamespaceGrant(row) => namespace::put_grant(conn, org, row).await,
        Entity::Cluster(row) => cluster::put(conn, org, row).await,
        Entity::Token(row) => token::put(conn, org, row).await,
        Entity::Invitation(row) => invitation::put(conn, org, row).await,
    }
}

async fn delete(conn: &mut AnyConnection, org: &OrgId, entity: &Entity) -> Result<(), StoreError> {
    match entity {
        Entity::Organization(row) => Err(StoreError::Inconsistent(format!(
            "organization `{}` cannot be deleted by a commit",
            row.id
        ))),
        Entity::User(row) => user::delete(conn, org, row).await,
        Entity::ServiceAccount(row) => service_account::delete(conn, org, row).await,
        Entity::Group(row) => group::delete(conn, org, row).await,
        Entity::Membership { group, user } => group::delete_member(conn, org, group, user).await,
        Entity::Policy(row) => policy::delete(conn, org, row).await,
        Entity::Namespace(row) => namespace::delete(conn, org, row).await,
        Entity::NamespaceGrant(row) => namespace::delete_grant(conn, org, row).await,
        Entity::Cluster(row) => cluster::delete(conn, org, row).await,
        Entity::Token(row) => token::delete(conn, org, row).await,
        Entity::Invitation(row) => invitation::delete(conn, org, row).await,
    }
}

/// Which organizations a load reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    All,
    One(&'a OrgId),
    /// Ids from `first` to `last`, both included (several loads of disjoint ranges can run
    /// side by side).
    Range {
        first: &'a OrgId,
        last: &'a OrgId,
    },
}

/// Loads the organizations of `org`, by id. Parents before children: a child row of an
/// organization or policy that is not there is corrupt data.
pub(crate) async fn load(
    conn: &mut AnyConnection,
    org: Scope<'_>,
) -> Result<BTreeMap<OrgId, OrgState>, StoreError> {
    let mut states = organization::load(conn, org).await?;
    if states.is_empty() {
        return Ok(states);
    }
    user::load(conn, org, &mut states).await?;
    service_account::load(conn, org, &mut states).await?;
    group::load(conn, org, &mut states).await?;
    policy::load(conn, org, &mut states).await?;
    namespace::load(conn, org, &mut states).await?;
    cluster::load(conn, org, &mut states).await?;
    token::load(conn, org, &mut states).await?;
    invitation::load(conn, org, &mut states).await?;
    Ok(states)
}

/// A `SELECT` over one table, restricted to one organization or not.
pub(crate) struct Select {
    /// `SELECT ... FROM ...`
    pub from: &'static str,
    /// The column naming the organization.
    pub org_column: &'static str,
    pub order_by: &'static str,
}

impl Select {
    fn sql(&self, scope: Scope<'_>) -> String {
        let Select {
            from,
            org_column,
            order_by,
        } = self;
        match scope {
            Scope::All => format!("{from} ORDER BY {order_by}"),
            Scope::One(_) => format!("{from} WHERE {org_column} = $1 ORDER BY {order_by}"),
            Scope::Range { .. } => format!(
                "{from} WHERE {org_column} >= $1 AND {org_column} <= $2 ORDER BY {order_by}"
            ),
        }
    }

    pub(crate) async fn rows(
        &self,
        conn: &mut AnyConnection,
        scope: Scope<'_>,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let sql = self.sql(scope);
        let mut query = sqlx::query(&sql);
        match scope {
            Scope::All => {}
            Scope::One(org) => query = query.bind(org.as_str()),
            Scope::Range { first, last } => {
                query = query.bind(first.as_str()).bind(last.as_str());
            }
        }
        Ok(query.all(&mut *conn).await?)
    }
}

/// A statement `... WHERE id = $1 AND org_id = $2` run for one row.
pub(crate) async fn by_id(
    conn: &mut AnyConnection,
    sql: &'static str,
    id: &str,
    org: &OrgId,
) -> Result<sqlx::any::AnyQueryResult, StoreError> {
    Ok(sqlx::query(sql)
        .bind(id.to_string())
        .bind(org.as_str().to_string())
        .run(&mut *conn)
        .await?)
}
