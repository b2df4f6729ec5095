//! The HTTP API end to end: a real server on a loopback port over a real store, driven
//! through `warden_client` (raw HTTP only for malformed input and headers). One test binary,
//! one module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod audit;
mod authentication;
mod authorization;
mod common;
mod decisions;
mod default_policies;
mod input;
mod invariants;
mod invitations;
mod kubernetes;
mod openapi;
mod operations;
mod org_tokens;
mod pages;
mod persistence;
mod platform;
mod replicas;
mod service_accounts;
mod sessions;
mod tokens;
mod writes;
