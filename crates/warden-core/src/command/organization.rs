//! The organization itself: creation (with its legacy groups, default policies and first
//! admin) and renaming.

use std::sync::Arc;

use super::{diff, Applied, Apply, AreaCommand, CommandContext, Executed};
use crate::catalog::Catalog;
use crate::domain::*;
use crate::engine::Snapshot;
use crate::error::DomainError;
use crate::validate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizationCommand {
    /// Renames the organization.
    Update { name: String },
    /// Makes another active user the default admin, adding them to `admin` if they are not
    /// in it (platform operators only, spec section 7.3).
    SetDefaultAdmin { user: super::Key },
}

impl AreaCommand for OrganizationCommand {
    fn required_action(&self) -> &'static str {
        match self {
            OrganizationCommand::Update { .. } => "iam.organizations.update",
            // A principal holding it is still told that this is an operator's.
            OrganizationCommand::SetDefaultAdmin { .. } => "iam.organizations.update",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            OrganizationCommand::Update { .. } => None,
            OrganizationCommand::SetDefaultAdmin { user } => Some(user.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        crate::resolve::user(state, key)
            .ok()
            .map(|u| u.id.to_string())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            OrganizationCommand::Update { name } => {
                let org = Organization {
                    name: validate::display_name("name", &name)?,
                    ..cx.state.org.clone()
                };
                let id = org.id.to_string();
                cx.put_org(org);
                Ok(id)
            }
            OrganizationCommand::SetDefaultAdmin { user } => {
                if !cx.actor.is_platform() {
                    return Err(DomainError::OperatorOnly("warden org set-default-admin"));
                }
                let user = crate::resolve::user(cx.state, user.as_str())?.clone();
                if user.status != UserStatus::Active {
                    return Err(DomainError::invalid(
                        "user",
                        format!(
                            "`{}` is not active: only an active user can be the default admin",
                            user.email
                        ),
                    ));
                }
                if let Some(admin) = cx.state.group_by_name("admin").map(|g| g.id.clone()) {
                    cx.add_member(admin, user.id.clone());
                }
                let org = Organization {
                    default_admin: user.id.clone(),
                    ..cx.state.org.clone()
                };
                cx.put_org(org);
                Ok(user.id.to_string())
            }
        }
    }
}

/// The first user of a new organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// Creates an organization: its five legacy groups, their five default policies, and its
/// first user, who is the default admin and a member of `admin`. The result is at revision 1.
pub fn new_organization(
    catalog: &Arc<Catalog>,
    org_id: OrgId,
    name: &str,
    first: FirstUser,
    ctx: &mut dyn CommandContext,
) -> Result<Executed, DomainError> {
    let now = ctx.now();
    if !is_org_id(org_id.as_str()) {
        return Err(DomainError::invalid(
            "id",
            "must be six lowercase hex digits",
        ));
    }
    let user = User {
        external_id: None,
        id: UserId::from(format!("usr_{}", ctx.random_suffix())),
        email: validate::email("email", &first.email)?.into(),
        first_name: validate::optional_name("first_name", &first.first_name)?.into(),
        last_name: validate::optional_name("last_name", &first.last_name)?.into(),
        status: UserStatus::Active,
        created_at: now,
    };
    let empty = OrgState::empty(Organization {
        sso: None,
        id: org_id.clone(),
        name: validate::display_name("name", name)?,
        default_admin: user.id.clone(),
        created_at: now,
    });
    let mut state = empty.clone();
    for legacy in catalog.legacy_groups() {
        let group = Group {
            external_id: None,
            id: GroupId::from(format!("grp_{}", ctx.random_suffix())),
            name: legacy.name.clone(),
            description: format!("Legacy group `{}`", legacy.name),
            legacy: true,
            created_at: now,
        };
        let policy = AccessPolicy {
            id: PolicyId::from(format!("pol_{}", ctx.random_suffix())),
            name: legacy.name.clone(),
            description: format!("Default policy of the legacy group `{}`", legacy.name),
            legacy_group: Some(legacy.name.clone()),
            rules: vec![Rule {
                principal: PrincipalRef::Group(group.id.clone()),
                roles: legacy.roles.clone(),
                expires_at: None,
            }],
            created_at: now,
            updated_at: now,
        };
        if legacy.name == "admin" {
            state.insert_membership(group.id.clone(), user.id.clone());
        }
        state.groups.insert(group.id.clone(), group);
        state.policies.insert(policy.id.clone(), policy);
    }
    state.users.insert(user.id.clone(), user);
    state.revision = 1;
    let changes = diff(&empty, &state);
    let snapshot = Snapshot::compile(catalog.clone(), Arc::new(state), now);
    // The first user holds IAM Admin through `admin`; a catalog without it is unusable.
    if snapshot.org_admins(now).is_empty() {
        return Err(DomainError::LastAdmin);
    }
    Ok(Executed {
        snapshot,
        applied: vec![Applied {
            action: "iam.organizations.create",
            target: org_id.to_string(),
            changes,
        }],
        effects: Vec::new(),
    })
}

/// Six lowercase hex digits.
pub fn is_org_id(s: &str) -> bool {
    s.len() == 6
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
