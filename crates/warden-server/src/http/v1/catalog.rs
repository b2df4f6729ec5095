//! `/v1/roles` and `/v1/catalog`: the role catalog.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::DomainError;

use super::Answer;
use crate::http::error::Problems;
use crate::http::extract::Path;
use crate::http::respond::{list, read};
use crate::http::AppState;
use crate::service::Caller;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles))
        .routes(routes!(get_role))
        .routes(routes!(get_catalog))
}

fn role(role: &warden_core::catalog::Role) -> m::Role {
    m::Role {
        id: role.id.clone(),
        name: role.name.clone(),
        description: role.description.clone(),
        includes: role.includes.clone(),
        actions: role.actions.clone(),
    }
}

/// The catalog's 20 roles: spec section 3's 19 and `scim-provisioner`.
///
/// Needs `iam.roles.list`.
#[utoipa::path(get, path = "/v1/roles", tag = "roles",
    responses((status = 200, body = m::List<m::Role>), Problems))]
async fn list_roles(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.roles.list").await?;
    let items = s.catalog().roles().iter().map(role).collect();
    Ok(list(&caller.compiled, items))
}

/// One role with every action it grants.
///
/// Needs `iam.roles.get`.
#[utoipa::path(get, path = "/v1/roles/{role}", tag = "roles",
    params(("role" = String, Path, description = "Role id")),
    responses((status = 200, body = m::Role), Problems))]
async fn get_role(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    s.require(&caller, "iam.roles.get").await?;
    let found = s.catalog().find_role(&id).ok_or_else(|| {
        DomainError::not_found_among(
            "role",
            &id,
            s.catalog().roles().iter().map(|r| r.id.as_str()),
        )
    })?;
    Ok(read(&caller.compiled, role(found)))
}

/// The whole catalog: actions, aliases, roles, legacy groups, namespace permission keys.
///
/// Needs `iam.roles.list`.
#[utoipa::path(get, path = "/v1/catalog", tag = "roles",
    responses((status = 200, body = m::Catalog), Problems))]
async fn get_catalog(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.roles.list").await?;
    let c = s.catalog();
    Ok(read(
        &caller.compiled,
        m::Catalog {
            actions: c.actions().to_vec(),
            aliases: c.aliases().clone(),
            roles: c.roles().iter().map(role).collect(),
            legacy_groups: c
                .legacy_groups()
                .iter()
                .map(|g| m::LegacyGroup {
                    name: g.name.clone(),
                    roles: g.roles.clone(),
                    cluster_role: g.cluster_role.clone(),
                })
                .collect(),
            namespace_permissions: c
                .namespace_permissions()
                .iter()
                .map(|p| m::NamespacePermission {
                    key: p.key.clone(),
                    description: p.description.clone(),
                    reserved: p.reserved,
                    implies: p.implies.clone(),
                })
                .collect(),
        },
    ))
}
