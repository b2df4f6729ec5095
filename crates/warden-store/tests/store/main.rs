//! The store contract, checked on both backends: every test runs once on a fresh SQLite
//! file (`<test>::sqlite`) and once on a fresh PostgreSQL database (`<test>::postgres`).
//!
//! PostgreSQL: `WARDEN_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! names a server; each test gets its own database there (`warden_testing::with_postgres`),
//! dropped afterwards. If the server cannot be reached the PostgreSQL half is skipped with a
//! loud message, or fails when `CI=true`.
//!
//! Organizations change as the server changes them (`common::Org`): commands run through the
//! core, and each commit writes the changes of every command in order, one audit event per
//! command and one outbox item per effect.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

mod audit;
mod batches;
mod clusters;
mod commits;
mod enterprise;
mod groups;
mod namespaces;
mod organizations;
mod outbox;
mod policies;
mod service_accounts;
mod tokens;
mod users;
