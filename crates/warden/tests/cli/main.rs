//! End-to-end tests of the `warden` binary, one module per area: real servers on free ports
//! over temporary SQLite data directories, driven through the command line.

// A test stops at the first surprise, with the output that surprised it; JSON answers are
// read by indexing (`serde_json` yields `null` for a missing key, which the assertion reports).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod audit;
mod browser;
mod client;
mod common;
mod default_policies;
mod durability;
mod end_to_end;
mod help;
mod kubernetes;
mod mail;
mod organization;
mod quickstart;
mod serve;
mod service_accounts;
mod tokens;
