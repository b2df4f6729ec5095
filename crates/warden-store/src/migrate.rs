//! The schema migrations, embedded in the binary: forward-only, one list per dialect.
//!
//! `sqlx::migrate!` needs sqlx's `macros` feature, which the workspace leaves off; the files
//! are embedded with `include_str!` instead and handed to sqlx's [`Migrator`] through its
//! public [`MigrationSource`] trait. Checksums are computed as `migrate!` computes them, so
//! a released migration that is edited afterwards is refused at start-up.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::Backend;

/// `(version, description, sql)`, in version order. Add a file to the directory and a line
/// here; a unit test checks the two agree.
pub(crate) type Embedded = &'static [(i64, &'static str, &'static str)];

pub(crate) const SQLITE: Embedded = &[(
    1,
    "initial",
    include_str!("../migrations/sqlite/0001_initial.sql"),
)];

pub(crate) const POSTGRES: Embedded = &[(
    1,
    "initial",
    include_str!("../migrations/postgres/0001_initial.sql"),
)];

#[derive(Debug)]
struct Source(Embedded);

type BoxDynError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl<'s> MigrationSource<'s> for Source {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        let migrations = self
            .0
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

/// The migrator of one backend.
pub(crate) async fn migrator(backend: Backend) -> Result<Migrator, sqlx::migrate::MigrateError> {
    let list = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    Migrator::new(Source(list)).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// Every file of `migrations/<dialect>` is embedded, under its version and description.
    #[test]
    fn embedded_lists_match_the_directories() {
        for (dir, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
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
            let embedded: Vec<(i64, String, String)> = list
                .iter()
                .map(|&(v, d, s)| (v, d.to_string(), s.to_string()))
                .collect();
            assert_eq!(
                files, embedded,
                "migrations/{dir} and the embedded list differ"
            );
        }
    }
}
