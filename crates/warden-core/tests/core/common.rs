//! A small organization to run commands against, as the server would.

use std::sync::Arc;

use warden_core::command::{
    FirstUser, GroupCommand, Key, PrincipalInput, PrincipalKind, RuleInput, UserCommand,
};
use warden_core::testkit::FixedContext;
use warden_core::*;

pub struct Org {
    pub catalog: Arc<Catalog>,
    pub snapshot: Snapshot,
    pub ctx: FixedContext,
}

impl Org {
    pub fn new() -> Org {
        let catalog = Catalog::builtin().unwrap();
        let mut ctx = FixedContext::new(1_000);
        let snapshot = new_organization(
            &catalog,
            OrgId::from("abc123"),
            "Acme",
            FirstUser {
                email: "root@acme.test".into(),
                first_name: "Root".into(),
                last_name: "Admin".into(),
            },
            &mut ctx,
        )
        .unwrap()
        .snapshot;
        Org {
            catalog,
            snapshot,
            ctx,
        }
    }

    pub fn state(&self) -> &OrgState {
        self.snapshot.state()
    }

    pub fn now(&self) -> Timestamp {
        self.ctx.now
    }

    pub fn root(&self) -> UserId {
        self.state().org.default_admin.clone()
    }

    pub fn run(&mut self, actor: &Actor, cmd: impl Into<Command>) -> Result<String, DomainError> {
        let executed = execute(&self.snapshot, actor, cmd.into(), &mut self.ctx)?;
        let target = executed.target().to_string();
        self.snapshot = executed.snapshot;
        Ok(target)
    }

    pub fn run_all(&mut self, actor: &Actor, cmds: Vec<Command>) -> Result<Executed, BatchError> {
        let executed = execute_all(&self.snapshot, actor, cmds, &mut self.ctx)?;
        self.snapshot =
            Snapshot::compile(self.catalog.clone(), executed.state().clone(), self.ctx.now);
        Ok(executed)
    }

    pub fn sys(&mut self, cmd: impl Into<Command>) -> String {
        self.run(&Actor::System, cmd).unwrap()
    }

    pub fn user(&mut self, email: &str) -> UserId {
        UserId::from(self.sys(UserCommand::Create {
            email: email.into(),
            first_name: String::new(),
            last_name: String::new(),
        }))
    }

    pub fn join(&mut self, group: &str, user: &UserId) {
        self.sys(GroupCommand::AddMember {
            group: Key::from(group),
            user: Key::from(user),
        });
    }

    pub fn allowed(&self, user: &UserId, action: &str) -> bool {
        self.snapshot
            .check(user.as_str(), action, self.now())
            .unwrap()
    }

    /// Moves the clock; the snapshot is not recompiled (the engine honours time by itself).
    pub fn advance(&mut self, ms: i64) {
        self.ctx.now = Timestamp(self.ctx.now.0 + ms);
    }
}

pub fn rule(kind: PrincipalKind, id: &str, roles: &[&str]) -> RuleInput {
    RuleInput {
        principal: PrincipalInput {
            kind,
            id: id.into(),
        },
        roles: roles.iter().map(|r| r.to_string()).collect(),
        expires_at: None,
    }
}
