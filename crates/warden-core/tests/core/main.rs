//! The core's behaviour end to end: commands, invariants and the engine. One test binary,
//! one module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod batch;
mod codes;
mod common;
mod engine;
mod enterprise;
mod groups;
mod invariants;
mod invitations;
mod k8s;
mod namespaces;
mod org_tokens;
mod patching;
mod policies;
mod principals;
mod properties;
mod service_accounts;
mod time;
mod tokens;
