//! `/v1/organization`: the caller's organization.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::OrganizationCommand;
use warden_core::OrgState;

use super::Answer;
use crate::http::error::Problems;
use crate::http::extract::Json;
use crate::http::respond::{read, written};
use crate::http::AppState;
use crate::service::Caller;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_organization, update_organization))
}

pub(super) fn organization(state: &OrgState) -> m::Organization {
    m::Organization {
        id: state.org.id.to_string(),
        name: state.org.name.clone(),
        default_admin: state.org.default_admin.to_string(),
        created_at: state.org.created_at.0,
        revision: state.revision,
    }
}

/// The caller's organization.
///
/// Needs `iam.organizations.get`.
#[utoipa::path(get, path = "/v1/organization", tag = "organization",
    responses((status = 200, body = m::Organization), Problems))]
async fn get_organization(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.organizations.get").await?;
    Ok(read(
        &caller.compiled,
        organization(caller.compiled.state()),
    ))
}

/// Renames the caller's organization.
///
/// Needs `iam.organizations.update`.
#[utoipa::path(patch, path = "/v1/organization", tag = "organization", request_body = m::OrganizationUpdate,
    responses((status = 200, body = m::Written<m::Organization>), Problems))]
async fn update_organization(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::OrganizationUpdate>,
) -> Answer {
    let done = s
        .execute_for(
            &caller,
            OrganizationCommand::Update { name: body.name }.into(),
        )
        .await?;
    let org = organization(done.compiled.state());
    Ok(written(StatusCode::OK, &done.compiled, Some(org)))
}
