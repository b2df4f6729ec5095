//! Reading columns out of rows and turning values into what the columns hold. Every column
//! type is portable between SQLite and PostgreSQL: TEXT, BIGINT (times in milliseconds since
//! the epoch, flags as 0/1), and TEXT holding JSON.

use std::collections::BTreeMap;

use sqlx::any::{AnyQueryResult, AnyRow};
use sqlx::Row;
use warden_core::{OrgId, OrgState, Timestamp};

use crate::StoreError;

pub(crate) fn text(row: &AnyRow, column: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<String, _>(column)?)
}

pub(crate) fn opt_text(row: &AnyRow, column: &str) -> Result<Option<String>, StoreError> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

pub(crate) fn int(row: &AnyRow, column: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<i64, _>(column)?)
}

pub(crate) fn time(row: &AnyRow, column: &str) -> Result<Timestamp, StoreError> {
    Ok(Timestamp(int(row, column)?))
}

pub(crate) fn opt_time(row: &AnyRow, column: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(Timestamp))
}

pub(crate) fn unsigned(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    let value = int(row, column)?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {column}: {value}")))
}

/// A BIGINT 0/1 flag.
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    match int(row, column)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(StoreError::Corrupt(format!(
            "{column} must be 0 or 1, found {other}"
        ))),
    }
}

/// A `u64` as the BIGINT column holding it.
pub(crate) fn bigint(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Inconsistent(format!("{what} {value} does not fit a BIGINT")))
}

pub(crate) fn to_flag(value: bool) -> i64 {
    i64::from(value)
}

/// The state of the organization a row belongs to (by its `org_id` column).
pub(crate) fn owner<'a>(
    states: &'a mut BTreeMap<OrgId, OrgState>,
    row: &AnyRow,
    table: &str,
) -> Result<&'a mut OrgState, StoreError> {
    let org = OrgId::from(text(row, "org_id")?);
    match states.get_mut(&org) {
        Some(state) => Ok(state),
        None => Err(StoreError::Corrupt(format!(
            "a row of {table} names organization `{org}`, which does not exist"
        ))),
    }
}

/// The put touched exactly one row of the organization.
pub(crate) fn put_done(
    done: AnyQueryResult,
    kind: &str,
    id: &str,
    org: &OrgId,
) -> Result<(), StoreError> {
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Inconsistent(format!(
            "{kind} `{id}` belongs to another organization than `{org}`"
        )))
    }
}

/// The delete removed exactly one row of the organization.
pub(crate) fn delete_done(
    done: AnyQueryResult,
    kind: &str,
    id: &str,
    org: &OrgId,
) -> Result<(), StoreError> {
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Inconsistent(format!(
            "cannot delete {kind} `{id}`: organization `{org}` has none"
        )))
    }
}
