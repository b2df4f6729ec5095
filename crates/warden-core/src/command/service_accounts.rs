//! Service accounts: non-human principals of an organization. They own tokens and are named
//! by rules like users; deactivating one stops its tokens at once (the engine answers nothing
//! for an inactive principal), deleting one takes its tokens and the rules naming it along.
//! Accounts the platform manages itself (`system_managed`) are not for users to change.

use super::{Actor, Apply, AreaCommand, Key};
use crate::domain::*;
use crate::error::DomainError;
use crate::{resolve, validate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAccountCommand {
    Create {
        name: String,
    },
    /// Renames and/or (de)activates an account.
    Update {
        account: Key,
        name: Option<String>,
        active: Option<bool>,
    },
    Delete {
        account: Key,
    },
}

impl AreaCommand for ServiceAccountCommand {
    fn required_action(&self) -> &'static str {
        match self {
            ServiceAccountCommand::Create { .. } => "iam.service_accounts.create",
            ServiceAccountCommand::Update { .. } => "iam.service_accounts.update",
            ServiceAccountCommand::Delete { .. } => "iam.service_accounts.delete",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            ServiceAccountCommand::Create { .. } => None,
            ServiceAccountCommand::Update { account, .. }
            | ServiceAccountCommand::Delete { account } => Some(account.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        resolve::service_account(state, key)
            .ok()
            .map(|a| a.id.to_string())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            ServiceAccountCommand::Create { name } => {
                let name = validate::display_name("name", &name)?;
                refuse_taken(cx.state, &name, None)?;
                let created_by = match cx.actor {
                    Actor::Principal(PrincipalId::User(user)) => Some(user.clone()),
                    _ => None,
                };
                let account = ServiceAccount {
                    id: ServiceAccountId::from(cx.new_id(ServiceAccountId::PREFIX)),
                    name,
                    created_by,
                    active: true,
                    system_managed: false,
                    created_at: cx.now,
                };
                let id = account.id.to_string();
                cx.put_service_account(account);
                Ok(id)
            }
            ServiceAccountCommand::Update {
                account,
                name,
                active,
            } => {
                let current = resolve::service_account(cx.state, account.as_str())?.clone();
                refuse_system_managed(&current)?;
                let mut updated = current.clone();
                if let Some(name) = name {
                    let name = validate::display_name("name", &name)?;
                    refuse_taken(cx.state, &name, Some(&current.id))?;
                    updated.name = name;
                }
                if let Some(active) = active {
                    updated.active = active;
                }
                let id = current.id.to_string();
                cx.put_service_account(updated);
                Ok(id)
            }
            ServiceAccountCommand::Delete { account } => {
                let current = resolve::service_account(cx.state, account.as_str())?.clone();
                refuse_system_managed(&current)?;
                cx.remove_service_account(&current.id);
                Ok(current.id.to_string())
            }
        }
    }
}

/// Names are unique among an organization's service accounts, without regard to case.
fn refuse_taken(
    state: &OrgState,
    name: &str,
    renamed: Option<&ServiceAccountId>,
) -> Result<(), DomainError> {
    let lower = name.to_lowercase();
    let taken = state
        .service_accounts
        .values()
        .any(|a| Some(&a.id) != renamed && a.name.to_lowercase() == lower);
    if taken {
        return Err(DomainError::Duplicate {
            kind: "service account",
            name: name.to_string(),
        });
    }
    Ok(())
}

fn refuse_system_managed(account: &ServiceAccount) -> Result<(), DomainError> {
    if account.system_managed {
        return Err(DomainError::SystemManaged(account.name.clone()));
    }
    Ok(())
}
