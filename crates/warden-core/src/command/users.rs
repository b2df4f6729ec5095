//! Users: added by platform operators (users otherwise arrive through invitations), renamed,
//! deactivated and reactivated, and removed by platform operators.

use super::{Apply, AreaCommand, Key};
use crate::domain::*;
use crate::error::DomainError;
use crate::{resolve, validate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCommand {
    /// Adds an active user directly (bootstrap and platform operators only).
    Create {
        email: String,
        first_name: String,
        last_name: String,
    },
    /// Adds a user who signs in through the organization's identity provider, with no
    /// password, no groups and no namespace keys (least privilege): what SCIM provisioning
    /// and a first SSO sign-in do. Needs SAML configured.
    Provision {
        email: String,
        first_name: String,
        last_name: String,
        external_id: Option<String>,
        active: bool,
    },
    Update {
        user: Key,
        first_name: Option<String>,
        last_name: Option<String>,
    },
    /// Changes a user's email (their sign-in name), which stays unique in the organization.
    ChangeEmail {
        user: Key,
        email: String,
    },
    /// Sets or clears the identity provider's id for the user (SCIM `externalId`).
    SetExternalId {
        user: Key,
        external_id: Option<String>,
    },
    Deactivate {
        user: Key,
    },
    Reactivate {
        user: Key,
    },
    /// Removes a user from the organization completely (platform operators only): their
    /// personal tokens, memberships, namespace keys and the rules naming them go with them.
    /// Tokens they created for others stay (the seeds' rule); the caller lists them.
    Remove {
        user: Key,
    },
}

impl AreaCommand for UserCommand {
    fn required_action(&self) -> &'static str {
        match self {
            UserCommand::Create { .. } => "iam.users.invite",
            UserCommand::Provision { .. } => "iam.users.provision",
            UserCommand::Update { .. }
            | UserCommand::ChangeEmail { .. }
            | UserCommand::SetExternalId { .. } => "iam.users.update",
            UserCommand::Deactivate { .. } => "iam.users.deactivate",
            UserCommand::Reactivate { .. } => "iam.users.reactivate",
            // A principal holding it is still told that removal is an operator's.
            UserCommand::Remove { .. } => "iam.users.deactivate",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            UserCommand::Create { .. } | UserCommand::Provision { .. } => None,
            UserCommand::Update { user, .. }
            | UserCommand::ChangeEmail { user, .. }
            | UserCommand::SetExternalId { user, .. }
            | UserCommand::Deactivate { user }
            | UserCommand::Reactivate { user }
            | UserCommand::Remove { user } => Some(user.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        resolve::user(state, key).ok().map(|u| u.id.to_string())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            UserCommand::Create {
                email,
                first_name,
                last_name,
            } => {
                if !cx.actor.is_platform() {
                    return Err(DomainError::OperatorOnly(
                        "warden invitations create, or warden org add-user",
                    ));
                }
                let email = validate::email("email", &email)?;
                if cx.state.user_by_email(&email).is_some() {
                    return Err(DomainError::Duplicate {
                        kind: "user",
                        name: email,
                    });
                }
                let user = User {
                    id: UserId::from(cx.new_id(UserId::PREFIX)),
                    email: email.into(),
                    first_name: validate::optional_name("first_name", &first_name)?.into(),
                    last_name: validate::optional_name("last_name", &last_name)?.into(),
                    status: UserStatus::Active,
                    created_at: cx.now,
                    external_id: None,
                };
                let id = user.id.to_string();
                cx.put_user(user);
                Ok(id)
            }
            UserCommand::Provision {
                email,
                first_name,
                last_name,
                external_id,
                active,
            } => {
                if cx.state.org.sso.is_none() {
                    return Err(DomainError::SsoNotConfigured);
                }
                let email = validate::email("email", &email)?;
                if cx.state.user_by_email(&email).is_some() {
                    return Err(DomainError::Duplicate {
                        kind: "user",
                        name: email,
                    });
                }
                let user = User {
                    id: UserId::from(cx.new_id(UserId::PREFIX)),
                    email: email.into(),
                    first_name: validate::optional_name("first_name", &first_name)?.into(),
                    last_name: validate::optional_name("last_name", &last_name)?.into(),
                    status: if active {
                        UserStatus::Active
                    } else {
                        UserStatus::Deactivated
                    },
                    created_at: cx.now,
                    external_id: external_id
                        .map(|id| validate::external_id("external_id", &id))
                        .transpose()?
                        .map(Into::into),
                };
                let id = user.id.to_string();
                cx.put_user(user);
                Ok(id)
            }
            UserCommand::ChangeEmail { user, email } => {
                let mut updated = resolve::user(cx.state, user.as_str())?.clone();
                let email = validate::email("email", &email)?;
                if cx
                    .state
                    .user_by_email(&email)
                    .is_some_and(|other| other.id != updated.id)
                {
                    return Err(DomainError::Duplicate {
                        kind: "user",
                        name: email,
                    });
                }
                updated.email = email.into();
                let id = updated.id.to_string();
                cx.put_user(updated);
                Ok(id)
            }
            UserCommand::SetExternalId { user, external_id } => {
                let mut updated = resolve::user(cx.state, user.as_str())?.clone();
                updated.external_id = external_id
                    .map(|id| validate::external_id("external_id", &id))
                    .transpose()?
                    .map(Into::into);
                let id = updated.id.to_string();
                cx.put_user(updated);
                Ok(id)
            }
            UserCommand::Update {
                user,
                first_name,
                last_name,
            } => {
                let mut updated = resolve::user(cx.state, user.as_str())?.clone();
                if let Some(first) = first_name {
                    updated.first_name = validate::optional_name("first_name", &first)?.into();
                }
                if let Some(last) = last_name {
                    updated.last_name = validate::optional_name("last_name", &last)?.into();
                }
                let id = updated.id.to_string();
                cx.put_user(updated);
                Ok(id)
            }
            UserCommand::Deactivate { user } => {
                let mut updated = resolve::user(cx.state, user.as_str())?.clone();
                updated.status = UserStatus::Deactivated;
                let id = updated.id.to_string();
                cx.put_user(updated);
                Ok(id)
            }
            UserCommand::Reactivate { user } => {
                let mut updated = resolve::user(cx.state, user.as_str())?.clone();
                if updated.status == UserStatus::Invited {
                    return Err(DomainError::invalid(
                        "user",
                        "an invited user becomes active by accepting the invitation",
                    ));
                }
                updated.status = UserStatus::Active;
                let id = updated.id.to_string();
                cx.put_user(updated);
                Ok(id)
            }
            UserCommand::Remove { user } => {
                if !cx.actor.is_platform() {
                    return Err(DomainError::OperatorOnly("warden org remove-user"));
                }
                let user = resolve::user(cx.state, user.as_str())?.clone();
                if user.id == cx.state.org.default_admin {
                    return Err(DomainError::DefaultAdminRemoval(user.email.to_string()));
                }
                cx.remove_user(&user.id);
                Ok(user.id.to_string())
            }
        }
    }
}
