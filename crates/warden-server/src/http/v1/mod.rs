//! The API under `/v1`, one file per area. Each area exports `router()`, registering its
//! routes with their OpenAPI operations, and renders its entities to the wire types of
//! `warden_client::model`. Every handler authorizes with the engine: reads through
//! [`Service::require`](crate::service::Service::require) on the caller's snapshot (before
//! resolving any name, so a caller without the action learns nothing about which names
//! exist), writes inside the core's `execute` against the state being changed.

mod audit;
mod authz;
mod catalog;
mod clusters;
mod groups;
mod invitations;
mod kubernetes;
mod namespaces;
mod org_tokens;
mod organization;
mod platform;
mod policies;
mod service_accounts;
pub(crate) mod sessions;
mod tokens;
mod users;

use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use warden_client::model as m;
use warden_core::engine::GrantSource;
use warden_core::{OrgState, PrincipalRef};

use super::error::ApiError;
use super::AppState;

/// What a handler answers.
type Answer = Result<Response, ApiError>;

/// Every route under `/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(organization::router())
        .merge(users::router())
        .merge(org_tokens::router())
        .merge(invitations::router())
        .merge(groups::router())
        .merge(policies::router())
        .merge(service_accounts::router())
        .merge(catalog::router())
        .merge(namespaces::router())
        .merge(clusters::router())
        .merge(kubernetes::router())
        .merge(tokens::router())
        .merge(authz::router())
        .merge(audit::router())
        .merge(platform::router())
        .merge(sessions::router())
}

fn principal_kind(principal: &PrincipalRef) -> m::PrincipalKind {
    match principal {
        PrincipalRef::User(_) => m::PrincipalKind::User,
        PrincipalRef::Group(_) => m::PrincipalKind::Group,
        PrincipalRef::ServiceAccount(_) => m::PrincipalKind::ServiceAccount,
    }
}

/// A principal with its display name (a user's email, a group's or account's name).
fn principal(state: &OrgState, principal: &PrincipalRef) -> m::Principal {
    let name = match principal {
        PrincipalRef::User(id) => state.users.get(id).map(|u| u.email.to_string()),
        PrincipalRef::Group(id) => state.groups.get(id).map(|g| g.name.clone()),
        PrincipalRef::ServiceAccount(id) => state.service_accounts.get(id).map(|s| s.name.clone()),
    };
    m::Principal {
        kind: principal_kind(principal),
        id: principal.id().to_string(),
        name: name.unwrap_or_default(),
    }
}

fn user_status(status: warden_core::UserStatus) -> m::UserStatus {
    match status {
        warden_core::UserStatus::Invited => m::UserStatus::Invited,
        warden_core::UserStatus::Active => m::UserStatus::Active,
        warden_core::UserStatus::Deactivated => m::UserStatus::Deactivated,
    }
}

fn grant(source: GrantSource) -> m::GrantSource {
    m::GrantSource {
        policy_id: source.policy_id.to_string(),
        policy_name: source.policy_name,
        rule_index: source.rule_index,
        via_group: source.via_group.as_ref().map(|g| g.name.clone()),
        via_group_id: source.via_group.map(|g| g.id.to_string()),
        role_id: source.role_id,
        expires_at: source.expires_at.map(|t| t.0),
    }
}
