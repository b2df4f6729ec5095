//! `/v1/invitations`: inviting people (spec section 7.4), and accepting (no token: the
//! link's secret is the credential).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{InvitationCommand, Key, Offer};
use warden_core::{resolve, Invitation, OrgState, Timestamp, UserId};

use super::users::user;
use super::Answer;
use crate::http::error::Problems;
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{list, read, with_revision, written};
use crate::http::AppState;
use crate::service::{now, Caller};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invitation, list_invitations))
        .routes(routes!(
            get_invitation,
            update_invitation,
            revoke_invitation
        ))
        .routes(routes!(resend_invitation))
        .routes(routes!(invitation_link))
        .routes(routes!(inspect_invitation))
        .routes(routes!(accept_invitation))
}

/// An invitation as the API shows it at `now`.
pub(crate) fn invitation(state: &OrgState, i: &Invitation, now: Timestamp) -> m::Invitation {
    let status = match i.status_at(now) {
        "accepted" => m::InvitationStatus::Accepted,
        "revoked" => m::InvitationStatus::Revoked,
        "expired" => m::InvitationStatus::Expired,
        _ => m::InvitationStatus::Pending,
    };
    let invited_by_email = i
        .invited_by
        .strip_prefix("user:")
        .and_then(|id| state.users.get(&UserId::from(id)))
        .map(|u| u.email.to_string());
    m::Invitation {
        id: i.id.to_string(),
        email: i.email.clone(),
        status,
        invited_by: i.invited_by.clone(),
        invited_by_email,
        namespaces: i
            .namespaces
            .iter()
            .map(|n| m::InvitedNamespace {
                namespace_id: n.namespace.to_string(),
                namespace: state
                    .namespaces
                    .get(&n.namespace)
                    .map_or_else(|| n.namespace.to_string(), |ns| ns.name.clone()),
                permissions: n.keys.clone(),
            })
            .collect(),
        admin: i.admin,
        billing: i.billing,
        groups: i
            .groups
            .iter()
            .map(|g| m::InvitedGroup {
                id: g.to_string(),
                name: state
                    .groups
                    .get(g)
                    .map_or_else(|| g.to_string(), |g| g.name.clone()),
            })
            .collect(),
        created_at: i.created_at.0,
        sent_at: i.sent_at.0,
        expires_at: i.expires_at.0,
        accepted_user: i.accepted_user.as_ref().map(ToString::to_string),
    }
}

/// What an invitation gives, as the core takes it.
pub(crate) fn offer(input: &m::InvitationInput) -> Offer {
    Offer {
        namespaces: namespaces(&input.namespaces),
        admin: input.admin,
        billing: input.billing,
        groups: input.groups.iter().map(|g| Key::from(g.as_str())).collect(),
    }
}

fn namespaces(input: &[m::InvitedNamespaceInput]) -> Vec<(Key, Vec<String>)> {
    input
        .iter()
        .map(|n| (Key::from(n.namespace.as_str()), n.permissions.clone()))
        .collect()
}

/// The answer to a sent invitation: it, and its link.
pub(crate) fn sent(
    compiled: &crate::service::CompiledOrg,
    id: &str,
    link: String,
) -> axum::response::Response {
    let state = compiled.state();
    let item = state
        .invitations
        .get(id)
        .map(|i| invitation(state, i, now()));
    match item {
        Some(invitation) => with_revision(
            (
                StatusCode::CREATED,
                axum::Json(m::SentInvitation {
                    revision: compiled.revision(),
                    invitation,
                    link,
                }),
            )
                .into_response(),
            compiled.revision(),
        ),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Invites an address: the email with the link goes out through the outbox, and the answer
/// holds the link too (to hand over another way).
///
/// Needs `iam.users.invite`; with groups or the Admin / View Billing flags also
/// `iam.memberships.create`, with namespaces also `iam.namespace_access.update` (an
/// invitation never gives more than its author could give directly). Reserved namespace
/// keys only from platform operators.
#[utoipa::path(post, path = "/v1/invitations", tag = "invitations", request_body = m::InvitationInput,
    responses((status = 201, body = m::SentInvitation), Problems))]
async fn create_invitation(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::InvitationInput>,
) -> Answer {
    let (done, link) = s
        .invite(
            &caller.org,
            &caller.actor(),
            Some(&caller),
            body.email.clone(),
            offer(&body),
        )
        .await?;
    Ok(sent(&done.compiled, done.target(), link))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct InvitationFilter {
    /// Only invitations with this status.
    status: Option<m::InvitationStatus>,
}

/// The organization's invitations, newest first.
///
/// Needs `iam.invitations.list`.
#[utoipa::path(get, path = "/v1/invitations", tag = "invitations", params(InvitationFilter),
    responses((status = 200, body = m::List<m::Invitation>), Problems))]
async fn list_invitations(
    State(s): State<AppState>,
    caller: Caller,
    Query(filter): Query<InvitationFilter>,
) -> Answer {
    s.require(&caller, "iam.invitations.list").await?;
    let state = caller.compiled.state();
    let now = now();
    let mut items: Vec<m::Invitation> = state
        .invitations
        .values()
        .map(|i| invitation(state, i, now))
        .filter(|i| filter.status.is_none_or(|s| s == i.status))
        .collect();
    items.sort_by(|a, b| (b.sent_at, &b.id).cmp(&(a.sent_at, &a.id)));
    Ok(list(&caller.compiled, items))
}

/// One invitation, by id or invited email (that address's latest).
///
/// Needs `iam.invitations.get`.
#[utoipa::path(get, path = "/v1/invitations/{invitation}", tag = "invitations",
    params(("invitation" = String, Path, description = "Invitation id or invited email")),
    responses((status = 200, body = m::Invitation), Problems))]
async fn get_invitation(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    s.require(&caller, "iam.invitations.get").await?;
    let state = caller.compiled.state();
    let found = resolve::invitation(state, &key)?;
    Ok(read(&caller.compiled, invitation(state, found, now())))
}

/// Edits a pending invitation: each part given replaces the recorded one. Refused once it
/// is accepted, revoked or expired (`invitation_not_pending`).
///
/// Needs `iam.invitations.update` (and, as for inviting, the actions of what it gives).
#[utoipa::path(patch, path = "/v1/invitations/{invitation}", tag = "invitations",
    request_body = m::InvitationUpdate,
    params(("invitation" = String, Path, description = "Invitation id or invited email")),
    responses((status = 200, body = m::Written<m::Invitation>), Problems))]
async fn update_invitation(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<m::InvitationUpdate>,
) -> Answer {
    let command = InvitationCommand::Update {
        invitation: Key(key),
        namespaces: body.namespaces.as_deref().map(namespaces),
        admin: body.admin,
        billing: body.billing,
        groups: body.groups.map(|g| g.into_iter().map(Key::from).collect()),
    };
    let done = s.execute_for(&caller, command.into()).await?;
    let state = done.compiled.state();
    let item = state
        .invitations
        .get(done.target())
        .map(|i| invitation(state, i, now()));
    Ok(written(StatusCode::OK, &done.compiled, item))
}

/// Revokes an invitation: its link stops working. Revoking twice changes nothing; an
/// accepted invitation cannot be revoked (deactivate the user instead).
///
/// Needs `iam.invitations.revoke`.
#[utoipa::path(delete, path = "/v1/invitations/{invitation}", tag = "invitations",
    params(("invitation" = String, Path, description = "Invitation id or invited email")),
    responses((status = 200, body = m::Written<m::Invitation>), Problems))]
async fn revoke_invitation(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let command = InvitationCommand::Revoke {
        invitation: Key(key),
    };
    let done = s.execute_for(&caller, command.into()).await?;
    let state = done.compiled.state();
    let item = state
        .invitations
        .get(done.target())
        .map(|i| invitation(state, i, now()));
    Ok(written(StatusCode::OK, &done.compiled, item))
}

/// Sends a pending (or expired) invitation again with a new link and a new expiry: the old
/// link stops working.
///
/// Needs `iam.invitations.resend`.
#[utoipa::path(post, path = "/v1/invitations/{invitation}/resend", tag = "invitations",
    params(("invitation" = String, Path, description = "Invitation id or invited email")),
    responses((status = 201, body = m::SentInvitation), Problems))]
async fn resend_invitation(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let (done, link) = s.resend_invitation(&caller, Key(key)).await?;
    Ok(sent(&done.compiled, done.target(), link))
}

/// The link of a pending invitation ("Copy link"), made again by the server: the database
/// does not hold it.
///
/// Needs `iam.users.invite` (a link lets anyone who has it join).
#[utoipa::path(get, path = "/v1/invitations/{invitation}/link", tag = "invitations",
    params(("invitation" = String, Path, description = "Invitation id or invited email")),
    responses((status = 200, body = m::InvitationLink), Problems))]
async fn invitation_link(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    s.require(&caller, "iam.users.invite").await?;
    let found = resolve::invitation(caller.compiled.state(), &key)?;
    let link = s.invitation_link(&caller.org, found)?;
    Ok(read(&caller.compiled, m::InvitationLink { link }))
}

/// What a link invites to (no token: the link's secret is the credential). Answers as
/// accepting would refuse: `invitation_link_invalid`, `invitation_revoked`,
/// `invitation_expired`, `invitation_already_accepted`.
#[utoipa::path(post, path = "/v1/invitations/inspect", tag = "invitations",
    request_body = m::InvitationSecret, security(()),
    responses((status = 200, body = m::InvitationPreview), Problems))]
async fn inspect_invitation(
    State(s): State<AppState>,
    Json(body): Json<m::InvitationSecret>,
) -> Answer {
    let secret = m::link_secret(&body.token);
    let (organization_name, found) = s.invitation_of_link(secret).await?;
    let org = crate::service::invitations::org_of_link(secret)
        .map(|o| o.to_string())
        .unwrap_or_default();
    Ok(axum::Json(m::InvitationPreview {
        organization_id: org,
        organization_name,
        email: found.email,
        expires_at: found.expires_at.0,
    })
    .into_response())
}

/// Accepts an invitation (no token: the link's secret is the credential): creates the user
/// with exactly the namespaces, keys and groups the invitation records, and their password,
/// in one change. A link works once.
#[utoipa::path(post, path = "/v1/invitations/accept", tag = "invitations",
    request_body = m::InvitationAcceptance, security(()),
    responses((status = 201, body = m::AcceptedInvitation), Problems))]
async fn accept_invitation(
    State(s): State<AppState>,
    Json(body): Json<m::InvitationAcceptance>,
) -> Answer {
    let m::InvitationAcceptance {
        token,
        first_name,
        last_name,
        password,
    } = body;
    let accepted = s
        .accept_invitation(m::link_secret(&token), first_name, last_name, password)
        .await?;
    let compiled = &accepted.written.compiled;
    let state = compiled.state();
    let created = state
        .users
        .get(&UserId::from(accepted.written.target()))
        .map(|u| user(&compiled.snapshot, u, now()));
    let Some(created) = created else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    Ok(with_revision(
        (
            StatusCode::CREATED,
            axum::Json(m::AcceptedInvitation {
                revision: compiled.revision(),
                organization_id: accepted.org.to_string(),
                organization_name: state.org.name.clone(),
                user: created,
            }),
        )
            .into_response(),
        compiled.revision(),
    ))
}
