//! Commands: every change to an organization goes through [`execute`] (one command) or
//! [`execute_all`] (several, atomically). The core authorizes each command with the caller's
//! snapshot, validates its input and applies it to a copy of the state, patches the snapshot
//! with the result, checks the organization invariants (spec section 7) on it, and returns the
//! new snapshot with, per command, the entity changes the store must persist. A refused
//! command returns an error and changes nothing.
//!
//! Each area has its own file with its command enum, the action each variant needs, the entity
//! it addresses and how it applies: `organization`, `users`, `groups`, `policies`,
//! `namespaces`, `clusters`, `tokens`, `service_accounts`, `sso` (SAML and its enforcement),
//! `provisioning` (SCIM tokens). Invariants, the diff of two states and name resolution
//! (`crate::resolve`) have their own files.

mod changes;
mod clusters;
mod diff;
mod groups;
mod invariants;
mod invitations;
mod namespaces;
mod organization;
mod policies;
mod provisioning;
mod service_accounts;
mod sso;
mod tokens;
mod users;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use self::changes::{Change, Entity};
pub use self::clusters::ClusterCommand;
pub use self::diff::diff;
pub use self::groups::GroupCommand;
pub use self::invitations::{InvitationCommand, InvitationLink, Offer};
pub use self::namespaces::NamespaceCommand;
pub use self::organization::{is_org_id, new_organization, FirstUser, OrganizationCommand};
pub use self::policies::{catalog_difference, CatalogDifference, PolicyCommand, RuleInput};
pub use self::provisioning::{ProvisioningCommand, PROVISIONER_ROLE, PROVISIONING_POLICY};
pub use self::service_accounts::ServiceAccountCommand;
pub use self::sso::{IdpInput, SsoCommand, MAX_IDP_CERTIFICATES};
pub use self::tokens::{
    org_tokens_created_by, NewToken, ScopeInput, TokenCommand, TokenEdit, TokenLifetime,
};
pub use self::users::UserCommand;
use crate::catalog::Catalog;
use crate::domain::*;
use crate::engine::Snapshot;
use crate::error::{BatchError, DomainError};
pub use crate::resolve::{Key, PrincipalInput, PrincipalKind};

/// Who issues a command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A user or service account of the organization, authorized by the engine.
    Principal(PrincipalId),
    /// A platform operator, authorized by its operator token: outside every organization,
    /// it may do what only the platform may (spec sections 5 and 7).
    Operator(OperatorId),
    /// The holder of an invitation's link, accepting it: may do that and nothing else.
    Invitee(InvitationId),
    /// The server's own command line (bootstrap): not a principal of any organization,
    /// authorized by having the data store in hand.
    System,
    /// A verified assertion of the organization's SAML identity provider, signing in a user
    /// Warden does not know yet: may provision that user and nothing else.
    SingleSignOn {
        /// The email the assertion names (how audit events name the actor).
        subject: String,
    },
}

impl Actor {
    pub fn user(id: UserId) -> Actor {
        Actor::Principal(PrincipalId::User(id))
    }

    /// How audit events name the actor: `user:<id>`, `service_account:<id>` or `system`.
    pub fn describe(&self) -> String {
        match self {
            Actor::Principal(p) => format!("{}:{}", p.kind(), p.as_str()),
            Actor::Operator(id) => format!("operator:{id}"),
            Actor::Invitee(id) => format!("invitation:{id}"),
            Actor::System => "system".to_string(),
            Actor::SingleSignOn { subject } => format!("sso:{subject}"),
        }
    }

    pub fn principal(&self) -> Option<&PrincipalId> {
        match self {
            Actor::Principal(p) => Some(p),
            Actor::Operator(_) | Actor::Invitee(_) | Actor::System | Actor::SingleSignOn { .. } => {
                None
            }
        }
    }

    /// Acts for the platform (an operator or the server's own command line): may do what
    /// only a platform operator may, and is not subject to an organization's policies.
    pub fn is_platform(&self) -> bool {
        matches!(self, Actor::Operator(_) | Actor::System)
    }
}

/// What the command layer needs from the outside world: time and fresh identifiers.
pub trait CommandContext {
    fn now(&self) -> Timestamp;
    /// A fresh random identifier suffix (lowercase base32), unique with high probability.
    fn random_suffix(&mut self) -> String;
}

/// A change to one organization, by area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Organization(OrganizationCommand),
    User(UserCommand),
    Group(GroupCommand),
    Policy(PolicyCommand),
    Namespace(NamespaceCommand),
    Cluster(ClusterCommand),
    Token(TokenCommand),
    Invitation(InvitationCommand),
    ServiceAccount(ServiceAccountCommand),
    Sso(SsoCommand),
    Provisioning(ProvisioningCommand),
}

/// What every area's command enum provides.
pub(crate) trait AreaCommand {
    /// The catalog action a principal needs to issue the command.
    fn required_action(&self) -> &'static str;
    /// The existing entity the command addresses (none for creations), as the caller named
    /// it: what the audit record of a refused command names as its target.
    fn target(&self) -> Option<&str>;
    /// The id of the entity the command addresses, as `target()` names it, resolved against
    /// `state` (`None` when it names nothing there).
    fn target_id(&self, state: &OrgState) -> Option<String>;
    /// Applies the command to `cx.state`; returns the id of what it created or changed.
    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError>;
}

macro_rules! dispatch {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            Command::Organization($c) => $body,
            Command::User($c) => $body,
            Command::Group($c) => $body,
            Command::Policy($c) => $body,
            Command::Namespace($c) => $body,
            Command::Cluster($c) => $body,
            Command::Token($c) => $body,
            Command::Invitation($c) => $body,
            Command::ServiceAccount($c) => $body,
            Command::Sso($c) => $body,
            Command::Provisioning($c) => $body,
        }
    };
}

impl Command {
    /// The catalog action a principal needs to issue this command.
    pub fn required_action(&self) -> &'static str {
        dispatch!(self, c => c.required_action())
    }

    /// The entity the command addresses, as the caller named it (none for creations).
    pub fn target(&self) -> Option<&str> {
        dispatch!(self, c => c.target())
    }

    /// The id of the entity the command addresses, for the audit record of its refusal:
    /// the caller's key resolved against `state` where it names something, else the key as
    /// given (empty for creations).
    pub fn audit_target(&self, state: &OrgState) -> String {
        let Some(key) = self.target() else {
            return String::new();
        };
        let id = dispatch!(self, c => c.target_id(state));
        id.unwrap_or_else(|| key.chars().take(crate::validate::MAX_NAME).collect())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        dispatch!(self, c => c.apply(cx))
    }

    /// Every catalog action a principal needs to issue this command: the required one, and
    /// for an invitation the actions that grant what it gives.
    pub fn required_actions(&self) -> Vec<&'static str> {
        let mut out = vec![self.required_action()];
        if let Command::Invitation(c) = self {
            out.extend(c.also_required());
        }
        out
    }
}

macro_rules! command_from {
    ($($area:ident => $variant:ident),*) => {$(
        impl From<$area> for Command {
            fn from(c: $area) -> Command {
                Command::$variant(c)
            }
        }
    )*};
}
command_from!(
    OrganizationCommand => Organization,
    UserCommand => User,
    GroupCommand => Group,
    PolicyCommand => Policy,
    NamespaceCommand => Namespace,
    ClusterCommand => Cluster,
    TokenCommand => Token,
    InvitationCommand => Invitation,
    ServiceAccountCommand => ServiceAccount,
    SsoCommand => Sso,
    ProvisioningCommand => Provisioning
);

/// A side effect a command asks for, to happen after its commit: written to the outbox in
/// the commit's transaction and carried out by a worker, so a crash loses none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// Tell a user by email that a personal access token was created in their name (so a
    /// token they did not create themselves does not go unnoticed).
    NotifyTokenCreated {
        org_id: OrgId,
        org_name: String,
        email: String,
        first_name: String,
        token_id: TokenId,
        token_name: String,
        /// The actor, as audit events name it.
        created_by: String,
        created_at: Timestamp,
        expires_at: Option<Timestamp>,
    },
    /// Send an invitation to join the organization. The link is not here: the mailer
    /// derives it from the nonce with the server's link key, and checks it against the hash,
    /// so the outbox holds nothing that opens the invitation.
    SendInvitation {
        org_id: OrgId,
        org_name: String,
        invitation_id: InvitationId,
        email: String,
        /// The inviter as the email names them.
        invited_by: String,
        nonce: String,
        secret_hash: String,
        expires_at: Timestamp,
    },
    /// Send a password reset link (made as an invitation's is: from the nonce, with the
    /// server's link key). Asked for by the sign-in service, not by a command.
    SendPasswordReset {
        org_id: OrgId,
        org_name: String,
        email: String,
        nonce: String,
        secret_hash: String,
        expires_at: Timestamp,
        /// The first admin of an organization an operator created by email: the link sets
        /// their first password (the email welcomes rather than resets).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        welcome: bool,
    },
}

/// What one command of a batch did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The catalog action of the command (what its audit event records).
    pub action: &'static str,
    /// The id of what the command created or changed.
    pub target: String,
    /// Its row changes, in the order the store must apply them.
    pub changes: Vec<Change>,
}

/// The result of a command, or a batch of commands, that went through.
#[derive(Debug)]
pub struct Executed {
    /// The organization after the commands (revision bumped once), compiled; the snapshot
    /// it started from when nothing changed.
    pub snapshot: Snapshot,
    /// One entry per command, in order.
    pub applied: Vec<Applied>,
    /// Side effects to carry out after the commit.
    pub effects: Vec<Effect>,
}

impl Executed {
    pub fn state(&self) -> &Arc<OrgState> {
        self.snapshot.state()
    }

    pub fn revision(&self) -> u64 {
        self.snapshot.revision()
    }

    /// Whether the batch changed anything (a batch that did not keeps the revision, and
    /// is neither committed nor audited).
    pub fn changed(&self) -> bool {
        !self.effects.is_empty() || self.applied.iter().any(|a| !a.changes.is_empty())
    }

    /// Every row change of the batch, in order.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.applied.iter().flat_map(|a| a.changes.iter())
    }

    /// The target of the first (for [`execute`], the only) command.
    pub fn target(&self) -> &str {
        self.applied.first().map_or("", |a| a.target.as_str())
    }
}

/// What a command's `apply` works with.
pub(crate) struct Apply<'a> {
    pub catalog: &'a Catalog,
    pub state: &'a mut OrgState,
    pub actor: &'a Actor,
    pub now: Timestamp,
    pub ids: &'a mut dyn CommandContext,
    pub effects: &'a mut Vec<Effect>,
    /// What the command changed, in order (see `changes.rs`).
    pub changes: Vec<Change>,
}

impl Apply<'_> {
    /// A fresh id with the given prefix (`usr`, `grp`, ...).
    pub fn new_id(&mut self, prefix: &str) -> String {
        format!("{prefix}_{}", self.ids.random_suffix())
    }
}

/// Runs one command against `before` (the organization's current snapshot) for `actor`.
pub fn execute(
    before: &Snapshot,
    actor: &Actor,
    command: Command,
    ctx: &mut dyn CommandContext,
) -> Result<Executed, DomainError> {
    execute_all(before, actor, vec![command], ctx).map_err(|e| e.error)
}

/// Runs several commands as one change: every command is authorized against `before`,
/// they apply in order (a later command sees what an earlier one created, by id or natural
/// key), the invariants are checked on the end result, and the organization moves to one
/// new revision. All or nothing: the first refusal refuses the batch.
pub fn execute_all(
    before: &Snapshot,
    actor: &Actor,
    commands: Vec<Command>,
    ctx: &mut dyn CommandContext,
) -> Result<Executed, BatchError> {
    let now = ctx.now();
    let catalog = before.catalog().clone();
    match actor {
        Actor::Principal(principal) => {
            for (index, command) in commands.iter().enumerate() {
                for action in command.required_actions() {
                    let allowed = catalog
                        .action_id(action)
                        .is_some_and(|id| before.check_at(principal.as_str(), id, now));
                    if !allowed {
                        return Err(BatchError {
                            index,
                            error: catalog.forbidden(action),
                        });
                    }
                }
            }
        }
        // The holder of a link may accept that invitation, and do nothing else.
        Actor::Invitee(id) => {
            for (index, command) in commands.iter().enumerate() {
                let accepting = matches!(
                    command,
                    Command::Invitation(InvitationCommand::Accept { invitation, .. })
                        if invitation == id
                );
                if !accepting {
                    return Err(BatchError {
                        index,
                        error: catalog.forbidden(command.required_action()),
                    });
                }
            }
        }
        // A verified SSO assertion may provision the user it names, and do nothing else.
        Actor::SingleSignOn { subject } => {
            for (index, command) in commands.iter().enumerate() {
                let provisioning_subject = matches!(
                    command,
                    Command::User(UserCommand::Provision { email, .. })
                        if email.eq_ignore_ascii_case(subject)
                );
                if !provisioning_subject {
                    return Err(BatchError {
                        index,
                        error: catalog.forbidden(command.required_action()),
                    });
                }
            }
        }
        Actor::Operator(_) | Actor::System => {}
    }
    // O(1): the state's collections are persistent, and each command records what it
    // changes as it changes it.
    let mut state = OrgState::clone(before.state());
    let mut applied = Vec::with_capacity(commands.len());
    let mut effects = Vec::new();
    let last = commands.len().saturating_sub(1);
    for (index, command) in commands.into_iter().enumerate() {
        let action = command.required_action();
        let mut cx = Apply {
            catalog: &catalog,
            state: &mut state,
            actor,
            now,
            ids: &mut *ctx,
            effects: &mut effects,
            changes: Vec::new(),
        };
        let target = command
            .apply(&mut cx)
            .map_err(|error| BatchError { index, error })?;
        let changes = cx.changes;
        applied.push(Applied {
            action,
            changes,
            target,
        });
    }
    // A batch that changes nothing (re-adding a member, deactivating a deactivated user)
    // succeeds at the current revision: no new revision, nothing to check or record.
    if effects.is_empty() && applied.iter().all(|a| a.changes.is_empty()) {
        return Ok(Executed {
            snapshot: before.clone(),
            applied,
            effects,
        });
    }
    state.revision = before.revision() + 1;
    // Only what the commands changed is recomputed.
    let changes = applied.iter().flat_map(|a| &a.changes);
    let after = before.patch(Arc::new(state), changes, now);
    invariants::check(before, &after, actor, now)
        .map_err(|error| BatchError { index: last, error })?;
    Ok(Executed {
        snapshot: after,
        applied,
        effects,
    })
}
