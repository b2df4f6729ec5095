//! Row changes as commands record them: every mutation of a command goes through the
//! helpers below, which change the state and record the change (with the value before it,
//! for the audit log) in the order made. A command writes children after their parents and
//! deletes them before, so the order is one a store with foreign keys can apply. A mutation
//! that changes nothing records nothing.

use serde::{Deserialize, Serialize};

use super::Apply;
use crate::domain::*;

/// One entity as stored. `Change`s carry them; the store persists each kind in its table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum Entity {
    Organization(Organization),
    User(User),
    ServiceAccount(ServiceAccount),
    Group(Group),
    Membership { group: GroupId, user: UserId },
    Policy(AccessPolicy),
    Namespace(Namespace),
    NamespaceGrant(NamespaceGrant),
    Cluster(Cluster),
    Token(ApiToken),
    Invitation(Invitation),
}

/// One row-level change, with the value before it for the audit log.
// A put carries two entities and a delete one; changes are built once per write and moved
// to the store, never held in bulk, so boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    Put {
        before: Option<Entity>,
        after: Entity,
    },
    Delete {
        before: Entity,
    },
}

impl OrgState {
    /// Replays one recorded change: what a server that did not run the command (a replica
    /// told of another server's commit) does to reach the same state. The revision is the
    /// caller's to set, once per commit.
    pub fn replay(&mut self, change: &Change) {
        match change {
            Change::Put { after, .. } => match after.clone() {
                Entity::Organization(org) => self.org = org,
                Entity::User(user) => {
                    self.users.insert(user.id.clone(), user);
                }
                Entity::ServiceAccount(account) => {
                    self.service_accounts.insert(account.id.clone(), account);
                }
                Entity::Group(group) => {
                    self.groups.insert(group.id.clone(), group);
                }
                Entity::Membership { group, user } => {
                    self.insert_membership(group, user);
                }
                Entity::Policy(policy) => {
                    self.policies.insert(policy.id.clone(), policy);
                }
                Entity::Namespace(namespace) => {
                    self.namespaces.insert(namespace.id.clone(), namespace);
                }
                Entity::NamespaceGrant(grant) => {
                    self.namespace_grants.insert(grant);
                }
                Entity::Cluster(cluster) => {
                    self.clusters.insert(cluster.id.clone(), cluster);
                }
                Entity::Token(token) => {
                    self.tokens.insert(token.id.clone(), token);
                }
                Entity::Invitation(invitation) => {
                    self.invitations.insert(invitation.id.clone(), invitation);
                }
            },
            Change::Delete { before } => match before {
                // An organization row is never deleted by a command.
                Entity::Organization(_) => {}
                Entity::User(user) => {
                    self.users.remove(&user.id);
                }
                Entity::ServiceAccount(account) => {
                    self.service_accounts.remove(&account.id);
                }
                Entity::Group(group) => {
                    self.groups.remove(&group.id);
                }
                Entity::Membership { group, user } => {
                    self.remove_membership(group, user);
                }
                Entity::Policy(policy) => {
                    self.policies.remove(&policy.id);
                }
                Entity::Namespace(namespace) => {
                    self.namespaces.remove(&namespace.id);
                }
                Entity::NamespaceGrant(grant) => {
                    self.namespace_grants.remove(grant);
                }
                Entity::Cluster(cluster) => {
                    self.clusters.remove(&cluster.id);
                }
                Entity::Token(token) => {
                    self.tokens.remove(&token.id);
                }
                Entity::Invitation(invitation) => {
                    self.invitations.remove(&invitation.id);
                }
            },
        }
    }
}

impl Apply<'_> {
    fn record(&mut self, before: Option<Entity>, after: Entity) {
        if before.as_ref() != Some(&after) {
            self.changes.push(Change::Put { before, after });
        }
    }

    fn record_delete(&mut self, before: Option<Entity>) {
        if let Some(before) = before {
            self.changes.push(Change::Delete { before });
        }
    }

    pub(super) fn put_org(&mut self, org: Organization) {
        let before = std::mem::replace(&mut self.state.org, org.clone());
        self.record(
            Some(Entity::Organization(before)),
            Entity::Organization(org),
        );
    }

    pub(super) fn put_user(&mut self, user: User) {
        let before = self.state.users.insert(user.id.clone(), user.clone());
        self.record(before.map(Entity::User), Entity::User(user));
    }

    /// Removes a user and everything of theirs, children first: their personal tokens, their
    /// namespace keys, their memberships, the rules naming them.
    pub(super) fn remove_user(&mut self, id: &UserId) {
        let owned: Vec<TokenId> = self
            .state
            .tokens
            .values()
            .filter(|t| t.owner.user() == Some(id))
            .map(|t| t.id.clone())
            .collect();
        for token in owned {
            self.delete_token(&token);
        }
        let grants: Vec<NamespaceGrant> = self
            .state
            .namespace_grants
            .iter()
            .filter(|g| g.user == *id)
            .cloned()
            .collect();
        for grant in grants {
            self.delete_grant(&grant);
        }
        let groups: Vec<GroupId> = self.state.groups_of(id).cloned().collect();
        for group in groups {
            self.remove_member(&group, id);
        }
        let naming: Vec<AccessPolicy> = self
            .state
            .policies
            .values()
            .filter(|p| {
                p.rules
                    .iter()
                    .any(|r| r.principal == PrincipalRef::User(id.clone()))
            })
            .cloned()
            .collect();
        for mut policy in naming {
            policy
                .rules
                .retain(|r| r.principal != PrincipalRef::User(id.clone()));
            policy.updated_at = self.now;
            self.put_policy(policy);
        }
        let before = self.state.users.remove(id).map(Entity::User);
        self.record_delete(before);
    }

    pub(super) fn put_service_account(&mut self, account: ServiceAccount) {
        let before = self
            .state
            .service_accounts
            .insert(account.id.clone(), account.clone());
        self.record(
            before.map(Entity::ServiceAccount),
            Entity::ServiceAccount(account),
        );
    }

    /// Removes a service account and, first, its tokens and the rules naming it.
    pub(super) fn remove_service_account(&mut self, id: &ServiceAccountId) {
        let owned: Vec<TokenId> = self
            .state
            .tokens
            .values()
            .filter(|t| t.owner == PrincipalId::ServiceAccount(id.clone()))
            .map(|t| t.id.clone())
            .collect();
        for token in owned {
            self.delete_token(&token);
        }
        let me = PrincipalRef::ServiceAccount(id.clone());
        let naming: Vec<AccessPolicy> = self
            .state
            .policies
            .values()
            .filter(|p| p.rules.iter().any(|r| r.principal == me))
            .cloned()
            .collect();
        for mut policy in naming {
            policy.rules.retain(|r| r.principal != me);
            policy.updated_at = self.now;
            self.put_policy(policy);
        }
        let before = self
            .state
            .service_accounts
            .remove(id)
            .map(Entity::ServiceAccount);
        self.record_delete(before);
    }

    pub(super) fn put_group(&mut self, group: Group) {
        let before = self.state.groups.insert(group.id.clone(), group.clone());
        self.record(before.map(Entity::Group), Entity::Group(group));
    }

    /// Deletes a group and, first, its memberships and its place in pending invitations.
    pub(super) fn delete_group(&mut self, id: &GroupId) {
        let members: Vec<UserId> = self.state.members_of(id).cloned().collect();
        for user in members {
            self.remove_member(id, &user);
        }
        self.edit_pending_invitations(|i| i.groups.retain(|g| g != id));
        let before = self.state.groups.remove(id).map(Entity::Group);
        self.record_delete(before);
    }

    pub(super) fn add_member(&mut self, group: GroupId, user: UserId) {
        if self.state.insert_membership(group.clone(), user.clone()) {
            self.record(None, Entity::Membership { group, user });
        }
    }

    pub(super) fn remove_member(&mut self, group: &GroupId, user: &UserId) {
        if self.state.remove_membership(group, user) {
            self.record_delete(Some(Entity::Membership {
                group: group.clone(),
                user: user.clone(),
            }));
        }
    }

    pub(super) fn put_policy(&mut self, policy: AccessPolicy) {
        let before = self
            .state
            .policies
            .insert(policy.id.clone(), policy.clone());
        self.record(before.map(Entity::Policy), Entity::Policy(policy));
    }

    pub(super) fn delete_policy(&mut self, id: &PolicyId) {
        let before = self.state.policies.remove(id).map(Entity::Policy);
        self.record_delete(before);
    }

    pub(super) fn put_namespace(&mut self, namespace: Namespace) {
        let before = self
            .state
            .namespaces
            .insert(namespace.id.clone(), namespace.clone());
        self.record(before.map(Entity::Namespace), Entity::Namespace(namespace));
    }

    /// Deletes a namespace and, first, every grant in it and its place in pending
    /// invitations.
    pub(super) fn delete_namespace(&mut self, id: &NamespaceId) {
        self.edit_pending_invitations(|i| i.namespaces.retain(|n| n.namespace != *id));
        let grants: Vec<NamespaceGrant> = self
            .state
            .namespace_grants
            .iter()
            .filter(|g| g.namespace == *id)
            .cloned()
            .collect();
        for grant in grants {
            self.delete_grant(&grant);
        }
        let before = self.state.namespaces.remove(id).map(Entity::Namespace);
        self.record_delete(before);
    }

    pub(super) fn put_grant(&mut self, grant: NamespaceGrant) {
        if self.state.namespace_grants.insert(grant.clone()).is_none() {
            self.record(None, Entity::NamespaceGrant(grant));
        }
    }

    pub(super) fn delete_grant(&mut self, grant: &NamespaceGrant) {
        let before = self
            .state
            .namespace_grants
            .remove(grant)
            .map(Entity::NamespaceGrant);
        self.record_delete(before);
    }

    pub(super) fn put_cluster(&mut self, cluster: Cluster) {
        let before = self
            .state
            .clusters
            .insert(cluster.id.clone(), cluster.clone());
        self.record(before.map(Entity::Cluster), Entity::Cluster(cluster));
    }

    pub(super) fn delete_cluster(&mut self, id: &ClusterId) {
        let before = self.state.clusters.remove(id).map(Entity::Cluster);
        self.record_delete(before);
    }

    pub(super) fn put_token(&mut self, token: ApiToken) {
        let before = self.state.tokens.insert(token.id.clone(), token.clone());
        self.record(before.map(Entity::Token), Entity::Token(token));
    }

    pub(super) fn delete_token(&mut self, id: &TokenId) {
        let before = self.state.tokens.remove(id).map(Entity::Token);
        self.record_delete(before);
    }

    pub(super) fn put_invitation(&mut self, invitation: Invitation) {
        let before = self
            .state
            .invitations
            .insert(invitation.id.clone(), invitation.clone());
        self.record(
            before.map(Entity::Invitation),
            Entity::Invitation(invitation),
        );
    }

    /// Applies `edit` to every pending invitation, recording those it changes: what an
    /// invitation gives must name only what exists, so that accepting it gives exactly that.
    fn edit_pending_invitations(&mut self, edit: impl Fn(&mut Invitation)) {
        let pending: Vec<Invitation> = self
            .state
            .invitations
            .values()
            .filter(|i| i.status == InvitationStatus::Pending)
            .cloned()
            .collect();
        for mut invitation in pending {
            edit(&mut invitation);
            self.put_invitation(invitation);
        }
    }
}
