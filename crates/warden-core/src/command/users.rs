//! Users: added by platform operators (users otherwise arrive through invitations), renamed,
//! deactivated and reactivated.

use super::{Actor, Apply, AreaCommand, Key};
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
    Update {
        user: Key,
        first_name: Option<String>,
        last_name: Option<String>,
    },
    Deactivate {
        user: Key,
    },
    Reactivate {
        user: Key,
    },
}

impl AreaCommand for UserCommand {
    fn required_action(&self) -> &'static str {
        match self {
            UserCommand::Create { .. } => "iam.users.invite",
            UserCommand::Update { .. } => "iam.users.update",
            UserCommand::Deactivate { .. } => "iam.users.deactivate",
            UserCommand::Reactivate { .. } => "iam.users.reactivate",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            UserCommand::Create { .. } => None,
            UserCommand::Update { user, .. }
            | UserCommand::Deactivate { user }
            | UserCommand::Reactivate { user } => Some(user.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        resolve::user(state, key).ok().map(|u| u.id.0.clone())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            UserCommand::Create {
                email,
                first_name,
                last_name,
            } => {
                if *cx.actor != Actor::System {
                    return Err(DomainError::OperatorOnly);
                }
                let email = validate::email("email", &email)?;
                if cx.state.user_by_email(&email).is_some() {
                    return Err(DomainError::Duplicate {
                        kind: "user",
                        name: email,
                    });
                }
                let user = User {
                    id: UserId(cx.new_id(UserId::PREFIX)),
                    email,
                    first_name: validate::description("first_name", &first_name)?,
                    last_name: validate::description("last_name", &last_name)?,
                    status: UserStatus::Active,
                    created_at: cx.now,
                };
                let id = user.id.0.clone();
                cx.state.users.insert(user.id.clone(), user);
                Ok(id)
            }
            UserCommand::Update {
                user,
                first_name,
                last_name,
            } => {
                let id = resolve::user(cx.state, user.as_str())?.id.clone();
                let first_name = first_name
                    .map(|f| validate::description("first_name", &f))
                    .transpose()?;
                let last_name = last_name
                    .map(|l| validate::description("last_name", &l))
                    .transpose()?;
                let u = user_mut(cx.state, &id)?;
                if let Some(first) = first_name {
                    u.first_name = first;
                }
                if let Some(last) = last_name {
                    u.last_name = last;
                }
                Ok(id.0)
            }
            UserCommand::Deactivate { user } => {
                let id = resolve::user(cx.state, user.as_str())?.id.clone();
                user_mut(cx.state, &id)?.status = UserStatus::Deactivated;
                Ok(id.0)
            }
            UserCommand::Reactivate { user } => {
                let id = resolve::user(cx.state, user.as_str())?.id.clone();
                let u = user_mut(cx.state, &id)?;
                if u.status == UserStatus::Invited {
                    return Err(DomainError::invalid(
                        "user",
                        "an invited user becomes active by accepting the invitation",
                    ));
                }
                u.status = UserStatus::Active;
                Ok(id.0)
            }
        }
    }
}

fn user_mut<'a>(state: &'a mut OrgState, id: &UserId) -> Result<&'a mut User, DomainError> {
    state
        .users
        .get_mut(id)
        .ok_or_else(|| DomainError::not_found("user", id.as_str()))
}
