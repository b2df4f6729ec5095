//! Platform operators: authentication of their tokens, and their creation (the first by
//! `warden operator bootstrap` on the server's host, the others through the API). What
//! operators do to an organization goes through the organization's write path as
//! `Actor::Operator`, so it is authorized by the core and audited in that organization.

use std::net::IpAddr;
use std::sync::Arc;

use warden_core::command::{
    FirstUser, GroupCommand, Key, NewToken, ScopeInput, TokenCommand, TokenLifetime, UserCommand,
};
use warden_core::token::{self, SecretKind};
use warden_core::{
    Actor, AuditEvent, Command, DomainError, OperatorId, OrgId, Outcome, PrincipalId, TokenId,
    UserId,
};
use warden_store::{Operator, OperatorToken};

use super::context::{current_request_id, new_id, new_personal_secret, new_secret, now};
use super::{CompiledOrg, Service, ServiceError, Written};

/// How the first admin of a new organization gets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstAdminAccess {
    /// A personal token, shown once to the operator who hands it over.
    Token(TokenLifetime),
    /// An email with a link to set their password (valid as long as an invitation), then
    /// sign-in.
    Email,
}

/// The name of the first token of a user an operator adds.
const ADDED_USER_TOKEN: &str = "initial token";

/// The audit trail of what concerns no organization (operators created): its events carry
/// this in place of an organization id.
pub const PLATFORM_AUDIT: &str = "platform";

/// An authenticated platform operator.
#[derive(Debug, Clone)]
pub struct OperatorCaller {
    pub operator: Operator,
    pub token: String,
}

impl OperatorCaller {
    pub fn actor(&self) -> Actor {
        Actor::Operator(self.operator.id.clone())
    }
}

impl Service {
    /// Verifies an operator's bearer secret presented from `address` (failures count
    /// against the address, like every authentication). Operator tokens are looked up in
    /// the database on every call: there are few, and revoking one takes effect at once on
    /// every server.
    pub async fn authenticate_operator_from(
        &self,
        secret: &str,
        address: Option<IpAddr>,
    ) -> Result<OperatorCaller, ServiceError> {
        self.throttled(address, self.authenticate_operator(secret))
            .await
    }

    async fn authenticate_operator(&self, secret: &str) -> Result<OperatorCaller, ServiceError> {
        match token::parse_secret(secret) {
            Ok(SecretKind::Operator) => {}
            Ok(_) => {
                return Err(ServiceError::Unauthenticated(
                    "platform endpoints need a platform operator's token (`wdn_opr_…`), \
                     made by `warden operator bootstrap` or `warden operator create`",
                ))
            }
            Err(_) => {
                return Err(ServiceError::Unauthenticated(
                    "the bearer token is not a valid Warden token",
                ))
            }
        }
        let hash = token::to_hex(&token::hash_secret(secret));
        let (operator, token, expires_at) = self
            .store
            .operator_of_token(&hash)
            .await?
            .ok_or(ServiceError::Unauthenticated("unknown or revoked token"))?;
        if expires_at.is_some_and(|at| at <= now()) {
            return Err(ServiceError::TokenExpired);
        }
        Ok(OperatorCaller { operator, token })
    }

    /// Creates a platform operator with a token that never expires, and returns it with the
    /// token's secret (shown once). `created_by` is the operator creating it, or the system
    /// (bootstrap, which refuses when an operator exists: `only_first`).
    pub async fn create_operator(
        &self,
        created_by: &Actor,
        name: &str,
        email: &str,
        only_first: bool,
    ) -> Result<Option<(Operator, String)>, ServiceError> {
        let name = warden_core::validate::display_name("name", name)?;
        let email = warden_core::validate::email("email", email)?;
        let at = now();
        let operator = Operator {
            id: OperatorId::from(new_id(OperatorId::PREFIX)),
            name,
            email,
            created_by: created_by.describe(),
            created_at: at,
        };
        let secret = new_secret(SecretKind::Operator);
        let token = OperatorToken {
            id: new_id("otk"),
            operator: operator.id.clone(),
            secret_hash: secret.hash_hex.clone(),
            display_prefix: secret.display_prefix.clone(),
            created_at: at,
            expires_at: None,
        };
        let event = AuditEvent {
            id: new_id("evt"),
            org_id: OrgId::from(PLATFORM_AUDIT),
            at,
            actor: created_by.describe(),
            action: "platform.operators.create".to_string(),
            target: operator.id.to_string(),
            outcome: Outcome::Allowed,
            error_code: None,
            revision: 0,
            request_id: current_request_id(),
            changes: serde_json::json!([{ "op": "put", "after": {
                "entity": "operator", "id": operator.id, "name": operator.name,
                "email": operator.email,
            }}]),
        };
        let created = self
            .store
            .create_operator(&operator, &token, &event, only_first)
            .await?;
        Ok(created.then_some((operator, secret.secret)))
    }
}

/// A user an operator added: the write, and their first token's secret (shown once).
#[derive(Debug)]
pub struct AddedUser {
    pub written: Written,
    pub user: UserId,
    pub token: TokenId,
    pub secret: String,
}

/// A user an operator removed: the state before (to show them), what went with them and
/// what stayed.
#[derive(Debug)]
pub struct RemovedUser {
    pub written: Written,
    pub before: Arc<CompiledOrg>,
    pub user: UserId,
    pub tokens_deleted: u64,
    /// Tokens they created that others hold (still working, as the seeds say).
    pub tokens_created_for_others: Vec<TokenId>,
}

impl Service {
    /// Adds an active user to `org` with memberships and a first personal token, as one write
    /// (a group that does not exist, or any other refusal, adds nothing).
    pub async fn add_user(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        first: FirstUser,
        groups: &[String],
        lifetime: TokenLifetime,
    ) -> Result<AddedUser, ServiceError> {
        let email = first.email.trim().to_string();
        let secret = new_personal_secret();
        let mut commands: Vec<Command> = Vec::with_capacity(groups.len() + 2);
        commands.push(
            UserCommand::Create {
                email: first.email.clone(),
                first_name: first.first_name,
                last_name: first.last_name,
            }
            .into(),
        );
        for group in groups {
            commands.push(
                GroupCommand::AddMember {
                    group: Key::from(group.as_str()),
                    user: Key::from(email.as_str()),
                }
                .into(),
            );
        }
        commands.push(
            TokenCommand::CreatePersonal {
                owner: Key::from(email.as_str()),
                token: NewToken {
                    name: ADDED_USER_TOKEN.to_string(),
                    note: String::new(),
                    lifetime,
                    secret_hash: secret.hash_hex,
                    display_prefix: secret.display_prefix,
                    scope: ScopeInput::default(),
                },
            }
            .into(),
        );
        let written = self.execute_all(org, actor, commands).await?;
        let user = UserId::from(written.target());
        let token = TokenId::from(written.targets.last().cloned().unwrap_or_default());
        Ok(AddedUser {
            written,
            user,
            token,
            secret: secret.secret,
        })
    }

    /// Removes a user from `org` completely (an operator's act): their personal tokens die
    /// with them (and, once sign-in exists, their sessions); tokens they created for others
    /// are listed, not deleted.
    pub async fn remove_user(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        user: &str,
    ) -> Result<RemovedUser, ServiceError> {
        let before = self
            .compiled(org)
            .ok_or_else(|| DomainError::not_found("organization", org.as_str()))?;
        let written = self
            .execute(
                org,
                actor,
                UserCommand::Remove {
                    user: Key::from(user),
                }
                .into(),
            )
            .await?;
        let user = UserId::from(written.target());
        // What the removal found is read from the state it ran on: the one before it.
        let principal = PrincipalId::User(user.clone());
        let tokens = &before.state().tokens;
        let tokens_deleted = tokens.values().filter(|t| t.owner == principal).count();
        let tokens_created_for_others = tokens
            .values()
            .filter(|t| t.created_by == principal && t.owner != principal)
            .map(|t| t.id.clone())
            .collect();
        Ok(RemovedUser {
            written,
            before,
            user,
            tokens_deleted: u64::try_from(tokens_deleted).unwrap_or(u64::MAX),
            tokens_created_for_others,
        })
    }
}
