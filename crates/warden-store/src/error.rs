//! Why a store call failed, and the stable code each failure maps to.

use warden_core::{Code, ErrorCode};

/// Why a store call failed.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// Optimistic concurrency lost: the organization is not at the revision the change was
    /// computed from (`actual` is `None` if the organization does not exist). Nothing was
    /// written.
    #[error("organization `{org}` is at revision {}, not {expected}: reload it and retry", describe_revision(.actual))]
    RevisionConflict {
        org: String,
        expected: u64,
        actual: Option<u64>,
    },
    /// The organization id is already taken.
    #[error("organization `{0}` already exists")]
    OrgExists(String),
    /// A stored row cannot be decoded (unknown enum text, bad JSON, out-of-range number).
    #[error("corrupt data in the store: {0}")]
    Corrupt(String),
    /// A change does not match the stored rows: the row to delete is missing, an id belongs
    /// to another organization, or a value cannot be stored. Nothing was written. This is a
    /// bug in the caller or a store edited behind Warden's back.
    #[error("change does not match the stored organization: {0}")]
    Inconsistent(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("schema migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// A uniqueness constraint of the database refused a row (the core checks uniqueness
    /// first; the database backs it up).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(e)
            if e.as_database_error().is_some_and(|d| d.is_unique_violation()))
    }

    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, StoreError::Database(e)
            if e.as_database_error().is_some_and(|d| d.is_foreign_key_violation()))
    }
}

impl ErrorCode for StoreError {
    fn error_code(&self) -> Code {
        match self {
            StoreError::RevisionConflict { .. } => Code::ConcurrentModification,
            e if e.is_unique_violation() => Code::DuplicateName,
            _ => Code::Internal,
        }
    }
}

fn describe_revision(actual: &Option<u64>) -> String {
    match actual {
        Some(revision) => revision.to_string(),
        None => "none (it does not exist)".to_string(),
    }
}
