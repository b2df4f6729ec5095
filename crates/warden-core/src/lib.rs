//! Warden's pure core: the domain of an organization, the role catalog, the commands that
//! change an organization and the authorization engine that answers checks.
//!
//! No I/O, no async, no clock: time and randomness are passed in through
//! [`command::CommandContext`] and the `now` of every question. The server and the store
//! depend on this crate, never the other way round.

mod action_index;
pub mod actionset;
pub mod audit_chain;
pub mod catalog;
pub mod command;
pub mod domain;
pub mod engine;
pub mod error;
mod invitation;
pub mod k8s;
mod named_map;
pub mod packed;
pub mod resolve;
pub mod scim;
pub mod suggest;
mod timestamp;
pub mod token;
pub mod validate;

pub mod testkit;

pub use actionset::{ActionId, ActionSet};
pub use catalog::Catalog;
pub use command::{
    execute, execute_all, new_organization, Actor, Command, CommandContext, Effect, Executed,
};
pub use domain::*;
pub use engine::{Decision, DenyReason, Snapshot};
pub use error::{BatchError, Code, DomainError, ErrorCode};
