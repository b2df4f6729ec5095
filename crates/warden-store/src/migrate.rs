//! The schema migrations, embedded in the binary: forward-only, one list for both backends
//! (the SQL is the same on SQLite and PostgreSQL; a dialect-specific migration would get its
//! own list again).
//!
//! `sqlx::migrate!` needs sqlx's `macros` feature, which the workspace leaves off; the files
//! are embedded with `include_str!` instead and handed to sqlx's [`Migrator`] through its
//! public [`MigrationSource`] trait. Checksums are computed as `migrate!` computes them, so
//! a released migration that is edited afterwards is refused at start-up.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

use crate::exec::Run;
use crate::{Backend, StoreError};

/// `(version, description, sql)`, in version order. Add a file to the directory and a line
/// here; a unit test checks the two agree.
pub(crate) type Embedded = &'static [(i64, &'static str, &'static str)];

pub(crate) const MIGRATIONS: Embedded = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "principals time outbox",
        include_str!("../migrations/0002_principals_time_outbox.sql"),
    ),
    (
        3,
        "org changes",
        include_str!("../migrations/0003_org_changes.sql"),
    ),
    (
        4,
        "audit chain",
        include_str!("../migrations/0004_audit_chain.sql"),
    ),
    (5, "people", include_str!("../migrations/0005_people.sql")),
    (
        6,
        "kubernetes",
        include_str!("../migrations/0006_kubernetes.sql"),
    ),
    (
        7,
        "enterprise identity",
        include_str!("../migrations/0007_enterprise_identity.sql"),
    ),
];

/// SHA-384 checksums of version 1 as it was released in two files, one per dialect, whose
/// statements were the same and whose comments differed. A database migrated by either is
/// at the same schema as one migrated by today's single file; [`adopt_single_file`] records
/// the new file's checksum for it instead of refusing to start.
const VERSION_1_RELEASED_CHECKSUMS: [&str; 2] = [
    // migrations/sqlite/0001_initial.sql
    "9afa43524a3059288a2b9a8811a6d6213b21ecc02b1fd22554a8a8aa15a1bd9a2734664259c9aaebbd5baf03a8132429",
    // migrations/postgres/0001_initial.sql
    "e1d79b6c600530611df79ee59cd974ababc7c6b3610f77bec22a75c3f91ddc6cd81f3dfecd3a3d6f937f55929488dfd3",
];

#[derive(Debug)]
struct Source(Embedded);

type BoxDynError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl<'s> MigrationSource<'s> for Source {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(std::future::ready(Ok(migrations(self.0))))
    }
}

fn migrations(list: Embedded) -> Vec<Migration> {
    list.iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                Cow::Borrowed(sql),
                false,
            )
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Brings the schema up to date, then the data the SQL cannot: audit events written before
/// version 4 (or by a server of an older version still running beside this one) are
/// appended to their organization's hash chain, which SHA-256 in Rust computes.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    adopt_single_file(pool, backend).await?;
    Migrator::new(Source(MIGRATIONS)).await?.run(pool).await?;
    crate::audit::chain_unchained(pool).await?;
    Ok(())
}

/// Records today's checksum of version 1 for a database migrated by one of the two released
/// per-dialect files (see [`VERSION_1_RELEASED_CHECKSUMS`]).
async fn adopt_single_file(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let exists = match backend {
        Backend::Sqlite => {
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT count(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
        }
    };
    let row = sqlx::query(exists).optional(pool).await?;
    let present = row
        .map(|r| r.try_get::<i64, _>("n"))
        .transpose()?
        .unwrap_or(0);
    if present == 0 {
        return Ok(());
    }
    let Some(row) = sqlx::query("SELECT checksum FROM _sqlx_migrations WHERE version = 1")
        .optional(pool)
        .await?
    else {
        return Ok(());
    };
    let stored: Vec<u8> = row.try_get("checksum")?;
    if !VERSION_1_RELEASED_CHECKSUMS.contains(&hex(&stored).as_str()) {
        return Ok(());
    }
    let Some(current) = migrations(MIGRATIONS).into_iter().find(|m| m.version == 1) else {
        return Ok(());
    };
    sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 1")
        .bind(current.checksum.to_vec())
        .run(pool)
        .await?;
    tracing::info!("recorded the single-file checksum of schema version 1");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// Every file of `migrations/` is embedded, under its version and description.
    #[test]
    fn the_embedded_list_matches_the_directory() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .map(|p| {
                let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
                let (version, description) = stem.split_once('_').unwrap();
                (
                    version.parse().unwrap(),
                    description.replace('_', " "),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        let embedded: Vec<(i64, String, String)> = MIGRATIONS
            .iter()
            .map(|&(v, d, s)| (v, d.to_string(), s.to_string()))
            .collect();
        assert_eq!(files, embedded, "migrations/ and the embedded list differ");
    }

    /// A database migrated by the released per-dialect file starts, and ends up with the
    /// single file's checksum.
    #[tokio::test]
    async fn a_database_of_the_released_version_1_is_adopted() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
        let pool = AnyPool::connect(&url).await.unwrap();
        let released: Embedded = &[(1, "initial", include_str!("../migrations/0001_initial.sql"))];
        Migrator::new(Source(released))
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        // Pretend it was migrated by the released SQLite file.
        let old = (0..VERSION_1_RELEASED_CHECKSUMS[0].len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&VERSION_1_RELEASED_CHECKSUMS[0][i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>();
        sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 1")
            .bind(old)
            .run(&pool)
            .await
            .unwrap();
        run(&pool, Backend::Sqlite).await.unwrap();
        let versions: Vec<i64> =
            sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
                .all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<i64, _>("version"))
                .collect();
        let all: Vec<i64> = MIGRATIONS.iter().map(|m| m.0).collect();
        assert_eq!(versions, all);
    }
}
