//! Groups and their memberships. The five legacy groups exist in every organization and
//! cannot be renamed or deleted.

use super::{Apply, AreaCommand, Key};
use crate::domain::*;
use crate::error::DomainError;
use crate::{resolve, validate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupCommand {
    Create {
        name: String,
        description: String,
    },
    Update {
        group: Key,
        name: Option<String>,
        description: Option<String>,
    },
    Delete {
        group: Key,
    },
    /// Sets or clears the identity provider's id for the group (SCIM `externalId`).
    SetExternalId {
        group: Key,
        external_id: Option<String>,
    },
    AddMember {
        group: Key,
        user: Key,
    },
    RemoveMember {
        group: Key,
        user: Key,
    },
}

impl AreaCommand for GroupCommand {
    fn required_action(&self) -> &'static str {
        match self {
            GroupCommand::Create { .. } => "iam.groups.create",
            GroupCommand::Update { .. } | GroupCommand::SetExternalId { .. } => "iam.groups.update",
            GroupCommand::Delete { .. } => "iam.groups.delete",
            GroupCommand::AddMember { .. } => "iam.memberships.create",
            GroupCommand::RemoveMember { .. } => "iam.memberships.delete",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            GroupCommand::Create { .. } => None,
            GroupCommand::Update { group, .. }
            | GroupCommand::Delete { group }
            | GroupCommand::SetExternalId { group, .. }
            | GroupCommand::AddMember { group, .. }
            | GroupCommand::RemoveMember { group, .. } => Some(group.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        resolve::group(state, key).ok().map(|g| g.id.to_string())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            GroupCommand::Create { name, description } => {
                let name = validate::group_name("name", &name)?;
                if cx.state.group_by_name(&name).is_some() {
                    return Err(DomainError::Duplicate {
                        kind: "group",
                        name,
                    });
                }
                refuse_lookalike(cx.state, &name, None)?;
                let group = Group {
                    id: GroupId::from(cx.new_id(GroupId::PREFIX)),
                    name,
                    description: validate::description("description", &description)?,
                    legacy: false,
                    created_at: cx.now,
                    external_id: None,
                };
                let id = group.id.to_string();
                cx.put_group(group);
                Ok(id)
            }
            GroupCommand::Update {
                group,
                name,
                description,
            } => {
                let current = resolve::group(cx.state, group.as_str())?.clone();
                let name = name.map(|n| validate::group_name("name", &n)).transpose()?;
                let description = description
                    .map(|d| validate::description("description", &d))
                    .transpose()?;
                let mut updated = current.clone();
                if let Some(name) = name {
                    if name != current.name {
                        if current.legacy {
                            return Err(DomainError::LegacyGroupProtected(current.name));
                        }
                        // Re-casing its own name (`engineering` → `Engineering`) is no clash.
                        if cx
                            .state
                            .group_by_name(&name)
                            .is_some_and(|other| other.id != current.id)
                        {
                            return Err(DomainError::Duplicate {
                                kind: "group",
                                name,
                            });
                        }
                        refuse_lookalike(cx.state, &name, Some(&current.id))?;
                        updated.name = name;
                    }
                }
                if let Some(description) = description {
                    updated.description = description;
                }
                cx.put_group(updated);
                Ok(current.id.to_string())
            }
            GroupCommand::SetExternalId { group, external_id } => {
                let mut updated = resolve::group(cx.state, group.as_str())?.clone();
                if updated.legacy {
                    return Err(DomainError::LegacyGroupProtected(updated.name));
                }
                updated.external_id = external_id
                    .map(|id| validate::external_id("external_id", &id))
                    .transpose()?
                    .map(Into::into);
                let id = updated.id.to_string();
                cx.put_group(updated);
                Ok(id)
            }
            GroupCommand::Delete { group } => {
                let g = resolve::group(cx.state, group.as_str())?.clone();
                if g.legacy {
                    return Err(DomainError::LegacyGroupProtected(g.name));
                }
                let naming: Vec<&str> = cx
                    .state
                    .policies
                    .values()
                    .filter(|p| {
                        p.rules
                            .iter()
                            .any(|r| r.principal == PrincipalRef::Group(g.id.clone()))
                    })
                    .map(|p| p.name.as_str())
                    .collect();
                if !naming.is_empty() {
                    return Err(DomainError::GroupInUse {
                        group: g.name,
                        policies: naming.join(", "),
                    });
                }
                cx.delete_group(&g.id);
                Ok(g.id.to_string())
            }
            GroupCommand::AddMember { group, user } => {
                let (group, user) = member(cx.state, &group, &user)?;
                cx.add_member(group.clone(), user);
                Ok(group.to_string())
            }
            GroupCommand::RemoveMember { group, user } => {
                let (group, user) = member(cx.state, &group, &user)?;
                cx.remove_member(&group, &user);
                Ok(group.to_string())
            }
        }
    }
}

fn member(state: &OrgState, group: &Key, user: &Key) -> Result<(GroupId, UserId), DomainError> {
    let group = resolve::group(state, group.as_str())?.id.clone();
    let user = resolve::user(state, user.as_str())?.id.clone();
    Ok((group, user))
}

/// Refuses a group name a reader could mistake for another group's. `renamed`: the group
/// being renamed, which may look like itself.
fn refuse_lookalike(
    state: &OrgState,
    name: &str,
    renamed: Option<&GroupId>,
) -> Result<(), DomainError> {
    let others = state
        .groups
        .values()
        .filter(|group| Some(&group.id) != renamed)
        .map(|group| group.name.as_str());
    validate::refuse_lookalike("group", name, others)
}
