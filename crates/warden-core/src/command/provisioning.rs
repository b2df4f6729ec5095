//! SCIM provisioning (spec section 10): the named bearer tokens an identity provider's SCIM
//! client uses, managed by org admins (`iam.provisioning.*`), only once SAML is configured.
//!
//! Each SCIM token acts as a service account created and deleted with it (as an org token
//! does), so audit events name the token's own principal. That account is given the
//! `scim-provisioner` role by a rule in the policy `scim-provisioning`, which the first SCIM
//! token creates: the grant is an ordinary rule, so checks, explanations and who-can see it,
//! and an admin can read exactly what provisioning may do.

use super::tokens::{delete_org, new_token, NewToken};
use super::{Actor, Apply, AreaCommand, Key};
use crate::domain::*;
use crate::error::DomainError;
use crate::resolve;

/// The policy holding the SCIM tokens' rules.
pub const PROVISIONING_POLICY: &str = "scim-provisioning";
/// The role those rules grant.
pub const PROVISIONER_ROLE: &str = "scim-provisioner";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisioningCommand {
    /// A SCIM token (its scope is ignored: SCIM tokens act only under `/scim/v2/`).
    CreateToken { token: NewToken },
    /// Deletes a SCIM token with its service account and the rule naming it.
    DeleteToken { token: Key },
}

impl AreaCommand for ProvisioningCommand {
    fn required_action(&self) -> &'static str {
        match self {
            ProvisioningCommand::CreateToken { .. } => "iam.provisioning.update",
            ProvisioningCommand::DeleteToken { .. } => "iam.provisioning.delete",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            ProvisioningCommand::CreateToken { .. } => None,
            ProvisioningCommand::DeleteToken { token } => Some(token.as_str()),
        }
    }

    fn target_id(&self, _state: &OrgState) -> Option<String> {
        // A token's id is never resolved for an audit record (see `tokens.rs`).
        None
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            ProvisioningCommand::CreateToken { token } => create(cx, token),
            ProvisioningCommand::DeleteToken { token } => {
                let current = resolve::token(cx.state, token.as_str())
                    .ok()
                    .filter(|t| t.kind == TokenKind::Scim)
                    .ok_or_else(|| DomainError::not_found("SCIM token", token.as_str()))?
                    .clone();
                delete_org(cx, &current);
                Ok(current.id.to_string())
            }
        }
    }
}

fn create(cx: &mut Apply<'_>, mut new: NewToken) -> Result<String, DomainError> {
    if cx.state.org.sso.is_none() {
        return Err(DomainError::SsoNotConfigured);
    }
    let created_by = match cx.actor {
        Actor::Principal(caller) => caller.clone(),
        Actor::Operator(_) | Actor::System => PrincipalId::User(cx.state.org.default_admin.clone()),
        Actor::Invitee(_) | Actor::SingleSignOn { .. } => {
            return Err(DomainError::invalid("actor", "not allowed"))
        }
    };
    new.scope = Default::default();
    let id = TokenId::from(cx.new_id(TokenId::PREFIX));
    let account = ServiceAccount {
        id: ServiceAccountId::from(cx.new_id(ServiceAccountId::PREFIX)),
        name: format!("scim-token-{id}"),
        created_by: created_by.user().cloned(),
        active: true,
        system_managed: true,
        created_at: cx.now,
    };
    let owner = PrincipalId::ServiceAccount(account.id.clone());
    let rule = Rule {
        principal: PrincipalRef::ServiceAccount(account.id.clone()),
        roles: vec![PROVISIONER_ROLE.to_string()],
        expires_at: None,
    };
    cx.put_service_account(account);
    let mut token = new_token(cx, TokenKind::Scim, owner, created_by, new)?;
    token.id = id;
    // The account's one grant, in the provisioning policy (made by the first SCIM token).
    let existing = cx
        .state
        .policies
        .values()
        .find(|p| p.name == PROVISIONING_POLICY);
    let policy = match existing {
        Some(existing) => {
            let mut policy = existing.clone();
            policy.rules.push(rule);
            policy.updated_at = cx.now;
            policy
        }
        None => AccessPolicy {
            id: PolicyId::from(cx.new_id(PolicyId::PREFIX)),
            name: PROVISIONING_POLICY.to_string(),
            description: "What SCIM tokens may do: the identity provider's provisioning \
                          (made by the first SCIM token; each token's account has a rule)"
                .to_string(),
            legacy_group: None,
            rules: vec![rule],
            created_at: cx.now,
            updated_at: cx.now,
        },
    };
    cx.put_policy(policy);
    let id = token.id.to_string();
    cx.put_token(token);
    Ok(id)
}
