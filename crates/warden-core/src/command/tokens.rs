//! API access tokens (spec section 6). **Personal** tokens are created, edited and revoked by
//! the principal they act as (or by the system, issuing a first token), optionally narrowed to
//! namespaces and clusters; an IAM admin revokes anyone's (`iam.api_tokens.delete`). **Org**
//! tokens (the legacy model) are managed by IAM admins alone (`iam.org_tokens.*`): each acts as a
//! service account created with it and deleted with it, so its rights never follow its
//! creator's, and it works on after its creator leaves. The caller generates the secret; only
//! its hash reaches the core, and no command changes it.

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

/// The namespaces and clusters a token is narrowed to, by id or name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeInput {
    pub namespaces: Vec<Key>,
    pub clusters: Vec<Key>,
}

/// What an edit of a token changes (`None`: left as it is). Never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenEdit {
    pub name: Option<String>,
    pub note: Option<String>,
    pub namespaces: Option<Vec<Key>>,
    pub clusters: Option<Vec<Key>>,
}

/// What a new token is: everything but its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub note: String,
    pub lifetime: TokenLifetime,
    pub scope: ScopeInput,
    pub secret_hash: String,
    pub display_prefix: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCommand {
    /// A personal token for `owner` (a user by id or email, or a service account by id):
    /// the caller themselves, or anyone when the system acts.
    CreatePersonal { owner: Key, token: NewToken },
    /// Renames, re-notes or re-scopes one of the caller's own personal tokens.
    UpdatePersonal { token: Key, edit: TokenEdit },
    /// Revokes one of the caller's own tokens (another principal's is reported as absent).
    DeletePersonal { token: Key },
    /// Revokes any principal's token: what an IAM admin does about someone else's token.
    RevokeAny { token: Key },
    /// An org token, with the service account it acts as.
    CreateOrg { token: NewToken },
    /// Renames, re-notes or re-scopes an org token.
    UpdateOrg { token: Key, edit: TokenEdit },
    /// Deletes an org token and its service account (with the rules naming it).
    DeleteOrg { token: Key },
    /// Deletes every org token a user created: what an admin does when someone leaves.
    DeleteOrgTokensCreatedBy { user: Key },
}

impl AreaCommand for TokenCommand {
    fn required_action(&self) -> &'static str {
        match self {
            TokenCommand::CreatePersonal { .. } => "tokens.personal.create",
            TokenCommand::UpdatePersonal { .. } => "tokens.personal.update",
            TokenCommand::DeletePersonal { .. } => "tokens.personal.delete",
            TokenCommand::RevokeAny { .. } => "iam.api_tokens.delete",
            TokenCommand::CreateOrg { .. } => "iam.org_tokens.create",
            TokenCommand::UpdateOrg { .. } => "iam.org_tokens.update",
            TokenCommand::DeleteOrg { .. } | TokenCommand::DeleteOrgTokensCreatedBy { .. } => {
                "iam.org_tokens.delete"
            }
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            TokenCommand::CreatePersonal { owner, .. } => Some(owner.as_str()),
            TokenCommand::CreateOrg { .. } => None,
            TokenCommand::DeleteOrgTokensCreatedBy { user } => Some(user.as_str()),
            TokenCommand::UpdatePersonal { token, .. }
            | TokenCommand::UpdateOrg { token, .. }
            | TokenCommand::DeletePersonal { token }
            | TokenCommand::DeleteOrg { token }
            | TokenCommand::RevokeAny { token } => Some(token.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        match self {
            TokenCommand::CreatePersonal { owner, .. } => {
                resolve::acting_principal(state, owner.as_str()).map(|p| p.as_str().to_string())
            }
            TokenCommand::DeleteOrgTokensCreatedBy { user } => resolve::user(state, user.as_str())
                .ok()
                .map(|u| u.id.to_string()),
            // A token's id is never resolved for an audit record: a caller who pasted a
            // secret there must not have it looked up, let alone stored.
            _ => None,
        }
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            TokenCommand::CreatePersonal { owner, token } => create_personal(cx, &owner, token),
            TokenCommand::UpdatePersonal { token, edit } => {
                let current = own_token(cx, &token)?;
                update(cx, current, edit)
            }
            TokenCommand::DeletePersonal { token } => {
                let id = own_token(cx, &token)?.id;
                cx.delete_token(&id);
                Ok(id.to_string())
            }
            TokenCommand::RevokeAny { token } => {
                let current = resolve::token(cx.state, token.as_str())?.clone();
                match current.kind {
                    TokenKind::Org | TokenKind::Scim => delete_org(cx, &current),
                    TokenKind::Personal => cx.delete_token(&current.id),
                }
                Ok(current.id.to_string())
            }
            TokenCommand::CreateOrg { token } => create_org(cx, token),
            TokenCommand::UpdateOrg { token, edit } => {
                let current = org_token(cx.state, &token)?.clone();
                update(cx, current, edit)
            }
            TokenCommand::DeleteOrg { token } => {
                let current = org_token(cx.state, &token)?.clone();
                delete_org(cx, &current);
                Ok(current.id.to_string())
            }
            TokenCommand::DeleteOrgTokensCreatedBy { user } => {
                let user = resolve::user(cx.state, user.as_str())?.id.clone();
                let created: Vec<ApiToken> =
                    org_tokens_created_by(cx.state, &user).cloned().collect();
                for token in &created {
                    delete_org(cx, token);
                }
                Ok(user.to_string())
            }
        }
    }
}

/// The org tokens `user` created: those that keep working after the user leaves.
pub fn org_tokens_created_by<'a>(
    state: &'a OrgState,
    user: &'a UserId,
) -> impl Iterator<Item = &'a ApiToken> + 'a {
    state
        .tokens
        .values()
        .filter(move |t| t.kind == TokenKind::Org && t.created_by.user() == Some(user))
}

/// The caller's own token (the system's and operators' reach every token); another
/// principal's is reported as absent, not as forbidden: token ids are not something a caller
/// may probe for.
fn own_token(cx: &Apply<'_>, key: &Key) -> Result<ApiToken, DomainError> {
    cx.state
        .tokens
        .get(&TokenId::from(key.0.clone()))
        .filter(|t| match cx.actor {
            Actor::Principal(caller) => t.owner == *caller,
            Actor::Operator(_) | Actor::System => true,
            Actor::Invitee(_) | Actor::SingleSignOn { .. } => false,
        })
        .cloned()
        .ok_or_else(|| DomainError::not_found("token", key.as_str()))
}

fn org_token<'a>(state: &'a OrgState, key: &Key) -> Result<&'a ApiToken, DomainError> {
    resolve::token(state, key.as_str())
        .ok()
        .filter(|t| t.kind == TokenKind::Org)
        .ok_or_else(|| DomainError::not_found("org token", key.as_str()))
}

fn create_personal(cx: &mut Apply<'_>, owner: &Key, new: NewToken) -> Result<String, DomainError> {
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
        Actor::Invitee(_) | Actor::SingleSignOn { .. } => {
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
    let token = new_token(cx, TokenKind::Personal, owner, created_by, new)?;
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

fn create_org(cx: &mut Apply<'_>, new: NewToken) -> Result<String, DomainError> {
    let created_by = match cx.actor {
        Actor::Principal(caller) => caller.clone(),
        Actor::Operator(_) | Actor::System => PrincipalId::User(cx.state.org.default_admin.clone()),
        Actor::Invitee(_) | Actor::SingleSignOn { .. } => {
            return Err(DomainError::invalid("actor", "not allowed"))
        }
    };
    let id = TokenId::from(cx.new_id(TokenId::PREFIX));
    // The token's own principal: managed through the token (`system_managed`), so the
    // service-account commands leave it alone; its id is the token's Kubernetes identity.
    let account = ServiceAccount {
        id: ServiceAccountId::from(cx.new_id(ServiceAccountId::PREFIX)),
        name: format!("org-token-{id}"),
        created_by: created_by.user().cloned(),
        active: true,
        system_managed: true,
        created_at: cx.now,
    };
    let owner = PrincipalId::ServiceAccount(account.id.clone());
    cx.put_service_account(account);
    let mut token = new_token(cx, TokenKind::Org, owner, created_by, new)?;
    token.id = id;
    let id = token.id.to_string();
    cx.put_token(token);
    Ok(id)
}

pub(super) fn new_token(
    cx: &mut Apply<'_>,
    kind: TokenKind,
    owner: PrincipalId,
    created_by: PrincipalId,
    new: NewToken,
) -> Result<ApiToken, DomainError> {
    let token = ApiToken {
        id: TokenId::from(cx.new_id(TokenId::PREFIX)),
        kind,
        name: validate::optional_name("name", &new.name)?,
        note: validate::description("note", &new.note)?,
        scope: TokenScope {
            namespaces: namespaces(cx.state, &new.scope.namespaces, kind)?,
            clusters: clusters(cx.state, &new.scope.clusters, kind)?,
        },
        owner,
        secret_hash: new.secret_hash,
        display_prefix: new.display_prefix,
        created_by,
        created_at: cx.now,
        expires_at: new.lifetime.expires_at(cx.now),
    };
    refuse_taken_name(cx.state, &token)?;
    Ok(token)
}

fn update(cx: &mut Apply<'_>, current: ApiToken, edit: TokenEdit) -> Result<String, DomainError> {
    let mut token = current;
    if let Some(name) = edit.name {
        token.name = validate::optional_name("name", &name)?;
    }
    if let Some(note) = edit.note {
        token.note = validate::description("note", &note)?;
    }
    if let Some(keys) = edit.namespaces {
        token.scope.namespaces = namespaces(cx.state, &keys, token.kind)?;
    }
    if let Some(keys) = edit.clusters {
        token.scope.clusters = clusters(cx.state, &keys, token.kind)?;
    }
    refuse_taken_name(cx.state, &token)?;
    let id = token.id.to_string();
    cx.put_token(token);
    Ok(id)
}

/// Deletes a token with the system-managed account it acts as (an org or SCIM token's).
pub(super) fn delete_org(cx: &mut Apply<'_>, token: &ApiToken) {
    match &token.owner {
        // The account exists for the token: it goes with it (its tokens, this one
        // included, and the rules naming it).
        PrincipalId::ServiceAccount(account)
            if cx
                .state
                .service_accounts
                .get(account)
                .is_some_and(|a| a.system_managed) =>
        {
            let account = account.clone();
            cx.remove_service_account(&account);
        }
        _ => cx.delete_token(&token.id),
    }
}

/// Token names (when given) are unique per owner: among a principal's personal tokens, and
/// among the organization's org tokens and among its SCIM tokens (the organization owns
/// them), without regard to case.
fn refuse_taken_name(state: &OrgState, token: &ApiToken) -> Result<(), DomainError> {
    if token.name.is_empty() {
        return Ok(());
    }
    let lower = token.name.to_lowercase();
    let taken = state.tokens.values().any(|t| {
        t.id != token.id
            && t.kind == token.kind
            && (token.kind != TokenKind::Personal || t.owner == token.owner)
            && t.name.to_lowercase() == lower
    });
    if taken {
        return Err(DomainError::Duplicate {
            kind: "token",
            name: token.name.clone(),
        });
    }
    Ok(())
}

/// Namespaces by id or name, as sorted ids without repeats. An unknown one is suggested a
/// name only to an org token's maker (an IAM admin, who may list namespaces anyway): a personal
/// token's owner is not to learn which namespaces exist by typing near them.
fn namespaces(
    state: &OrgState,
    keys: &[Key],
    kind: TokenKind,
) -> Result<Vec<NamespaceId>, DomainError> {
    let mut ids = keys
        .iter()
        .map(|k| {
            resolve::namespace(state, k.as_str())
                .map(|n| n.id.clone())
                .map_err(|_| {
                    let known = state.namespaces.values().map(|n| n.name.as_str());
                    let known = known.filter(|_| kind == TokenKind::Org);
                    DomainError::unknown_namespace(k.as_str(), known)
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Clusters by id or name, as sorted ids without repeats (suggested as namespaces are).
fn clusters(
    state: &OrgState,
    keys: &[Key],
    kind: TokenKind,
) -> Result<Vec<ClusterId>, DomainError> {
    let mut ids = keys
        .iter()
        .map(|k| {
            resolve::cluster(state, k.as_str())
                .map(|c| c.id.clone())
                .map_err(|_| DomainError::UnknownCluster {
                    name: crate::error::cut(k.as_str()),
                    did_you_mean: crate::suggest::closest(
                        k.as_str(),
                        state
                            .clusters
                            .values()
                            .map(|c| c.name.as_str())
                            .filter(|_| kind == TokenKind::Org),
                    ),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}
