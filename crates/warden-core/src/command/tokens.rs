//! Personal access tokens: created and revoked by the principal they act as (or by the
//! system, issuing a first token); revoked by an IAM admin (`iam.api_tokens.delete`) whoever
//! holds them. The caller generates the secret; only its hash reaches
//! the core.

use serde::{Deserialize, Serialize};

use super::{Actor, Apply, AreaCommand, Effect, Key};
use crate::domain::*;
use crate::error::DomainError;
use crate::{resolve, validate};

/// How long a token lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum TokenLifetime {
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "8h")]
    EightHours,
    #[default]
    #[serde(rename = "30d")]
    OneMonth,
    #[serde(rename = "90d")]
    NinetyDays,
    #[serde(rename = "1y")]
    OneYear,
    #[serde(rename = "never")]
    Never,
}

impl TokenLifetime {
    /// Every lifetime, in the order of [`TokenLifetime::NAMES`].
    pub const ALL: [TokenLifetime; 6] = [
        TokenLifetime::OneHour,
        TokenLifetime::EightHours,
        TokenLifetime::OneMonth,
        TokenLifetime::NinetyDays,
        TokenLifetime::OneYear,
        TokenLifetime::Never,
    ];
    /// How a lifetime is written (API, CLI).
    pub const NAMES: [&'static str; 6] = ["1h", "8h", "30d", "90d", "1y", "never"];

    pub fn parse(s: &str) -> Option<TokenLifetime> {
        Self::NAMES
            .iter()
            .zip(Self::ALL)
            .find(|(name, _)| **name == s)
            .map(|(_, lifetime)| lifetime)
    }

    pub fn name(self) -> &'static str {
        match self {
            TokenLifetime::OneHour => "1h",
            TokenLifetime::EightHours => "8h",
            TokenLifetime::OneMonth => "30d",
            TokenLifetime::NinetyDays => "90d",
            TokenLifetime::OneYear => "1y",
            TokenLifetime::Never => "never",
        }
    }

    pub fn expires_at(self, now: Timestamp) -> Option<Timestamp> {
        const HOUR: i64 = 3_600_000;
        let ms = match self {
            TokenLifetime::OneHour => HOUR,
            TokenLifetime::EightHours => 8 * HOUR,
            TokenLifetime::OneMonth => 30 * 24 * HOUR,
            TokenLifetime::NinetyDays => 90 * 24 * HOUR,
            TokenLifetime::OneYear => 365 * 24 * HOUR,
            TokenLifetime::Never => return None,
        };
        Some(Timestamp(now.0.saturating_add(ms)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCommand {
    /// A personal token for `owner` (a user by id or email, or a service account by id):
    /// the caller themselves, or anyone when the system acts.
    CreatePersonal {
        owner: Key,
        name: String,
        note: String,
        lifetime: TokenLifetime,
        secret_hash: String,
        display_prefix: String,
    },
    /// Revokes one of the caller's own tokens (another principal's is reported as absent).
    DeletePersonal { token: Key },
    /// Revokes any principal's token: what an IAM admin does about someone else's token.
    RevokeAny { token: Key },
}

impl AreaCommand for TokenCommand {
    fn required_action(&self) -> &'static str {
        match self {
            TokenCommand::CreatePersonal { .. } => "tokens.personal.create",
            TokenCommand::DeletePersonal { .. } => "tokens.personal.delete",
            TokenCommand::RevokeAny { .. } => "iam.api_tokens.delete",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            TokenCommand::CreatePersonal { owner, .. } => Some(owner.as_str()),
            TokenCommand::DeletePersonal { token } | TokenCommand::RevokeAny { token } => {
                Some(token.as_str())
            }
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        match self {
            TokenCommand::CreatePersonal { owner, .. } => {
                resolve::acting_principal(state, owner.as_str()).map(|p| p.as_str().to_string())
            }
            // A token's id is never resolved for an audit record: a caller who pasted a
            // secret there must not have it looked up, let alone stored.
            TokenCommand::DeletePersonal { .. } | TokenCommand::RevokeAny { .. } => None,
        }
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            TokenCommand::CreatePersonal {
                owner,
                name,
                note,
                lifetime,
                secret_hash,
                display_prefix,
            } => {
                let owner = resolve::acting_principal(cx.state, owner.as_str())
                    .ok_or_else(|| DomainError::not_found("principal", owner.as_str()))?;
                let created_by = match cx.actor {
                    Actor::Principal(caller) if *caller != owner => {
                        return Err(DomainError::invalid(
                            "owner",
                            "a personal token is created by the principal it acts as",
                        ))
                    }
                    Actor::Principal(caller) => caller.clone(),
                    // A platform actor hands the token to its owner.
                    Actor::Operator(_) | Actor::System => owner.clone(),
                    Actor::Invitee(_) => {
                        return Err(DomainError::not_found("principal", owner.as_str()))
                    }
                };
                let recipient = match &owner {
                    PrincipalId::User(id) => match cx.state.users.get(id) {
                        Some(u) if u.status == UserStatus::Active => {
                            Some((u.email.clone(), u.first_name.clone()))
                        }
                        _ => None,
                    },
                    PrincipalId::ServiceAccount(_) => None,
                };
                let active = match &owner {
                    PrincipalId::User(_) => recipient.is_some(),
                    PrincipalId::ServiceAccount(id) => {
                        cx.state.service_accounts.get(id).is_some_and(|a| a.active)
                    }
                };
                if !active {
                    return Err(DomainError::invalid(
                        "owner",
                        "only an active principal can hold a token",
                    ));
                }
                let name = validate::optional_name("name", &name)?;
                let token = ApiToken {
                    id: TokenId::from(cx.new_id(TokenId::PREFIX)),
                    kind: TokenKind::Personal,
                    owner,
                    name,
                    note: validate::description("note", &note)?,
                    secret_hash,
                    display_prefix,
                    created_by,
                    created_at: cx.now,
                    expires_at: lifetime.expires_at(cx.now),
                };
                if let Some((email, first_name)) = recipient {
                    cx.effects.push(Effect::NotifyTokenCreated {
                        org_id: cx.state.org.id.clone(),
                        org_name: cx.state.org.name.clone(),
                        email: email.into(),
                        first_name: first_name.into(),
                        token_id: token.id.clone(),
                        token_name: token.name.clone(),
                        created_by: cx.actor.describe(),
                        created_at: token.created_at,
                        expires_at: token.expires_at,
                    });
                }
                let id = token.id.to_string();
                cx.put_token(token);
                Ok(id)
            }
            TokenCommand::DeletePersonal { token } => {
                let owned = cx
                    .state
                    .tokens
                    .get(&TokenId::from(token.0.clone()))
                    .is_some_and(|t| match cx.actor {
                        Actor::Principal(caller) => t.owner == *caller,
                        Actor::Operator(_) | Actor::System => true,
                        Actor::Invitee(_) => false,
                    });
                // Another principal's token is reported as absent, not as forbidden: token
                // ids are not something a caller may probe for.
                if !owned {
                    return Err(DomainError::not_found("token", token.as_str()));
                }
                let id = TokenId::from(token.0);
                cx.delete_token(&id);
                Ok(id.to_string())
            }
            TokenCommand::RevokeAny { token } => {
                let id = TokenId::from(token.0.clone());
                if !cx.state.tokens.contains_key(&id) {
                    return Err(DomainError::not_found("token", token.as_str()));
                }
                cx.delete_token(&id);
                Ok(id.to_string())
            }
        }
    }
}
