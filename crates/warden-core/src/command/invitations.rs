//! Invitations (spec section 7.4): a holder of `iam.users.invite` invites an address with
//! namespaces and keys, the Admin and View Billing flags (memberships of `admin` and
//! `billing_viewer`) and other groups; all of it stays editable until the invitation is
//! accepted, and accepting creates the user with exactly that, in one change. The link's
//! secret is made by the server (the core has no randomness): commands carry its hash.

use std::collections::BTreeMap;

use super::{Actor, Apply, AreaCommand, Effect, Key};
use crate::domain::*;
use crate::error::DomainError;
use crate::{resolve, validate};

/// A new link for an invitation: the SHA-256 of its secret, and the nonce the server derives
/// the secret from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationLink {
    pub nonce: String,
    pub secret_hash: String,
}

/// What an invitation gives, as a caller names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// Namespaces (id or name) with the keys the user gets there (empty → `r:full`).
    pub namespaces: Vec<(Key, Vec<String>)>,
    pub admin: bool,
    pub billing: bool,
    /// Other groups (id or name).
    pub groups: Vec<Key>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationCommand {
    Create {
        email: String,
        offer: Offer,
        link: InvitationLink,
        expires_at: Timestamp,
    },
    /// Replaces what is given (each part left as is when `None`), until accepted.
    Update {
        invitation: Key,
        namespaces: Option<Vec<(Key, Vec<String>)>>,
        admin: Option<bool>,
        billing: Option<bool>,
        groups: Option<Vec<Key>>,
    },
    /// A new link (the old one dies) and a new expiry, sent again.
    Resend {
        invitation: Key,
        link: InvitationLink,
        expires_at: Timestamp,
    },
    Revoke {
        invitation: Key,
    },
    /// Accepting, by the holder of the link ([`Actor::Invitee`]).
    Accept {
        invitation: InvitationId,
        secret_hash: String,
        first_name: String,
        last_name: String,
    },
}

impl InvitationCommand {
    /// Other actions the caller needs, beyond [`AreaCommand::required_action`]: whoever
    /// invites with groups or namespace keys could grant those directly, so an invitation
    /// never grants more than its author may.
    pub(super) fn also_required(&self) -> Vec<&'static str> {
        let (groups, namespaces) = match self {
            InvitationCommand::Create { offer, .. } => (
                offer.admin || offer.billing || !offer.groups.is_empty(),
                !offer.namespaces.is_empty(),
            ),
            InvitationCommand::Update {
                namespaces,
                admin,
                billing,
                groups,
                ..
            } => (
                admin.is_some() || billing.is_some() || groups.is_some(),
                namespaces.is_some(),
            ),
            _ => (false, false),
        };
        let mut out = Vec::new();
        if groups {
            out.push("iam.memberships.create");
        }
        if namespaces {
            out.push("iam.namespace_access.update");
        }
        out
    }
}

impl AreaCommand for InvitationCommand {
    fn required_action(&self) -> &'static str {
        match self {
            InvitationCommand::Create { .. } => "iam.users.invite",
            InvitationCommand::Update { .. } => "iam.invitations.update",
            InvitationCommand::Resend { .. } => "iam.invitations.resend",
            InvitationCommand::Revoke { .. } => "iam.invitations.revoke",
            // Only an invitee may accept (see `execute_all`); a principal asking is told
            // what it lacks in the terms of the catalog.
            InvitationCommand::Accept { .. } => "iam.users.invite",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            InvitationCommand::Create { .. } => None,
            InvitationCommand::Update { invitation, .. }
            | InvitationCommand::Resend { invitation, .. }
            | InvitationCommand::Revoke { invitation } => Some(invitation.as_str()),
            InvitationCommand::Accept { invitation, .. } => Some(invitation.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        resolve::invitation(state, key)
            .ok()
            .map(|i| i.id.to_string())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            InvitationCommand::Create {
                email,
                offer,
                link,
                expires_at,
            } => {
                refuse_under_enforced_sso(cx.state)?;
                let email = validate::email("email", &email)?;
                if cx.state.user_by_email(&email).is_some() {
                    return Err(DomainError::AlreadyMember(email));
                }
                if let Some(open) = cx
                    .state
                    .invitations
                    .values()
                    .find(|i| i.is_open(cx.now) && i.email.eq_ignore_ascii_case(&email))
                {
                    return Err(DomainError::AlreadyInvited(
                        open.email.clone(),
                        open.id.to_string(),
                    ));
                }
                let mut invitation = Invitation {
                    id: InvitationId::from(cx.new_id(InvitationId::PREFIX)),
                    email,
                    invited_by: cx.actor.describe(),
                    namespaces: Vec::new(),
                    admin: false,
                    billing: false,
                    groups: Vec::new(),
                    secret_hash: link.secret_hash,
                    nonce: link.nonce,
                    status: InvitationStatus::Pending,
                    created_at: cx.now,
                    sent_at: cx.now,
                    expires_at: valid_expiry(expires_at, cx.now)?,
                    accepted_user: None,
                };
                invitation.namespaces = namespaces(cx, offer.namespaces)?;
                set_groups(
                    cx,
                    &mut invitation,
                    offer.admin,
                    offer.billing,
                    offer.groups,
                )?;
                send(cx, &invitation);
                let id = invitation.id.to_string();
                cx.put_invitation(invitation);
                Ok(id)
            }
            InvitationCommand::Update {
                invitation,
                namespaces: new_namespaces,
                admin,
                billing,
                groups,
            } => {
                let mut invitation = editable(cx, invitation.as_str())?;
                if let Some(list) = new_namespaces {
                    invitation.namespaces = namespaces(cx, list)?;
                }
                if admin.is_some() || billing.is_some() || groups.is_some() {
                    let groups = match groups {
                        Some(groups) => groups,
                        None => invitation.groups.iter().map(Key::from).collect(),
                    };
                    let admin = admin.unwrap_or(invitation.admin);
                    let billing = billing.unwrap_or(invitation.billing);
                    set_groups(cx, &mut invitation, admin, billing, groups)?;
                }
                let id = invitation.id.to_string();
                cx.put_invitation(invitation);
                Ok(id)
            }
            InvitationCommand::Resend {
                invitation,
                link,
                expires_at,
            } => {
                refuse_under_enforced_sso(cx.state)?;
                let mut invitation = resolve::invitation(cx.state, invitation.as_str())?.clone();
                if invitation.status != InvitationStatus::Pending {
                    return Err(not_pending(&invitation, cx.now));
                }
                if let Some(member) = cx.state.user_by_email(&invitation.email) {
                    return Err(DomainError::AlreadyMember(member.email.to_string()));
                }
                invitation.secret_hash = link.secret_hash;
                invitation.nonce = link.nonce;
                invitation.sent_at = cx.now;
                invitation.expires_at = valid_expiry(expires_at, cx.now)?;
                send(cx, &invitation);
                let id = invitation.id.to_string();
                cx.put_invitation(invitation);
                Ok(id)
            }
            InvitationCommand::Revoke { invitation } => {
                let mut invitation = resolve::invitation(cx.state, invitation.as_str())?.clone();
                match invitation.status {
                    InvitationStatus::Accepted => return Err(not_pending(&invitation, cx.now)),
                    // Revoking twice changes nothing.
                    InvitationStatus::Revoked | InvitationStatus::Pending => {}
                }
                invitation.status = InvitationStatus::Revoked;
                let id = invitation.id.to_string();
                cx.put_invitation(invitation);
                Ok(id)
            }
            InvitationCommand::Accept {
                invitation,
                secret_hash,
                first_name,
                last_name,
            } => accept(cx, &invitation, &secret_hash, &first_name, &last_name),
        }
    }
}

/// Spec section 7.5: an organization that enforces SSO accepts new users only through its
/// identity provider or provisioning, never by email and password.
fn refuse_under_enforced_sso(state: &OrgState) -> Result<(), DomainError> {
    if state.org.sso.as_deref().is_some_and(|sso| sso.enforced) {
        return Err(DomainError::SsoEnforced(
            "new users arrive through the identity provider (their first SSO sign-in) or \
             SCIM provisioning, not by invitation"
                .to_string(),
        ));
    }
    Ok(())
}

fn accept(
    cx: &mut Apply<'_>,
    id: &InvitationId,
    secret_hash: &str,
    first_name: &str,
    last_name: &str,
) -> Result<String, DomainError> {
    if *cx.actor != Actor::Invitee(id.clone()) {
        return Err(DomainError::InvitationLinkInvalid);
    }
    // The link is checked before anything about the invitation is told.
    let mut invitation = match cx.state.invitations.get(id) {
        Some(i) if i.secret_hash == secret_hash => i.clone(),
        _ => return Err(DomainError::InvitationLinkInvalid),
    };
    match invitation.status {
        InvitationStatus::Revoked => return Err(DomainError::InvitationRevoked),
        InvitationStatus::Accepted => return Err(DomainError::InvitationAccepted),
        InvitationStatus::Pending if invitation.expires_at <= cx.now => {
            return Err(DomainError::InvitationExpired)
        }
        InvitationStatus::Pending => {}
    }
    // Invitations sent before SSO was enforced no longer let anyone in by password.
    refuse_under_enforced_sso(cx.state)?;
    if cx.state.user_by_email(&invitation.email).is_some() {
        return Err(DomainError::AlreadyMember(invitation.email));
    }
    let first_name = validate::display_name("first_name", first_name)?;
    let user = User {
        external_id: None,
        id: UserId::from(cx.new_id(UserId::PREFIX)),
        email: invitation.email.clone().into(),
        first_name: first_name.into(),
        last_name: validate::optional_name("last_name", last_name)?.into(),
        status: UserStatus::Active,
        created_at: cx.now,
    };
    let user_id = user.id.clone();
    cx.put_user(user);
    let flagged = [
        (invitation.admin, "admin"),
        (invitation.billing, "billing_viewer"),
    ];
    for (_, name) in flagged.iter().filter(|(on, _)| *on) {
        if let Some(group) = cx.state.group_by_name(name).map(|g| g.id.clone()) {
            cx.add_member(group, user_id.clone());
        }
    }
    for group in invitation.groups.clone() {
        cx.add_member(group, user_id.clone());
    }
    // The keys were checked against the inviter's authority when recorded (an operator's
    // invitation may hold reserved keys): they are given as they are.
    for offered in invitation.namespaces.clone() {
        for key in offered.keys {
            cx.put_grant(NamespaceGrant {
                namespace: offered.namespace.clone(),
                user: user_id.clone(),
                key,
            });
        }
    }
    invitation.status = InvitationStatus::Accepted;
    invitation.accepted_user = Some(user_id.clone());
    cx.put_invitation(invitation);
    Ok(user_id.to_string())
}

/// The invitation `key` names, if it may still be edited.
fn editable(cx: &Apply<'_>, key: &str) -> Result<Invitation, DomainError> {
    let invitation = resolve::invitation(cx.state, key)?;
    if !invitation.is_open(cx.now) {
        return Err(not_pending(invitation, cx.now));
    }
    Ok(invitation.clone())
}

fn not_pending(invitation: &Invitation, now: Timestamp) -> DomainError {
    DomainError::InvitationNotPending {
        id: invitation.id.to_string(),
        status: invitation.status_at(now),
    }
}

fn valid_expiry(expires_at: Timestamp, now: Timestamp) -> Result<Timestamp, DomainError> {
    if expires_at <= now {
        return Err(DomainError::invalid(
            "expires_in",
            "an invitation must expire in the future",
        ));
    }
    Ok(expires_at)
}

/// The namespaces and keys of an offer, checked: namespaces exist, keys are in the catalog,
/// reserved keys only from a platform actor; a namespace named twice gets the union.
fn namespaces(
    cx: &Apply<'_>,
    offered: Vec<(Key, Vec<String>)>,
) -> Result<Vec<InvitedNamespace>, DomainError> {
    let mut out: BTreeMap<NamespaceId, Vec<String>> = BTreeMap::new();
    for (namespace, keys) in offered {
        let id = resolve::namespace(cx.state, namespace.as_str())?.id.clone();
        let keys = if keys.is_empty() {
            vec!["r:full".to_string()]
        } else {
            keys
        };
        if keys.len() > validate::MAX_NAMESPACE_KEYS {
            return Err(DomainError::invalid(
                "namespaces",
                format!(
                    "at most {} keys per namespace",
                    validate::MAX_NAMESPACE_KEYS
                ),
            ));
        }
        let held = out.entry(id).or_default();
        for key in keys {
            let perm = cx
                .catalog
                .namespace_permission(&key)
                .ok_or_else(|| cx.catalog.unknown_namespace_permission(&key))?;
            if perm.reserved && !cx.actor.is_platform() {
                return Err(DomainError::ReservedNamespacePermission(key));
            }
            if !held.contains(&key) {
                held.push(key);
            }
        }
        held.sort();
    }
    Ok(out
        .into_iter()
        .map(|(namespace, keys)| InvitedNamespace { namespace, keys })
        .collect())
}

/// Sets the flags and the other groups; naming `admin` or `billing_viewer` among the groups
/// is the same as setting its flag.
fn set_groups(
    cx: &Apply<'_>,
    invitation: &mut Invitation,
    admin: bool,
    billing: bool,
    groups: Vec<Key>,
) -> Result<(), DomainError> {
    invitation.admin = admin;
    invitation.billing = billing;
    let mut ids: Vec<GroupId> = Vec::new();
    for key in groups {
        let group = resolve::group(cx.state, key.as_str())?;
        match group.name.as_str() {
            "admin" => invitation.admin = true,
            "billing_viewer" => invitation.billing = true,
            _ => {
                if !ids.contains(&group.id) {
                    ids.push(group.id.clone());
                }
            }
        }
    }
    ids.sort();
    invitation.groups = ids;
    Ok(())
}

/// Asks for the invitation email to go out after the commit.
fn send(cx: &mut Apply<'_>, invitation: &Invitation) {
    let invited_by = match cx.actor {
        Actor::Principal(PrincipalId::User(id)) => cx
            .state
            .users
            .get(id)
            .map(|u| {
                let name = format!("{} {}", u.first_name, u.last_name);
                match name.trim() {
                    "" => u.email.to_string(),
                    name => format!("{name} <{}>", u.email),
                }
            })
            .unwrap_or_else(|| id.to_string()),
        _ => "a platform operator".to_string(),
    };
    cx.effects.push(Effect::SendInvitation {
        org_id: cx.state.org.id.clone(),
        org_name: cx.state.org.name.clone(),
        invitation_id: invitation.id.clone(),
        email: invitation.email.clone(),
        invited_by,
        nonce: invitation.nonce.clone(),
        secret_hash: invitation.secret_hash.clone(),
        expires_at: invitation.expires_at,
    });
}
