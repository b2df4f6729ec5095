//! Deterministic helpers for tests and benchmarks: a counter-based [`CommandContext`] and
//! the reference workload of spec section 11.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::command::{diff, new_organization, Applied, CommandContext, Executed, FirstUser};
use crate::domain::*;
use crate::engine::Snapshot;
use crate::error::DomainError;

/// A context with a fixed clock and sequential, still well-formed, id suffixes.
#[derive(Debug, Clone)]
pub struct FixedContext {
    pub now: Timestamp,
    pub counter: u64,
}

impl FixedContext {
    pub fn new(now_ms: i64) -> FixedContext {
        FixedContext {
            now: Timestamp(now_ms),
            counter: 0,
        }
    }
}

impl CommandContext for FixedContext {
    fn now(&self) -> Timestamp {
        self.now
    }

    fn random_suffix(&mut self) -> String {
        self.counter += 1;
        format!("{:016x}", self.counter)
    }
}

/// A small deterministic pseudo-random generator (SplitMix64), enough for workloads.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
        usize::try_from(self.next_u64() % n).unwrap_or(0)
    }

    /// One of `items`, at random (`None` when there are none).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let i = self.below(items.len());
        items.get(i)
    }
}

/// Sizes of a generated organization.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    pub users: usize,
    pub groups: usize,
    pub memberships_per_user: usize,
    pub policies: usize,
    pub rules_per_policy: usize,
    /// Share of rules naming a group rather than a user, in percent.
    pub group_rule_percent: usize,
    pub seed: u64,
}

impl Workload {
    /// Spec section 11: 10,000 users, 1,000 groups (about 2 memberships a user), 200
    /// policies holding about 600 rules, 80% of them naming a group.
    pub const REFERENCE: Workload = Workload {
        users: 10_000,
        groups: 1_000,
        memberships_per_user: 2,
        policies: 200,
        rules_per_policy: 3,
        group_rule_percent: 80,
        seed: 42,
    };
}

/// Builds an organization of the given size directly (no command per entity), on top of a
/// real [`new_organization`] so the legacy groups and default policies are present.
pub fn generate_org(catalog: &Arc<Catalog>, w: Workload) -> Result<OrgState, DomainError> {
    let mut ctx = FixedContext::new(1_700_000_000_000);
    generate(
        catalog,
        w,
        OrgId::from("a1b2c3"),
        "Reference",
        &mut ctx,
        |_, kind, i| format!("{kind}_{i:08}"),
    )
}

/// [`generate_org`] for one of many organizations in one store, which keys entities by id
/// alone: `org` is the organization's id (six hex digits) and every id in it embeds `org`,
/// so ids never collide across organizations. Ids have the length of real ones (`usr_` and
/// 16 characters). Vary `w.seed` per organization for organizations of different shapes.
pub fn generate_tenant(
    catalog: &Arc<Catalog>,
    w: Workload,
    org: OrgId,
) -> Result<OrgState, DomainError> {
    let mut ctx = TenantContext {
        now: Timestamp(1_700_000_000_000),
        org: org.to_string(),
        counter: 0,
    };
    let name = format!("Tenant {org}");
    // Every id from the context, as the service draws them: one counter, no collisions
    // between the ids `new_organization` makes and the generated ones.
    generate(catalog, w, org, &name, &mut ctx, |ctx, kind, _| {
        format!("{kind}_{}", ctx.random_suffix())
    })
}

/// A fixed clock and id suffixes made of the organization id and a counter.
struct TenantContext {
    now: Timestamp,
    org: String,
    counter: u64,
}

impl CommandContext for TenantContext {
    fn now(&self) -> Timestamp {
        self.now
    }

    fn random_suffix(&mut self) -> String {
        self.counter += 1;
        format!("{}{:010x}", self.org, self.counter)
    }
}

/// The body of [`generate_org`] and [`generate_tenant`]: `make_id(ctx, kind, i)` names the
/// `i`-th generated entity of a kind (`usr`, `grp`, `pol`).
fn generate(
    catalog: &Arc<Catalog>,
    w: Workload,
    org: OrgId,
    name: &str,
    ctx: &mut dyn CommandContext,
    make_id: fn(&mut dyn CommandContext, &str, usize) -> String,
) -> Result<OrgState, DomainError> {
    let mut state = new_organization(
        catalog,
        org,
        name,
        FirstUser {
            email: "admin@example.com".into(),
            first_name: "Ada".into(),
            last_name: "Admin".into(),
        },
        ctx,
    )?
    .snapshot
    .state()
    .as_ref()
    .clone();
    let mut rng = SplitMix(w.seed);
    let now = ctx.now();
    let mut users = Vec::with_capacity(w.users);
    for i in 0..w.users {
        let id = UserId::from(make_id(ctx, "usr", i));
        state.users.insert(
            id.clone(),
            User {
                external_id: None,
                id: id.clone(),
                email: format!("user{i}@example.com").into(),
                first_name: format!("User{i}").into(),
                last_name: "Example".into(),
                status: UserStatus::Active,
                created_at: now,
            },
        );
        users.push(id);
    }
    let mut groups = Vec::with_capacity(w.groups);
    for i in 0..w.groups {
        let id = GroupId::from(make_id(ctx, "grp", i));
        state.groups.insert(
            id.clone(),
            Group {
                external_id: None,
                id: id.clone(),
                name: format!("team-{i}"),
                description: String::new(),
                legacy: false,
                created_at: now,
            },
        );
        groups.push(id);
    }
    if !groups.is_empty() {
        for user in &users {
            for _ in 0..w.memberships_per_user {
                if let Some(g) = rng.pick(&groups) {
                    state.insert_membership(g.clone(), user.clone());
                }
            }
        }
    }
    let roles: Vec<String> = catalog.roles().iter().map(|r| r.id.clone()).collect();
    let mut policies = BTreeMap::new();
    for p in 0..w.policies {
        let id = PolicyId::from(make_id(ctx, "pol", p));
        let mut rules = Vec::new();
        for _ in 0..w.rules_per_policy {
            let principal = if !groups.is_empty() && rng.below(100) < w.group_rule_percent {
                rng.pick(&groups).cloned().map(PrincipalRef::Group)
            } else {
                rng.pick(&users).cloned().map(PrincipalRef::User)
            };
            let Some(principal) = principal else {
                continue;
            };
            let n = 1 + rng.below(2);
            let rule_roles = (0..n).filter_map(|_| rng.pick(&roles).cloned()).collect();
            rules.push(Rule {
                principal,
                roles: rule_roles,
                expires_at: None,
            });
        }
        policies.insert(
            id.clone(),
            AccessPolicy {
                id,
                name: format!("policy-{p}"),
                description: String::new(),
                legacy_group: None,
                rules,
                created_at: now,
                updated_at: now,
            },
        );
    }
    state.policies.extend(policies);
    Ok(state)
}

/// A generated state as if it had just been created: every entity a put from an empty
/// organization, ready for `Store::create_organization`.
pub fn as_created(catalog: &Arc<Catalog>, state: OrgState) -> Executed {
    let empty = OrgState::empty(state.org.clone());
    let changes = diff(&empty, &state);
    let target = state.org.id.to_string();
    let now = state.org.created_at;
    Executed {
        snapshot: Snapshot::compile(catalog.clone(), Arc::new(state), now),
        applied: vec![Applied {
            action: "iam.organizations.create",
            target,
            changes,
        }],
        effects: Vec::new(),
    }
}
